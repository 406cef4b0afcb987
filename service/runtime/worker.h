/* A thread that runs blocking work (libvirt calls) one item at a time, off the event loop. */
#pragma once

#include "mailbox.h"

typedef struct Worker Worker;
typedef void (*worker_fn)(void *userdata);

int worker_new(Mailbox *mb, const char *name, Worker **ret);

/* Waits for queued work to finish, then stops the thread. */
Worker *worker_free(Worker *w);

/* work(userdata) runs on the worker thread; then done(userdata) runs on the event thread.
 * done may be NULL. */
int worker_submit(Worker *w, worker_fn work, mailbox_fn done, void *userdata);

/* The same, ahead of every task not submitted this way (in order among those that are): for
 * lifecycle calls and state refreshes, which must never wait behind another user's reads. */
int worker_submit_urgent(Worker *w, worker_fn work, mailbox_fn done, void *userdata);
