/* The snapshot methods and properties of org.winvm1.VM (snapshot-dbus.c). Event thread only. */
#pragma once

#include <systemd/sd-bus.h>

#include "daemon.h"

int vm_snapshots_load(Vm *vm);
int vm_method_create_snapshot(sd_bus_message *m, void *userdata, sd_bus_error *error);
int vm_method_revert_snapshot(sd_bus_message *m, void *userdata, sd_bus_error *error);
int vm_method_delete_snapshot(sd_bus_message *m, void *userdata, sd_bus_error *error);
int vm_method_adopt_snapshots(sd_bus_message *m, void *userdata, sd_bus_error *error);
int vm_method_list_snapshots(sd_bus_message *m, void *userdata, sd_bus_error *error);
int vm_property_get_snapshots(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error);
