/* org.winvm1.Manager on /org/winvm1, and the polkit gate in front of every read of VM data. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "errors.h"
#include "host-dbus.h"
#include "job.h"
#include "manager-dbus.h"
#include "names.h"
#include "object-listing.h"
#include "startup-hold.h"
#include "startup-phases.h"
#include "util.h"
#include "vm-config-dbus.h"

#ifndef WINVM_VERSION
#define WINVM_VERSION "0"
#endif

static int method_get_vm(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        const char *name;

        int r = sd_bus_message_read(m, "s", &name);
        if (r < 0)
                return r;
        if (!vm_name_is_valid(name))
                return sd_bus_error_setf(error, WINVM_ERROR_INVALID_ARGUMENT,
                                         "'%.64s' is not a valid VM name", name);

        static const char *const actions[] = { "org.winvm1.vm.read", NULL };
        const BusPolkitRequest req = { .actions = actions, .vm = name, .verb = "read", .read = true };
        r = bus_polkit_check(d->polkit, m, &req, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        Vm *vm = daemon_find_vm(d, name);
        if (!vm)
                return sd_bus_error_setf(error, WINVM_ERROR_NO_SUCH_VM,
                                         "VM %s is not managed by winvm (see VMs= in winvm.conf)", name);
        return sd_bus_reply_method_return(m, "o", vm->path);
}

static int property_get_vms(sd_bus *bus, const char *path, const char *interface, const char *property,
                            sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        (void) bus;
        (void) path;
        (void) interface;
        (void) property;
        (void) error;

        int r = sd_bus_message_open_container(reply, 'a', "o");
        if (r < 0)
                return r;
        for (size_t i = 0; i < d->n_vms; i++)
                if ((r = sd_bus_message_append(reply, "o", d->vms[i]->path)) < 0)
                        return r;
        return sd_bus_message_close_container(reply);
}

static int property_get_jobs(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        int r = sd_bus_message_open_container(reply, 'a', "o");
        for (size_t i = 0; r >= 0 && i < d->n_jobs; i++)
                r = sd_bus_message_append(reply, "o", d->jobs[i]->path);
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

static int property_get_version(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", WINVM_VERSION);
}

static int property_get_startup_phases(sd_bus *bus, const char *path, const char *interface, const char *property,
                                       sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return startup_phases_append(reply);
}

static int property_get_connected(sd_bus *bus, const char *path, const char *interface, const char *property,
                                  sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        (void) bus;
        (void) path;
        (void) interface;
        (void) property;
        (void) error;
        return sd_bus_message_append(reply, "b", (int) d->connected);
}

const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Version", "s", property_get_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("VMs", "ao", property_get_vms, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Jobs", "ao", property_get_jobs, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("LibvirtConnected", "b", property_get_connected, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        /* Diagnostic: read with Get, not in GetAll; settles during the start, so not signalled. */
        SD_BUS_PROPERTY("StartupPhases", "a(st)", property_get_startup_phases, 0, SD_BUS_VTABLE_PROPERTY_EXPLICIT),
        SD_BUS_METHOD_WITH_ARGS("GetVM", SD_BUS_ARGS("s", name), SD_BUS_RESULT("o", vm), method_get_vm,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Doctor", SD_BUS_ARGS("s", vm), SD_BUS_RESULT("a(ssss)", checks, "a{su}", summary),
                                manager_method_doctor, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Repair", SD_BUS_ARGS("s", vm, "as", check_ids),
                                SD_BUS_RESULT("as", repaired, "s", result), manager_method_repair,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

static int unknown_object(sd_bus_message *m, const char *path) {
        (void) sd_bus_reply_method_errorf(m, SD_BUS_ERROR_UNKNOWN_OBJECT, "Unknown object '%s'.", path);
        return 1;
}

/* The listing shows every VM, the storage and the host: each VM's read is checked with its
 * vm detail, as a Get on that VM is, so a rule that hides one VM from a user hides it here. */
static int listing_gate(Daemon *d, sd_bus_message *m, sd_bus_error *error) {
        static const char *const read_details[] = { "verb", "read", NULL };
        BusPolkitCheck checks[16];
        const char *vm_details[14][5];
        size_t n = 0;
        checks[n++] = (BusPolkitCheck) { "org.winvm1.storage.read", read_details };
        checks[n++] = (BusPolkitCheck) { "org.winvm1.kvmfr.read", read_details };
        for (size_t i = 0; i < d->n_vms; i++) {
                if (n >= sizeof(checks) / sizeof(checks[0]))
                        return sd_bus_error_setf(error, WINVM_ERROR_FAILED,
                                                 "winvm lists at most 14 VMs in one GetManagedObjects; ask for each VM with GetVM");
                const char **det = vm_details[n - 2];
                det[0] = "vm";
                det[1] = d->vms[i]->name;
                det[2] = "verb";
                det[3] = "read";
                det[4] = NULL;
                checks[n++] = (BusPolkitCheck) { "org.winvm1.vm.read", det };
        }
        const BusPolkitRequest req = { .checks = checks, .n_checks = n, .read = true };
        int r = bus_polkit_check(d->polkit, m, &req, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* held; dispatched again once polkit answers */
        if (startup_hold_take(d->startup_hold, m) > 0)
                return 1;
        startup_phase_mark(STARTUP_FIRST_REPLY);
        return object_listing_reply(d, m);
}

/* Runs before sd-bus dispatches a message to our objects. Property reads and the object
 * listing carry VM data, so they need org.winvm1.vm.read (the listing, which shows the storage
 * and the host too, also their read actions); the verdict is cached per caller connection so
 * a reader pays the polkit round trip once. Introspection stays open. */
int manager_read_gate(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        const char *path = sd_bus_message_get_path(m);

        /* A fallback handler makes sd-bus treat every path below it as an object; answer for
         * the ones that are none, whatever the call. */
        Vm *vm = daemon_find_vm_by_path(d, path);
        if ((strncmp(path, WINVM_VM_PREFIX "/", strlen(WINVM_VM_PREFIX) + 1) == 0 && !vm) ||
            (strncmp(path, JOB_PREFIX "/", strlen(JOB_PREFIX) + 1) == 0 && !job_find_by_path(d, path)))
                return unknown_object(m, path);

        /* Only data reads are gated: property calls and the object listing. */
        bool listing_call = sd_bus_message_is_method_call(m, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects");
        if (!listing_call && !sd_bus_message_is_method_call(m, "org.freedesktop.DBus.Properties", NULL))
                return 0;

        static const char *const vm_read[] = { "org.winvm1.vm.read", NULL };
        static const char *const storage_read[] = { "org.winvm1.storage.read", NULL };
        static const char *const kvmfr_read[] = { "org.winvm1.kvmfr.read", NULL };
        bool listing = listing_call && strcmp(path, WINVM_OBJECT_ROOT) == 0;
        if (listing)
                return listing_gate(d, m, error);
        const char *const *actions = vm_read;
        const char *vm_name = NULL;
        if (vm)
                vm_name = vm->name;
        else if (strcmp(path, STORAGE_PATH) == 0)
                actions = storage_read;
        else if (strcmp(path, HOST_PATH) == 0)
                actions = kvmfr_read;

        const BusPolkitRequest req = { .actions = actions, .vm = vm_name, .verb = "read", .read = true };
        int r = bus_polkit_check(d->polkit, m, &req, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* held; dispatched again once polkit answers */
        /* A VM whose state is known is answered at once, even while others are not yet. */
        if (!(vm && vm->info_valid) && startup_hold_take(d->startup_hold, m) > 0)
                return 1; /* held; dispatched again once the VMs' states are known */
        startup_phase_mark(STARTUP_FIRST_REPLY); /* sd-bus answers it on return */
        return 0;
}
