/* org.winvm1.Storage on /org/winvm1/storage: the configured filesystems, their last scrub,
 * facts about them, and StartScrub. Callers name a filesystem from the configuration, by
 * name or mount point; never an arbitrary path. */
#include <btrfsutil.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>

#include "daemon.h"
#include "errors.h"
#include "operation.h"
#include "scrub.h"
#include "util.h"

#define SCRUB_FLAG_READONLY 1ULL
#define BTRFS_MAGIC 0x9123683e

typedef struct FsFacts {
        bool mounted_btrfs;
        bool is_subvolume;
        uint64_t subvolume_id;
        uint64_t size, free, used;
        int error;
} FsFacts;

static StorageFs *find_fs(Daemon *d, const char *name_or_path) {
        int i = config_find_filesystem(d->config, name_or_path);
        return i < 0 ? NULL : d->filesystems[i];
}

static int method_start_scrub(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        const char *name;
        uint64_t flags;
        uid_t uid = (uid_t) -1;

        int r = sd_bus_message_read(m, "st", &name, &flags);
        if (r < 0)
                return r;
        StorageFs *fs = find_fs(d, name);
        if (!fs)
                return sd_bus_error_setf(error, WINVM_ERROR_INVALID_ARGUMENT,
                                         "'%.64s' is not a configured filesystem (see Filesystems= in winvm.conf)", name);
        if (flags & ~SCRUB_FLAG_READONLY)
                return sd_bus_error_setf(error, WINVM_ERROR_INVALID_ARGUMENT, "Unknown flags 0x%llx",
                                         (unsigned long long) (flags & ~SCRUB_FLAG_READONLY));

        static const char *const actions[] = { "org.winvm1.storage.scrub", NULL };
        const char *details[] = { "filesystem", fs->name, "verb", "scrub", NULL };
        const BusPolkitRequest req = { .actions = actions, .details = details, .ret_uid = &uid };
        r = bus_polkit_check(d->polkit, m, &req, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        scrub_start(fs, m, flags & SCRUB_FLAG_READONLY, uid);
        return 1;
}

/* data: one FsFacts per filesystem. */
static void facts_work(Operation *op, void *data) {
        Daemon *d = op_daemon(op);
        for (size_t i = 0; i < d->n_filesystems; i++) {
                const char *path = d->filesystems[i]->mount_point;
                FsFacts *f = &((FsFacts *) data)[i];
                struct statfs sfs;
                struct statvfs svfs;
                if (statfs(path, &sfs) < 0 || statvfs(path, &svfs) < 0) {
                        f->error = errno;
                        continue;
                }
                f->mounted_btrfs = (unsigned long) sfs.f_type == BTRFS_MAGIC;
                f->size = (uint64_t) svfs.f_blocks * svfs.f_frsize;
                f->free = (uint64_t) svfs.f_bavail * svfs.f_frsize;
                f->used = (uint64_t) (svfs.f_blocks - svfs.f_bfree) * svfs.f_frsize;
                if (f->mounted_btrfs) {
                        f->is_subvolume = btrfs_util_is_subvolume(path) == BTRFS_UTIL_OK;
                        if (btrfs_util_subvolume_id(path, &f->subvolume_id) != BTRFS_UTIL_OK)
                                f->subvolume_id = 0;
                }
        }
}

static int facts_reply(Operation *op, sd_bus_message *reply, void *data) {
        Daemon *d = op_daemon(op);
        int r = sd_bus_message_open_container(reply, 'a', "a{sv}");
        for (size_t i = 0; r >= 0 && i < d->n_filesystems; i++) {
                FsFacts *f = &((FsFacts *) data)[i];
                r = sd_bus_message_append(reply, "a{sv}", 9,
                        "name", "s", d->filesystems[i]->name,
                        "mount_point", "s", d->filesystems[i]->mount_point,
                        "error", "s", f->error ? strerror(f->error) : "",
                        "btrfs", "b", (int) f->mounted_btrfs,
                        "is_subvolume", "b", (int) f->is_subvolume,
                        "subvolume_id", "t", f->subvolume_id,
                        "size_bytes", "t", f->size,
                        "free_bytes", "t", f->free,
                        "used_bytes", "t", f->used);
        }
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

int storage_verify_read(Daemon *d, sd_bus_message *m, sd_bus_error *error) {
        static const char *const actions[] = { "org.winvm1.storage.read", NULL };
        const char *details[] = { "verb", "read", NULL };
        const BusPolkitRequest req = { .actions = actions, .details = details, .read = true };
        return bus_polkit_check(d->polkit, m, &req, error);
}

static int method_get_facts(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        int r = storage_verify_read(d, m, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        FsFacts *facts = calloc(d->n_filesystems + 1, sizeof(FsFacts));
        if (!facts)
                return -ENOMEM;
        const OpOptions o = { .free_data = free, .share = "Storage.GetFacts" };
        return op_submit(d, d->host_worker, m, NULL, facts_work, facts_reply, facts, &o, error);
}

static int property_get_filesystems(sd_bus *bus, const char *path, const char *interface, const char *property,
                                    sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        int r = sd_bus_message_open_container(reply, 'a', "(ss)");
        for (size_t i = 0; r >= 0 && i < d->n_filesystems; i++)
                r = sd_bus_message_append(reply, "(ss)", d->filesystems[i]->name, d->filesystems[i]->mount_point);
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

/* One {sv} entry. Appended call by call, not through a format string: sd_bus_message_append's
 * parsing cost a fifth more (callgrind), back when LastScrub was in every GetManagedObjects. */
static int append_entry(sd_bus_message *reply, const char *key, char type, const void *value) {
        const char sig[2] = { type, '\0' };
        int r;
        if ((r = sd_bus_message_open_container(reply, 'e', "sv")) < 0 ||
            (r = sd_bus_message_append_basic(reply, 's', key)) < 0 ||
            (r = sd_bus_message_open_container(reply, 'v', sig)) < 0 ||
            (r = sd_bus_message_append_basic(reply, type, value)) < 0 ||
            (r = sd_bus_message_close_container(reply)) < 0)
                return r;
        return sd_bus_message_close_container(reply);
}

static int append_result(sd_bus_message *reply, const ScrubResult *s) {
        const struct {
                const char *key;
                uint64_t value;
        } counts[] = {
                { "started_usec", s->started_usec },
                { "duration_usec", s->duration_usec },
                { "bytes_scrubbed", s->bytes_scrubbed },
                { "data_extents", s->data_extents },
                { "tree_extents", s->tree_extents },
                { "checksum_errors", s->csum_errors },
                { "read_errors", s->read_errors },
                { "verify_errors", s->verify_errors },
                { "super_errors", s->super_errors },
                { "corrected_errors", s->corrected_errors },
                { "uncorrectable_errors", s->uncorrectable_errors },
                { "unverified_errors", s->unverified_errors },
        };
        int readonly = s->readonly;
        int r;
        if ((r = sd_bus_message_open_container(reply, 'a', "{sv}")) < 0 ||
            (r = append_entry(reply, "outcome", 's', s->outcome)) < 0 ||
            (r = append_entry(reply, "readonly", 'b', &readonly)) < 0)
                return r;
        for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
                if ((r = append_entry(reply, counts[i].key, 't', &counts[i].value)) < 0)
                        return r;
        return sd_bus_message_close_container(reply);
}

static int property_get_last_scrub(sd_bus *bus, const char *path, const char *interface, const char *property,
                                   sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        int r = sd_bus_message_open_container(reply, 'a', "{sa{sv}}");
        for (size_t i = 0; r >= 0 && i < d->n_filesystems; i++) {
                StorageFs *fs = d->filesystems[i];
                if (!fs->has_last)
                        continue;
                r = sd_bus_message_open_container(reply, 'e', "sa{sv}");
                if (r >= 0)
                        r = sd_bus_message_append_basic(reply, 's', fs->name);
                if (r >= 0)
                        r = append_result(reply, &fs->last);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
        }
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

static int property_get_running(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        int r = sd_bus_message_open_container(reply, 'a', "{so}");
        for (size_t i = 0; r >= 0 && i < d->n_filesystems; i++)
                if (d->filesystems[i]->running)
                        r = sd_bus_message_append(reply, "{so}", d->filesystems[i]->name,
                                                  scrub_job_path(d->filesystems[i]->running));
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

const sd_bus_vtable storage_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Filesystems", "a(ss)", property_get_filesystems, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        /* Read with Get (winvmctl scrub status), not listed: 14 entries per filesystem would
         * double a listing's cost once a scrub has run. Changes are signalled as invalidations. */
        SD_BUS_PROPERTY("LastScrub", "a{sa{sv}}", property_get_last_scrub, 0,
                        SD_BUS_VTABLE_PROPERTY_EXPLICIT | SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
        SD_BUS_PROPERTY("RunningScrubs", "a{so}", property_get_running, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD_WITH_ARGS("StartScrub", SD_BUS_ARGS("s", filesystem, "t", flags), SD_BUS_RESULT("o", job),
                                method_start_scrub, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetFacts", SD_BUS_NO_ARGS, SD_BUS_RESULT("aa{sv}", filesystems), method_get_facts,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetImages", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(ssbbs)", images),
                                storage_method_get_images, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_PROPERTY("ScrubInterval", "t", storage_property_get_scrub_interval, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_METHOD_WITH_ARGS("GetScrubSchedule", SD_BUS_NO_ARGS, SD_BUS_RESULT("aa{sv}", filesystems),
                                storage_method_get_scrub_schedule, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};
