/* winvmctl cpu, usb, shares, define, export, diff, undo and history: the VM's configuration
 * as org.winvm1.Cpu (/org/winvm1/host) and org.winvm1.Usb, .Shares and .Definition (the VM)
 * manage it. */
#include <errno.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client-errors.h"
#include "client.h"
#include "util.h"

#define HOST_PATH "/org/winvm1/host"
/* Changes may wait for a password and for libvirt; the service answers every call. */

/* Text from the host (a USB product name) with control characters made '?', so it cannot
 * drive the terminal. */
static void print_clean(const char *s) {
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                putchar(*p == '\n' || *p == '\t' || (*p >= 0x20 && *p != 0x7f) ? *p : '?');
}

/* print_clean, then spaces up to width columns (bytes, as the names are ASCII in practice). */
static void print_clean_padded(const char *s, int width) {
        print_clean(s);
        for (int n = (int) strlen(s); n < width; n++)
                putchar(' ');
}

/* --json: objects with named members, documented in winvmctl(1) and kept stable. */
static void json_str(JsonBuilder *b, const char *name, const char *value) {
        json_builder_set_member_name(b, name);
        json_builder_add_string_value(b, value);
}

static void json_bool(JsonBuilder *b, const char *name, bool value) {
        json_builder_set_member_name(b, name);
        json_builder_add_boolean_value(b, value);
}

static void json_int(JsonBuilder *b, const char *name, gint64 value) {
        json_builder_set_member_name(b, name);
        json_builder_add_int_value(b, value);
}

static int json_done(JsonBuilder *b, int r) {
        if (r < 0) {
                fprintf(stderr, "winvmctl: cannot read the reply: %s\n", strerror(-r));
                return EXIT_FAILED;
        }
        client_print_json(json_builder_get_root(b));
        return EXIT_OK;
}

/* Prints the single string of a reply (a result message) and a newline. */
static int print_string_reply(sd_bus_message *reply) {
        const char *s;
        int r = sd_bus_message_read(reply, "s", &s);
        if (r < 0) {
                fprintf(stderr, "winvmctl: cannot read the reply: %s\n", strerror(-r));
                return EXIT_FAILED;
        }
        print_clean(s);
        putchar('\n');
        return EXIT_OK;
}

/* ---- cpu ---- */

static int cpu_topology(sd_bus *bus, const ClientOptions *o) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r = client_call(bus, o, HOST_PATH, "org.winvm1.Cpu", "GetTopology", 0, &reply, NULL);
        if (r < 0)
                return -r;
        int hybrid;
        r = sd_bus_message_read(reply, "b", &hybrid);
        if (r >= 0)
                r = sd_bus_message_enter_container(reply, 'a', "(uuussb)");
        if (r < 0)
                return client_fail(NULL, r);
        uint32_t id, core, package;
        const char *type, *siblings;
        int online;
        if (o->json) {
                g_autoptr(JsonBuilder) b = json_builder_new();
                json_builder_begin_object(b);
                json_bool(b, "hybrid", hybrid);
                json_builder_set_member_name(b, "cpus");
                json_builder_begin_array(b);
                while ((r = sd_bus_message_read(reply, "(uuussb)", &id, &core, &package, &type, &siblings, &online)) > 0) {
                        json_builder_begin_object(b);
                        json_int(b, "id", id);
                        json_int(b, "core", core == UINT32_MAX ? -1 : (gint64) core);
                        json_int(b, "package", package == UINT32_MAX ? -1 : (gint64) package);
                        json_str(b, "type", type);
                        json_str(b, "siblings", siblings);
                        json_bool(b, "online", online);
                        json_builder_end_object(b);
                }
                json_builder_end_array(b);
                json_builder_end_object(b);
                return json_done(b, r);
        }
        printf("%s host\n%-5s %-5s %-8s %-8s %-10s %s\n", hybrid ? "hybrid (P- and E-cores)" : "uniform", "CPU", "CORE",
               "PACKAGE", "TYPE", "SIBLINGS", "ONLINE");
        while ((r = sd_bus_message_read(reply, "(uuussb)", &id, &core, &package, &type, &siblings, &online)) > 0) {
                char core_s[16] = "-", pkg_s[16] = "-";
                if (core != UINT32_MAX)
                        snprintf(core_s, sizeof(core_s), "%u", core);
                if (package != UINT32_MAX)
                        snprintf(pkg_s, sizeof(pkg_s), "%u", package);
                printf("%-5u %-5s %-8s %-8s %-10s %s\n", id, core_s, pkg_s, type, siblings, online ? "yes" : "no");
        }
        return r < 0 ? client_fail(NULL, r) : EXIT_OK;
}

static int cpu_plan(sd_bus *bus, const ClientOptions *o) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;
        if (o->apply)
                r = client_call(bus, o, HOST_PATH, "org.winvm1.Cpu", "ApplyPinning", CLIENT_CHANGE_TIMEOUT, &reply, "suuu",
                                o->vm ? o->vm : "", o->p_cores, o->e_cores, o->host_p_cores);
        else
                r = client_call(bus, o, HOST_PATH, "org.winvm1.Cpu", "PlanPinning", 0, &reply, "uuu", o->p_cores,
                                o->e_cores, o->host_p_cores);
        if (r < 0)
                return -r;
        const char *a, *b, *c = NULL;
        r = o->apply ? sd_bus_message_read(reply, "ss", &a, &b) : sd_bus_message_read(reply, "sss", &a, &b, &c);
        if (r < 0)
                return client_fail(NULL, r);
        if (o->json) {
                g_autoptr(JsonBuilder) j = json_builder_new();
                json_builder_begin_object(j);
                if (o->apply) {
                        json_str(j, "table", a);
                        json_str(j, "result", b);
                } else {
                        json_str(j, "cputune", a);
                        json_str(j, "topology", b);
                        json_str(j, "table", c);
                }
                json_builder_end_object(j);
                return json_done(j, 0);
        }
        if (o->apply) {
                print_clean(a);         /* the table */
                printf("\n%s\n", b);    /* what was done */
        } else {
                print_clean(c);
                printf("\n%s%s\n", a, b);
                printf("\nApply it with: winvmctl cpu plan --p %u --e %u --host-p %u --apply\n", o->p_cores, o->e_cores,
                       o->host_p_cores);
        }
        return EXIT_OK;
}

int cmd_cpu(sd_bus *bus, const ClientOptions *o, const char *verb, const char *action, const char *arg2) {
        if (!action)
                return cpu_topology(bus, o);
        if (strcmp(action, "plan") == 0)
                return cpu_plan(bus, o);
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r = client_call(bus, o, HOST_PATH, "org.winvm1.Cpu", "CheckPinning", 0, &reply, "s", o->vm ? o->vm : "");
        return r < 0 ? -r : client_print_checks(reply, o);
}

/* ---- usb ---- */

static int usb_list(sd_bus *bus, const ClientOptions *o) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r = client_vm_call(bus, o, "org.winvm1.Usb", "GetDevices", 0, &reply, NULL);
        if (r < 0)
                return -r;
        if ((r = sd_bus_message_enter_container(reply, 'a', "(ssbbb)")) < 0)
                return client_fail(NULL, r);
        const char *id, *name;
        int present, live, persistent;
        if (o->json) {
                g_autoptr(JsonBuilder) b = json_builder_new();
                json_builder_begin_array(b);
                while ((r = sd_bus_message_read(reply, "(ssbbb)", &id, &name, &present, &live, &persistent)) > 0) {
                        json_builder_begin_object(b);
                        json_str(b, "id", id);
                        json_str(b, "name", name);
                        json_bool(b, "plugged_in", present);
                        json_bool(b, "attached", live);
                        json_bool(b, "in_definition", persistent);
                        json_builder_end_object(b);
                }
                json_builder_end_array(b);
                return json_done(b, r);
        }
        printf("%-10s %-8s %-9s %-11s %s\n", "ID", "PLUGGED", "ATTACHED", "DEFINITION", "DEVICE");
        while ((r = sd_bus_message_read(reply, "(ssbbb)", &id, &name, &present, &live, &persistent)) > 0) {
                printf("%-10s %-8s %-9s %-11s ", id, present ? "yes" : "no", live ? "yes" : "no", persistent ? "yes" : "no");
                print_clean(name[0] ? name : "-");
                putchar('\n');
        }
        return r < 0 ? client_fail(NULL, r) : EXIT_OK;
}

int cmd_usb(sd_bus *bus, const ClientOptions *o, const char *verb, const char *action, const char *id) {
        if (!action || strcmp(action, "list") == 0)
                return usb_list(bus, o);
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        uint32_t flags = (o->live ? 1u : 0u) | (o->if_running ? 2u : 0u) | (o->if_configured ? 4u : 0u);
        int r = client_vm_call(bus, o, "org.winvm1.Usb", strcmp(action, "attach") == 0 ? "Attach" : "Detach", CLIENT_CHANGE_TIMEOUT,
                        &reply, "su", id, flags);
        return r < 0 ? -r : print_string_reply(reply);
}

/* ---- shares ---- */

int cmd_shares(sd_bus *bus, const ClientOptions *o, const char *verb, const char *arg1, const char *arg2) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;
        if (o->virtiofsd) {
                r = client_vm_call(bus, o, "org.winvm1.Shares", "SetVirtiofsdPath", CLIENT_CHANGE_TIMEOUT, &reply, "s", o->virtiofsd);
                return r < 0 ? -r : print_string_reply(reply);
        }
        r = client_vm_call(bus, o, "org.winvm1.Shares", "GetShares", 0, &reply, NULL);
        if (r < 0)
                return -r;
        if ((r = sd_bus_message_enter_container(reply, 'a', "(sssb)")) < 0)
                return client_fail(NULL, r);
        const char *source, *tag, *binary;
        int running, shared;
        size_t n = 0;
        if (o->json) {
                g_autoptr(JsonBuilder) b = json_builder_new();
                json_builder_begin_object(b);
                json_builder_set_member_name(b, "shares");
                json_builder_begin_array(b);
                while ((r = sd_bus_message_read(reply, "(sssb)", &source, &tag, &binary, &running)) > 0) {
                        json_builder_begin_object(b);
                        json_str(b, "tag", tag);
                        json_str(b, "source", source);
                        json_str(b, "virtiofsd", binary);
                        json_bool(b, "running", running);
                        json_builder_end_object(b);
                }
                json_builder_end_array(b);
                if (r >= 0 && (r = sd_bus_message_exit_container(reply)) >= 0)
                        r = sd_bus_message_read(reply, "b", &shared);
                if (r >= 0)
                        json_bool(b, "shared_memory", shared);
                json_builder_end_object(b);
                return json_done(b, r);
        }
        printf("%-12s %-8s %-40s %s\n", "TAG", "RUNNING", "FOLDER", "VIRTIOFSD");
        while ((r = sd_bus_message_read(reply, "(sssb)", &source, &tag, &binary, &running)) > 0) {
                /* Tag, folder and binary come from a definition a user may have written. */
                print_clean_padded(tag, 12);
                printf(" %-8s ", running ? "yes" : "no");
                print_clean_padded(source, 40);
                putchar(' ');
                print_clean(binary[0] ? binary : "(libvirt's default)");
                putchar('\n');
                n++;
        }
        if (r < 0 || (r = sd_bus_message_exit_container(reply)) < 0 || (r = sd_bus_message_read(reply, "b", &shared)) < 0)
                return client_fail(NULL, r);
        if (n == 0)
                printf("(no virtiofs shares)\n");
        printf("\nshared memory backing: %s\n", shared ? "yes" : "no (virtiofs needs it: the guest will not start)");
        return EXIT_OK;
}

/* ---- the definition file ---- */

static int history(sd_bus *bus, const ClientOptions *o) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r = client_vm_call(bus, o, "org.winvm1.Definition", "GetHistory", 0, &reply, NULL);
        if (r < 0)
                return -r;
        if ((r = sd_bus_message_enter_container(reply, 'a', "(ts)")) < 0)
                return client_fail(NULL, r);
        uint64_t usec;
        const char *what;
        size_t n = 0;
        if (o->json) {
                g_autoptr(JsonBuilder) b = json_builder_new();
                json_builder_begin_array(b);
                while ((r = sd_bus_message_read(reply, "(ts)", &usec, &what)) > 0) {
                        json_builder_begin_object(b);
                        json_int(b, "replaced_usec", (gint64) usec);
                        json_str(b, "change", what);
                        json_builder_end_object(b);
                }
                json_builder_end_array(b);
                return json_done(b, r);
        }
        while ((r = sd_bus_message_read(reply, "(ts)", &usec, &what)) > 0) {
                time_t t = (time_t) (usec / 1000000u);
                struct tm tm;
                char when[32] = "?";
                if (localtime_r(&t, &tm))
                        strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
                printf("%s  before %s\n", when, what);
                n++;
        }
        if (n == 0)
                printf("(no kept definitions: nothing to undo)\n");
        return r < 0 ? client_fail(NULL, r) : EXIT_OK;
}

int cmd_definition(sd_bus *bus, const ClientOptions *o, const char *verb, const char *arg1, const char *arg2) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;
        if (strcmp(verb, "history") == 0)
                return history(bus, o);
        if (strcmp(verb, "diff") == 0) {
                r = client_vm_call(bus, o, "org.winvm1.Definition", "DefinitionDrift", 0, &reply, "b", 1);
                if (r < 0)
                        return -r;
                int differs;
                const char *diff;
                if ((r = sd_bus_message_read(reply, "bs", &differs, &diff)) < 0)
                        return client_fail(NULL, r);
                if (o->json) {
                        g_autoptr(JsonBuilder) b = json_builder_new();
                        json_builder_begin_object(b);
                        json_builder_set_member_name(b, "differs");
                        json_builder_add_boolean_value(b, differs);
                        json_builder_set_member_name(b, "diff");
                        json_builder_add_string_value(b, diff);
                        json_builder_end_object(b);
                        client_print_json(json_builder_get_root(b));
                } else
                        print_clean(diff);
                /* As diff(1): 1 when they differ, so scripts can test it. */
                return differs ? EXIT_FAILED : EXIT_OK;
        }
        const char *member = strcmp(verb, "export") == 0 ? "ExportDefinition" : strcmp(verb, "define") == 0 ? "Define" :
                                                                                                            "UndoChange";
        r = client_vm_call(bus, o, "org.winvm1.Definition", member, CLIENT_CHANGE_TIMEOUT, &reply, NULL);
        if (r < 0)
                return -r;
        if (strcmp(verb, "export") == 0) {
                const char *file;
                if ((r = sd_bus_message_read(reply, "s", &file)) < 0)
                        return client_fail(NULL, r);
                printf("wrote %s (the version before it is kept as %s.previous)\n", file, file);
                return EXIT_OK;
        }
        return print_string_reply(reply);
}

int cmd_config_check(const ClientOptions *o, const char *verb, const char *action, const char *arg) {
        if (strcmp(verb, "cpu") == 0) {
                if (action && strcmp(action, "check") != 0 && strcmp(action, "plan") != 0) {
                        fprintf(stderr, "winvmctl: cpu takes check or plan, not '%s'\n", action);
                        return EXIT_USAGE;
                }
                if (action && strcmp(action, "plan") == 0 && !o->p_cores) {
                        fprintf(stderr, "winvmctl: cpu plan needs --p N (P-cores, or cores, for the guest); "
                                        "--e M and --host-p K are optional\n");
                        return EXIT_USAGE;
                }
                if (o->apply && !(action && strcmp(action, "plan") == 0)) {
                        fprintf(stderr, "winvmctl: --apply goes with cpu plan\n");
                        return EXIT_USAGE;
                }
        }
        if (strcmp(verb, "usb") == 0) {
                bool change = action && (strcmp(action, "attach") == 0 || strcmp(action, "detach") == 0);
                if (action && !change && strcmp(action, "list") != 0) {
                        fprintf(stderr, "winvmctl: usb takes list, attach ID or detach ID, not '%s'\n", action);
                        return EXIT_USAGE;
                }
                if (change && !arg) {
                        fprintf(stderr, "winvmctl: usb %s needs a device id, e.g. 256c:006d\n", action);
                        return EXIT_USAGE;
                }
                if (!change && arg) {
                        fprintf(stderr, "winvmctl: unexpected argument '%s'\n", arg);
                        return EXIT_USAGE;
                }
        }
        return EXIT_OK;
}
