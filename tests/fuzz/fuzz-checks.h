/* What every list of readiness checks must hold (service/lib/checks.h): an id, a known status, a
 * message and a remedy that are never NULL, no remedy on an ok check, and no id twice. */
#pragma once

#include "checks.h"
#include "fuzz-common.h"

static inline void fuzz_check_list(const CheckList *l) {
        for (size_t i = 0; i < l->n; i++) {
                const Check *c = &l->items[i];
                fuzz_check(c->id && c->id[0], "check %zu has no id", i);
                fuzz_check(check_status_to_string(c->status), "%s: status %d", c->id, (int) c->status);
                fuzz_check(c->message && c->remedy, "%s: NULL message or remedy", c->id);
                fuzz_check(c->status != CHECK_OK || c->remedy[0] == '\0', "%s is ok but has a remedy: %s", c->id,
                           c->remedy);
                for (size_t k = 0; k < i; k++)
                        fuzz_check(strcmp(l->items[k].id, c->id) != 0, "check %s twice", c->id);
        }
}

static inline bool fuzz_has_check(const CheckList *l, const char *id) {
        return check_list_find(l, id) != NULL;
}
