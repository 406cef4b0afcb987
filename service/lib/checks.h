/* The result of one host or VM readiness check, and a growable list of them. Pure: no I/O.
 *
 * A check has a stable dotted id ("kvmfr.loaded", "vfio.driver.10de:2489"), a status, a
 * message saying what was found, and a remedy saying what to change (a command or a
 * configuration line). message and remedy are never NULL; remedy is "" for an ok check. */
#pragma once

#include <stdarg.h>
#include <stddef.h>

typedef enum CheckStatus {
        CHECK_OK,
        CHECK_WARN,
        CHECK_FAIL,
        CHECK_SKIPPED,          /* the check could not be made; message says why */
        _CHECK_STATUS_MAX,
} CheckStatus;

typedef struct Check {
        char *id;
        CheckStatus status;
        char *message;
        char *remedy;
} Check;

typedef struct CheckList {
        Check *items;
        size_t n;
        size_t allocated;
} CheckList;

#define CHECK_LIST_INIT ((CheckList) { NULL, 0, 0 })

typedef struct CheckSummary {
        size_t ok, warn, fail, skipped;
} CheckSummary;

/* "ok", "warn", "fail", "skipped"; NULL for an out-of-range value. */
const char *check_status_to_string(CheckStatus s);
/* The inverse; -EINVAL for an unknown string. */
int check_status_from_string(const char *s, CheckStatus *ret);

/* Appends a check. remedy may be NULL (stored as ""); message is printf-style.
 * 0, or -ENOMEM (the list is unchanged), or -EINVAL for a NULL/empty id or bad status. */
int check_list_add(CheckList *l, const char *id, CheckStatus status, const char *remedy,
                   const char *message_fmt, ...) __attribute__((format(printf, 5, 6)));
int check_list_addv(CheckList *l, const char *id, CheckStatus status, const char *remedy,
                    const char *message_fmt, va_list ap) __attribute__((format(printf, 5, 0)));

/* Moves every check of src to the end of dst; src is left empty. 0 or -ENOMEM (nothing moved). */
int check_list_move(CheckList *dst, CheckList *src);

/* Every repair a remedy offers ("winvmctl doctor --fix ID") is a change to one VM: names it,
 * "winvmctl --vm VM doctor --fix ID", so the command works as given when several VMs are
 * managed. 0 or -ENOMEM (remedies rewritten so far stay rewritten). */
int check_list_name_vm(CheckList *l, const char *vm);

/* The first check with this id, or NULL. */
const Check *check_list_find(const CheckList *l, const char *id);

/* Counts by status, and the worst status (fail > warn > ok; skipped counts as ok here;
 * CHECK_OK for an empty list). */
CheckSummary check_list_summary(const CheckList *l);
CheckStatus check_list_worst(const CheckList *l);

/* Frees every check; the list is empty and reusable afterwards. */
void check_list_clear(CheckList *l);
