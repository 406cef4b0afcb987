/* polkit on a thread of its own with its own GMainContext, so the sd-event loop never waits
 * on polkit (and no GLib loop is mixed into sd-event). Answers come back through the mailbox.
 * Only when the bus says polkit's name has no owner is only uid 0 let in; any other failure
 * (a timeout, an error from polkitd or the bus, a check about a caller polkitd could not look
 * up) is retried once and then answered AUTHZ_UNANSWERED with what happened, never taken for
 * "polkit is not running". A check gets no answer from polkitd within AUTHZ_TIMEOUT_SEC
 * (interactive ones, which may wait for a password, AUTHZ_INTERACTIVE_TIMEOUT_SEC) is
 * AUTHZ_UNANSWERED. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "mailbox.h"

typedef enum AuthzVerdict {
        AUTHZ_YES,
        AUTHZ_NO,
        AUTHZ_CHALLENGE,     /* would need authentication the caller did not or could not give */
        AUTHZ_NO_POLKIT,     /* no owner of polkit's bus name, and the caller is not root */
        AUTHZ_UNANSWERED,    /* polkit runs but gave no answer (overloaded, timed out, failed):
                              * try again; why says what happened */
} AuthzVerdict;

#define AUTHZ_TIMEOUT_SEC 20u
#define AUTHZ_INTERACTIVE_TIMEOUT_SEC 300u

typedef struct Authz Authz;
/* uid: the caller's uid as the bus knows it, (uid_t) -1 when it could not be learnt. why: for
 * AUTHZ_UNANSWERED, what happened (NULL otherwise); valid only during the call. */
typedef void (*authz_done_fn)(void *userdata, AuthzVerdict verdict, uid_t uid, const char *why);

/* on_changed runs on the event thread whenever polkit says its rules or sessions changed, and
 * when polkitd leaves or joins the bus. */
int authz_new(Mailbox *mb, mailbox_fn on_changed, void *changed_userdata, Authz **ret);
Authz *authz_free(Authz *a);

/* The caller left the bus: drop its checks that polkit has not been asked yet (they are
 * answered AUTHZ_UNANSWERED). */
void authz_forget_sender(Authz *a, const char *sender);

/* details: NULL-terminated key, value, key, value... list. done runs on the event thread.
 * uid: the sender's uid when the caller knows it (bus-polkit.c learnt it once for the
 * connection), else (uid_t) -1 and the polkit thread asks the bus: each question to the bus
 * daemon is a round trip that waits behind whatever floods it. */
int authz_check(Authz *a, const char *sender, uid_t uid, const char *action, const char *const *details,
                bool interactive, authz_done_fn done, void *userdata);
