/* org.winvm1.VM: one object per managed VM. Every handler runs in the same order: read
 * arguments, validate, polkit, then hand the libvirt call to the worker and reply from there. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "daemon.h"
#include "errors.h"
#include "job.h"
#include "log.h"
#include "names.h"
#include "util.h"

typedef struct ActionCall {
        Vm *vm;
        sd_bus_message *message;
        CallTicket ticket;      /* the caller's own cap only, never the total */
        LvAction action;
        uint32_t timeout_sec;   /* LV_SHUTDOWN only */
        bool force_after;
        bool after_timeout;     /* a force-stop that follows a Shutdown timeout */
        Job *job;               /* ... and the shutdown Job it ends */
        uid_t uid;
        int r;
        LvError err;
} ActionCall;

int vm_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                   sd_bus_error *error) {
        Daemon *d = userdata;
        (void) bus;
        (void) interface;
        (void) error;
        Vm *vm = daemon_find_vm_by_path(d, path);
        if (!vm)
                return 0;
        *found = vm;
        return 1;
}

int vm_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error) {
        Daemon *d = userdata;
        (void) bus;
        (void) path;
        (void) error;
        char **l = calloc(d->n_vms + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < d->n_vms; i++)
                if (!(l[i] = strdup(d->vms[i]->path))) {
                        strv_free(l);
                        return -ENOMEM;
                }
        *nodes = l;
        return 0;
}

int vm_reply_action_result(Vm *vm, sd_bus_message *m, int r, const LvError *err) {
        switch (r) {
        case 0:
                return sd_bus_reply_method_return(m, NULL);
        case -EALREADY:
                return sd_bus_reply_method_errorf(m, WINVM_ERROR_ALREADY_RUNNING, "VM %s is already running", vm->name);
        case -ESRCH:
                return sd_bus_reply_method_errorf(m, WINVM_ERROR_NOT_RUNNING, "VM %s is not running", vm->name);
        case -ENOENT:
                return sd_bus_reply_method_errorf(m, WINVM_ERROR_NOT_DEFINED,
                                                  "VM %s is not defined in libvirt", vm->name);
        case -ENOTCONN:
                return sd_bus_reply_method_errorf(m, WINVM_ERROR_DISCONNECTED,
                                                  "libvirtd is not reachable; winvmd is reconnecting");
        default: {
                _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
                if (err && err->message)
                        winvm_error_set_libvirt(&e, err->code, err->message);
                else
                        sd_bus_error_set_errno(&e, r);
                return sd_bus_reply_method_error(m, &e);
        }
        }
}

static const char *action_operation(const ActionCall *c) {
        switch (c->action) {
        case LV_START:
                return "start";
        case LV_SHUTDOWN:
                return "shutdown";
        case LV_FORCE_STOP:
                return c->after_timeout ? "shutdown" : "force-stop";
        case LV_REBOOT:
                return "reboot";
        }
        return "unknown";
}

/* The journal's side of vm_reply_action_result(): the same error name and message. */
static void log_action_failed(Vm *vm, const char *operation, const char *job, uid_t uid, int r, const LvError *err) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        switch (r) {
        case -EALREADY:
                (void) sd_bus_error_setf(&e, WINVM_ERROR_ALREADY_RUNNING, "VM %s is already running", vm->name);
                break;
        case -ESRCH:
                (void) sd_bus_error_setf(&e, WINVM_ERROR_NOT_RUNNING, "VM %s is not running", vm->name);
                break;
        case -ENOENT:
                (void) sd_bus_error_setf(&e, WINVM_ERROR_NOT_DEFINED, "VM %s is not defined in libvirt", vm->name);
                break;
        case -ENOTCONN:
                (void) sd_bus_error_setf(&e, WINVM_ERROR_DISCONNECTED, "libvirtd is not reachable; winvmd is reconnecting");
                break;
        default:
                if (err && err->message)
                        (void) winvm_error_set_libvirt(&e, err->code, err->message);
                else
                        (void) sd_bus_error_set_errno(&e, r);
        }
        log_operation_failed(vm->name, operation, job, uid, e.name, e.message);
}

static void action_work(void *userdata) {
        ActionCall *c = userdata;
        c->r = lv_action(c->vm->daemon->lv, c->vm->name, c->action, &c->err);
}

static void action_done(void *userdata) {
        ActionCall *c = userdata;
        Vm *vm = c->vm;
        daemon_call_leave(vm->daemon, &c->ticket);

        if (c->job)
                job_complete(c->job, c->r == 0 || c->r == -ESRCH,
                             c->r == 0 ? "no response to the power button; forced off" :
                             c->r == -ESRCH ? "the guest powered off" : "could not force the guest off");
        if (c->r == 0 && (c->action == LV_START || c->action == LV_FORCE_STOP)) {
                /* Logged when the refresh below sees the guest go up or down. */
                vm->log_operation = action_operation(c);
                vm->log_uid = c->uid;
                vm->log_job_id = c->job ? c->job->id : 0;
        } else if (c->r == 0 && c->action == LV_REBOOT)
                log_event(LOG_INFO, NULL, vm->name, "reboot", NULL, c->uid, NULL, "VM %s: reboot requested", vm->name);
        else if (c->r < 0 && !(c->after_timeout && c->r == -ESRCH))
                log_action_failed(vm, action_operation(c), c->job ? c->job->path : NULL, c->uid, c->r, &c->err);

        if (c->action == LV_SHUTDOWN && c->r == 0)
                vm_add_shutdown_wait(vm, c->message, c->timeout_sec, c->force_after, c->uid);
        else if (c->after_timeout && c->r == -ESRCH)
                /* Forcing after a shutdown timeout: the guest went off meanwhile, which is success. */
                (void) sd_bus_reply_method_return(c->message, NULL);
        else
                (void) vm_reply_action_result(vm, c->message, c->r, &c->err);

        vm_refresh(vm);
        daemon_busy_dec(vm->daemon);
        lv_error_clear(&c->err);
        sd_bus_message_unref(c->message);
        free(c);
}

static int submit(Vm *vm, sd_bus_message *m, LvAction action, uint32_t timeout_sec, bool force_after,
                  bool after_timeout, uid_t uid, Job *job) {
        /* While a connection attempt is in flight (right after bus activation, say) the call
         * queues behind it on the same worker, and runs on the connection it makes. */
        if (!vm->daemon->connected && !vm->daemon->connecting) {
                if (job)
                        job_complete(job, false, "libvirtd is not reachable");
                ActionCall what = { .action = action, .after_timeout = after_timeout };
                log_action_failed(vm, action_operation(&what), job ? job->path : NULL, uid, -ENOTCONN, NULL);
                return vm_reply_action_result(vm, m, -ENOTCONN, NULL);
        }

        ActionCall *c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->vm = vm;
        c->message = sd_bus_message_ref(m);
        c->action = action;
        c->timeout_sec = timeout_sec;
        c->force_after = force_after;
        c->after_timeout = after_timeout;
        c->uid = uid;
        c->job = job;
        /* The force-off after a shutdown timeout continues a call already counted. */
        _cleanup_(sd_bus_error_free) sd_bus_error busy = SD_BUS_ERROR_NULL;
        if (!after_timeout && daemon_call_enter(vm->daemon, m, false, &c->ticket, &busy) < 0) {
                if (job)
                        job_complete(job, false, busy.message);
                sd_bus_message_unref(c->message);
                free(c);
                return sd_bus_reply_method_error(m, &busy);
        }
        int r = worker_submit_urgent(vm->daemon->worker, action_work, action_done, c);
        if (r < 0) {
                daemon_call_leave(vm->daemon, &c->ticket);
                sd_bus_message_unref(c->message);
                free(c);
                return r;
        }
        daemon_busy_inc(vm->daemon);
        return 1;
}

int vm_force_stop_after_timeout(Vm *vm, sd_bus_message *m, Job *job, uid_t uid) {
        return submit(vm, m, LV_FORCE_STOP, 0, false, true, uid, job);
}

/* Also gives the caller's uid (as polkit's check saw it) for the journal. */
static int verify(Vm *vm, sd_bus_message *m, const char *const *actions, const char *verb, uid_t *ret_uid,
                  sd_bus_error *error) {
        const BusPolkitRequest req = { .actions = actions, .vm = vm->name, .verb = verb, .ret_uid = ret_uid };
        return bus_polkit_check(vm->daemon->polkit, m, &req, error);
}

static int method_start(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Vm *vm = userdata;
        static const char *const actions[] = { "org.winvm1.vm.start", NULL };
        uid_t uid = LOG_NO_UID;
        int r = verify(vm, m, actions, "start", &uid, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        if (vm->snapshot_busy) {
                r = sd_bus_error_setf(error, WINVM_ERROR_BUSY,
                                      "a snapshot operation on VM %s is in progress; start it when that ends", vm->name);
                log_operation_failed(vm->name, "start", NULL, uid, error->name, error->message);
                return r;
        }
        return submit(vm, m, LV_START, 0, false, false, uid, NULL);
}

static int method_shutdown(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Vm *vm = userdata;
        uint32_t timeout;
        int force_after;

        int r = sd_bus_message_read(m, "ub", &timeout, &force_after);
        if (r < 0)
                return r;
        if (timeout > WINVM_SHUTDOWN_TIMEOUT_MAX)
                return sd_bus_error_setf(error, WINVM_ERROR_INVALID_ARGUMENT,
                                         "Shutdown timeout %u s is out of range: use 1 to %u s, or 0 for the default (%u s)",
                                         timeout, WINVM_SHUTDOWN_TIMEOUT_MAX, vm->daemon->config->shutdown_timeout_sec);
        if (timeout == 0)
                timeout = vm->daemon->config->shutdown_timeout_sec;

        static const char *const stop_only[] = { "org.winvm1.vm.stop", NULL };
        static const char *const stop_and_force[] = { "org.winvm1.vm.stop", "org.winvm1.vm.force-stop", NULL };
        uid_t uid = (uid_t) -1;
        const BusPolkitRequest req = {
                .actions = force_after ? stop_and_force : stop_only, .vm = vm->name, .verb = "stop", .ret_uid = &uid,
        };
        r = bus_polkit_check(vm->daemon->polkit, m, &req, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        return submit(vm, m, LV_SHUTDOWN, timeout, force_after, false, uid, NULL);
}

static int method_force_stop(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Vm *vm = userdata;
        static const char *const actions[] = { "org.winvm1.vm.force-stop", NULL };
        uid_t uid = LOG_NO_UID;
        int r = verify(vm, m, actions, "force-stop", &uid, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        return submit(vm, m, LV_FORCE_STOP, 0, false, false, uid, NULL);
}

static int method_reboot(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Vm *vm = userdata;
        static const char *const actions[] = { "org.winvm1.vm.reboot", NULL };
        uid_t uid = LOG_NO_UID;
        int r = verify(vm, m, actions, "reboot", &uid, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        return submit(vm, m, LV_REBOOT, 0, false, false, uid, NULL);
}

static int property_get_string(sd_bus *bus, const char *path, const char *interface, const char *property,
                               sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Vm *vm = userdata;
        (void) bus;
        (void) path;
        (void) interface;
        (void) error;
        const char *v;
        if (streq_ptr(property, "Name"))
                v = vm->name;
        else if (streq_ptr(property, "UUID"))
                v = vm->published.uuid;
        else if (streq_ptr(property, "State"))
                v = vm->published.state;
        else
                v = vm->published.reason;
        return sd_bus_message_append_basic(reply, 's', v);
}

static int property_get_autostart(sd_bus *bus, const char *path, const char *interface, const char *property,
                                  sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Vm *vm = userdata;
        (void) bus;
        (void) path;
        (void) interface;
        (void) property;
        (void) error;
        return sd_bus_message_append_basic(reply, 'b', &(int) { vm->published.autostart });
}

const sd_bus_vtable vm_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Name", "s", property_get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("UUID", "s", property_get_string, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("State", "s", property_get_string, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("StateReason", "s", property_get_string, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Autostart", "b", property_get_autostart, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("VCPUs", "u", NULL, offsetof(Vm, published.vcpus), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("MemoryMiB", "t", NULL, offsetof(Vm, published.memory_mib), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD("Start", NULL, NULL, method_start, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Shutdown", SD_BUS_ARGS("u", timeout_seconds, "b", force_after), SD_BUS_NO_RESULT,
                                method_shutdown, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("ForceStop", NULL, NULL, method_force_stop, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Reboot", NULL, NULL, method_reboot, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetDefinition", SD_BUS_NO_ARGS, SD_BUS_RESULT("s", xml), vm_method_get_definition,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_PROPERTY("Snapshots", "as", vm_property_get_snapshots, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("CurrentSnapshot", "s", vm_property_get_snapshots, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD_WITH_ARGS("CreateSnapshot", SD_BUS_ARGS("s", name, "s", description), SD_BUS_RESULT("s", created),
                                vm_method_create_snapshot, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListSnapshots", SD_BUS_NO_ARGS, SD_BUS_RESULT("aa{sv}", snapshots),
                                vm_method_list_snapshots, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RevertSnapshot", SD_BUS_ARGS("s", name, "t", flags), SD_BUS_RESULT("s", kept),
                                vm_method_revert_snapshot, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DeleteSnapshot", SD_BUS_ARGS("s", name), SD_BUS_NO_RESULT,
                                vm_method_delete_snapshot, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("AdoptSnapshots", SD_BUS_NO_ARGS, SD_BUS_RESULT("as", adopted),
                                vm_method_adopt_snapshots, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};
