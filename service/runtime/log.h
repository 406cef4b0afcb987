/* winvmd's log: structured journal entries with winvm's own fields, and the same event as a
 * readable line on stderr.
 *
 *   log_event(LOG_INFO, WINVM_MESSAGE_VM_STARTED, vm->name, "start", NULL, uid, NULL,
 *             "VM %s started", vm->name);
 *   log_warning("Cannot keep the scrub result of %s: %s", name, strerror(-r));
 *
 * Each entry carries MESSAGE, PRIORITY, SYSLOG_IDENTIFIER=winvmd, the caller's CODE_FILE,
 * CODE_LINE and CODE_FUNC, and when given MESSAGE_ID (message-ids.h), WINVM_VM,
 * WINVM_OPERATION (start, shutdown, force-stop, reboot, snapshot-create, snapshot-revert,
 * snapshot-delete, scrub, ...), WINVM_JOB (the job's object path) and WINVM_CALLER_UID (the
 * uid of the bus caller behind the event), plus any extra "KEY=value" fields.
 *
 * Where it goes: the entry to the journal whenever its socket (/run/systemd/journal/socket)
 * exists, and the line to stderr unless stderr is the journal itself (JOURNAL_STREAM names
 * stderr's device and inode, as systemd sets it for StandardError=journal) and the entry was
 * sent. A thread writes both (log-writer.c), in order, so that a log call never waits for
 * journald or for a stderr reader; safe from any thread. */
#pragma once

#include <stddef.h>
#include <sys/types.h>
#include <syslog.h>

#include "message-ids.h"

#define LOG_NO_UID ((uid_t) -1)
/* At most this many extra fields are sent; more are ignored. */
#define LOG_EXTRA_MAX 16

/* vm, operation, job and extra may be NULL, message_id too; caller_uid may be LOG_NO_UID.
 * extra is a NULL-terminated list of "KEY=value" fields (KEY: A-Z, 0-9 and _). */
void winvm_log_full(const char *file, int line, const char *func, int priority, const char *message_id,
                    const char *vm, const char *operation, const char *job, uid_t caller_uid,
                    const char *const *extra, const char *format, ...) __attribute__((format(printf, 11, 12)));

#define log_event(priority, message_id, vm, operation, job, caller_uid, extra, ...)                           \
        winvm_log_full(__FILE__, __LINE__, __func__, priority, message_id, vm, operation, job, caller_uid,   \
                       extra, __VA_ARGS__)

#define log_error(...) log_event(LOG_ERR, NULL, NULL, NULL, NULL, LOG_NO_UID, NULL, __VA_ARGS__)
#define log_warning(...) log_event(LOG_WARNING, NULL, NULL, NULL, NULL, LOG_NO_UID, NULL, __VA_ARGS__)
#define log_notice(...) log_event(LOG_NOTICE, NULL, NULL, NULL, NULL, LOG_NO_UID, NULL, __VA_ARGS__)
#define log_info(...) log_event(LOG_INFO, NULL, NULL, NULL, NULL, LOG_NO_UID, NULL, __VA_ARGS__)

/* A WINVM_MESSAGE_OPERATION_FAILED entry for the bus error a caller got for operation:
 * WINVM_ERROR=error_name, the error message in MESSAGE, the priority from
 * log_priority_for_error(). vm and job may be NULL. */
void winvm_log_failure_full(const char *file, int line, const char *func, const char *vm, const char *operation,
                            const char *job, uid_t caller_uid, const char *error_name, const char *error_message);

#define log_operation_failed(vm, operation, job, caller_uid, error_name, error_message)                       \
        winvm_log_failure_full(__FILE__, __LINE__, __func__, vm, operation, job, caller_uid, error_name,       \
                               error_message)

/* Formats one "KEY=value" field into buf (truncated to size) for an extra list; returns buf. */
const char *log_field(char *buf, size_t size, const char *format, ...) __attribute__((format(printf, 3, 4)));

/* LOG_NOTICE for errors that describe the caller's request or the VM's state (already
 * running, not running, busy, no such snapshot, ...), LOG_ERR for real failures. */
int log_priority_for_error(const char *error_name);
