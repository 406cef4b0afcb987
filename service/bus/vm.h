/* One managed VM as the event thread sees it (vm.c): its last known libvirt state, what was
 * published on the bus, and the Shutdown calls waiting for it. Event thread only. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

#include "daemon.h"

Vm *vm_new(Daemon *d, const char *name);
Vm *vm_free(Vm *vm);
void vm_refresh(Vm *vm);
void vm_publish(Vm *vm);
const char *vm_state_string(Vm *vm);
const char *vm_reason_string(Vm *vm);
void vm_add_shutdown_wait(Vm *vm, sd_bus_message *m, uint32_t timeout_sec, bool force_after, uid_t uid);
