/* org.winvm1.VM (vm-dbus.c, and VM.GetDefinition in vm-get-definition.c). Event thread only. */
#pragma once

#include <sys/types.h>
#include <systemd/sd-bus.h>

#include "daemon.h"
#include "lv.h"

struct Job;

extern const sd_bus_vtable vm_vtable[];
int vm_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                   sd_bus_error *error);
int vm_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error);
/* Forces the VM off for a Shutdown call whose wait ran out; replies to m when done. */
int vm_force_stop_after_timeout(Vm *vm, sd_bus_message *m, struct Job *job, uid_t uid);

/* vm-get-definition.c */
int vm_method_get_definition(sd_bus_message *m, void *userdata, sd_bus_error *error);
