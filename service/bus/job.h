/* Long work as org.winvm1.Job objects on /org/winvm1/job/<id>, as udisks2 does: progress,
 * rate, expected end, Cancel() and a Completed signal. A finished job lingers briefly so a
 * client that just missed it can still read the result. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

typedef struct Daemon Daemon;
typedef struct Job Job;

/* Asks the operation to stop; it later calls job_complete(job, false, "cancelled"). */
typedef void (*job_cancel_fn)(Job *job, void *userdata);

struct Job {
        Daemon *daemon;
        uint64_t id;
        char *path;
        char *operation;          /* e.g. "scrub" */
        char **objects;           /* object paths it acts on, NULL-terminated */
        uid_t started_by_uid;
        uid_t cancelled_by_uid;   /* who called Cancel; (uid_t) -1 until then, or when unknown */
        uint64_t start_time_usec; /* CLOCK_REALTIME */
        double progress;
        bool progress_valid;
        uint64_t bytes, bytes_done, rate; /* bytes per second, 0 when unknown */
        uint64_t expected_end_usec;       /* CLOCK_REALTIME, 0 when unknown */
        bool cancelable;
        bool finished;
        bool success;
        char *message;

        job_cancel_fn cancel;
        void *cancel_userdata;

        uint64_t last_emit_usec;  /* CLOCK_MONOTONIC */
        bool emit_pending;
        sd_event_source *emit_timer;
        sd_event_source *linger_timer;
};

#define JOB_PREFIX "/org/winvm1/job"
#define JOB_MAX_RUNNING 4
#define JOB_LINGER_USEC (30 * 1000000ULL)
#define JOB_PROGRESS_INTERVAL_USEC (250 * 1000ULL)

/* -EBUSY past JOB_MAX_RUNNING running jobs. The job appears on the bus at once. */
int job_new(Daemon *d, const char *operation, const char *const *objects, uid_t uid, bool cancelable,
            job_cancel_fn cancel, void *cancel_userdata, Job **ret);

/* Updates progress; signalled at most every JOB_PROGRESS_INTERVAL_USEC. bytes_total 0 = unknown. */
void job_set_progress(Job *job, uint64_t bytes_done, uint64_t bytes_total);

/* Ends the job: Completed(success, message), then removal after JOB_LINGER_USEC. */
void job_complete(Job *job, bool success, const char *message);

unsigned job_count_running(Daemon *d);
Job *job_find_by_path(Daemon *d, const char *path);
void job_free_all(Daemon *d);

extern const sd_bus_vtable job_vtable[];
int job_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                    sd_bus_error *error);
int job_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error);
