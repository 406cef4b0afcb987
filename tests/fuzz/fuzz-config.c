/* Fuzzes config_load_from_data() (service/lib/config.c): any text either loads into a config that
 * keeps every rule winvm.conf documents, or fails with -EINVAL and a message naming the file. */
#include <errno.h>
#include <stdbool.h>

#include "config.h"
#include "fuzz-common.h"
#include "names.h"
#include "util.h"

#define PATH "/etc/winvm/fuzz.conf"

static size_t count(char **l) {
        size_t n = 0;
        while (l && l[n])
                n++;
        return n;
}

static void check_config(const WinvmConfig *c) {
        fuzz_check(c->libvirt_uri && c->libvirt_uri[0] && strchr(c->libvirt_uri, ':'), "LibvirtURI '%s'",
                   fuzz_str(c->libvirt_uri));

        size_t n = count(c->vms);
        fuzz_check(n >= 1 && n <= 64, "%zu VMs", n);
        for (size_t i = 0; i < n; i++) {
                fuzz_check(vm_name_is_valid(c->vms[i]), "VM name '%s'", c->vms[i]);
                for (size_t k = 0; k < i; k++)
                        fuzz_check(strcmp(c->vms[i], c->vms[k]) != 0, "VM '%s' twice", c->vms[i]);
        }

        fuzz_check(c->state_dir && c->state_dir[0] == '/', "StateDirectory '%s'", fuzz_str(c->state_dir));
        size_t len = strlen(c->state_dir);
        fuzz_check(!strstr(c->state_dir, "/../") && !(len >= 3 && strcmp(c->state_dir + len - 3, "/..") == 0),
                   "StateDirectory '%s' has '..'", c->state_dir);

        fuzz_check(c->idle_timeout_sec <= 86400, "IdleTimeoutSec %u", c->idle_timeout_sec);
        fuzz_check(c->shutdown_timeout_sec >= 1 && c->shutdown_timeout_sec <= WINVM_SHUTDOWN_TIMEOUT_MAX,
                   "ShutdownTimeoutSec %u", c->shutdown_timeout_sec);

        size_t nfs = count(c->fs_names);
        fuzz_check(nfs == count(c->fs_paths) && nfs <= 16, "%zu filesystem names, %zu paths", nfs, count(c->fs_paths));
        for (size_t i = 0; i < nfs; i++) {
                const char *name = c->fs_names[i], *path = c->fs_paths[i];
                size_t nl = strlen(name);
                fuzz_check(nl >= 1 && nl <= 32 && strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                                "0123456789-_") == nl,
                           "filesystem name '%s'", name);
                fuzz_check(path[0] == '/' && !strstr(path, "/..") && !strstr(path, "//"), "mount point '%s'", path);
                /* Names and mount points are unique, so a lookup finds this entry. */
                fuzz_check(config_find_filesystem(c, name) == (int) i, "lookup of '%s'", name);
                fuzz_check(config_find_filesystem(c, path) == (int) i, "lookup of '%s'", path);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *text = fuzz_strndup(data, size);
        WinvmConfig *c = NULL;
        char *error = NULL;
        char **warnings = NULL;

        int r = config_load_from_data(text, PATH, &c, &error, &warnings);
        if (r == 0) {
                fuzz_check(c && !error, "success with error '%s'", fuzz_str(error));
                check_config(c);
                for (char **w = warnings; w && *w; w++)
                        fuzz_check(strncmp(*w, PATH ": ", strlen(PATH ": ")) == 0, "warning '%s'", *w);
        } else {
                fuzz_check(r == -EINVAL, "returned %d", r);
                fuzz_check(!c, "failure with a config");
                fuzz_check(error && strncmp(error, PATH ": ", strlen(PATH ": ")) == 0, "error '%s'", fuzz_str(error));
        }

        config_free(c);
        free(error);
        strv_free(warnings);
        free(text);
        return 0;
}
