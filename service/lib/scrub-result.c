#include "scrub-result.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void scrub_result_add(ScrubResult *r, const struct btrfs_scrub_progress *p) {
        r->bytes_scrubbed += p->data_bytes_scrubbed + p->tree_bytes_scrubbed;
        r->data_extents += p->data_extents_scrubbed;
        r->tree_extents += p->tree_extents_scrubbed;
        r->csum_errors += p->csum_errors;
        r->read_errors += p->read_errors;
        r->verify_errors += p->verify_errors;
        r->super_errors += p->super_errors;
        r->corrected_errors += p->corrected_errors;
        r->uncorrectable_errors += p->uncorrectable_errors;
        r->unverified_errors += p->unverified_errors;
}

uint64_t scrub_result_error_count(const ScrubResult *r) {
        return r->csum_errors + r->read_errors + r->verify_errors + r->super_errors;
}

char *scrub_result_summary(const ScrubResult *r) {
        g_autofree char *size = g_format_size_full(r->bytes_scrubbed, G_FORMAT_SIZE_IEC_UNITS);
        /* GLib separates number and unit with a no-break space; logs and terminals want a plain one. */
        for (char *nbsp; (nbsp = strstr(size, "\xc2\xa0"));)
                memmove(nbsp + 1, nbsp + 2, strlen(nbsp + 2) + 1), nbsp[0] = ' ';
        uint64_t errors = scrub_result_error_count(r);
        char *s;
        if (errors == 0)
                s = g_strdup_printf("%s: %s scrubbed, no errors", r->outcome, size);
        else
                s = g_strdup_printf("%s: %s scrubbed, %" G_GUINT64_FORMAT " error%s (%" G_GUINT64_FORMAT
                                    " checksum, %" G_GUINT64_FORMAT " read, %" G_GUINT64_FORMAT
                                    " verify), %" G_GUINT64_FORMAT " corrected, %" G_GUINT64_FORMAT " uncorrectable",
                                    r->outcome, size, errors, errors == 1 ? "" : "s", r->csum_errors, r->read_errors, r->verify_errors,
                                    r->corrected_errors, r->uncorrectable_errors);
        char *out = strdup(s);
        g_free(s);
        return out;
}

#define FIELDS(X)                                \
        X("StartedUSec", started_usec)           \
        X("DurationUSec", duration_usec)         \
        X("BytesScrubbed", bytes_scrubbed)       \
        X("DataExtents", data_extents)           \
        X("TreeExtents", tree_extents)           \
        X("ChecksumErrors", csum_errors)         \
        X("ReadErrors", read_errors)             \
        X("VerifyErrors", verify_errors)         \
        X("SuperErrors", super_errors)           \
        X("CorrectedErrors", corrected_errors)   \
        X("UncorrectableErrors", uncorrectable_errors) \
        X("UnverifiedErrors", unverified_errors)

char *scrub_result_to_text(const ScrubResult *r) {
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_key_file_set_string(kf, "Scrub", "Outcome", r->outcome);
        g_key_file_set_boolean(kf, "Scrub", "ReadOnly", r->readonly);
#define SET(key, field) g_key_file_set_uint64(kf, "Scrub", key, r->field);
        FIELDS(SET)
#undef SET
        g_autofree char *text = g_key_file_to_data(kf, NULL, NULL);
        return strdup(text);
}

int scrub_result_from_text(const char *text, ScrubResult *ret) {
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autoptr(GError) err = NULL;
        ScrubResult r = { 0 };

        if (!g_key_file_load_from_data(kf, text, (gsize) -1, G_KEY_FILE_NONE, NULL))
                return -EINVAL;
        g_autofree char *outcome = g_key_file_get_string(kf, "Scrub", "Outcome", NULL);
        if (!outcome || strlen(outcome) >= sizeof(r.outcome))
                return -EINVAL;
        strcpy(r.outcome, outcome);
        r.readonly = g_key_file_get_boolean(kf, "Scrub", "ReadOnly", &err);
        if (err)
                return -EINVAL;
#define GET(key, field)                                                   \
        r.field = g_key_file_get_uint64(kf, "Scrub", key, &err);          \
        if (err)                                                          \
                return -EINVAL;
        FIELDS(GET)
#undef GET
        *ret = r;
        return 0;
}

int scrub_result_save(const char *dir, const char *name, const ScrubResult *r) {
        g_autofree char *path = g_strdup_printf("%s/%s.scrub", dir, name);
        g_autofree char *tmp = g_strdup_printf("%s/.%s.scrub.XXXXXX", dir, name);
        char *text = scrub_result_to_text(r);
        int ret = 0;

        int fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0) {
                free(text);
                return -errno;
        }
        size_t len = strlen(text);
        if (write(fd, text, len) != (ssize_t) len || fsync(fd) < 0)
                ret = errno ? -errno : -EIO;
        close(fd);
        free(text);
        /* rename() replaces a symlink at path rather than following it. */
        if (ret == 0 && rename(tmp, path) < 0)
                ret = -errno;
        if (ret < 0)
                unlink(tmp);
        return ret;
}

int scrub_result_load(const char *dir, const char *name, ScrubResult *ret) {
        g_autofree char *path = g_strdup_printf("%s/%s.scrub", dir, name);
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        char buf[4096];
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n < 0)
                return -errno;
        buf[n] = 0;
        return scrub_result_from_text(buf, ret);
}
