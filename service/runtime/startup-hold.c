#include "startup-hold.h"

#include <errno.h>
#include <stdlib.h>

#include "log.h"

/* Enough for every desktop client at once; beyond it a read is answered as things are. */
#define MAX_HELD 256

struct StartupHold {
        sd_event_source *deadline;
        sd_bus_message *held[MAX_HELD];
        size_t n_held;
        bool active;
};

static int on_deadline(sd_event_source *s, uint64_t usec, void *userdata) {
        StartupHold *h = userdata;
        (void) s;
        (void) usec;
        if (h->n_held > 0)
                log_notice("VM states still unknown at start-up; answering %zu waiting read%s", h->n_held,
                           h->n_held == 1 ? "" : "s");
        startup_hold_release(h);
        return 0;
}

int startup_hold_new(sd_event *event, uint64_t max_usec, StartupHold **ret) {
        StartupHold *h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        h->active = true;
        int r = sd_event_add_time_relative(event, &h->deadline, CLOCK_MONOTONIC, max_usec, 0, on_deadline, h);
        if (r < 0) {
                startup_hold_free(h);
                return r;
        }
        *ret = h;
        return 0;
}

StartupHold *startup_hold_free(StartupHold *h) {
        if (!h)
                return NULL;
        for (size_t i = 0; i < h->n_held; i++)
                sd_bus_message_unref(h->held[i]);
        sd_event_source_disable_unref(h->deadline);
        free(h);
        return NULL;
}

int startup_hold_take(StartupHold *h, sd_bus_message *m) {
        if (!h || !h->active || h->n_held >= MAX_HELD)
                return 0;
        h->held[h->n_held++] = sd_bus_message_ref(m);
        return 1;
}

void startup_hold_release(StartupHold *h) {
        if (!h || !h->active)
                return;
        h->active = false;
        h->deadline = sd_event_source_disable_unref(h->deadline);
        for (size_t i = 0; i < h->n_held; i++) {
                /* Back into the bus's read queue: dispatched as if it had just arrived. */
                int r = sd_bus_enqueue_for_read(sd_bus_message_get_bus(h->held[i]), h->held[i]);
                if (r < 0)
                        (void) sd_bus_reply_method_errno(h->held[i], r, NULL);
                sd_bus_message_unref(h->held[i]);
        }
        h->n_held = 0;
}

bool startup_hold_active(const StartupHold *h) {
        return h && h->active;
}
