/* The snapshot methods and properties of org.winvm1.VM. Handlers validate, ask polkit, and
 * hand the whole operation to the definition worker as an Operation (snapshot-ops.c has the
 * work functions); the reply and the new list come back here. One snapshot operation per VM
 * at a time. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "errors.h"
#include "log.h"
#include "names.h"
#include "operation.h"
#include "snapshot-dbus.h"
#include "snapshot-ops.h"
#include "util.h"
#include "vm.h"

static void emit_changed(Vm *vm) {
        (void) sd_bus_emit_properties_changed(vm->daemon->bus, vm->path, "org.winvm1.VM", "Snapshots",
                                              "CurrentSnapshot", NULL);
}

/* Takes the list an operation read from disk; signals when names or current changed. */
static void adopt_set(Vm *vm, SnapshotSet *set) {
        if (!set)
                return;
        bool changed = !vm->snapshots || vm->snapshots->n != set->n || strcmp(vm->snapshots->current, set->current) != 0;
        for (size_t i = 0; !changed && i < set->n; i++)
                changed = strcmp(vm->snapshots->items[i]->name, set->items[i]->name) != 0;
        snapshot_set_free(vm->snapshots);
        vm->snapshots = set;
        if (changed)
                emit_changed(vm);
}

static int append_snapshot(sd_bus_message *reply, const Vm *vm, const Snapshot *s) {
        const char *state_dir = vm->daemon->config->state_dir;
        _cleanup_free_ char *folder = snapshot_state_folder(state_dir, vm->name);
        int r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r >= 0)
                r = sd_bus_message_append(reply, "{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}", "Name", "s", s->name,
                                          "Description", "s", s->description, "CreationTime", "t", s->created_usec,
                                          "GuestState", "s", s->guest_state, "Quiesced", "b", (int) s->quiesced,
                                          "Parent", "s", s->parent, "Current", "b",
                                          (int) (strcmp(vm->snapshots->current, s->name) == 0), "BytesOnDisk", "t",
                                          s->bytes_on_disk);
        /* Only on adopted snapshots, so the dictionary of winvm's own stays as it was. */
        if (r >= 0 && s->adopted)
                r = sd_bus_message_append(reply, "{sv}", "Adopted", "b", 1);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append(reply, "s", "Disks");
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'v', "a{ss}");
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "{ss}");
        for (size_t i = 0; r >= 0 && i < s->n_disks; i++)
                r = sd_bus_message_append(reply, "{ss}", s->disks[i].target, s->disks[i].image);
        for (int k = 0; k < 3 && r >= 0; k++)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append(reply, "s", "Files");
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'v', "as");
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "s");
        for (size_t i = 0; r >= 0 && i < s->n_disks; i++)
                r = sd_bus_message_append(reply, "s", s->disks[i].image);
        if (r >= 0 && s->has_nvram) {
                _cleanup_free_ char *p = NULL;
                r = asprintf(&p, "%s/%s/nvram", folder, s->name) < 0 ? -ENOMEM : sd_bus_message_append(reply, "s", p);
        }
        if (r >= 0 && s->has_tpm) {
                _cleanup_free_ char *p = NULL;
                r = asprintf(&p, "%s/%s/tpm", folder, s->name) < 0 ? -ENOMEM : sd_bus_message_append(reply, "s", p);
        }
        for (int k = 0; k < 4 && r >= 0; k++)
                r = sd_bus_message_close_container(reply);
        return r;
}

static int append_list(sd_bus_message *reply, Vm *vm) {
        int r = sd_bus_message_open_container(reply, 'a', "a{sv}");
        for (size_t i = 0; r >= 0 && vm->snapshots && i < vm->snapshots->n; i++)
                r = append_snapshot(reply, vm, vm->snapshots->items[i]);
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

static int reply_list(Vm *vm, sd_bus_message *m) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = append_list(reply, vm);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        return r;
}

/* The journal entry of an adoption (by the call or at load): which snapshots, from where. */
static void log_adopted(Vm *vm, const SnapshotOp *op, uid_t uid) {
        if (op->notice)
                log_operation_failed(vm->name, "snapshot-adopt", NULL, uid, op->notice_name ? op->notice_name : WINVM_ERROR_FAILED,
                                     op->notice);
        if (!op->adopted || !op->adopted[0])
                return;
        _cleanup_free_ char *names = NULL;
        size_t len = 1;
        for (char **p = op->adopted; *p; p++)
                len += strlen(*p) + 1;
        names = calloc(len, 1);
        for (char **p = op->adopted; names && *p; p++) {
                if (p != op->adopted)
                        strcat(names, " ");
                strcat(names, *p);
        }
        char f_names[512];
        const char *extra[] = { log_field(f_names, sizeof(f_names), "WINVM_SNAPSHOTS=%s", names ? names : "?"), NULL };
        log_event(LOG_INFO, WINVM_MESSAGE_SNAPSHOTS_ADOPTED, vm->name, "snapshot-adopt", NULL, uid, extra,
                  "VM %s: adopted %zu existing snapshot(s): %s", vm->name, strv_length(op->adopted),
                  names ? names : "?");
}

/* The journal entry of a change that succeeded (a failure is the Operation's): what
 * ("snapshot NAME created"), with the snapshot and the one kept as fields. */
static void log_changed(Vm *vm, const SnapshotOp *op, const char *message_id, const char *operation,
                        const char *name, const char *kept, const char *what) {
        char f_name[128], f_kept[128], by[48] = "";
        const char *extra[] = { log_field(f_name, sizeof(f_name), "WINVM_SNAPSHOT=%s", name),
                                kept ? log_field(f_kept, sizeof(f_kept), "WINVM_SNAPSHOT_KEPT=%s", kept) : NULL,
                                NULL };
        if (op->uid != LOG_NO_UID)
                snprintf(by, sizeof(by), " (caller uid %" PRIu32 ")", (uint32_t) op->uid);
        log_event(LOG_INFO, message_id, vm->name, operation, NULL, op->uid, extra, "VM %s: %s%s", vm->name, what, by);
}

static int create_reply(Operation *o, sd_bus_message *reply, void *data) {
        SnapshotOp *op = data;
        Vm *vm = op_vm(o);
        const char *name = op->result ? op->result : op->name;
        _cleanup_free_ char *what = NULL;
        if (asprintf(&what, "snapshot %s created", name) >= 0)
                log_changed(vm, op, WINVM_MESSAGE_SNAPSHOT_CREATED, "snapshot-create", name, NULL, what);
        return sd_bus_message_append(reply, "s", op->result ? op->result : "");
}

static int revert_reply(Operation *o, sd_bus_message *reply, void *data) {
        SnapshotOp *op = data;
        Vm *vm = op_vm(o);
        const char *kept = op->result && *op->result ? op->result : NULL;
        _cleanup_free_ char *what = NULL;
        if (asprintf(&what, "reverted to snapshot %s%s%s", op->name, kept ? "; the state before is kept as " : "",
                     kept ? kept : "") >= 0)
                log_changed(vm, op, WINVM_MESSAGE_SNAPSHOT_REVERTED, "snapshot-revert", op->name, kept, what);
        return sd_bus_message_append(reply, "s", op->result ? op->result : "");
}

static int delete_reply(Operation *o, sd_bus_message *reply, void *data) {
        SnapshotOp *op = data;
        (void) reply;
        _cleanup_free_ char *what = NULL;
        if (asprintf(&what, "snapshot %s deleted", op->name) >= 0)
                log_changed(op_vm(o), op, WINVM_MESSAGE_SNAPSHOT_DELETED, "snapshot-delete", op->name, NULL, what);
        return 0;
}

static int adopt_reply(Operation *o, sd_bus_message *reply, void *data) {
        (void) o;
        return sd_bus_message_append_strv(reply, ((SnapshotOp *) data)->adopted);
}

/* ListSnapshots when the list was not read yet; also the done callback of the load at start-up. */
static int load_reply(Operation *o, sd_bus_message *reply, void *data) {
        (void) data;
        return reply ? append_list(reply, op_vm(o)) : 0;
}

/* Succeeded or not: the list the work read from disk, and what an adoption took in. */
static void load_settle(Operation *o, void *data) {
        SnapshotOp *op = data;
        Vm *vm = op_vm(o);
        adopt_set(vm, op->set);
        op->set = NULL;
        log_adopted(vm, op, op->uid);
}

/* ... and for a change, the VM open to the next one. */
static void change_settle(Operation *o, void *data) {
        op_vm(o)->snapshot_busy = false;
        load_settle(o, data);
}

static void op_data_free(void *data) {
        snapshot_op_free(data);
}

/* Takes op (NULL: out of memory). journal: the WINVM_OPERATION of a failure. */
static int submit(Vm *vm, sd_bus_message *m, SnapshotOp *op, uid_t uid, const char *journal, op_work_fn work,
                  op_reply_fn reply, void (*settle)(Operation *o, void *data), sd_bus_error *error) {
        if (!op)
                return -ENOMEM;
        Daemon *d = vm->daemon;
        op->shutdown_timeout_sec = d->config->shutdown_timeout_sec;
        op->uid = uid;
        const OpOptions o = {
                .journal = journal, .uid = uid, .refresh = true, .settle = settle, .free_data = op_data_free,
        };
        return op_submit(d, d->definition_worker, m, vm, work, reply, op, &o, error);
}

/* A change holds the VM's snapshots until it is answered (change_settle). */
static int submit_change(Vm *vm, sd_bus_message *m, SnapshotOp *op, uid_t uid, const char *journal, op_work_fn work,
                         op_reply_fn reply, sd_bus_error *error) {
        int r = submit(vm, m, op, uid, journal, work, reply, change_settle, error);
        if (r >= 0)
                vm->snapshot_busy = true;
        return r;
}

static SnapshotOp *new_op(Vm *vm, const char *name, const char *description, uint64_t flags) {
        const WinvmConfig *cfg = vm->daemon->config;
        SnapshotOp *op = snapshot_op_new(cfg->libvirt_uri, vm->name, cfg->state_dir);
        if (!op)
                return NULL;
        free(op->name);
        free(op->description);
        op->name = strdup(name ? name : "");
        op->description = strdup(description ? description : "");
        op->flags = flags;
        return op->name && op->description ? op : snapshot_op_free(op);
}

static int submit_load(Vm *vm, sd_bus_message *m, sd_bus_error *error) {
        return submit(vm, m, new_op(vm, NULL, NULL, 0), LOG_NO_UID, "snapshot-load", snapshot_load_work, load_reply,
                      load_settle, error);
}

int vm_snapshots_load(Vm *vm) {
        return submit_load(vm, NULL, NULL);
}

/* polkit for a snapshot change: checked on every call, with the details vm and snapshot. */
static int verify_change(Vm *vm, sd_bus_message *m, const char *action, const char *snapshot, uid_t *ret_uid,
                         sd_bus_error *error) {
        const char *const actions[] = { action, NULL };
        const char *details[] = { "vm", vm->name, "snapshot", snapshot, NULL };
        const BusPolkitRequest req = { .actions = actions, .details = details, .read = !ret_uid, .ret_uid = ret_uid };
        int r = bus_polkit_check(vm->daemon->polkit, m, &req, error);
        if (r > 0 && vm->snapshot_busy) {
                r = sd_bus_error_setf(error, WINVM_ERROR_BUSY,
                                      "another snapshot operation on VM %s is in progress; try again when it ends",
                                      vm->name);
                /* "org.winvm1.snapshot.create" -> "snapshot-create" */
                char operation[32];
                snprintf(operation, sizeof(operation), "snapshot-%s", strrchr(action, '.') + 1);
                log_operation_failed(vm->name, operation, NULL, *ret_uid, error->name, error->message);
        }
        return r;
}

static int invalid_name(sd_bus_error *error, const char *name) {
        return sd_bus_error_setf(error, WINVM_ERROR_INVALID_ARGUMENT,
                                 "'%s' is not a valid snapshot name: use 1 to %d of A-Z a-z 0-9 . _ -, not starting with . or -",
                                 name, SNAPSHOT_NAME_MAX);
}

int vm_method_create_snapshot(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Vm *vm = userdata;
        const char *name, *description;
        int r = sd_bus_message_read(m, "ss", &name, &description);
        if (r < 0)
                return r;
        if (name[0] && !snapshot_name_is_valid(name))
                return invalid_name(error, name);
        if (!snapshot_description_is_valid(description))
                return sd_bus_error_setf(error, WINVM_ERROR_INVALID_ARGUMENT,
                                         "the description must be at most %d bytes of text without control characters (it has %zu bytes)",
                                         SNAPSHOT_DESCRIPTION_MAX, strlen(description));
        uid_t uid = LOG_NO_UID;
        r = verify_change(vm, m, "org.winvm1.snapshot.create", name, &uid, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        return submit_change(vm, m, new_op(vm, name, description, 0), uid, "snapshot-create", snapshot_create_work,
                             create_reply, error);
}

int vm_method_revert_snapshot(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Vm *vm = userdata;
        const char *name;
        uint64_t flags;
        int r = sd_bus_message_read(m, "st", &name, &flags);
        if (r < 0)
                return r;
        if (!snapshot_name_is_valid(name))
                return invalid_name(error, name);
        if (flags & ~(uint64_t) SNAPSHOT_REVERT_ALL)
                return sd_bus_error_setf(error, WINVM_ERROR_INVALID_ARGUMENT,
                                         "unknown revert flags 0x%" PRIx64 ": known are 1 (shut down first), 2 (discard the current state), 4 (force off after the timeout)",
                                         flags & ~(uint64_t) SNAPSHOT_REVERT_ALL);
        if ((flags & SNAPSHOT_REVERT_FORCE) && !(flags & SNAPSHOT_REVERT_SHUTDOWN))
                return sd_bus_error_setf(error, WINVM_ERROR_INVALID_ARGUMENT,
                                         "flag 4 (force off) only applies with flag 1 (shut down first)");
        uid_t uid = LOG_NO_UID;
        r = verify_change(vm, m, "org.winvm1.snapshot.revert", name, &uid, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        return submit_change(vm, m, new_op(vm, name, NULL, flags), uid, "snapshot-revert", snapshot_revert_work,
                             revert_reply, error);
}

int vm_method_delete_snapshot(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Vm *vm = userdata;
        const char *name;
        int r = sd_bus_message_read(m, "s", &name);
        if (r < 0)
                return r;
        if (!snapshot_name_is_valid(name))
                return invalid_name(error, name);
        uid_t uid = LOG_NO_UID;
        r = verify_change(vm, m, "org.winvm1.snapshot.delete", name, &uid, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        return submit_change(vm, m, new_op(vm, name, NULL, 0), uid, "snapshot-delete", snapshot_delete_work,
                             delete_reply, error);
}

/* Adopting is a change of the records like taking a snapshot: polkit snapshot.create. */
int vm_method_adopt_snapshots(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Vm *vm = userdata;
        uid_t uid = LOG_NO_UID;
        int r = verify_change(vm, m, "org.winvm1.snapshot.create", "", &uid, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        return submit_change(vm, m, new_op(vm, NULL, NULL, 0), uid, "snapshot-adopt", snapshot_adopt_work, adopt_reply,
                             error);
}

int vm_method_list_snapshots(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Vm *vm = userdata;
        static const char *const actions[] = { "org.winvm1.vm.read", NULL };
        const BusPolkitRequest req = { .actions = actions, .vm = vm->name, .verb = "read", .read = true };
        int r = bus_polkit_check(vm->daemon->polkit, m, &req, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        if (vm->snapshots)
                return reply_list(vm, m);
        /* Not read yet (or unreadable so far): read it now, after any operation in the queue. */
        return submit_load(vm, m, error);
}

int vm_property_get_snapshots(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Vm *vm = userdata;
        (void) bus;
        (void) path;
        (void) interface;
        (void) error;
        if (strcmp(property, "CurrentSnapshot") == 0)
                return sd_bus_message_append_basic(reply, 's', vm->snapshots ? vm->snapshots->current : "");
        int r = sd_bus_message_open_container(reply, 'a', "s");
        for (size_t i = 0; r >= 0 && vm->snapshots && i < vm->snapshots->n; i++)
                r = sd_bus_message_append(reply, "s", vm->snapshots->items[i]->name);
        return r < 0 ? r : sd_bus_message_close_container(reply);
}
