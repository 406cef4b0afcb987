#include "log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "errors.h"
#include "log-writer.h"
#include "util.h"

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

/* The journal fields of one entry, each allocated; 0 fields when even MESSAGE and PRIORITY
 * could not be made (the entry then goes to stderr only). */
static size_t build_fields(struct iovec *iov, size_t max, const char *file, int line, const char *func, int priority,
                           const char *message_id, const char *vm, const char *operation, const char *job,
                           uid_t caller_uid, const char *const *extra, const char *message) {
        size_t n = 0;
        char prio[4], uid[16], code_line[16];

        snprintf(prio, sizeof(prio), "%d", priority & LOG_PRIMASK);
        snprintf(code_line, sizeof(code_line), "%d", line);
        add(iov, &n, max, "MESSAGE", message);
        add(iov, &n, max, "PRIORITY", prio);
        if (n < 2) { /* MESSAGE and PRIORITY are the least an entry needs */
                for (size_t i = 0; i < n; i++)
                        free(iov[i].iov_base);
                return 0;
        }
        add(iov, &n, max, "SYSLOG_IDENTIFIER", "winvmd");
        add(iov, &n, max, "MESSAGE_ID", message_id);
        add(iov, &n, max, "WINVM_VM", vm);
        add(iov, &n, max, "WINVM_OPERATION", operation);
        add(iov, &n, max, "WINVM_JOB", job);
        if (caller_uid != LOG_NO_UID) {
                snprintf(uid, sizeof(uid), "%" PRIu32, (uint32_t) caller_uid);
                add(iov, &n, max, "WINVM_CALLER_UID", uid);
        }
        /* Meson compiles from the build folder: "../service/bus/vm.c" -> "service/bus/vm.c". */
        while (strncmp(file, "../", 3) == 0)
                file += 3;
        add(iov, &n, max, "CODE_FILE", file);
        add(iov, &n, max, "CODE_LINE", code_line);
        add(iov, &n, max, "CODE_FUNC", func);
        /* The extra fields are already "KEY=value": sent as they are, at most LOG_EXTRA_MAX of
         * them, and only with a valid KEY (one bad field would make journald drop the entry). */
        for (size_t i = 0, taken = 0; extra && extra[i] && taken < LOG_EXTRA_MAX && n < max; i++) {
                size_t k = strspn(extra[i], "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
                if (k == 0 || k > 64 || extra[i][k] != '=' || extra[i][0] == '_' || (extra[i][0] >= '0' && extra[i][0] <= '9'))
                        continue;
                char *copy = strdup(extra[i]);
                if (!copy)
                        continue;
                iov[n++] = (struct iovec) { .iov_base = copy, .iov_len = strlen(copy) };
                taken++;
        }
        return n;
}

void winvm_log_full(const char *file, int line, const char *func, int priority, const char *message_id,
                    const char *vm, const char *operation, const char *job, uid_t caller_uid,
                    const char *const *extra, const char *format, ...) {
        enum { MAX = 12 + LOG_EXTRA_MAX };
        int saved_errno = errno;

        char *message = NULL;
        va_list ap;
        va_start(ap, format);
        if (vasprintf(&message, format, ap) < 0)
                message = NULL;
        va_end(ap);
        if (!message)
                message = strdup(format);

        struct iovec *fields = calloc(MAX, sizeof(struct iovec));
        size_t n = fields && message ? build_fields(fields, MAX, file, line, func, priority, message_id, vm,
                                                    operation, job, caller_uid, extra, message)
                                     : 0;
        /* Written by log-writer.c's thread, in order, so that a stalled journal never stalls
         * the caller (the event loop, usually). */
        log_writer_submit(fields, n, message);
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
