/* startup-phases.c: each phase keeps the first time it was reached, and StartupPhases lists the
 * phases reached, in order, as (name, usec). */
#include <check.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <systemd/sd-bus.h>

#include "startup-phases.h"

/* A message to append to: sd-bus needs a bus that has started, not one that is connected. */
static sd_bus *bus_on_socketpair(int fds[2]) {
        sd_bus *bus = NULL;
        ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
        ck_assert_int_ge(sd_bus_new(&bus), 0);
        ck_assert_int_ge(sd_bus_set_fd(bus, fds[0], fds[0]), 0);
        ck_assert_int_ge(sd_bus_start(bus), 0);
        return bus;
}

START_TEST(test_first_mark_wins_and_listing) {
        int fds[2];
        sd_bus *bus = bus_on_socketpair(fds);
        sd_bus_message *m = NULL;

        ck_assert_uint_eq(startup_phase_usec(STARTUP_MAIN), 0);
        startup_phase_mark_at(STARTUP_MAIN, 100);
        startup_phase_mark_at(STARTUP_MAIN, 50); /* later marks change nothing */
        startup_phase_mark_at(STARTUP_BUS_NAME, 300);
        uint64_t before = startup_phase_now();
        startup_phase_mark(STARTUP_FIRST_REPLY);
        ck_assert_uint_eq(startup_phase_usec(STARTUP_MAIN), 100);
        ck_assert_uint_ge(startup_phase_usec(STARTUP_FIRST_REPLY), before);
        ck_assert_uint_eq(startup_phase_usec(STARTUP_CONFIG), 0);
        ck_assert_ptr_null(startup_phase_name(_STARTUP_PHASE_MAX));

        ck_assert_int_ge(sd_bus_message_new_method_call(bus, &m, "org.example", "/", "org.example", "X"), 0);
        ck_assert_int_ge(startup_phases_append(m), 0);
        ck_assert_int_ge(sd_bus_message_seal(m, 1, 0), 0);
        ck_assert_int_ge(sd_bus_message_rewind(m, true), 0);
        ck_assert_int_gt(sd_bus_message_enter_container(m, 'a', "(st)"), 0);
        const char *name;
        uint64_t usec;
        /* Only the phases reached, in the enum's order. */
        ck_assert_int_gt(sd_bus_message_read(m, "(st)", &name, &usec), 0);
        ck_assert_str_eq(name, "main");
        ck_assert_uint_eq(usec, 100);
        ck_assert_int_gt(sd_bus_message_read(m, "(st)", &name, &usec), 0);
        ck_assert_str_eq(name, "bus-name");
        ck_assert_uint_eq(usec, 300);
        ck_assert_int_gt(sd_bus_message_read(m, "(st)", &name, &usec), 0);
        ck_assert_str_eq(name, "first-reply");
        ck_assert_uint_eq(usec, startup_phase_usec(STARTUP_FIRST_REPLY));
        ck_assert_int_eq(sd_bus_message_read(m, "(st)", &name, &usec), 0);

        sd_bus_message_unref(m);
        sd_bus_close_unref(bus);
        close(fds[1]);
}
END_TEST

START_TEST(test_names) {
        static const char *const expected[] = { "main", "config", "bus-name", "libvirt-connected",
                                                "states-known", "first-call", "first-verdict", "first-reply" };
        for (StartupPhase p = 0; p < _STARTUP_PHASE_MAX; p++)
                ck_assert_str_eq(startup_phase_name(p), expected[p]);
}
END_TEST

int main(void) {
        Suite *s = suite_create("startup-phases");
        TCase *tc = tcase_create("core");
        tcase_add_test(tc, test_first_mark_wins_and_listing);
        tcase_add_test(tc, test_names);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? 0 : 1;
}
