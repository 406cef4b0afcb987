/* winvmctl list vms|snapshots|filesystems|usb: bare names, one per line (--json: an array of
 * strings), for scripts and shell completion. Reads properties only, so it never asks for a
 * password and stays quick. */
#include <errno.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client-errors.h"
#include "client.h"
#include "names.h"
#include "util.h"

static const char *const list_kinds[] = { "vms", "snapshots", "filesystems", "usb" };

int cmd_list_check(const ClientOptions *o, const char *verb, const char *what, const char *arg2) {
        if (!what)
                return EXIT_OK;
        for (size_t i = 0; i < ELEMENTSOF(list_kinds); i++)
                if (strcmp(what, list_kinds[i]) == 0)
                        return EXIT_OK;
        fprintf(stderr, "winvmctl: list takes vms, snapshots, filesystems or usb\n");
        return EXIT_USAGE;
}

/* Prints names (a NULL-terminated list) one per line or as a JSON array. */
static int print_names(const ClientOptions *o, char **names) {
        if (o->json) {
                g_autoptr(JsonBuilder) b = json_builder_new();
                json_builder_begin_array(b);
                for (char **n = names; n && *n; n++)
                        json_builder_add_string_value(b, *n);
                json_builder_end_array(b);
                client_print_json(json_builder_get_root(b));
        } else
                for (char **n = names; n && *n; n++)
                        printf("%s\n", *n);
        return EXIT_OK;
}

static int list_vms(sd_bus *bus, const ClientOptions *o) {
        _cleanup_(strv_freep) char **paths = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r = sd_bus_get_property_strv(bus, client_bus_name, "/org/winvm1", "org.winvm1.Manager", "VMs", &error,
                                         &paths);
        if (r < 0)
                return client_fail(&error, r);

        size_t n = strv_length(paths);
        _cleanup_(strv_freep) char **names = calloc(n + 1, sizeof(char *));
        if (!names) {
                fprintf(stderr, "winvmctl: out of memory\n");
                return EXIT_FAILED;
        }
        for (size_t i = 0, j = 0; i < n; i++)
                if (vm_name_from_object_path(paths[i], &names[j]) >= 0)
                        j++;
        return print_names(o, names);
}

/* A string-list property of the VM's object, one name per line. */
static int list_vm_property(sd_bus *bus, const ClientOptions *o, const char *interface, const char *property) {
        _cleanup_free_ char *path = NULL;
        _cleanup_(strv_freep) char **names = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r = client_resolve_vm(bus, o, &path);
        if (r < 0)
                return -r;
        r = sd_bus_get_property_strv(bus, client_bus_name, path, interface, property, &error, &names);
        if (r < 0)
                return client_fail(&error, r);
        return print_names(o, names);
}

static int list_filesystems(sd_bus *bus, const ClientOptions *o) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r = sd_bus_get_property(bus, client_bus_name, "/org/winvm1/storage", "org.winvm1.Storage", "Filesystems",
                                    &error, &reply, "a(ss)");
        if (r < 0)
                return client_fail(&error, r);

        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        const char *name, *mount;
        r = sd_bus_message_enter_container(reply, 'a', "(ss)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(ss)", &name, &mount)) > 0)
                g_ptr_array_add(names, g_strdup(name));
        if (r < 0) {
                fprintf(stderr, "winvmctl: cannot read the filesystems: %s\n", strerror(-r));
                return EXIT_FAILED;
        }
        g_ptr_array_add(names, NULL);
        return print_names(o, (char **) names->pdata);
}

int cmd_list(sd_bus *bus, const ClientOptions *o, const char *verb, const char *what, const char *arg2) {
        if (!what || strcmp(what, "vms") == 0)
                return list_vms(bus, o);
        if (strcmp(what, "snapshots") == 0)
                return list_vm_property(bus, o, "org.winvm1.VM", "Snapshots");
        if (strcmp(what, "usb") == 0)
                /* The USB ids the VM may have passed through ([Usb] Devices). */
                return list_vm_property(bus, o, "org.winvm1.Usb", "ConfiguredDevices");
        return list_filesystems(bus, o);
}
