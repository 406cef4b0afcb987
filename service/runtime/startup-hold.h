/* Reads that reach winvmd before it first knows its VMs' states wait for that, for a while.
 *
 * The call that bus-activates winvmd (`winvmctl status`, the desktop toggle) is its first,
 * and it would otherwise read State "unknown" for a guest that runs: the libvirt connection
 * is made on the worker after the bus name is taken. Held reads are dispatched again, in
 * order, once every VM's state is known, once the first connection fails (then "unknown" is
 * the truth), or after a bounded wait, whichever comes first. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

typedef struct StartupHold StartupHold;

/* Holding from now on, for at most max_usec. */
int startup_hold_new(sd_event *event, uint64_t max_usec, StartupHold **ret);
StartupHold *startup_hold_free(StartupHold *h);

/* Takes m (a reference) while holding: 1. Not holding, or too many held: 0, and the caller
 * answers m now. */
int startup_hold_take(StartupHold *h, sd_bus_message *m);

/* Ends the hold (for good) and dispatches every held message again. */
void startup_hold_release(StartupHold *h);

bool startup_hold_active(const StartupHold *h);
