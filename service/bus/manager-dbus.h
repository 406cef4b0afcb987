/* org.winvm1.Manager on /org/winvm1, and the polkit gate in front of every read of VM data
 * (manager-dbus.c). Event thread only. */
#pragma once

#include <systemd/sd-bus.h>

extern const sd_bus_vtable manager_vtable[];
int manager_read_gate(sd_bus_message *m, void *userdata, sd_bus_error *error);
