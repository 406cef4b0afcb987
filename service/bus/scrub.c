#include "scrub.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "btrfs-scrub.h"
#include "daemon.h"
#include "errors.h"
#include "job.h"
#include "log.h"
#include "operation.h"
#include "util.h"

#define PROGRESS_POLL_USEC (500 * 1000ULL)

struct Scrub {
        unsigned refs;         /* the running scrub, and each poll or cancel on the host worker */
        StorageFs *fs;
        Job *job;
        int fd;
        bool readonly;
        ScrubDevice devices[SCRUB_MAX_DEVICES];
        int n_devices;
        uint64_t total_bytes;
        int running_threads;
        int first_error;       /* first failure other than cancel */
        bool cancelled;
        bool polling;          /* a progress poll is on the host worker */
        ScrubResult result;
        sd_event_source *poll_timer;
};

typedef struct DeviceRun {
        Scrub *scrub;
        uint64_t devid;
        int r;
        struct btrfs_scrub_progress progress;
} DeviceRun;

/* What the host worker found before a scrub starts: the filesystem opened, its devices. */
typedef struct Prepare {
        StorageFs *fs;
        bool readonly;
        uid_t uid;
        int fd;
        ScrubDevice devices[SCRUB_MAX_DEVICES];
        int n_devices;
} Prepare;

typedef struct Poll {
        Scrub *scrub;
        uint64_t done;
} Poll;

const char *scrub_job_path(const Scrub *s) {
        return s->job->path;
}

static void emit_running_changed(Daemon *d) {
        (void) sd_bus_emit_properties_changed(d->bus, STORAGE_PATH, "org.winvm1.Storage", "RunningScrubs", NULL);
}

static uint64_t realtime_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000;
}

static char *state_subdir(Daemon *d) {
        char *p = NULL;
        if (asprintf(&p, "%s/scrub", d->config->state_dir) < 0)
                return NULL;
        return p;
}

static void scrub_unref(Scrub *s) {
        if (--s->refs > 0)
                return;
        sd_event_source_disable_unref(s->poll_timer);
        if (s->fd >= 0)
                close(s->fd);
        free(s);
}

/* The journal entry of a scrub that ended, with its counters. */
static void log_finished(const Scrub *s, const char *message) {
        const StorageFs *fs = s->fs;
        const ScrubResult *r = &s->result;
        uint64_t errors = scrub_result_error_count(r);
        char f_fs[128], f_mp[PATH_MAX + 32], f_outcome[48], f_errors[48], f_corrected[48], f_uncorrectable[48],
                f_bytes[48], f_readonly[32], f_cancelled_by[48];
        const char *extra[] = {
                log_field(f_fs, sizeof(f_fs), "WINVM_FILESYSTEM=%s", fs->name),
                log_field(f_mp, sizeof(f_mp), "WINVM_MOUNT_POINT=%s", fs->mount_point),
                log_field(f_outcome, sizeof(f_outcome), "WINVM_SCRUB_OUTCOME=%s", r->outcome),
                log_field(f_errors, sizeof(f_errors), "WINVM_SCRUB_ERRORS=%" PRIu64, errors),
                log_field(f_corrected, sizeof(f_corrected), "WINVM_SCRUB_CORRECTED=%" PRIu64, (uint64_t) r->corrected_errors),
                log_field(f_uncorrectable, sizeof(f_uncorrectable), "WINVM_SCRUB_UNCORRECTABLE=%" PRIu64,
                          (uint64_t) r->uncorrectable_errors),
                log_field(f_bytes, sizeof(f_bytes), "WINVM_SCRUB_BYTES=%" PRIu64, (uint64_t) r->bytes_scrubbed),
                log_field(f_readonly, sizeof(f_readonly), "WINVM_SCRUB_READONLY=%s", r->readonly ? "yes" : "no"),
                /* The caller is who started it; who cancelled it may be someone else. */
                s->cancelled && s->job->cancelled_by_uid != (uid_t) -1
                        ? log_field(f_cancelled_by, sizeof(f_cancelled_by), "WINVM_CANCELLED_BY_UID=%" PRIu32,
                                    (uint32_t) s->job->cancelled_by_uid)
                        : NULL,
                NULL,
        };
        int priority = s->first_error || r->uncorrectable_errors > 0 ? LOG_ERR
                       : errors > 0                                  ? LOG_WARNING
                       : s->cancelled                                ? LOG_NOTICE
                                                                     : LOG_INFO;
        log_event(priority, WINVM_MESSAGE_SCRUB_FINISHED, NULL, "scrub", s->job->path, s->job->started_by_uid, extra,
                  "Scrub of %s (%s): %s", fs->name, fs->mount_point, message);
}

/* Replies to m with the error, and logs the refused or failed scrub. */
__attribute__((format(printf, 5, 6)))
static void reply_failed(sd_bus_message *m, uid_t uid, const char *job, const char *name, const char *format, ...) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        va_list ap;
        va_start(ap, format);
        (void) sd_bus_error_setfv(&e, name, format, ap);
        va_end(ap);
        (void) sd_bus_reply_method_error(m, &e);
        log_operation_failed(NULL, "scrub", job, uid, e.name, e.message);
}

static void finish(Scrub *s) {
        StorageFs *fs = s->fs;
        Daemon *d = fs->daemon;

        s->poll_timer = sd_event_source_disable_unref(s->poll_timer);
        s->result.duration_usec = realtime_usec() - s->result.started_usec;
        strcpy(s->result.outcome, s->cancelled ? "cancelled" : s->first_error ? "failed" : "finished");

        _cleanup_free_ char *summary = scrub_result_summary(&s->result);
        _cleanup_free_ char *dir = state_subdir(d);
        int r = dir ? scrub_result_save(dir, fs->name, &s->result) : -ENOMEM;
        if (r < 0)
                log_warning("Cannot keep the scrub result of %s: %s", fs->name, strerror(-r));
        fs->last = s->result;
        fs->has_last = true;
        (void) sd_bus_emit_properties_changed(d->bus, STORAGE_PATH, "org.winvm1.Storage", "LastScrub", NULL);

        char message[512];
        if (s->cancelled && s->job->cancelled_by_uid != (uid_t) -1)
                snprintf(message, sizeof(message), "cancelled by uid %" PRIu32 " (%s)",
                         (uint32_t) s->job->cancelled_by_uid, summary);
        else if (s->cancelled)
                snprintf(message, sizeof(message), "cancelled (%s)", summary);
        else if (s->first_error)
                snprintf(message, sizeof(message), "scrub failed: %s (%s)", strerror(-s->first_error), summary);
        else
                snprintf(message, sizeof(message), "%s", summary);
        log_finished(s, message);
        job_complete(s->job, !s->cancelled && !s->first_error, message);

        fs->running = NULL;
        scrub_unref(s);
        emit_running_changed(d);
}

/* A device thread: blocks in the scrub ioctl until it completes or is cancelled. */
static void *device_main(void *arg) {
        DeviceRun *run = arg;
        run->r = scrub_device(run->scrub->fd, run->devid, run->scrub->readonly, &run->progress);
        return NULL;
}

static void device_done(void *userdata) {
        DeviceRun *run = userdata;
        Scrub *s = run->scrub;

        scrub_result_add(&s->result, &run->progress);
        if (run->r == -ECANCELED)
                s->cancelled = true;
        else if (run->r < 0 && !s->first_error)
                s->first_error = run->r;
        free(run);
        if (--s->running_threads == 0)
                finish(s);
}

/* Posts the finished device run to the event thread. */
static void *device_thread(void *arg) {
        DeviceRun *run = arg;
        device_main(run);
        (void) mailbox_post(run->scrub->fs->daemon->mailbox, device_done, run);
        return NULL;
}

static void poll_work(Operation *op, void *data) {
        Poll *p = data;
        Scrub *s = p->scrub;
        (void) op;
        for (int i = 0; i < s->n_devices; i++) {
                struct btrfs_scrub_progress pr;
                if (scrub_progress(s->fd, s->devices[i].devid, &pr) == 0)
                        p->done += pr.data_bytes_scrubbed + pr.tree_bytes_scrubbed;
        }
}

static int poll_done(Operation *op, sd_bus_message *reply, void *data) {
        Poll *p = data;
        Scrub *s = p->scrub;
        (void) op;
        (void) reply;
        s->polling = false;
        if (s->running_threads > 0)
                job_set_progress(s->job, p->done, s->total_bytes);
        scrub_unref(s);
        return 0;
}

/* Progress polls and the cancel are the scrub's own: its Job keeps winvmd from idling. */
static const OpOptions scrub_own_work = { .idle = true, .free_data = free };

static int on_poll_timer(sd_event_source *src, uint64_t usec, void *userdata) {
        Scrub *s = userdata;
        if (!s->polling) {
                Poll *p = calloc(1, sizeof(*p));
                if (p) {
                        p->scrub = s;
                        s->refs++;
                        s->polling = true;
                        Daemon *d = s->fs->daemon;
                        if (op_submit(d, d->host_worker, NULL, NULL, poll_work, poll_done, p, &scrub_own_work,
                                      NULL) < 0) {
                                s->polling = false;
                                s->refs--; /* the scrub itself still holds one */
                        }
                }
        }
        (void) sd_event_source_set_time(src, usec + PROGRESS_POLL_USEC);
        return sd_event_source_set_enabled(src, SD_EVENT_ON);
}

static void cancel_work(Operation *op, void *data) {
        (void) op;
        (void) scrub_cancel(((Scrub *) data)->fd);
}

static int cancel_done(Operation *op, sd_bus_message *reply, void *data) {
        (void) op;
        (void) reply;
        scrub_unref(data);
        return 0;
}

static void on_cancel(Job *job, void *userdata) {
        Scrub *s = userdata;
        Daemon *d = s->fs->daemon;
        const OpOptions o = { .idle = true };
        (void) job;
        s->cancelled = true;
        s->refs++;
        if (op_submit(d, d->host_worker, NULL, NULL, cancel_work, cancel_done, s, &o, NULL) < 0)
                scrub_unref(s);
}

static void prepare_work(Operation *op, void *data) {
        Prepare *p = data;
        const StorageFs *fs = p->fs;
        p->fd = scrub_open(fs->mount_point);
        int r = p->fd < 0 ? p->fd : (p->n_devices = scrub_list_devices(p->fd, p->devices));
        /* A scrub started outside winvm (btrfs-progs, a btrfs-scrub timer) answers progress. */
        bool running_elsewhere = false;
        for (int i = 0; r >= 0 && i < p->n_devices; i++) {
                struct btrfs_scrub_progress pr;
                if (scrub_progress(p->fd, p->devices[i].devid, &pr) == 0)
                        running_elsewhere = true;
        }
        if (running_elsewhere)
                op_fail(op, WINVM_ERROR_BUSY,
                        "A scrub is already running on %s (%s), started outside winvm; see 'btrfs scrub status %s'",
                        fs->name, fs->mount_point, fs->mount_point);
        else if (r == -ENOTTY)
                op_fail(op, WINVM_ERROR_INVALID_ARGUMENT, "%s (%s) is not a mounted btrfs filesystem", fs->name,
                        fs->mount_point);
        else if (r < 0)
                op_fail(op, WINVM_ERROR_FAILED, "Cannot scrub %s (%s): %s", fs->name, fs->mount_point, strerror(-r));
}

/* The scrub starts here, on the event thread: its device threads, its Job, the answer. */
static int prepare_reply(Operation *op, sd_bus_message *reply, void *data) {
        Prepare *p = data;
        StorageFs *fs = p->fs;
        Daemon *d = fs->daemon;

        if (fs->running) {
                /* Started by another call while this one was on the worker. */
                op_set_job(op, fs->running->job->path);
                op_fail(op, WINVM_ERROR_BUSY, "A scrub of %s is already running (job %s)", fs->name,
                        fs->running->job->path);
                return 0;
        }
        Scrub *s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->refs = 1;
        s->fs = fs;
        s->fd = p->fd;
        p->fd = -1;
        s->readonly = p->readonly;
        s->n_devices = p->n_devices;
        memcpy(s->devices, p->devices, sizeof(s->devices));
        for (int i = 0; i < s->n_devices; i++)
                s->total_bytes += s->devices[i].bytes_used;
        s->result.started_usec = realtime_usec();
        s->result.readonly = p->readonly;

        const char *objects[] = { STORAGE_PATH, NULL };
        int r = job_new(d, "scrub", objects, p->uid, true, on_cancel, s, &s->job);
        if (r < 0) {
                scrub_unref(s);
                op_fail(op, WINVM_ERROR_BUSY, "Too many jobs are running (at most %d); try again later",
                        JOB_MAX_RUNNING);
                return 0;
        }
        fs->running = s;
        emit_running_changed(d);

        for (int i = 0; i < s->n_devices; i++) {
                DeviceRun *run = calloc(1, sizeof(*run));
                pthread_t t;
                pthread_attr_t attr;
                run->scrub = s;
                run->devid = s->devices[i].devid;
                pthread_attr_init(&attr);
                pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
                if (pthread_create(&t, &attr, device_thread, run) == 0)
                        s->running_threads++;
                else {
                        s->first_error = -EAGAIN;
                        free(run);
                }
                pthread_attr_destroy(&attr);
        }
        (void) sd_event_add_time_relative(d->event, &s->poll_timer, CLOCK_MONOTONIC, PROGRESS_POLL_USEC / 2, 0,
                                          on_poll_timer, s);
        job_set_progress(s->job, 0, s->total_bytes);
        r = sd_bus_message_append(reply, "o", s->job->path);
        if (s->running_threads == 0)
                finish(s);
        return r;
}

static void prepare_free(void *data) {
        Prepare *p = data;
        if (p->fd >= 0)
                close(p->fd);
        free(p);
}

void scrub_start(StorageFs *fs, sd_bus_message *m, bool readonly, uid_t uid) {
        Daemon *d = fs->daemon;
        if (fs->running) {
                reply_failed(m, uid, fs->running->job->path, WINVM_ERROR_BUSY, "A scrub of %s is already running (job %s)",
                             fs->name, fs->running->job->path);
                return;
        }
        Prepare *p = calloc(1, sizeof(*p));
        if (!p) {
                (void) sd_bus_reply_method_errno(m, ENOMEM, NULL);
                return;
        }
        *p = (Prepare) { .fs = fs, .readonly = readonly, .uid = uid, .fd = -1 };
        /* Not under the call limits: at most one scrub per filesystem runs, and its Job counts. */
        const OpOptions o = { .journal = "scrub", .uid = uid, .uncounted = true, .free_data = prepare_free };
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        if (op_submit(d, d->host_worker, m, NULL, prepare_work, prepare_reply, p, &o, &e) < 0)
                reply_failed(m, uid, NULL, e.name ? e.name : WINVM_ERROR_FAILED, "%s",
                             e.message ? e.message : "Cannot scrub now");
}

int storage_init(Daemon *d) {
        size_t n = strv_length(d->config->fs_names);
        d->filesystems = calloc(n + 1, sizeof(StorageFs *));
        if (!d->filesystems)
                return -ENOMEM;
        _cleanup_free_ char *dir = state_subdir(d);
        if (!dir)
                return -ENOMEM;
        /* The state folder may not exist on first start. */
        (void) mkdir(d->config->state_dir, 0755);
        (void) mkdir(dir, 0700);

        for (size_t i = 0; i < n; i++) {
                StorageFs *fs = calloc(1, sizeof(*fs));
                if (!fs)
                        return -ENOMEM;
                fs->daemon = d;
                fs->name = strdup(d->config->fs_names[i]);
                fs->mount_point = strdup(d->config->fs_paths[i]);
                fs->has_last = scrub_result_load(dir, fs->name, &fs->last) == 0;
                d->filesystems[i] = fs;
        }
        d->n_filesystems = n;
        return 0;
}

void storage_done(Daemon *d) {
        for (size_t i = 0; i < d->n_filesystems; i++) {
                StorageFs *fs = d->filesystems[i];
                /* A running scrub goes on in the kernel; cancel it so nothing outlives winvmd's intent. */
                if (fs->running)
                        (void) scrub_cancel(fs->running->fd);
                free(fs->name);
                free(fs->mount_point);
                free(fs);
        }
        free(d->filesystems);
        d->filesystems = NULL;
        d->n_filesystems = 0;
}
