#include "worker.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

typedef struct Task {
        struct Task *next;
        worker_fn work;
        mailbox_fn done;
        void *userdata;
} Task;

struct Worker {
        pthread_t thread;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        Task *head, *tail;
        Task *urgent_tail;      /* the last urgent task at the head of the queue, NULL when none */
        bool stopping;
        Mailbox *mailbox;
};

static void *worker_main(void *arg) {
        Worker *w = arg;

        for (;;) {
                pthread_mutex_lock(&w->lock);
                while (!w->head && !w->stopping)
                        pthread_cond_wait(&w->cond, &w->lock);
                Task *t = w->head;
                if (!t) { /* stopping and drained */
                        pthread_mutex_unlock(&w->lock);
                        return NULL;
                }
                w->head = t->next;
                if (!w->head)
                        w->tail = NULL;
                if (w->urgent_tail == t)
                        w->urgent_tail = NULL;
                pthread_mutex_unlock(&w->lock);

                t->work(t->userdata);
                if (t->done)
                        (void) mailbox_post(w->mailbox, t->done, t->userdata);
                free(t);
        }
}

int worker_new(Mailbox *mb, const char *name, Worker **ret) {
        Worker *w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        w->mailbox = mb;
        pthread_mutex_init(&w->lock, NULL);
        pthread_cond_init(&w->cond, NULL);
        int r = pthread_create(&w->thread, NULL, worker_main, w);
        if (r != 0) {
                free(w);
                return -r;
        }
        (void) pthread_setname_np(w->thread, name);
        *ret = w;
        return 0;
}

Worker *worker_free(Worker *w) {
        if (!w)
                return NULL;
        pthread_mutex_lock(&w->lock);
        w->stopping = true;
        pthread_cond_signal(&w->cond);
        pthread_mutex_unlock(&w->lock);
        pthread_join(w->thread, NULL);
        pthread_cond_destroy(&w->cond);
        pthread_mutex_destroy(&w->lock);
        free(w);
        return NULL;
}

static int submit(Worker *w, worker_fn work, mailbox_fn done, void *userdata, bool urgent) {
        if (!w)
                return -ESHUTDOWN; /* the daemon is going down */
        Task *t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        t->work = work;
        t->done = done;
        t->userdata = userdata;

        pthread_mutex_lock(&w->lock);
        if (urgent) {
                /* After the urgent tasks already waiting, before everything else. */
                Task **at = w->urgent_tail ? &w->urgent_tail->next : &w->head;
                t->next = *at;
                *at = t;
                if (!t->next)
                        w->tail = t;
                w->urgent_tail = t;
        } else {
                if (w->tail)
                        w->tail->next = t;
                else
                        w->head = t;
                w->tail = t;
        }
        pthread_cond_signal(&w->cond);
        pthread_mutex_unlock(&w->lock);
        return 0;
}

int worker_submit(Worker *w, worker_fn work, mailbox_fn done, void *userdata) {
        return submit(w, work, done, userdata, false);
}

int worker_submit_urgent(Worker *w, worker_fn work, mailbox_fn done, void *userdata) {
        return submit(w, work, done, userdata, true);
}
