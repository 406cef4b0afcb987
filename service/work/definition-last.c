#include "definition-last.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "safe-files.h"
#include "util.h"

static char *last_path(const char *state_dir, const char *vm) {
        char *p = NULL;
        return asprintf(&p, "%s/last-definitions/%s.xml", state_dir, vm) < 0 ? NULL : p;
}

int definition_last_keep(const char *state_dir, const char *vm, const char *xml) {
        _cleanup_free_ char *path = last_path(state_dir, vm), *old = NULL, *dir = NULL;
        if (!path || asprintf(&dir, "%s/last-definitions", state_dir) < 0)
                return -ENOMEM;
        if (read_file(path, &old) == 0 && strcmp(old, xml) == 0)
                return 0;
        int r = mkdir_parents(dir);
        return r < 0 ? r : write_file_atomic(path, xml, strlen(xml), 0600);
}

int definition_last_read(const char *state_dir, const char *vm, char **ret) {
        _cleanup_free_ char *path = last_path(state_dir, vm);
        return path ? read_file(path, ret) : -ENOMEM;
}
