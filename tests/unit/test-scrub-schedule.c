/* Unit tests for service/lib/scrub-schedule.c: [Storage] ScrubInterval, btrfs-progs' scrub records
 * (a real file `btrfs scrub start -B` wrote, in tests/fixtures/hosts/intel-seed), when a scrub
 * is due and overdue, and the doctor's storage.scrub-overdue. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "host-fixtures.h"
#include "scrub-schedule.h"

#define SEC UINT64_C(1000000)
#define HOUR (3600 * SEC)
#define DAY (24 * HOUR)
#define IMAGES_FSID "94efdf0d-78f1-4825-81d9-4c4614149c38"
#define ROOT_FSID "0b7e2f52-3c4d-4e5f-8a9b-0c1d2e3f4a5b"
/* t_start in the fixture: 2026-12-06 08:51:08 UTC. */
#define FIXTURE_START (UINT64_C(1796547068) * SEC)
#define NOW (UINT64_C(1800000000) * SEC)

static CheckList list;

static void setup(void) {
        list = CHECK_LIST_INIT;
}

static void teardown(void) {
        check_list_clear(&list);
}

START_TEST(test_interval_words_and_units) {
        static const struct {
                const char *text;
                uint64_t sec;
        } good[] = {
                { "0", 0 }, { "off", 0 }, { "daily", 86400 }, { "weekly", 604800 }, { "monthly", 2592000 },
                { "1h", 3600 }, { "36h", 129600 }, { "14d", 1209600 }, { "2w", 1209600 }, { "366d", 31622400 },
        };
        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
                uint64_t sec = 1;
                ck_assert_msg(scrub_interval_parse(good[i].text, &sec) == 0, "'%s' refused", good[i].text);
                ck_assert_msg(sec == good[i].sec, "'%s' read as %llu", good[i].text, (unsigned long long) sec);
        }
        static const char *const bad[] = {
                "", "1", "0d", "07d", "1m", "30m", "367d", "53w", "9999999d", "-1d", "1.5d", "weekly ", " weekly",
                "Weekly", "1d1h", "d", "1 d", "1000000w", NULL,
        };
        for (const char *const *b = bad; *b; b++) {
                uint64_t sec = 77;
                ck_assert_msg(scrub_interval_parse(*b, &sec) == -EINVAL, "'%s' accepted", *b);
                ck_assert_msg(sec == 77, "'%s' changed the output", *b);
        }
}
END_TEST

START_TEST(test_interval_format_reads_back) {
        static const uint64_t secs[] = { 0, 3600, 129600, 86400, 604800, 2592000, 1209600, 864000, 31622400 };
        for (size_t i = 0; i < sizeof(secs) / sizeof(secs[0]); i++) {
                char buf[24];
                uint64_t back = 1;
                scrub_interval_format(secs[i], buf);
                ck_assert_msg(scrub_interval_parse(buf, &back) == 0 && back == secs[i], "%llu -> '%s' -> %llu",
                              (unsigned long long) secs[i], buf, (unsigned long long) back);
        }
        char buf[24];
        scrub_interval_format(604800, buf);
        ck_assert_str_eq(buf, "weekly");
        scrub_interval_format(1209600, buf);
        ck_assert_str_eq(buf, "2w");
}
END_TEST

START_TEST(test_config_key) {
        WinvmConfig *cfg = NULL;
        char *err = NULL;
        ck_assert_int_eq(config_load_from_data("[Service]\n", "t.conf", &cfg, &err, NULL), 0);
        ck_assert_uint_eq(cfg->scrub_interval_sec, 604800);
        config_free(cfg);
        ck_assert_int_eq(config_load_from_data("[Storage]\nScrubInterval=0\n", "t.conf", &cfg, &err, NULL), 0);
        ck_assert_uint_eq(cfg->scrub_interval_sec, 0);
        config_free(cfg);
        ck_assert_int_eq(config_load_from_data("[Storage]\nScrubInterval=3d\n", "t.conf", &cfg, &err, NULL), 0);
        ck_assert_uint_eq(cfg->scrub_interval_sec, 3 * 86400);
        config_free(cfg);
        cfg = NULL;
        ck_assert_int_eq(config_load_from_data("[Storage]\nScrubInterval=fortnightly\n", "t.conf", &cfg, &err, NULL),
                         -EINVAL);
        ck_assert_ptr_null(cfg);
        ck_assert_msg(strstr(err, "ScrubInterval") && strstr(err, "fortnightly") && strstr(err, "weekly"),
                      "the error names the key, the value and what is expected: %s", err);
        free(err);
}
END_TEST

START_TEST(test_progs_record_from_fixture) {
        const char *root = host_root("intel-seed");
        uint64_t usec = 0;
        ck_assert_int_eq(btrfs_progs_last_scrub(root, IMAGES_FSID, &usec), 0);
        ck_assert_uint_eq(usec, FIXTURE_START);
        /* The root filesystem's last scrub was cancelled: it proves nothing. */
        usec = 0;
        ck_assert_int_eq(btrfs_progs_last_scrub(root, ROOT_FSID, &usec), -ENODATA);
        ck_assert_uint_eq(usec, 0);
        ck_assert_int_eq(btrfs_progs_last_scrub(root, "11111111-2222-3333-4444-555555555555", &usec), -ENOENT);
        /* Never a path. */
        ck_assert_int_eq(btrfs_progs_last_scrub(root, "../../../../etc/passwd", &usec), -EINVAL);
        ck_assert_int_eq(btrfs_progs_last_scrub(root, "94EFDF0D-78F1-4825-81D9-4C4614149C38", &usec), -EINVAL);
        /* A host without btrfs-progs' folder. */
        ck_assert_int_eq(btrfs_progs_last_scrub(host_root("amd"), IMAGES_FSID, &usec), -ENOENT);
}
END_TEST

#define LINE(fsid, dev, start, dur, canc, fin)                                                                   \
        fsid ":" dev "|data_extents_scrubbed:1|tree_extents_scrubbed:1|data_bytes_scrubbed:4096|t_start:" start \
             "|t_resumed:0|duration:" dur "|canceled:" canc "|finished:" fin "\n"

START_TEST(test_progs_record_devices) {
        uint64_t usec = 0;
        /* Two devices, both finished: the earlier start. */
        ck_assert_int_eq(btrfs_progs_status_parse("scrub status:1\n" LINE(IMAGES_FSID, "1", "1700000100", "5", "0", "1")
                                                          LINE(IMAGES_FSID, "2", "1700000000", "9", "0", "1"),
                                                  IMAGES_FSID, &usec),
                         0);
        ck_assert_uint_eq(usec, UINT64_C(1700000000) * SEC);
        /* One still running (a scrub in the background): not yet a scrub. */
        ck_assert_int_eq(btrfs_progs_status_parse("scrub status:1\n" LINE(IMAGES_FSID, "1", "1700000100", "5", "0", "1")
                                                          LINE(IMAGES_FSID, "2", "1700000000", "9", "0", "0"),
                                                  IMAGES_FSID, &usec),
                         -ENODATA);
        /* Another filesystem's lines only, a wrong header, a missing or broken field. */
        ck_assert_int_eq(btrfs_progs_status_parse("scrub status:1\n" LINE(ROOT_FSID, "1", "1700000100", "5", "0", "1"),
                                                  IMAGES_FSID, &usec),
                         -EINVAL);
        ck_assert_int_eq(btrfs_progs_status_parse("scrub status:2\n" LINE(IMAGES_FSID, "1", "1700000100", "5", "0", "1"),
                                                  IMAGES_FSID, &usec),
                         -EINVAL);
        ck_assert_int_eq(btrfs_progs_status_parse("scrub status:1\n" IMAGES_FSID ":1|t_start:1700000000|canceled:0\n",
                                                  IMAGES_FSID, &usec),
                         -EINVAL);
        ck_assert_int_eq(btrfs_progs_status_parse("scrub status:1\n" LINE(IMAGES_FSID, "1", "17x", "5", "0", "1"),
                                                  IMAGES_FSID, &usec),
                         -EINVAL);
        ck_assert_int_eq(btrfs_progs_status_parse("", IMAGES_FSID, &usec), -EINVAL);
        ck_assert_uint_eq(usec, UINT64_C(1700000000) * SEC);
}
END_TEST

START_TEST(test_last_pick) {
        ScrubLast l = scrub_last_pick(0, 0);
        ck_assert_int_eq(l.source, SCRUB_SOURCE_NONE);
        l = scrub_last_pick(5 * DAY, 7 * DAY);
        ck_assert_int_eq(l.source, SCRUB_SOURCE_BTRFS_PROGS);
        ck_assert_uint_eq(l.started_usec, 7 * DAY);
        l = scrub_last_pick(9 * DAY, 7 * DAY);
        ck_assert_int_eq(l.source, SCRUB_SOURCE_WINVM);
        ck_assert_uint_eq(l.started_usec, 9 * DAY);
        ck_assert_str_eq(scrub_source_to_string(SCRUB_SOURCE_BTRFS_PROGS), "btrfs-progs");
}
END_TEST

START_TEST(test_due_and_overdue) {
        const uint64_t week = 7 * 86400;
        ScrubLast none = { SCRUB_SOURCE_NONE, 0 };
        ck_assert(scrub_is_due(week, &none, NOW));
        ck_assert(scrub_is_overdue(week, &none, NOW));
        ck_assert(!scrub_is_due(0, &none, NOW));
        ck_assert(!scrub_is_overdue(0, &none, NOW));

        /* Weekly: due from 6.5 days on (the daily timer keeps the weekday), overdue after 10. */
        ScrubLast l = { SCRUB_SOURCE_WINVM, NOW - (6 * DAY + 12 * HOUR) + SEC };
        ck_assert(!scrub_is_due(week, &l, NOW));
        l.started_usec -= SEC;
        ck_assert(scrub_is_due(week, &l, NOW));
        ck_assert(!scrub_is_overdue(week, &l, NOW));
        l.started_usec = NOW - 10 * DAY;
        ck_assert(!scrub_is_overdue(week, &l, NOW));
        l.started_usec -= SEC;
        ck_assert(scrub_is_overdue(week, &l, NOW));
        /* A clock set back: the scrub is in the future, so just done. */
        l.started_usec = NOW + DAY;
        ck_assert(!scrub_is_due(week, &l, NOW));
        ck_assert(!scrub_is_overdue(week, &l, NOW));
        /* Hourly-ish intervals: the margin is at most half the interval. */
        l.started_usec = NOW - 30 * 60 * SEC;
        ck_assert(scrub_is_due(3600, &l, NOW));
        l.started_usec = NOW - 29 * 60 * SEC;
        ck_assert(!scrub_is_due(3600, &l, NOW));
}
END_TEST

START_TEST(test_overdue_check) {
        const uint64_t week = 7 * 86400;
        ScrubScheduleFs fs[] = {
                { "images", "/vm-storage/images", NULL, { SCRUB_SOURCE_BTRFS_PROGS, NOW - 2 * DAY } },
                { "root", "/", NULL, { SCRUB_SOURCE_WINVM, NOW - 3 * HOUR } },
        };
        ck_assert_int_eq(scrub_overdue_check(week, fs, 2, NOW, &list), 0);
        assert_check(&list, "storage.scrub-overdue", CHECK_OK, "images 2 days ago (by btrfs-progs)", NULL);
        assert_check(&list, "storage.scrub-overdue", CHECK_OK, "root 3 hours ago (by winvm)", NULL);
        check_list_clear(&list);

        fs[1].last.started_usec = NOW - 61 * SEC;
        ck_assert_int_eq(scrub_overdue_check(week, fs, 2, NOW, &list), 0);
        assert_check(&list, "storage.scrub-overdue", CHECK_OK, "root under 2 minutes ago (by winvm)", NULL);
        check_list_clear(&list);
        fs[1].last.started_usec = NOW - 40 * 60 * SEC;
        ck_assert_int_eq(scrub_overdue_check(week, fs, 2, NOW, &list), 0);
        assert_check(&list, "storage.scrub-overdue", CHECK_OK, "root 40 minutes ago (by winvm)", NULL);
        check_list_clear(&list);

        fs[0].last = (ScrubLast) { SCRUB_SOURCE_BTRFS_PROGS, NOW - 11 * DAY };
        ck_assert_int_eq(scrub_overdue_check(week, fs, 2, NOW, &list), 0);
        assert_check(&list, "storage.scrub-overdue", CHECK_WARN,
                     "images (/vm-storage/images) was last scrubbed 11 days ago (by btrfs-progs)",
                     "winvmctl scrub start images");
        ck_assert_ptr_null(strstr(check_list_find(&list, "storage.scrub-overdue")->message, "root ("));
        check_list_clear(&list);

        fs[1].last = (ScrubLast) { SCRUB_SOURCE_NONE, 0 };
        ck_assert_int_eq(scrub_overdue_check(week, fs, 2, NOW, &list), 0);
        assert_check(&list, "storage.scrub-overdue", CHECK_WARN, "root (/) has never been scrubbed",
                     "winvm-scrub.timer");
        check_list_clear(&list);

        /* Scheduled scrubs off; or nothing readable: skipped. */
        ck_assert_int_eq(scrub_overdue_check(0, fs, 2, NOW, &list), 0);
        assert_check(&list, "storage.scrub-overdue", CHECK_SKIPPED, "ScrubInterval=0", NULL);
        check_list_clear(&list);
        fs[0].unreadable = "not a btrfs filesystem";
        fs[1].unreadable = "No such file or directory";
        ck_assert_int_eq(scrub_overdue_check(week, fs, 2, NOW, &list), 0);
        assert_check(&list, "storage.scrub-overdue", CHECK_SKIPPED, "images (/vm-storage/images): not a btrfs", NULL);
        check_list_clear(&list);
        /* One readable: checked, the other named as not checked. */
        fs[1].unreadable = NULL;
        fs[1].last = (ScrubLast) { SCRUB_SOURCE_WINVM, NOW - DAY };
        ck_assert_int_eq(scrub_overdue_check(week, fs, 2, NOW, &list), 0);
        assert_check(&list, "storage.scrub-overdue", CHECK_OK, "not checked: images", NULL);
}
END_TEST

static Suite *scrub_schedule_suite(void) {
        Suite *s = suite_create("scrub-schedule");
        TCase *tc = tcase_create("core");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_interval_words_and_units);
        tcase_add_test(tc, test_interval_format_reads_back);
        tcase_add_test(tc, test_config_key);
        tcase_add_test(tc, test_progs_record_from_fixture);
        tcase_add_test(tc, test_progs_record_devices);
        tcase_add_test(tc, test_last_pick);
        tcase_add_test(tc, test_due_and_overdue);
        tcase_add_test(tc, test_overdue_check);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        SRunner *sr = srunner_create(scrub_schedule_suite());
        srunner_set_fork_status(sr, CK_FORK_GETENV); /* forks unless CK_FORK=no */
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
