/* One bus call whose work runs off the event loop, in machined's way: the operation holds the
 * message and answers it when the work is done. It owns everything the calls share: the held
 * message, the busy count, the caller's place under the call limits (call-limit.h), one
 * error slot the work fills, the error reply, the journal entry of a failed change, the
 * VM's state refresh and the free. A method supplies a work function (on a worker) and a
 * reply function (on the event thread, beside its handler), nothing else. winvmd's own work
 * without a caller (state refreshes, the libvirt connection, scrub polls) takes the same path
 * with no message. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

#include "lv.h"
#include "worker.h"

typedef struct Daemon Daemon;
typedef struct Vm Vm;
typedef struct Operation Operation;

/* On the worker. Reports failure with op_fail*() and may queue a further step with op_then(). */
typedef void (*op_work_fn)(Operation *op, void *data);
/* On the event thread, only when no error was set: appends the results to reply (which may
 * stay empty for a method without results). A negative return answers with that errno; an
 * op_fail() here (a check only the event thread can make) answers and journals that error.
 * For internal work (no message) it is the done callback instead: always called, failed or
 * not (op_failed() says), with reply NULL. */
typedef int (*op_reply_fn)(Operation *op, sd_bus_message *reply, void *data);

typedef struct OpOptions {
        const char *journal;    /* the WINVM_OPERATION a failure is journalled as; NULL: a read */
        uid_t uid;              /* with journal: the caller as polkit saw it (LOG_NO_UID: unknown) */
        bool refresh;           /* refresh the VM's state once answered (a change libvirt sees) */
        bool urgent;            /* ahead of queued reads (worker_submit_urgent) */
        bool lifecycle;         /* counted under the lifecycle cap only, not the total */
        bool libvirt;           /* needs libvirtd: Disconnected at once while it is unreachable
                                 * (journalled too, with journal) */
        bool uncounted;         /* not under the call limits: it continues a call already counted */
        bool idle;              /* does not count as activity for the idle exit (refreshes, polls) */
        const char *job;        /* with journal: the Job a failure is journalled against; must
                                 * outlive the answer */
        /* A read whose answer depends only on this key (the method and its arguments, never the
         * caller): a call with the same key that arrives while such a read is still queued,
         * its work not yet begun, is answered by that run instead of queuing its own. The
         * answer is as fresh as its own run would be, since the shared run begins after the
         * call arrived. The call still counts under the call limits. Only for calls (m) with no
         * journal, pause or refresh; the reply function must only read data. Copied. */
        const char *share;
        /* On the event thread once the work is done, succeeded or not: true when it started
         * something asynchronous first (polkit asking an administrator) and will call
         * op_continue() from its answer. */
        bool (*pause)(Operation *op, void *data);
        /* On the event thread once the work is done, succeeded or not, before the answer:
         * for state the work read whatever the outcome (a cache). */
        void (*settle)(Operation *op, void *data);
        void (*free_data)(void *data);
} OpOptions;

/* Queues work(op, data) on w for the call m (on vm, which may be NULL) and answers m from
 * reply(op, reply, data) when it is done. m may be NULL for winvmd's own work (a state
 * refresh, a connection, a progress poll): nothing is answered, no call limit applies, and
 * reply is called as the done callback. Takes data in every case (freed with
 * o->free_data). Returns 1 when queued; a negative errno with *error set when the caller is
 * over a call limit or the worker is gone, nothing queued. o may be NULL. */
int op_submit(Daemon *d, Worker *w, sd_bus_message *m, Vm *vm, op_work_fn work, op_reply_fn reply, void *data,
              const OpOptions *o, sd_bus_error *error);

/* On the worker, or in the reply, pause and settle functions. The error slot keeps the first
 * error set; later ones are dropped. */
void op_fail(Operation *op, const char *name, const char *format, ...) __attribute__((format(printf, 3, 4)));
void op_failv(Operation *op, const char *name, const char *format, va_list ap) __attribute__((format(printf, 3, 0)));
/* Takes the error back out of the slot, for work that turns a failure into a notice or sets
 * it aside while it reads what is left: returns the message (the caller frees it) and
 * *ret_name (ret_name may be NULL), NULL when no error was set. */
char *op_take_error(Operation *op, const char **ret_name);
/* For an lv_*() result r < 0, its named error (-ENOTCONN, -ENOENT, or libvirt's err); clears
 * err in every case, so a work function is `op_fail_lv(op, lv_query(..., &err), &err)`. */
void op_fail_lv(Operation *op, int r, LvError *err);
bool op_failed(const Operation *op);
/* The message of the error set, "" when none; for a done callback that logs it. */
const char *op_error_message(const Operation *op);
/* The Job a failure is journalled against, when only the reply function learns it. */
void op_set_job(Operation *op, const char *job);
/* The libvirt worker's connection (lv.c), for work on Daemon.worker; work on the other
 * workers uses that worker's own, worker_libvirt(). */
Lv *op_lv(const Operation *op);
Daemon *op_daemon(const Operation *op);
/* The call (NULL for internal work, or once op_answer_later() took it). */
sd_bus_message *op_message(const Operation *op);
Vm *op_vm(const Operation *op);
/* Runs work on w after the current step, before the reply (e.g. libvirt, then a statfs). */
void op_then(Operation *op, Worker *w, op_work_fn work);

/* Ends a pause (OpOptions.pause): again runs the last work function once more on its worker
 * (then pause is asked again); otherwise it goes on to the answer. Event thread. */
void op_continue(Operation *op, bool again);

/* Keeps the call open past the operation, for a method that answers when something later
 * happens (Shutdown answers when the guest is off). Call it from the reply function: it
 * returns the held message with its reference, which the caller now owns (answers and
 * unrefs); the operation then sends nothing. NULL for internal work. */
sd_bus_message *op_answer_later(Operation *op);
