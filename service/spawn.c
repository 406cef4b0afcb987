#include "spawn.h"

#include <errno.h>
#include <glib.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>

static void die_with_parent(gpointer userdata) {
        (void) userdata;
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static int spawn(const char *const *argv, char **ret_out, char **ret_err, int *ret_exit) {
        g_autofree char *out = NULL, *err = NULL;
        g_autoptr(GError) e = NULL;
        int status = 0;
        *ret_err = NULL;
        GSpawnFlags flags = G_SPAWN_SEARCH_PATH | G_SPAWN_STDIN_FROM_DEV_NULL;
        if (!ret_out)
                flags |= G_SPAWN_STDOUT_TO_DEV_NULL;
        if (!g_spawn_sync(NULL, (char **) argv, NULL, flags, die_with_parent, NULL, ret_out ? &out : NULL, &err,
                          &status, &e)) {
                *ret_err = strdup(e->message);
                return -ENOEXEC;
        }
        if (ret_exit && WIFEXITED(status))
                *ret_exit = WEXITSTATUS(status);
        else if (!g_spawn_check_wait_status(status, NULL)) {
                g_strstrip(err);
                *ret_err = strdup(err && *err ? err : "failed");
                return -EIO;
        }
        if (ret_out)
                *ret_out = strdup(out ? out : "");
        return 0;
}

int spawn_sync(const char *const *argv, char **ret_out, char **ret_err) {
        return spawn(argv, ret_out, ret_err, NULL);
}

int spawn_sync_exit(const char *const *argv, char **ret_out, char **ret_err, int *ret_exit) {
        return spawn(argv, ret_out, ret_err, ret_exit);
}
