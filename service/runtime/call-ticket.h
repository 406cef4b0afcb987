/* A bus call's place under the limits of call-limit.h: taken before its work is queued, given
 * back when it is answered (call-ticket.c). Event thread only. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

typedef struct Daemon Daemon;

typedef struct CallTicket {
        uid_t uid;
        bool held, in_total;
} CallTicket;

/* 0 with t held, or -EBUSY with *error set to org.winvm1.Error.Busy saying which cap was hit.
 * in_total: false for lifecycle calls, which count against a per-user cap of their own only. */
int daemon_call_enter(Daemon *d, sd_bus_message *m, bool in_total, CallTicket *t, sd_bus_error *error);
void daemon_call_leave(Daemon *d, CallTicket *t);
