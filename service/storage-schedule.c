/* Storage.GetScrubSchedule and the ScrubInterval property: which configured filesystems are
 * due a scrub by [Storage] ScrubInterval, counting scrubs winvm ran and scrubs btrfs-progs ran
 * (by hand or NixOS's autoScrub). winvm-scrub.service (winvmctl scrub scheduled) starts the due
 * ones. The records are read on the storage worker. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "scrub-records.h"
#include "scrub.h"
#include "util.h"

typedef struct ScheduleCall {
        Daemon *daemon;
        sd_bus_message *message;
        CallTicket ticket;
        ScrubScheduleFs *fs;
        size_t n;
        uint64_t now_usec;
        int r;
} ScheduleCall;

static void schedule_work(void *userdata) {
        ScheduleCall *c = userdata;
        c->r = scrub_records_read(c->daemon->config, &c->fs, &c->n);
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

static void schedule_done(void *userdata) {
        ScheduleCall *c = userdata;
        Daemon *d = c->daemon;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        daemon_call_leave(d, &c->ticket);
        int r = c->r;
        if (r >= 0)
                r = sd_bus_message_new_method_return(c->message, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "a{sv}");
        for (size_t i = 0; r >= 0 && i < c->n; i++)
                r = append_fs(reply, d, &c->fs[i], i, c->now_usec);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                (void) sd_bus_send(NULL, reply, NULL);
        else
                (void) sd_bus_reply_method_errno(c->message, -r, NULL);
        daemon_busy_dec(d);
        sd_bus_message_unref(c->message);
        free(c->fs);
        free(c);
}

int storage_method_get_scrub_schedule(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        int r = storage_verify_read(d, m, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        ScheduleCall *c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        r = daemon_call_enter(d, m, true, &c->ticket, error);
        if (r < 0) {
                free(c);
                return r;
        }
        c->daemon = d;
        c->message = sd_bus_message_ref(m);
        daemon_busy_inc(d);
        if (worker_submit(d->storage_worker, schedule_work, schedule_done, c) < 0) {
                c->r = -ENOMEM;
                schedule_done(c);
        }
        return 1;
}

int storage_property_get_scrub_interval(sd_bus *bus, const char *path, const char *interface, const char *property,
                                        sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        (void) bus, (void) path, (void) interface, (void) property, (void) error;
        return sd_bus_message_append(reply, "t", d->config->scrub_interval_sec);
}
