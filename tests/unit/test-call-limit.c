/* call-limit.c: a cap per uid and one over all uids; lifecycle calls (in_total false) count
 * against their own uid only; released calls make room again. */
#include <check.h>
#include <errno.h>
#include <stdbool.h>

#include "call-limit.h"

START_TEST(test_per_uid) {
        CallLimit *l = call_limit_new(3, 100);
        bool user = false;
        for (int i = 0; i < 3; i++)
                ck_assert_int_eq(call_limit_take(l, 1001, true, &user), 0);
        ck_assert_int_eq(call_limit_take(l, 1001, true, &user), -EBUSY);
        ck_assert(user);
        /* Another user is not held back by the first one's cap. */
        ck_assert_int_eq(call_limit_take(l, 1000, true, &user), 0);
        ck_assert_uint_eq(call_limit_of_uid(l, 1001), 3);
        ck_assert_uint_eq(call_limit_total(l), 4);
        call_limit_release(l, 1001, true);
        ck_assert_int_eq(call_limit_take(l, 1001, true, &user), 0);
        call_limit_free(l);
}
END_TEST

START_TEST(test_total) {
        CallLimit *l = call_limit_new(2, 5);
        bool user = true;
        for (unsigned uid = 2000; uid < 2002; uid++)
                for (int i = 0; i < 2; i++)
                        ck_assert_int_eq(call_limit_take(l, uid, true, &user), 0);
        ck_assert_int_eq(call_limit_take(l, 2002, true, &user), 0);
        ck_assert_int_eq(call_limit_take(l, 2003, true, &user), -EBUSY);
        ck_assert(!user);
        /* A lifecycle call of a user under its own cap still goes in. */
        ck_assert_int_eq(call_limit_take(l, 1000, false, &user), 0);
        ck_assert_uint_eq(call_limit_total(l), 5);
        ck_assert_uint_eq(call_limit_of_uid(l, 1000), 1);
        /* ... but counts against that user's own cap. */
        ck_assert_int_eq(call_limit_take(l, 1000, false, &user), 0);
        ck_assert_int_eq(call_limit_take(l, 1000, false, &user), -EBUSY);
        ck_assert(user);
        call_limit_release(l, 1000, false);
        call_limit_release(l, 1000, false);
        ck_assert_uint_eq(call_limit_of_uid(l, 1000), 0);
        ck_assert_uint_eq(call_limit_total(l), 5);
        call_limit_release(l, 2000, true);
        ck_assert_int_eq(call_limit_take(l, 2003, true, &user), 0);
        call_limit_free(l);
}
END_TEST

int main(void) {
        Suite *s = suite_create("call-limit");
        TCase *tc = tcase_create("limits");
        tcase_add_test(tc, test_per_uid);
        tcase_add_test(tc, test_total);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? 0 : 1;
}
