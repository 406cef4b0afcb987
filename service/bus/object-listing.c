/* ObjectManager.GetManagedObjects on /org/winvm1, answered here rather than by sd-bus.
 *
 * The desktop toggle and winvmctl read the listing often. sd-bus builds it by walking its
 * node tree, appending through format strings and listing the standard interfaces (Peer,
 * Introspectable, Properties) on every object; built straight from our own vtables it costs
 * well under half as much (bench/run-bus-bench). What it lists is what sd-bus would: every
 * property but hidden and explicit ones, through the same getters, as GetAll returns them.
 * The standard interfaces carry no properties and are left out, as GDBus leaves them out. */
#include "object-listing.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "bus-objects.h"
#include "daemon.h"
#include "job.h"
#include "util.h"

/* sd-bus's getter for a property declared without one: the value at its offset. */
static int append_by_offset(sd_bus_message *reply, const char *signature, void *value) {
        if (strcmp(signature, "as") == 0)
                return sd_bus_message_append_strv(reply, *(char ***) value);
        switch (signature[0]) {
        case SD_BUS_TYPE_STRING:
        case SD_BUS_TYPE_SIGNATURE: {
                const char *s = *(const char **) value;
                return sd_bus_message_append_basic(reply, signature[0], s ? s : "");
        }
        case SD_BUS_TYPE_OBJECT_PATH:
                return sd_bus_message_append_basic(reply, signature[0], *(const char **) value);
        default:
                return sd_bus_message_append_basic(reply, signature[0], value);
        }
}

static int append_property(sd_bus_message *reply, const char *path, const char *interface, const sd_bus_vtable *v,
                           void *userdata, sd_bus_error *error) {
        void *value = (uint8_t *) userdata + v->x.property.offset;
        int r;

        if ((r = sd_bus_message_open_container(reply, 'e', "sv")) < 0 ||
            (r = sd_bus_message_append_basic(reply, 's', v->x.property.member)) < 0 ||
            (r = sd_bus_message_open_container(reply, 'v', v->x.property.signature)) < 0)
                return r;
        if (v->x.property.get)
                r = v->x.property.get(sd_bus_message_get_bus(reply), path, interface, v->x.property.member, reply,
                                      value, error);
        else
                r = append_by_offset(reply, v->x.property.signature, value);
        if (r < 0)
                return r;
        if (sd_bus_error_is_set(error))
                return -EIO;
        if ((r = sd_bus_message_close_container(reply)) < 0)
                return r;
        return sd_bus_message_close_container(reply);
}

static int append_interface(sd_bus_message *reply, const char *path, const BusInterface *i, void *userdata,
                            sd_bus_error *error) {
        int r;

        if ((r = sd_bus_message_open_container(reply, 'e', "sa{sv}")) < 0 ||
            (r = sd_bus_message_append_basic(reply, 's', i->name)) < 0 ||
            (r = sd_bus_message_open_container(reply, 'a', "{sv}")) < 0)
                return r;
        for (const sd_bus_vtable *v = i->vtable + 1; v->type != _SD_BUS_VTABLE_END; v++) {
                if (v->type != _SD_BUS_VTABLE_PROPERTY && v->type != _SD_BUS_VTABLE_WRITABLE_PROPERTY)
                        continue;
                if (v->flags & (SD_BUS_VTABLE_HIDDEN | SD_BUS_VTABLE_PROPERTY_EXPLICIT))
                        continue;
                if ((r = append_property(reply, path, i->name, v, userdata, error)) < 0)
                        return r;
        }
        if ((r = sd_bus_message_close_container(reply)) < 0)
                return r;
        return sd_bus_message_close_container(reply);
}

static int append_object(sd_bus_message *reply, const char *path, const BusInterface *interfaces, void *userdata,
                         sd_bus_error *error) {
        int r;

        if ((r = sd_bus_message_open_container(reply, 'e', "oa{sa{sv}}")) < 0 ||
            (r = sd_bus_message_append_basic(reply, 'o', path)) < 0 ||
            (r = sd_bus_message_open_container(reply, 'a', "{sa{sv}}")) < 0)
                return r;
        for (const BusInterface *i = interfaces; i->name; i++)
                if ((r = append_interface(reply, path, i, userdata, error)) < 0)
                        return r;
        if ((r = sd_bus_message_close_container(reply)) < 0)
                return r;
        return sd_bus_message_close_container(reply);
}

static int append_objects(Daemon *d, sd_bus_message *reply, sd_bus_error *error) {
        int r;

        if ((r = sd_bus_message_open_container(reply, 'a', "{oa{sa{sv}}}")) < 0 ||
            (r = append_object(reply, HOST_PATH, host_interfaces, d, error)) < 0 ||
            (r = append_object(reply, STORAGE_PATH, storage_interfaces, d, error)) < 0)
                return r;
        for (size_t i = 0; i < d->n_vms; i++)
                if ((r = append_object(reply, d->vms[i]->path, vm_interfaces, d->vms[i], error)) < 0)
                        return r;
        for (size_t i = 0; i < d->n_jobs; i++)
                if ((r = append_object(reply, d->jobs[i]->path, job_interfaces, d->jobs[i], error)) < 0)
                        return r;
        return sd_bus_message_close_container(reply);
}

int object_listing_reply(Daemon *d, sd_bus_message *call) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;

        int r = sd_bus_message_new_method_return(call, &reply);
        if (r >= 0)
                r = append_objects(d, reply, &error);
        if (r < 0)
                return sd_bus_error_is_set(&error) ? sd_bus_reply_method_error(call, &error)
                                                   : sd_bus_reply_method_errno(call, r, NULL);
        r = sd_bus_send(NULL, reply, NULL);
        return r < 0 ? r : 1;
}
