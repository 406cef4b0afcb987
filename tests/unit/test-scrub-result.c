/* Unit tests for service/lib/scrub-result.c: summing scrub counters, the one-line verdict, the key
 * file text and its atomic save/load in the state folder. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scrub-result.h"

#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)

/* What the running test allocated; freed by the fixture so a failing test does not leak. */
static char *text;
static char *summary;
static char *tmpdir;

static void setup(void) {
        text = NULL;
        summary = NULL;
        tmpdir = NULL;
}

static void rm_tmpdir(void) {
        if (!tmpdir)
                return;
        /* Only what the tests created, one level deep (lstat: symlinks are unlinked, not followed). */
        GDir *d = g_dir_open(tmpdir, 0, NULL);
        if (d) {
                const char *n;
                while ((n = g_dir_read_name(d))) {
                        g_autofree char *p = g_build_filename(tmpdir, n, NULL);
                        struct stat st;
                        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
                                rmdir(p);
                        else
                                unlink(p);
                }
                g_dir_close(d);
        }
        rmdir(tmpdir);
        free(tmpdir);
        tmpdir = NULL;
}

static void teardown(void) {
        free(text);
        text = NULL;
        free(summary);
        summary = NULL;
        rm_tmpdir();
}

static const char *make_tmpdir(void) {
        char tmpl[] = "/tmp/winvm-test-scrub-result-XXXXXX";
        ck_assert_ptr_nonnull(mkdtemp(tmpl));
        tmpdir = strdup(tmpl);
        ck_assert_ptr_nonnull(tmpdir);
        return tmpdir;
}

static void assert_no_non_ascii(const char *s) {
        for (const char *p = s; *p; p++)
                ck_assert_msg((unsigned char) *p < 0x80, "non-ASCII byte 0x%02x at offset %td in '%s'",
                              (unsigned char) *p, p - s, s);
}

/* Field by field: the struct has padding, so memcmp would compare garbage. */
static void assert_results_equal(const ScrubResult *a, const ScrubResult *b) {
        ck_assert_uint_eq(a->started_usec, b->started_usec);
        ck_assert_uint_eq(a->duration_usec, b->duration_usec);
        ck_assert_int_eq(a->readonly, b->readonly);
        ck_assert_str_eq(a->outcome, b->outcome);
        ck_assert_uint_eq(a->bytes_scrubbed, b->bytes_scrubbed);
        ck_assert_uint_eq(a->data_extents, b->data_extents);
        ck_assert_uint_eq(a->tree_extents, b->tree_extents);
        ck_assert_uint_eq(a->csum_errors, b->csum_errors);
        ck_assert_uint_eq(a->read_errors, b->read_errors);
        ck_assert_uint_eq(a->verify_errors, b->verify_errors);
        ck_assert_uint_eq(a->super_errors, b->super_errors);
        ck_assert_uint_eq(a->corrected_errors, b->corrected_errors);
        ck_assert_uint_eq(a->uncorrectable_errors, b->uncorrectable_errors);
        ck_assert_uint_eq(a->unverified_errors, b->unverified_errors);
}

/* Every field different, so a swapped key shows. */
static ScrubResult sample(void) {
        ScrubResult r = {
                .started_usec = UINT64_C(1718000000123456),
                .duration_usec = UINT64_C(3723000001),
                .readonly = true,
                .bytes_scrubbed = UINT64_C(512110190592),
                .data_extents = 1001,
                .tree_extents = 1002,
                .csum_errors = 3,
                .read_errors = 4,
                .verify_errors = 5,
                .super_errors = 6,
                .corrected_errors = 7,
                .uncorrectable_errors = 8,
                .unverified_errors = 9,
        };
        strcpy(r.outcome, "finished");
        return r;
}

/* ---- scrub_result_add ---- */

START_TEST(test_add_one_device) {
        ScrubResult r = { 0 };
        struct btrfs_scrub_progress p = {
                .data_extents_scrubbed = 10,
                .tree_extents_scrubbed = 20,
                .data_bytes_scrubbed = 300 * MiB,
                .tree_bytes_scrubbed = 2 * MiB,
                .read_errors = 1,
                .csum_errors = 2,
                .verify_errors = 3,
                .super_errors = 4,
                .uncorrectable_errors = 5,
                .corrected_errors = 6,
                .unverified_errors = 7,
                /* not part of the result */
                .no_csum = 1000,
                .csum_discards = 1001,
                .malloc_errors = 1002,
                .last_physical = 1003,
        };
        scrub_result_add(&r, &p);
        ck_assert_uint_eq(r.bytes_scrubbed, 302 * MiB);
        ck_assert_uint_eq(r.data_extents, 10);
        ck_assert_uint_eq(r.tree_extents, 20);
        ck_assert_uint_eq(r.read_errors, 1);
        ck_assert_uint_eq(r.csum_errors, 2);
        ck_assert_uint_eq(r.verify_errors, 3);
        ck_assert_uint_eq(r.super_errors, 4);
        ck_assert_uint_eq(r.uncorrectable_errors, 5);
        ck_assert_uint_eq(r.corrected_errors, 6);
        ck_assert_uint_eq(r.unverified_errors, 7);
        ck_assert_uint_eq(r.started_usec, 0);
        ck_assert_uint_eq(r.duration_usec, 0);
}
END_TEST

START_TEST(test_add_two_devices) {
        ScrubResult r = { .started_usec = 42, .duration_usec = 43, .readonly = true };
        strcpy(r.outcome, "finished");
        const struct btrfs_scrub_progress a = {
                .data_extents_scrubbed = 100, .tree_extents_scrubbed = 200,
                .data_bytes_scrubbed = 1 * GiB, .tree_bytes_scrubbed = 16 * MiB,
                .read_errors = 1, .csum_errors = 10, .verify_errors = 100, .super_errors = 1000,
                .uncorrectable_errors = 11, .corrected_errors = 1100, .unverified_errors = 3,
        };
        const struct btrfs_scrub_progress b = {
                .data_extents_scrubbed = 1, .tree_extents_scrubbed = 2,
                .data_bytes_scrubbed = 3 * GiB, .tree_bytes_scrubbed = 48 * MiB,
                .read_errors = 2, .csum_errors = 20, .verify_errors = 200, .super_errors = 2000,
                .uncorrectable_errors = 22, .corrected_errors = 2200, .unverified_errors = 4,
        };
        scrub_result_add(&r, &a);
        scrub_result_add(&r, &b);
        ck_assert_uint_eq(r.bytes_scrubbed, 4 * GiB + 64 * MiB);
        ck_assert_uint_eq(r.data_extents, 101);
        ck_assert_uint_eq(r.tree_extents, 202);
        ck_assert_uint_eq(r.read_errors, 3);
        ck_assert_uint_eq(r.csum_errors, 30);
        ck_assert_uint_eq(r.verify_errors, 300);
        ck_assert_uint_eq(r.super_errors, 3000);
        ck_assert_uint_eq(r.uncorrectable_errors, 33);
        ck_assert_uint_eq(r.corrected_errors, 3300);
        ck_assert_uint_eq(r.unverified_errors, 7);
        /* What add does not own stays as it was. */
        ck_assert_uint_eq(r.started_usec, 42);
        ck_assert_uint_eq(r.duration_usec, 43);
        ck_assert(r.readonly);
        ck_assert_str_eq(r.outcome, "finished");
        ck_assert_uint_eq(scrub_result_error_count(&r), 3 + 30 + 300 + 3000);
}
END_TEST

/* A device with nothing to scrub changes nothing. */
START_TEST(test_add_zero_progress) {
        ScrubResult r = sample(), expected = sample();
        const struct btrfs_scrub_progress zero = { 0 };
        scrub_result_add(&r, &zero);
        assert_results_equal(&r, &expected);
}
END_TEST

/* ---- scrub_result_error_count ---- */

START_TEST(test_error_count) {
        ScrubResult r = { 0 };
        ck_assert_uint_eq(scrub_result_error_count(&r), 0);
        r.csum_errors = 1;
        ck_assert_uint_eq(scrub_result_error_count(&r), 1);
        r.read_errors = 20;
        ck_assert_uint_eq(scrub_result_error_count(&r), 21);
        r.verify_errors = 300;
        ck_assert_uint_eq(scrub_result_error_count(&r), 321);
        r.super_errors = 4000;
        ck_assert_uint_eq(scrub_result_error_count(&r), 4321);
}
END_TEST

/* Corrected, uncorrectable and unverified describe the errors above; they are not more errors. */
START_TEST(test_error_count_ignores_repair_counters) {
        ScrubResult r = { .corrected_errors = 5, .uncorrectable_errors = 6, .unverified_errors = 7,
                          .bytes_scrubbed = GiB, .data_extents = 9, .tree_extents = 10 };
        ck_assert_uint_eq(scrub_result_error_count(&r), 0);
}
END_TEST

/* ---- scrub_result_summary ---- */

static const struct {
        const char *outcome;
        uint64_t bytes;
        const char *summary;
} clean[] = {
        { "finished",  MiB,                      "finished: 1.0 MiB scrubbed, no errors" },
        { "finished",  GiB,                      "finished: 1.0 GiB scrubbed, no errors" },
        { "finished",  UINT64_C(1536),           "finished: 1.5 KiB scrubbed, no errors" },
        { "finished",  5 * GiB + 512 * MiB,      "finished: 5.5 GiB scrubbed, no errors" },
        { "finished",  UINT64_C(1) << 40,        "finished: 1.0 TiB scrubbed, no errors" },
        { "finished",  0,                        "finished: 0 bytes scrubbed, no errors" },
        { "finished",  512,                      "finished: 512 bytes scrubbed, no errors" },
        { "cancelled", 300 * MiB,                "cancelled: 300.0 MiB scrubbed, no errors" },
        { "failed",    0,                        "failed: 0 bytes scrubbed, no errors" },
};

START_TEST(test_summary_no_errors) {
        ScrubResult r = { .bytes_scrubbed = clean[_i].bytes, .corrected_errors = 0 };
        strcpy(r.outcome, clean[_i].outcome);
        summary = scrub_result_summary(&r);
        ck_assert_ptr_nonnull(summary);
        assert_no_non_ascii(summary); /* a plain space, not GLib's UTF-8 no-break space */
        ck_assert_str_eq(summary, clean[_i].summary);
}
END_TEST

/* Every size GLib prints with a unit: the separator is a single ASCII space. */
START_TEST(test_summary_plain_space_all_units) {
        for (int shift = 10; shift < 64; shift++) {
                ScrubResult r = { .bytes_scrubbed = (UINT64_C(1) << shift) + (UINT64_C(1) << (shift - 1)) };
                strcpy(r.outcome, "finished");
                summary = scrub_result_summary(&r);
                ck_assert_ptr_nonnull(summary);
                assert_no_non_ascii(summary);
                if (shift % 10 == 0)
                        ck_assert_msg(strstr(summary, " 1.5 ") != NULL, "2^%d * 1.5: '%s'", shift, summary);
                free(summary);
                summary = NULL;
        }
        ScrubResult max = { .bytes_scrubbed = UINT64_MAX };
        strcpy(max.outcome, "finished");
        summary = scrub_result_summary(&max);
        assert_no_non_ascii(summary);
        ck_assert_str_eq(summary, "finished: 16.0 EiB scrubbed, no errors");
}
END_TEST

START_TEST(test_summary_with_errors) {
        ScrubResult r = { .bytes_scrubbed = 2 * GiB, .csum_errors = 3, .read_errors = 2, .verify_errors = 1,
                          .corrected_errors = 4, .uncorrectable_errors = 2, .unverified_errors = 9 };
        strcpy(r.outcome, "finished");
        summary = scrub_result_summary(&r);
        ck_assert_ptr_nonnull(summary);
        assert_no_non_ascii(summary);
        ck_assert_str_eq(summary,
                         "finished: 2.0 GiB scrubbed, 6 errors (3 checksum, 2 read, 1 verify), 4 corrected, 2 uncorrectable");
}
END_TEST

/* Super block errors count in the total although the breakdown does not name them. */
START_TEST(test_summary_super_errors_counted) {
        ScrubResult r = { .bytes_scrubbed = MiB, .super_errors = 2 };
        strcpy(r.outcome, "cancelled");
        summary = scrub_result_summary(&r);
        ck_assert_str_eq(summary,
                         "cancelled: 1.0 MiB scrubbed, 2 errors (0 checksum, 0 read, 0 verify), 0 corrected, 0 uncorrectable");
}
END_TEST

/* Repairs alone are not errors. */
START_TEST(test_summary_corrected_only_is_clean) {
        ScrubResult r = { .bytes_scrubbed = MiB, .corrected_errors = 3, .uncorrectable_errors = 1 };
        strcpy(r.outcome, "finished");
        summary = scrub_result_summary(&r);
        ck_assert_str_eq(summary, "finished: 1.0 MiB scrubbed, no errors");
}
END_TEST

START_TEST(test_summary_large_counts) {
        ScrubResult r = { .bytes_scrubbed = 512 * MiB, .csum_errors = UINT64_C(10000000000),
                          .corrected_errors = UINT64_C(9999999999), .uncorrectable_errors = 1 };
        strcpy(r.outcome, "failed");
        summary = scrub_result_summary(&r);
        ck_assert_str_eq(summary, "failed: 512.0 MiB scrubbed, 10000000000 errors (10000000000 checksum, 0 read, "
                                  "0 verify), 9999999999 corrected, 1 uncorrectable");
}
END_TEST

/* ---- scrub_result_to_text / scrub_result_from_text ---- */

START_TEST(test_text_round_trip) {
        ScrubResult r = sample(), back;
        memset(&back, 0xaa, sizeof(back));
        text = scrub_result_to_text(&r);
        ck_assert_ptr_nonnull(text);
        ck_assert_int_eq(scrub_result_from_text(text, &back), 0);
        assert_results_equal(&back, &r);
}
END_TEST

START_TEST(test_text_round_trip_extremes) {
        ScrubResult r = {
                .started_usec = UINT64_MAX, .duration_usec = UINT64_MAX - 1, .readonly = false,
                .bytes_scrubbed = UINT64_MAX, .data_extents = UINT64_MAX, .tree_extents = 0,
                .csum_errors = UINT64_MAX, .read_errors = 0, .verify_errors = UINT64_MAX, .super_errors = 1,
                .corrected_errors = UINT64_MAX, .uncorrectable_errors = 0, .unverified_errors = UINT64_MAX,
        };
        strcpy(r.outcome, "cancelled");
        ScrubResult back;
        memset(&back, 0x55, sizeof(back));
        text = scrub_result_to_text(&r);
        ck_assert_int_eq(scrub_result_from_text(text, &back), 0);
        assert_results_equal(&back, &r);
}
END_TEST

/* One field set at a time: each is written and read under its own key. */
enum { N_FIELDS = 13 };

static void set_field(ScrubResult *r, int i, uint64_t v) {
        uint64_t *fields[] = {
                &r->started_usec, &r->duration_usec, &r->bytes_scrubbed, &r->data_extents, &r->tree_extents,
                &r->csum_errors, &r->read_errors, &r->verify_errors, &r->super_errors, &r->corrected_errors,
                &r->uncorrectable_errors, &r->unverified_errors,
        };
        if (i == N_FIELDS - 1)
                r->readonly = v != 0;
        else
                *fields[i] = v;
}

START_TEST(test_text_round_trip_each_field) {
        ScrubResult r = { 0 }, back;
        strcpy(r.outcome, "finished");
        set_field(&r, _i, UINT64_C(0x123456789abcdef));
        memset(&back, 0, sizeof(back));
        text = scrub_result_to_text(&r);
        ck_assert_int_eq(scrub_result_from_text(text, &back), 0);
        assert_results_equal(&back, &r);
}
END_TEST

/* All outcomes, and the longest that fits (15 characters). */
START_TEST(test_text_outcomes) {
        static const char *const outcomes[] = { "finished", "cancelled", "failed", "x", "fifteen-chars-x" };
        for (size_t i = 0; i < G_N_ELEMENTS(outcomes); i++) {
                ScrubResult r = sample(), back;
                ck_assert_uint_lt(strlen(outcomes[i]), sizeof(r.outcome));
                strcpy(r.outcome, outcomes[i]);
                text = scrub_result_to_text(&r);
                ck_assert_int_eq(scrub_result_from_text(text, &back), 0);
                ck_assert_str_eq(back.outcome, outcomes[i]);
                free(text);
                text = NULL;
        }
}
END_TEST

/* The file on disk is a key file in group [Scrub]: one written by hand (or an earlier winvmd)
 * reads back, in any key order. */
START_TEST(test_text_format) {
        ScrubResult r;
        ck_assert_int_eq(scrub_result_from_text("# last scrub\n"
                                                "[Scrub]\n"
                                                "UnverifiedErrors=12\n"
                                                "Outcome=cancelled\n"
                                                "ReadOnly=true\n"
                                                "StartedUSec=1\n"
                                                "DurationUSec=2\n"
                                                "BytesScrubbed=3\n"
                                                "DataExtents=4\n"
                                                "TreeExtents=5\n"
                                                "ChecksumErrors=6\n"
                                                "ReadErrors=7\n"
                                                "VerifyErrors=8\n"
                                                "SuperErrors=9\n"
                                                "CorrectedErrors=10\n"
                                                "UncorrectableErrors=11\n",
                                                &r),
                         0);
        ck_assert_str_eq(r.outcome, "cancelled");
        ck_assert(r.readonly);
        ck_assert_uint_eq(r.started_usec, 1);
        ck_assert_uint_eq(r.duration_usec, 2);
        ck_assert_uint_eq(r.bytes_scrubbed, 3);
        ck_assert_uint_eq(r.data_extents, 4);
        ck_assert_uint_eq(r.tree_extents, 5);
        ck_assert_uint_eq(r.csum_errors, 6);
        ck_assert_uint_eq(r.read_errors, 7);
        ck_assert_uint_eq(r.verify_errors, 8);
        ck_assert_uint_eq(r.super_errors, 9);
        ck_assert_uint_eq(r.corrected_errors, 10);
        ck_assert_uint_eq(r.uncorrectable_errors, 11);
        ck_assert_uint_eq(r.unverified_errors, 12);

        ScrubResult s = sample();
        text = scrub_result_to_text(&s);
        ck_assert_msg(strncmp(text, "[Scrub]\n", 8) == 0, "%s", text);
        ck_assert_ptr_nonnull(strstr(text, "\nOutcome=finished\n"));
        ck_assert_ptr_nonnull(strstr(text, "\nReadOnly=true\n"));
        ck_assert_ptr_nonnull(strstr(text, "\nBytesScrubbed=512110190592\n"));
        ck_assert_ptr_nonnull(strstr(text, "\nStartedUSec=1718000000123456\n"));
}
END_TEST

/* The text of sample() with one line replaced or dropped. */
static const char *const full_lines[] = {
        "[Scrub]", "Outcome=finished", "ReadOnly=true", "StartedUSec=1", "DurationUSec=2", "BytesScrubbed=3",
        "DataExtents=4", "TreeExtents=5", "ChecksumErrors=6", "ReadErrors=7", "VerifyErrors=8", "SuperErrors=9",
        "CorrectedErrors=10", "UncorrectableErrors=11", "UnverifiedErrors=12",
};

static char *text_with(const char *key, const char *line) {
        GString *s = g_string_new(NULL);
        for (size_t i = 0; i < G_N_ELEMENTS(full_lines); i++) {
                if (key && g_str_has_prefix(full_lines[i], key) && full_lines[i][strlen(key)] == '=') {
                        if (line)
                                g_string_append_printf(s, "%s\n", line);
                } else
                        g_string_append_printf(s, "%s\n", full_lines[i]);
        }
        char *r = strdup(s->str);
        g_string_free(s, true);
        return r;
}

START_TEST(test_text_with_helper_is_valid) {
        ScrubResult r;
        text = text_with(NULL, NULL);
        ck_assert_int_eq(scrub_result_from_text(text, &r), 0);
        ck_assert_str_eq(r.outcome, "finished");
        ck_assert_uint_eq(r.unverified_errors, 12);
}
END_TEST

static const struct {
        const char *key;  /* the line to replace */
        const char *line; /* NULL: drop it */
} malformed[] = {
        { "Outcome",         NULL },                        /* missing Outcome */
        { "Outcome",         "Outcome=sixteen-chars-xx" },  /* 16 characters: does not fit */
        { "Outcome",         "Outcome=a-much-longer-outcome-than-the-struct-can-hold" },
        { "StartedUSec",     "StartedUSec=soon" },          /* non-numeric counts */
        { "BytesScrubbed",   "BytesScrubbed=1.0 GiB" },
        { "BytesScrubbed",   "BytesScrubbed=" },
        { "ChecksumErrors",  "ChecksumErrors=none" },
        { "ChecksumErrors",  "ChecksumErrors=12abc" },
        { "ReadErrors",      "ReadErrors=0x10" },
        { "UnverifiedErrors", "UnverifiedErrors=many" },
        { "DurationUSec",    NULL },                        /* a missing count */
        { "SuperErrors",     NULL },
        { "UnverifiedErrors", NULL },
};

START_TEST(test_text_malformed) {
        ScrubResult r;
        text = text_with(malformed[_i].key, malformed[_i].line);
        ck_assert_msg(scrub_result_from_text(text, &r) == -EINVAL, "accepted:\n%s", text);
}
END_TEST

static const char *const not_scrub_files[] = {
        "",
        "garbage",
        "\x01\x02\x03\xff\xfe",
        "this is not a key file\nat all\n",
        "Outcome=finished\n",                          /* no group */
        "[Scrub\nOutcome=finished\n",                  /* broken group header */
        "[Other]\nOutcome=finished\nStartedUSec=1\n",  /* wrong group */
        "[Scrub]\n",                                   /* empty group */
        "[Scrub]\nOutcome=finished\n",                 /* only the outcome */
};

START_TEST(test_text_garbage) {
        ScrubResult r;
        ck_assert_msg(scrub_result_from_text(not_scrub_files[_i], &r) == -EINVAL, "accepted '%s'",
                      not_scrub_files[_i]);
}
END_TEST

/* ---- scrub_result_save / scrub_result_load ---- */

static char *file_path(const char *name) {
        return g_strdup_printf("%s/%s.scrub", tmpdir, name);
}

static gint cmp_names(gconstpointer a, gconstpointer b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* The names in tmpdir, sorted, joined by spaces (dot files too). */
static char *dir_listing(void) {
        GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
        GDir *d = g_dir_open(tmpdir, 0, NULL);
        ck_assert_ptr_nonnull(d);
        const char *n;
        while ((n = g_dir_read_name(d)))
                g_ptr_array_add(names, g_strdup(n));
        g_dir_close(d);
        g_ptr_array_sort(names, cmp_names);
        GString *s = g_string_new(NULL);
        for (guint i = 0; i < names->len; i++)
                g_string_append_printf(s, "%s%s", i ? " " : "", (char *) g_ptr_array_index(names, i));
        g_ptr_array_free(names, true);
        char *r = strdup(s->str);
        g_string_free(s, true);
        return r;
}

static void assert_listing(const char *expected) {
        char *l = dir_listing();
        char shown[256];
        snprintf(shown, sizeof(shown), "%s", l);
        free(l); /* before a failing assertion, which does not return */
        ck_assert_msg(strcmp(shown, expected) == 0, "directory holds '%s', expected '%s'", shown, expected);
}

START_TEST(test_save_load_round_trip) {
        make_tmpdir();
        ScrubResult r = sample(), back;
        memset(&back, 0, sizeof(back));
        ck_assert_int_eq(scrub_result_save(tmpdir, "vm-storage", &r), 0);
        ck_assert_int_eq(scrub_result_load(tmpdir, "vm-storage", &back), 0);
        assert_results_equal(&back, &r);

        /* The file is where the name says, a regular file holding the key file text. */
        g_autofree char *p = file_path("vm-storage");
        struct stat st;
        ck_assert_int_eq(lstat(p, &st), 0);
        ck_assert(S_ISREG(st.st_mode));
        g_autofree char *contents = NULL;
        ck_assert(g_file_get_contents(p, &contents, NULL, NULL));
        text = scrub_result_to_text(&r);
        ck_assert_str_eq(contents, text);
        assert_listing("vm-storage.scrub");
}
END_TEST

/* Results of different filesystems are kept apart. */
START_TEST(test_save_two_names) {
        make_tmpdir();
        ScrubResult a = sample(), b = sample(), back;
        strcpy(b.outcome, "cancelled");
        b.bytes_scrubbed = 7;
        ck_assert_int_eq(scrub_result_save(tmpdir, "a", &a), 0);
        ck_assert_int_eq(scrub_result_save(tmpdir, "b", &b), 0);
        ck_assert_int_eq(scrub_result_load(tmpdir, "a", &back), 0);
        assert_results_equal(&back, &a);
        ck_assert_int_eq(scrub_result_load(tmpdir, "b", &back), 0);
        assert_results_equal(&back, &b);
        assert_listing("a.scrub b.scrub");
}
END_TEST

START_TEST(test_load_missing) {
        make_tmpdir();
        ScrubResult r;
        ck_assert_int_eq(scrub_result_load(tmpdir, "vm-storage", &r), -ENOENT);
        /* Another name's file is not this one. */
        ck_assert_int_eq(scrub_result_save(tmpdir, "other", &(ScrubResult) { .outcome = "finished" }), 0);
        ck_assert_int_eq(scrub_result_load(tmpdir, "vm-storage", &r), -ENOENT);
        /* Nor is a folder that does not exist. */
        g_autofree char *missing = g_strdup_printf("%s/no-such-dir", tmpdir);
        ck_assert_int_eq(scrub_result_load(missing, "vm-storage", &r), -ENOENT);
}
END_TEST

START_TEST(test_load_malformed_file) {
        make_tmpdir();
        g_autofree char *p = file_path("vm-storage");
        ck_assert(g_file_set_contents(p, "[Scrub]\nOutcome=finished\nStartedUSec=yesterday\n", -1, NULL));
        ScrubResult r;
        ck_assert_int_eq(scrub_result_load(tmpdir, "vm-storage", &r), -EINVAL);
        ck_assert(g_file_set_contents(p, "", 0, NULL));
        ck_assert_int_eq(scrub_result_load(tmpdir, "vm-storage", &r), -EINVAL);
}
END_TEST

START_TEST(test_save_replaces) {
        make_tmpdir();
        ScrubResult first = sample(), second = sample(), back;
        second.started_usec += 86400 * UINT64_C(1000000);
        second.csum_errors = 0;
        second.readonly = false;
        strcpy(second.outcome, "cancelled");
        ck_assert_int_eq(scrub_result_save(tmpdir, "vm-storage", &first), 0);
        ck_assert_int_eq(scrub_result_save(tmpdir, "vm-storage", &second), 0);
        ck_assert_int_eq(scrub_result_load(tmpdir, "vm-storage", &back), 0);
        assert_results_equal(&back, &second);

        /* Also over a foreign file, longer than the new text: nothing of it remains. */
        g_autofree char *p = file_path("vm-storage");
        GString *big = g_string_new("[Scrub]\n");
        for (int i = 0; i < 200; i++)
                g_string_append_printf(big, "Padding%d=xxxxxxxxxxxxxxxxxxxxxxxx\n", i);
        ck_assert(g_file_set_contents(p, big->str, -1, NULL));
        g_string_free(big, true);
        ck_assert_int_eq(scrub_result_save(tmpdir, "vm-storage", &first), 0);
        g_autofree char *contents = NULL;
        ck_assert(g_file_get_contents(p, &contents, NULL, NULL));
        text = scrub_result_to_text(&first);
        ck_assert_str_eq(contents, text);
        ck_assert_int_eq(scrub_result_load(tmpdir, "vm-storage", &back), 0);
        assert_results_equal(&back, &first);
        assert_listing("vm-storage.scrub");
}
END_TEST

/* A symlink planted at the final path is replaced, not written through. */
START_TEST(test_save_does_not_follow_symlink) {
        make_tmpdir();
        static const char victim_text[] = "precious data\n";
        g_autofree char *victim = g_strdup_printf("%s/victim", tmpdir);
        ck_assert(g_file_set_contents(victim, victim_text, -1, NULL));
        g_autofree char *p = file_path("vm-storage");
        ck_assert_int_eq(symlink(victim, p), 0);

        ScrubResult r = sample(), back;
        ck_assert_int_eq(scrub_result_save(tmpdir, "vm-storage", &r), 0);

        g_autofree char *contents = NULL;
        ck_assert(g_file_get_contents(victim, &contents, NULL, NULL));
        ck_assert_str_eq(contents, victim_text);
        struct stat st;
        ck_assert_int_eq(lstat(p, &st), 0);
        ck_assert_msg(S_ISREG(st.st_mode), "%s is not a regular file (mode %o)", p, st.st_mode);
        ck_assert_int_eq(scrub_result_load(tmpdir, "vm-storage", &back), 0);
        assert_results_equal(&back, &r);
        assert_listing("victim vm-storage.scrub");
}
END_TEST

/* A dangling symlink does not make save create its target either. */
START_TEST(test_save_does_not_follow_dangling_symlink) {
        make_tmpdir();
        g_autofree char *target = g_strdup_printf("%s/created-through-link", tmpdir);
        g_autofree char *p = file_path("vm-storage");
        ck_assert_int_eq(symlink(target, p), 0);
        ScrubResult r = sample();
        ck_assert_int_eq(scrub_result_save(tmpdir, "vm-storage", &r), 0);
        ck_assert_int_eq(access(target, F_OK), -1);
        struct stat st;
        ck_assert_int_eq(lstat(p, &st), 0);
        ck_assert(S_ISREG(st.st_mode));
        assert_listing("vm-storage.scrub");
}
END_TEST

/* load does not read through a symlink at the path either. */
START_TEST(test_load_does_not_follow_symlink) {
        make_tmpdir();
        ScrubResult r = sample(), back;
        ck_assert_int_eq(scrub_result_save(tmpdir, "real", &r), 0);
        g_autofree char *real = file_path("real");
        g_autofree char *p = file_path("vm-storage");
        ck_assert_int_eq(symlink(real, p), 0);
        ck_assert_int_lt(scrub_result_load(tmpdir, "vm-storage", &back), 0);
}
END_TEST

/* Saving many times leaves exactly the final file: no .<name>.scrub.XXXXXX behind. */
START_TEST(test_save_leaves_no_temp_files) {
        make_tmpdir();
        ScrubResult r = sample();
        for (int i = 0; i < 20; i++) {
                r.started_usec = i;
                ck_assert_int_eq(scrub_result_save(tmpdir, "vm-storage", &r), 0);
        }
        ck_assert_int_eq(scrub_result_save(tmpdir, "root", &r), 0);
        assert_listing("root.scrub vm-storage.scrub");
}
END_TEST

/* A failed save (here the final path is a folder) reports it and cleans up its temporary file. */
START_TEST(test_save_failure_leaves_no_temp_file) {
        make_tmpdir();
        g_autofree char *p = file_path("vm-storage");
        ck_assert_int_eq(mkdir(p, 0700), 0);
        ScrubResult r = sample();
        int ret = scrub_result_save(tmpdir, "vm-storage", &r);
        ck_assert_msg(ret < 0, "save over a folder returned %d", ret);
        assert_listing("vm-storage.scrub");
        struct stat st;
        ck_assert_int_eq(lstat(p, &st), 0);
        ck_assert(S_ISDIR(st.st_mode));
}
END_TEST

START_TEST(test_save_missing_dir) {
        make_tmpdir();
        g_autofree char *missing = g_strdup_printf("%s/no-such-dir", tmpdir);
        ScrubResult r = sample();
        ck_assert_int_eq(scrub_result_save(missing, "vm-storage", &r), -ENOENT);
        assert_listing("");
}
END_TEST

static Suite *scrub_result_suite(void) {
        Suite *s = suite_create("scrub-result");
        TCase *tc;

        tc = tcase_create("add");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_add_one_device);
        tcase_add_test(tc, test_add_two_devices);
        tcase_add_test(tc, test_add_zero_progress);
        tcase_add_test(tc, test_error_count);
        tcase_add_test(tc, test_error_count_ignores_repair_counters);
        suite_add_tcase(s, tc);

        tc = tcase_create("summary");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_loop_test(tc, test_summary_no_errors, 0, G_N_ELEMENTS(clean));
        tcase_add_test(tc, test_summary_plain_space_all_units);
        tcase_add_test(tc, test_summary_with_errors);
        tcase_add_test(tc, test_summary_super_errors_counted);
        tcase_add_test(tc, test_summary_corrected_only_is_clean);
        tcase_add_test(tc, test_summary_large_counts);
        suite_add_tcase(s, tc);

        tc = tcase_create("text");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_text_round_trip);
        tcase_add_test(tc, test_text_round_trip_extremes);
        tcase_add_loop_test(tc, test_text_round_trip_each_field, 0, N_FIELDS);
        tcase_add_test(tc, test_text_outcomes);
        tcase_add_test(tc, test_text_format);
        tcase_add_test(tc, test_text_with_helper_is_valid);
        tcase_add_loop_test(tc, test_text_malformed, 0, G_N_ELEMENTS(malformed));
        tcase_add_loop_test(tc, test_text_garbage, 0, G_N_ELEMENTS(not_scrub_files));
        suite_add_tcase(s, tc);

        tc = tcase_create("save_load");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_save_load_round_trip);
        tcase_add_test(tc, test_save_two_names);
        tcase_add_test(tc, test_load_missing);
        tcase_add_test(tc, test_load_malformed_file);
        tcase_add_test(tc, test_save_replaces);
        tcase_add_test(tc, test_save_does_not_follow_symlink);
        tcase_add_test(tc, test_save_does_not_follow_dangling_symlink);
        tcase_add_test(tc, test_load_does_not_follow_symlink);
        tcase_add_test(tc, test_save_leaves_no_temp_files);
        tcase_add_test(tc, test_save_failure_leaves_no_temp_file);
        tcase_add_test(tc, test_save_missing_dir);
        suite_add_tcase(s, tc);

        return s;
}

int main(void) {
        SRunner *sr = srunner_create(scrub_result_suite());
        srunner_set_fork_status(sr, CK_FORK_GETENV); /* forks unless CK_FORK=no */
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
