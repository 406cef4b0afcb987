/* org.winvm1.VM: one object per managed VM. Every handler runs in the same order: read
 * arguments, validate, polkit, then hand the libvirt call to the worker as an Operation
 * (operation.h) that answers from there. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "daemon.h"
#include "errors.h"
#include "job.h"
#include "log.h"
#include "names.h"
#include "operation.h"
#include "snapshot-dbus.h"
#include "util.h"
#include "vm-dbus.h"
#include "vm.h"

/* What one lifecycle call asks of libvirt, and what it answered. */
typedef struct Action {
        LvAction action;
        uint32_t timeout_sec;   /* LV_SHUTDOWN only */
        bool force_after;
        bool after_timeout;     /* a force-stop that follows a Shutdown timeout */
        Job *job;               /* ... and the shutdown Job it ends */
        uid_t uid;
        int r;
} Action;

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

static const char *action_operation(const Action *a) {
        switch (a->action) {
        case LV_START:
                return "start";
        case LV_SHUTDOWN:
                return "shutdown";
        case LV_FORCE_STOP:
                return a->after_timeout ? "shutdown" : "force-stop";
        case LV_REBOOT:
                return "reboot";
        }
        return "unknown";
}

static void action_work(Operation *op, void *data) {
        Action *a = data;
        const char *name = op_vm(op)->name;
        LvError err = { 0 };
        a->r = lv_action(op_lv(op), name, a->action, &err);
        if (a->r == -EALREADY)
                op_fail(op, WINVM_ERROR_ALREADY_RUNNING, "VM %s is already running", name);
        else if (a->r == -ESRCH && !a->after_timeout)
                op_fail(op, WINVM_ERROR_NOT_RUNNING, "VM %s is not running", name);
        /* Forcing after a shutdown timeout: the guest went off meanwhile, which is success. */
        else if (a->r < 0 && a->r != -ESRCH)
                op_fail_lv(op, a->r, &err);
        lv_error_clear(&err);
}

/* Succeeded or not: the Job a forced shutdown ends, and what the journal learns later. */
static void action_settle(Operation *op, void *data) {
        Action *a = data;
        Vm *vm = op_vm(op);
        if (a->job)
                job_complete(a->job, a->r == 0 || a->r == -ESRCH,
                             a->r == 0 ? "no response to the power button; forced off" :
                             a->r == -ESRCH ? "the guest powered off" : "could not force the guest off");
        if (a->r == 0 && (a->action == LV_START || a->action == LV_FORCE_STOP)) {
                /* Logged when the refresh after the answer sees the guest go up or down. */
                vm->log_operation = action_operation(a);
                vm->log_uid = a->uid;
                vm->log_job_id = a->job ? a->job->id : 0;
        } else if (a->r == 0 && a->action == LV_REBOOT)
                log_event(LOG_INFO, NULL, vm->name, "reboot", NULL, a->uid, NULL, "VM %s: reboot requested", vm->name);
}

/* The power button was pressed: Shutdown answers once the guest is off (vm.c). */
static int shutdown_reply(Operation *op, sd_bus_message *reply, void *data) {
        Action *a = data;
        (void) reply;
        if (a->r == 0) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = op_answer_later(op);
                vm_add_shutdown_wait(op_vm(op), m, a->timeout_sec, a->force_after, a->uid);
        }
        return 0;
}

/* Takes a (freed in every case). Lifecycle calls go ahead of queued reads, under their own cap. */
static int submit(Vm *vm, sd_bus_message *m, Action *a, op_reply_fn reply, sd_bus_error *error) {
        const OpOptions o = {
                .journal = action_operation(a),
                .uid = a->uid,
                .job = a->job ? a->job->path : NULL,
                .refresh = true,
                .urgent = true,
                .lifecycle = true,
                .libvirt = true,
                /* The force-off after a shutdown timeout continues a call already counted. */
                .uncounted = a->after_timeout,
                .settle = action_settle,
                .free_data = free,
        };
        Job *job = a->job;
        int r = op_submit(vm->daemon, vm->daemon->worker, m, vm, action_work, reply, a, &o, error);
        if (r < 0 && job && sd_bus_error_is_set(error))
                job_complete(job, false,
                             sd_bus_error_has_name(error, WINVM_ERROR_DISCONNECTED) ? "libvirtd is not reachable"
                                                                                    : error->message);
        return r;
}

static int submit_action(Vm *vm, sd_bus_message *m, LvAction action, uid_t uid, sd_bus_error *error) {
        Action *a = calloc(1, sizeof(*a));
        if (!a)
                return -ENOMEM;
        *a = (Action) { .action = action, .uid = uid };
        return submit(vm, m, a, NULL, error);
}

int vm_force_stop_after_timeout(Vm *vm, sd_bus_message *m, Job *job, uid_t uid) {
        Action *a = calloc(1, sizeof(*a));
        if (!a)
                return -ENOMEM;
        *a = (Action) { .action = LV_FORCE_STOP, .after_timeout = true, .job = job, .uid = uid };
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        int r = submit(vm, m, a, NULL, &e);
        if (r < 0 && sd_bus_error_is_set(&e))
                return sd_bus_reply_method_error(m, &e);
        return r;
}

/* Also gives the caller's uid (as polkit's check saw it) for the journal. */
static int verify(Vm *vm, sd_bus_message *m, const char *const *actions, const char *verb, uid_t *ret_uid,
                  sd_bus_error *error) {
        const BusPolkitRequest req = { .actions = actions, .vm = vm->name, .verb = verb, .ret_uid = ret_uid };
        return bus_polkit_check(vm->daemon->polkit, m, &req, error);
}

/* Start, ForceStop and Reboot: no arguments, one action each, the same path to libvirt. */
typedef struct SimpleAction {
        const char *member;
        const char *const actions[2];
        const char *verb;
        LvAction action;
} SimpleAction;

static const SimpleAction simple_actions[] = {
        { "Start", { "org.winvm1.vm.start", NULL }, "start", LV_START },
        { "ForceStop", { "org.winvm1.vm.force-stop", NULL }, "force-stop", LV_FORCE_STOP },
        { "Reboot", { "org.winvm1.vm.reboot", NULL }, "reboot", LV_REBOOT },
};

static int method_simple_action(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Vm *vm = userdata;
        const char *member = sd_bus_message_get_member(m);
        const SimpleAction *sa = NULL;
        for (size_t i = 0; !sa && member && i < ELEMENTSOF(simple_actions); i++)
                if (strcmp(member, simple_actions[i].member) == 0)
                        sa = &simple_actions[i];
        if (!sa)
                return -EINVAL;
        uid_t uid = LOG_NO_UID;
        int r = verify(vm, m, sa->actions, sa->verb, &uid, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        /* Only a start waits for a snapshot operation: it may be changing the disks the
         * guest would start on. */
        if (sa->action == LV_START && vm->snapshot_busy) {
                r = sd_bus_error_setf(error, WINVM_ERROR_BUSY,
                                      "a snapshot operation on VM %s is in progress; start it when that ends", vm->name);
                log_operation_failed(vm->name, "start", NULL, uid, error->name, error->message);
                return r;
        }
        return submit_action(vm, m, sa->action, uid, error);
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
        Action *a = calloc(1, sizeof(*a));
        if (!a)
                return -ENOMEM;
        *a = (Action) { .action = LV_SHUTDOWN, .timeout_sec = timeout, .force_after = force_after, .uid = uid };
        return submit(vm, m, a, shutdown_reply, error);
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
        SD_BUS_METHOD("Start", NULL, NULL, method_simple_action, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Shutdown", SD_BUS_ARGS("u", timeout_seconds, "b", force_after), SD_BUS_NO_RESULT,
                                method_shutdown, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("ForceStop", NULL, NULL, method_simple_action, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Reboot", NULL, NULL, method_simple_action, SD_BUS_VTABLE_UNPRIVILEGED),
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
