/* The thread that writes winvmd's log entries, so that a log call never waits for journald or
 * for whatever reads stderr: a stalled journal must not stall the event loop. */
#pragma once

#include <stddef.h>
#include <sys/uio.h>

/* Queues one entry: its journal fields (each iov_base an allocated "KEY=value") and its
 * readable line (allocated). Takes ownership of all of them, whatever happens. In order,
 * the writer sends the fields to the journal when its socket exists, and writes the line to
 * stderr unless stderr is the journal and the entry was sent. With LOG_WRITER_MAX_QUEUED
 * entries waiting, the entry is dropped and counted; the count is logged once the writer
 * catches up. Where there is no writer (it could not start, or winvmd is exiting), the entry
 * is written at once by the caller. */
void log_writer_submit(struct iovec *fields, size_t n_fields, char *line);

#define LOG_WRITER_MAX_QUEUED 1024
/* At exit, how long the queued entries may take to drain before winvmd goes without them. */
#define LOG_WRITER_DRAIN_USEC (2 * 1000 * 1000ULL)
