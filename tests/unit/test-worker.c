/* worker.c: urgent tasks (lifecycle calls, state refreshes) run before every ordinary task
 * already queued, in the order they came among themselves; ordinary tasks keep theirs. */
#include <check.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "worker.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static bool started, release;
static unsigned order[16], n_order;

/* Holds the worker until the test has queued everything behind it. */
static void blocker(void *userdata) {
        (void) userdata;
        pthread_mutex_lock(&lock);
        started = true;
        pthread_cond_broadcast(&cond);
        while (!release)
                pthread_cond_wait(&cond, &lock);
        pthread_mutex_unlock(&lock);
}

static void record(void *userdata) {
        order[n_order++] = (unsigned) (uintptr_t) userdata;
}

#define TASK(n) ((void *) (uintptr_t) (n))

/* A worker busy with the blocker, so that what is submitted next queues behind it. */
static Worker *blocked_worker(void) {
        Worker *w = NULL;
        n_order = 0;
        started = release = false;
        ck_assert_int_eq(worker_new(NULL, "test", &w), 0);
        ck_assert_int_eq(worker_submit(w, blocker, NULL, NULL), 0);
        pthread_mutex_lock(&lock);
        while (!started)
                pthread_cond_wait(&cond, &lock);
        pthread_mutex_unlock(&lock);
        return w;
}

/* Lets the blocker finish; freeing the worker runs what is queued, then stops it. */
static void release_and_drain(Worker *w) {
        pthread_mutex_lock(&lock);
        release = true;
        pthread_cond_broadcast(&cond);
        pthread_mutex_unlock(&lock);
        worker_free(w);
}

START_TEST(test_urgent_first) {
        Worker *w = blocked_worker();

        /* A user's reads are queued; then lifecycle calls and a refresh come in. */
        ck_assert_int_eq(worker_submit(w, record, NULL, TASK(1)), 0);
        ck_assert_int_eq(worker_submit(w, record, NULL, TASK(2)), 0);
        ck_assert_int_eq(worker_submit_urgent(w, record, NULL, TASK(101)), 0);
        ck_assert_int_eq(worker_submit(w, record, NULL, TASK(3)), 0);
        ck_assert_int_eq(worker_submit_urgent(w, record, NULL, TASK(102)), 0);
        release_and_drain(w);

        unsigned want[] = { 101, 102, 1, 2, 3 };
        ck_assert_uint_eq(n_order, 5);
        for (unsigned i = 0; i < 5; i++)
                ck_assert_uint_eq(order[i], want[i]);
}
END_TEST

START_TEST(test_urgent_on_empty_queue) {
        Worker *w = blocked_worker();
        ck_assert_int_eq(worker_submit_urgent(w, record, NULL, TASK(101)), 0);
        ck_assert_int_eq(worker_submit(w, record, NULL, TASK(1)), 0);
        ck_assert_int_eq(worker_submit_urgent(w, record, NULL, TASK(102)), 0);
        ck_assert_int_eq(worker_submit(w, record, NULL, TASK(2)), 0);
        release_and_drain(w);
        unsigned want[] = { 101, 102, 1, 2 };
        ck_assert_uint_eq(n_order, 4);
        for (unsigned i = 0; i < 4; i++)
                ck_assert_uint_eq(order[i], want[i]);
}
END_TEST

int main(void) {
        Suite *s = suite_create("worker");
        TCase *tc = tcase_create("order");
        tcase_add_test(tc, test_urgent_first);
        tcase_add_test(tc, test_urgent_on_empty_queue);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? 0 : 1;
}
