#include "heap-trim.h"

#include <errno.h>
#include <malloc.h>
#include <stdlib.h>

/* A burst worth trimming after: a desktop's calls in an hour, a flood's in a fraction of a second. */
#define TRIM_AFTER_MESSAGES 1000
#define QUIET_USEC (1000 * 1000ULL)

struct HeapTrim {
        sd_event_source *timer;
        bool (*busy)(void *userdata);
        void *userdata;
        unsigned messages;      /* since the last trim */
        bool moved;             /* a message since the timer was armed */
        unsigned trims;
};

static void arm(HeapTrim *t) {
        t->moved = false;
        (void) sd_event_source_set_time_relative(t->timer, QUIET_USEC);
        (void) sd_event_source_set_enabled(t->timer, SD_EVENT_ONESHOT);
}

static int on_quiet(sd_event_source *s, uint64_t usec, void *userdata) {
        (void) s;
        (void) usec;
        HeapTrim *t = userdata;
        if (t->moved || t->busy(t->userdata)) {
                arm(t);
                return 0;
        }
        t->messages = 0;
        t->trims++;
        (void) malloc_trim(0);
        return 0;
}

void heap_trim_note(HeapTrim *t) {
        if (!t)
                return;
        if (++t->messages == TRIM_AFTER_MESSAGES)
                arm(t);
        else
                t->moved = true;
}

int heap_trim_new(sd_event *event, bool (*busy)(void *userdata), void *userdata, HeapTrim **ret) {
        HeapTrim *t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        t->busy = busy;
        t->userdata = userdata;
        int r = sd_event_add_time_relative(event, &t->timer, CLOCK_MONOTONIC, QUIET_USEC, 0, on_quiet, t);
        if (r < 0) {
                free(t);
                return r;
        }
        (void) sd_event_source_set_enabled(t->timer, SD_EVENT_OFF);
        *ret = t;
        return 0;
}

HeapTrim *heap_trim_free(HeapTrim *t) {
        if (!t)
                return NULL;
        sd_event_source_disable_unref(t->timer);
        free(t);
        return NULL;
}

unsigned heap_trim_count(const HeapTrim *t) {
        return t ? t->trims : 0;
}
