/* Keeps winvmd connected to libvirtd: connects on the worker, marks every VM "unknown" when
 * the connection drops, reconnects with backoff and resynchronises from libvirt's answers. */
#include <stdio.h>
#include <stdlib.h>

#include "daemon.h"
#include "errors.h"
#include "libvirt-link.h"
#include "log.h"
#include "operation.h"
#include "startup-hold.h"
#include "startup-phases.h"
#include "vm.h"

#define RECONNECT_FIRST_USEC (200 * 1000ULL)
#define RECONNECT_MAX_USEC (5 * 1000 * 1000ULL)

typedef struct Connection {
        unsigned gen;
        uint64_t connected_usec; /* when lv_connect returned, for StartupPhases */
} Connection;

static void set_connected(Daemon *d, bool connected) {
        if (d->connected == connected)
                return;
        d->connected = connected;
        for (size_t i = 0; i < d->n_vms; i++) {
                Vm *vm = d->vms[i];
                /* Kept to journal what changed while libvirtd was away, once it answers. */
                if (!connected && vm->info_valid)
                        vm->info_before_outage = true;
                vm->info_valid = false; /* until libvirt answers on the new connection */
        }
        (void) sd_bus_emit_properties_changed(d->bus, "/org/winvm1", "org.winvm1.Manager", "LibvirtConnected", NULL);
        for (size_t i = 0; i < d->n_vms; i++)
                vm_publish(d->vms[i]);
        daemon_update_status(d);
}

static int on_reconnect_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        (void) s;
        (void) usec;
        daemon_connect_libvirt(userdata);
        return 0;
}

static void schedule_reconnect(Daemon *d) {
        uint64_t delay = RECONNECT_FIRST_USEC << (d->reconnect_attempt < 6 ? d->reconnect_attempt : 6);
        if (delay > RECONNECT_MAX_USEC)
                delay = RECONNECT_MAX_USEC;
        d->reconnect_attempt++;
        d->reconnect_timer = sd_event_source_disable_unref(d->reconnect_timer);
        if (sd_event_add_time_relative(d->event, &d->reconnect_timer, CLOCK_MONOTONIC, delay, 0, on_reconnect_timer, d) < 0)
                log_error("Cannot schedule a reconnection to libvirt");
}

static void connect_work(Operation *op, void *data) {
        Connection *c = data;
        LvError err = { 0 };
        int r = lv_connect(op_lv(op), &c->gen, &err);
        c->connected_usec = startup_phase_now();
        if (r < 0)
                op_fail(op, WINVM_ERROR_DISCONNECTED, "%s", err.message ? err.message : "unknown error");
        lv_error_clear(&err);
}

static int connect_done(Operation *op, sd_bus_message *reply, void *data) {
        Connection *c = data;
        Daemon *d = op_daemon(op);
        (void) reply;

        d->connecting = false;
        if (op_failed(op)) {
                if (d->reconnect_attempt == 0)
                        log_warning("Cannot connect to %s: %s; retrying", d->config->libvirt_uri, op_error_message(op));
                schedule_reconnect(d);
                daemon_release_held_reads(d, true);
        } else {
                if (d->reconnect_attempt > 0)
                        log_notice("Connected to %s again", d->config->libvirt_uri);
                d->gen = c->gen;
                d->reconnect_attempt = 0;
                startup_phase_mark_at(STARTUP_LIBVIRT, c->connected_usec);
                set_connected(d, true);
                for (size_t i = 0; i < d->n_vms; i++)
                        vm_refresh(d->vms[i]);
                daemon_release_held_reads(d, false); /* no VMs: nothing to wait for */
        }
        return 0;
}

void daemon_connect_libvirt(Daemon *d) {
        if (d->connecting || d->connected)
                return;
        Connection *c = calloc(1, sizeof(*c));
        if (!c)
                return;
        const OpOptions o = { .idle = true, .free_data = free };
        d->connecting = true;
        if (op_submit(d, d->worker, NULL, NULL, connect_work, connect_done, c, &o, NULL) < 0)
                d->connecting = false;
}

void daemon_release_held_reads(Daemon *d, bool unconditionally) {
        bool all_known = d->connected;
        for (size_t i = 0; all_known && i < d->n_vms; i++)
                all_known = d->vms[i]->info_valid;
        if (all_known)
                startup_phase_mark(STARTUP_STATES);
        if (!startup_hold_active(d->startup_hold) || (!unconditionally && !all_known))
                return;
        startup_hold_release(d->startup_hold);
}

void daemon_on_closed(void *userdata, unsigned gen) {
        Daemon *d = userdata;
        if (gen != d->gen || !d->connected)
                return; /* a connection we already replaced */
        log_warning("Lost the connection to %s; reconnecting", d->config->libvirt_uri);
        set_connected(d, false);
        d->reconnect_attempt = 1;
        schedule_reconnect(d);
}

void daemon_on_lifecycle(void *userdata, char *name) {
        Daemon *d = userdata;
        Vm *vm = daemon_find_vm(d, name);
        if (vm)
                vm_refresh(vm);
        free(name);
}
