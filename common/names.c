#include "names.h"

#include <ctype.h>
#include <errno.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>

static bool is_name_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '_' || c == '+' || c == '-';
}

bool vm_name_is_valid(const char *name) {
        if (!name || name[0] == '\0' || name[0] == '.' || name[0] == '-')
                return false;
        size_t n = strlen(name);
        if (n > VM_NAME_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!is_name_char(name[i]))
                        return false;
        return true;
}

int vm_object_path(const char *name, char **ret_path) {
        if (!vm_name_is_valid(name))
                return -EINVAL;
        return sd_bus_path_encode(WINVM_VM_PREFIX, name, ret_path);
}

int vm_name_from_object_path(const char *path, char **ret_name) {
        char *name = NULL;
        int r = sd_bus_path_decode(path, WINVM_VM_PREFIX, &name);
        if (r < 0)
                return r;
        if (r == 0 || !vm_name_is_valid(name)) {
                free(name);
                return -ENXIO;
        }
        /* sd_bus_path_decode() accepts any escaping ("_57indows11", "Win_00x"); only the one
         * spelling vm_object_path() produces names the VM. */
        char *canonical = NULL;
        r = vm_object_path(name, &canonical);
        if (r < 0 || strcmp(canonical, path) != 0) {
                free(canonical);
                free(name);
                return r < 0 ? r : -ENXIO;
        }
        free(canonical);
        *ret_name = name;
        return 0;
}

bool snapshot_name_is_valid(const char *name) {
        if (!name || name[0] == '\0' || name[0] == '.' || name[0] == '-')
                return false;
        size_t n = strlen(name);
        if (n > SNAPSHOT_NAME_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!(isascii(name[i]) && (isalnum(name[i]) || strchr("._-", name[i]))))
                        return false;
        return true;
}

bool snapshot_description_is_valid(const char *description) {
        if (!description)
                return false;
        size_t n = strlen(description);
        if (n > SNAPSHOT_DESCRIPTION_MAX || !g_utf8_validate(description, (gssize) n, NULL))
                return false;
        /* C0 and C1 controls (U+009B is an 8-bit terminal escape), except newline and tab. */
        for (const char *p = description; *p; p = g_utf8_next_char(p)) {
                gunichar c = g_utf8_get_char(p);
                if (g_unichar_iscntrl(c) && c != '\n' && c != '\t')
                        return false;
        }
        return true;
}

bool disk_target_is_valid(const char *target) {
        if (!target || target[0] == '\0' || strlen(target) > 32)
                return false;
        for (const char *p = target; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
                        return false;
        return true;
}
