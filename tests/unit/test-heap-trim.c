/* heap-trim.c: after a burst of incoming messages, one trim once none has come for a second
 * and nothing is held; none while calls are held; none after a handful of messages. */
#include <check.h>
#include <stdint.h>
#include <time.h>

#include "heap-trim.h"

static bool held;

static bool is_held(void *userdata) {
        (void) userdata;
        return held;
}

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000;
}

typedef struct Pair {
        sd_event *event;
        HeapTrim *trim;
} Pair;

static void pair_open(Pair *p) {
        ck_assert_int_eq(sd_event_new(&p->event), 0);
        ck_assert_int_eq(heap_trim_new(p->event, is_held, NULL, &p->trim), 0);
        held = false;
}

static void pair_close(Pair *p) {
        heap_trim_free(p->trim);
        sd_event_unref(p->event);
}

/* n incoming messages, as the daemon's filter notes them. */
static void send_signals(Pair *p, unsigned n) {
        for (unsigned i = 0; i < n; i++)
                heap_trim_note(p->trim);
}

/* Runs the loop for usec, or until trims reaches want. */
static void run_for(Pair *p, uint64_t usec, unsigned want) {
        uint64_t end = now_usec() + usec;
        while (heap_trim_count(p->trim) < want && now_usec() < end)
                ck_assert_int_ge(sd_event_run(p->event, 50 * 1000), 0);
}

START_TEST(test_trims_once_after_a_burst) {
        Pair p = { 0 };
        pair_open(&p);
        send_signals(&p, 1500);
        run_for(&p, 30 * 1000000ULL, 1);
        ck_assert_uint_eq(heap_trim_count(p.trim), 1);
        /* Quiet since: no second trim. */
        run_for(&p, 1500 * 1000ULL, 2);
        ck_assert_uint_eq(heap_trim_count(p.trim), 1);
        pair_close(&p);
}
END_TEST

START_TEST(test_no_trim_after_a_few_messages) {
        Pair p = { 0 };
        pair_open(&p);
        send_signals(&p, 20);
        run_for(&p, 1500 * 1000ULL, 1);
        ck_assert_uint_eq(heap_trim_count(p.trim), 0);
        pair_close(&p);
}
END_TEST

START_TEST(test_waits_while_calls_are_held) {
        Pair p = { 0 };
        pair_open(&p);
        held = true;
        send_signals(&p, 1500);
        run_for(&p, 2500 * 1000ULL, 1);
        ck_assert_uint_eq(heap_trim_count(p.trim), 0);
        held = false;
        run_for(&p, 30 * 1000000ULL, 1);
        ck_assert_uint_eq(heap_trim_count(p.trim), 1);
        pair_close(&p);
}
END_TEST

int main(void) {
        Suite *s = suite_create("heap-trim");
        TCase *tc = tcase_create("core");
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, test_trims_once_after_a_burst);
        tcase_add_test(tc, test_no_trim_after_a_few_messages);
        tcase_add_test(tc, test_waits_while_calls_are_held);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? 1 : 0;
}
