/* One managed VM as the event thread sees it: its last known libvirt state, what was
 * published on the bus, and the Shutdown calls waiting for it to power off. */
#include <errno.h>
#include <libvirt/libvirt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "errors.h"
#include "job.h"
#include "libvirt-link.h"
#include "log.h"
#include "names.h"
#include "operation.h"
#include "snapshot-meta.h"
#include "util.h"
#include "vm-dbus.h"
#include "vm-state.h"
#include "vm.h"

struct ShutdownWait {
        ShutdownWait *next;
        Vm *vm;
        sd_bus_message *message;
        sd_event_source *timer;
        uint32_t timeout_sec;
        bool force_after;
        Job *job;               /* the wait as a Job clients can follow; NULL past the job limit */
        uid_t uid;              /* the caller, for the journal */
};

Vm *vm_new(Daemon *d, const char *name) {
        Vm *vm = calloc(1, sizeof(*vm));
        if (!vm)
                return NULL;
        vm->daemon = d;
        vm->name = strdup(name);
        if (!vm->name || vm_object_path(name, &vm->path) < 0) {
                free(vm->name);
                free(vm);
                return NULL;
        }
        vm->published.state = vm_state_string(vm);
        vm->published.reason = vm_reason_string(vm);
        return vm;
}

static void wait_free(ShutdownWait *w) {
        sd_event_source_disable_unref(w->timer);
        sd_bus_message_unref(w->message);
        free(w);
}

Vm *vm_free(Vm *vm) {
        if (!vm)
                return NULL;
        while (vm->waits) {
                ShutdownWait *w = vm->waits;
                vm->waits = w->next;
                wait_free(w);
        }
        snapshot_set_free(vm->snapshots);
        free(vm->name);
        free(vm->path);
        free(vm);
        return NULL;
}

/* A Shutdown call is waiting: the guest is on its way down even if libvirt still says running. */
static bool shutdown_requested(Vm *vm) {
        return vm->waits && vm_state_is_active(vm->info.state) && vm->info.state != VIR_DOMAIN_PAUSED;
}

const char *vm_state_string(Vm *vm) {
        if (!vm->daemon->connected || !vm->info_valid)
                return "unknown";
        if (!vm->info.defined)
                return "undefined";
        if (shutdown_requested(vm))
                return "shutting-down";
        return vm_state_to_string(vm->info.state);
}

const char *vm_reason_string(Vm *vm) {
        if (!vm->daemon->connected)
                return "libvirt-disconnected";
        if (!vm->info_valid)
                return "";
        if (!vm->info.defined)
                return "";
        if (shutdown_requested(vm))
                return "shutdown-requested";
        return vm_state_reason_to_string(vm->info.state, vm->info.reason);
}

void vm_publish(Vm *vm) {
        VmPublished now = {
                .state = vm_state_string(vm),
                .reason = vm_reason_string(vm),
                .autostart = vm->info.defined && vm->info.autostart,
                .vcpus = vm->info.defined ? vm->info.vcpus : 0,
                .memory_mib = vm->info.defined ? vm->info.memory_mib : 0,
        };
        if (vm->info.defined)
                memcpy(now.uuid, vm->info.uuid, sizeof(now.uuid));

        const char *changed[7];
        size_t n = 0;
        if (!streq_ptr(now.state, vm->published.state))
                changed[n++] = "State";
        if (!streq_ptr(now.reason, vm->published.reason))
                changed[n++] = "StateReason";
        if (strcmp(now.uuid, vm->published.uuid) != 0)
                changed[n++] = "UUID";
        if (now.autostart != vm->published.autostart)
                changed[n++] = "Autostart";
        if (now.vcpus != vm->published.vcpus)
                changed[n++] = "VCPUs";
        if (now.memory_mib != vm->published.memory_mib)
                changed[n++] = "MemoryMiB";
        changed[n] = NULL;

        vm->published = now;
        if (n > 0) {
                int r = sd_bus_emit_properties_changed_strv(vm->daemon->bus, vm->path, "org.winvm1.VM",
                                                            (char **) changed);
                if (r < 0)
                        log_warning("Failed to signal changes of VM %s: %s", vm->name, strerror(-r));
        }
}

static void resolve_waits_if_off(Vm *vm) {
        if (!vm->daemon->connected || !vm->info_valid || (vm->info.defined && vm_state_is_active(vm->info.state)))
                return;
        while (vm->waits) {
                ShutdownWait *w = vm->waits;
                vm->waits = w->next;
                if (vm->info.defined)
                        (void) sd_bus_reply_method_return(w->message, NULL);
                else
                        (void) sd_bus_reply_method_errorf(w->message, WINVM_ERROR_NOT_DEFINED,
                                                          "VM %s was undefined while shutting down", vm->name);
                if (w->job)
                        job_complete(w->job, vm->info.defined, vm->info.defined ? "the guest powered off" : "undefined");
                wait_free(w);
                daemon_busy_dec(vm->daemon);
        }
}

/* Up, for the journal: running, paused, shutting down or suspended. A crashed guest (kept
 * for a dump) is down. */
static bool log_up(const LvDomainInfo *info) {
        return info->defined && vm_state_is_active(info->state) && info->state != VIR_DOMAIN_CRASHED;
}

/* How the guest went down, for WINVM_STOP. */
static const char *log_stop_kind(const LvDomainInfo *info) {
        if (info->defined && info->state == VIR_DOMAIN_CRASHED)
                return "crashed";
        if (!info->defined || info->state != VIR_DOMAIN_SHUTOFF)
                return "other";
        switch (info->reason) {
        case VIR_DOMAIN_SHUTOFF_SHUTDOWN:
                return "graceful";
        case VIR_DOMAIN_SHUTOFF_DESTROYED:
                return "forced";
        case VIR_DOMAIN_SHUTOFF_CRASHED:
                return "crashed";
        case VIR_DOMAIN_SHUTOFF_FAILED:
                return "failed";
        default:
                return "other";
        }
}

/* VM started or stopped, as libvirt's answers show it, with the winvm call behind it when
 * there is one: a Start or ForceStop that just succeeded, or a Shutdown waiting. */
static void log_transition(Vm *vm, bool was_up) {
        bool up = log_up(&vm->info);
        if (up == was_up)
                return;
        const char *operation = vm->log_operation;
        uid_t uid = vm->log_uid;
        uint64_t job_id = vm->log_job_id;
        if (operation && (strcmp(operation, "start") == 0) != up)
                operation = NULL; /* a call for the other direction: not what happened */
        if (!up && !operation && vm->waits) {
                operation = "shutdown";
                uid = vm->waits->uid;
                job_id = vm->waits->job ? vm->waits->job->id : 0;
        }
        if (!operation) {
                uid = LOG_NO_UID;
                job_id = 0;
        }

        const char *reason = vm_state_reason_to_string(vm->info.state, vm->info.reason);
        const char *kind = up ? NULL : log_stop_kind(&vm->info);
        char f_reason[64], f_kind[32], job[64], by[64] = "";
        const char *extra[] = { log_field(f_reason, sizeof(f_reason), "WINVM_STATE_REASON=%s", reason),
                                kind ? log_field(f_kind, sizeof(f_kind), "WINVM_STOP=%s", kind) : NULL, NULL };
        if (job_id > 0)
                snprintf(job, sizeof(job), JOB_PREFIX "/%" PRIu64, job_id);
        if (operation && uid != LOG_NO_UID)
                snprintf(by, sizeof(by), " (%s by uid %" PRIu32 ")", operation, (uint32_t) uid);
        else if (operation)
                snprintf(by, sizeof(by), " (%s)", operation);

        if (up)
                log_event(LOG_INFO, WINVM_MESSAGE_VM_STARTED, vm->name, operation, NULL, uid, extra,
                          "VM %s started%s", vm->name, by);
        else
                log_event(strcmp(kind, "crashed") == 0 || strcmp(kind, "failed") == 0 ? LOG_WARNING : LOG_INFO,
                          WINVM_MESSAGE_VM_STOPPED, vm->name, operation, job_id > 0 ? job : NULL, uid, extra,
                          "VM %s stopped: %s%s%s%s%s", vm->name, kind, *reason ? " (" : "", reason, *reason ? ")" : "",
                          by);
}

static void refresh_work(Operation *op, void *data) {
        LvError err = { 0 };
        op_fail_lv(op, lv_query(op_lv(op), op_vm(op)->name, data, &err), &err);
}

static int refresh_done(Operation *op, sd_bus_message *reply, void *data) {
        Vm *vm = op_vm(op);
        bool failed = op_failed(op);
        (void) reply;

        vm->refreshing = false;
        if (!failed && vm->daemon->connected) {
                /* A guest that started or stopped while libvirtd was unreachable is journalled
                 * too, against what libvirt said before the connection dropped. */
                bool was_known = vm->info_valid || vm->info_before_outage, was_up = log_up(&vm->info);
                vm->info = *(LvDomainInfo *) data;
                vm->info_valid = true;
                vm->info_before_outage = false;
                if (was_known)
                        log_transition(vm, was_up);
                resolve_waits_if_off(vm);
                vm_publish(vm);
        }
        /* On failure the connection is broken; the close callback resynchronises. */
        vm->log_operation = NULL; /* the first answer after the call settles it either way */
        daemon_release_held_reads(vm->daemon, failed);
        if (vm->refresh_again) {
                vm->refresh_again = false;
                vm_refresh(vm);
        }
        return 0;
}

void vm_refresh(Vm *vm) {
        if (!vm->daemon->connected)
                return;
        if (vm->refreshing) {
                vm->refresh_again = true;
                return;
        }
        LvDomainInfo *info = calloc(1, sizeof(*info));
        if (!info)
                return;
        /* Never behind another user's reads; not activity that keeps winvmd from idling. */
        const OpOptions o = { .urgent = true, .idle = true, .free_data = free };
        vm->refreshing = true;
        if (op_submit(vm->daemon, vm->daemon->worker, NULL, vm, refresh_work, refresh_done, info, &o, NULL) < 0)
                vm->refreshing = false;
}

static void unlink_wait(Vm *vm, ShutdownWait *w) {
        for (ShutdownWait **p = &vm->waits; *p; p = &(*p)->next)
                if (*p == w) {
                        *p = w->next;
                        return;
                }
}

static int on_shutdown_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        ShutdownWait *w = userdata;
        Vm *vm = w->vm;
        (void) s;
        (void) usec;

        unlink_wait(vm, w);
        if (w->force_after) {
                /* The force-stop call replies to the caller and ends the job; it was authorized
                 * with force-stop up front. */
                if (vm_force_stop_after_timeout(vm, w->message, w->job, w->uid) < 0) {
                        (void) sd_bus_reply_method_errorf(w->message, WINVM_ERROR_LIBVIRT,
                                                          "Could not force off VM %s", vm->name);
                        if (w->job)
                                job_complete(w->job, false, "could not force the guest off");
                }
        } else {
                (void) sd_bus_reply_method_errorf(w->message, WINVM_ERROR_TIMEOUT,
                                                  "VM %s is still running %u s after the shutdown request; "
                                                  "call ForceStop, or Shutdown with force_after",
                                                  vm->name, w->timeout_sec);
                char why[128];
                snprintf(why, sizeof(why), "still running %u s after the shutdown request", w->timeout_sec);
                log_operation_failed(vm->name, "shutdown", w->job ? w->job->path : NULL, w->uid, WINVM_ERROR_TIMEOUT,
                                     why);
                if (w->job)
                        job_complete(w->job, false, "timed out: the guest is still running");
        }
        wait_free(w);
        daemon_busy_dec(vm->daemon);
        vm_publish(vm);
        return 0;
}

void vm_add_shutdown_wait(Vm *vm, sd_bus_message *m, uint32_t timeout_sec, bool force_after, uid_t uid) {
        ShutdownWait *w = calloc(1, sizeof(*w));
        if (!w) {
                (void) sd_bus_reply_method_errno(m, ENOMEM, NULL);
                return;
        }
        w->vm = vm;
        w->message = sd_bus_message_ref(m);
        w->timeout_sec = timeout_sec;
        w->force_after = force_after;
        w->uid = uid;
        int r = sd_event_add_time_relative(vm->daemon->event, &w->timer, CLOCK_MONOTONIC,
                                           (uint64_t) timeout_sec * 1000000ULL, 0, on_shutdown_timeout, w);
        if (r < 0) {
                (void) sd_bus_reply_method_errno(m, -r, NULL);
                wait_free(w);
                return;
        }
        const char *objects[] = { vm->path, NULL };
        if (job_new(vm->daemon, "shutdown", objects, uid, false, NULL, NULL, &w->job) < 0)
                w->job = NULL; /* the wait itself does not depend on the job */
        log_event(LOG_INFO, NULL, vm->name, "shutdown", w->job ? w->job->path : NULL, uid, NULL,
                  "VM %s: shutdown requested (waiting up to %u s%s)", vm->name, timeout_sec,
                  force_after ? ", then forcing it off" : "");
        w->next = vm->waits;
        vm->waits = w;
        daemon_busy_inc(vm->daemon);
        vm_publish(vm);
        /* The guest may already be off; a fresh query settles it either way. */
        vm_refresh(vm);
}
