/* winvmctl scrub start|status|cancel, jobs and storage. */
#include <errno.h>
#include <inttypes.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client-errors.h"
#include "client.h"
#include "polkit-agent.h"
#include "util.h"

typedef struct JobView {
        char *operation;
        double progress;
        int progress_valid;
        uint64_t bytes, rate, expected_end;
        int finished, success;
        char *message;
        uint32_t uid;
} JobView;

static void job_view_clear(JobView *j) {
        free(j->operation);
        free(j->message);
        memset(j, 0, sizeof(*j));
}

static int get_string(sd_bus *bus, const char *path, const char *iface, const char *prop, char **ret) {
        return sd_bus_get_property_string(bus, client_bus_name, path, iface, prop, NULL, ret);
}

/* Finished and Success first: a job that had finished then cannot change its Message after,
 * while one read the other way round could pair a Message from before the end with
 * Finished true (a short scrub ends between the two reads). */
static int read_job(sd_bus *bus, const char *path, JobView *j) {
        const char *I = "org.winvm1.Job";
        int r;
        if ((r = sd_bus_get_property_trivial(bus, client_bus_name, path, I, "Finished", NULL, 'b', &j->finished)) < 0 ||
            (r = sd_bus_get_property_trivial(bus, client_bus_name, path, I, "Success", NULL, 'b', &j->success)) < 0 ||
            (r = get_string(bus, path, I, "Operation", &j->operation)) < 0 ||
            (r = get_string(bus, path, I, "Message", &j->message)) < 0 ||
            (r = sd_bus_get_property_trivial(bus, client_bus_name, path, I, "Progress", NULL, 'd', &j->progress)) < 0 ||
            (r = sd_bus_get_property_trivial(bus, client_bus_name, path, I, "ProgressValid", NULL, 'b', &j->progress_valid)) < 0 ||
            (r = sd_bus_get_property_trivial(bus, client_bus_name, path, I, "Bytes", NULL, 't', &j->bytes)) < 0 ||
            (r = sd_bus_get_property_trivial(bus, client_bus_name, path, I, "Rate", NULL, 't', &j->rate)) < 0 ||
            (r = sd_bus_get_property_trivial(bus, client_bus_name, path, I, "ExpectedEndTime", NULL, 't', &j->expected_end)) < 0 ||
            (r = sd_bus_get_property_trivial(bus, client_bus_name, path, I, "StartedByUID", NULL, 'u', &j->uid)) < 0)
                return r;
        return 0;
}

/* The filesystem to act on: the argument, else the only configured one. */
static int pick_fs(sd_bus *bus, const char *arg, char **ret) {
        if (arg) {
                *ret = strdup(arg);
                return 0;
        }
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r = sd_bus_get_property(bus, client_bus_name, "/org/winvm1/storage", "org.winvm1.Storage", "Filesystems",
                                    &error, &reply, "a(ss)");
        if (r < 0)
                return -client_fail(&error, r);
        const char *name, *mount, *only = NULL;
        int n = 0;
        r = sd_bus_message_enter_container(reply, 'a', "(ss)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(ss)", &name, &mount)) > 0) {
                only = name;
                n++;
        }
        if (n != 1) {
                fprintf(stderr, "winvmctl: %d filesystems are configured; name one (see 'winvmctl storage')\n", n);
                return -EXIT_USAGE;
        }
        *ret = strdup(only);
        return 0;
}

/* The running scrub job of fs, or NULL. */
static int running_job(sd_bus *bus, const char *fs, char **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r = sd_bus_get_property(bus, client_bus_name, "/org/winvm1/storage", "org.winvm1.Storage", "RunningScrubs",
                                    &error, &reply, "a{so}");
        if (r < 0)
                return -client_fail(&error, r);
        const char *name, *path;
        *ret = NULL;
        r = sd_bus_message_enter_container(reply, 'a', "{so}");
        while (r >= 0 && (r = sd_bus_message_read(reply, "{so}", &name, &path)) > 0)
                if (strcmp(name, fs) == 0)
                        *ret = strdup(path);
        return 0;
}

static void print_progress(const JobView *j, bool tty) {
        char left[32] = "";
        if (j->expected_end) {
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                uint64_t now = (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000;
                uint64_t s = j->expected_end > now ? (j->expected_end - now) / 1000000ULL : 0;
                snprintf(left, sizeof(left), ", %02" PRIu64 ":%02" PRIu64 " left", s / 60, s % 60);
        }
        unsigned pct = (unsigned) (j->progress * 100.0 + 0.5);
        if (tty) {
                char bar[31];
                unsigned filled = (unsigned) (j->progress * 30.0);
                for (unsigned i = 0; i < 30; i++)
                        bar[i] = i < filled ? '#' : ' ';
                bar[30] = 0;
                printf("\r[%s] %3u%% %6.1f MiB/s%s   ", bar, pct, (double) j->rate / 1048576.0, left);
        } else
                printf("progress %u%% rate %.1f MiB/s%s\n", pct, (double) j->rate / 1048576.0, left);
        fflush(stdout);
}

typedef struct WaitState {
        bool done;
        bool success;
        char *message;
        bool changed;
} WaitState;

static int on_completed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        WaitState *w = userdata;
        int success;
        const char *message;
        if (sd_bus_message_read(m, "bs", &success, &message) >= 0) {
                w->done = true;
                w->success = success;
                free(w->message);
                w->message = strdup(message);
        }
        return 0;
}

static int on_changed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        ((WaitState *) userdata)->changed = true;
        return 0;
}

/* Follows a job by its signals until Completed, printing its progress unless quiet; exit 0 on
 * success. */
static int wait_job_full(sd_bus *bus, const char *path, bool quiet) {
        WaitState w = { 0 };
        bool tty = !quiet && isatty(STDOUT_FILENO);
        int r;

        if ((r = sd_bus_match_signal(bus, NULL, WINVM_BUS_NAME, path, "org.winvm1.Job", "Completed", on_completed, &w)) < 0 ||
            (r = sd_bus_match_signal(bus, NULL, WINVM_BUS_NAME, path, "org.freedesktop.DBus.Properties",
                                     "PropertiesChanged", on_changed, &w)) < 0) {
                fprintf(stderr, "winvmctl: cannot follow %s: %s\n", path, strerror(-r));
                return EXIT_FAILED;
        }
        /* It may have ended before we listened: the job lingers, so its properties tell. */
        JobView j = { 0 };
        if (read_job(bus, path, &j) >= 0 && j.finished) {
                w.done = true;
                w.success = j.success;
                w.message = strdup(j.message);
        }
        job_view_clear(&j);

        while (!w.done) {
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        break;
                if (w.changed && !w.done && !quiet) {
                        w.changed = false;
                        if (read_job(bus, path, &j) >= 0)
                                print_progress(&j, tty);
                        job_view_clear(&j);
                }
                if (r == 0 && (r = sd_bus_wait(bus, UINT64_MAX)) < 0)
                        break;
        }
        if (tty)
                printf("\n");
        if (!w.done) {
                fprintf(stderr, "winvmctl: lost the connection while waiting for %s\n", path);
                return EXIT_UNAVAILABLE;
        }
        printf("%s\n", w.message ? w.message : "");
        free(w.message);
        return w.success ? EXIT_OK : EXIT_FAILED;
}

/* The VM images and whether scrub can protect them. */
static int print_images(sd_bus *bus) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r = sd_bus_call_method(bus, client_bus_name, "/org/winvm1/storage", "org.winvm1.Storage", "GetImages", &error,
                                   &reply, NULL);
        if (r < 0)
                return client_fail(&error, r);
        const char *vm, *path, *err;
        int exists, nocow;
        printf("\n%-16s %-50s %s\n", "VM", "IMAGE", "CHECKSUMS");
        r = sd_bus_message_enter_container(reply, 'a', "(ssbbs)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(ssbbs)", &vm, &path, &exists, &nocow, &err)) > 0)
                printf("%-16s %-50s %s\n", vm, path,
                       !exists ? err : nocow ? "NONE: NOCOW file, scrub cannot detect corruption (chattr -C needs a copy)" : "yes");
        return EXIT_OK;
}

static int scrub_start(sd_bus *bus, const ClientOptions *o, const char *fs) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        const char *path;
        int r = sd_bus_message_new_method_call(bus, &m, client_bus_name, "/org/winvm1/storage", "org.winvm1.Storage",
                                               "StartScrub");
        if (r >= 0)
                r = sd_bus_message_append(m, "st", fs, (uint64_t) (o->readonly ? 1 : 0));
        if (r >= 0)
                r = sd_bus_message_set_allow_interactive_authorization(m, o->ask_password);
        if (r >= 0 && o->ask_password)
                polkit_agent_open();
        if (r >= 0)
                r = sd_bus_call(bus, m, 0, &error, &reply);
        /* A timer's run that finds the filesystem busy (btrfs-progs or another winvm scrub on
         * it) has nothing to do now; the next run, or the doctor's overdue check, follows up. */
        if (r < 0 && o->scheduled && sd_bus_error_has_name(&error, WINVM_ERROR_BUSY)) {
                printf("%s: skipped, %s\n", fs, error.message ? error.message : "busy");
                sd_bus_error_free(&error);
                return EXIT_OK;
        }
        if (r < 0 || (r = sd_bus_message_read(reply, "o", &path)) < 0)
                return client_fail(&error, r);
        if (!o->wait) {
                printf("Scrub of %s started: %s\n", fs, path);
                return EXIT_OK;
        }
        _cleanup_free_ char *p = strdup(path);
        if (o->scheduled) {
                printf("%s: scrub started (%s)\n", fs, p);
                fflush(stdout);
        }
        return wait_job_full(bus, p, o->scheduled);
}

static int scrub_cancel(sd_bus *bus, const ClientOptions *o, const char *fs) {
        _cleanup_free_ char *job = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r = running_job(bus, fs, &job);
        if (r < 0)
                return -r;
        if (!job) {
                fprintf(stderr, "winvmctl: no scrub of %s is running\n", fs);
                return EXIT_WRONG_STATE;
        }
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        r = sd_bus_message_new_method_call(bus, &m, client_bus_name, job, "org.winvm1.Job", "Cancel");
        if (r >= 0)
                r = sd_bus_message_set_allow_interactive_authorization(m, o->ask_password);
        if (r >= 0 && o->ask_password)
                polkit_agent_open();
        if (r >= 0)
                r = sd_bus_call(bus, m, 0, &error, NULL);
        if (r < 0)
                return client_fail(&error, r);
        printf("Cancelled the scrub of %s (%s)\n", fs, job);
        return EXIT_OK;
}

static int scrub_status(sd_bus *bus, const ClientOptions *o, const char *fs) {
        _cleanup_free_ char *job = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r = running_job(bus, fs, &job);
        if (r < 0)
                return -r;
        r = sd_bus_get_property(bus, client_bus_name, "/org/winvm1/storage", "org.winvm1.Storage", "LastScrub", &error,
                                &reply, "a{sa{sv}}");
        if (r < 0)
                return client_fail(&error, r);

        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "filesystem");
        json_builder_add_string_value(b, fs);
        json_builder_set_member_name(b, "running_job");
        if (job)
                json_builder_add_string_value(b, job);
        else
                json_builder_add_null_value(b);
        json_builder_set_member_name(b, "last");
        bool have_last = false;

        const char *name;
        r = sd_bus_message_enter_container(reply, 'a', "{sa{sv}}");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sa{sv}")) > 0) {
                sd_bus_message_read(reply, "s", &name);
                if (strcmp(name, fs) != 0) {
                        sd_bus_message_skip(reply, "a{sv}");
                        sd_bus_message_exit_container(reply);
                        continue;
                }
                have_last = true;
                json_builder_begin_object(b);
                sd_bus_message_enter_container(reply, 'a', "{sv}");
                (void) client_dict_to_json(reply, b);
                sd_bus_message_exit_container(reply);
                json_builder_end_object(b);
                sd_bus_message_exit_container(reply);
        }
        if (!have_last)
                json_builder_add_null_value(b);
        json_builder_end_object(b);
        JsonNode *root = json_builder_get_root(b);

        if (o->json) {
                client_print_json(root);
                return EXIT_OK;
        }
        JsonObject *obj = json_node_get_object(root);
        printf("Filesystem: %s\n", fs);
        if (job) {
                JobView j = { 0 };
                if (read_job(bus, job, &j) >= 0)
                        printf("Running:    %s, %.0f%% done\n", job, j.progress * 100.0);
                job_view_clear(&j);
        } else
                printf("Running:    no\n");
        if (!have_last)
                printf("Last scrub: never\n");
        else {
                JsonObject *l = json_object_get_object_member(obj, "last");
                time_t when = (time_t) (json_object_get_int_member(l, "started_usec") / 1000000);
                char buf[64];
                strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", localtime(&when));
                printf("Last scrub: %s, %s, took %.1f s\n", json_object_get_string_member(l, "outcome"), buf,
                       (double) json_object_get_int_member(l, "duration_usec") / 1e6);
                printf("  scrubbed %" G_GINT64_FORMAT " bytes (%" G_GINT64_FORMAT " data, %" G_GINT64_FORMAT
                       " tree extents)\n",
                       json_object_get_int_member(l, "bytes_scrubbed"), json_object_get_int_member(l, "data_extents"),
                       json_object_get_int_member(l, "tree_extents"));
                printf("  errors: checksum %" G_GINT64_FORMAT ", read %" G_GINT64_FORMAT ", verify %" G_GINT64_FORMAT
                       "; corrected %" G_GINT64_FORMAT ", uncorrectable %" G_GINT64_FORMAT "\n",
                       json_object_get_int_member(l, "checksum_errors"), json_object_get_int_member(l, "read_errors"),
                       json_object_get_int_member(l, "verify_errors"), json_object_get_int_member(l, "corrected_errors"),
                       json_object_get_int_member(l, "uncorrectable_errors"));
        }
        json_node_unref(root);
        return EXIT_OK;
}

static void format_when(uint64_t usec, char buf[static 64]) {
        time_t when = (time_t) (usec / 1000000ULL);
        struct tm tm;
        if (usec == 0 || !localtime_r(&when, &tm) || strftime(buf, 64, "%Y-%m-%d %H:%M", &tm) == 0)
                snprintf(buf, 64, "never");
}

/* What winvm-scrub.service runs (daily): a scrub of each filesystem whose last scrub, winvm's or
 * btrfs-progs', is older than [Storage] ScrubInterval, one at a time, each waited for. */
static int scrub_scheduled(sd_bus *bus, const ClientOptions *o) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        uint64_t interval = 0;
        int r = sd_bus_get_property_trivial(bus, client_bus_name, "/org/winvm1/storage", "org.winvm1.Storage",
                                            "ScrubInterval", &error, 't', &interval);
        if (r < 0)
                return client_fail(&error, r);
        if (interval == 0) {
                printf("Scheduled scrubs are off ([Storage] ScrubInterval=0 in winvm.conf); nothing to do\n");
                return EXIT_OK;
        }
        r = sd_bus_call_method(bus, client_bus_name, "/org/winvm1/storage", "org.winvm1.Storage", "GetScrubSchedule",
                               &error, &reply, NULL);
        if (r < 0)
                return client_fail(&error, r);

        /* Collected first: the scrubs below use the same connection. */
        g_autoptr(GPtrArray) due = g_ptr_array_new_with_free_func(g_free);
        r = sd_bus_message_enter_container(reply, 'a', "a{sv}");
        while (r >= 0 && sd_bus_message_enter_container(reply, 'a', "{sv}") > 0) {
                g_autoptr(JsonBuilder) b = json_builder_new();
                json_builder_begin_object(b);
                (void) client_dict_to_json(reply, b);
                json_builder_end_object(b);
                sd_bus_message_exit_container(reply);
                g_autoptr(JsonNode) node = json_builder_get_root(b);
                JsonObject *f = json_node_get_object(node);
                const char *name = json_object_get_string_member(f, "name");
                const char *err = json_object_get_string_member(f, "error");
                char when[64];
                format_when((uint64_t) json_object_get_int_member(f, "last_scrub_usec"), when);
                const char *by = json_object_get_string_member(f, "last_scrub_by");
                if (err && *err)
                        printf("%s (%s): skipped, %s\n", name, json_object_get_string_member(f, "mount_point"), err);
                else if (json_object_get_boolean_member(f, "running"))
                        printf("%s: skipped, winvm is scrubbing it now\n", name);
                else if (!json_object_get_boolean_member(f, "due"))
                        printf("%s: not due, last scrubbed %s by %s\n", name, when, by);
                else {
                        printf("%s: due, last scrubbed %s%s%s\n", name, when, *by ? " by " : "", by);
                        g_ptr_array_add(due, g_strdup(name));
                }
        }
        fflush(stdout);

        ClientOptions so = *o;
        so.wait = true;
        so.readonly = false;
        so.scheduled = true;
        int rc = EXIT_OK;
        for (guint i = 0; i < due->len; i++) {
                int one = scrub_start(bus, &so, due->pdata[i]);
                if (one != EXIT_OK && rc == EXIT_OK)
                        rc = one;
        }
        return rc;
}

int cmd_scrub(sd_bus *bus, const ClientOptions *o, const char *verb, const char *action, const char *fs_arg) {
        _cleanup_free_ char *fs = NULL;
        if (action && strcmp(action, "scheduled") == 0) {
                if (fs_arg) {
                        fprintf(stderr, "winvmctl: scrub scheduled takes no filesystem: it scrubs every due one\n");
                        return EXIT_USAGE;
                }
                return scrub_scheduled(bus, o);
        }
        if (!action || (strcmp(action, "start") && strcmp(action, "status") && strcmp(action, "cancel"))) {
                fprintf(stderr, "winvmctl: scrub takes start, status, cancel or scheduled\n");
                return EXIT_USAGE;
        }
        int r = pick_fs(bus, fs_arg, &fs);
        if (r < 0)
                return -r;
        if (strcmp(action, "start") == 0)
                return scrub_start(bus, o, fs);
        if (strcmp(action, "cancel") == 0)
                return scrub_cancel(bus, o, fs);
        return scrub_status(bus, o, fs);
}

int cmd_jobs(sd_bus *bus, const ClientOptions *o, const char *verb, const char *arg1, const char *arg2) {
        _cleanup_(strv_freep) char **paths = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r = sd_bus_get_property_strv(bus, client_bus_name, "/org/winvm1", "org.winvm1.Manager", "Jobs", &error, &paths);
        if (r < 0)
                return client_fail(&error, r);

        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_array(b);
        if (!o->json)
                printf("%-22s %-10s %6s %-9s %6s %s\n", "JOB", "OPERATION", "UID", "STATE", "DONE", "MESSAGE");
        for (char **p = paths; p && *p; p++) {
                JobView j = { 0 };
                if (read_job(bus, *p, &j) < 0) {
                        job_view_clear(&j);
                        continue; /* gone meanwhile */
                }
                const char *state = !j.finished ? "running" : j.success ? "succeeded" : "failed";
                if (o->json) {
                        json_builder_begin_object(b);
                        json_builder_set_member_name(b, "path");
                        json_builder_add_string_value(b, *p);
                        json_builder_set_member_name(b, "operation");
                        json_builder_add_string_value(b, j.operation);
                        json_builder_set_member_name(b, "started_by_uid");
                        json_builder_add_int_value(b, j.uid);
                        json_builder_set_member_name(b, "state");
                        json_builder_add_string_value(b, state);
                        json_builder_set_member_name(b, "progress");
                        json_builder_add_double_value(b, j.progress);
                        json_builder_set_member_name(b, "message");
                        json_builder_add_string_value(b, j.message);
                        json_builder_end_object(b);
                } else
                        printf("%-22s %-10s %6u %-9s %5.0f%% %s\n", *p, j.operation, j.uid, state, j.progress * 100.0,
                               j.message);
                job_view_clear(&j);
        }
        json_builder_end_array(b);
        if (o->json)
                client_print_json(json_builder_get_root(b));
        return EXIT_OK;
}

int cmd_storage(sd_bus *bus, const ClientOptions *o, const char *verb, const char *arg1, const char *arg2) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r = sd_bus_call_method(bus, client_bus_name, "/org/winvm1/storage", "org.winvm1.Storage", "GetFacts", &error,
                                   &reply, NULL);
        if (r < 0)
                return client_fail(&error, r);

        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_array(b);
        r = sd_bus_message_enter_container(reply, 'a', "a{sv}");
        while (r >= 0 && sd_bus_message_enter_container(reply, 'a', "{sv}") > 0) {
                json_builder_begin_object(b);
                (void) client_dict_to_json(reply, b);
                sd_bus_message_exit_container(reply);
                json_builder_end_object(b);
        }
        json_builder_end_array(b);
        JsonNode *root = json_builder_get_root(b);
        if (o->json) {
                client_print_json(root);
                return EXIT_OK;
        }
        JsonArray *a = json_node_get_array(root);
        printf("%-12s %-32s %-6s %-10s %10s %10s %10s\n", "NAME", "MOUNT POINT", "BTRFS", "SUBVOLUME", "SIZE", "USED", "FREE");
        for (guint i = 0; i < json_array_get_length(a); i++) {
                JsonObject *f = json_array_get_object_element(a, i);
                char subvol[24] = "-";
                if (json_object_get_boolean_member(f, "is_subvolume"))
                        snprintf(subvol, sizeof(subvol), "id %" G_GINT64_FORMAT,
                                 json_object_get_int_member(f, "subvolume_id"));
                g_autofree char *size = g_format_size_full((guint64) json_object_get_int_member(f, "size_bytes"), G_FORMAT_SIZE_IEC_UNITS);
                g_autofree char *used = g_format_size_full((guint64) json_object_get_int_member(f, "used_bytes"), G_FORMAT_SIZE_IEC_UNITS);
                g_autofree char *free_ = g_format_size_full((guint64) json_object_get_int_member(f, "free_bytes"), G_FORMAT_SIZE_IEC_UNITS);
                const char *err = json_object_get_string_member(f, "error");
                if (err && *err)
                        printf("%-12s %-32s %s\n", json_object_get_string_member(f, "name"),
                               json_object_get_string_member(f, "mount_point"), err);
                else
                        printf("%-12s %-32s %-6s %-10s %10s %10s %10s\n", json_object_get_string_member(f, "name"),
                               json_object_get_string_member(f, "mount_point"),
                               json_object_get_boolean_member(f, "btrfs") ? "yes" : "no", subvol, size, used, free_);
        }
        json_node_unref(root);
        return print_images(bus);
}
