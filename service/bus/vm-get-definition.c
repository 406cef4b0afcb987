/* VM.GetDefinition: the definition the VM runs with, as libvirt says it, without secrets
 * (no VIR_DOMAIN_XML_SECURE, so graphics passwords are left out). Gated like
 * ExportDefinition (org.winvm1.vm.define, verb read): a definition shows host paths. */
#include <errno.h>
#include <stdlib.h>

#include "daemon.h"
#include "operation.h"
#include "vm-dbus.h"

static void get_definition_work(Operation *op, void *data) {
        LvError err = { 0 };
        op_fail_lv(op, lv_domain_xml_live(op_lv(op), op_vm(op)->name, data, &err), &err);
}

static int get_definition_reply(Operation *op, sd_bus_message *reply, void *data) {
        (void) op;
        return sd_bus_message_append(reply, "s", *(char **) data);
}

static void xml_free(void *data) {
        char **xml = data;
        free(*xml);
        free(xml);
}

int vm_method_get_definition(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Vm *vm = userdata;
        static const char *const actions[] = { "org.winvm1.vm.define", NULL };
        const BusPolkitRequest req = { .actions = actions, .vm = vm->name, .verb = "read" };
        int r = bus_polkit_check(vm->daemon->polkit, m, &req, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        char **xml = calloc(1, sizeof(char *));
        if (!xml)
                return -ENOMEM;
        const OpOptions o = { .libvirt = true, .free_data = xml_free };
        return op_submit(vm->daemon, vm->daemon->worker, m, vm, get_definition_work, get_definition_reply, xml, &o,
                         error);
}
