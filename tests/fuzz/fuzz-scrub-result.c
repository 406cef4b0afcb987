/* Fuzzes scrub_result_from_text() (service/lib/scrub-result.c), the reader of the last scrub's
 * outcome kept in the state folder: what it accepts has a terminated outcome that fits, gives
 * a summary, and reads back the same through scrub_result_to_text(). */
#include <errno.h>

#include "fuzz-common.h"
#include "scrub-result.h"

static void check_same(const ScrubResult *a, const ScrubResult *b) {
        fuzz_check(strcmp(a->outcome, b->outcome) == 0, "outcome '%s' became '%s'", a->outcome, b->outcome);
        fuzz_check(a->readonly == b->readonly, "ReadOnly changed");
#define SAME(field) fuzz_check(a->field == b->field, #field " %llu became %llu", \
                               (unsigned long long) a->field, (unsigned long long) b->field)
        SAME(started_usec);
        SAME(duration_usec);
        SAME(bytes_scrubbed);
        SAME(data_extents);
        SAME(tree_extents);
        SAME(csum_errors);
        SAME(read_errors);
        SAME(verify_errors);
        SAME(super_errors);
        SAME(corrected_errors);
        SAME(uncorrectable_errors);
        SAME(unverified_errors);
#undef SAME
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *text = fuzz_strndup(data, size);
        ScrubResult r;
        memset(&r, 0xa5, sizeof(r));

        int ret = scrub_result_from_text(text, &r);
        if (ret == 0) {
                fuzz_check(memchr(r.outcome, '\0', sizeof(r.outcome)), "outcome not terminated");
                char *summary = scrub_result_summary(&r);
                fuzz_check(summary && strncmp(summary, r.outcome, strlen(r.outcome)) == 0, "summary '%s'",
                           fuzz_str(summary));
                free(summary);

                char *again = scrub_result_to_text(&r);
                fuzz_check(again, "scrub_result_to_text failed");
                ScrubResult r2;
                ret = scrub_result_from_text(again, &r2);
                fuzz_check(ret == 0, "its own text does not read back (%d):\n%s", ret, again);
                check_same(&r, &r2);
                free(again);
        } else {
                fuzz_check(ret == -EINVAL, "returned %d", ret);
        }
        free(text);
        return 0;
}
