/* The one path of an asynchronous bus call: submit, work on a worker, answer, free. */
#include <errno.h>
#include <glib.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "errors.h"
#include "log.h"
#include "operation.h"
#include "util.h"
#include "vm.h"

struct Operation {
        Daemon *daemon;
        Vm *vm;
        sd_bus_message *message;
        CallTicket ticket;
        OpOptions options;
        Worker *worker;
        op_work_fn work;
        op_reply_fn reply;
        void *data;
        /* The next step op_then() asked for. */
        Worker *next_worker;
        op_work_fn next_work;
        /* The error slot: name is a static string, message malloc'd. */
        const char *error_name;
        char *error_message;
        /* OpOptions.share: the key (owned), set on the worker as the work begins (after that
         * no call joins), and the calls this run answers besides its own. A follower is never
         * queued: it waits in its leader's list. */
        char *share;
        atomic_bool started;
        Operation *followers;
        Operation *next_follower;
};

static void op_free(Operation *op) {
        if (op->options.free_data)
                op->options.free_data(op->data);
        sd_bus_message_unref(op->message);
        free(op->error_message);
        free(op->share);
        free(op);
}

void op_failv(Operation *op, const char *name, const char *format, va_list ap) {
        if (op->error_name)
                return;
        if (vasprintf(&op->error_message, format, ap) < 0)
                op->error_message = NULL;
        op->error_name = name;
}

void op_fail(Operation *op, const char *name, const char *format, ...) {
        va_list ap;
        va_start(ap, format);
        op_failv(op, name, format, ap);
        va_end(ap);
}

char *op_take_error(Operation *op, const char **ret_name) {
        char *message = op->error_message;
        if (ret_name)
                *ret_name = op->error_name;
        op->error_name = NULL;
        op->error_message = NULL;
        return message;
}

void op_fail_lv(Operation *op, int r, LvError *err) {
        const char *vm = op->vm ? op->vm->name : "?";
        if (r == -ENOTCONN)
                op_fail(op, WINVM_ERROR_DISCONNECTED, "libvirtd is not reachable; winvmd is reconnecting");
        else if (r == -ENOENT)
                op_fail(op, WINVM_ERROR_NOT_DEFINED, "VM %s is not defined in libvirt", vm);
        else if (r < 0 && err && err->message)
                op_fail(op, winvm_error_name_from_libvirt(err->code), "%s", err->message);
        else if (r < 0)
                op_fail(op, WINVM_ERROR_FAILED, "%s", strerror(-r));
        if (err)
                lv_error_clear(err);
}

bool op_failed(const Operation *op) {
        return op->error_name != NULL;
}

const char *op_error_message(const Operation *op) {
        return op->error_message ? op->error_message : "";
}

void op_set_job(Operation *op, const char *job) {
        op->options.job = job;
}

Lv *op_lv(const Operation *op) {
        return op->daemon->lv;
}

sd_bus_message *op_message(const Operation *op) {
        return op->message;
}

Daemon *op_daemon(const Operation *op) {
        return op->daemon;
}

Vm *op_vm(const Operation *op) {
        return op->vm;
}

void op_then(Operation *op, Worker *w, op_work_fn work) {
        op->next_worker = w;
        op->next_work = work;
}

static void op_run(void *userdata) {
        Operation *op = userdata;
        atomic_store(&op->started, true);
        op->work(op, op->data);
}

sd_bus_message *op_answer_later(Operation *op) {
        sd_bus_message *m = op->message;
        op->message = NULL;
        return m;
}

static void op_journal_failure(const Operation *op, const char *name, const char *message) {
        if (op->options.journal)
                log_operation_failed(op->vm ? op->vm->name : NULL, op->options.journal, op->options.job,
                                     op->options.uid, name, message);
}

static void op_answer_error(Operation *op) {
        const char *message = op->error_message ? op->error_message : "failed";
        op_journal_failure(op, op->error_name, message);
        /* A message the bus refuses (not UTF-8, from libvirt or a file) still gets an answer. */
        if (sd_bus_reply_method_errorf(op->message, op->error_name, "%s", message) < 0)
                (void) sd_bus_reply_method_errorf(op->message, op->error_name, "the operation failed");
}

static void op_answer(Operation *op) {
        if (op->error_name) {
                op_answer_error(op);
                return;
        }
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r = sd_bus_message_new_method_return(op->message, &reply);
        if (r >= 0 && op->reply)
                r = op->reply(op, reply, op->data);
        if (!op->message)
                return; /* answered later (op_answer_later) */
        if (op->error_name) {
                op_answer_error(op);
                return;
        }
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        if (r < 0)
                (void) sd_bus_reply_method_errnof(op->message, -r, "Could not build the reply: %m");
}

/* Internal work: the journal entry of a failure, then the done callback. */
static void op_finish_internal(Operation *op) {
        if (op->error_name)
                op_journal_failure(op, op->error_name, op->error_message ? op->error_message : "failed");
        if (op->reply)
                (void) op->reply(op, NULL, op->data);
}

static void op_done(void *userdata);

/* The calls that joined op's run get its outcome: the work's error when it failed, or a reply
 * built from its data (before op frees it). */
static void op_answer_followers(Operation *op, bool work_failed) {
        Daemon *d = op->daemon;
        while (op->followers) {
                Operation *f = op->followers;
                op->followers = f->next_follower;
                f->reply = op->reply;
                f->data = op->data;
                if (work_failed) {
                        f->error_name = op->error_name;
                        f->error_message = op->error_message ? strdup(op->error_message) : NULL;
                }
                daemon_call_leave(d, &f->ticket);
                op_answer(f);
                op_free(f);
                daemon_busy_dec(d);
        }
}

static void op_share_forget(Operation *op) {
        GHashTable *t = op->daemon->shared_reads;
        if (op->share && t && g_hash_table_lookup(t, op->share) == op)
                g_hash_table_remove(t, op->share);
}

/* Settles, answers and frees. */
static void op_finish(Operation *op) {
        Daemon *d = op->daemon;
        op_share_forget(op);
        if (op->options.settle)
                op->options.settle(op, op->data);
        daemon_call_leave(d, &op->ticket);
        /* Read before op's own reply function may set an error of its own (the error slot
         * keeps the first, so a work error stays as it was). */
        bool work_failed = op->error_name != NULL;
        if (op->message)
                op_answer(op);
        else
                op_finish_internal(op);
        op_answer_followers(op, work_failed);
        if (op->vm && op->options.refresh)
                vm_refresh(op->vm);
        bool idle = op->options.idle;
        op_free(op);
        if (!idle)
                daemon_busy_dec(d);
}

static void op_done(void *userdata) {
        Operation *op = userdata;
        if (op->next_work && !op->error_name) {
                op->worker = op->next_worker;
                op->work = op->next_work;
                op->next_work = NULL;
                op->next_worker = NULL;
                if (worker_submit(op->worker, op_run, op_done, op) >= 0)
                        return;
                op_fail(op, WINVM_ERROR_FAILED, "winvmd is shutting down");
        }
        if (op->options.pause && op->options.pause(op, op->data))
                return; /* op_continue() follows */
        op_finish(op);
}

void op_continue(Operation *op, bool again) {
        if (again) {
                if (worker_submit(op->worker, op_run, op_done, op) >= 0)
                        return;
                op_fail(op, WINVM_ERROR_FAILED, "winvmd is shutting down");
        }
        op_finish(op);
}

/* A counted call with OpOptions.share joins the queued run of the same key instead of being
 * queued itself: true when it joined (its own data is freed: the run's answers it); false when
 * there is no such run, and op, about to be queued, becomes the run later calls join. */
static bool op_share_join(Operation *op) {
        Daemon *d = op->daemon;
        if (!d->shared_reads && !(d->shared_reads = g_hash_table_new(g_str_hash, g_str_equal)))
                return false;
        Operation *leader = g_hash_table_lookup(d->shared_reads, op->share);
        if (!leader || leader->worker != op->worker || atomic_load(&leader->started)) {
                g_hash_table_replace(d->shared_reads, op->share, op);
                return false;
        }
        if (op->options.free_data)
                op->options.free_data(op->data);
        op->data = NULL;
        op->options.free_data = NULL;
        op->next_follower = leader->followers;
        leader->followers = op;
        daemon_busy_inc(d);
        return true;
}

int op_submit(Daemon *d, Worker *w, sd_bus_message *m, Vm *vm, op_work_fn work, op_reply_fn reply, void *data,
              const OpOptions *o, sd_bus_error *error) {
        /* While a connection attempt is in flight (right after bus activation, say) the work
         * queues behind it on the same worker and runs on the connection it makes. */
        if (o && o->libvirt && !d->connected && !d->connecting) {
                static const char disconnected[] = "libvirtd is not reachable; winvmd is reconnecting";
                if (o->journal)
                        log_operation_failed(vm ? vm->name : NULL, o->journal, o->job, o->uid,
                                             WINVM_ERROR_DISCONNECTED, disconnected);
                if (o->free_data)
                        o->free_data(data);
                return sd_bus_error_set_const(error, WINVM_ERROR_DISCONNECTED, disconnected);
        }
        Operation *op = calloc(1, sizeof(*op));
        if (!op) {
                if (o && o->free_data)
                        o->free_data(data);
                return -ENOMEM;
        }
        *op = (Operation) {
                .daemon = d, .vm = vm, .message = sd_bus_message_ref(m), .worker = w, .work = work, .reply = reply,
                .data = data,
        };
        if (o)
                op->options = *o;
        op->options.share = NULL;
        if (m && o && o->share && !(op->share = strdup(o->share))) {
                op_free(op);
                return -ENOMEM;
        }
        if (m && !op->options.uncounted) {
                int r = daemon_call_enter(d, m, !op->options.lifecycle, &op->ticket, error);
                if (r < 0) {
                        op_free(op);
                        return r;
                }
        }
        if (op->share && op_share_join(op))
                return 1;
        int r = op->options.urgent ? worker_submit_urgent(w, op_run, op_done, op)
                                   : worker_submit(w, op_run, op_done, op);
        if (r < 0) {
                op_share_forget(op);
                daemon_call_leave(d, &op->ticket);
                op_free(op);
                return sd_bus_error_set_const(error, WINVM_ERROR_FAILED, "winvmd is shutting down");
        }
        if (!op->options.idle)
                daemon_busy_inc(d);
        return 1;
}
