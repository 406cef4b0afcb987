/* winvmctl doctor, kvmfr status|load|unload|apply-permissions, and vfio: the host's readiness
 * as /org/winvm1 (Manager.Doctor) and /org/winvm1/host (org.winvm1.Kvmfr, org.winvm1.Vfio)
 * report it. */
#include <errno.h>
#include <json-glib/json-glib.h>
#include <langinfo.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "client-errors.h"
#include "client.h"
#include "polkit-agent.h"
#include "util.h"

#define HOST_PATH "/org/winvm1/host"
#define KVMFR_INTERFACE "org.winvm1.Kvmfr"
#define VFIO_INTERFACE "org.winvm1.Vfio"

/* Reads answer at once (the default bus timeout). Load, Unload and ApplyPermissions may wait
 * for a password and for udev: wait for their reply without a limit, as the snapshot
 * commands do; the service answers every call, and Ctrl-C only stops waiting. */
#define HOST_READ_TIMEOUT 0
#define HOST_MANAGE_TIMEOUT UINT64_MAX

/* One check as the service reports it; the strings belong to the reply message. */
typedef struct CheckRow {
        const char *id, *status, *message, *remedy;
} CheckRow;

typedef struct CheckRows {
        CheckRow *items;
        size_t n;
} CheckRows;

static void check_rows_clear(CheckRows *c) {
        free(c->items);
        *c = (CheckRows) { 0 };
}

typedef enum RowStatus { ROW_OK, ROW_WARN, ROW_FAIL, ROW_SKIPPED, ROW_UNKNOWN } RowStatus;

static RowStatus row_status(const char *s) {
        static const char *const names[] = { [ROW_OK] = "ok", [ROW_WARN] = "warn", [ROW_FAIL] = "fail",
                                             [ROW_SKIPPED] = "skipped" };
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (strcmp(s, names[i]) == 0)
                        return (RowStatus) i;
        return ROW_UNKNOWN;
}

/* How the checklist looks: glyphs on a UTF-8 terminal, colour on a terminal unless NO_COLOR
 * (or TERM=dumb), remedies wrapped to the terminal's width. Plain words otherwise, so that
 * logs and grep see "FAIL". */
typedef struct Style {
        bool glyphs;
        bool color;
        size_t width; /* 0: do not wrap */
} Style;

static Style style_for_stdout(void) {
        Style st = { 0 };
        if (!isatty(STDOUT_FILENO))
                return st;
        const char *no_color = getenv("NO_COLOR"), *term = getenv("TERM");
        st.glyphs = client_locale_is_utf8();
        st.color = !(no_color && no_color[0]) && !(term && strcmp(term, "dumb") == 0);
        struct winsize ws;
        if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
                st.width = ws.ws_col;
        return st;
}

static const char *status_mark(const Style *st, RowStatus s) {
        static const char *const glyphs[] = { "✓", "!", "✗", "-", "?" };
        static const char *const words[] = { "ok", "warn", "FAIL", "skip", "?" };
        return st->glyphs ? glyphs[s] : words[s];
}

static const char *status_color(const Style *st, RowStatus s) {
        if (!st->color)
                return "";
        return s == ROW_OK ? "\033[32m" : s == ROW_WARN ? "\033[33m" : s == ROW_FAIL ? "\033[31m" : "";
}

/* s with control characters (C0 but newline, DEL, C1: escape sequences a host file could
 * carry into a message) made spaces, so the service's text cannot drive the terminal. */
static char *clean_text(const char *s) {
        GString *out = g_string_new(NULL);
        if (g_utf8_validate(s, -1, NULL))
                for (const char *p = s; *p; p = g_utf8_next_char(p)) {
                        gunichar c = g_utf8_get_char(p);
                        if (c != '\n' && g_unichar_iscntrl(c))
                                g_string_append_c(out, ' ');
                        else
                                g_string_append_unichar(out, c);
                }
        else
                for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                        g_string_append_c(out, *p == '\n' ? '\n' : *p < 0x20 || *p >= 0x7f ? '?' : (char) *p);
        return g_string_free(out, false);
}

/* Prints text from column col on; every further line (a newline in the text, or a wrap at
 * st->width between words) starts with indent spaces. Without a width, only newlines break. */
static void print_wrapped(const Style *st, const char *text, size_t col, size_t indent) {
        g_autofree char *clean = clean_text(text);
        bool line_start = true;

        for (const char *p = clean; *p;) {
                if (*p == '\n') {
                        printf("\n%*s", (int) indent, "");
                        col = indent;
                        line_start = true;
                        p++;
                        continue;
                }
                if (*p == ' ' && st->width > 0) {
                        p++;
                        continue;
                }
                /* One word (or, without a width, the rest of the line as it is). */
                size_t len = st->width > 0 ? strcspn(p, " \n") : strcspn(p, "\n");
                size_t w = (size_t) g_utf8_strlen(p, (gssize) len);
                if (st->width > 0 && !line_start) {
                        if (col + 1 + w > st->width) {
                                printf("\n%*s", (int) indent, "");
                                col = indent;
                        } else {
                                putchar(' ');
                                col++;
                        }
                }
                fwrite(p, 1, len, stdout);
                col += w;
                line_start = false;
                p += len;
        }
        putchar('\n');
}

/* Reads an a(ssss) of checks. 0, or minus the exit code after printing why. */
static int read_checks(sd_bus_message *reply, CheckRows *ret) {
        CheckRows c = { 0 };
        size_t allocated = 0;
        int r = sd_bus_message_enter_container(reply, 'a', "(ssss)");
        while (r >= 0) {
                CheckRow row;
                r = sd_bus_message_read(reply, "(ssss)", &row.id, &row.status, &row.message, &row.remedy);
                if (r <= 0)
                        break;
                if (c.n == allocated) {
                        size_t n = allocated ? allocated * 2 : 32;
                        CheckRow *items = reallocarray(c.items, n, sizeof(CheckRow));
                        if (!items) {
                                r = -ENOMEM;
                                break;
                        }
                        c.items = items;
                        allocated = n;
                }
                c.items[c.n++] = row;
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(reply);
        if (r < 0) {
                check_rows_clear(&c);
                fprintf(stderr, "winvmctl: cannot read the checks: %s\n", strerror(-r));
                return -EXIT_FAILED;
        }
        *ret = c;
        return 0;
}

static size_t count_status(const CheckRows *c, RowStatus s) {
        size_t n = 0;
        for (size_t i = 0; i < c->n; i++)
                n += row_status(c->items[i].status) == s;
        return n;
}

/* The checklist and a summary line. The exit code: 1 when a check failed, else 0. */
static int print_checks(const CheckRows *c, const Style *st) {
        for (size_t i = 0; i < c->n; i++) {
                const CheckRow *row = &c->items[i];
                RowStatus s = row_status(row->status);
                const char *mark = status_mark(st, s), *color = status_color(st, s);

                g_autofree char *id = clean_text(row->id);
                g_autofree char *head = g_strdup_printf("%s: %s", id, row->message);
                /* Glyphs: "✓ id: message", remedy below at 4; words: "FAIL id: message", at 5. */
                size_t col = st->glyphs ? 2 : 5;
                printf("%s%s%s%*s", color, mark, color[0] ? "\033[0m" : "",
                       st->glyphs ? 1 : (int) (5 - strlen(mark)), "");
                print_wrapped(st, head, col, col);
                if (s != ROW_OK && row->remedy[0]) {
                        size_t indent = st->glyphs ? 4 : 5;
                        printf("%*s", (int) indent, "");
                        print_wrapped(st, row->remedy, indent, indent);
                }
        }

        size_t fail = count_status(c, ROW_FAIL);
        printf("\n%zu check%s: %zu ok, %zu warn%s, %zu failed, %zu skipped\n", c->n, c->n == 1 ? "" : "s",
               count_status(c, ROW_OK), count_status(c, ROW_WARN), count_status(c, ROW_WARN) == 1 ? "ing" : "ings",
               fail, count_status(c, ROW_SKIPPED));
        return fail > 0 ? EXIT_FAILED : EXIT_OK;
}

static void checks_to_json(const CheckRows *c, JsonBuilder *b) {
        json_builder_begin_array(b);
        for (size_t i = 0; i < c->n; i++) {
                json_builder_begin_object(b);
                json_builder_set_member_name(b, "id");
                json_builder_add_string_value(b, c->items[i].id);
                json_builder_set_member_name(b, "status");
                json_builder_add_string_value(b, c->items[i].status);
                json_builder_set_member_name(b, "message");
                json_builder_add_string_value(b, c->items[i].message);
                json_builder_set_member_name(b, "remedy");
                json_builder_add_string_value(b, c->items[i].remedy);
                json_builder_end_object(b);
        }
        json_builder_end_array(b);
}

/* The count of each status, as Manager.Doctor's summary names them. */
static void summary_to_json(const CheckRows *c, JsonBuilder *b) {
        static const struct {
                const char *name;
                RowStatus status;
        } keys[] = { { "ok", ROW_OK }, { "warn", ROW_WARN }, { "fail", ROW_FAIL }, { "skipped", ROW_SKIPPED } };
        json_builder_begin_object(b);
        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                json_builder_set_member_name(b, keys[i].name);
                json_builder_add_int_value(b, (gint64) count_status(c, keys[i].status));
        }
        json_builder_end_object(b);
}

/* Calls a method, letting polkit ask for a password unless --no-ask-password. 0, or minus
 * the exit code after printing why. */
int client_call(sd_bus *bus, const ClientOptions *o, const char *path, const char *interface, const char *member,
                uint64_t timeout_usec, sd_bus_message **ret_reply, const char *types, ...) {
        va_list ap;
        va_start(ap, types);
        int r = client_callv(bus, o, path, interface, member, timeout_usec, ret_reply, types, ap);
        va_end(ap);
        return r;
}

int client_call_unreported(sd_bus *bus, const ClientOptions *o, const char *path, const char *interface,
                           const char *member, uint64_t timeout_usec, sd_bus_error *error, sd_bus_message **ret_reply,
                           const char *types, va_list ap) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;

        int r = sd_bus_message_new_method_call(bus, &m, client_bus_name, path, interface, member);
        if (r >= 0 && types)
                r = sd_bus_message_appendv(m, types, ap);
        if (r >= 0)
                r = sd_bus_message_set_allow_interactive_authorization(m, o->ask_password);
        if (r >= 0 && o->ask_password)
                polkit_agent_open();
        if (r >= 0)
                r = sd_bus_call(bus, m, timeout_usec, error, ret_reply);
        return r;
}

int client_callv(sd_bus *bus, const ClientOptions *o, const char *path, const char *interface, const char *member,
                 uint64_t timeout_usec, sd_bus_message **ret_reply, const char *types, va_list ap) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r = client_call_unreported(bus, o, path, interface, member, timeout_usec, &error, ret_reply, types, ap);
        if (r >= 0)
                return 0;

        /* The service's messages say what to do (NotFound: how to install kvmfr; Busy: which
         * guest uses it, or that it is loaded already); only an older winvmd needs a word. */
        bool unknown = sd_bus_error_has_names(&error, SD_BUS_ERROR_UNKNOWN_METHOD, SD_BUS_ERROR_UNKNOWN_INTERFACE,
                                              SD_BUS_ERROR_UNKNOWN_OBJECT);
        int code = client_fail(&error, r);
        if (unknown)
                fprintf(stderr, "winvmctl: this winvmd does not offer %s.%s; is it older than winvmctl?\n",
                        interface, member);
        return -code;
}

/* A method on the VM's object (--vm, or the only VM), as client_call() makes it. */
int client_vm_call(sd_bus *bus, const ClientOptions *o, const char *interface, const char *member,
                   uint64_t timeout_usec, sd_bus_message **ret_reply, const char *types, ...) {
        _cleanup_free_ char *path = NULL;
        int r = client_resolve_vm(bus, o, &path);
        if (r < 0)
                return r;
        va_list ap;
        va_start(ap, types);
        r = client_callv(bus, o, path, interface, member, timeout_usec, ret_reply, types, ap);
        va_end(ap);
        return r;
}

/* Reads a Check() reply. */
static int call_check(sd_bus *bus, const ClientOptions *o, const char *interface, sd_bus_message **ret_reply,
                      CheckRows *ret) {
        int r = client_call(bus, o, HOST_PATH, interface, "Check", HOST_READ_TIMEOUT, ret_reply, NULL);
        if (r < 0)
                return r;
        return read_checks(*ret_reply, ret);
}

/* A reply's value as JSON (dictionaries with string keys as objects, structs as arrays), or
 * minus the exit code. what names it in the error message. */
static int reply_to_json(sd_bus_message *reply, const char *what, JsonNode **ret) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        int r = client_bus_value_to_json(reply, b);
        JsonNode *root = r >= 0 ? json_builder_get_root(b) : NULL;
        if (!root) {
                fprintf(stderr, "winvmctl: cannot read %s: %s\n", what, strerror(r < 0 ? -r : EBADMSG));
                return -EXIT_FAILED;
        }
        *ret = root;
        return 0;
}

/* Typed views of JSON nodes that tolerate a missing or mistyped value. */
static const char *node_str(JsonNode *n) {
        return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING ? json_node_get_string(n)
                                                                                              : "";
}

static gint64 node_int(JsonNode *n) {
        return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_INT64 ? json_node_get_int(n) : 0;
}

static bool node_bool(JsonNode *n) {
        return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_BOOLEAN &&
               json_node_get_boolean(n);
}

static JsonArray *node_array(JsonNode *n) {
        return n && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
}

static JsonObject *node_object(JsonNode *n) {
        return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

static JsonNode *member(JsonObject *o, const char *name) {
        return o ? json_object_get_member(o, name) : NULL;
}

static JsonNode *element(JsonArray *a, guint i) {
        return a && i < json_array_get_length(a) ? json_array_get_element(a, i) : NULL;
}

static guint array_length(JsonArray *a) {
        return a ? json_array_get_length(a) : 0;
}

int client_print_checks(sd_bus_message *reply, const ClientOptions *o) {
        CheckRows c = { 0 };
        int r = read_checks(reply, &c);
        if (r < 0)
                return -r;
        int code;
        if (o->json) {
                g_autoptr(JsonBuilder) b = json_builder_new();
                json_builder_begin_object(b);
                json_builder_set_member_name(b, "checks");
                checks_to_json(&c, b);
                json_builder_set_member_name(b, "summary");
                summary_to_json(&c, b);
                json_builder_end_object(b);
                client_print_json(json_builder_get_root(b));
                code = count_status(&c, ROW_FAIL) > 0 ? EXIT_FAILED : EXIT_OK;
        } else {
                Style st = style_for_stdout();
                code = print_checks(&c, &st);
        }
        check_rows_clear(&c);
        return code;
}

/* ---- doctor ---- */

int cmd_doctor(sd_bus *bus, const ClientOptions *o, const char *verb, const char *arg1, const char *arg2) {
        if (o->fix)
                return cmd_doctor_fix(bus, o);

        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r = client_call(bus, o, "/org/winvm1", "org.winvm1.Manager", "Doctor", HOST_READ_TIMEOUT, &reply, "s",
                          o->vm ? o->vm : "");
        /* The reply's summary counts the same checks; client_print_checks() counts them itself. */
        return r < 0 ? -r : client_print_checks(reply, o);
}

/* ---- kvmfr ---- */

/* The org.winvm1.Kvmfr properties as a JSON object with the service's names. */
static int fetch_kvmfr(sd_bus *bus, const ClientOptions *o, JsonObject **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r = client_call(bus, o, HOST_PATH, "org.freedesktop.DBus.Properties", "GetAll", HOST_READ_TIMEOUT, &reply,
                          "s", KVMFR_INTERFACE);
        if (r < 0)
                return r;
        JsonNode *root = NULL;
        if ((r = reply_to_json(reply, "the kvmfr properties", &root)) < 0)
                return r;
        JsonObject *obj = node_object(root);
        if (!obj) {
                json_node_unref(root);
                fprintf(stderr, "winvmctl: cannot read the kvmfr properties: %s\n", strerror(EBADMSG));
                return -EXIT_FAILED;
        }
        *ret = json_object_ref(obj);
        json_node_unref(root);
        return 0;
}

static char *join_sizes(JsonArray *sizes) {
        GString *s = g_string_new(NULL);
        for (guint i = 0; i < array_length(sizes); i++)
                g_string_append_printf(s, "%s%" G_GINT64_FORMAT " MiB", i ? ", " : "", node_int(element(sizes, i)));
        return g_string_free(s, false);
}

/* A Devices entry (path, is a character device, owner, group, mode, ACL entries). */
typedef struct KvmfrDevice {
        const char *path, *owner, *group;
        bool chr;
        unsigned mode;
        JsonArray *acl;
} KvmfrDevice;

static KvmfrDevice kvmfr_device(JsonNode *n) {
        JsonArray *a = node_array(n);
        return (KvmfrDevice) {
                .path = node_str(element(a, 0)),
                .chr = node_bool(element(a, 1)),
                .owner = node_str(element(a, 2)),
                .group = node_str(element(a, 3)),
                .mode = (unsigned) node_int(element(a, 4)) & 07777,
                .acl = node_array(element(a, 5)),
        };
}

static void kvmfr_status_json(JsonObject *props, const CheckRows *c) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        JsonArray *sizes = node_array(member(props, "StaticSizesMiB"));
        JsonArray *devices = node_array(member(props, "Devices"));

        json_builder_begin_object(b);
        json_builder_set_member_name(b, "loaded");
        json_builder_add_boolean_value(b, node_bool(member(props, "Loaded")));
        json_builder_set_member_name(b, "static_sizes_mib");
        json_builder_begin_array(b);
        for (guint i = 0; i < array_length(sizes); i++)
                json_builder_add_int_value(b, node_int(element(sizes, i)));
        json_builder_end_array(b);
        json_builder_set_member_name(b, "required_size_mib");
        json_builder_add_int_value(b, node_int(member(props, "RequiredSizeMiB")));
        json_builder_set_member_name(b, "devices");
        json_builder_begin_array(b);
        for (guint i = 0; i < array_length(devices); i++) {
                KvmfrDevice d = kvmfr_device(element(devices, i));
                char mode[8];
                snprintf(mode, sizeof(mode), "%04o", d.mode);
                json_builder_begin_object(b);
                json_builder_set_member_name(b, "path");
                json_builder_add_string_value(b, d.path);
                json_builder_set_member_name(b, "char_device");
                json_builder_add_boolean_value(b, d.chr);
                json_builder_set_member_name(b, "owner");
                json_builder_add_string_value(b, d.owner);
                json_builder_set_member_name(b, "group");
                json_builder_add_string_value(b, d.group);
                json_builder_set_member_name(b, "mode");
                json_builder_add_string_value(b, mode);
                json_builder_set_member_name(b, "acl");
                json_builder_begin_array(b);
                for (guint j = 0; j < array_length(d.acl); j++)
                        json_builder_add_string_value(b, node_str(element(d.acl, j)));
                json_builder_end_array(b);
                json_builder_end_object(b);
        }
        json_builder_end_array(b);
        json_builder_set_member_name(b, "checks");
        checks_to_json(c, b);
        json_builder_set_member_name(b, "summary");
        summary_to_json(c, b);
        json_builder_end_object(b);
        client_print_json(json_builder_get_root(b));
}

static void kvmfr_status_print(JsonObject *props) {
        bool loaded = node_bool(member(props, "Loaded"));
        JsonArray *devices = node_array(member(props, "Devices"));
        g_autofree char *sizes = join_sizes(node_array(member(props, "StaticSizesMiB")));

        printf("Module:        %s\n", loaded ? "loaded" : "not loaded");
        printf("Static size:   %s\n", loaded && sizes[0] ? sizes : "-");
        printf("Required size: %" G_GINT64_FORMAT " MiB (for the configured resolution and HDR)\n",
               node_int(member(props, "RequiredSizeMiB")));
        if (array_length(devices) == 0) {
                printf("Devices:       none\n");
        } else {
                int path_w = 4, owner_w = 5;
                for (guint i = 0; i < array_length(devices); i++) {
                        KvmfrDevice d = kvmfr_device(element(devices, i));
                        path_w = MAX(path_w, (int) strlen(d.path));
                        owner_w = MAX(owner_w, (int) (strlen(d.owner) + 1 + strlen(d.group)));
                }
                printf("Devices:\n  %-*s  %-14s  %-*s  %-4s  %s\n", path_w, "PATH", "TYPE", owner_w, "OWNER",
                       "MODE", "ACL");
                for (guint i = 0; i < array_length(devices); i++) {
                        KvmfrDevice d = kvmfr_device(element(devices, i));
                        g_autofree char *owner = g_strdup_printf("%s:%s", d.owner, d.group);
                        GString *acl = g_string_new(NULL);
                        for (guint j = 0; j < array_length(d.acl); j++)
                                g_string_append_printf(acl, "%s%s", j ? "," : "", node_str(element(d.acl, j)));
                        g_autofree char *line = g_strdup_printf(
                                "  %-*s  %-14s  %-*s  %04o  %s", path_w, d.path,
                                d.chr ? "char device" : "REGULAR FILE", owner_w, owner, d.mode,
                                acl->len ? acl->str : "-");
                        g_string_free(acl, true);
                        g_autofree char *clean = clean_text(line);
                        printf("%s\n", clean);
                        if (!d.chr)
                                printf("  (QEMU created this file because the kvmfr module was not loaded; "
                                       "remove it and load the module)\n");
                }
        }
        printf("\n");
}

static int kvmfr_status(sd_bus *bus, const ClientOptions *o) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        JsonObject *props = NULL;
        CheckRows c = { 0 };
        int r = fetch_kvmfr(bus, o, &props);
        if (r < 0)
                return -r;
        if ((r = call_check(bus, o, KVMFR_INTERFACE, &reply, &c)) < 0) {
                json_object_unref(props);
                return -r;
        }

        int code;
        if (o->json) {
                kvmfr_status_json(props, &c);
                code = count_status(&c, ROW_FAIL) > 0 ? EXIT_FAILED : EXIT_OK;
        } else {
                Style st = style_for_stdout();
                kvmfr_status_print(props);
                code = print_checks(&c, &st);
        }
        json_object_unref(props);
        check_rows_clear(&c);
        return code;
}

static int kvmfr_load(sd_bus *bus, const ClientOptions *o, bool load) {
        /* Unload succeeds when there is nothing to unload: tell the two apart. */
        int was_loaded = -1;
        if (!load && sd_bus_get_property_trivial(bus, client_bus_name, HOST_PATH, KVMFR_INTERFACE, "Loaded", NULL, 'b',
                                                 &was_loaded) < 0)
                was_loaded = -1;

        int r = client_call(bus, o, HOST_PATH, KVMFR_INTERFACE, load ? "Load" : "Unload", HOST_MANAGE_TIMEOUT, NULL,
                          NULL);
        if (r < 0)
                return -r;
        if (!load) {
                printf(was_loaded == 0 ? "The kvmfr module was not loaded.\n" : "Unloaded the kvmfr module.\n");
                return EXIT_OK;
        }
        /* Say what it was loaded with; the load itself succeeded whatever this read does. */
        JsonObject *props = NULL;
        g_autofree char *sizes = NULL;
        if (fetch_kvmfr(bus, o, &props) >= 0) {
                sizes = join_sizes(node_array(member(props, "StaticSizesMiB")));
                json_object_unref(props);
        }
        if (sizes && sizes[0])
                printf("Loaded the kvmfr module (static size %s).\n", sizes);
        else
                printf("Loaded the kvmfr module.\n");
        return EXIT_OK;
}

static int kvmfr_apply_permissions(sd_bus *bus, const ClientOptions *o) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(strv_freep) char **files = NULL;
        const char *result;
        int r = client_call(bus, o, HOST_PATH, KVMFR_INTERFACE, "ApplyPermissions", HOST_MANAGE_TIMEOUT, &reply, NULL);
        if (r < 0)
                return -r;
        if ((r = sd_bus_message_read_strv(reply, &files)) < 0 || (r = sd_bus_message_read(reply, "s", &result)) < 0) {
                fprintf(stderr, "winvmctl: cannot read the reply: %s\n", strerror(-r));
                return EXIT_FAILED;
        }

        if (o->json) {
                client_print_list_and_result("files", files, result);
                return EXIT_OK;
        }
        for (char **f = files; f && *f; f++) {
                g_autofree char *clean = clean_text(*f);
                printf("Wrote %s\n", clean);
        }
        g_autofree char *clean = clean_text(result);
        printf("%s\n", clean);
        return EXIT_OK;
}

int cmd_kvmfr(sd_bus *bus, const ClientOptions *o, const char *verb, const char *action, const char *arg2) {
        int r = cmd_host_check(o, "kvmfr", action, NULL);
        if (r != EXIT_OK)
                return r;
        if (!action || strcmp(action, "status") == 0)
                return kvmfr_status(bus, o);
        if (strcmp(action, "load") == 0 || strcmp(action, "unload") == 0)
                return kvmfr_load(bus, o, strcmp(action, "load") == 0);
        return kvmfr_apply_permissions(bus, o);
}

/* ---- vfio ---- */

/* Splits GetDevices' dictionaries into the devices and the one with Host=true. */
static void split_devices(JsonArray *all, GPtrArray *devices, JsonObject **ret_host) {
        *ret_host = NULL;
        for (guint i = 0; i < array_length(all); i++) {
                JsonObject *d = node_object(element(all, i));
                if (!d)
                        continue;
                if (node_bool(member(d, "Host"))) {
                        if (!*ret_host)
                                *ret_host = d;
                } else
                        g_ptr_array_add(devices, d);
        }
}

/* A Members entry (address, PCI id, driver, is a bridge, is a blocker). */
typedef struct IommuMember {
        const char *address, *pci_id, *driver;
        bool bridge, blocker;
} IommuMember;

static IommuMember iommu_member(JsonNode *n) {
        JsonArray *a = node_array(n);
        return (IommuMember) {
                .address = node_str(element(a, 0)),
                .pci_id = node_str(element(a, 1)),
                .driver = node_str(element(a, 2)),
                .bridge = node_bool(element(a, 3)),
                .blocker = node_bool(element(a, 4)),
        };
}

static void vfio_json(GPtrArray *devices, JsonObject *host, const CheckRows *c) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "devices");
        json_builder_begin_array(b);
        for (guint i = 0; i < devices->len; i++) {
                JsonObject *d = devices->pdata[i];
                JsonArray *members = node_array(member(d, "Members"));
                json_builder_begin_object(b);
                json_builder_set_member_name(b, "pci_id");
                json_builder_add_string_value(b, node_str(member(d, "PciId")));
                json_builder_set_member_name(b, "address");
                json_builder_add_string_value(b, node_str(member(d, "Address")));
                json_builder_set_member_name(b, "driver");
                json_builder_add_string_value(b, node_str(member(d, "Driver")));
                json_builder_set_member_name(b, "iommu_group");
                json_builder_add_string_value(b, node_str(member(d, "IommuGroup")));
                json_builder_set_member_name(b, "members");
                json_builder_begin_array(b);
                for (guint j = 0; j < array_length(members); j++) {
                        IommuMember m = iommu_member(element(members, j));
                        json_builder_begin_object(b);
                        json_builder_set_member_name(b, "address");
                        json_builder_add_string_value(b, m.address);
                        json_builder_set_member_name(b, "pci_id");
                        json_builder_add_string_value(b, m.pci_id);
                        json_builder_set_member_name(b, "driver");
                        json_builder_add_string_value(b, m.driver);
                        json_builder_set_member_name(b, "bridge");
                        json_builder_add_boolean_value(b, m.bridge);
                        json_builder_set_member_name(b, "blocker");
                        json_builder_add_boolean_value(b, m.blocker);
                        json_builder_end_object(b);
                }
                json_builder_end_array(b);
                json_builder_end_object(b);
        }
        json_builder_end_array(b);
        json_builder_set_member_name(b, "host");
        if (host) {
                json_builder_begin_object(b);
                json_builder_set_member_name(b, "cpu_vendor");
                json_builder_add_string_value(b, node_str(member(host, "CpuVendor")));
                json_builder_set_member_name(b, "cmdline");
                json_builder_add_string_value(b, node_str(member(host, "Cmdline")));
                json_builder_set_member_name(b, "iommu_active");
                json_builder_add_boolean_value(b, node_bool(member(host, "IommuActive")));
                json_builder_set_member_name(b, "groups");
                json_builder_add_int_value(b, node_int(member(host, "Groups")));
                json_builder_end_object(b);
        } else
                json_builder_add_null_value(b);
        json_builder_set_member_name(b, "checks");
        checks_to_json(c, b);
        json_builder_set_member_name(b, "summary");
        summary_to_json(c, b);
        json_builder_end_object(b);
        client_print_json(json_builder_get_root(b));
}

static const char *or_dash(const char *s) {
        return s && s[0] ? s : "-";
}

static void vfio_print(GPtrArray *devices, JsonObject *host, const Style *st) {
        int driver_w = 6, member_driver_w = 0;
        for (guint i = 0; i < devices->len; i++) {
                JsonObject *d = devices->pdata[i];
                JsonArray *members = node_array(member(d, "Members"));
                driver_w = MAX(driver_w, (int) strlen(or_dash(node_str(member(d, "Driver")))));
                for (guint j = 0; j < array_length(members); j++)
                        member_driver_w = MAX(member_driver_w,
                                              (int) strlen(or_dash(iommu_member(element(members, j)).driver)));
        }

        if (devices->len == 0)
                printf("No passthrough devices are configured.\n");
        else
                printf("%-9s  %-12s  %-*s  %s\n", "PCI ID", "ADDRESS", driver_w, "DRIVER", "IOMMU GROUP");
        for (guint i = 0; i < devices->len; i++) {
                JsonObject *d = devices->pdata[i];
                const char *address = node_str(member(d, "Address"));
                JsonArray *members = node_array(member(d, "Members"));
                g_autofree char *line = g_strdup_printf(
                        "%-9s  %-12s  %-*s  %s", node_str(member(d, "PciId")), address[0] ? address : "not found",
                        driver_w, or_dash(node_str(member(d, "Driver"))), or_dash(node_str(member(d, "IommuGroup"))));
                g_autofree char *clean = clean_text(line);
                printf("%s\n", clean);
                /* The group's members (the device among them) under it: address, id, driver;
                 * once per group, as the functions of one card share theirs. */
                const char *group = node_str(member(d, "IommuGroup"));
                bool shown = false;
                for (guint k = 0; group[0] && k < i && !shown; k++)
                        shown = strcmp(group, node_str(member(devices->pdata[k], "IommuGroup"))) == 0;
                if (shown && array_length(members) > 0) {
                        g_autofree char *g = clean_text(group);
                        printf("    (IOMMU group %s, as above)\n", g);
                        continue;
                }
                for (guint j = 0; j < array_length(members); j++) {
                        IommuMember m = iommu_member(element(members, j));
                        const char *color = m.blocker ? status_color(st, ROW_FAIL) : "";
                        g_autofree char *mline = g_strdup_printf("    %-12s  %-9s  %-*s", m.address, m.pci_id,
                                                                 member_driver_w, or_dash(m.driver));
                        g_autofree char *mclean = clean_text(mline);
                        const char *mark = m.blocker ? "  blocker: keeps the group from VFIO"
                                         : m.bridge  ? "  bridge"
                                                     : "";
                        if (!mark[0])
                                g_strchomp(mclean);
                        printf("%s%s%s%s\n", mclean, color, mark, color[0] ? "\033[0m" : "");
                }
        }

        if (host) {
                bool active = node_bool(member(host, "IommuActive"));
                gint64 groups = node_int(member(host, "Groups"));
                g_autofree char *line = g_strdup_printf(
                        "Host: CPU %s, IOMMU %s, %" G_GINT64_FORMAT " IOMMU group%s",
                        or_dash(node_str(member(host, "CpuVendor"))), active ? "active" : "NOT active", groups,
                        groups == 1 ? "" : "s");
                g_autofree char *cmdline = g_strdup_printf("Kernel command line: %s",
                                                           or_dash(node_str(member(host, "Cmdline"))));
                printf("\n");
                print_wrapped(st, line, 0, 2);
                print_wrapped(st, cmdline, 0, 2);
        }
        printf("\n");
}

int cmd_vfio(sd_bus *bus, const ClientOptions *o, const char *verb, const char *arg1, const char *arg2) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL, *check_reply = NULL;
        int r = client_call(bus, o, HOST_PATH, VFIO_INTERFACE, "GetDevices", HOST_READ_TIMEOUT, &reply, NULL);
        if (r < 0)
                return -r;
        JsonNode *root = NULL;
        if ((r = reply_to_json(reply, "the VFIO devices", &root)) < 0)
                return -r;
        CheckRows c = { 0 };
        if ((r = call_check(bus, o, VFIO_INTERFACE, &check_reply, &c)) < 0) {
                json_node_unref(root);
                return -r;
        }

        g_autoptr(GPtrArray) devices = g_ptr_array_new();
        JsonObject *host = NULL;
        split_devices(node_array(root), devices, &host);
        int code;
        if (o->json) {
                vfio_json(devices, host, &c);
                code = count_status(&c, ROW_FAIL) > 0 ? EXIT_FAILED : EXIT_OK;
        } else {
                Style st = style_for_stdout();
                vfio_print(devices, host, &st);
                code = print_checks(&c, &st);
        }
        json_node_unref(root);
        check_rows_clear(&c);
        return code;
}

/* ---- arguments ---- */

int cmd_host_check(const ClientOptions *o, const char *verb, const char *action, const char *arg2) {
        bool kvmfr = strcmp(verb, "kvmfr") == 0, doctor = strcmp(verb, "doctor") == 0;

        if (kvmfr && action && strcmp(action, "status") != 0 && strcmp(action, "load") != 0 &&
            strcmp(action, "unload") != 0 && strcmp(action, "apply-permissions") != 0) {
                fprintf(stderr, "winvmctl: kvmfr takes status, load, unload or apply-permissions\n");
                return EXIT_USAGE;
        }
        if (o->vm && !doctor) {
                fprintf(stderr, "winvmctl: --vm is for doctor; %s checks the host (and the first managed VM)\n",
                        verb);
                return EXIT_USAGE;
        }
        if (o->timeout || o->force || o->wait || o->readonly || o->message || o->tree || o->shutdown ||
            o->discard_current) {
                fprintf(stderr, "winvmctl: %s takes only --json%s and --no-ask-password\n", verb,
                        doctor ? ", --vm" : "");
                return EXIT_USAGE;
        }
        if (doctor && action && !o->fix) {
                fprintf(stderr, "winvmctl: doctor takes check ids only with --fix (winvmctl doctor --fix vm.memballoon)\n");
                return EXIT_USAGE;
        }
        return EXIT_OK;
}
