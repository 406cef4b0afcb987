/* Once a burst of calls is over, winvmd hands the heap it freed back to the system: glibc
 * keeps freed memory otherwise, and a flood of calls (answered, refused, or held for polkit)
 * would leave winvmd several MiB bigger for good. Incoming messages on either connection are
 * counted; after TRIM_AFTER_MESSAGES of them, the first second with no new message, no call
 * in flight and nothing waiting for polkit ends the burst with malloc_trim(). */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

typedef struct HeapTrim HeapTrim;

/* busy(userdata): calls are still in flight or held; the trim waits for them. */
int heap_trim_new(sd_event *event, bool (*busy)(void *userdata), void *userdata, HeapTrim **ret);
HeapTrim *heap_trim_free(HeapTrim *t);

/* Counts bus's incoming messages. */
int heap_trim_watch(HeapTrim *t, sd_bus *bus);

/* Trims done so far. */
unsigned heap_trim_count(const HeapTrim *t);
