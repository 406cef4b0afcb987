/* Once a burst of calls is over, winvmd hands the heap it freed back to the system: glibc
 * keeps freed memory otherwise, and a flood of calls (answered, refused, or held for polkit)
 * would leave winvmd several MiB bigger for good. The daemon's filter of incoming messages
 * (daemon.c, on both connections) counts each; after TRIM_AFTER_MESSAGES of them, the first second with no new message, no call
 * in flight and nothing waiting for polkit ends the burst with malloc_trim(). */
#pragma once

#include <stdbool.h>
#include <systemd/sd-event.h>

typedef struct HeapTrim HeapTrim;

/* busy(userdata): calls are still in flight or held; the trim waits for them. */
int heap_trim_new(sd_event *event, bool (*busy)(void *userdata), void *userdata, HeapTrim **ret);
HeapTrim *heap_trim_free(HeapTrim *t);

/* One incoming message; t may be NULL (before it is made). */
void heap_trim_note(HeapTrim *t);

/* Trims done so far. */
unsigned heap_trim_count(const HeapTrim *t);
