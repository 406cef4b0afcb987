/* Unit tests for service/names.c: VM name validation and the VM object paths. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "names.h"

/* A name of n copies of c (n < 128). */
static const char *repeat(char c, size_t n) {
        static char buf[128];
        ck_assert_uint_lt(n, sizeof(buf));
        memset(buf, c, n);
        buf[n] = '\0';
        return buf;
}

/* A pointer no function should write through or return: detects stray writes on failure. */
#define SENTINEL ((char *) (uintptr_t) 0x1)

/* ---- vm_name_is_valid ---- */

static const char *const valid_names[] = {
        "Windows11", "a", "Z", "0", "9abc", "_", "+", "_x", "+x", "win-11", "win.11", "win_11",
        "win+11", "a-", "a.", "a..b", "A-B.C_D+E", "0123456789",
};

START_TEST(test_valid_names) {
        const char *name = valid_names[_i];
        ck_assert_msg(vm_name_is_valid(name), "'%s' should be a valid VM name", name);
}
END_TEST

static const char *const invalid_names[] = {
        "",            /* empty */
        " ",           /* space */
        "Win 11",
        " Win",
        "Win ",
        "/",
        "a/b",
        "Win/",
        ".",
        "..",
        ".hidden",
        "-",
        "-x",
        "--x",
        "W\xc3\xafndows", /* "Wïndows" in UTF-8 */
        "\xc3\xa9",       /* "é" */
        "\xff",
        "\x80x",
        "a\tb",
        "a\nb",
        "a:b",
        "a@b",
        "a*b",
        "a\\b",
        "a'b",
        "a\"b",
        "a;b",
        "a,b",
        "a=b",
        "a%b",
        "a$b",
        "a~b",
};

START_TEST(test_invalid_names) {
        const char *name = invalid_names[_i];
        ck_assert_msg(!vm_name_is_valid(name), "'%s' (entry %d) should be an invalid VM name", name, _i);
}
END_TEST

START_TEST(test_name_null) {
        ck_assert(!vm_name_is_valid(NULL));
}
END_TEST

START_TEST(test_name_length_boundaries) {
        ck_assert_int_eq(VM_NAME_MAX, 64);
        ck_assert(vm_name_is_valid(repeat('a', 1)));
        ck_assert(vm_name_is_valid(repeat('a', 63)));
        ck_assert(vm_name_is_valid(repeat('a', 64)));
        ck_assert(!vm_name_is_valid(repeat('a', 65)));
        ck_assert(!vm_name_is_valid(repeat('a', 100)));
        ck_assert(vm_name_is_valid(repeat('9', 64)));
        ck_assert(!vm_name_is_valid(repeat('9', 65)));

        /* 64 characters with an invalid character at the very end are still invalid. */
        char buf[65];
        memset(buf, 'a', 64);
        buf[64] = '\0';
        buf[63] = ' ';
        ck_assert(!vm_name_is_valid(buf));
        buf[63] = '-';
        ck_assert(vm_name_is_valid(buf));
        buf[0] = '.';
        ck_assert(!vm_name_is_valid(buf));
}
END_TEST

/* ---- vm_object_path ---- */

static const struct {
        const char *name;
        const char *path;
} encodings[] = {
        { "Windows11",    "/org/winvm1/vm/Windows11" },
        { "a",            "/org/winvm1/vm/a" },
        { "win-11",       "/org/winvm1/vm/win_2d11" },
        { "win.11",       "/org/winvm1/vm/win_2e11" },
        { "win+11",       "/org/winvm1/vm/win_2b11" },
        { "win_11",       "/org/winvm1/vm/win_5f11" },
        { "_",            "/org/winvm1/vm/_5f" },
        { "+x",           "/org/winvm1/vm/_2bx" },
        { "11",           "/org/winvm1/vm/_311" }, /* sd-bus escapes a leading digit */
        { "a-",           "/org/winvm1/vm/a_2d" },
        { "Win.10-x+y_z", "/org/winvm1/vm/Win_2e10_2dx_2by_5fz" },
};

START_TEST(test_object_path_encoding) {
        char *path = SENTINEL;
        ck_assert_int_eq(vm_object_path(encodings[_i].name, &path), 0);
        ck_assert_ptr_nonnull(path);
        ck_assert_ptr_ne(path, SENTINEL);
        ck_assert_str_eq(path, encodings[_i].path);
        ck_assert(sd_bus_object_path_is_valid(path));
        free(path);
}
END_TEST

START_TEST(test_object_path_max_length) {
        char *path = NULL;
        const char *name = repeat('W', 64);
        ck_assert_int_eq(vm_object_path(name, &path), 0);
        ck_assert_uint_eq(strlen(path), strlen(WINVM_VM_PREFIX "/") + 64);
        ck_assert_int_eq(strncmp(path, WINVM_VM_PREFIX "/", strlen(WINVM_VM_PREFIX "/")), 0);
        ck_assert_str_eq(path + strlen(WINVM_VM_PREFIX "/"), name);
        free(path);
}
END_TEST

START_TEST(test_object_path_invalid_names) {
        static const char *const names[] = { "", ".x", "-x", "a/b", "a b", "W\xc3\xafn", "..", "/" };
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
                char *path = SENTINEL;
                ck_assert_int_eq(vm_object_path(names[i], &path), -EINVAL);
                ck_assert_ptr_eq(path, SENTINEL);
        }

        char *path = SENTINEL;
        ck_assert_int_eq(vm_object_path(NULL, &path), -EINVAL);
        ck_assert_ptr_eq(path, SENTINEL);
        ck_assert_int_eq(vm_object_path(repeat('a', 65), &path), -EINVAL);
        ck_assert_ptr_eq(path, SENTINEL);
}
END_TEST

/* ---- vm_name_from_object_path ---- */

START_TEST(test_name_from_path_decoding) {
        char *name = SENTINEL;
        ck_assert_int_eq(vm_name_from_object_path(encodings[_i].path, &name), 0);
        ck_assert_ptr_nonnull(name);
        ck_assert_ptr_ne(name, SENTINEL);
        ck_assert_str_eq(name, encodings[_i].name);
        free(name);
}
END_TEST

START_TEST(test_name_round_trip) {
        static const char *const names[] = { "Windows11", "win-11", "a.b", "x+y", "_", "7", "A-B.C_D+E" };
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) + 1; i++) {
                const char *n = i < sizeof(names) / sizeof(names[0]) ? names[i] : repeat('z', 64);
                char *path = NULL, *back = NULL;
                ck_assert_int_eq(vm_object_path(n, &path), 0);
                ck_assert_int_eq(vm_name_from_object_path(path, &back), 0);
                ck_assert_str_eq(back, n);
                free(path);
                free(back);
        }
}
END_TEST

/* Valid object paths that are not the path of a VM. */
static const char *const foreign_paths[] = {
        "/",
        "/org",
        "/org/winvm1",
        "/org/winvm1/vm",               /* the prefix itself: decodes to "" */
        "/org/winvm1/vmx",
        "/org/winvm1/vmWindows11",
        "/org/winvm1/VM/Windows11",
        "/org/winvm2/vm/Windows11",
        "/org/winvm1/Windows11",
        "/org/freedesktop/DBus",
        "/Windows11",
        "/org/winvm1/vm/_",              /* escaped empty string */
        "/org/winvm1/vm/a/b",            /* deeper below the prefix */
        "/org/winvm1/vm/Windows11/x",
};

START_TEST(test_name_from_foreign_path) {
        char *name = SENTINEL;
        ck_assert_msg(sd_bus_object_path_is_valid(foreign_paths[_i]), "bad fixture %s", foreign_paths[_i]);
        ck_assert_int_eq(vm_name_from_object_path(foreign_paths[_i], &name), -ENXIO);
        ck_assert_ptr_eq(name, SENTINEL);
}
END_TEST

/* Paths below the prefix whose decoded name is not a valid VM name. */
static const char *const invalid_name_paths[] = {
        "/org/winvm1/vm/_2dx",      /* "-x" */
        "/org/winvm1/vm/_2ex",      /* ".x" */
        "/org/winvm1/vm/_2e",       /* "." */
        "/org/winvm1/vm/a_20b",     /* "a b" */
        "/org/winvm1/vm/a_2fb",     /* "a/b" */
        "/org/winvm1/vm/W_c3_afn",  /* "Wïn" */
        "/org/winvm1/vm/a_3ab",     /* "a:b" */
};

START_TEST(test_name_from_path_invalid_name) {
        char *name = SENTINEL;
        ck_assert_int_eq(vm_name_from_object_path(invalid_name_paths[_i], &name), -ENXIO);
        ck_assert_ptr_eq(name, SENTINEL);
}
END_TEST

START_TEST(test_name_from_path_too_long) {
        char path[256];
        char *name = SENTINEL;

        snprintf(path, sizeof(path), "%s/%s", WINVM_VM_PREFIX, repeat('a', 65));
        ck_assert_int_eq(vm_name_from_object_path(path, &name), -ENXIO);
        ck_assert_ptr_eq(name, SENTINEL);

        snprintf(path, sizeof(path), "%s/%s", WINVM_VM_PREFIX, repeat('a', 64));
        ck_assert_int_eq(vm_name_from_object_path(path, &name), 0);
        ck_assert_str_eq(name, repeat('a', 64));
        free(name);
}
END_TEST

/* Regression (fixed; service/names.c, vm_name_from_object_path): sd_bus_path_decode() accepts any escaping,
 * so paths that vm_object_path() never produces map to a VM: "_00" decodes to a NUL byte that
 * truncates the name ("/org/winvm1/vm/Win_00dows" -> "Win"), a needlessly escaped letter
 * ("_57indows11" -> "Windows11") or a malformed escape taken literally ("Win_5" -> "Win_5", whose
 * path is ".../Win_5f5") aliases a VM under a second path. Only the canonical path should name a
 * VM; the fix is to compare vm_object_path(name) with the input and return -ENXIO otherwise.
 * These tests assert that correct behaviour and fail until names.c is fixed. */
static const char *const non_canonical_paths[] = {
        "/org/winvm1/vm/Win_00dows",    /* embedded NUL: would be "Win" */
        "/org/winvm1/vm/Windows11_00",  /* would be "Windows11" */
        "/org/winvm1/vm/_57indows11",   /* "W" escaped: would be "Windows11" */
        "/org/winvm1/vm/Win_5",         /* malformed escape: would be "Win_5" */
        "/org/winvm1/vm/a_2",
        "/org/winvm1/vm/win_2D11",      /* upper-case hex: would be "win-11" */
};

START_TEST(test_name_from_non_canonical_path) {
        char *name = SENTINEL;
        char got[VM_NAME_MAX + 1] = "";
        int r = vm_name_from_object_path(non_canonical_paths[_i], &name);
        if (r == 0) { /* free it before failing, so the failure does not also leak */
                snprintf(got, sizeof(got), "%s", name);
                free(name);
                name = SENTINEL;
        }
        ck_assert_msg(r == -ENXIO, "%s: got %d (name '%s'), expected -ENXIO", non_canonical_paths[_i], r, got);
        ck_assert_ptr_eq(name, SENTINEL);
}
END_TEST

/* Strings that are not object paths at all: sd_bus_path_decode() rejects them with -EINVAL
 * (the header's -ENXIO is for valid paths that are not below the prefix) and *ret_name is not
 * touched. */
START_TEST(test_name_from_non_path) {
        static const char *const paths[] = { "", "Windows11", "org/winvm1/vm/Windows11",
                                             "/org/winvm1/vm/", "/org/winvm1//vm/Windows11",
                                             "/org/winvm1/vm/Win dows" };
        for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
                char *name = SENTINEL;
                ck_assert_msg(vm_name_from_object_path(paths[i], &name) == -EINVAL, "'%s' not rejected", paths[i]);
                ck_assert_ptr_eq(name, SENTINEL);
        }
}
END_TEST

/* ---- snapshot_name_is_valid ---- */

static const char *const valid_snapshot_names[] = {
        "a", "Z", "0", "_", "_x", "before-update", "snapshot-20240101-120000", "pre-revert-20240101-120000-2",
        "v1.0", "a.", "a-", "a..b", "A_B-C.D", "0123456789", "x_",
};

START_TEST(test_snapshot_valid_names) {
        const char *name = valid_snapshot_names[_i];
        ck_assert_msg(snapshot_name_is_valid(name), "'%s' should be a valid snapshot name", name);
}
END_TEST

static const char *const invalid_snapshot_names[] = {
        "",
        ".",
        "..",
        ".hidden",
        "-",
        "-x",
        "--help",
        "a+b",         /* '+' is fine in a VM name, not in a snapshot name */
        "+",
        "a b",
        " a",
        "a ",
        "a/b",
        "/",
        "../x",
        "a]b",         /* would end the key-file group name */
        "[a",
        "a;b",
        "a=b",
        "a#b",
        "a:b",
        "a\\b",
        "a'b",
        "a\"b",
        "a*b",
        "a?b",
        "a$b",
        "a\tb",
        "a\nb",
        "a\rb",
        "\x7f",
        "\x01",
        "caf\xc3\xa9",   /* "café" in UTF-8 */
        "\xc3\xa9",
        "\xff",
        "a\x80",
};

START_TEST(test_snapshot_invalid_names) {
        const char *name = invalid_snapshot_names[_i];
        ck_assert_msg(!snapshot_name_is_valid(name), "'%s' (entry %d) should be an invalid snapshot name", name, _i);
}
END_TEST

START_TEST(test_snapshot_name_null_and_length) {
        ck_assert(!snapshot_name_is_valid(NULL));
        ck_assert_int_eq(SNAPSHOT_NAME_MAX, 64);
        ck_assert(snapshot_name_is_valid(repeat('s', 1)));
        ck_assert(snapshot_name_is_valid(repeat('s', 63)));
        ck_assert(snapshot_name_is_valid(repeat('s', 64)));
        ck_assert(!snapshot_name_is_valid(repeat('s', 65)));
        ck_assert(!snapshot_name_is_valid(repeat('s', 127)));
        ck_assert(snapshot_name_is_valid(repeat('_', 64)));
        ck_assert(!snapshot_name_is_valid(repeat('.', 64)));
        ck_assert(!snapshot_name_is_valid(repeat('-', 64)));

        /* The last of 64 characters is checked too. */
        char buf[65];
        memset(buf, 'a', 64);
        buf[64] = '\0';
        buf[63] = '+';
        ck_assert(!snapshot_name_is_valid(buf));
        buf[63] = '.';
        ck_assert(snapshot_name_is_valid(buf));
        buf[0] = '-';
        ck_assert(!snapshot_name_is_valid(buf));
}
END_TEST

/* ---- snapshot_description_is_valid ---- */

static const char *const valid_descriptions[] = {
        "",
        "before the GPU driver update",
        "line one\nline two\n",
        "\tindented",
        "quotes ' \" and <xml> & [brackets] ; # = \\ are just text",
        "Gr\xc3\xbc\xc3\x9f" "e aus M\xc3\xbcnchen",        /* "Grüße aus München" */
        "\xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac",           /* "✓ 日本" */
        "\xf0\x9f\x8e\xae gaming",                          /* U+1F3AE, four bytes */
        " leading and trailing spaces ",
        "\xc2\xa0no-break space",                           /* U+00A0 is not a control character */
};

START_TEST(test_description_valid) {
        const char *d = valid_descriptions[_i];
        ck_assert_msg(snapshot_description_is_valid(d), "entry %d should be a valid description", _i);
}
END_TEST

static const char *const invalid_descriptions[] = {
        "carriage\rreturn",
        "escape \x1b[31mred",
        "bell\a",
        "\x01",
        "a\x1f",
        "vertical\vtab",
        "form\ffeed",
        "backspace\b",
        "delete\x7f",
        "\xff",
        "half \xc3",                       /* truncated two-byte sequence */
        "\xc0\xaf",                        /* overlong "/" */
        "\xe0\x80\xaf",                    /* overlong "/" in three bytes */
        "\xed\xa0\x80",                    /* UTF-16 surrogate U+D800 */
        "\xf4\x90\x80\x80",                /* above U+10FFFF */
        "Latin-1 caf\xe9",
};

START_TEST(test_description_invalid) {
        const char *d = invalid_descriptions[_i];
        ck_assert_msg(!snapshot_description_is_valid(d), "entry %d should be an invalid description", _i);
}
END_TEST

/* Regression (fixed; service/names.c, snapshot_description_is_valid): only ASCII controls are refused, but
 * Unicode's C1 controls (U+0080..U+009F, general category Cc like the C0 ones) are control
 * characters too: U+009B is an 8-bit CSI that some terminals obey (winvmctl prints
 * descriptions), U+0085 is NEL. The fix is to decode with g_utf8_get_char() and refuse
 * g_unichar_iscntrl() other than '\n' and '\t'.c is fixed. */
static const char *const c1_descriptions[] = {
        "csi \xc2\x9b" "31m",
        "next\xc2\x85line",
        "\xc2\x80",
        "\xc2\x9f",
};

START_TEST(test_description_c1_controls) {
        const char *d = c1_descriptions[_i];
        ck_assert_msg(!snapshot_description_is_valid(d), "entry %d (a C1 control) should be an invalid description", _i);
}
END_TEST

START_TEST(test_description_null_and_length) {
        ck_assert(!snapshot_description_is_valid(NULL));
        ck_assert_int_eq(SNAPSHOT_DESCRIPTION_MAX, 1024);

        char buf[1100];
        memset(buf, 'd', sizeof(buf));
        buf[1024] = '\0';
        ck_assert(snapshot_description_is_valid(buf));
        buf[1024] = 'd';
        buf[1025] = '\0';
        ck_assert(!snapshot_description_is_valid(buf));
        buf[1025] = 'd';
        buf[1099] = '\0';
        ck_assert(!snapshot_description_is_valid(buf));

        /* The limit is in bytes: 512 two-byte characters fit, one more does not. */
        for (size_t i = 0; i < 1026; i += 2) {
                buf[i] = '\xc3';
                buf[i + 1] = '\xa4'; /* "ä" */
        }
        buf[1024] = '\0';
        ck_assert(snapshot_description_is_valid(buf));
        buf[1024] = '\xc3';
        buf[1026] = '\0';
        ck_assert(!snapshot_description_is_valid(buf));

        /* 1024 bytes ending in the middle of a character are not UTF-8. */
        buf[1023] = '\0';
        ck_assert(!snapshot_description_is_valid(buf));

        /* A control character in the last byte counts. */
        memset(buf, 'd', 1024);
        buf[1024] = '\0';
        buf[1023] = '\r';
        ck_assert(!snapshot_description_is_valid(buf));
        buf[1023] = '\n';
        ck_assert(snapshot_description_is_valid(buf));
}
END_TEST

/* ---- disk_target_is_valid ---- */

static const char *const valid_targets[] = {
        "vda", "vdb", "sda", "sdz", "hda", "fda", "nvme0n1", "xvda", "vdaa", "a", "0", "ubd0",
};

START_TEST(test_target_valid) {
        ck_assert_msg(disk_target_is_valid(valid_targets[_i]), "'%s' should be a valid target", valid_targets[_i]);
}
END_TEST

static const char *const invalid_targets[] = {
        "", "VDA", "Vda", "vd-a", "vd_a", "vd.a", "vd a", " vda", "vda ", "vda/", "/vda", "../vda",
        "vd;a", "vd=a", "vd]a", "vda\n", "v\xc3\xa4" "a",
};

START_TEST(test_target_invalid) {
        ck_assert_msg(!disk_target_is_valid(invalid_targets[_i]), "'%s' (entry %d) should be an invalid target",
                      invalid_targets[_i], _i);
}
END_TEST

START_TEST(test_target_null_and_length) {
        ck_assert(!disk_target_is_valid(NULL));
        ck_assert(disk_target_is_valid(repeat('v', 1)));
        ck_assert(disk_target_is_valid(repeat('v', 31)));
        ck_assert(disk_target_is_valid(repeat('v', 32)));
        ck_assert(!disk_target_is_valid(repeat('v', 33)));
        ck_assert(!disk_target_is_valid(repeat('v', 100)));
        ck_assert(disk_target_is_valid(repeat('7', 32)));
}
END_TEST

static Suite *names_suite(void) {
        Suite *s = suite_create("names");
        TCase *tc;

        tc = tcase_create("is_valid");
        tcase_add_loop_test(tc, test_valid_names, 0, sizeof(valid_names) / sizeof(valid_names[0]));
        tcase_add_loop_test(tc, test_invalid_names, 0, sizeof(invalid_names) / sizeof(invalid_names[0]));
        tcase_add_test(tc, test_name_null);
        tcase_add_test(tc, test_name_length_boundaries);
        suite_add_tcase(s, tc);

        tc = tcase_create("object_path");
        tcase_add_loop_test(tc, test_object_path_encoding, 0, sizeof(encodings) / sizeof(encodings[0]));
        tcase_add_test(tc, test_object_path_max_length);
        tcase_add_test(tc, test_object_path_invalid_names);
        suite_add_tcase(s, tc);

        tc = tcase_create("name_from_object_path");
        tcase_add_loop_test(tc, test_name_from_path_decoding, 0, sizeof(encodings) / sizeof(encodings[0]));
        tcase_add_test(tc, test_name_round_trip);
        tcase_add_loop_test(tc, test_name_from_foreign_path, 0, sizeof(foreign_paths) / sizeof(foreign_paths[0]));
        tcase_add_loop_test(tc, test_name_from_path_invalid_name, 0,
                            sizeof(invalid_name_paths) / sizeof(invalid_name_paths[0]));
        tcase_add_test(tc, test_name_from_path_too_long);
        tcase_add_test(tc, test_name_from_non_path);
        suite_add_tcase(s, tc);

        tc = tcase_create("snapshot_name");
        tcase_add_loop_test(tc, test_snapshot_valid_names, 0, sizeof(valid_snapshot_names) / sizeof(valid_snapshot_names[0]));
        tcase_add_loop_test(tc, test_snapshot_invalid_names, 0,
                            sizeof(invalid_snapshot_names) / sizeof(invalid_snapshot_names[0]));
        tcase_add_test(tc, test_snapshot_name_null_and_length);
        suite_add_tcase(s, tc);

        tc = tcase_create("snapshot_description");
        tcase_add_loop_test(tc, test_description_valid, 0, sizeof(valid_descriptions) / sizeof(valid_descriptions[0]));
        tcase_add_loop_test(tc, test_description_invalid, 0,
                            sizeof(invalid_descriptions) / sizeof(invalid_descriptions[0]));
        tcase_add_test(tc, test_description_null_and_length);
        suite_add_tcase(s, tc);

        tc = tcase_create("regressions");
        tcase_add_loop_test(tc, test_description_c1_controls, 0, sizeof(c1_descriptions) / sizeof(c1_descriptions[0]));
        suite_add_tcase(s, tc);

        tc = tcase_create("disk_target");
        tcase_add_loop_test(tc, test_target_valid, 0, sizeof(valid_targets) / sizeof(valid_targets[0]));
        tcase_add_loop_test(tc, test_target_invalid, 0, sizeof(invalid_targets) / sizeof(invalid_targets[0]));
        tcase_add_test(tc, test_target_null_and_length);
        suite_add_tcase(s, tc);

        tc = tcase_create("canonical_path"); /* known bug, see above */
        tcase_add_loop_test(tc, test_name_from_non_canonical_path, 0,
                            sizeof(non_canonical_paths) / sizeof(non_canonical_paths[0]));
        suite_add_tcase(s, tc);

        return s;
}

int main(void) {
        SRunner *sr = srunner_create(names_suite());
        srunner_set_fork_status(sr, CK_FORK_GETENV); /* forks unless CK_FORK=no */
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
