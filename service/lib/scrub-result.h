/* The outcome of one scrub, summed over devices, and how it is kept in the state folder. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <linux/btrfs.h>

typedef struct ScrubResult {
        uint64_t started_usec;    /* CLOCK_REALTIME */
        uint64_t duration_usec;
        bool readonly;
        char outcome[16];         /* finished, cancelled, failed */
        uint64_t bytes_scrubbed;  /* data + tree */
        uint64_t data_extents, tree_extents;
        uint64_t csum_errors, read_errors, verify_errors, super_errors;
        uint64_t corrected_errors, uncorrectable_errors, unverified_errors;
} ScrubResult;

/* Adds one device's final counters. */
void scrub_result_add(ScrubResult *r, const struct btrfs_scrub_progress *p);

uint64_t scrub_result_error_count(const ScrubResult *r);

/* A one-line verdict, e.g. "finished: 1.0 GiB scrubbed, no errors". */
char *scrub_result_summary(const ScrubResult *r);

/* Key file text and back; load returns -EINVAL on a malformed file. */
char *scrub_result_to_text(const ScrubResult *r);
int scrub_result_from_text(const char *text, ScrubResult *ret);

/* Writes atomically (temporary file, fsync, rename) into dir/<name>.scrub; never follows a
 * symlink at the final path. */
int scrub_result_save(const char *dir, const char *name, const ScrubResult *r);
/* 0, -ENOENT when there is none yet, or another negative errno. */
int scrub_result_load(const char *dir, const char *name, ScrubResult *ret);
