/* When winvmd reached each step of its start, on CLOCK_MONOTONIC, so that anyone can see where
 * a cold start's time goes: Manager.StartupPhases (busctl get-property org.winvm1 /org/winvm1
 * org.winvm1.Manager StartupPhases), which bench/run-bus-bench reads after each cold start.
 *
 * Each phase keeps the first time it was reached; later marks change nothing. Recording costs
 * one clock read. Main (sd-event) thread only: a worker hands its own timestamp back to the
 * loop, which marks it with startup_phase_mark_at(). */
#pragma once

#include <stdint.h>
#include <systemd/sd-bus.h>

typedef enum StartupPhase {
        STARTUP_MAIN,        /* main() entered: exec and library loading are behind */
        STARTUP_CONFIG,      /* configuration read */
        STARTUP_BUS_NAME,    /* org.winvm1 owned: the bus delivers calls from now on */
        STARTUP_LIBVIRT,     /* the first libvirt connection is open (on the worker) */
        STARTUP_STATES,      /* every VM's state is known */
        STARTUP_FIRST_CALL,  /* the first method call arrived */
        STARTUP_FIRST_VERDICT, /* polkit's first answer came back */
        STARTUP_FIRST_REPLY, /* the first read was answered */
        _STARTUP_PHASE_MAX,
} StartupPhase;

/* The phase's name as StartupPhases lists it ("main", "config", "bus-name", ...). */
const char *startup_phase_name(StartupPhase p);

/* CLOCK_MONOTONIC, in microseconds. */
uint64_t startup_phase_now(void);

void startup_phase_mark(StartupPhase p);
void startup_phase_mark_at(StartupPhase p, uint64_t usec);

/* When p was reached, 0 when not (yet). */
uint64_t startup_phase_usec(StartupPhase p);

/* Appends the a(st) of StartupPhases: each phase reached, in the order of the enum. */
int startup_phases_append(sd_bus_message *reply);
