/* polkit for bus handlers, in systemd's asynchronous style: the first call of a handler starts
 * the check and keeps the message; when polkit answers, the message is queued again with
 * sd_bus_enqueue_for_read() and the handler runs a second time and finds the verdict.
 * Read verdicts may be cached per caller connection; they are dropped when the caller's
 * unique name goes away or polkit reports a change. */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "authz.h"

typedef struct BusPolkit BusPolkit;

int bus_polkit_new(sd_bus *bus, Authz *authz, BusPolkit **ret);
BusPolkit *bus_polkit_free(BusPolkit *bp);

/* Checks every action in the NULL-terminated list, in order, with the details vm and verb
 * (either may be NULL). Returns 1 when all are granted, 0 when an answer is pending (the
 * handler must return 1 and will run again), or a negative errno with *error set to
 * org.freedesktop.DBus.Error.AccessDenied naming the refused action. */
int bus_polkit_verify(BusPolkit *bp, sd_bus_message *m, const char *const *actions, const char *vm,
                      const char *verb, bool cacheable, sd_bus_error *error);

/* The same, never cached, and also returning the caller's uid (also on refusal, so a handler
 * can let an owner through; (uid_t) -1 when unknown). */
int bus_polkit_verify_uid(BusPolkit *bp, sd_bus_message *m, const char *const *actions, const char *vm,
                          const char *verb, uid_t *ret_uid, sd_bus_error *error);

/* The same, without the journal entry a refused change gets: for a handler that may still
 * let the caller through (the starter of a job), and logs with bus_polkit_log_refusal() when
 * it does not. */
int bus_polkit_verify_uid_unlogged(BusPolkit *bp, sd_bus_message *m, const char *const *actions, const char *vm,
                                   const char *verb, uid_t *ret_uid, sd_bus_error *error);
/* The journal entry of a refused change (notice, WINVM_POLKIT_ACTION, the vm detail, the uid). */
void bus_polkit_log_refusal(const char *action, const char *const *details, uid_t uid, const sd_bus_error *error);

/* One check of several a call needs, each with details of its own. */
typedef struct BusPolkitCheck {
        const char *action;
        const char *const *details;     /* NULL-terminated key, value list */
} BusPolkitCheck;

/* Every check in turn, cached, as bus_polkit_verify does (at most 16: -E2BIG past that). For
 * GetManagedObjects, which shows every VM: each VM's read is checked with its vm detail. */
int bus_polkit_verify_checks(BusPolkit *bp, sd_bus_message *m, const BusPolkitCheck *checks, size_t n,
                             sd_bus_error *error);

/* With free-form details (NULL-terminated key, value list). Cached when ret_uid is NULL. */
int bus_polkit_verify_details(BusPolkit *bp, sd_bus_message *m, const char *const *actions,
                              const char *const *details, uid_t *ret_uid, sd_bus_error *error);

/* The uid of a caller (a unique name) as polkit's check of one of its calls learnt it; every
 * connection's first call is checked, so a call that passed the check finds it. (uid_t) -1
 * when unknown. Forgotten when the caller leaves the bus. */
uid_t bus_polkit_sender_uid(BusPolkit *bp, const char *sender);

/* Forgets cached verdicts, e.g. when polkit signals Changed. */
void bus_polkit_flush(BusPolkit *bp);

/* Messages waiting for polkit; they keep the service from exiting on idle. */
unsigned bus_polkit_pending(BusPolkit *bp);
