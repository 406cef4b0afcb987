#include "log.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

/* The location fields are the caller's, passed in by log_event(). */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "errors.h"
#include "util.h"

#define JOURNAL_SOCKET "/run/systemd/journal/socket"

static pthread_once_t detect_once = PTHREAD_ONCE_INIT;
static bool stderr_is_journal;

/* systemd's convention: JOURNAL_STREAM=DEVICE:INODE of the stream it connected to stdout and
 * stderr. It is inherited, so it counts only when it still names our stderr. */
static void detect(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        char rest;
        struct stat st;
        if (!e || sscanf(e, "%llu:%llu%c", &dev, &ino, &rest) != 2 || fstat(STDERR_FILENO, &st) < 0)
                return;
        stderr_is_journal = (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
}

const char *log_field(char *buf, size_t size, const char *format, ...) {
        va_list ap;
        va_start(ap, format);
        (void) vsnprintf(buf, size, format, ap);
        va_end(ap);
        return buf;
}

int log_priority_for_error(const char *error_name) {
        static const char *const caller_side[] = {
                WINVM_ERROR_ALREADY_RUNNING, WINVM_ERROR_NOT_RUNNING, WINVM_ERROR_NOT_DEFINED,
                WINVM_ERROR_INVALID_ARGUMENT, WINVM_ERROR_BUSY, WINVM_ERROR_EXISTS,
                WINVM_ERROR_NO_SUCH_SNAPSHOT, WINVM_ERROR_GUEST_RUNNING, WINVM_ERROR_NOT_FOUND,
                WINVM_ERROR_TIMEOUT, /* the guest ignored the shutdown request */
                SD_BUS_ERROR_ACCESS_DENIED,
        };
        for (size_t i = 0; error_name && i < ELEMENTSOF(caller_side); i++)
                if (strcmp(error_name, caller_side[i]) == 0)
                        return LOG_NOTICE;
        return LOG_ERR;
}

/* Adds "KEY=value" (value may be NULL: nothing added) as one allocated field. */
static void add(struct iovec *iov, size_t *n, size_t max, const char *key, const char *value) {
        char *s;
        if (!value || *n >= max || asprintf(&s, "%s=%s", key, value) < 0)
                return;
        iov[(*n)++] = (struct iovec) { .iov_base = s, .iov_len = strlen(s) };
}

static int send_to_journal(const char *file, int line, const char *func, int priority, const char *message_id,
                           const char *vm, const char *operation, const char *job, uid_t caller_uid,
                           const char *const *extra, const char *message) {
        enum { MAX = 12 + LOG_EXTRA_MAX };
        struct iovec iov[MAX];
        size_t n = 0, owned;
        char prio[4], uid[16], code_line[16];

        snprintf(prio, sizeof(prio), "%d", priority & LOG_PRIMASK);
        snprintf(code_line, sizeof(code_line), "%d", line);
        add(iov, &n, MAX, "MESSAGE", message);
        add(iov, &n, MAX, "PRIORITY", prio);
        bool complete = n == 2; /* MESSAGE and PRIORITY are the least an entry needs */
        add(iov, &n, MAX, "SYSLOG_IDENTIFIER", "winvmd");
        add(iov, &n, MAX, "MESSAGE_ID", message_id);
        add(iov, &n, MAX, "WINVM_VM", vm);
        add(iov, &n, MAX, "WINVM_OPERATION", operation);
        add(iov, &n, MAX, "WINVM_JOB", job);
        if (caller_uid != LOG_NO_UID) {
                snprintf(uid, sizeof(uid), "%" PRIu32, (uint32_t) caller_uid);
                add(iov, &n, MAX, "WINVM_CALLER_UID", uid);
        }
        /* Meson compiles from the build folder: "../service/vm.c" -> "service/vm.c". */
        while (strncmp(file, "../", 3) == 0)
                file += 3;
        add(iov, &n, MAX, "CODE_FILE", file);
        add(iov, &n, MAX, "CODE_LINE", code_line);
        add(iov, &n, MAX, "CODE_FUNC", func);
        owned = n;
        /* The extra fields are already "KEY=value": sent as they are, at most LOG_EXTRA_MAX of
         * them, and only with a valid KEY (one bad field would make journald drop the entry). */
        for (size_t i = 0, taken = 0; extra && extra[i] && taken < LOG_EXTRA_MAX && n < MAX; i++) {
                size_t k = strspn(extra[i], "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
                if (k == 0 || k > 64 || extra[i][k] != '=' || extra[i][0] == '_' || (extra[i][0] >= '0' && extra[i][0] <= '9'))
                        continue;
                iov[n++] = (struct iovec) { .iov_base = (void *) extra[i], .iov_len = strlen(extra[i]) };
                taken++;
        }

        int r = complete ? sd_journal_sendv(iov, (int) n) : -ENOMEM;
        for (size_t i = 0; i < owned; i++)
                free(iov[i].iov_base);
        return r;
}

void winvm_log_full(const char *file, int line, const char *func, int priority, const char *message_id,
                    const char *vm, const char *operation, const char *job, uid_t caller_uid,
                    const char *const *extra, const char *format, ...) {
        int saved_errno = errno;
        (void) pthread_once(&detect_once, detect);

        char *message = NULL;
        va_list ap;
        va_start(ap, format);
        if (vasprintf(&message, format, ap) < 0)
                message = NULL;
        va_end(ap);
        const char *text = message ? message : format;

        /* Checked each time: journald may come and go while winvmd runs. */
        bool journal = access(JOURNAL_SOCKET, F_OK) == 0;
        int r = journal ? send_to_journal(file, line, func, priority, message_id, vm, operation, job, caller_uid,
                                          extra, text)
                        : -ENOENT;
        /* When stderr is the journal, the entry already says it all; the line is the way
         * in only without the socket or when sending failed. */
        if (!stderr_is_journal || r < 0)
                fprintf(stderr, "%s\n", text);
        free(message);
        errno = saved_errno;
}

void winvm_log_failure_full(const char *file, int line, const char *func, const char *vm, const char *operation,
                            const char *job, uid_t caller_uid, const char *error_name, const char *error_message) {
        char error[256], by[32] = "";
        const char *extra[] = { log_field(error, sizeof(error), "WINVM_ERROR=%s", error_name ? error_name : ""), NULL };
        if (caller_uid != LOG_NO_UID)
                snprintf(by, sizeof(by), " (caller uid %" PRIu32 ")", (uint32_t) caller_uid);
        winvm_log_full(file, line, func, log_priority_for_error(error_name), WINVM_MESSAGE_OPERATION_FAILED, vm,
                       operation, job, caller_uid, extra, "%s%s%s%s failed%s: %s", vm ? "VM " : "", vm ? vm : "",
                       vm ? ": " : "", operation ? operation : "operation", by, error_message ? error_message : error_name ? error_name : "unknown error");
}
