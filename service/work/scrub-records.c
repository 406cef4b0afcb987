#include "scrub-records.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "btrfs-scrub.h"
#include "scrub-result.h"
#include "util.h"

uint64_t scrub_records_now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000;
}

/* winvm's own last scrub, if it finished (a cancelled or failed one does not count). */
static uint64_t winvm_last(const WinvmConfig *cfg, const char *name) {
        _cleanup_free_ char *dir = NULL;
        ScrubResult r;
        if (asprintf(&dir, "%s/scrub", cfg->state_dir) < 0 || scrub_result_load(dir, name, &r) < 0)
                return 0;
        return strcmp(r.outcome, "finished") == 0 ? r.started_usec : 0;
}

static void read_one(const WinvmConfig *cfg, size_t i, ScrubScheduleFs *f) {
        f->name = cfg->fs_names[i];
        f->mount_point = cfg->fs_paths[i];
        int fd = scrub_open(f->mount_point);
        if (fd < 0) {
                f->unreadable = fd == -ENOTTY ? "not a btrfs filesystem" : strerror(-fd);
                return;
        }
        char fsid[37];
        int r = scrub_fsid(fd, fsid);
        close(fd);
        if (r < 0) {
                f->unreadable = strerror(-r);
                return;
        }
        uint64_t progs = 0;
        if (btrfs_progs_last_scrub(cfg->host_root, fsid, &progs) < 0)
                progs = 0; /* none, cancelled, or unreadable: no proof of a scrub */
        f->last = scrub_last_pick(winvm_last(cfg, f->name), progs);
}

int scrub_records_read(const WinvmConfig *cfg, ScrubScheduleFs **ret, size_t *ret_n) {
        size_t n = strv_length(cfg->fs_names);
        ScrubScheduleFs *fs = calloc(n + 1, sizeof(*fs));
        if (!fs)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                read_one(cfg, i, &fs[i]);
        *ret = fs;
        *ret_n = n;
        return 0;
}
