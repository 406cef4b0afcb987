#include "authz.h"

#include <errno.h>
#include <gio/gio.h>
#include <polkit/polkit.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "fair-queue.h"

struct Authz {
        Mailbox *mailbox;
        mailbox_fn on_changed;
        void *changed_userdata;

        pthread_t thread;
        GMainContext *context;
        GMainLoop *loop;
        /* Owned by the polkit thread. */
        PolkitAuthority *authority;
        GDBusConnection *system_bus;

        /* Checks sent to polkit and not yet answered, in all and per caller uid, and those
         * waiting for a slot: the bus limits how many calls one connection may have pending
         * (128 by default), and polkitd answers one check after the other, so a check sent
         * behind a user's flood would wait for all of it. Waiting checks are served
         * round-robin by uid (fair-queue.c). */
        unsigned in_flight;
        GHashTable *in_flight_by_uid; /* uid -> count */
        FairQueue *waiting;

        guint timeout_ms, interactive_timeout_ms;
};

typedef struct Request {
        Authz *authz;
        char *sender;
        char *action;
        PolkitDetails *details;
        bool interactive;
        authz_done_fn done;
        void *userdata;
        AuthzVerdict verdict;
        uid_t uid;
        char *why;              /* AUTHZ_UNANSWERED: what happened */
        GCancellable *cancel;   /* of the check sent to polkitd */
        GSource *deadline;
        bool queued;            /* waiting for a slot in a->waiting */
        bool timed_out;
        bool retried;
} Request;

#define MAX_CHECKS_IN_FLIGHT 64
#define MAX_CHECKS_IN_FLIGHT_PER_UID 8

static void dispatch(Request *req);

static void request_free(Request *req) {
        g_free(req->why);
        g_clear_object(&req->cancel);
        g_free(req->sender);
        g_free(req->action);
        g_clear_object(&req->details);
        g_free(req);
}

static void deliver(void *userdata) {
        Request *req = userdata;
        req->done(req->userdata, req->verdict, req->uid, req->why);
        request_free(req);
}

static void finish(Request *req, AuthzVerdict verdict) {
        if (req->deadline) {
                g_source_destroy(req->deadline);
                g_source_unref(req->deadline);
                req->deadline = NULL;
        }
        req->verdict = verdict;
        if (mailbox_post(req->authz->mailbox, deliver, req) < 0)
                request_free(req); /* out of memory: the caller's message stays unanswered */
}

/* The caller's uid from the bus daemon; the polkit thread may block, the event loop may not. */
static uid_t lookup_uid(Authz *a, const char *sender) {
        if (!a->system_bus)
                return (uid_t) -1;
        g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
                a->system_bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                "GetConnectionUnixUser", g_variant_new("(s)", sender), G_VARIANT_TYPE("(u)"),
                G_DBUS_CALL_FLAGS_NONE, 5000, NULL, NULL);
        guint32 uid;
        if (!reply)
                return (uid_t) -1;
        g_variant_get(reply, "(u)", &uid);
        return (uid_t) uid;
}

/* Without polkit only root may proceed. */
static void finish_without_polkit(Request *req) {
        finish(req, req->uid == 0 ? AUTHZ_YES : AUTHZ_NO_POLKIT);
}

/* polkit runs but did not answer: root proceeds, anyone else is told what happened. */
static void __attribute__((format(printf, 2, 3))) finish_unanswered(Request *req, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        g_free(req->why);
        req->why = g_strdup_vprintf(fmt, ap);
        va_end(ap);
        finish(req, req->uid == 0 ? AUTHZ_YES : AUTHZ_UNANSWERED);
}

/* Whether polkit's bus name has an owner, asked of the bus itself: 1 yes, 0 no, -1 when the
 * bus did not say (*ret_why). A cached owner, or an error a check returned (polkitd passes on
 * the bus's NameHasNoOwner about a caller it could not look up), must not decide this. */
static int polkit_presence(Authz *a, char **ret_why) {
        g_autoptr(GError) err = NULL;
        if (!a->system_bus) {
                *ret_why = g_strdup("winvmd has no connection to the system bus");
                return -1;
        }
        g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
                a->system_bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "NameHasOwner",
                g_variant_new("(s)", "org.freedesktop.PolicyKit1"), G_VARIANT_TYPE("(b)"), G_DBUS_CALL_FLAGS_NONE, 5000,
                NULL, &err);
        if (!reply) {
                *ret_why = g_strdup(err->message);
                return -1;
        }
        gboolean owned;
        g_variant_get(reply, "(b)", &owned);
        return owned ? 1 : 0;
}

static void on_authority_changed(PolkitAuthority *authority, gpointer userdata);
static void on_owner_changed(GObject *authority, GParamSpec *pspec, gpointer userdata);

/* The authority proxy; made again when making it failed before (at start-up, say). */
static int connect_authority(Authz *a, char **ret_why) {
        if (a->authority)
                return 0;
        g_autoptr(GError) err = NULL;
        a->authority = polkit_authority_get_sync(NULL, &err);
        if (!a->authority) {
                *ret_why = g_strdup(err ? err->message : "unknown error");
                return -1;
        }
        g_signal_connect(a->authority, "changed", G_CALLBACK(on_authority_changed), a);
        /* polkitd left the bus or came back: what it said before no longer holds (gone, only
         * root may; back, it may have other rules). */
        g_signal_connect(a->authority, "notify::owner", G_CALLBACK(on_owner_changed), a);
        return 0;
}

static bool is_request(void *item, void *userdata) {
        return item == userdata;
}

static void drop_timed_out(void *item) {
        Request *req = item;
        finish_unanswered(req, "polkit did not answer within %u s (it is overloaded or stuck)",
                          (req->authz->timeout_ms + 999) / 1000);
}

/* The deadline of a check, from its arrival: a check still waiting for a slot is answered at
 * once, one sent to polkitd is cancelled (on_checked answers it). */
static gboolean on_deadline(gpointer userdata) {
        Request *req = userdata;
        g_source_unref(req->deadline);
        req->deadline = NULL;
        req->timed_out = true;
        if (req->queued)
                fair_queue_remove_if(req->authz->waiting, is_request, drop_timed_out, req);
        else if (req->cancel)
                g_cancellable_cancel(req->cancel);
        return G_SOURCE_REMOVE;
}

/* How long a check may take from its arrival: interactive ones may wait for a password. */
static guint deadline_ms(const Request *req) {
        return req->interactive ? req->authz->interactive_timeout_ms : req->authz->timeout_ms;
}

static void arm_deadline(Request *req) {
        Authz *a = req->authz;
        req->deadline = g_timeout_source_new(deadline_ms(req));
        g_source_set_callback(req->deadline, on_deadline, req, NULL);
        g_source_attach(req->deadline, a->context);
}

/* Counts a check sent to polkitd (delta 1) or answered (-1), in all and for its uid. */
static void count_in_flight(Authz *a, uid_t uid, int delta) {
        unsigned n = GPOINTER_TO_UINT(g_hash_table_lookup(a->in_flight_by_uid, GUINT_TO_POINTER(uid))) + delta;
        a->in_flight += delta;
        if (n == 0)
                g_hash_table_remove(a->in_flight_by_uid, GUINT_TO_POINTER(uid));
        else
                g_hash_table_insert(a->in_flight_by_uid, GUINT_TO_POINTER(uid), GUINT_TO_POINTER(n));
}

static bool uid_may_start(unsigned uid, void *userdata) {
        Authz *a = userdata;
        return GPOINTER_TO_UINT(g_hash_table_lookup(a->in_flight_by_uid, GUINT_TO_POINTER(uid))) <
               MAX_CHECKS_IN_FLIGHT_PER_UID;
}

/* Sends the check to polkitd now, or queues it until a slot is free. */
static void send_or_queue(Request *req) {
        Authz *a = req->authz;
        if (a->in_flight >= MAX_CHECKS_IN_FLIGHT || !uid_may_start(req->uid, a)) {
                req->queued = true;
                fair_queue_push(a->waiting, req->uid, req);
        } else
                dispatch(req);
}

static Request *pop_waiting(Authz *a) {
        Request *req = fair_queue_pop(a->waiting, uid_may_start, a);
        if (req)
                req->queued = false;
        return req;
}

/* A check sent to polkitd (or to the bus, for its caller) came back: its slot goes to the
 * next waiting check. */
static void release_slot(Request *req) {
        Authz *a = req->authz;
        count_in_flight(a, req->uid, -1);
        g_clear_object(&req->cancel);
        Request *next;
        while (a->in_flight < MAX_CHECKS_IN_FLIGHT && (next = pop_waiting(a)))
                dispatch(next);
}

static void on_checked(GObject *source, GAsyncResult *res, gpointer userdata) {
        Request *req = userdata;
        Authz *a = req->authz;
        g_autoptr(GError) err = NULL;
        g_autoptr(PolkitAuthorizationResult) result =
                polkit_authority_check_authorization_finish(POLKIT_AUTHORITY(source), res, &err);

        release_slot(req);

        if (!result) {
                if (req->timed_out) {
                        finish_unanswered(req, "polkit did not answer within %u s (it is overloaded or stuck)",
                                          (deadline_ms(req) + 999) / 1000);
                        return;
                }
                /* Only the bus may say polkit is gone: ServiceUnknown or NameHasNoOwner also
                 * come from polkitd itself, about a caller it could not look up. */
                g_autofree char *why = NULL;
                if (g_error_matches(err, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
                    g_error_matches(err, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER)) {
                        int present = polkit_presence(a, &why);
                        if (present == 0) {
                                finish_without_polkit(req);
                                return;
                        }
                        /* polkitd runs and could not look the caller up: it left the bus (a
                         * storm of such callers must not cost polkitd a second check each). */
                        if (present > 0) {
                                finish_unanswered(req, "polkit could not look up the caller: %s", err->message);
                                return;
                        }
                }
                if (!req->retried) {
                        req->retried = true;
                        send_or_queue(req);
                        return;
                }
                finish_unanswered(req, "polkit's check failed twice: %s", err ? err->message : "unknown error");
                return;
        }
        if (polkit_authorization_result_get_is_authorized(result))
                finish(req, AUTHZ_YES);
        else if (polkit_authorization_result_get_is_challenge(result))
                finish(req, AUTHZ_CHALLENGE);
        else
                finish(req, AUTHZ_NO);
}

static gboolean start_check(gpointer userdata) {
        Request *req = userdata;
        Authz *a = req->authz;

        if (req->uid == (uid_t) -1)
                req->uid = lookup_uid(a, req->sender);
        arm_deadline(req);

        /* The proxy's idea of the owner may be stale (it follows NameOwnerChanged), and the
         * proxy may be missing when making it failed: the bus decides. */
        g_autofree char *owner = a->authority ? polkit_authority_get_owner(a->authority) : NULL;
        if (!owner) {
                g_autofree char *why = NULL;
                int present = polkit_presence(a, &why);
                if (present == 0) {
                        finish_without_polkit(req);
                        return G_SOURCE_REMOVE;
                }
                if (present < 0) {
                        finish_unanswered(req, "cannot ask the bus whether polkit runs: %s", why);
                        return G_SOURCE_REMOVE;
                }
                if (connect_authority(a, &why) < 0) {
                        finish_unanswered(req, "polkit runs, but winvmd cannot reach it: %s", why);
                        return G_SOURCE_REMOVE;
                }
        }
        send_or_queue(req);
        return G_SOURCE_REMOVE;
}

static void send_check(Request *req, PolkitSubject *subject) {
        polkit_authority_check_authorization(
                req->authz->authority, subject, req->action, req->details,
                req->interactive ? POLKIT_CHECK_AUTHORIZATION_FLAGS_ALLOW_USER_INTERACTION
                                 : POLKIT_CHECK_AUTHORIZATION_FLAGS_NONE,
                req->cancel, on_checked, req);
}

/* The caller as polkit's unix-process subject: its pid and uid as the bus daemon knows them
 * (GetConnectionCredentials, one round trip), the start time from /proc. That is what polkitd
 * makes of a system-bus-name subject itself, but it asks the bus for them with ten calls
 * one after the other (GetConnectionUnixUser and GetConnectionUnixProcessID, five times
 * each, in polkit 122), each waiting behind whatever floods the bus daemon; with the
 * process it asks only about its caller, winvmd. The start time names the process, so a pid
 * used again is not taken for the caller's. winvmd's unit hides other users' processes
 * (ProtectProc=invisible): there the start time is left 0, and polkitd looks it up. */
static void on_credentials(GObject *source, GAsyncResult *res, gpointer userdata) {
        Request *req = userdata;
        g_autoptr(GError) err = NULL;
        g_autoptr(GVariant) reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res, &err);
        guint32 pid = 0, uid = (guint32) -1;
        if (reply) {
                g_autoptr(GVariant) creds = g_variant_get_child_value(reply, 0);
                (void) g_variant_lookup(creds, "ProcessID", "u", &pid);
                (void) g_variant_lookup(creds, "UnixUserID", "u", &uid);
        }
        if (pid == 0 || uid == (guint32) -1) {
                release_slot(req);
                if (req->timed_out)
                        finish_unanswered(req, "the bus did not say who the caller is within %u s",
                                          (deadline_ms(req) + 999) / 1000);
                else
                        /* Most often the caller left the bus: its call needs no answer. */
                        finish_unanswered(req, "the bus could not say who the caller is: %s",
                                          err ? err->message : "no process or uid in its answer");
                return;
        }
        g_autoptr(PolkitSubject) subject = polkit_unix_process_new_for_owner((gint) pid, 0, (gint) uid);
        send_check(req, subject);
}

static void dispatch(Request *req) {
        Authz *a = req->authz;
        count_in_flight(a, req->uid, 1);
        req->cancel = g_cancellable_new();
        if (!a->system_bus) {
                g_autoptr(PolkitSubject) subject = polkit_system_bus_name_new(req->sender);
                send_check(req, subject);
                return;
        }
        g_dbus_connection_call(a->system_bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                               "GetConnectionCredentials", g_variant_new("(s)", req->sender), G_VARIANT_TYPE("(a{sv})"),
                               G_DBUS_CALL_FLAGS_NONE, -1, req->cancel, on_credentials, req);
}

static void on_authority_changed(PolkitAuthority *authority, gpointer userdata) {
        Authz *a = userdata;
        (void) authority;
        (void) mailbox_post(a->mailbox, a->on_changed, a->changed_userdata);
}

static void on_owner_changed(GObject *authority, GParamSpec *pspec, gpointer userdata) {
        (void) pspec;
        on_authority_changed(POLKIT_AUTHORITY(authority), userdata);
}

static void *authz_main(void *arg) {
        Authz *a = arg;
        g_main_context_push_thread_default(a->context);

        a->system_bus = g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, NULL);
        g_autofree char *why = NULL;
        (void) connect_authority(a, &why); /* tried again at the next check when it failed */

        /* Checks submitted meanwhile wait in the context as idle sources: they start now. */
        g_main_loop_run(a->loop);

        /* Checks still waiting for a slot are answered, so their callers' memory is released. */
        Request *req;
        while ((req = fair_queue_pop(a->waiting, NULL, NULL)))
                finish_unanswered(req, "winvmd is stopping");

        if (a->authority)
                g_signal_handlers_disconnect_by_data(a->authority, a);
        g_clear_object(&a->authority);
        g_clear_object(&a->system_bus);
        /* Let pending GDBus callbacks that reference the context drain. */
        while (g_main_context_iteration(a->context, false))
                ;
        g_main_context_pop_thread_default(a->context);
        return NULL;
}

int authz_new(Mailbox *mb, mailbox_fn on_changed, void *changed_userdata, Authz **ret) {
        Authz *a = g_new0(Authz, 1);
        a->mailbox = mb;
        a->on_changed = on_changed;
        a->changed_userdata = changed_userdata;
        a->timeout_ms = AUTHZ_TIMEOUT_SEC * 1000;
        a->interactive_timeout_ms = AUTHZ_INTERACTIVE_TIMEOUT_SEC * 1000;
        /* Tests only: a shorter (or longer) deadline for non-interactive checks. */
        const char *t = getenv("WINVMD_TEST_POLKIT_TIMEOUT_MS");
        if (t && atoi(t) > 0)
                a->timeout_ms = (guint) atoi(t);
        a->context = g_main_context_new();
        a->in_flight_by_uid = g_hash_table_new(g_direct_hash, g_direct_equal);
        a->waiting = fair_queue_new();
        a->loop = g_main_loop_new(a->context, false);

        int r = pthread_create(&a->thread, NULL, authz_main, a);
        if (r != 0) {
                g_main_loop_unref(a->loop);
                g_main_context_unref(a->context);
                fair_queue_free(a->waiting, NULL);
                g_hash_table_unref(a->in_flight_by_uid);
                g_free(a);
                return -r;
        }
        (void) pthread_setname_np(a->thread, "polkit");
        /* Not waiting for the thread to reach polkit: winvmd takes its bus name meanwhile (a
         * cold start's first call needs both), and a check submitted before the authority
         * proxy exists runs on the thread's loop after it (authz_check). */
        *ret = a;
        return 0;
}

static gboolean quit_loop(gpointer userdata) {
        g_main_loop_quit(userdata);
        return G_SOURCE_REMOVE;
}

Authz *authz_free(Authz *a) {
        if (!a)
                return NULL;
        g_main_context_invoke(a->context, quit_loop, a->loop);
        pthread_join(a->thread, NULL);
        g_main_loop_unref(a->loop);
        g_main_context_unref(a->context);
        fair_queue_free(a->waiting, NULL); /* emptied by the thread */
        g_hash_table_unref(a->in_flight_by_uid);
        g_free(a);
        return NULL;
}

int authz_check(Authz *a, const char *sender, uid_t uid, const char *action, const char *const *details,
                bool interactive, authz_done_fn done, void *userdata) {
        if (!sender || !action)
                return -EINVAL;
        Request *req = g_new0(Request, 1);
        req->authz = a;
        req->sender = g_strdup(sender);
        req->uid = uid;
        req->action = g_strdup(action);
        req->details = polkit_details_new();
        for (const char *const *d = details; d && d[0] && d[1]; d += 2)
                polkit_details_insert(req->details, d[0], d[1]);
        req->interactive = interactive;
        req->done = done;
        req->userdata = userdata;
        g_main_context_invoke(a->context, start_check, req);
        return 0;
}

typedef struct Forget {
        Authz *authz;
        char *sender;
} Forget;

static bool has_sender(void *item, void *userdata) {
        return strcmp(((Request *) item)->sender, userdata) == 0;
}

static void finish_left(void *item) {
        finish_unanswered(item, "the caller left the bus");
}

/* A caller that left needs no answer: its checks still waiting for a slot are dropped, so
 * a storm of vanishing clients does not keep everyone else waiting behind it. */
static gboolean forget_sender(gpointer userdata) {
        Forget *f = userdata;
        fair_queue_remove_if(f->authz->waiting, has_sender, finish_left, f->sender);
        g_free(f->sender);
        g_free(f);
        return G_SOURCE_REMOVE;
}

void authz_forget_sender(Authz *a, const char *sender) {
        Forget *f = g_new0(Forget, 1);
        f->authz = a;
        f->sender = g_strdup(sender);
        g_main_context_invoke(a->context, forget_sender, f);
}
