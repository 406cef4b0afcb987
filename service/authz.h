/* polkit on a thread of its own with its own GMainContext, so the sd-event loop never waits
 * on polkit (and no GLib loop is mixed into sd-event). Answers come back through the mailbox.
 * With no polkit authority on the bus, only uid 0 is let in. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "mailbox.h"

typedef enum AuthzVerdict {
        AUTHZ_YES,
        AUTHZ_NO,
        AUTHZ_CHALLENGE,     /* would need authentication the caller did not or could not give */
        AUTHZ_NO_POLKIT,     /* polkit unavailable and the caller is not root */
        AUTHZ_UNANSWERED,    /* polkit runs but gave no answer (overloaded, timed out): try again */
} AuthzVerdict;

typedef struct Authz Authz;
/* uid: the caller's uid as the bus knows it, (uid_t) -1 when it could not be learnt. */
typedef void (*authz_done_fn)(void *userdata, AuthzVerdict verdict, uid_t uid);

/* on_changed runs on the event thread whenever polkit says its rules or sessions changed. */
int authz_new(Mailbox *mb, mailbox_fn on_changed, void *changed_userdata, Authz **ret);
Authz *authz_free(Authz *a);

/* The caller left the bus: drop its checks that polkit has not been asked yet (they are
 * answered AUTHZ_UNANSWERED). */
void authz_forget_sender(Authz *a, const char *sender);

/* details: NULL-terminated key, value, key, value... list. done runs on the event thread. */
int authz_check(Authz *a, const char *sender, const char *action, const char *const *details,
                bool interactive, authz_done_fn done, void *userdata);
