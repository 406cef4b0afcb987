#include "mailbox.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

typedef struct Letter {
        struct Letter *next;
        mailbox_fn fn;
        void *userdata;
} Letter;

struct Mailbox {
        pthread_mutex_t lock;
        Letter *head, *tail;
        int efd;
        sd_event_source *source;
};

static int on_eventfd(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Mailbox *mb = userdata;
        uint64_t n;
        (void) s;
        (void) revents;

        if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
                return -errno;
        mailbox_dispatch_pending(mb);
        return 0;
}

void mailbox_dispatch_pending(Mailbox *mb) {
        pthread_mutex_lock(&mb->lock);
        Letter *l = mb->head;
        mb->head = mb->tail = NULL;
        pthread_mutex_unlock(&mb->lock);

        while (l) {
                Letter *next = l->next;
                l->fn(l->userdata);
                free(l);
                l = next;
        }
}

int mailbox_new(sd_event *event, Mailbox **ret) {
        Mailbox *mb = calloc(1, sizeof(*mb));
        if (!mb)
                return -ENOMEM;
        pthread_mutex_init(&mb->lock, NULL);
        mb->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (mb->efd < 0) {
                int r = -errno;
                free(mb);
                return r;
        }
        int r = sd_event_add_io(event, &mb->source, mb->efd, EPOLLIN, on_eventfd, mb);
        if (r < 0) {
                close(mb->efd);
                free(mb);
                return r;
        }
        (void) sd_event_source_set_description(mb->source, "mailbox");
        *ret = mb;
        return 0;
}

Mailbox *mailbox_free(Mailbox *mb) {
        if (!mb)
                return NULL;
        sd_event_source_disable_unref(mb->source);
        for (Letter *l = mb->head, *next; l; l = next) {
                next = l->next;
                free(l);
        }
        close(mb->efd);
        pthread_mutex_destroy(&mb->lock);
        free(mb);
        return NULL;
}

int mailbox_post(Mailbox *mb, mailbox_fn fn, void *userdata) {
        Letter *l = calloc(1, sizeof(*l));
        if (!l)
                return -ENOMEM;
        l->fn = fn;
        l->userdata = userdata;

        pthread_mutex_lock(&mb->lock);
        if (mb->tail)
                mb->tail->next = l;
        else
                mb->head = l;
        mb->tail = l;
        pthread_mutex_unlock(&mb->lock);

        uint64_t one = 1;
        if (write(mb->efd, &one, sizeof(one)) < 0)
                return -errno;
        return 0;
}
