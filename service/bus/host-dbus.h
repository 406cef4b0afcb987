/* /org/winvm1/host: org.winvm1.Kvmfr and org.winvm1.Vfio, and Manager.Doctor (host-dbus.c).
 * Event thread only. */
#pragma once

#include <systemd/sd-bus.h>

#include "checks.h"
#include "daemon.h"

extern const sd_bus_vtable kvmfr_vtable[];
extern const sd_bus_vtable vfio_vtable[];
int host_init(Daemon *d);
void host_done_all(Daemon *d);
int manager_method_doctor(sd_bus_message *m, void *userdata, sd_bus_error *error);
/* Appends checks as the a(ssss) every Check method and Doctor return. */
int bus_append_checks(sd_bus_message *reply, const CheckList *l);
