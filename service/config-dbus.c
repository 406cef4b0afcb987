/* The VM's configuration as managed state: org.winvm1.Cpu on /org/winvm1/host, and
 * org.winvm1.Usb, org.winvm1.Shares and org.winvm1.Definition on each VM. Handlers read and
 * validate their arguments, ask polkit, and hand the work to the snapshot worker
 * (vm-config-ops.h), so definition changes and snapshot operations never interleave. */
#include <errno.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "definition-history.h"
#include "doctor-repair.h"
#include "errors.h"
#include "log.h"
#include "names.h"
#include "util.h"
#include "vm-config-ops.h"

/* Keeps a plan request to what a host can have: more is refused before any work. */
#define CORES_MAX 1024u
/* Calls queued on the snapshot worker at once: any local user may read, and each read waits
 * behind snapshot operations, so a flood is refused instead of queued without end. */
#define CONFIG_QUEUED_MAX 32u

typedef struct ConfigCall {
        Daemon *daemon;
        Vm *vm;                 /* NULL for host-wide reads */
        sd_bus_message *message;
        CallTicket ticket;
        VmConfigOp *op;
        uid_t caller_uid;       /* of a change, as polkit saw it; LOG_NO_UID for reads */
} ConfigCall;

/* The WINVM_OPERATION of a change, NULL for a read. */
static const char *change_name(VmConfigOpKind k) {
        switch (k) {
        case VMCFG_PIN_APPLY:
                return "pinning";
        case VMCFG_USB_ATTACH:
                return "usb-attach";
        case VMCFG_USB_DETACH:
                return "usb-detach";
        case VMCFG_SET_VIRTIOFSD:
                return "virtiofsd";
        case VMCFG_EXPORT:
                return "export";
        case VMCFG_DEFINE:
                return "define";
        case VMCFG_UNDO:
                return "undo";
        case VMCFG_REPAIR:
                return "repair";
        default:
                return NULL;
        }
}

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

static int append_result(sd_bus_message *m, const VmConfigOp *op) {
        switch (op->kind) {
        case VMCFG_TOPOLOGY:
                return append_topology(m, &op->topology);
        case VMCFG_PIN_CHECK:
        case VMCFG_SHARES_CHECK:
                return bus_append_checks(m, &op->checks);
        case VMCFG_PIN_PLAN:
                return sd_bus_message_append(m, "sss", op->plan.cputune_xml, op->plan.topology_xml, op->plan.table);
        case VMCFG_PIN_APPLY:
                return sd_bus_message_append(m, "ss", op->plan.table, op->result ? op->result : "");
        case VMCFG_USB_LIST:
                return append_usb(m, op);
        case VMCFG_SHARES_LIST:
                return append_shares(m, &op->shares);
        case VMCFG_DRIFT:
                return sd_bus_message_append(m, "bs", (int) op->differs, op->diff ? op->diff : "");
        case VMCFG_HISTORY:
                return append_history(m, op);
        case VMCFG_REPAIR: {
                int r = sd_bus_message_append_strv(m, op->repaired);
                return r < 0 ? r : sd_bus_message_append(m, "s", op->result ? op->result : "");
        }
        default:
                return sd_bus_message_append(m, "s", op->result ? op->result : "");
        }
}

static void config_work(void *userdata) {
        ConfigCall *c = userdata;
        vm_config_op_run(c->op);
}

static void config_work(void *userdata);
static void config_done(void *userdata);

/* polkit's answer for a change the allowlist did not admit: an administrator's yes runs the
 * same operation again (it then checks that nothing changed meanwhile); anything else
 * answers the refusal the worker wrote, which names the change and the action. */
static void on_unrestricted(void *userdata, AuthzVerdict verdict, uid_t uid, const char *why) {
        ConfigCall *c = userdata;
        VmConfigOp *op = c->op;
        op->needs_unrestricted = false;
        if (verdict == AUTHZ_YES) {
                op->unrestricted = true;
                op->error_name = NULL;
                free(op->error_message);
                op->error_message = NULL;
                if (worker_submit(c->daemon->snapshot_worker, config_work, config_done, c) >= 0)
                        return;
                vm_config_failf(op, WINVM_ERROR_FAILED, "winvmd is shutting down");
        } else if (verdict == AUTHZ_UNANSWERED) {
                op->error_name = NULL;
                free(op->error_message);
                op->error_message = NULL;
                vm_config_failf(op, WINVM_ERROR_BUSY, "polkit gave no answer for %s (%s); try again",
                                DEFINE_UNRESTRICTED_ACTION, why ? why : "it is overloaded");
        } else {
                const char *details[] = { "vm", op->vm, NULL };
                sd_bus_error e = SD_BUS_ERROR_MAKE_CONST(op->error_name, op->error_message);
                bus_polkit_log_refusal(DEFINE_UNRESTRICTED_ACTION, details, uid, &e);
        }
        config_done(c);
}

/* Asks polkit whether an administrator admits the change (interactive when the caller
 * allows it, so a polkit agent can ask for the password). 0 when asked. */
static int ask_unrestricted(ConfigCall *c) {
        const char *change = change_name(c->op->kind);
        const char *details[] = { "vm", c->op->vm, "verb", change ? change : "define", "change",
                                  c->op->unrestricted_what ? c->op->unrestricted_what : "", NULL };
        return authz_check(c->daemon->authz, sd_bus_message_get_sender(c->message), DEFINE_UNRESTRICTED_ACTION, details,
                           sd_bus_message_get_allow_interactive_authorization(c->message) > 0, on_unrestricted, c);
}

static void config_done(void *userdata) {
        ConfigCall *c = userdata;
        VmConfigOp *op = c->op;
        if (op->needs_unrestricted && !op->unrestricted && ask_unrestricted(c) == 0)
                return;
        daemon_call_leave(c->daemon, &c->ticket);
        const char *change = change_name(op->kind), *vm = c->vm ? c->vm->name : NULL;
        if (op->error_name && change)
                log_operation_failed(vm, change, NULL, c->caller_uid, op->error_name,
                                     op->error_message ? op->error_message : "failed");
        if (op->error_name) {
                /* A message the bus refuses (not UTF-8, from libvirt or a file) still gets an answer. */
                if (sd_bus_reply_method_errorf(c->message, op->error_name, "%s",
                                               op->error_message ? op->error_message : "failed") < 0)
                        (void) sd_bus_reply_method_errorf(c->message, op->error_name, "the operation failed");
        } else {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
                int r = sd_bus_message_new_method_return(c->message, &reply);
                if (r >= 0)
                        r = append_result(reply, op);
                if (r >= 0)
                        r = sd_bus_send(NULL, reply, NULL);
                if (r < 0)
                        (void) sd_bus_reply_method_errnof(c->message, -r, "Could not build the reply: %m");
        }
        if (op->definition_changed && c->vm) {
                log_event(LOG_INFO, WINVM_MESSAGE_DEFINITION_CHANGED, vm, change, NULL, c->caller_uid, NULL,
                          "VM %s: definition changed (%s): %s", vm, change ? change : "?",
                          op->result ? op->result : "done");
                vm_refresh(c->vm);
        }
        c->daemon->n_config_queued--;
        daemon_busy_dec(c->daemon);
        sd_bus_message_unref(c->message);
        vm_config_op_free(op);
        free(c);
}

static int submit_as(Daemon *d, Vm *vm, sd_bus_message *m, VmConfigOp *op, uid_t caller_uid) {
        if (!op)
                return -ENOMEM;
        if (d->n_config_queued >= CONFIG_QUEUED_MAX) {
                vm_config_op_free(op);
                return sd_bus_reply_method_errorf(m, WINVM_ERROR_BUSY,
                                                  "too many configuration calls are waiting; try again when they are done");
        }
        ConfigCall *c = calloc(1, sizeof(*c));
        if (!c) {
                vm_config_op_free(op);
                return -ENOMEM;
        }
        *c = (ConfigCall) { .daemon = d, .vm = vm, .message = sd_bus_message_ref(m), .op = op, .caller_uid = caller_uid };
        _cleanup_(sd_bus_error_free) sd_bus_error busy = SD_BUS_ERROR_NULL;
        if (daemon_call_enter(d, m, true, &c->ticket, &busy) < 0) {
                sd_bus_message_unref(c->message);
                vm_config_op_free(op);
                free(c);
                return sd_bus_reply_method_error(m, &busy);
        }
        int r = worker_submit(d->snapshot_worker, config_work, config_done, c);
        if (r < 0) {
                daemon_call_leave(d, &c->ticket);
                sd_bus_message_unref(c->message);
                vm_config_op_free(op);
                free(c);
                return sd_bus_reply_method_errorf(m, WINVM_ERROR_FAILED, "winvmd is shutting down");
        }
        d->n_config_queued++;
        daemon_busy_inc(d);
        return 1;
}

static int submit(Daemon *d, Vm *vm, sd_bus_message *m, VmConfigOp *op) {
        return submit_as(d, vm, m, op, LOG_NO_UID);
}

static VmConfigOp *new_op(Daemon *d, VmConfigOpKind kind, const Vm *vm) {
        return vm_config_op_new(kind, d->config, vm ? vm->name : NULL);
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

static int method_get_topology(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        int r = verify_read(d, m, "org.winvm1.host.read", NULL, error);
        VERIFIED(r);
        return submit(d, NULL, m, new_op(d, VMCFG_TOPOLOGY, NULL));
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
        return submit(d, vm, m, new_op(d, VMCFG_PIN_CHECK, vm));
}

static int method_plan_pinning(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        unsigned p, e, h;
        int r = read_cores(m, &p, &e, &h, error);
        if (r <= 0)
                return r;
        r = verify_read(d, m, "org.winvm1.host.read", NULL, error);
        VERIFIED(r);
        VmConfigOp *op = new_op(d, VMCFG_PIN_PLAN, NULL);
        if (op)
                op->p_cores = p, op->e_cores = e, op->host_p_cores = h;
        return submit(d, NULL, m, op);
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
        VmConfigOp *op = new_op(d, VMCFG_PIN_APPLY, vm);
        if (op)
                op->p_cores = p, op->e_cores = e, op->host_p_cores = h;
        return submit_as(d, vm, m, op, uid);
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
        VmConfigOp *op = new_op(d, VMCFG_REPAIR, vm);
        if (op)
                op->repair_ids = TAKE_PTR(ids);
        return submit_as(d, vm, m, op, uid);
}

/* --- org.winvm1.Usb ----------------------------------------------------------------------- */

static int method_usb_list(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Vm *vm = userdata;
        int r = verify_read(vm->daemon, m, "org.winvm1.vm.read", vm->name, error);
        VERIFIED(r);
        return submit(vm->daemon, vm, m, new_op(vm->daemon, VMCFG_USB_LIST, vm));
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
        VmConfigOp *op = new_op(d, attach ? VMCFG_USB_ATTACH : VMCFG_USB_DETACH, vm);
        if (op)
                op->usb = id, op->flags = flags;
        return submit_as(d, vm, m, op, uid);
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

static int method_shares_read(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Vm *vm = userdata;
        int r = verify_read(vm->daemon, m, "org.winvm1.vm.read", vm->name, error);
        VERIFIED(r);
        bool check = streq_ptr(sd_bus_message_get_member(m), "Check");
        return submit(vm->daemon, vm, m, new_op(vm->daemon, check ? VMCFG_SHARES_CHECK : VMCFG_SHARES_LIST, vm));
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
        VmConfigOp *op = new_op(d, VMCFG_SET_VIRTIOFSD, vm);
        if (op && !(op->path = strdup(path)))
                op = vm_config_op_free(op);
        return submit_as(d, vm, m, op, uid);
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
        VmConfigOp *op = new_op(d, drift ? VMCFG_DRIFT : VMCFG_HISTORY, vm);
        if (op)
                op->with_diff = with_diff;
        return submit(d, vm, m, op);
}

static int method_definition_change(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Vm *vm = userdata;
        Daemon *d = vm->daemon;
        const char *member = sd_bus_message_get_member(m);
        VmConfigOpKind kind = streq_ptr(member, "ExportDefinition") ? VMCFG_EXPORT :
                              streq_ptr(member, "Define") ? VMCFG_DEFINE : VMCFG_UNDO;
        uid_t uid;
        int r = verify_change(d, m, "org.winvm1.vm.define", vm->name,
                              kind == VMCFG_EXPORT ? "export" : kind == VMCFG_DEFINE ? "define" : "undo", &uid, error);
        VERIFIED(r);
        return submit_as(d, vm, m, new_op(d, kind, vm), uid);
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
        SD_BUS_METHOD_WITH_ARGS("ExportDefinition", SD_BUS_NO_ARGS, SD_BUS_RESULT("s", file), method_definition_change,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Define", SD_BUS_NO_ARGS, SD_BUS_RESULT("s", result), method_definition_change,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DefinitionDrift", SD_BUS_ARGS("b", with_diff), SD_BUS_RESULT("b", differs, "s", diff),
                                method_definition_read, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("UndoChange", SD_BUS_NO_ARGS, SD_BUS_RESULT("s", result), method_definition_change,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetHistory", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(ts)", versions), method_definition_read,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};
