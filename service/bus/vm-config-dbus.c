/* The VM's configuration as managed state: org.winvm1.Cpu on /org/winvm1/host, and
 * org.winvm1.Usb, org.winvm1.Shares and org.winvm1.Definition on each VM. Handlers read and
 * validate their arguments, ask polkit, and hand the work to the definition worker as an
 * Operation (a work function per method in *-ops.c, vm-config-ops.h; its reply function
 * here), so definition changes and snapshot operations never interleave. */
#include <errno.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "definition-history.h"
#include "doctor-repair.h"
#include "errors.h"
#include "host-dbus.h"
#include "log.h"
#include "names.h"
#include "operation.h"
#include "util.h"
#include "vm.h"
#include "vm-config-dbus.h"
#include "vm-config-ops.h"

/* Keeps a plan request to what a host can have: more is refused before any work. */
#define CORES_MAX 1024u
/* Calls queued on the definition worker at once: any local user may read, and each read waits
 * behind snapshot operations, so a flood is refused instead of queued without end. */
#define CONFIG_QUEUED_MAX 32u

static int append_topology(sd_bus_message *m, const CpuTopology *t) {
        int r = sd_bus_message_append(m, "b", (int) t->hybrid);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(uuussb)");
        for (size_t i = 0; r >= 0 && i < t->n; i++) {
                const HostCpu *c = &t->cpus[i];
                r = sd_bus_message_append(m, "(uuussb)", c->id, c->core_id, c->package_id, cpu_kind_to_string(c->kind),
                                          c->siblings ? c->siblings : "", (int) c->online);
        }
        return r < 0 ? r : sd_bus_message_close_container(m);
}

static int append_usb(sd_bus_message *m, const VmConfigOp *op) {
        int r = sd_bus_message_open_container(m, 'a', "(ssbbb)");
        for (size_t i = 0; r >= 0 && i < op->n_usb_status; i++) {
                const UsbStatus *s = &op->usb_status[i];
                r = sd_bus_message_append(m, "(ssbbb)", s->id, s->name ? s->name : "", (int) s->present, (int) s->live,
                                          (int) s->persistent);
        }
        return r < 0 ? r : sd_bus_message_close_container(m);
}

static int append_shares(sd_bus_message *m, const VirtiofsShares *s) {
        int r = sd_bus_message_open_container(m, 'a', "(sssb)");
        for (size_t i = 0; r >= 0 && i < s->n; i++)
                r = sd_bus_message_append(m, "(sssb)", s->items[i].source ? s->items[i].source : "",
                                          s->items[i].tag ? s->items[i].tag : "", s->items[i].binary ? s->items[i].binary : "",
                                          (int) s->items[i].running);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r < 0 ? r : sd_bus_message_append(m, "b", (int) s->shared_memory);
}

static int append_history(sd_bus_message *m, const VmConfigOp *op) {
        int r = sd_bus_message_open_container(m, 'a', "(ts)");
        for (size_t i = 0; r >= 0 && i < op->n_history; i++)
                r = sd_bus_message_append(m, "(ts)", op->history[i].usec, op->history[i].what);
        return r < 0 ? r : sd_bus_message_close_container(m);
}

/* --- replies several methods share; the others are beside their handlers ------------------- */

static int checks_reply(Operation *o, sd_bus_message *reply, void *data) {
        (void) o;
        return bus_append_checks(reply, &((VmConfigOp *) data)->checks);
}

/* Attach, Detach, SetVirtiofsdPath, ExportDefinition, Define, UndoChange. */
static int result_reply(Operation *o, sd_bus_message *reply, void *data) {
        const VmConfigOp *op = data;
        (void) o;
        return sd_bus_message_append(reply, "s", op->result ? op->result : "");
}

/* --- the path every call takes ---------------------------------------------------------------- */

static void on_unrestricted(void *userdata, AuthzVerdict verdict, uid_t uid, const char *why) {
        VmConfigOp *op = userdata;
        Operation *o = op->operation;
        op->needs_unrestricted = false;
        if (verdict == AUTHZ_YES) {
                /* The same work again; it then checks that nothing changed meanwhile. */
                op->unrestricted = true;
                free(op_take_error(o, NULL));
                op_continue(o, true);
                return;
        }
        const char *name;
        _cleanup_free_ char *message = op_take_error(o, &name);
        if (verdict == AUTHZ_UNANSWERED)
                op_fail(o, WINVM_ERROR_BUSY, "polkit gave no answer for %s (%s); try again", DEFINE_UNRESTRICTED_ACTION,
                        why ? why : "it is overloaded");
        else {
                const char *details[] = { "vm", op->vm, NULL };
                sd_bus_error e = SD_BUS_ERROR_MAKE_CONST(name, message);
                bus_polkit_log_refusal(DEFINE_UNRESTRICTED_ACTION, details, uid, &e);
                op_fail(o, name, "%s", message ? message : "failed");
        }
        op_continue(o, false);
}

/* polkit for a change the allowlist did not admit: an administrator's yes runs the same work
 * again; anything else answers the refusal the worker wrote, which names the change and the
 * action. Asked interactively when the caller allows it, so an agent can ask for the password. */
static bool config_pause(Operation *o, void *data) {
        VmConfigOp *op = data;
        if (!op->needs_unrestricted || op->unrestricted)
                return false;
        sd_bus_message *m = op_message(o);
        const char *details[] = { "vm", op->vm, "verb", op->change ? op->change : "define", "change",
                                  op->unrestricted_what ? op->unrestricted_what : "", NULL };
        const char *sender = sd_bus_message_get_sender(m);
        return authz_check(op_daemon(o)->authz, sender, bus_polkit_sender_uid(op_daemon(o)->polkit, sender),
                           DEFINE_UNRESTRICTED_ACTION, details,
                           sd_bus_message_get_allow_interactive_authorization(m) > 0, on_unrestricted, op) == 0;
}

/* Succeeded or not: a definition that changed is journalled and read again. */
static void config_settle(Operation *o, void *data) {
        VmConfigOp *op = data;
        Vm *vm = op_vm(o);
        op_daemon(o)->n_config_queued--;
        if (op->definition_changed && vm) {
                log_event(LOG_INFO, WINVM_MESSAGE_DEFINITION_CHANGED, vm->name, op->change, NULL, op->uid, NULL,
                          "VM %s: definition changed (%s): %s", vm->name, op->change ? op->change : "?",
                          op->result ? op->result : "done");
                vm_refresh(vm);
        }
}

static void config_op_free(void *data) {
        vm_config_op_free(data);
}

/* Takes op (NULL: out of memory). A change names itself (change, its WINVM_OPERATION) and
 * its caller (uid); a read passes NULL and LOG_NO_UID. */
static int submit_as(Daemon *d, Vm *vm, sd_bus_message *m, VmConfigOp *op, const char *change, uid_t uid,
                     op_work_fn work, op_reply_fn reply, sd_bus_error *error) {
        if (!op)
                return -ENOMEM;
        if (d->n_config_queued >= CONFIG_QUEUED_MAX) {
                vm_config_op_free(op);
                return sd_bus_error_set_const(error, WINVM_ERROR_BUSY,
                                              "too many configuration calls are waiting; try again when they are done");
        }
        op->change = change;
        op->uid = uid;
        const OpOptions o = {
                .journal = change,
                .uid = uid,
                .pause = config_pause,
                .settle = config_settle,
                .free_data = config_op_free,
        };
        int r = op_submit(d, d->definition_worker, m, vm, work, reply, op, &o, error);
        if (r >= 0)
                d->n_config_queued++;
        return r;
}

static int submit(Daemon *d, Vm *vm, sd_bus_message *m, VmConfigOp *op, op_work_fn work, op_reply_fn reply,
                  sd_bus_error *error) {
        return submit_as(d, vm, m, op, NULL, LOG_NO_UID, work, reply, error);
}

static VmConfigOp *new_op(Daemon *d, const Vm *vm) {
        return vm_config_op_new(d->config, vm ? vm->name : NULL);
}

/* A read: cached per caller like every read of winvmd. */
static int verify_read(Daemon *d, sd_bus_message *m, const char *action, const char *vm, sd_bus_error *error) {
        const char *const actions[] = { action, NULL };
        const BusPolkitRequest req = { .actions = actions, .vm = vm, .verb = "read", .read = true };
        return bus_polkit_check(d->polkit, m, &req, error);
}

/* A change: checked on every call, with the VM and the verb as details. *uid gets the caller's
 * uid as polkit saw it, for the journal. */
static int verify_change(Daemon *d, sd_bus_message *m, const char *action, const char *vm, const char *verb,
                         uid_t *uid, sd_bus_error *error) {
        const char *const actions[] = { action, NULL };
        const char *details[] = { "vm", vm, "verb", verb, NULL };
        const BusPolkitRequest req = { .actions = actions, .details = details, .read = !uid, .ret_uid = uid };
        return bus_polkit_check(d->polkit, m, &req, error);
}

#define VERIFIED(r) \
        if ((r) <= 0) \
                return (r) < 0 ? (r) : 1

/* --- org.winvm1.Cpu ----------------------------------------------------------------------- */

/* A managed VM by name; "" means the first one, as for Manager.Doctor. */
static Vm *vm_by_name(Daemon *d, const char *name, sd_bus_error *error) {
        Vm *vm = name[0] == '\0' ? (d->n_vms > 0 ? d->vms[0] : NULL) : daemon_find_vm(d, name);
        if (!vm)
                sd_bus_error_setf(error, WINVM_ERROR_NO_SUCH_VM, "'%s' is not a VM winvm manages", name);
        return vm;
}

static int read_cores(sd_bus_message *m, unsigned *p, unsigned *e, unsigned *h, sd_bus_error *error) {
        uint32_t a, b, c;
        int r = sd_bus_message_read(m, "uuu", &a, &b, &c);
        if (r < 0)
                return r;
        if (a == 0 || a > CORES_MAX || b > CORES_MAX || c > CORES_MAX)
                return sd_bus_error_setf(error, WINVM_ERROR_INVALID_ARGUMENT,
                                         "core counts must be 1 to %u P-cores (or cores) for the guest and 0 to %u others",
                                         CORES_MAX, CORES_MAX);
        *p = a;
        *e = b;
        *h = c;
        return 1;
}

static int topology_reply(Operation *o, sd_bus_message *reply, void *data) {
        (void) o;
        return append_topology(reply, &((VmConfigOp *) data)->topology);
}

static int method_get_topology(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        int r = verify_read(d, m, "org.winvm1.host.read", NULL, error);
        VERIFIED(r);
        return submit(d, NULL, m, new_op(d, NULL), cpu_topology_work, topology_reply, error);
}

static int method_check_pinning(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        const char *name;
        int r = sd_bus_message_read(m, "s", &name);
        if (r < 0)
                return r;
        Vm *vm = vm_by_name(d, name, error);
        if (!vm)
                return -ENXIO;
        r = verify_read(d, m, "org.winvm1.host.read", vm->name, error);
        VERIFIED(r);
        return submit(d, vm, m, new_op(d, vm), cpu_check_work, checks_reply, error);
}

static int plan_reply(Operation *o, sd_bus_message *reply, void *data) {
        const VmConfigOp *op = data;
        (void) o;
        return sd_bus_message_append(reply, "sss", op->plan.cputune_xml, op->plan.topology_xml, op->plan.table);
}

static int method_plan_pinning(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        unsigned p, e, h;
        int r = read_cores(m, &p, &e, &h, error);
        if (r <= 0)
                return r;
        r = verify_read(d, m, "org.winvm1.host.read", NULL, error);
        VERIFIED(r);
        VmConfigOp *op = new_op(d, NULL);
        if (op)
                op->p_cores = p, op->e_cores = e, op->host_p_cores = h;
        return submit(d, NULL, m, op, cpu_plan_work, plan_reply, error);
}

static int apply_reply(Operation *o, sd_bus_message *reply, void *data) {
        const VmConfigOp *op = data;
        (void) o;
        return sd_bus_message_append(reply, "ss", op->plan.table, op->result ? op->result : "");
}

static int method_apply_pinning(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        const char *name;
        unsigned p, e, h;
        int r = sd_bus_message_read(m, "s", &name);
        if (r < 0)
                return r;
        r = read_cores(m, &p, &e, &h, error);
        if (r <= 0)
                return r;
        Vm *vm = vm_by_name(d, name, error);
        if (!vm)
                return -ENXIO;
        uid_t uid;
        r = verify_change(d, m, "org.winvm1.vm.configure", vm->name, "pinning", &uid, error);
        VERIFIED(r);
        VmConfigOp *op = new_op(d, vm);
        if (op)
                op->p_cores = p, op->e_cores = e, op->host_p_cores = h;
        return submit_as(d, vm, m, op, "pinning", uid, cpu_apply_work, apply_reply, error);
}

const sd_bus_vtable cpu_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("GetTopology", SD_BUS_NO_ARGS, SD_BUS_RESULT("b", hybrid, "a(uuussb)", cpus),
                                method_get_topology, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CheckPinning", SD_BUS_ARGS("s", vm), SD_BUS_RESULT("a(ssss)", checks),
                                method_check_pinning, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("PlanPinning", SD_BUS_ARGS("u", p_cores, "u", e_cores, "u", host_p_cores),
                                SD_BUS_RESULT("s", cputune, "s", topology, "s", table), method_plan_pinning,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ApplyPinning", SD_BUS_ARGS("s", vm, "u", p_cores, "u", e_cores, "u", host_p_cores),
                                SD_BUS_RESULT("s", table, "s", result), method_apply_pinning, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

/* --- Manager.Repair ------------------------------------------------------------------------- */

static int repair_reply(Operation *o, sd_bus_message *reply, void *data) {
        const VmConfigOp *op = data;
        (void) o;
        int r = sd_bus_message_append_strv(reply, op->repaired);
        return r < 0 ? r : sd_bus_message_append(reply, "s", op->result ? op->result : "");
}

/* The doctor's repairs on the VM's definition: the same guarded, journalled, undoable path as
 * ApplyPinning and SetVirtiofsdPath (org.winvm1.vm.configure, verb repair). */
int manager_method_repair(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        const char *name;
        _cleanup_(strv_freep) char **ids = NULL;
        int r = sd_bus_message_read(m, "s", &name);
        if (r >= 0)
                r = sd_bus_message_read_strv(m, &ids);
        if (r < 0)
                return r;
        size_t n = 0;
        for (char **i = ids; i && *i; i++, n++)
                if (!doctor_repair_known(*i)) {
                        g_autofree char *known = g_strjoinv(", ", (char **) doctor_repair_ids);
                        return sd_bus_error_setf(error, WINVM_ERROR_INVALID_ARGUMENT,
                                                 "no repair exists for '%s'; repairs exist for: %s", *i, known);
                }
        if (n > 2 * strv_length((char **) doctor_repair_ids))
                return sd_bus_error_setf(error, WINVM_ERROR_INVALID_ARGUMENT, "%zu check ids: at most %zu", n,
                                         2 * strv_length((char **) doctor_repair_ids));
        Vm *vm = vm_by_name(d, name, error);
        if (!vm)
                return -ENXIO;
        uid_t uid;
        r = verify_change(d, m, "org.winvm1.vm.configure", vm->name, "repair", &uid, error);
        VERIFIED(r);
        VmConfigOp *op = new_op(d, vm);
        if (op)
                op->repair_ids = TAKE_PTR(ids);
        return submit_as(d, vm, m, op, "repair", uid, repair_work, repair_reply, error);
}

/* --- org.winvm1.Usb ----------------------------------------------------------------------- */

static int usb_list_reply(Operation *o, sd_bus_message *reply, void *data) {
        (void) o;
        return append_usb(reply, data);
}

static int method_usb_list(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Vm *vm = userdata;
        int r = verify_read(vm->daemon, m, "org.winvm1.vm.read", vm->name, error);
        VERIFIED(r);
        return submit(vm->daemon, vm, m, new_op(vm->daemon, vm), usb_list_work, usb_list_reply, error);
}

static int method_usb_change(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Vm *vm = userdata;
        Daemon *d = vm->daemon;
        bool attach = streq_ptr(sd_bus_message_get_member(m), "Attach");
        const char *text;
        uint32_t flags;
        UsbId id;
        int r = sd_bus_message_read(m, "su", &text, &flags);
        if (r < 0)
                return r;
        if (usb_id_parse(text, &id) < 0)
                return sd_bus_error_setf(error, WINVM_ERROR_INVALID_ARGUMENT,
                                         "'%s' is not a USB id: expected vendor:product as four hex digits each, e.g. 256c:006d",
                                         text);
        if (flags & ~USB_FLAGS_ALL)
                return sd_bus_error_setf(error, WINVM_ERROR_INVALID_ARGUMENT,
                                         "unknown flags 0x%x: known are 1 (live only), 2 (only if the guest runs) and "
                                         "4 (only if the id is configured)",
                                         flags & ~USB_FLAGS_ALL);
        char canonical[10];
        usb_id_format(id, canonical);
        /* Before polkit: the hotplug unit asks this for every USB device plugged in. */
        if (!strv_contains(d->config->usb_ids, canonical) && (flags & USB_FLAG_IF_CONFIGURED))
                return sd_bus_reply_method_return(m, "s", "not in [Usb] Devices of winvm.conf; nothing to do");
        if (!strv_contains(d->config->usb_ids, canonical))
                return sd_bus_error_setf(error, WINVM_ERROR_NOT_CONFIGURED,
                                         "USB device %s is not configured for passthrough; add it to [Usb] Devices in winvm.conf",
                                         canonical);
        uid_t uid;
        r = verify_change(d, m, "org.winvm1.usb.manage", vm->name, attach ? "attach" : "detach", &uid, error);
        VERIFIED(r);
        VmConfigOp *op = new_op(d, vm);
        if (op)
                op->usb = id, op->flags = flags;
        return submit_as(d, vm, m, op, attach ? "usb-attach" : "usb-detach", uid,
                         attach ? usb_attach_work : usb_detach_work, result_reply, error);
}

static int property_usb_devices(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Vm *vm = userdata;
        (void) bus, (void) path, (void) interface, (void) property, (void) error;
        return sd_bus_message_append_strv(reply, vm->daemon->config->usb_ids);
}

const sd_bus_vtable usb_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("ConfiguredDevices", "as", property_usb_devices, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_METHOD_WITH_ARGS("GetDevices", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(ssbbb)", devices), method_usb_list,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Attach", SD_BUS_ARGS("s", id, "u", flags), SD_BUS_RESULT("s", result),
                                method_usb_change, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Detach", SD_BUS_ARGS("s", id, "u", flags), SD_BUS_RESULT("s", result),
                                method_usb_change, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

/* --- org.winvm1.Shares -------------------------------------------------------------------- */

static int shares_reply(Operation *o, sd_bus_message *reply, void *data) {
        (void) o;
        return append_shares(reply, &((VmConfigOp *) data)->shares);
}

static int method_shares_read(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Vm *vm = userdata;
        int r = verify_read(vm->daemon, m, "org.winvm1.vm.read", vm->name, error);
        VERIFIED(r);
        bool check = streq_ptr(sd_bus_message_get_member(m), "Check");
        return submit(vm->daemon, vm, m, new_op(vm->daemon, vm), check ? shares_check_work : shares_list_work,
                      check ? checks_reply : shares_reply, error);
}

static int method_set_virtiofsd(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Vm *vm = userdata;
        Daemon *d = vm->daemon;
        const char *path;
        int r = sd_bus_message_read(m, "s", &path);
        if (r < 0)
                return r;
        /* Only a binary the administrator listed: a caller never picks what QEMU's helper runs. */
        if (!virtiofs_binary_allowed(d->config->virtiofsd_allowed, path)) {
                g_autofree char *list = g_strjoinv(", ", d->config->virtiofsd_allowed ? d->config->virtiofsd_allowed :
                                                                                         (char *[]) { NULL });
                return sd_bus_error_setf(error, WINVM_ERROR_INVALID_ARGUMENT,
                                         "'%s' is not an allowed virtiofsd; [Virtiofs] AllowedBinaries lists: %s", path,
                                         *list ? list : "nothing");
        }
        uid_t uid;
        r = verify_change(d, m, "org.winvm1.vm.configure", vm->name, "virtiofsd", &uid, error);
        VERIFIED(r);
        VmConfigOp *op = new_op(d, vm);
        if (op && !(op->path = strdup(path)))
                op = vm_config_op_free(op);
        return submit_as(d, vm, m, op, "virtiofsd", uid, shares_set_virtiofsd_work, result_reply, error);
}

static int property_allowed_virtiofsd(sd_bus *bus, const char *path, const char *interface, const char *property,
                                      sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Vm *vm = userdata;
        (void) bus, (void) path, (void) interface, (void) property, (void) error;
        return sd_bus_message_append_strv(reply, vm->daemon->config->virtiofsd_allowed);
}

const sd_bus_vtable shares_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("AllowedVirtiofsd", "as", property_allowed_virtiofsd, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_METHOD_WITH_ARGS("GetShares", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(sssb)", shares, "b", shared_memory),
                                method_shares_read, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Check", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(ssss)", checks), method_shares_read,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetVirtiofsdPath", SD_BUS_ARGS("s", path), SD_BUS_RESULT("s", result),
                                method_set_virtiofsd, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

/* --- org.winvm1.Definition ---------------------------------------------------------------- */

static int drift_reply(Operation *o, sd_bus_message *reply, void *data) {
        const VmConfigOp *op = data;
        (void) o;
        return sd_bus_message_append(reply, "bs", (int) op->differs, op->diff ? op->diff : "");
}

static int history_reply(Operation *o, sd_bus_message *reply, void *data) {
        (void) o;
        return append_history(reply, data);
}

static int method_definition_read(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Vm *vm = userdata;
        Daemon *d = vm->daemon;
        int with_diff = 0;
        bool drift = streq_ptr(sd_bus_message_get_member(m), "DefinitionDrift");
        if (drift) {
                int r = sd_bus_message_read(m, "b", &with_diff);
                if (r < 0)
                        return r;
        }
        /* The diff shows the file's text, which may be private: only to who may define. */
        uid_t uid;
        int r = with_diff ? verify_change(d, m, "org.winvm1.vm.define", vm->name, "diff", &uid, error) :
                            verify_read(d, m, "org.winvm1.vm.read", vm->name, error);
        VERIFIED(r);
        VmConfigOp *op = new_op(d, vm);
        if (op)
                op->with_diff = with_diff;
        return submit(d, vm, m, op, drift ? definition_drift_work : definition_history_work,
                      drift ? drift_reply : history_reply, error);
}

/* verb: the polkit detail, which is also the change's WINVM_OPERATION. */
static int definition_change(sd_bus_message *m, Vm *vm, const char *verb, op_work_fn work, sd_bus_error *error) {
        Daemon *d = vm->daemon;
        uid_t uid;
        int r = verify_change(d, m, "org.winvm1.vm.define", vm->name, verb, &uid, error);
        VERIFIED(r);
        return submit_as(d, vm, m, new_op(d, vm), verb, uid, work, result_reply, error);
}

static int method_export_definition(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return definition_change(m, userdata, "export", definition_export_work, error);
}

static int method_define(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return definition_change(m, userdata, "define", definition_define_work, error);
}

static int method_undo_change(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return definition_change(m, userdata, "undo", definition_undo_work, error);
}

static int property_definition_file(sd_bus *bus, const char *path, const char *interface, const char *property,
                                    sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Vm *vm = userdata;
        (void) bus, (void) path, (void) interface, (void) property, (void) error;
        const char *file = config_definition_file(vm->daemon->config, vm->name);
        return sd_bus_message_append_basic(reply, 's', file ? file : "");
}

const sd_bus_vtable definition_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("DefinitionFile", "s", property_definition_file, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_METHOD_WITH_ARGS("ExportDefinition", SD_BUS_NO_ARGS, SD_BUS_RESULT("s", file), method_export_definition,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Define", SD_BUS_NO_ARGS, SD_BUS_RESULT("s", result), method_define,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DefinitionDrift", SD_BUS_ARGS("b", with_diff), SD_BUS_RESULT("b", differs, "s", diff),
                                method_definition_read, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("UndoChange", SD_BUS_NO_ARGS, SD_BUS_RESULT("s", result), method_undo_change,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetHistory", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(ts)", versions), method_definition_read,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};
