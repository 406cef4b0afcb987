/* The kernel's btrfs scrub ioctls (libbtrfsutil has no scrub API). Every function blocks:
 * call them from worker threads only. All need CAP_SYS_ADMIN. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <linux/btrfs.h>

#define SCRUB_MAX_DEVICES 16

typedef struct ScrubDevice {
        uint64_t devid;
        uint64_t bytes_used;
} ScrubDevice;

/* Opens the mount point; the fd is what every other call takes. Negative errno on failure;
 * -ENOTTY when it is not btrfs. */
int scrub_open(const char *mount_point);

/* The devices of the filesystem. Returns their number. */
int scrub_list_devices(int fd, ScrubDevice devices[SCRUB_MAX_DEVICES]);

/* Runs a scrub of one device until it ends: 0 when it completed, -ECANCELED when cancelled,
 * -EINPROGRESS when one already runs, another negative errno on failure. *progress holds the
 * final counters in every case. */
int scrub_device(int fd, uint64_t devid, bool readonly, struct btrfs_scrub_progress *progress);

/* Counters of a running scrub: 0, or -ENOTCONN when no scrub runs on that device. */
int scrub_progress(int fd, uint64_t devid, struct btrfs_scrub_progress *progress);

/* Cancels the scrub running on the filesystem: 0, or -ENOTCONN when none runs. */
int scrub_cancel(int fd);

/* The filesystem's uuid as text (lower-case, 36 characters), as btrfs-progs names its status
 * file. Needs no capability. 0 or negative errno. */
int scrub_fsid(int fd, char ret[static 37]);
