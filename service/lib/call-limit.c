#include "call-limit.h"

#include <errno.h>
#include <glib.h>
#include <stdlib.h>

struct CallLimit {
        unsigned per_uid, total_cap;
        unsigned total;
        GHashTable *by_uid; /* uid -> calls queued */
};

CallLimit *call_limit_new(unsigned per_uid, unsigned total) {
        CallLimit *l = calloc(1, sizeof(*l));
        if (!l)
                return NULL;
        l->per_uid = per_uid;
        l->total_cap = total;
        l->by_uid = g_hash_table_new(g_direct_hash, g_direct_equal);
        return l;
}

CallLimit *call_limit_free(CallLimit *l) {
        if (l) {
                g_hash_table_unref(l->by_uid);
                free(l);
        }
        return NULL;
}

unsigned call_limit_of_uid(const CallLimit *l, uid_t uid) {
        return GPOINTER_TO_UINT(g_hash_table_lookup(l->by_uid, GUINT_TO_POINTER(uid)));
}

unsigned call_limit_total(const CallLimit *l) {
        return l->total;
}

unsigned call_limit_per_uid_cap(const CallLimit *l) {
        return l->per_uid;
}

unsigned call_limit_total_cap(const CallLimit *l) {
        return l->total_cap;
}

int call_limit_take(CallLimit *l, uid_t uid, bool in_total, bool *ret_user) {
        unsigned n = call_limit_of_uid(l, uid);
        if (n >= l->per_uid) {
                *ret_user = true;
                return -EBUSY;
        }
        if (in_total && l->total >= l->total_cap) {
                *ret_user = false;
                return -EBUSY;
        }
        g_hash_table_insert(l->by_uid, GUINT_TO_POINTER(uid), GUINT_TO_POINTER(n + 1));
        if (in_total)
                l->total++;
        return 0;
}

void call_limit_release(CallLimit *l, uid_t uid, bool in_total) {
        unsigned n = call_limit_of_uid(l, uid);
        if (n <= 1)
                g_hash_table_remove(l->by_uid, GUINT_TO_POINTER(uid));
        else
                g_hash_table_insert(l->by_uid, GUINT_TO_POINTER(uid), GUINT_TO_POINTER(n - 1));
        if (in_total && l->total > 0)
                l->total--;
}
