/* polkit for bus handlers, in systemd's asynchronous style: the first call of a handler starts
 * the check and keeps the message; when polkit answers, the message is queued again with
 * sd_bus_enqueue_for_read() and the handler runs a second time and finds the verdict.
 * A read's yes is reused for the same user (uid, action and details alike) for ten seconds,
 * or until polkit reports a change: a user's new connections (each winvmctl run, or a flood
 * over hundreds of connections) do not each cost polkitd a check and the bus daemon a dozen
 * lookups for it. Changes are checked on every call. */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "authz.h"

typedef struct BusPolkit BusPolkit;

int bus_polkit_new(sd_bus *bus, Authz *authz, BusPolkit **ret);
BusPolkit *bus_polkit_free(BusPolkit *bp);

/* The journal entry of a refused change (notice, WINVM_POLKIT_ACTION, the vm detail, the uid). */
void bus_polkit_log_refusal(const char *action, const char *const *details, uid_t uid, const sd_bus_error *error);

/* One check of several a call needs, each with details of its own. */
typedef struct BusPolkitCheck {
        const char *action;
        const char *const *details;     /* NULL-terminated key, value list */
} BusPolkitCheck;

/* What a call needs polkit to admit. Either actions (each checked with the details vm and
 * verb, or details when given) or checks (each with details of its own, at most 16). */
typedef struct BusPolkitRequest {
        const char *const *actions;     /* NULL-terminated */
        const BusPolkitCheck *checks;
        size_t n_checks;
        const char *vm, *verb;          /* the usual details; either may be NULL */
        const char *const *details;     /* free-form details (key, value list) instead of vm, verb */
        /* A read: a yes is cached for the user (see above), and a refusal is not
         * journalled (a desktop applet of a user outside the group would fill the journal).
         * A change is checked on every call and a refusal journalled. */
        bool read;
        /* With owner: the caller's uid is learnt first, and a caller of that uid needs
         * owner_actions instead (NULL: nothing), as udisks lets a job's starter cancel it. */
        const uid_t *owner;
        const char *const *owner_actions;
        uid_t *ret_uid;                 /* the caller's uid as polkit saw it ((uid_t) -1: unknown), also on refusal */
} BusPolkitRequest;

/* Returns 1 when everything is granted, 0 when an answer is pending (the handler must return 1
 * and will run again), or a negative errno with *error set (org.freedesktop.DBus.Error.AccessDenied
 * naming the refused action, or org.winvm1.Error.Busy when polkit did not answer). */
int bus_polkit_check(BusPolkit *bp, sd_bus_message *m, const BusPolkitRequest *req, sd_bus_error *error);

/* The uid of a caller (a unique name) as polkit's check of one of its calls learnt it; every
 * connection's first call is checked, so a call that passed the check finds it. (uid_t) -1
 * when unknown. Forgotten when the caller leaves the bus. */
uid_t bus_polkit_sender_uid(BusPolkit *bp, const char *sender);

/* Forgets cached verdicts, e.g. when polkit signals Changed. */
void bus_polkit_flush(BusPolkit *bp);

/* Messages waiting for polkit; they keep the service from exiting on idle. */
unsigned bus_polkit_pending(BusPolkit *bp);
