#include "job.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon.h"
#include "util.h"

static uint64_t now(clockid_t clock) {
        struct timespec ts;
        clock_gettime(clock, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000;
}

static void emit_jobs_changed(Daemon *d) {
        (void) sd_bus_emit_properties_changed(d->bus, "/org/winvm1", "org.winvm1.Manager", "Jobs", NULL);
}

static Job *job_free(Job *job) {
        if (!job)
                return NULL;
        sd_event_source_disable_unref(job->emit_timer);
        sd_event_source_disable_unref(job->linger_timer);
        free(job->path);
        free(job->operation);
        strv_free(job->objects);
        free(job->message);
        free(job);
        return NULL;
}

static void job_unlink(Job *job) {
        Daemon *d = job->daemon;
        for (size_t i = 0; i < d->n_jobs; i++)
                if (d->jobs[i] == job) {
                        memmove(d->jobs + i, d->jobs + i + 1, (d->n_jobs - i - 1) * sizeof(Job *));
                        d->n_jobs--;
                        break;
                }
}

int job_new(Daemon *d, const char *operation, const char *const *objects, uid_t uid, bool cancelable,
            job_cancel_fn cancel, void *cancel_userdata, Job **ret) {
        if (job_count_running(d) >= JOB_MAX_RUNNING)
                return -EBUSY;

        Job *job = calloc(1, sizeof(*job));
        if (!job)
                return -ENOMEM;
        job->daemon = d;
        job->id = ++d->last_job_id;
        size_t n = 0;
        while (objects && objects[n])
                n++;
        job->objects = calloc(n + 1, sizeof(char *));
        for (size_t i = 0; i < n; i++)
                job->objects[i] = strdup(objects[i]);
        job->operation = strdup(operation);
        if (asprintf(&job->path, JOB_PREFIX "/%" PRIu64, job->id) < 0 || !job->operation) {
                job->path = NULL;
                job_free(job);
                return -ENOMEM;
        }
        job->started_by_uid = uid;
        job->cancelled_by_uid = (uid_t) -1;
        job->start_time_usec = now(CLOCK_REALTIME);
        job->cancelable = cancelable;
        job->cancel = cancel;
        job->cancel_userdata = cancel_userdata;
        job->message = strdup("");

        Job **jobs = realloc(d->jobs, (d->n_jobs + 1) * sizeof(Job *));
        if (!jobs) {
                job_free(job);
                return -ENOMEM;
        }
        d->jobs = jobs;
        d->jobs[d->n_jobs++] = job;
        daemon_busy_inc(d);

        (void) sd_bus_emit_interfaces_added(d->bus, job->path, "org.winvm1.Job", NULL);
        emit_jobs_changed(d);
        *ret = job;
        return 0;
}

static void emit_progress(Job *job) {
        job->emit_pending = false;
        job->last_emit_usec = now(CLOCK_MONOTONIC);
        (void) sd_bus_emit_properties_changed(job->daemon->bus, job->path, "org.winvm1.Job", "Progress",
                                              "ProgressValid", "Bytes", "Rate", "ExpectedEndTime", NULL);
}

static int on_emit_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        (void) s;
        (void) usec;
        Job *job = userdata;
        if (job->emit_pending && !job->finished)
                emit_progress(job);
        return 0;
}

void job_set_progress(Job *job, uint64_t bytes_done, uint64_t bytes_total) {
        if (job->finished)
                return;
        uint64_t t = now(CLOCK_REALTIME);
        double elapsed = (double) (t - job->start_time_usec) / 1e6;

        job->bytes = bytes_total;
        job->bytes_done = bytes_done;
        job->progress_valid = bytes_total > 0;
        job->progress = bytes_total > 0 ? (double) bytes_done / (double) bytes_total : 0.0;
        if (job->progress > 1.0)
                job->progress = 1.0;
        job->rate = elapsed > 0.2 ? (uint64_t) ((double) bytes_done / elapsed) : 0;
        job->expected_end_usec = 0;
        if (job->rate > 0 && bytes_total > bytes_done)
                job->expected_end_usec = t + (uint64_t) ((double) (bytes_total - bytes_done) / (double) job->rate * 1e6);

        /* Signal at most a few times a second, and always the latest value. */
        uint64_t mono = now(CLOCK_MONOTONIC);
        if (mono >= job->last_emit_usec + JOB_PROGRESS_INTERVAL_USEC) {
                emit_progress(job);
                return;
        }
        job->emit_pending = true;
        job->emit_timer = sd_event_source_disable_unref(job->emit_timer);
        (void) sd_event_add_time(job->daemon->event, &job->emit_timer, CLOCK_MONOTONIC,
                                 job->last_emit_usec + JOB_PROGRESS_INTERVAL_USEC, 0, on_emit_timer, job);
}

static int on_linger_over(sd_event_source *s, uint64_t usec, void *userdata) {
        (void) s;
        (void) usec;
        Job *job = userdata;
        Daemon *d = job->daemon;

        (void) sd_bus_emit_interfaces_removed(d->bus, job->path, "org.winvm1.Job", NULL);
        job_unlink(job);
        emit_jobs_changed(d);
        job_free(job);
        return 0;
}

void job_complete(Job *job, bool success, const char *message) {
        if (job->finished)
                return;
        job->finished = true;
        job->success = success;
        job->cancelable = false;
        free(job->message);
        job->message = strdup(message ? message : "");
        if (success && job->bytes > 0) {
                job->progress = 1.0;
                job->progress_valid = true;
        }
        job->expected_end_usec = 0;
        job->emit_timer = sd_event_source_disable_unref(job->emit_timer);
        emit_progress(job);
        (void) sd_bus_emit_properties_changed(job->daemon->bus, job->path, "org.winvm1.Job", "Cancelable", "Finished",
                                              "Success", "Message", NULL);
        (void) sd_bus_emit_signal(job->daemon->bus, job->path, "org.winvm1.Job", "Completed", "bs", (int) success,
                                  job->message);
        daemon_busy_dec(job->daemon);
        (void) sd_event_add_time_relative(job->daemon->event, &job->linger_timer, CLOCK_MONOTONIC, JOB_LINGER_USEC,
                                          0, on_linger_over, job);
}

unsigned job_count_running(Daemon *d) {
        unsigned n = 0;
        for (size_t i = 0; i < d->n_jobs; i++)
                n += !d->jobs[i]->finished;
        return n;
}

Job *job_find_by_path(Daemon *d, const char *path) {
        for (size_t i = 0; i < d->n_jobs; i++)
                if (strcmp(d->jobs[i]->path, path) == 0)
                        return d->jobs[i];
        return NULL;
}

void job_free_all(Daemon *d) {
        for (size_t i = 0; i < d->n_jobs; i++)
                job_free(d->jobs[i]);
        free(d->jobs);
        d->jobs = NULL;
        d->n_jobs = 0;
}
