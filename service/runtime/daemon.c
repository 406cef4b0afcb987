/* Bringing winvmd up and down: bus objects, the name, helpers threads, idle exit. */
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include <libvirt/libvirt.h>

#include "bus-objects.h"
#include "daemon.h"
#include "daemon-setup.h"
#include "errors.h"
#include "host-dbus.h"
#include "job.h"
#include "libvirt-link.h"
#include "log.h"
#include "manager-dbus.h"
#include "scrub.h"
#include "names.h"
#include "snapshot-dbus.h"
#include "startup-hold.h"
#include "startup-phases.h"
#include "util.h"
#include "vm-dbus.h"
#include "vm.h"

#include "bus-name.h"

Vm *daemon_find_vm(Daemon *d, const char *name) {
        for (size_t i = 0; i < d->n_vms; i++)
                if (strcmp(d->vms[i]->name, name) == 0)
                        return d->vms[i];
        return NULL;
}

Vm *daemon_find_vm_by_path(Daemon *d, const char *path) {
        for (size_t i = 0; i < d->n_vms; i++)
                if (strcmp(d->vms[i]->path, path) == 0)
                        return d->vms[i];
        return NULL;
}

void daemon_update_status(Daemon *d) {
        (void) sd_notifyf(false, "STATUS=Managing %zu VM%s; libvirt %s", d->n_vms, d->n_vms == 1 ? "" : "s",
                          d->connected ? "connected" : "unreachable, reconnecting");
}

void daemon_busy_inc(Daemon *d) {
        d->n_busy++;
}

void daemon_busy_dec(Daemon *d) {
        if (d->n_busy > 0)
                d->n_busy--;
        d->last_activity = monotonic_usec();
}

/* Registers each interface of a list on path; with find, as a fallback below path. */
static int add_interfaces(sd_bus *bus, const char *path, const BusInterface *interfaces,
                          sd_bus_object_find_t find, Daemon *d) {
        for (const BusInterface *i = interfaces; i->name; i++) {
                int r = find ? sd_bus_add_fallback_vtable(bus, NULL, path, i->name, i->vtable, find, d)
                             : sd_bus_add_object_vtable(bus, NULL, path, i->name, i->vtable, d);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int on_any_message(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        (void) error;
        heap_trim_note(d->heap_trim);
        uint8_t type = 0;
        if (sd_bus_message_get_type(m, &type) >= 0 && type == SD_BUS_MESSAGE_METHOD_CALL) {
                d->last_activity = monotonic_usec();
                startup_phase_mark(STARTUP_FIRST_CALL);
        }
        return 0;
}

/* A guest that runs (or is paused) will change state, and desktop clients follow it through
 * our signals: while one does, winvmd stays, so they need not start it again and again. */
static bool a_guest_runs(Daemon *d) {
        for (size_t i = 0; i < d->n_vms; i++)
                if (d->vms[i]->info_valid &&
                    (d->vms[i]->info.state == VIR_DOMAIN_RUNNING || d->vms[i]->info.state == VIR_DOMAIN_PAUSED ||
                     d->vms[i]->info.state == VIR_DOMAIN_BLOCKED || d->vms[i]->info.state == VIR_DOMAIN_SHUTDOWN))
                        return true;
        return false;
}

static int on_idle_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Daemon *d = userdata;
        uint64_t timeout = (uint64_t) d->config->idle_timeout_sec * 1000000ULL;
        bool busy = d->n_busy > 0 || bus_polkit_pending(d->polkit) > 0 || startup_hold_active(d->startup_hold) ||
                    a_guest_runs(d);

        if (!busy && usec >= d->last_activity + timeout) {
                log_info("Idle for %u s; exiting", d->config->idle_timeout_sec);
                (void) sd_notify(false, "STOPPING=1");
                return sd_event_exit(d->event, 0);
        }
        uint64_t next = busy ? usec + timeout : d->last_activity + timeout;
        (void) sd_event_source_set_time(s, next);
        return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}


static void on_polkit_changed(void *userdata) {
        Daemon *d = userdata;
        bus_polkit_flush(d->polkit);
}

/* Every object and interface on one connection; winvmd has two with the same objects. */
static int register_objects(Daemon *d, sd_bus *bus) {
        int r;
        if ((r = sd_bus_add_filter(bus, NULL, on_any_message, d)) < 0 ||
            (r = sd_bus_add_object(bus, NULL, WINVM_OBJECT_ROOT, manager_read_gate, d)) < 0 ||
            (r = sd_bus_add_object_vtable(bus, NULL, WINVM_OBJECT_ROOT, "org.winvm1.Manager", manager_vtable, d)) < 0 ||
            (r = sd_bus_add_object(bus, NULL, HOST_PATH, manager_read_gate, d)) < 0 ||
            (r = add_interfaces(bus, HOST_PATH, host_interfaces, NULL, d)) < 0 ||
            (r = sd_bus_add_object(bus, NULL, STORAGE_PATH, manager_read_gate, d)) < 0 ||
            (r = add_interfaces(bus, STORAGE_PATH, storage_interfaces, NULL, d)) < 0 ||
            (r = sd_bus_add_fallback(bus, NULL, WINVM_VM_PREFIX, manager_read_gate, d)) < 0 ||
            (r = add_interfaces(bus, WINVM_VM_PREFIX, vm_interfaces, vm_object_find, d)) < 0 ||
            (r = sd_bus_add_node_enumerator(bus, NULL, WINVM_VM_PREFIX, vm_node_enumerator, d)) < 0 ||
            (r = sd_bus_add_fallback(bus, NULL, JOB_PREFIX, manager_read_gate, d)) < 0 ||
            (r = add_interfaces(bus, JOB_PREFIX, job_interfaces, job_object_find, d)) < 0 ||
            (r = sd_bus_add_node_enumerator(bus, NULL, JOB_PREFIX, job_node_enumerator, d)) < 0 ||
            /* Signals InterfacesAdded/Removed; GetManagedObjects is answered by object-listing.c. */
            (r = sd_bus_add_object_manager(bus, NULL, WINVM_OBJECT_ROOT)) < 0)
                return log_error("Cannot register bus objects: %s", strerror(-r)), r;
        return 0;
}

static int on_members_name(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        (void) userdata;
        (void) error;
        const sd_bus_error *e = sd_bus_message_get_error(m);
        if (e)
                log_warning("Cannot own the bus name %s (%s); members reach winvmd by %s, behind everyone's calls",
                            WINVM_MEMBERS_BUS_NAME, e->message ? e->message : e->name, WINVM_BUS_NAME);
        return 0;
}

/* The members' entrance: the bus policy lets only the polkit group and root call this name,
 * so whatever anyone else queues on the first connection is never ahead of a member's call,
 * and the loop serves this connection first. polkit still checks every call. Signals go out
 * on the first connection only, so a client sees each once. Without it (a development build
 * whose policy is not installed) everything still works through the first name. */
static int setup_members_bus(Daemon *d) {
        int r = sd_bus_open_system(&d->members_bus);
        if (r < 0)
                return log_error("Cannot connect to the system bus: %s", strerror(-r)), r;
        if ((r = register_objects(d, d->members_bus)) < 0)
                return r;
        if ((r = sd_bus_attach_event(d->members_bus, d->event, SD_EVENT_PRIORITY_NORMAL - 10)) < 0)
                return r;
        return sd_bus_request_name_async(d->members_bus, NULL, WINVM_MEMBERS_BUS_NAME, 0, on_members_name, d);
}

static int setup_bus(Daemon *d) {
        int r = sd_bus_open_system(&d->bus); /* honours DBUS_SYSTEM_BUS_ADDRESS */
        if (r < 0)
                return log_error("Cannot connect to the system bus: %s", strerror(-r)), r;

        (void) sd_bus_error_add_map(winvm_error_map);
        if ((r = register_objects(d, d->bus)) < 0)
                return r;
        if ((r = sd_bus_attach_event(d->bus, d->event, SD_EVENT_PRIORITY_NORMAL)) < 0)
                return r;

        /* Synchronous on purpose: nothing else is running yet, and failing here must stop start-up. */
        r = sd_bus_request_name(d->bus, WINVM_BUS_NAME, 0);
        if (r < 0)
                return log_error("Cannot own the bus name %s: %s", WINVM_BUS_NAME, strerror(-r)), r;
        startup_phase_mark(STARTUP_BUS_NAME);
        return setup_members_bus(d);
}

/* Calls in flight on the workers or waiting for polkit: the heap they hold is not free yet. */
static bool calls_held(void *userdata) {
        Daemon *d = userdata;
        return d->n_busy > 0 || (d->polkit && bus_polkit_pending(d->polkit) > 0);
}

int daemon_new(WinvmConfig *config, Daemon **ret) {
        Daemon *d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        d->config = config;
        *ret = d;

        int r = sd_event_default(&d->event);
        if (r < 0)
                return r;
        (void) sd_event_set_signal_exit(d->event, true);

        d->n_vms = strv_length(config->vms);
        d->vms = calloc(d->n_vms, sizeof(Vm *));
        if (!d->vms)
                return -ENOMEM;
        for (size_t i = 0; i < d->n_vms; i++)
                if (!(d->vms[i] = vm_new(d, config->vms[i])))
                        return -ENOMEM;

        if (!(d->call_limit = call_limit_new(CALL_LIMIT_PER_UID, CALL_LIMIT_TOTAL)) ||
            !(d->lifecycle_limit = call_limit_new(CALL_LIMIT_LIFECYCLE_PER_UID, CALL_LIMIT_LIFECYCLE_PER_UID)))
                return -ENOMEM;
        /* polkit's thread first: it connects to the bus and to polkitd while the rest starts,
         * and a cold start's first read waits for its verdict. */
        if ((r = mailbox_new(d->event, &d->mailbox)) < 0 ||
            (r = authz_new(d->mailbox, on_polkit_changed, d, &d->authz)) < 0 ||
            (r = worker_new(d->mailbox, "libvirt", &d->worker)) < 0 ||
            (r = worker_new(d->mailbox, "host", &d->host_worker)) < 0 ||
            (r = worker_new(d->mailbox, "definition", &d->definition_worker)) < 0)
                return r;
        if ((r = storage_init(d)) < 0)
                return r;

        LvHandlers handlers = { .lifecycle = daemon_on_lifecycle, .closed = daemon_on_closed, .userdata = d };
        if ((r = lv_new(d->mailbox, config->libvirt_uri, &handlers, &d->lv)) < 0)
                return log_error("Cannot initialise libvirt"), r;
        /* Connect first: the worker opens libvirt while polkit's thread starts and the bus
         * name is taken, and a cold start's first read waits for all three. Its answer comes
         * through the mailbox, so once the loop runs, with the bus set up. */
        daemon_connect_libvirt(d);

        if ((r = setup_bus(d)) < 0)
                return r;
        if ((r = bus_polkit_new(d->bus, d->authz, &d->polkit)) < 0)
                return r;
        if ((r = heap_trim_new(d->event, calls_held, d, &d->heap_trim)) < 0)
                return r;
        /* Reads that come before the VMs' first states wait for them, for a while: the first
         * libvirt connection and query take milliseconds; past the wait a read gets "unknown". */
        if (config->startup_read_wait_sec > 0 &&
            (r = startup_hold_new(d->event, (uint64_t) config->startup_read_wait_sec * 1000000ULL,
                                  &d->startup_hold)) < 0)
                return r;

        if (config->idle_timeout_sec > 0) {
                d->last_activity = monotonic_usec();
                r = sd_event_add_time_relative(d->event, &d->idle_timer, CLOCK_MONOTONIC,
                                               (uint64_t) config->idle_timeout_sec * 1000000ULL, 0, on_idle_timer, d);
                if (r < 0)
                        return r;
        }
        return 0;
}

int daemon_run(Daemon *d) {
        /* Finishes or rolls back snapshot operations a crash interrupted, before any new one. */
        for (size_t i = 0; i < d->n_vms; i++)
                (void) vm_snapshots_load(d->vms[i]);
        (void) host_init(d);
        (void) sd_notify(false, "READY=1");
        daemon_update_status(d);
        return sd_event_loop(d->event);
}

Daemon *daemon_free(Daemon *d) {
        if (!d)
                return NULL;
        if (d->bus)
                (void) sd_bus_flush(d->bus);
        if (d->members_bus)
                (void) sd_bus_flush(d->members_bus);
        /* Stop the threads first so no letter arrives for freed objects, then deliver the
         * letters they left: their callbacks own memory (and caller messages) to release.
         * New work they try to queue is refused, since the workers are gone. */
        d->authz = authz_free(d->authz);
        if (d->filesystems)
                storage_done(d);
        d->worker = worker_free(d->worker);
        d->host_worker = worker_free(d->host_worker);
        d->definition_worker = worker_free(d->definition_worker);
        d->lv = lv_free(d->lv);
        if (d->mailbox)
                mailbox_dispatch_pending(d->mailbox);
        d->polkit = bus_polkit_free(d->polkit);
        d->startup_hold = startup_hold_free(d->startup_hold);
        d->mailbox = mailbox_free(d->mailbox);
        sd_event_source_disable_unref(d->reconnect_timer);
        sd_event_source_disable_unref(d->idle_timer);
        job_free_all(d);
        host_done_all(d);
        for (size_t i = 0; d->vms && i < d->n_vms; i++)
                vm_free(d->vms[i]);
        free(d->vms);
        sd_bus_flush_close_unref(d->bus);
        sd_bus_flush_close_unref(d->members_bus);
        d->heap_trim = heap_trim_free(d->heap_trim); /* after the buses: their filter uses it */
        sd_event_unref(d->event);
        call_limit_free(d->call_limit);
        call_limit_free(d->lifecycle_limit);
        if (d->shared_reads)
                g_hash_table_unref(d->shared_reads);
        free(d);
        return NULL;
}
