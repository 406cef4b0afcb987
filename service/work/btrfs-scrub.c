#include "btrfs-scrub.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int scrub_open(const char *mount_point) {
        int fd = open(mount_point, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        struct btrfs_ioctl_fs_info_args info = { 0 };
        if (ioctl(fd, BTRFS_IOC_FS_INFO, &info) < 0) {
                int r = errno == EINVAL ? -ENOTTY : -errno;
                close(fd);
                return r;
        }
        return fd;
}

int scrub_list_devices(int fd, ScrubDevice devices[SCRUB_MAX_DEVICES]) {
        struct btrfs_ioctl_fs_info_args info = { 0 };
        if (ioctl(fd, BTRFS_IOC_FS_INFO, &info) < 0)
                return -errno;

        int n = 0;
        /* Device ids can have holes after a device was removed: probe up to max_id. */
        for (uint64_t id = 1; id <= info.max_id && n < SCRUB_MAX_DEVICES; id++) {
                struct btrfs_ioctl_dev_info_args dev = { .devid = id };
                if (ioctl(fd, BTRFS_IOC_DEV_INFO, &dev) < 0) {
                        if (errno == ENODEV)
                                continue;
                        return -errno;
                }
                devices[n].devid = id;
                devices[n].bytes_used = dev.bytes_used;
                n++;
        }
        return n;
}

int scrub_device(int fd, uint64_t devid, bool readonly, struct btrfs_scrub_progress *progress) {
        struct btrfs_ioctl_scrub_args args = {
                .devid = devid,
                .start = 0,
                .end = UINT64_MAX,
                .flags = readonly ? BTRFS_SCRUB_READONLY : 0,
        };
        int r = ioctl(fd, BTRFS_IOC_SCRUB, &args) < 0 ? -errno : 0;
        *progress = args.progress;
        return r;
}

int scrub_progress(int fd, uint64_t devid, struct btrfs_scrub_progress *progress) {
        struct btrfs_ioctl_scrub_args args = { .devid = devid };
        if (ioctl(fd, BTRFS_IOC_SCRUB_PROGRESS, &args) < 0)
                return -errno;
        *progress = args.progress;
        return 0;
}

int scrub_cancel(int fd) {
        return ioctl(fd, BTRFS_IOC_SCRUB_CANCEL, NULL) < 0 ? -errno : 0;
}

int scrub_fsid(int fd, char ret[static 37]) {
        struct btrfs_ioctl_fs_info_args info = { 0 };
        if (ioctl(fd, BTRFS_IOC_FS_INFO, &info) < 0)
                return errno == EINVAL ? -ENOTTY : -errno;
        const uint8_t *u = info.fsid;
        snprintf(ret, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2],
                 u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
        return 0;
}
