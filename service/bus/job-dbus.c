/* org.winvm1.Job: one object per running or recently finished job. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "errors.h"
#include "job.h"
#include "util.h"

int job_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                    sd_bus_error *error) {
        Job *job = job_find_by_path(userdata, path);
        if (!job)
                return 0;
        *found = job;
        return 1;
}

int job_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error) {
        Daemon *d = userdata;
        char **l = calloc(d->n_jobs + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < d->n_jobs; i++)
                if (!(l[i] = strdup(d->jobs[i]->path))) {
                        strv_free(l);
                        return -ENOMEM;
                }
        *nodes = l;
        return 0;
}

static int method_cancel(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Job *job = userdata;
        uid_t uid = (uid_t) -1;

        if (!job->cancelable || job->finished)
                return sd_bus_error_setf(error, WINVM_ERROR_INVALID_ARGUMENT,
                                         job->finished ? "Job %" PRIu64 " has already finished"
                                                       : "Job %" PRIu64 " cannot be cancelled",
                                         job->id);

        /* The action is chosen by the caller's uid before polkit is asked, as udisks does: the
         * user who started a job needs none to cancel it; anyone else needs org.winvm1.job.cancel. */
        static const char *const actions[] = { "org.winvm1.job.cancel", NULL };
        const BusPolkitRequest req = {
                .actions = actions, .verb = "cancel", .owner = &job->started_by_uid, .ret_uid = &uid,
        };
        int r = bus_polkit_check(job->daemon->polkit, m, &req, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        if (job->finished) /* finished while polkit was asked */
                return sd_bus_error_setf(error, WINVM_ERROR_INVALID_ARGUMENT, "Job %" PRIu64 " has already finished",
                                         job->id);
        job->cancelled_by_uid = uid;
        job->cancel(job, job->cancel_userdata);
        return sd_bus_reply_method_return(m, NULL);
}

static int property_get_objects(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Job *job = userdata;
        int r = sd_bus_message_open_container(reply, 'a', "o");
        for (char **o = job->objects; r >= 0 && o && *o; o++)
                r = sd_bus_message_append_basic(reply, 'o', *o);
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

static int property_get_bool(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Job *job = userdata;
        bool v = streq_ptr(property, "ProgressValid") ? job->progress_valid
               : streq_ptr(property, "Cancelable")    ? job->cancelable
               : streq_ptr(property, "Finished")      ? job->finished
                                                      : job->success;
        return sd_bus_message_append_basic(reply, 'b', &(int) { v });
}

/* Read with Get, left out of GetAll and GetManagedObjects: a job's progress figures change
 * up to 4 times a second and are read only by whoever follows the job (winvmctl re-reads them
 * on each PropertiesChanged), and every listing would otherwise carry them. Their changes are
 * signalled as invalidations: the names, not the values. */
#define GET_ONLY_CONST (SD_BUS_VTABLE_PROPERTY_EXPLICIT | SD_BUS_VTABLE_PROPERTY_CONST)
#define GET_ONLY_INVALIDATES (SD_BUS_VTABLE_PROPERTY_EXPLICIT | SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION)

const sd_bus_vtable job_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Operation", "s", NULL, offsetof(Job, operation), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Objects", "ao", property_get_objects, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("StartedByUID", "u", NULL, offsetof(Job, started_by_uid), GET_ONLY_CONST),
        SD_BUS_PROPERTY("StartTime", "t", NULL, offsetof(Job, start_time_usec), GET_ONLY_CONST),
        SD_BUS_PROPERTY("Progress", "d", NULL, offsetof(Job, progress), GET_ONLY_INVALIDATES),
        SD_BUS_PROPERTY("ProgressValid", "b", property_get_bool, 0, GET_ONLY_INVALIDATES),
        SD_BUS_PROPERTY("Bytes", "t", NULL, offsetof(Job, bytes), GET_ONLY_INVALIDATES),
        SD_BUS_PROPERTY("Rate", "t", NULL, offsetof(Job, rate), GET_ONLY_INVALIDATES),
        SD_BUS_PROPERTY("ExpectedEndTime", "t", NULL, offsetof(Job, expected_end_usec), GET_ONLY_INVALIDATES),
        SD_BUS_PROPERTY("Cancelable", "b", property_get_bool, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Finished", "b", property_get_bool, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Success", "b", property_get_bool, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Message", "s", NULL, offsetof(Job, message), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD("Cancel", NULL, NULL, method_cancel, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("Completed", SD_BUS_ARGS("b", success, "s", message), 0),
        SD_BUS_VTABLE_END
};
