#include "scrub-schedule.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host-files.h"
#include "util.h"

#define USEC_PER_SEC 1000000ULL
#define DAY UINT64_C(86400)

int scrub_interval_parse(const char *s, uint64_t *ret_sec) {
        static const struct {
                const char *word;
                uint64_t sec;
        } words[] = {
                { "0", 0 }, { "off", 0 }, { "daily", DAY }, { "weekly", 7 * DAY }, { "monthly", 30 * DAY },
        };
        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(words); i++)
                if (strcmp(s, words[i].word) == 0) {
                        *ret_sec = words[i].sec;
                        return 0;
                }
        size_t digits = strspn(s, "0123456789");
        if (digits == 0 || digits > 6 || strlen(s) != digits + 1 || s[0] == '0')
                return -EINVAL;
        uint64_t n = strtoull(s, NULL, 10);
        uint64_t unit = s[digits] == 'h' ? 3600 : s[digits] == 'd' ? DAY : s[digits] == 'w' ? 7 * DAY : 0;
        if (!unit)
                return -EINVAL;
        uint64_t sec = n * unit;
        if (sec < SCRUB_INTERVAL_MIN_SEC || sec > SCRUB_INTERVAL_MAX_SEC)
                return -EINVAL;
        *ret_sec = sec;
        return 0;
}

void scrub_interval_format(uint64_t sec, char buf[static 24]) {
        if (sec == 0)
                snprintf(buf, 24, "off");
        else if (sec == DAY)
                snprintf(buf, 24, "daily");
        else if (sec == 7 * DAY)
                snprintf(buf, 24, "weekly");
        else if (sec == 30 * DAY)
                snprintf(buf, 24, "monthly");
        else if (sec % (7 * DAY) == 0)
                snprintf(buf, 24, "%" PRIu64 "w", sec / (7 * DAY));
        else if (sec % DAY == 0)
                snprintf(buf, 24, "%" PRIu64 "d", sec / DAY);
        else
                snprintf(buf, 24, "%" PRIu64 "h", sec / 3600);
}

const char *scrub_source_to_string(ScrubSource s) {
        return s == SCRUB_SOURCE_WINVM ? "winvm" : s == SCRUB_SOURCE_BTRFS_PROGS ? "btrfs-progs" : "";
}

/* The value of "|key:" in one device line of a status file. */
static int status_field(const char *line, const char *key, uint64_t *ret) {
        char pattern[48];
        snprintf(pattern, sizeof(pattern), "|%s:", key);
        const char *p = strstr(line, pattern);
        if (!p)
                return -EINVAL;
        p += strlen(pattern);
        if (*p < '0' || *p > '9')
                return -EINVAL;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(p, &end, 10);
        if (errno || (*end != '|' && *end != '\0'))
                return -EINVAL;
        *ret = v;
        return 0;
}

int btrfs_progs_status_parse(const char *text, const char *fsid, uint64_t *ret_started_usec) {
        /* Format 1, as btrfs-progs writes it (cmds/scrub.c):
         *   scrub status:1
         *   <fsid>:<devid>|data_extents_scrubbed:N|...|t_start:T|t_resumed:T|duration:S|canceled:0|finished:1 */
        static const char header[] = "scrub status:1\n";
        if (strncmp(text, header, strlen(header)) != 0)
                return -EINVAL;
        size_t fsid_len = strlen(fsid);
        uint64_t earliest = UINT64_MAX;
        bool cancelled_or_running = false;
        int devices = 0;
        for (const char *line = text + strlen(header); *line;) {
                const char *nl = strchr(line, '\n');
                size_t len = nl ? (size_t) (nl - line) : strlen(line);
                _cleanup_free_ char *l = strndup(line, len);
                if (!l)
                        return -ENOMEM;
                line += len + (nl ? 1 : 0);
                if (len == 0)
                        continue;
                if (strncmp(l, fsid, fsid_len) != 0 || l[fsid_len] != ':')
                        continue; /* another filesystem's line, or not one at all */
                uint64_t t_start, canceled, finished;
                if (status_field(l, "t_start", &t_start) < 0 || status_field(l, "canceled", &canceled) < 0 ||
                    status_field(l, "finished", &finished) < 0)
                        return -EINVAL;
                devices++;
                if (canceled || !finished)
                        cancelled_or_running = true;
                if (t_start < earliest)
                        earliest = t_start;
        }
        if (devices == 0)
                return -EINVAL;
        if (cancelled_or_running || earliest == 0)
                return -ENODATA;
        if (earliest > UINT64_MAX / USEC_PER_SEC)
                return -EINVAL;
        *ret_started_usec = earliest * USEC_PER_SEC;
        return 0;
}

int btrfs_progs_last_scrub(const char *root, const char *fsid, uint64_t *ret_started_usec) {
        /* A uuid, never a path: it names the file. */
        if (strlen(fsid) != 36 || strspn(fsid, "0123456789abcdef-") != 36)
                return -EINVAL;
        char path[sizeof(BTRFS_PROGS_STATUS_DIR) + 64];
        snprintf(path, sizeof(path), "%s/scrub.status.%s", BTRFS_PROGS_STATUS_DIR, fsid);
        _cleanup_free_ char *text = NULL;
        int r = host_read_file(root, path, 0, &text);
        if (r < 0)
                return r;
        return btrfs_progs_status_parse(text, fsid, ret_started_usec);
}

ScrubLast scrub_last_pick(uint64_t winvm_usec, uint64_t progs_usec) {
        if (winvm_usec == 0 && progs_usec == 0)
                return (ScrubLast) { SCRUB_SOURCE_NONE, 0 };
        if (winvm_usec >= progs_usec)
                return (ScrubLast) { SCRUB_SOURCE_WINVM, winvm_usec };
        return (ScrubLast) { SCRUB_SOURCE_BTRFS_PROGS, progs_usec };
}

/* How old the last scrub is, in seconds; a clock set back counts as just now. */
static uint64_t age_sec(const ScrubLast *last, uint64_t now_usec) {
        return now_usec > last->started_usec ? (now_usec - last->started_usec) / USEC_PER_SEC : 0;
}

bool scrub_is_due(uint64_t interval_sec, const ScrubLast *last, uint64_t now_usec) {
        if (interval_sec == 0)
                return false;
        if (last->source == SCRUB_SOURCE_NONE)
                return true;
        uint64_t margin = SCRUB_DUE_MARGIN_SEC < interval_sec / 2 ? SCRUB_DUE_MARGIN_SEC : interval_sec / 2;
        return age_sec(last, now_usec) >= interval_sec - margin;
}

bool scrub_is_overdue(uint64_t interval_sec, const ScrubLast *last, uint64_t now_usec) {
        if (interval_sec == 0)
                return false;
        if (last->source == SCRUB_SOURCE_NONE)
                return true;
        return age_sec(last, now_usec) > interval_sec + SCRUB_OVERDUE_GRACE_SEC;
}

/* "3 days", "5 hours", "12 minutes": how long ago, for a message. */
static void format_age(uint64_t sec, char buf[static 32]) {
        if (sec >= 2 * DAY)
                snprintf(buf, 32, "%" PRIu64 " days", sec / DAY);
        else if (sec >= 2 * 3600)
                snprintf(buf, 32, "%" PRIu64 " hours", sec / 3600);
        else if (sec >= 120)
                snprintf(buf, 32, "%" PRIu64 " minutes", sec / 60);
        else
                snprintf(buf, 32, "under 2 minutes");
}

static void append(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void append(char *buf, size_t size, const char *fmt, ...) {
        size_t len = strlen(buf);
        if (len + 1 >= size)
                return;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf + len, size - len, fmt, ap);
        va_end(ap);
}

int scrub_overdue_check(uint64_t interval_sec, const ScrubScheduleFs *fs, size_t n, uint64_t now_usec, CheckList *l) {
        const char *id = "storage.scrub-overdue";
        char interval[24];
        scrub_interval_format(interval_sec, interval);
        if (interval_sec == 0)
                return check_list_add(l, id, CHECK_SKIPPED, NULL,
                                      "Scheduled scrubs are off ([Storage] ScrubInterval=0 in winvm.conf)");

        char overdue[1024] = "", fine[1024] = "", unreadable[1024] = "", first[128] = "";
        size_t n_overdue = 0, n_readable = 0;
        for (size_t i = 0; i < n; i++) {
                const ScrubScheduleFs *f = &fs[i];
                if (f->unreadable) {
                        append(unreadable, sizeof(unreadable), "%s%s (%s): %s", *unreadable ? "; " : "", f->name,
                               f->mount_point, f->unreadable);
                        continue;
                }
                n_readable++;
                char age[32];
                format_age(age_sec(&f->last, now_usec), age);
                if (scrub_is_overdue(interval_sec, &f->last, now_usec)) {
                        if (n_overdue++ == 0)
                                snprintf(first, sizeof(first), "%s", f->name);
                        if (f->last.source == SCRUB_SOURCE_NONE)
                                append(overdue, sizeof(overdue), "%s%s (%s) has never been scrubbed",
                                       *overdue ? "; " : "", f->name, f->mount_point);
                        else
                                append(overdue, sizeof(overdue), "%s%s (%s) was last scrubbed %s ago (by %s)",
                                       *overdue ? "; " : "", f->name, f->mount_point, age,
                                       scrub_source_to_string(f->last.source));
                } else
                        append(fine, sizeof(fine), "%s%s %s ago (by %s)", *fine ? ", " : "", f->name, age,
                               scrub_source_to_string(f->last.source));
        }
        if (n_readable == 0)
                return check_list_add(l, id, CHECK_SKIPPED, NULL, "No configured filesystem is a mounted btrfs%s%s",
                                      *unreadable ? ": " : "", unreadable);
        if (n_overdue == 0)
                return check_list_add(l, id, CHECK_OK, NULL, "Every filesystem was scrubbed within the %s interval: %s%s%s",
                                      interval, fine, *unreadable ? "; not checked: " : "", unreadable);
        _cleanup_free_ char *remedy = NULL;
        if (asprintf(&remedy,
                     "Scrub now (winvmctl scrub start %s --wait; or every due one: systemctl start winvm-scrub.service), "
                     "and keep winvm-scrub.timer enabled (systemctl enable --now winvm-scrub.timer)",
                     n_overdue == 1 ? first : "NAME") < 0)
                return -ENOMEM;
        return check_list_add(l, id, CHECK_WARN, remedy, "Scrub overdue (interval %s plus %" PRIu64 " days): %s", interval,
                              SCRUB_OVERDUE_GRACE_SEC / DAY, overdue);
}
