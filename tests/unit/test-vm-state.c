/* Unit tests for service/lib/vm-state.c: libvirt domain states and reasons as published strings. */
#include <check.h>
#include <libvirt/libvirt.h>
#include <limits.h>
#include <string.h>
#include <stdlib.h>

#include "vm-state.h"

/* ---- vm_state_to_string ---- */

static const struct {
        int state;
        const char *string;
        bool active;
} states[] = {
        { VIR_DOMAIN_NOSTATE,     "unknown",       false },
        { VIR_DOMAIN_RUNNING,     "running",       true },
        { VIR_DOMAIN_BLOCKED,     "running",       true }, /* running, waiting on a resource */
        { VIR_DOMAIN_PAUSED,      "paused",        true },
        { VIR_DOMAIN_SHUTDOWN,    "shutting-down", true },
        { VIR_DOMAIN_SHUTOFF,     "shutoff",       false },
        { VIR_DOMAIN_CRASHED,     "crashed",       true }, /* a crashed, preserved domain is still active */
        { VIR_DOMAIN_PMSUSPENDED, "pmsuspended",   true },
};

START_TEST(test_state_to_string) {
        ck_assert_str_eq(vm_state_to_string(states[_i].state), states[_i].string);
}
END_TEST

START_TEST(test_state_to_string_covers_all_states) {
        /* The table above must name every virDomainState: NOSTATE..PMSUSPENDED are 0..7. */
        ck_assert_int_eq(VIR_DOMAIN_NOSTATE, 0);
        ck_assert_int_eq(VIR_DOMAIN_PMSUSPENDED, 7);
        ck_assert_uint_eq(sizeof(states) / sizeof(states[0]), 8);
        for (int s = 0; s <= VIR_DOMAIN_PMSUSPENDED; s++)
                ck_assert_int_eq(states[s].state, s);
}
END_TEST

START_TEST(test_state_to_string_out_of_range) {
        static const int bad[] = { VIR_DOMAIN_PMSUSPENDED + 1, 8, 100, -1, INT_MIN, INT_MAX };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                ck_assert_str_eq(vm_state_to_string(bad[i]), "unknown");
}
END_TEST

/* ---- vm_state_is_active ---- */

START_TEST(test_state_is_active) {
        ck_assert_msg(vm_state_is_active(states[_i].state) == states[_i].active, "state %d (%s)",
                      states[_i].state, states[_i].string);
}
END_TEST

START_TEST(test_state_is_active_out_of_range) {
        ck_assert(!vm_state_is_active(VIR_DOMAIN_PMSUSPENDED + 1));
        ck_assert(!vm_state_is_active(-1));
        ck_assert(!vm_state_is_active(INT_MAX));
        ck_assert(!vm_state_is_active(INT_MIN));
}
END_TEST

/* ---- vm_state_reason_to_string ---- */

static const struct {
        int state;
        int reason;
        const char *string;
} reasons[] = {
        /* running */
        { VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_UNKNOWN,            "" },
        { VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_BOOTED,             "booted" },
        { VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_MIGRATED,           "migrated" },
        { VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_RESTORED,           "restored" },
        { VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_FROM_SNAPSHOT,      "from-snapshot" },
        { VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_UNPAUSED,           "unpaused" },
        { VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_MIGRATION_CANCELED, "migration-canceled" },
        { VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_SAVE_CANCELED,      "save-canceled" },
        { VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_WAKEUP,             "wakeup" },
        { VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_CRASHED,            "crashed" },
        { VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_POSTCOPY,           "postcopy" },
        { VIR_DOMAIN_RUNNING, 1000,                                  "" },
        { VIR_DOMAIN_RUNNING, -1,                                    "" },
        /* blocked: no reasons */
        { VIR_DOMAIN_BLOCKED, VIR_DOMAIN_BLOCKED_UNKNOWN,            "" },
        { VIR_DOMAIN_BLOCKED, 1,                                     "" },
        /* paused */
        { VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_UNKNOWN,              "" },
        { VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_USER,                 "user" },
        { VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_MIGRATION,            "migration" },
        { VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_SAVE,                 "save" },
        { VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_DUMP,                 "dump" },
        { VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_IOERROR,              "ioerror" },
        { VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_WATCHDOG,             "watchdog" },
        { VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_FROM_SNAPSHOT,        "from-snapshot" },
        { VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_SHUTTING_DOWN,        "shutting-down" },
        { VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_SNAPSHOT,             "snapshot" },
        { VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_CRASHED,              "crashed" },
        { VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_STARTING_UP,          "starting-up" },
        { VIR_DOMAIN_PAUSED, 1000,                                   "" },
        { VIR_DOMAIN_PAUSED, -1,                                     "" },
        /* shutting down */
        { VIR_DOMAIN_SHUTDOWN, VIR_DOMAIN_SHUTDOWN_UNKNOWN,          "" },
        { VIR_DOMAIN_SHUTDOWN, VIR_DOMAIN_SHUTDOWN_USER,             "user" },
        { VIR_DOMAIN_SHUTDOWN, 2,                                    "" },
        { VIR_DOMAIN_SHUTDOWN, -1,                                   "" },
        /* shut off */
        { VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_UNKNOWN,            "" },
        { VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_SHUTDOWN,           "shutdown" },
        { VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_DESTROYED,          "destroyed" },
        { VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_CRASHED,            "crashed" },
        { VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_MIGRATED,           "migrated" },
        { VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_SAVED,              "saved" },
        { VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_FAILED,             "failed" },
        { VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_FROM_SNAPSHOT,      "from-snapshot" },
        { VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_DAEMON,             "daemon" },
        { VIR_DOMAIN_SHUTOFF, 1000,                                  "" },
        { VIR_DOMAIN_SHUTOFF, -1,                                    "" },
        { VIR_DOMAIN_SHUTOFF, INT_MIN,                               "" },
        /* crashed */
        { VIR_DOMAIN_CRASHED, VIR_DOMAIN_CRASHED_UNKNOWN,            "" },
        { VIR_DOMAIN_CRASHED, VIR_DOMAIN_CRASHED_PANICKED,           "panicked" },
        { VIR_DOMAIN_CRASHED, 2,                                     "" },
        { VIR_DOMAIN_CRASHED, -1,                                    "" },
        /* pmsuspended, nostate and out-of-range states have no reason words */
        { VIR_DOMAIN_PMSUSPENDED, VIR_DOMAIN_PMSUSPENDED_UNKNOWN,    "" },
        { VIR_DOMAIN_PMSUSPENDED, 1,                                 "" },
        { VIR_DOMAIN_NOSTATE, VIR_DOMAIN_NOSTATE_UNKNOWN,            "" },
        { VIR_DOMAIN_NOSTATE, 1,                                     "" },
        { VIR_DOMAIN_PMSUSPENDED + 1, 1,                             "" },
        { -1, 1,                                                     "" },
        { INT_MAX, INT_MAX,                                          "" },
};

START_TEST(test_reason_to_string) {
        const char *s = vm_state_reason_to_string(reasons[_i].state, reasons[_i].reason);
        ck_assert_ptr_nonnull(s);
        ck_assert_msg(strcmp(s, reasons[_i].string) == 0, "state %d reason %d: got '%s', expected '%s'",
                      reasons[_i].state, reasons[_i].reason, s, reasons[_i].string);
}
END_TEST

/* The same reason number means different things in different states. */
START_TEST(test_reason_depends_on_state) {
        ck_assert_str_eq(vm_state_reason_to_string(VIR_DOMAIN_RUNNING, 1), "booted");
        ck_assert_str_eq(vm_state_reason_to_string(VIR_DOMAIN_PAUSED, 1), "user");
        ck_assert_str_eq(vm_state_reason_to_string(VIR_DOMAIN_SHUTDOWN, 1), "user");
        ck_assert_str_eq(vm_state_reason_to_string(VIR_DOMAIN_SHUTOFF, 1), "shutdown");
        ck_assert_str_eq(vm_state_reason_to_string(VIR_DOMAIN_CRASHED, 1), "panicked");
        ck_assert_str_eq(vm_state_reason_to_string(VIR_DOMAIN_SHUTOFF, 8), "daemon");
        ck_assert_str_eq(vm_state_reason_to_string(VIR_DOMAIN_RUNNING, 8), "wakeup");
        ck_assert_str_eq(vm_state_reason_to_string(VIR_DOMAIN_PAUSED, 8), "shutting-down");
}
END_TEST

static Suite *vm_state_suite(void) {
        Suite *s = suite_create("vm-state");
        TCase *tc;

        tc = tcase_create("state_to_string");
        tcase_add_loop_test(tc, test_state_to_string, 0, sizeof(states) / sizeof(states[0]));
        tcase_add_test(tc, test_state_to_string_covers_all_states);
        tcase_add_test(tc, test_state_to_string_out_of_range);
        suite_add_tcase(s, tc);

        tc = tcase_create("is_active");
        tcase_add_loop_test(tc, test_state_is_active, 0, sizeof(states) / sizeof(states[0]));
        tcase_add_test(tc, test_state_is_active_out_of_range);
        suite_add_tcase(s, tc);

        tc = tcase_create("reason_to_string");
        tcase_add_loop_test(tc, test_reason_to_string, 0, sizeof(reasons) / sizeof(reasons[0]));
        tcase_add_test(tc, test_reason_depends_on_state);
        suite_add_tcase(s, tc);

        return s;
}

int main(void) {
        SRunner *sr = srunner_create(vm_state_suite());
        srunner_set_fork_status(sr, CK_FORK_GETENV); /* forks unless CK_FORK=no */
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
