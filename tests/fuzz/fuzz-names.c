/* Fuzzes service/names.c: the validators against an independent model of the rules in names.h,
 * and the VM object paths: a valid name round-trips through its path, and a path decodes only
 * when it is exactly the canonical encoding of a valid name. */
#include <errno.h>
#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "fuzz-common.h"
#include "names.h"

/* 1..max of the given characters, not starting with '.' or '-'. */
static bool model_name(const char *s, size_t max, const char *extra) {
        size_t n = strlen(s);
        if (n == 0 || n > max || s[0] == '.' || s[0] == '-')
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
                if (!alnum && !strchr(extra, c))
                        return false;
        }
        return true;
}

static bool model_target(const char *s) {
        size_t n = strlen(s);
        if (n == 0 || n > 32)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
                        return false;
        return true;
}

/* Strict UTF-8 (no overlong forms, surrogates or code points above U+10FFFF): the code point
 * at *p, advancing p; -1 when the bytes there are not UTF-8. */
static long utf8_next(const unsigned char **p) {
        const unsigned char *s = *p;
        long cp;
        int len;
        if (s[0] < 0x80)
                cp = s[0], len = 1;
        else if (s[0] >= 0xc2 && s[0] <= 0xdf)
                cp = s[0] & 0x1f, len = 2;
        else if (s[0] >= 0xe0 && s[0] <= 0xef)
                cp = s[0] & 0x0f, len = 3;
        else if (s[0] >= 0xf0 && s[0] <= 0xf4)
                cp = s[0] & 0x07, len = 4;
        else
                return -1;
        for (int i = 1; i < len; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return -1;
                cp = (cp << 6) | (s[i] & 0x3f);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
                return -1;
        *p = s + len;
        return cp;
}

/* names.h: at most 1024 bytes of UTF-8 without control characters other than newline and tab.
 * The control characters are Unicode's general category Cc: C0, DEL and C1 (U+0080..U+009F;
 * corpus/names/crash-c1-control-description is the input that found them let through). */
static bool model_description(const char *s) {
        if (strlen(s) > SNAPSHOT_DESCRIPTION_MAX)
                return false;
        for (const unsigned char *p = (const unsigned char *) s; *p;) {
                long cp = utf8_next(&p);
                if (cp < 0)
                        return false;
                if ((cp < 0x20 && cp != '\n' && cp != '\t') || (cp >= 0x7f && cp <= 0x9f))
                        return false;
        }
        return true;
}

static void check_vm_name(const char *name) {
        bool valid = vm_name_is_valid(name);
        fuzz_check(valid == model_name(name, VM_NAME_MAX, "._+-"), "vm_name_is_valid('%s') = %d", name, valid);

        char *path = NULL;
        int r = vm_object_path(name, &path);
        if (!valid) {
                fuzz_check(r == -EINVAL && !path, "vm_object_path('%s') = %d for an invalid name", name, r);
                return;
        }
        fuzz_check(r >= 0 && path, "vm_object_path('%s') = %d", name, r);
        fuzz_check(strncmp(path, WINVM_VM_PREFIX "/", strlen(WINVM_VM_PREFIX "/")) == 0 &&
                   sd_bus_object_path_is_valid(path),
                   "vm_object_path('%s') = '%s'", name, path);
        char *back = NULL;
        r = vm_name_from_object_path(path, &back);
        fuzz_check(r == 0 && back && strcmp(back, name) == 0, "'%s' -> '%s' -> %d '%s'", name, path, r,
                   fuzz_str(back));
        free(back);
        free(path);
}

static void check_path(const char *path) {
        char *name = NULL;
        int r = vm_name_from_object_path(path, &name);
        if (r < 0) {
                fuzz_check(!name, "vm_name_from_object_path('%s') = %d but set a name", path, r);
                return;
        }
        fuzz_check(r == 0 && name && vm_name_is_valid(name), "vm_name_from_object_path('%s') = %d '%s'", path, r,
                   fuzz_str(name));
        /* Only the one spelling vm_object_path() produces names a VM. */
        char *canonical = NULL;
        fuzz_check(vm_object_path(name, &canonical) >= 0 && strcmp(canonical, path) == 0,
                   "'%s' decodes to '%s', whose path is '%s'", path, name, fuzz_str(canonical));
        free(canonical);
        free(name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *s = fuzz_strndup(data, size);

        check_vm_name(s);
        check_path(s);
        /* The same text as the last element of a VM path, to reach the escape decoder. */
        size_t n = strlen(WINVM_VM_PREFIX "/") + strlen(s) + 1;
        char *path = malloc(n);
        if (!path)
                abort();
        snprintf(path, n, "%s/%s", WINVM_VM_PREFIX, s);
        check_path(path);
        free(path);

        bool valid = snapshot_name_is_valid(s);
        fuzz_check(valid == model_name(s, SNAPSHOT_NAME_MAX, "._-"), "snapshot_name_is_valid('%s') = %d", s, valid);
        valid = snapshot_description_is_valid(s);
        fuzz_check(valid == model_description(s), "snapshot_description_is_valid('%s') = %d", s, valid);
        valid = disk_target_is_valid(s);
        fuzz_check(valid == model_target(s), "disk_target_is_valid('%s') = %d", s, valid);

        free(s);
        return 0;
}
