/* org.winvm1.Cpu, Usb, Shares and Definition, and Manager.Repair (vm-config-dbus.c). Event thread
 * only. */
#pragma once

#include <systemd/sd-bus.h>

extern const sd_bus_vtable cpu_vtable[];
extern const sd_bus_vtable usb_vtable[];
extern const sd_bus_vtable shares_vtable[];
extern const sd_bus_vtable definition_vtable[];
int manager_method_repair(sd_bus_message *m, void *userdata, sd_bus_error *error);
