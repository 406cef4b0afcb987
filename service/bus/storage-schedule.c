/* Storage.GetScrubSchedule and the ScrubInterval property: which configured filesystems are
 * due a scrub by [Storage] ScrubInterval, counting scrubs winvm ran and scrubs btrfs-progs ran
 * (by hand or NixOS's autoScrub). winvm-scrub.service (winvmctl scrub scheduled) starts the due
 * ones. The records are read on the host worker. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "errors.h"
#include "operation.h"
#include "scrub-records.h"
#include "scrub.h"
#include "util.h"

typedef struct Schedule {
        ScrubScheduleFs *fs;
        size_t n;
        uint64_t now_usec;
} Schedule;

static void schedule_free(void *data) {
        Schedule *c = data;
        free(c->fs);
        free(c);
}

static void schedule_work(Operation *op, void *data) {
        Schedule *c = data;
        int r = scrub_records_read(op_daemon(op)->config, &c->fs, &c->n);
        if (r < 0)
                op_fail(op, WINVM_ERROR_FAILED, "the scrub records could not be read: %s", strerror(-r));
        c->now_usec = scrub_records_now_usec();
}

static int append_fs(sd_bus_message *reply, Daemon *d, const ScrubScheduleFs *f, size_t i, uint64_t now) {
        uint64_t interval = d->config->scrub_interval_sec;
        bool readable = !f->unreadable;
        bool running = i < d->n_filesystems && d->filesystems[i]->running;
        return sd_bus_message_append(reply, "a{sv}", 8,
                "name", "s", f->name,
                "mount_point", "s", f->mount_point,
                "error", "s", f->unreadable ? f->unreadable : "",
                "last_scrub_usec", "t", f->last.started_usec,
                "last_scrub_by", "s", scrub_source_to_string(f->last.source),
                "running", "b", (int) running,
                "due", "b", (int) (readable && !running && scrub_is_due(interval, &f->last, now)),
                "overdue", "b", (int) (readable && scrub_is_overdue(interval, &f->last, now)));
}

static int schedule_reply(Operation *op, sd_bus_message *reply, void *data) {
        Schedule *c = data;
        int r = sd_bus_message_open_container(reply, 'a', "a{sv}");
        for (size_t i = 0; r >= 0 && i < c->n; i++)
                r = append_fs(reply, op_daemon(op), &c->fs[i], i, c->now_usec);
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

int storage_method_get_scrub_schedule(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        int r = storage_verify_read(d, m, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        Schedule *c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        const OpOptions o = { .free_data = schedule_free };
        return op_submit(d, d->host_worker, m, NULL, schedule_work, schedule_reply, c, &o, error);
}

int storage_property_get_scrub_interval(sd_bus *bus, const char *path, const char *interface, const char *property,
                                        sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        (void) bus, (void) path, (void) interface, (void) property, (void) error;
        return sd_bus_message_append(reply, "t", d->config->scrub_interval_sec);
}
