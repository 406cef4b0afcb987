/* Unit tests for client/client-errors.c: bus errors to winvmctl exit codes and messages. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "client-errors.h"
#include "errors.h"

#define INTERACTIVE_AUTH_REQUIRED "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired"
#define GROUP_HINT                                                                                   \
        "winvmctl: members of the group '" WINVM_POLKIT_GROUP "' may do this without a password; "   \
        "an administrator can add you with: usermod -aG " WINVM_POLKIT_GROUP " USER\n"

/* Runs client_report_error() with stderr redirected to a temporary file; returns what it
 * wrote (malloc'd) and its return value in *ret_code. */
static char *capture_report(const sd_bus_error *error, int *ret_code) {
        FILE *tmp = tmpfile();
        ck_assert_ptr_nonnull(tmp);

        fflush(stderr);
        int saved = dup(STDERR_FILENO);
        ck_assert_int_ge(saved, 0);
        ck_assert_int_eq(dup2(fileno(tmp), STDERR_FILENO), STDERR_FILENO);

        *ret_code = client_report_error(error);

        fflush(stderr);
        ck_assert_int_eq(dup2(saved, STDERR_FILENO), STDERR_FILENO);
        close(saved);

        off_t size = lseek(fileno(tmp), 0, SEEK_END);
        ck_assert_int_ge(size, 0);
        char *out = calloc(1, (size_t) size + 1);
        ck_assert_ptr_nonnull(out);
        ck_assert_int_eq(pread(fileno(tmp), out, (size_t) size, 0), (ssize_t) size);
        fclose(tmp);
        return out;
}

/* ---- client_exit_code_for_error ---- */

static const struct {
        const char *name;
        int code;
} exit_codes[] = {
        { SD_BUS_ERROR_ACCESS_DENIED,      EXIT_ACCESS_DENIED },
        { INTERACTIVE_AUTH_REQUIRED,       EXIT_ACCESS_DENIED },
        { WINVM_ERROR_NO_SUCH_VM,          EXIT_NO_SUCH_VM },
        { WINVM_ERROR_NOT_DEFINED,         EXIT_NO_SUCH_VM },
        { SD_BUS_ERROR_UNKNOWN_OBJECT,     EXIT_NO_SUCH_VM },
        { WINVM_ERROR_NO_SUCH_SNAPSHOT,    EXIT_NO_SUCH_VM },
        { WINVM_ERROR_NOT_FOUND,           EXIT_NO_SUCH_VM },
        { WINVM_ERROR_ALREADY_RUNNING,     EXIT_WRONG_STATE },
        { WINVM_ERROR_NOT_RUNNING,         EXIT_WRONG_STATE },
        { WINVM_ERROR_GUEST_RUNNING,       EXIT_WRONG_STATE },
        { WINVM_ERROR_EXISTS,              EXIT_EXISTS },
        { WINVM_ERROR_NO_SPACE,            EXIT_NO_SPACE },
        { WINVM_ERROR_TIMEOUT,             EXIT_TIMEOUT },
        { SD_BUS_ERROR_NO_REPLY,           EXIT_TIMEOUT },
        { SD_BUS_ERROR_TIMEOUT,            EXIT_TIMEOUT },
        { WINVM_ERROR_DISCONNECTED,        EXIT_UNAVAILABLE },
        { SD_BUS_ERROR_SERVICE_UNKNOWN,    EXIT_UNAVAILABLE },
        { SD_BUS_ERROR_NAME_HAS_NO_OWNER,  EXIT_UNAVAILABLE },
        { WINVM_ERROR_INVALID_ARGUMENT,    EXIT_USAGE },
        { SD_BUS_ERROR_INVALID_ARGS,       EXIT_USAGE },
        /* Everything else is a plain failure. */
        { WINVM_ERROR_BUSY,                EXIT_FAILED },
        { WINVM_ERROR_LIBVIRT,             EXIT_FAILED },
        { WINVM_ERROR_FAILED,              EXIT_FAILED },
        { SD_BUS_ERROR_FAILED,             EXIT_FAILED },
        { SD_BUS_ERROR_NO_MEMORY,          EXIT_FAILED },
        { SD_BUS_ERROR_UNKNOWN_METHOD,     EXIT_FAILED },
        { "org.example.Error.Whatever",    EXIT_FAILED },
        { "",                              EXIT_FAILED },
        { "org.winvm1.error.nosuchvm",     EXIT_FAILED }, /* names are case-sensitive */
        { "org.winvm1.Error.NoSuchVMs",    EXIT_FAILED }, /* and matched exactly */
        { "org.winvm1.Error.NoSuch",       EXIT_FAILED },
        { "org.winvm1.Error.NoSuchSnapshots", EXIT_FAILED },
        { "org.winvm1.Error.Exist",        EXIT_FAILED },
        { "org.winvm1.Error.Notfound",     EXIT_FAILED },
        { "org.winvm1.Error.NotFoundX",    EXIT_FAILED },
};

START_TEST(test_exit_code_for_error) {
        ck_assert_msg(client_exit_code_for_error(exit_codes[_i].name) == exit_codes[_i].code, "%s: got %d, expected %d",
                      exit_codes[_i].name, client_exit_code_for_error(exit_codes[_i].name), exit_codes[_i].code);
}
END_TEST

START_TEST(test_exit_code_values) {
        /* The exit codes are part of winvmctl's documented interface. */
        ck_assert_int_eq(EXIT_OK, 0);
        ck_assert_int_eq(EXIT_FAILED, 1);
        ck_assert_int_eq(EXIT_USAGE, 2);
        ck_assert_int_eq(EXIT_ACCESS_DENIED, 3);
        ck_assert_int_eq(EXIT_NO_SUCH_VM, 4);
        ck_assert_int_eq(EXIT_WRONG_STATE, 5);
        ck_assert_int_eq(EXIT_TIMEOUT, 6);
        ck_assert_int_eq(EXIT_UNAVAILABLE, 7);
        ck_assert_int_eq(EXIT_EXISTS, 8);
        ck_assert_int_eq(EXIT_NO_SPACE, 9);
}
END_TEST

START_TEST(test_exit_code_for_null) {
        ck_assert_int_eq(client_exit_code_for_error(NULL), 1);
}
END_TEST

/* ---- client_report_error ---- */

START_TEST(test_report_plain_message) {
        const sd_bus_error e = SD_BUS_ERROR_MAKE_CONST(WINVM_ERROR_NO_SUCH_VM, "No VM named 'Foo' is managed by winvm");
        int code = -1;
        char *out = capture_report(&e, &code);
        ck_assert_int_eq(code, EXIT_NO_SUCH_VM);
        ck_assert_str_eq(out, "winvmctl: No VM named 'Foo' is managed by winvm\n");
        free(out);
}
END_TEST

/* The service's message is printed as is, never interpreted as a format. */
START_TEST(test_report_message_verbatim) {
        const sd_bus_error e = SD_BUS_ERROR_MAKE_CONST(WINVM_ERROR_LIBVIRT, "100% broken: %s %n %x\tend");
        int code = -1;
        char *out = capture_report(&e, &code);
        ck_assert_int_eq(code, EXIT_FAILED);
        ck_assert_str_eq(out, "winvmctl: 100% broken: %s %n %x\tend\n");
        free(out);
}
END_TEST

START_TEST(test_report_no_message_uses_name) {
        const sd_bus_error e = SD_BUS_ERROR_MAKE_CONST(WINVM_ERROR_BUSY, NULL);
        int code = -1;
        char *out = capture_report(&e, &code);
        ck_assert_int_eq(code, EXIT_FAILED);
        ck_assert_str_eq(out, "winvmctl: " WINVM_ERROR_BUSY "\n");
        free(out);
}
END_TEST

START_TEST(test_report_access_denied_hint) {
        static const char *const names[] = { SD_BUS_ERROR_ACCESS_DENIED, INTERACTIVE_AUTH_REQUIRED };
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
                const sd_bus_error e = SD_BUS_ERROR_MAKE_CONST(names[i], "Not authorized to start Windows11");
                int code = -1;
                char *out = capture_report(&e, &code);
                ck_assert_int_eq(code, EXIT_ACCESS_DENIED);
                ck_assert_str_eq(out, "winvmctl: Not authorized to start Windows11\n" GROUP_HINT);
                ck_assert_ptr_nonnull(strstr(out, "'" WINVM_POLKIT_GROUP "'"));
                ck_assert_ptr_nonnull(strstr(out, "usermod -aG " WINVM_POLKIT_GROUP " USER"));
                free(out);
        }
}
END_TEST

START_TEST(test_report_default_group_is_winvm) {
        /* The unit tests are built with the project's polkit_group option; with its default
         * the hint names the group winvm literally. */
        if (strcmp(WINVM_POLKIT_GROUP, "winvm") != 0)
                return;
        const sd_bus_error e = SD_BUS_ERROR_MAKE_CONST(SD_BUS_ERROR_ACCESS_DENIED, "denied");
        int code = -1;
        char *out = capture_report(&e, &code);
        ck_assert_int_eq(code, EXIT_ACCESS_DENIED);
        ck_assert_ptr_nonnull(strstr(out, "the group 'winvm'"));
        ck_assert_ptr_nonnull(strstr(out, "usermod -aG winvm USER\n"));
        free(out);
}
END_TEST

/* Only a refusal gets the group hint. */
START_TEST(test_report_no_hint_otherwise) {
        for (size_t i = 0; i < sizeof(exit_codes) / sizeof(exit_codes[0]); i++) {
                if (exit_codes[i].code == EXIT_ACCESS_DENIED)
                        continue;
                const sd_bus_error e = SD_BUS_ERROR_MAKE_CONST(exit_codes[i].name, "some message");
                int code = -1;
                char *out = capture_report(&e, &code);
                ck_assert_int_eq(code, exit_codes[i].code);
                ck_assert_msg(!strstr(out, "usermod") && !strstr(out, "group"), "%s: unexpected hint in '%s'",
                              exit_codes[i].name, out);
                free(out);
        }
}
END_TEST

/* A change only an administrator may admit gets no group hint: the group does not grant it. */
START_TEST(test_report_define_unrestricted) {
        const sd_bus_error e = SD_BUS_ERROR_MAKE_CONST(SD_BUS_ERROR_ACCESS_DENIED,
                                                       "the change at <seclabel> (added) needs org.winvm1.vm.define-unrestricted");
        int code = -1;
        char *out = capture_report(&e, &code);
        ck_assert_int_eq(code, EXIT_ACCESS_DENIED);
        ck_assert_msg(!strstr(out, "usermod"), "group hint in '%s'", out);
        ck_assert_msg(strstr(out, "administrator") != NULL, "no administrator hint in '%s'", out);
        free(out);
}
END_TEST

/* When the service cannot be reached at all, say so; Disconnected comes from the service itself. */
/* The snapshot errors print the service's message as is, with their own exit codes. */
START_TEST(test_report_snapshot_errors) {
        static const struct {
                const char *name, *message;
                int code;
        } cases[] = {
                { WINVM_ERROR_EXISTS, "A snapshot named 'fresh-install' exists", EXIT_EXISTS },
                { WINVM_ERROR_NO_SUCH_SNAPSHOT, "Windows11 has no snapshot named 'nope'", EXIT_NO_SUCH_VM },
                { WINVM_ERROR_GUEST_RUNNING, "Windows11 is running; shut it down first", EXIT_WRONG_STATE },
                { WINVM_ERROR_NO_SPACE, "No space left on /vm-storage/images", EXIT_NO_SPACE },
                { WINVM_ERROR_FAILED, "qemu-img rebase failed", EXIT_FAILED },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                const sd_bus_error e = SD_BUS_ERROR_MAKE_CONST(cases[i].name, cases[i].message);
                int code = -1;
                char *out = capture_report(&e, &code);
                ck_assert_int_eq(code, cases[i].code);
                char expected[256];
                snprintf(expected, sizeof(expected), "winvmctl: %s\n", cases[i].message);
                ck_assert_str_eq(out, expected);
                free(out);
        }
}
END_TEST

/* The host errors: a missing kvmfr module is "not found", a device in use a plain failure. */
START_TEST(test_report_host_errors) {
        static const struct {
                const char *name, *message;
                int code;
        } cases[] = {
                { WINVM_ERROR_NOT_FOUND, "The kvmfr module is not installed", EXIT_NO_SUCH_VM },
                { WINVM_ERROR_BUSY, "Windows11 is running and uses /dev/kvmfr0", EXIT_FAILED },
                { WINVM_ERROR_FAILED, "udevadm trigger failed", EXIT_FAILED },
        };
        ck_assert_str_eq(WINVM_ERROR_NOT_FOUND, "org.winvm1.Error.NotFound");
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                const sd_bus_error e = SD_BUS_ERROR_MAKE_CONST(cases[i].name, cases[i].message);
                int code = -1;
                char *out = capture_report(&e, &code);
                ck_assert_int_eq(code, cases[i].code);
                char expected[256];
                snprintf(expected, sizeof(expected), "winvmctl: %s\n", cases[i].message);
                ck_assert_str_eq(out, expected);
                free(out);
        }
}
END_TEST

START_TEST(test_report_unavailable) {
        static const char *const names[] = { SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER };
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
                const sd_bus_error e = SD_BUS_ERROR_MAKE_CONST(names[i], "The name is not activatable");
                int code = -1;
                char *out = capture_report(&e, &code);
                ck_assert_int_eq(code, EXIT_UNAVAILABLE);
                ck_assert_str_eq(out, "winvmctl: the winvm service is not available: The name is not activatable\n");
                free(out);
        }

        const sd_bus_error e = SD_BUS_ERROR_MAKE_CONST(WINVM_ERROR_DISCONNECTED, "libvirt connection lost");
        int code = -1;
        char *out = capture_report(&e, &code);
        ck_assert_int_eq(code, EXIT_UNAVAILABLE);
        ck_assert_str_eq(out, "winvmctl: libvirt connection lost\n");
        free(out);
}
END_TEST

START_TEST(test_report_returns_exit_code) {
        for (size_t i = 0; i < sizeof(exit_codes) / sizeof(exit_codes[0]); i++) {
                if (exit_codes[i].name[0] == '\0')
                        continue;
                const sd_bus_error e = SD_BUS_ERROR_MAKE_CONST(exit_codes[i].name, "m");
                int code = -1;
                char *out = capture_report(&e, &code);
                ck_assert_msg(code == exit_codes[i].code, "%s: got %d, expected %d", exit_codes[i].name, code,
                              exit_codes[i].code);
                ck_assert_msg(strncmp(out, "winvmctl: ", 10) == 0, "%s: '%s'", exit_codes[i].name, out);
                free(out);
        }
}
END_TEST

static Suite *client_errors_suite(void) {
        Suite *s = suite_create("client-errors");
        TCase *tc;

        tc = tcase_create("exit_code_for_error");
        tcase_add_loop_test(tc, test_exit_code_for_error, 0, sizeof(exit_codes) / sizeof(exit_codes[0]));
        tcase_add_test(tc, test_exit_code_values);
        tcase_add_test(tc, test_exit_code_for_null);
        suite_add_tcase(s, tc);

        tc = tcase_create("report_error");
        tcase_add_test(tc, test_report_plain_message);
        tcase_add_test(tc, test_report_message_verbatim);
        tcase_add_test(tc, test_report_no_message_uses_name);
        tcase_add_test(tc, test_report_access_denied_hint);
        tcase_add_test(tc, test_report_default_group_is_winvm);
        tcase_add_test(tc, test_report_define_unrestricted);
        tcase_add_test(tc, test_report_no_hint_otherwise);
        tcase_add_test(tc, test_report_snapshot_errors);
        tcase_add_test(tc, test_report_host_errors);
        tcase_add_test(tc, test_report_unavailable);
        tcase_add_test(tc, test_report_returns_exit_code);
        suite_add_tcase(s, tc);

        return s;
}

int main(void) {
        SRunner *sr = srunner_create(client_errors_suite());
        srunner_set_fork_status(sr, CK_FORK_GETENV); /* forks unless CK_FORK=no */
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
