/* winvmctl status, start, shutdown, force-stop and reboot, and how every command finds the VM
 * it acts on. */
#include <inttypes.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "client-errors.h"
#include "client.h"
#include "util.h"

/* Added to the service's shutdown timeout for the reply to come back. */
#define CALL_SLACK_USEC (30 * 1000000ULL)

typedef struct VmStatus {
        char *path;
        char *name;
        char *state;
        char *reason;
        char *uuid;
        int autostart;
        uint32_t vcpus;
        uint64_t memory_mib;
} VmStatus;

static void vm_status_clear(VmStatus *s) {
        free(s->path);
        free(s->name);
        free(s->state);
        free(s->reason);
        free(s->uuid);
        memset(s, 0, sizeof(*s));
}

static int get_vm_status(sd_bus *bus, const char *path, VmStatus *s) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        const struct bus_properties_map {
                const char *name;
                char type;
                void *where;
        } map[] = {
                { "Name", 's', &s->name },
                { "State", 's', &s->state },
                { "StateReason", 's', &s->reason },
                { "UUID", 's', &s->uuid },
                { "Autostart", 'b', &s->autostart },
                { "VCPUs", 'u', &s->vcpus },
                { "MemoryMiB", 't', &s->memory_mib },
        };
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;

        s->path = strdup(path);
        int r = sd_bus_call_method(bus, client_bus_name, path, "org.freedesktop.DBus.Properties", "GetAll", &error,
                                   &reply, "s", "org.winvm1.VM");
        if (r < 0) {
                return -client_fail(&error, r);
        }
        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                const char *name;
                if ((r = sd_bus_message_read(reply, "s", &name)) < 0)
                        break;
                bool known = false;
                for (size_t i = 0; i < ELEMENTSOF(map); i++) {
                        if (strcmp(map[i].name, name) != 0)
                                continue;
                        char sig[2] = { map[i].type, 0 };
                        known = true;
                        if ((r = sd_bus_message_enter_container(reply, 'v', sig)) < 0)
                                break;
                        if (map[i].type == 's') {
                                const char *v;
                                if ((r = sd_bus_message_read(reply, "s", &v)) >= 0)
                                        *(char **) map[i].where = strdup(v);
                        } else
                                r = sd_bus_message_read_basic(reply, map[i].type, map[i].where);
                        if (r >= 0)
                                r = sd_bus_message_exit_container(reply);
                        break;
                }
                if (r >= 0 && !known)
                        r = sd_bus_message_skip(reply, "v");
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
        }
        if (r < 0) {
                fprintf(stderr, "winvmctl: cannot read the VM's properties: %s\n", strerror(-r));
                return -EXIT_FAILED;
        }
        return 0;
}

int client_resolve_vm(sd_bus *bus, const ClientOptions *o, char **ret_path) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        if (o->vm) {
                const char *path;
                r = sd_bus_call_method(bus, client_bus_name, "/org/winvm1", "org.winvm1.Manager", "GetVM", &error,
                                       &reply, "s", o->vm);
                if (r < 0 || (r = sd_bus_message_read(reply, "o", &path)) < 0) {
                        return -client_fail(&error, r);
                }
                *ret_path = strdup(path);
                return 0;
        }

        _cleanup_(strv_freep) char **paths = NULL;
        r = sd_bus_get_property_strv(bus, client_bus_name, "/org/winvm1", "org.winvm1.Manager", "VMs", &error, &paths);
        if (r < 0) {
                return -client_fail(&error, r);
        }
        size_t n = strv_length(paths);
        if (n != 1) {
                fprintf(stderr, "winvmctl: %zu VMs are managed; choose one with --vm NAME (see 'winvmctl status')\n", n);
                return -EXIT_USAGE;
        }
        *ret_path = strdup(paths[0]);
        return 0;
}

static void add_string_member(JsonBuilder *b, const char *name, const char *value) {
        json_builder_set_member_name(b, name);
        json_builder_add_string_value(b, value);
}

static void print_status_json(VmStatus *list, size_t n, int connected) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "libvirt_connected");
        json_builder_add_boolean_value(b, connected);
        json_builder_set_member_name(b, "vms");
        json_builder_begin_array(b);
        for (size_t i = 0; i < n; i++) {
                json_builder_begin_object(b);
                add_string_member(b, "name", list[i].name);
                add_string_member(b, "object_path", list[i].path);
                add_string_member(b, "uuid", list[i].uuid);
                add_string_member(b, "state", list[i].state);
                add_string_member(b, "reason", list[i].reason);
                json_builder_set_member_name(b, "autostart");
                json_builder_add_boolean_value(b, list[i].autostart);
                json_builder_set_member_name(b, "vcpus");
                json_builder_add_int_value(b, list[i].vcpus);
                json_builder_set_member_name(b, "memory_mib");
                json_builder_add_int_value(b, (gint64) list[i].memory_mib);
                json_builder_end_object(b);
        }
        json_builder_end_array(b);
        json_builder_end_object(b);

        client_print_json(json_builder_get_root(b));
}

static void print_status_table(VmStatus *list, size_t n, int connected) {
        if (!connected)
                printf("libvirt: not reachable; winvmd is reconnecting, states are unknown\n");
        printf("%-20s %-14s %-20s %5s %10s %s\n", "VM", "STATE", "REASON", "VCPUS", "MEMORY", "AUTOSTART");
        for (size_t i = 0; i < n; i++)
                printf("%-20s %-14s %-20s %5u %6" PRIu64 " MiB %s\n", list[i].name, list[i].state,
                       list[i].reason[0] ? list[i].reason : "-", list[i].vcpus, list[i].memory_mib,
                       list[i].autostart ? "yes" : "no");
}

int cmd_status(sd_bus *bus, const ClientOptions *o, const char *verb, const char *arg1, const char *arg2) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(strv_freep) char **paths = NULL;
        int r;

        if (o->vm) {
                char *path = NULL;
                if ((r = client_resolve_vm(bus, o, &path)) < 0)
                        return -r;
                paths = calloc(2, sizeof(char *));
                paths[0] = path;
        } else if ((r = sd_bus_get_property_strv(bus, client_bus_name, "/org/winvm1", "org.winvm1.Manager", "VMs",
                                                 &error, &paths)) < 0) {
                return client_fail(&error, r);
        }

        int connected = 0;
        r = sd_bus_get_property_trivial(bus, client_bus_name, "/org/winvm1", "org.winvm1.Manager", "LibvirtConnected",
                                        &error, 'b', &connected);
        if (r < 0) {
                return client_fail(&error, r);
        }

        size_t n = strv_length(paths);
        VmStatus *list = calloc(n ? n : 1, sizeof(VmStatus));
        int code = EXIT_OK;
        for (size_t i = 0; i < n && code == EXIT_OK; i++)
                if ((r = get_vm_status(bus, paths[i], &list[i])) < 0)
                        code = -r;
        if (code == EXIT_OK) {
                if (o->json)
                        print_status_json(list, n, connected);
                else
                        print_status_table(list, n, connected);
        }
        for (size_t i = 0; i < n; i++)
                vm_status_clear(&list[i]);
        free(list);
        return code;
}

int cmd_shutdown(sd_bus *bus, const ClientOptions *o, const char *verb, const char *arg1, const char *arg2) {
        /* The reply comes once the guest is off: wait as long as the service may. */
        uint64_t wait = (uint64_t) (o->timeout ? o->timeout : 3600) * 1000000ULL + CALL_SLACK_USEC;
        return -client_vm_call(bus, o, "org.winvm1.VM", "Shutdown", wait, NULL, "ub", o->timeout, (int) o->force);
}

int cmd_power(sd_bus *bus, const ClientOptions *o, const char *verb, const char *arg1, const char *arg2) {
        static const struct {
                const char *verb, *method;
        } methods[] = {
                { "start", "Start" },
                { "force-stop", "ForceStop" },
                { "reboot", "Reboot" },
        };
        for (size_t i = 0; i < ELEMENTSOF(methods); i++)
                if (strcmp(verb, methods[i].verb) == 0)
                        return -client_vm_call(bus, o, "org.winvm1.VM", methods[i].method, CLIENT_CHANGE_TIMEOUT,
                                               NULL, NULL);
        return EXIT_USAGE;
}
