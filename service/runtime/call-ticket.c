/* Bus calls under the limits of call-limit.h, by the caller's uid as polkit learnt it. */
#include <errno.h>

#include "daemon.h"
#include "errors.h"

int daemon_call_enter(Daemon *d, sd_bus_message *m, bool in_total, CallTicket *t, sd_bus_error *error) {
        *t = (CallTicket) { .uid = bus_polkit_sender_uid(d->polkit, sd_bus_message_get_sender(m)) };
        CallLimit *l = in_total ? d->call_limit : d->lifecycle_limit;
        bool user = false;
        if (call_limit_take(l, t->uid, in_total, &user) < 0) {
                if (user)
                        return sd_bus_error_setf(error, WINVM_ERROR_BUSY,
                                                 "Too many of your calls are waiting (at most %u per user); try again when they are answered",
                                                 call_limit_per_uid_cap(l));
                return sd_bus_error_setf(error, WINVM_ERROR_BUSY,
                                         "Too many calls are waiting (at most %u of all users); try again shortly",
                                         call_limit_total_cap(d->call_limit));
        }
        t->held = true;
        t->in_total = in_total;
        return 0;
}

void daemon_call_leave(Daemon *d, CallTicket *t) {
        if (!t->held)
                return;
        call_limit_release(t->in_total ? d->call_limit : d->lifecycle_limit, t->uid, t->in_total);
        t->held = false;
}
