#include "log-writer.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The location fields come with the entry, from log.c. */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#define JOURNAL_SOCKET "/run/systemd/journal/socket"

typedef struct Entry {
        struct Entry *next;
        struct iovec *fields;
        size_t n_fields;
        char *line;
} Entry;

static pthread_once_t start_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static pthread_t thread;
static bool running, stopping;
static Entry *head, *tail;
static size_t n_queued;
static unsigned long n_dropped;
static bool stderr_is_journal;

/* systemd's convention: JOURNAL_STREAM=DEVICE:INODE of the stream it connected to stdout and
 * stderr. It is inherited, so it counts only when it still names our stderr. */
static void detect_stderr(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        char rest;
        struct stat st;
        if (!e || sscanf(e, "%llu:%llu%c", &dev, &ino, &rest) != 2 || fstat(STDERR_FILENO, &st) < 0)
                return;
        stderr_is_journal = (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
}

static void entry_free(Entry *e) {
        for (size_t i = 0; i < e->n_fields; i++)
                free(e->fields[i].iov_base);
        free(e->fields);
        free(e->line);
        free(e);
}

static void write_entry(const Entry *e) {
        /* Checked each time: journald may come and go while winvmd runs. */
        int r = e->n_fields > 0 && access(JOURNAL_SOCKET, F_OK) == 0 ? sd_journal_sendv(e->fields, (int) e->n_fields)
                                                                     : -ENOENT;
        /* When stderr is the journal, the entry already says it all; the line is the way in
         * only without the socket or when sending failed. */
        if (e->line && (!stderr_is_journal || r < 0)) {
                fputs(e->line, stderr);
                fputc('\n', stderr);
                fflush(stderr);
        }
}

static void write_dropped(unsigned long n) {
        char line[128];
        snprintf(line, sizeof(line), "%lu log entries were dropped: the journal or stderr did not take them in time", n);
        char *message = NULL;
        struct iovec fields[2];
        Entry e = { .line = line };
        if (asprintf(&message, "MESSAGE=%s", line) >= 0) {
                fields[0] = (struct iovec) { .iov_base = message, .iov_len = strlen(message) };
                fields[1] = (struct iovec) { .iov_base = (char *) "PRIORITY=4", .iov_len = strlen("PRIORITY=4") };
                e.fields = fields;
                e.n_fields = 2;
        }
        write_entry(&e);
        free(message);
}

static void *writer_main(void *arg) {
        (void) arg;
        pthread_mutex_lock(&lock);
        for (;;) {
                while (!head && !stopping)
                        pthread_cond_wait(&wake, &lock);
                if (!head)
                        break; /* stopping, and everything written */
                Entry *e = head;
                head = e->next;
                if (!head)
                        tail = NULL;
                n_queued--;
                unsigned long dropped = n_dropped;
                n_dropped = 0;
                pthread_mutex_unlock(&lock);

                if (dropped > 0)
                        write_dropped(dropped);
                write_entry(e);
                entry_free(e);
                pthread_mutex_lock(&lock);
        }
        pthread_mutex_unlock(&lock);
        return NULL;
}

/* At exit: let the writer drain the queue, for a bounded time. */
static void stop_writer(void) {
        pthread_mutex_lock(&lock);
        stopping = true;
        pthread_cond_signal(&wake);
        pthread_mutex_unlock(&lock);

        struct timespec deadline;
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += LOG_WRITER_DRAIN_USEC / 1000000ULL;
        if (pthread_timedjoin_np(thread, NULL, &deadline) == 0) {
                pthread_mutex_lock(&lock);
                running = false;
                pthread_mutex_unlock(&lock);
        }
}

static void start_writer(void) {
        detect_stderr();
        if (pthread_create(&thread, NULL, writer_main, NULL) != 0)
                return;
        running = true;
        if (atexit(stop_writer) != 0) {
                stop_writer();
                running = false;
        }
}

void log_writer_submit(struct iovec *fields, size_t n_fields, char *line) {
        Entry *e = calloc(1, sizeof(*e));
        if (!e) {
                for (size_t i = 0; i < n_fields; i++)
                        free(fields[i].iov_base);
                free(fields);
                free(line);
                return;
        }
        e->fields = fields;
        e->n_fields = n_fields;
        e->line = line;

        (void) pthread_once(&start_once, start_writer);
        pthread_mutex_lock(&lock);
        if (!running || stopping) {
                pthread_mutex_unlock(&lock);
                write_entry(e); /* no writer (any more): the caller writes */
                entry_free(e);
                return;
        }
        if (n_queued >= LOG_WRITER_MAX_QUEUED) {
                n_dropped++;
                pthread_mutex_unlock(&lock);
                entry_free(e);
                return;
        }
        if (tail)
                tail->next = e;
        else
                head = e;
        tail = e;
        n_queued++;
        pthread_cond_signal(&wake);
        pthread_mutex_unlock(&lock);
}
