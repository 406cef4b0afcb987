/* Hands work from any thread to the sd-event thread: the only way results reach the bus. */
#pragma once

#include <systemd/sd-event.h>

typedef struct Mailbox Mailbox;
typedef void (*mailbox_fn)(void *userdata);

int mailbox_new(sd_event *event, Mailbox **ret);
Mailbox *mailbox_free(Mailbox *mb);

/* Runs every letter posted so far, on the calling (event) thread. */
void mailbox_dispatch_pending(Mailbox *mb);

/* Thread-safe. fn(userdata) runs later on the event thread, in posting order. */
int mailbox_post(Mailbox *mb, mailbox_fn fn, void *userdata);
