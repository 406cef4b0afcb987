/* The last scrub of each configured filesystem, from winvm's state folder and btrfs-progs'
 * status file under [Host] Root. Blocks (open, the FS_INFO ioctl, file reads): call it from
 * worker threads only. The names and mount points point into cfg. */
#pragma once

#include <stddef.h>

#include "config.h"
#include "scrub-schedule.h"

/* 0 with *ret holding one entry per configured filesystem (free() it), or -ENOMEM. */
int scrub_records_read(const WinvmConfig *cfg, ScrubScheduleFs **ret, size_t *ret_n);

/* The current CLOCK_REALTIME in microseconds. */
uint64_t scrub_records_now_usec(void);
