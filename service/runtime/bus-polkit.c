#include "bus-polkit.h"

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "errors.h"
#include "log.h"
#include "startup-phases.h"
#include "util.h"

/* Checks of one call: GetManagedObjects has one per VM and two more. */
#define MAX_ACTIONS_PER_CALL 16
#define MAX_CACHED_VERDICTS 4096
/* An action and the details (a VM name, a verb) fit. */
#define CACHE_KEY_MAX 512
/* How long a read's yes is reused for the same user's other connections, unless polkit
 * reports a change first (for the connection that was asked: as long as it lasts). */
#define CACHED_VERDICT_USEC (10 * 1000 * 1000ULL)
/* Calls of one connection waiting for polkit at once: a flooding client gets LimitsExceeded
 * instead of making winvmd queue work for it without end. */
#define MAX_PENDING_PER_SENDER 32
/* ... and of all connections together: a backstop for memory, set above what one user can
 * hold (dbus-daemon allows 256 connections per user, so 8192 calls), so that one user's
 * storm does not shut out everyone else. */
#define MAX_PENDING_TOTAL 16384
/* ... and of one user's connections together: one user cannot hold more by opening more
 * connections. A connection's calls wait for its uid (asked of the bus, asynchronously) before
 * they count; at most MAX_PARKED_PER_SENDER of them. */
#define MAX_PENDING_PER_UID 128
#define MAX_PARKED_PER_SENDER MAX_PENDING_PER_SENDER

#ifndef WINVM_POLKIT_GROUP
#define WINVM_POLKIT_GROUP "winvm"
#endif

typedef enum { VERDICT_PENDING, VERDICT_DONE } QueryState;

typedef struct Query Query;

typedef struct ActionQuery {
        Query *query;
        char *action;
        char *key;      /* the action and its details: one call may check an action twice */
        QueryState state;
        AuthzVerdict verdict;
        char *why;      /* AUTHZ_UNANSWERED: what happened */
} ActionQuery;

struct Query {
        BusPolkit *bp;
        sd_bus_message *message;
        ActionQuery actions[MAX_ACTIONS_PER_CALL];
        unsigned n_actions;
        unsigned outstanding;
        uid_t uid;
        char *sender;
        uid_t counted_uid;      /* the uid its sender counts under in per_uid, (uid_t) -1: none */
        bool redispatched; /* every verdict is in and the message went back to its handler */
        bool orphaned; /* the registry forgot it while polkit was still answering */
};

struct BusPolkit {
        sd_bus *bus;
        Authz *authz;
        GHashTable *queries;  /* sd_bus_message* -> Query* */
        GHashTable *cache;    /* cache_key() -> its expiry (CLOCK_MONOTONIC usec; UINT64_MAX: the connection's life) */
        GHashTable *per_sender; /* sender -> calls of it in the registry */
        GHashTable *sender_uids; /* sender -> its uid + 1, once a check learnt it */
        GHashTable *per_uid;    /* uid -> queries of its senders in the registry */
        GHashTable *lookups;    /* sender -> UidLookup*: calls waiting for the sender's uid */
        sd_bus_slot *name_owner_slot;
        unsigned pending;
        unsigned n_parked;      /* calls in lookups */
};

typedef struct UidLookup {
        BusPolkit *bp;
        char *sender;
        sd_bus_slot *slot;
        GPtrArray *parked;      /* sd_bus_message*, referenced */
} UidLookup;

static void unref_message(gpointer m) {
        sd_bus_message_unref(m);
}

static void lookup_free(gpointer p) {
        UidLookup *l = p;
        l->bp->n_parked -= l->parked->len;
        sd_bus_slot_unref(l->slot);
        g_ptr_array_unref(l->parked);
        g_free(l->sender);
        g_free(l);
}

static unsigned count_of(GHashTable *t, gconstpointer key) {
        return GPOINTER_TO_UINT(g_hash_table_lookup(t, key));
}

static void query_release(Query *q) {
        for (unsigned i = 0; i < q->n_actions; i++) {
                free(q->actions[i].action);
                free(q->actions[i].key);
                free(q->actions[i].why);
        }
        free(q->sender);
        sd_bus_message_unref(q->message);
        free(q);
}

/* Removes q from the registry; frees it now or when its last polkit answer arrives. */
static void query_forget(BusPolkit *bp, Query *q) {
        g_hash_table_remove(bp->queries, q->message);
        unsigned n = GPOINTER_TO_UINT(g_hash_table_lookup(bp->per_sender, q->sender));
        if (n <= 1)
                g_hash_table_remove(bp->per_sender, q->sender);
        else
                g_hash_table_insert(bp->per_sender, g_strdup(q->sender), GUINT_TO_POINTER(n - 1));
        if (q->counted_uid != (uid_t) -1) {
                gpointer key = GUINT_TO_POINTER(q->counted_uid);
                unsigned u = count_of(bp->per_uid, key);
                if (u <= 1)
                        g_hash_table_remove(bp->per_uid, key);
                else
                        g_hash_table_insert(bp->per_uid, key, GUINT_TO_POINTER(u - 1));
                q->counted_uid = (uid_t) -1;
        }
        if (q->outstanding > 0)
                q->orphaned = true;
        else
                query_release(q);
}

/* Forgets a caller's queries whose message went back to a handler that did not ask again
 * (it answered UnknownObject, or found nothing left to do). Re-queued messages are handled
 * before newer ones, so by the time this sender's next call arrives, or it leaves the bus,
 * they are stale. (Forgetting one too early only costs a second polkit round trip.) */
static void sweep(BusPolkit *bp, const char *sender) {
        GHashTableIter it;
        gpointer value;
        GPtrArray *stale = NULL;
        g_hash_table_iter_init(&it, bp->queries);
        while (g_hash_table_iter_next(&it, NULL, &value)) {
                Query *q = value;
                if (q->redispatched && q->outstanding == 0 && strcmp(q->sender, sender) == 0) {
                        if (!stale)
                                stale = g_ptr_array_new();
                        g_ptr_array_add(stale, q);
                }
        }
        for (guint i = 0; stale && i < stale->len; i++)
                query_forget(bp, stale->pdata[i]);
        if (stale)
                g_ptr_array_free(stale, true);
}

static bool key_append(char **p, const char *end, const char *s) {
        size_t n = strlen(s);
        if (n >= (size_t) (end - *p))
                return false;
        memcpy(*p, s, n + 1);
        *p += n;
        return true;
}

/* "action\x1fkey=value..." in buf; false when it does not fit (the verdict is then not
 * cached). Built by hand: every cached read builds one, and printf cost a read about a fifth
 * of winvmd's time for it. */
static bool action_key(char *buf, size_t size, const char *action, const char *const *details) {
        char *p = buf;
        const char *end = buf + size;
        if (!key_append(&p, end, action))
                return false;
        for (const char *const *d = details; d && d[0] && d[1]; d += 2)
                if (!key_append(&p, end, "\x1f") || !key_append(&p, end, d[0]) || !key_append(&p, end, "=") ||
                    !key_append(&p, end, d[1]))
                        return false;
        return true;
}

/* "kind\x1fwho\x1faction_key" in buf: kind "c" for a caller connection (who its unique name),
 * "u" for a user (who the uid). */
static bool cache_key(char *buf, size_t size, const char *kind, const char *who, const char *akey) {
        char *p = buf;
        const char *end = buf + size;
        return key_append(&p, end, kind) && key_append(&p, end, "\x1f") && key_append(&p, end, who) &&
               key_append(&p, end, "\x1f") && key_append(&p, end, akey);
}

static const char *uid_digits(char buf[16], uid_t uid) {
        size_t n = 15;
        buf[n] = 0;
        do
                buf[--n] = (char) ('0' + uid % 10);
        while ((uid /= 10) > 0 && n > 0);
        return buf + n;
}

/* A yes for this key that has not expired. */
static bool cache_has(BusPolkit *bp, const char *key) {
        const uint64_t *expiry = g_hash_table_lookup(bp->cache, key);
        if (!expiry)
                return false;
        if (*expiry > monotonic_usec())
                return true;
        g_hash_table_remove(bp->cache, key);
        return false;
}

static void cache_add(BusPolkit *bp, const char *key, uint64_t expiry) {
        if (g_hash_table_size(bp->cache) >= MAX_CACHED_VERDICTS)
                g_hash_table_remove_all(bp->cache);
        uint64_t *v = g_new(uint64_t, 1);
        *v = expiry;
        g_hash_table_replace(bp->cache, g_strdup(key), v);
}

static const char *detail(const char *const *details, const char *key) {
        for (const char *const *d = details; d && d[0] && d[1]; d += 2)
                if (strcmp(d[0], key) == 0)
                        return d[1];
        return NULL;
}

static int on_name_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        BusPolkit *bp = userdata;
        const char *name, *old_owner, *new_owner;
        (void) error;

        if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0)
                return 0;
        if (name[0] != ':' || new_owner[0] != '\0')
                return 0;

        authz_forget_sender(bp->authz, name);
        sweep(bp, name);
        g_hash_table_remove(bp->sender_uids, name);
        g_hash_table_remove(bp->lookups, name); /* its parked calls need no answer */

        /* The caller's connection is gone: its cached verdicts must not outlive it, since
         * unique names are never reused but a leak would grow the table. */
        g_autofree char *prefix = g_strdup_printf("c\x1f%s\x1f", name);
        GHashTableIter it;
        gpointer key;
        g_hash_table_iter_init(&it, bp->cache);
        while (g_hash_table_iter_next(&it, &key, NULL))
                if (g_str_has_prefix(key, prefix))
                        g_hash_table_iter_remove(&it);
        return 0;
}

int bus_polkit_new(sd_bus *bus, Authz *authz, BusPolkit **ret) {
        BusPolkit *bp = calloc(1, sizeof(*bp));
        if (!bp)
                return -ENOMEM;
        bp->bus = sd_bus_ref(bus);
        bp->authz = authz;
        bp->queries = g_hash_table_new(g_direct_hash, g_direct_equal);
        bp->cache = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        bp->per_sender = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        bp->sender_uids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        bp->per_uid = g_hash_table_new(g_direct_hash, g_direct_equal);
        bp->lookups = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, lookup_free);
        int r = sd_bus_match_signal_async(bus, &bp->name_owner_slot, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                          "org.freedesktop.DBus", "NameOwnerChanged", on_name_owner_changed, NULL, bp);
        if (r < 0) {
                bus_polkit_free(bp);
                return r;
        }
        *ret = bp;
        return 0;
}

BusPolkit *bus_polkit_free(BusPolkit *bp) {
        if (!bp)
                return NULL;
        GHashTableIter it;
        gpointer value;
        g_hash_table_iter_init(&it, bp->queries);
        while (g_hash_table_iter_next(&it, NULL, &value)) {
                Query *q = value;
                g_hash_table_iter_steal(&it);
                if (q->outstanding > 0)
                        q->orphaned = true; /* freed if polkit still answers before exit */
                else
                        query_release(q);
        }
        g_hash_table_unref(bp->queries);
        g_hash_table_unref(bp->cache);
        g_hash_table_unref(bp->per_sender);
        g_hash_table_unref(bp->sender_uids);
        g_hash_table_unref(bp->lookups);
        g_hash_table_unref(bp->per_uid);
        sd_bus_slot_unref(bp->name_owner_slot);
        sd_bus_unref(bp->bus);
        free(bp);
        return NULL;
}

void bus_polkit_flush(BusPolkit *bp) {
        g_hash_table_remove_all(bp->cache);
}

uid_t bus_polkit_sender_uid(BusPolkit *bp, const char *sender) {
        gpointer v = sender ? g_hash_table_lookup(bp->sender_uids, sender) : NULL;
        return v ? (uid_t) (GPOINTER_TO_UINT(v) - 1) : (uid_t) -1;
}

static void remember_uid(BusPolkit *bp, const Query *q) {
        if (q->uid != (uid_t) -1 && q->sender[0])
                g_hash_table_insert(bp->sender_uids, g_strdup(q->sender), GUINT_TO_POINTER((guint) q->uid + 1));
}

unsigned bus_polkit_pending(BusPolkit *bp) {
        return bp->pending + g_hash_table_size(bp->lookups);
}

static void on_verdict(void *userdata, AuthzVerdict verdict, uid_t uid, const char *why) {
        ActionQuery *aq = userdata;
        Query *q = aq->query;

        startup_phase_mark(STARTUP_FIRST_VERDICT);
        q->uid = uid;
        aq->state = VERDICT_DONE;
        aq->verdict = verdict;
        aq->why = why ? strdup(why) : NULL;
        q->outstanding--;
        if (q->orphaned) {
                if (q->outstanding == 0)
                        query_release(q);
                return;
        }
        q->bp->pending--;
        if (q->outstanding == 0)
                q->redispatched = true;
        /* Run the handler again; it will find this verdict. */
        /* Back on the connection it came by: winvmd has one for everyone and one for members. */
        int r = sd_bus_enqueue_for_read(sd_bus_message_get_bus(q->message), q->message);
        if (r < 0) {
                (void) sd_bus_reply_method_errnof(q->message, r, "Could not resume the call after authorization: %m");
                query_forget(q->bp, q);
        }
}

static int refuse(sd_bus_error *error, const char *action, const char *const *details, AuthzVerdict verdict,
                  const char *unanswered_why) {
        const char *vm = detail(details, "vm"), *fs = detail(details, "filesystem");
        const char *why;
        switch (verdict) {
        case AUTHZ_CHALLENGE:
                why = "requires authentication";
                break;
        case AUTHZ_NO_POLKIT:
                why = "is only allowed to root while polkit is not running";
                break;
        case AUTHZ_UNANSWERED:
                return sd_bus_error_setf(error, WINVM_ERROR_BUSY, "Could not check %s: %s; try again", action,
                                         unanswered_why ? unanswered_why : "polkit did not answer");
        default:
                why = "is not allowed for this user";
                break;
        }
        return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                 "Access denied: %s%s%s %s (members of the group '%s' may use it)", action,
                                 vm ? " on VM " : fs ? " on filesystem " : "", vm ? vm : fs ? fs : "", why,
                                 WINVM_POLKIT_GROUP);
}

void bus_polkit_log_refusal(const char *action, const char *const *details, uid_t uid, const sd_bus_error *error) {
        char field[160];
        const char *extra[] = { log_field(field, sizeof(field), "WINVM_POLKIT_ACTION=%s", action), NULL };
        log_event(LOG_NOTICE, NULL, detail(details, "vm"), NULL, NULL, uid == (uid_t) -1 ? LOG_NO_UID : uid, extra,
                  "Refused %s to uid %d: %s", action, uid == (uid_t) -1 ? -1 : (int) uid, error->message);
}

static int on_uid(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        UidLookup *l = userdata;
        BusPolkit *bp = l->bp;
        uint32_t uid;
        (void) ret_error;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        if (!e && sd_bus_message_read(reply, "u", &uid) >= 0)
                g_hash_table_insert(bp->sender_uids, g_strdup(l->sender), GUINT_TO_POINTER((guint) uid + 1));
        for (guint i = 0; i < l->parked->len; i++) {
                sd_bus_message *m = l->parked->pdata[i];
                if (e)
                        /* The caller left (its calls need no answer), or the bus is in trouble. */
                        (void) sd_bus_reply_method_errorf(m, WINVM_ERROR_BUSY, "Could not learn the caller's uid: %s; try again",
                                                          e->message ? e->message : e->name);
                else if (sd_bus_enqueue_for_read(sd_bus_message_get_bus(m), m) < 0)
                        (void) sd_bus_reply_method_errorf(m, WINVM_ERROR_BUSY, "Could not resume the call; try again");
        }
        g_hash_table_remove(bp->lookups, l->sender); /* frees l */
        return 0;
}

/* Holds m until the bus has said its sender's uid: 0 (held), or an error past the limit. */
static int park_for_uid(BusPolkit *bp, sd_bus_message *m, const char *sender, sd_bus_error *error) {
        UidLookup *l = g_hash_table_lookup(bp->lookups, sender);
        if (!l) {
                l = g_new0(UidLookup, 1);
                l->bp = bp;
                l->sender = g_strdup(sender);
                l->parked = g_ptr_array_new_with_free_func(unref_message);
                /* Asked on the connection the call came by, so the answer does not queue
                 * behind a flood on the other one. */
                int r = sd_bus_call_method_async(sd_bus_message_get_bus(m), &l->slot, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                                 "org.freedesktop.DBus", "GetConnectionUnixUser", on_uid, l, "s", sender);
                if (r < 0) {
                        lookup_free(l);
                        return r;
                }
                g_hash_table_insert(bp->lookups, l->sender, l);
        }
        if (l->parked->len >= MAX_PARKED_PER_SENDER)
                return sd_bus_error_setf(error, SD_BUS_ERROR_LIMITS_EXCEEDED,
                                         "Too many calls of this connection are waiting for authorization; wait for their replies");
        g_ptr_array_add(l->parked, sd_bus_message_ref(m));
        bp->n_parked++;
        return 0;
}

static int verify_checks(BusPolkit *bp, sd_bus_message *m, const BusPolkitCheck *checks, size_t n_checks,
                         bool cacheable, bool log_refusal, uid_t *ret_uid, sd_bus_error *error) {
        Query *q = g_hash_table_lookup(bp->queries, m);

        for (size_t k = 0; k < n_checks; k++) {
                const char *const *a = &checks[k].action, *const *details = checks[k].details;
                char akey[CACHE_KEY_MAX], ckey[CACHE_KEY_MAX + 300], ukey[CACHE_KEY_MAX + 32], digits[16];
                const char *sender = sd_bus_message_get_sender(m) ?: "";
                bool fits = action_key(akey, sizeof(akey), *a, details);
                bool by_connection = cacheable && fits && cache_key(ckey, sizeof(ckey), "c", sender, akey);
                if (by_connection && cache_has(bp, ckey))
                        continue; /* the usual case of a connection's repeated reads: one key built */
                uid_t known = bus_polkit_sender_uid(bp, sender);
                bool by_user = cacheable && fits && known != (uid_t) -1 &&
                               cache_key(ukey, sizeof(ukey), "u", uid_digits(digits, known), akey);
                if (by_user && cache_has(bp, ukey)) {
                        /* The connection keeps it for its life, as if polkit had been asked for it. */
                        if (by_connection)
                                cache_add(bp, ckey, UINT64_MAX);
                        continue;
                }

                const char *match = fits ? akey : *a;
                ActionQuery *aq = NULL;
                for (unsigned i = 0; q && i < q->n_actions; i++)
                        if (strcmp(q->actions[i].key, match) == 0)
                                aq = &q->actions[i];

                if (!aq) {
                        if (!q) {
                                sweep(bp, sender);
                                if (g_hash_table_size(bp->queries) >= MAX_PENDING_TOTAL)
                                        return sd_bus_error_setf(error, SD_BUS_ERROR_LIMITS_EXCEEDED,
                                                                 "Too many calls are waiting for authorization; try again");
                                unsigned n = GPOINTER_TO_UINT(g_hash_table_lookup(bp->per_sender, sender));
                                if (n >= MAX_PENDING_PER_SENDER)
                                        return sd_bus_error_setf(error, SD_BUS_ERROR_LIMITS_EXCEEDED,
                                                                 "Too many calls of this connection are waiting for authorization (at most %d); wait for their replies",
                                                                 MAX_PENDING_PER_SENDER);
                                uid_t uid = known; /* learnt above; sweep() does not forget uids */
                                if (uid == (uid_t) -1 && sender[0])
                                        return park_for_uid(bp, m, sender, error);
                                if (uid != (uid_t) -1 && count_of(bp->per_uid, GUINT_TO_POINTER(uid)) >= MAX_PENDING_PER_UID)
                                        return sd_bus_error_setf(error, SD_BUS_ERROR_LIMITS_EXCEEDED,
                                                                 "Too many calls of this user are waiting for authorization (at most %d); wait for their replies",
                                                                 MAX_PENDING_PER_UID);
                                q = calloc(1, sizeof(*q));
                                if (!q || !(q->sender = strdup(sender))) {
                                        free(q);
                                        return -ENOMEM;
                                }
                                q->bp = bp;
                                q->message = sd_bus_message_ref(m);
                                q->uid = (uid_t) -1;
                                q->counted_uid = uid;
                                g_hash_table_insert(bp->queries, m, q);
                                g_hash_table_insert(bp->per_sender, g_strdup(sender), GUINT_TO_POINTER(n + 1));
                                if (uid != (uid_t) -1)
                                        g_hash_table_insert(bp->per_uid, GUINT_TO_POINTER(uid),
                                                            GUINT_TO_POINTER(count_of(bp->per_uid, GUINT_TO_POINTER(uid)) + 1));
                        }
                        if (q->n_actions >= MAX_ACTIONS_PER_CALL)
                                return -E2BIG;
                        aq = &q->actions[q->n_actions++];
                        aq->query = q;
                        aq->action = strdup(*a);
                        aq->key = strdup(match);
                        aq->state = VERDICT_PENDING;

                        int r = authz_check(bp->authz, sd_bus_message_get_sender(m), q->counted_uid, *a, details,
                                            sd_bus_message_get_allow_interactive_authorization(m) > 0, on_verdict, aq);
                        if (r < 0) {
                                query_forget(bp, q);
                                return r;
                        }
                        q->outstanding++;
                        bp->pending++;
                        return 0;
                }
                if (aq->state == VERDICT_PENDING)
                        return 0;
                if (aq->verdict != AUTHZ_YES) {
                        AuthzVerdict v = aq->verdict;
                        g_autofree char *action = g_strdup(*a), *why = g_strdup(aq->why);
                        uid_t uid = q->uid;
                        if (ret_uid)
                                *ret_uid = uid;
                        query_forget(bp, q);
                        int r = refuse(error, action, details, v, why);
                        /* A refused change is worth a line in the journal; refused reads are
                         * not (a desktop applet of a user outside the group would fill it). */
                        if (log_refusal && !cacheable && v != AUTHZ_UNANSWERED)
                                bus_polkit_log_refusal(action, details, uid, error);
                        return r;
                }
                /* For the connection as long as it lasts; for its user's other connections,
                 * for a while. */
                if (by_connection)
                        cache_add(bp, ckey, UINT64_MAX);
                if (by_user)
                        cache_add(bp, ukey, monotonic_usec() + CACHED_VERDICT_USEC);
        }
        if (ret_uid)
                *ret_uid = q ? q->uid : (uid_t) -1;
        if (q) {
                remember_uid(bp, q);
                query_forget(bp, q);
        }
        return 1;
}

/* The details vm and verb, either may be NULL. */
static void vm_details(const char *details[5], const char *vm, const char *verb) {
        size_t n = 0;
        if (vm) {
                details[n++] = "vm";
                details[n++] = vm;
        }
        if (verb) {
                details[n++] = "verb";
                details[n++] = verb;
        }
        details[n] = NULL;
}

int bus_polkit_check(BusPolkit *bp, sd_bus_message *m, const BusPolkitRequest *req, sd_bus_error *error) {
        const char *const *actions = req->actions;
        if (req->owner) {
                const char *sender = sd_bus_message_get_sender(m) ?: "";
                uid_t uid = bus_polkit_sender_uid(bp, sender);
                if (uid == (uid_t) -1 && sender[0]) {
                        int r = park_for_uid(bp, m, sender, error);
                        return r < 0 ? r : 0;
                }
                if (uid != (uid_t) -1 && uid == *req->owner) {
                        actions = req->owner_actions;
                        if (!actions || !*actions) {
                                if (req->ret_uid)
                                        *req->ret_uid = uid;
                                return 1;
                        }
                }
        }
        if (req->checks)
                return req->n_checks > MAX_ACTIONS_PER_CALL ? -E2BIG :
                       verify_checks(bp, m, req->checks, req->n_checks, req->read, true, req->ret_uid, error);

        const char *vm_verb[5];
        const char *const *details = req->details;
        if (!details) {
                vm_details(vm_verb, req->vm, req->verb);
                details = vm_verb;
        }
        BusPolkitCheck checks[MAX_ACTIONS_PER_CALL];
        size_t n = 0;
        for (const char *const *a = actions; a && *a; a++) {
                if (n >= MAX_ACTIONS_PER_CALL)
                        return -E2BIG;
                checks[n++] = (BusPolkitCheck) { .action = *a, .details = details };
        }
        return verify_checks(bp, m, checks, n, req->read, true, req->ret_uid, error);
}
