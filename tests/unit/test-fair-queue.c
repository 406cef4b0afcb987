/* fair-queue.c: round-robin by key, oldest first within a key, keys that may not take
 * skipped without losing their turn order, removal by predicate. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fair-queue.h"

#define ITEM(n) ((void *) (uintptr_t) (n))
#define NUM(p) ((unsigned) (uintptr_t) (p))

static unsigned dropped;
static void count_drop(void *item) {
        (void) item;
        dropped++;
}

START_TEST(test_round_robin) {
        FairQueue *q = fair_queue_new();
        /* uid 1001 floods first; uid 1000 comes later with one item. */
        for (unsigned i = 1; i <= 5; i++)
                fair_queue_push(q, 1001, ITEM(100 + i));
        fair_queue_push(q, 1000, ITEM(1));
        fair_queue_push(q, 1002, ITEM(201));
        fair_queue_push(q, 1002, ITEM(202));
        ck_assert_uint_eq(fair_queue_length(q), 8);
        unsigned want[] = { 101, 1, 201, 102, 202, 103, 104, 105 };
        for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
                ck_assert_uint_eq(NUM(fair_queue_pop(q, NULL, NULL)), want[i]);
        ck_assert_ptr_null(fair_queue_pop(q, NULL, NULL));
        ck_assert_uint_eq(fair_queue_length(q), 0);
        fair_queue_free(q, NULL);
}
END_TEST

static bool not_1001(unsigned key, void *userdata) {
        (void) userdata;
        return key != 1001;
}

START_TEST(test_may_take) {
        FairQueue *q = fair_queue_new();
        fair_queue_push(q, 1001, ITEM(101));
        fair_queue_push(q, 1001, ITEM(102));
        fair_queue_push(q, 1000, ITEM(1));
        /* 1001 is at its limit: 1000's item comes out, and then nothing. */
        ck_assert_uint_eq(NUM(fair_queue_pop(q, not_1001, NULL)), 1);
        ck_assert_ptr_null(fair_queue_pop(q, not_1001, NULL));
        ck_assert_uint_eq(fair_queue_length(q), 2);
        /* Without the limit, 1001's items in their order. */
        ck_assert_uint_eq(NUM(fair_queue_pop(q, NULL, NULL)), 101);
        ck_assert_uint_eq(NUM(fair_queue_pop(q, NULL, NULL)), 102);
        fair_queue_free(q, NULL);
}
END_TEST

static bool is_odd(void *item, void *userdata) {
        (void) userdata;
        return NUM(item) % 2 == 1;
}

START_TEST(test_remove_if) {
        FairQueue *q = fair_queue_new();
        fair_queue_push(q, 7, ITEM(1));
        fair_queue_push(q, 7, ITEM(2));
        fair_queue_push(q, 8, ITEM(3));
        fair_queue_push(q, 9, ITEM(5));
        fair_queue_push(q, 9, ITEM(6));
        dropped = 0;
        fair_queue_remove_if(q, is_odd, count_drop, NULL);
        ck_assert_uint_eq(dropped, 3);
        ck_assert_uint_eq(fair_queue_length(q), 2);
        /* Key 8 emptied and left the turn; 7 and 9 keep theirs. */
        ck_assert_uint_eq(NUM(fair_queue_pop(q, NULL, NULL)), 2);
        ck_assert_uint_eq(NUM(fair_queue_pop(q, NULL, NULL)), 6);
        ck_assert_ptr_null(fair_queue_pop(q, NULL, NULL));
        fair_queue_free(q, NULL);
}
END_TEST

START_TEST(test_free_drops) {
        FairQueue *q = fair_queue_new();
        for (unsigned i = 0; i < 10; i++)
                fair_queue_push(q, i % 3, ITEM(i));
        dropped = 0;
        fair_queue_free(q, count_drop);
        ck_assert_uint_eq(dropped, 10);
        fair_queue_free(NULL, count_drop);
}
END_TEST

START_TEST(test_key_comes_back) {
        /* A key whose lane emptied queues again at the back of the turn. */
        FairQueue *q = fair_queue_new();
        fair_queue_push(q, 1, ITEM(10));
        fair_queue_push(q, 2, ITEM(20));
        ck_assert_uint_eq(NUM(fair_queue_pop(q, NULL, NULL)), 10);
        fair_queue_push(q, 1, ITEM(11));
        fair_queue_push(q, 2, ITEM(21));
        ck_assert_uint_eq(NUM(fair_queue_pop(q, NULL, NULL)), 20);
        ck_assert_uint_eq(NUM(fair_queue_pop(q, NULL, NULL)), 11);
        ck_assert_uint_eq(NUM(fair_queue_pop(q, NULL, NULL)), 21);
        fair_queue_free(q, NULL);
}
END_TEST

static Suite *fair_queue_suite(void) {
        Suite *s = suite_create("fair-queue");
        TCase *tc = tcase_create("core");
        tcase_add_test(tc, test_round_robin);
        tcase_add_test(tc, test_may_take);
        tcase_add_test(tc, test_remove_if);
        tcase_add_test(tc, test_free_drops);
        tcase_add_test(tc, test_key_comes_back);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        SRunner *sr = srunner_create(fair_queue_suite());
        srunner_set_fork_status(sr, CK_FORK_GETENV);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
