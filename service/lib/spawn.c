#include "spawn.h"

#include <errno.h>
#include <glib.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <stdbool.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static void die_with_parent(gpointer userdata) {
        (void) userdata;
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static bool kept_for_files(unsigned long cap) {
        return cap == CAP_DAC_OVERRIDE || cap == CAP_DAC_READ_SEARCH || cap == CAP_FOWNER;
}

/* Says why on stderr, which the caller reads, and exits: only write(2) between fork and exec
 * of a threaded process. */
static void child_fail(const char *why) {
        (void) !write(STDERR_FILENO, why, strlen(why));
        _exit(127);
}

/* In the child, before exec: root's capabilities after exec are its bounding set, so dropping
 * the rest from it is enough; ambient ones are cleared and no_new_privs keeps setuid programs
 * from giving any back. A failure leaves the child exiting at once (it must not run with more). */
static void files_only(gpointer userdata) {
        die_with_parent(userdata);
        int in_set;
        for (unsigned long cap = 0; (in_set = prctl(PR_CAPBSET_READ, cap, 0, 0, 0)) >= 0; cap++)
                if (in_set > 0 && !kept_for_files(cap) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
                        child_fail("cannot take capabilities out of the helper's bounding set "
                                   "(winvmd needs CAP_SETPCAP)\n");
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                child_fail("cannot clear the helper's ambient capabilities or set no_new_privs\n");
}

static int spawn_with(const char *const *argv, GSpawnChildSetupFunc setup, char **ret_out, char **ret_err,
                      int *ret_exit) {
        g_autofree char *out = NULL, *err = NULL;
        g_autoptr(GError) e = NULL;
        int status = 0;
        *ret_err = NULL;
        GSpawnFlags flags = G_SPAWN_SEARCH_PATH | G_SPAWN_STDIN_FROM_DEV_NULL;
        if (!ret_out)
                flags |= G_SPAWN_STDOUT_TO_DEV_NULL;
        if (!g_spawn_sync(NULL, (char **) argv, NULL, flags, setup, NULL, ret_out ? &out : NULL, &err,
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
        return spawn_with(argv, die_with_parent, ret_out, ret_err, NULL);
}

int spawn_sync_files_only(const char *const *argv, char **ret_out, char **ret_err) {
        return spawn_with(argv, files_only, ret_out, ret_err, NULL);
}

int spawn_sync_exit(const char *const *argv, char **ret_out, char **ret_err, int *ret_exit) {
        return spawn_with(argv, die_with_parent, ret_out, ret_err, ret_exit);
}
