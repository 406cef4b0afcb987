/* Unit tests for service/lib/errors.c: libvirt error codes to org.winvm1 bus errors, and the errno map. */
#include <check.h>
#include <errno.h>
#include <libvirt/virterror.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "errors.h"

/* The documented errno of each org.winvm1 error (what sd_bus_error_get_errno() must give). */
static const struct {
        const char *name;
        int errnum;
} errno_of[] = {
        { WINVM_ERROR_ALREADY_RUNNING,  EALREADY },
        { WINVM_ERROR_NOT_RUNNING,      ESRCH },
        { WINVM_ERROR_NOT_DEFINED,      ENOENT },
        { WINVM_ERROR_NO_SUCH_VM,       ENXIO },
        { WINVM_ERROR_TIMEOUT,          ETIMEDOUT },
        { WINVM_ERROR_INVALID_ARGUMENT, EINVAL },
        { WINVM_ERROR_DISCONNECTED,     ENOTCONN },
        { WINVM_ERROR_BUSY,             EBUSY },
        { WINVM_ERROR_LIBVIRT,          EIO },
        { WINVM_ERROR_EXISTS,           EEXIST },
        { WINVM_ERROR_NO_SUCH_SNAPSHOT, ENOENT },
        { WINVM_ERROR_GUEST_RUNNING,    EBUSY },
        { WINVM_ERROR_NO_SPACE,         ENOSPC },
        { WINVM_ERROR_FAILED,           EIO },
        { WINVM_ERROR_NOT_FOUND,        ENOPKG },
        { WINVM_ERROR_NOT_CONFIGURED,   ENOKEY },
};

static int expected_errno(const char *name) {
        for (size_t i = 0; i < sizeof(errno_of) / sizeof(errno_of[0]); i++)
                if (strcmp(errno_of[i].name, name) == 0)
                        return errno_of[i].errnum;
        ck_abort_msg("no errno for %s", name);
        return 0;
}

/* Registration is process-wide and idempotent; every test that depends on it registers,
 * so the result does not depend on test order when run with CK_FORK=no. */
static void register_map(void) {
        ck_assert_int_ge(sd_bus_error_add_map(winvm_error_map), 0);
}

/* ---- winvm_error_name_from_libvirt ---- */

static const struct {
        int code;
        const char *name;
} mapping[] = {
        { VIR_ERR_NO_DOMAIN,          WINVM_ERROR_NOT_DEFINED },
        { VIR_ERR_NO_CONNECT,         WINVM_ERROR_DISCONNECTED },
        { VIR_ERR_INVALID_CONN,       WINVM_ERROR_DISCONNECTED },
        { VIR_ERR_RPC,                WINVM_ERROR_DISCONNECTED },
        { VIR_ERR_OPERATION_TIMEOUT,  WINVM_ERROR_TIMEOUT },
        { VIR_ERR_AGENT_UNRESPONSIVE, WINVM_ERROR_TIMEOUT },
        { VIR_ERR_INVALID_ARG,        WINVM_ERROR_INVALID_ARGUMENT },
        { VIR_ERR_OPERATION_FAILED,   WINVM_ERROR_LIBVIRT },
        { VIR_ERR_INTERNAL_ERROR,     WINVM_ERROR_LIBVIRT },
        { VIR_ERR_OPERATION_INVALID,  WINVM_ERROR_LIBVIRT },
        { VIR_ERR_NO_MEMORY,          WINVM_ERROR_LIBVIRT },
        { VIR_ERR_OK,                 WINVM_ERROR_LIBVIRT },
        { -1,                         WINVM_ERROR_LIBVIRT },
        { 100000,                     WINVM_ERROR_LIBVIRT },
};

START_TEST(test_name_from_libvirt) {
        const char *name = winvm_error_name_from_libvirt(mapping[_i].code);
        ck_assert_ptr_nonnull(name);
        ck_assert_msg(strcmp(name, mapping[_i].name) == 0, "code %d: got %s, expected %s", mapping[_i].code, name,
                      mapping[_i].name);
}
END_TEST

/* ---- winvm_error_set_libvirt ---- */

START_TEST(test_set_libvirt) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        int expected = expected_errno(mapping[_i].name);

        register_map();
        ck_assert_int_eq(winvm_error_set_libvirt(&e, mapping[_i].code, "domain 'Windows11' exploded"), -expected);
        ck_assert(sd_bus_error_is_set(&e));
        ck_assert_str_eq(e.name, mapping[_i].name);
        ck_assert_str_eq(e.message, "domain 'Windows11' exploded");
        ck_assert_int_eq(sd_bus_error_get_errno(&e), expected);
        sd_bus_error_free(&e);
}
END_TEST

START_TEST(test_set_libvirt_returns_negative_errno) {
        sd_bus_error e = SD_BUS_ERROR_NULL;

        register_map();
        ck_assert_int_eq(winvm_error_set_libvirt(&e, VIR_ERR_NO_DOMAIN, "gone"), -ENOENT);
        sd_bus_error_free(&e);
        ck_assert_int_eq(winvm_error_set_libvirt(&e, VIR_ERR_RPC, "eof"), -ENOTCONN);
        sd_bus_error_free(&e);
        ck_assert_int_eq(winvm_error_set_libvirt(&e, VIR_ERR_OPERATION_TIMEOUT, "slow"), -ETIMEDOUT);
        sd_bus_error_free(&e);
        ck_assert_int_eq(winvm_error_set_libvirt(&e, VIR_ERR_INVALID_ARG, "bad"), -EINVAL);
        sd_bus_error_free(&e);
        ck_assert_int_eq(winvm_error_set_libvirt(&e, VIR_ERR_INTERNAL_ERROR, "oops"), -EIO);
        sd_bus_error_free(&e);
}
END_TEST

START_TEST(test_set_libvirt_fallback_message) {
        sd_bus_error e = SD_BUS_ERROR_NULL;

        register_map();
        ck_assert_int_eq(winvm_error_set_libvirt(&e, VIR_ERR_OPERATION_FAILED, NULL), -EIO);
        ck_assert_str_eq(e.name, WINVM_ERROR_LIBVIRT);
        ck_assert_str_eq(e.message, "libvirt call failed");
        sd_bus_error_free(&e);

        ck_assert_int_eq(winvm_error_set_libvirt(&e, VIR_ERR_NO_DOMAIN, ""), -ENOENT);
        ck_assert_str_eq(e.name, WINVM_ERROR_NOT_DEFINED);
        ck_assert_str_eq(e.message, "libvirt call failed");
        sd_bus_error_free(&e);
}
END_TEST

/* The message is data, never a format string. */
START_TEST(test_set_libvirt_message_verbatim) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        const char *msg = "100% failed: %s %n %d\nsecond line";

        register_map();
        ck_assert_int_eq(winvm_error_set_libvirt(&e, VIR_ERR_INTERNAL_ERROR, msg), -EIO);
        ck_assert_str_eq(e.message, msg);
        sd_bus_error_free(&e);
}
END_TEST

/* Handlers that do not want the error still get the errno. */
START_TEST(test_set_libvirt_null_error) {
        register_map();
        ck_assert_int_eq(winvm_error_set_libvirt(NULL, VIR_ERR_NO_DOMAIN, "gone"), -ENOENT);
        ck_assert_int_eq(winvm_error_set_libvirt(NULL, VIR_ERR_INVALID_CONN, NULL), -ENOTCONN);
}
END_TEST

/* ---- winvm_error_map ---- */

START_TEST(test_map_contents) {
        size_t n = 0;
        for (const sd_bus_error_map *m = winvm_error_map; m->name; m++) {
                ck_assert_int_eq(m->code, expected_errno(m->name));
                n++;
        }
        ck_assert_uint_eq(n, sizeof(errno_of) / sizeof(errno_of[0]));
        /* Each error name exactly once. */
        for (size_t i = 0; i < sizeof(errno_of) / sizeof(errno_of[0]); i++) {
                size_t seen = 0;
                for (const sd_bus_error_map *m = winvm_error_map; m->name; m++)
                        seen += strcmp(m->name, errno_of[i].name) == 0;
                ck_assert_msg(seen == 1, "%s is in the map %zu times", errno_of[i].name, seen);
        }
        ck_assert_int_eq(winvm_error_map[n].code, -'x'); /* terminated by SD_BUS_ERROR_MAP_END */
}
END_TEST

START_TEST(test_map_errno) {
        sd_bus_error e = SD_BUS_ERROR_NULL;

        register_map();
        ck_assert_int_eq(sd_bus_error_set(&e, errno_of[_i].name, "message"), -errno_of[_i].errnum);
        ck_assert_int_eq(sd_bus_error_get_errno(&e), errno_of[_i].errnum);
        sd_bus_error_free(&e);

        const sd_bus_error c = SD_BUS_ERROR_MAKE_CONST(errno_of[_i].name, "x");
        ck_assert_int_eq(sd_bus_error_get_errno(&c), errno_of[_i].errnum);
}
END_TEST

START_TEST(test_map_register_twice) {
        register_map();
        ck_assert_int_eq(sd_bus_error_add_map(winvm_error_map), 0); /* already known: no-op */

        /* Names outside the map keep sd-bus' default. */
        const sd_bus_error other = SD_BUS_ERROR_MAKE_CONST("org.winvm1.Error.NoSuchThing", "x");
        ck_assert_int_eq(sd_bus_error_get_errno(&other), EIO);
}
END_TEST

static Suite *errors_suite(void) {
        Suite *s = suite_create("errors");
        TCase *tc;

        tc = tcase_create("name_from_libvirt");
        tcase_add_loop_test(tc, test_name_from_libvirt, 0, sizeof(mapping) / sizeof(mapping[0]));
        suite_add_tcase(s, tc);

        tc = tcase_create("set_libvirt");
        tcase_add_loop_test(tc, test_set_libvirt, 0, sizeof(mapping) / sizeof(mapping[0]));
        tcase_add_test(tc, test_set_libvirt_returns_negative_errno);
        tcase_add_test(tc, test_set_libvirt_fallback_message);
        tcase_add_test(tc, test_set_libvirt_message_verbatim);
        tcase_add_test(tc, test_set_libvirt_null_error);
        suite_add_tcase(s, tc);

        tc = tcase_create("error_map");
        tcase_add_test(tc, test_map_contents);
        tcase_add_loop_test(tc, test_map_errno, 0, sizeof(errno_of) / sizeof(errno_of[0]));
        tcase_add_test(tc, test_map_register_twice);
        suite_add_tcase(s, tc);

        return s;
}

int main(void) {
        SRunner *sr = srunner_create(errors_suite());
        srunner_set_fork_status(sr, CK_FORK_GETENV); /* forks unless CK_FORK=no */
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
