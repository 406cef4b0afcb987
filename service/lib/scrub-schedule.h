/* When a filesystem's scrub is due (the daily winvm-scrub.timer asks) and overdue (the doctor's
 * storage.scrub-overdue): [Storage] ScrubInterval, and the last scrub of each filesystem as
 * winvm recorded it or btrfs-progs did (its own runs and NixOS's services.btrfs.autoScrub,
 * which runs `btrfs scrub start -B`). Pure apart from reading files under a root prefix. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "checks.h"

#define SCRUB_INTERVAL_DEFAULT_SEC (UINT64_C(7) * 86400)
#define SCRUB_INTERVAL_MIN_SEC UINT64_C(3600)
#define SCRUB_INTERVAL_MAX_SEC (UINT64_C(366) * 86400)
/* The timer fires daily: a filesystem is due this long before its interval is up, so a daily
 * firing a few minutes early does not push a weekly scrub to the next day, week after week. */
#define SCRUB_DUE_MARGIN_SEC (UINT64_C(12) * 3600)
/* Overdue only after the interval and this much more: a machine off over a weekend is not a
 * problem, the timer (Persistent=true) catches up at the next boot. */
#define SCRUB_OVERDUE_GRACE_SEC (UINT64_C(3) * 86400)

/* btrfs-progs keeps its scrub records here, one file per filesystem uuid. */
#define BTRFS_PROGS_STATUS_DIR "/var/lib/btrfs"

/* "0" or "off" (no schedule), "daily", "weekly", "monthly" (30 days), or a number with a unit
 * h, d or w ("36h", "14d", "2w"), from 1 hour to 366 days. 0 or -EINVAL. */
int scrub_interval_parse(const char *s, uint64_t *ret_sec);
/* "weekly", "14d", "36h", "off": what the parser reads back. */
void scrub_interval_format(uint64_t sec, char buf[static 24]);

typedef enum ScrubSource {
        SCRUB_SOURCE_NONE,
        SCRUB_SOURCE_WINVM,
        SCRUB_SOURCE_BTRFS_PROGS,
} ScrubSource;

/* "", "winvm", "btrfs-progs". */
const char *scrub_source_to_string(ScrubSource s);

typedef struct ScrubLast {
        ScrubSource source;
        uint64_t started_usec;  /* CLOCK_REALTIME; 0 with SCRUB_SOURCE_NONE */
} ScrubLast;

/* One scrub.status file's text: 0 and the start of the last scrub of fsid when it finished on
 * every device listed; -ENODATA when it was cancelled or has not finished (a scrub that never
 * ended proves nothing); -EINVAL when the text is not btrfs-progs' format 1. */
int btrfs_progs_status_parse(const char *text, const char *fsid, uint64_t *ret_started_usec);
/* The same from <root>/var/lib/btrfs/scrub.status.<fsid>: also -ENOENT when there is none. */
int btrfs_progs_last_scrub(const char *root, const char *fsid, uint64_t *ret_started_usec);

/* The later of winvm's last finished scrub (winvm_usec 0: none) and btrfs-progs' (progs_usec 0:
 * none). */
ScrubLast scrub_last_pick(uint64_t winvm_usec, uint64_t progs_usec);

/* Due: scheduled scrubs are on and the last is older than the interval less the margin (or
 * there is none). */
bool scrub_is_due(uint64_t interval_sec, const ScrubLast *last, uint64_t now_usec);
/* Overdue: older than the interval plus the grace (or none at all). */
bool scrub_is_overdue(uint64_t interval_sec, const ScrubLast *last, uint64_t now_usec);

/* What the doctor knows of one configured filesystem. */
typedef struct ScrubScheduleFs {
        const char *name;
        const char *mount_point;
        const char *unreadable;   /* non-NULL: why its records could not be read (not a mounted btrfs) */
        ScrubLast last;
} ScrubScheduleFs;

/* storage.scrub-overdue: ok when every readable filesystem was scrubbed within the interval
 * and the grace, warn naming each overdue or never scrubbed one, skipped with the schedule off
 * or no readable filesystem. 0 or -ENOMEM. */
int scrub_overdue_check(uint64_t interval_sec, const ScrubScheduleFs *fs, size_t n, uint64_t now_usec, CheckList *l);
