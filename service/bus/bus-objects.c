#include "bus-objects.h"

#include "daemon.h"
#include "host-dbus.h"
#include "job.h"
#include "scrub.h"
#include "vm-config-dbus.h"
#include "vm-dbus.h"

const BusInterface host_interfaces[] = {
        { "org.winvm1.Kvmfr", kvmfr_vtable },
        { "org.winvm1.Vfio", vfio_vtable },
        { "org.winvm1.Cpu", cpu_vtable },
        { NULL, NULL },
};

const BusInterface storage_interfaces[] = {
        { "org.winvm1.Storage", storage_vtable },
        { NULL, NULL },
};

const BusInterface vm_interfaces[] = {
        { "org.winvm1.VM", vm_vtable },
        { "org.winvm1.Usb", usb_vtable },
        { "org.winvm1.Shares", shares_vtable },
        { "org.winvm1.Definition", definition_vtable },
        { NULL, NULL },
};

const BusInterface job_interfaces[] = {
        { "org.winvm1.Job", job_vtable },
        { NULL, NULL },
};
