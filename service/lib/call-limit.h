/* How much work bus callers may have queued on winvmd's workers: at most CALL_LIMIT_PER_UID
 * calls of one user and CALL_LIMIT_TOTAL of all users together. Past either, the call is
 * answered org.winvm1.Error.Busy at once, so a user with hundreds of connections cannot make
 * winvmd hold thousands of calls, nor keep the workers busy for longer than a few calls take.
 * Lifecycle calls count against a cap of their own per user only: no one crowds them out.
 * Pure: counts by uid; event thread only. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#define CALL_LIMIT_PER_UID 8u
#define CALL_LIMIT_TOTAL 64u
/* Lifecycle calls have a budget of their own per user, so a user's reads never take the
 * place of the same user's ForceStop. */
#define CALL_LIMIT_LIFECYCLE_PER_UID 32u

typedef struct CallLimit CallLimit;

CallLimit *call_limit_new(unsigned per_uid, unsigned total);
CallLimit *call_limit_free(CallLimit *l);

/* Counts a call of uid: 0, or -EBUSY when uid already has per_uid calls queued (*ret_user
 * true) or, with in_total, all users together total (*ret_user false). */
int call_limit_take(CallLimit *l, uid_t uid, bool in_total, bool *ret_user);
/* The call counted with the same uid and in_total is done. */
void call_limit_release(CallLimit *l, uid_t uid, bool in_total);

unsigned call_limit_of_uid(const CallLimit *l, uid_t uid);
unsigned call_limit_total(const CallLimit *l);
unsigned call_limit_per_uid_cap(const CallLimit *l);
unsigned call_limit_total_cap(const CallLimit *l);
