/* The interfaces winvmd serves on each kind of object. daemon.c registers them from these
 * tables and object-listing.c lists them, so the two cannot drift apart. */
#pragma once

#include <systemd/sd-bus.h>

typedef struct BusInterface {
        const char *name;
        const sd_bus_vtable *vtable;
} BusInterface;

/* Each list ends with a { NULL, NULL } entry. */
extern const BusInterface host_interfaces[];    /* /org/winvm1/host, userdata the Daemon */
extern const BusInterface storage_interfaces[]; /* /org/winvm1/storage, userdata the Daemon */
extern const BusInterface vm_interfaces[];      /* /org/winvm1/vm/NAME, userdata the Vm */
extern const BusInterface job_interfaces[];     /* /org/winvm1/job/N, userdata the Job */
