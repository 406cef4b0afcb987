/* winvmctl snapshot create|list|revert|delete|adopt, and through it snapshot-win-vm. */
#include <errno.h>
#include <json-glib/json-glib.h>
#include <langinfo.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "client-errors.h"
#include "client.h"
#include "names.h"
#include "util.h"

/* Snapshot calls wait without a limit (CLIENT_CHANGE_TIMEOUT): creating waits for the guest
 * agent, reverting may wait for a guest shutdown, deleting merges images (minutes for a large
 * disk). The service answers every call; Ctrl-C leaves it to finish on its own. */

/* RevertSnapshot flags. */
#define REVERT_SHUTDOWN 1
#define REVERT_DISCARD_CURRENT 2
#define REVERT_FORCE 4

typedef struct Snap {
        const char *name;
        const char *parent;
        const char *state;
        uint64_t created_usec;
        uint64_t bytes;
        bool quiesced;
        bool adopted;
        bool current;
        char *description; /* on one line, without control characters */
        ssize_t parent_index; /* -1: a root */
        bool printed;
} Snap;

/* s with every control character (C0, DEL, C1: newlines, tabs, escape sequences a caller
 * could put in a description) made a space, so it stays on its table line. */
static char *one_line(const char *s) {
        GString *out = g_string_new(NULL);
        if (g_utf8_validate(s, -1, NULL))
                for (const char *p = s; *p; p = g_utf8_next_char(p)) {
                        gunichar c = g_utf8_get_char(p);
                        if (g_unichar_iscntrl(c))
                                g_string_append_c(out, ' ');
                        else
                                g_string_append_unichar(out, c);
                }
        else
                for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                        g_string_append_c(out, *p < 0x20 || *p >= 0x7f ? '?' : (char) *p);
        return g_string_free(out, false);
}

static void format_time(uint64_t usec, char *buf, size_t size) {
        time_t t = (time_t) (usec / 1000000ULL);
        struct tm tm;
        if (usec == 0 || !localtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm) == 0)
                snprintf(buf, size, "-");
}

/* Box-drawing characters only where they show: a terminal with a UTF-8 locale. */
static bool use_box_glyphs(void) {
        return isatty(STDOUT_FILENO) && client_locale_is_utf8();
}

/* A snapshot name argument, checked here so that a bad one never leads to a password prompt. */
static int check_name(const char *name) {
        if (snapshot_name_is_valid(name))
                return 0;
        fprintf(stderr, "winvmctl: '%s' is not a valid snapshot name (1 to %d of A-Z a-z 0-9 . _ -, "
                        "not starting with . or -)\n", name, SNAPSHOT_NAME_MAX);
        return -EXIT_USAGE;
}

/* Prints the error (the service's messages say what to do about a running guest) and a
 * hint where the list of snapshots helps; returns the exit code. */
static int snapshot_fail(sd_bus_error *error, int r) {
        bool no_space = sd_bus_error_has_name(error, WINVM_ERROR_NO_SPACE);
        bool no_such = sd_bus_error_has_name(error, WINVM_ERROR_NO_SUCH_SNAPSHOT);
        bool exists = sd_bus_error_has_name(error, WINVM_ERROR_EXISTS);

        int code = client_fail(error, r);
        if (no_space)
                fprintf(stderr, "winvmctl: free some space, e.g. delete snapshots you no longer need "
                                "(see 'winvmctl snapshot list')\n");
        else if (exists)
                fprintf(stderr, "winvmctl: choose another name; 'winvmctl snapshot list' shows the ones taken\n");
        else if (no_such)
                fprintf(stderr, "winvmctl: 'winvmctl snapshot list' shows the snapshots there are\n");
        return code;
}

/* Calls member on the VM's object, allowing polkit to ask for a password unless
 * --no-ask-password. Returns 0, or minus the exit code after printing why. */
static int vm_snapshot_call(sd_bus *bus, const ClientOptions *o, const char *path, const char *member,
                            uint64_t timeout_usec, sd_bus_message **ret_reply, const char *types, ...) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        va_list ap;
        va_start(ap, types);
        int r = client_call_unreported(bus, o, path, "org.winvm1.VM", member, timeout_usec, &error, ret_reply, types, ap);
        va_end(ap);
        if (r < 0)
                return -snapshot_fail(&error, r);
        return 0;
}

/* A reply's single string, or minus the exit code. */
static int read_string_reply(sd_bus_message *reply, const char **ret) {
        int r = sd_bus_message_read(reply, "s", ret);
        if (r < 0) {
                fprintf(stderr, "winvmctl: cannot read the reply: %s\n", strerror(-r));
                return -EXIT_FAILED;
        }
        return 0;
}

static int snapshot_create(sd_bus *bus, const ClientOptions *o, const char *path, const char *name) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *created;
        int r = vm_snapshot_call(bus, o, path, "CreateSnapshot", CLIENT_CHANGE_TIMEOUT, &reply, "ss",
                                 name ? name : "", o->message ? o->message : "");
        if (r < 0 || (r = read_string_reply(reply, &created)) < 0)
                return -r;
        /* Only the name, so that scripts can take it: NAME=$(winvmctl snapshot create). */
        printf("%s\n", created);
        return EXIT_OK;
}

static int snapshot_revert(sd_bus *bus, const ClientOptions *o, const char *path, const char *vm,
                           const char *name) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        uint64_t flags = (o->shutdown ? REVERT_SHUTDOWN : 0) | (o->discard_current ? REVERT_DISCARD_CURRENT : 0) |
                         (o->force ? REVERT_FORCE : 0);
        const char *kept;

        if (o->shutdown && isatty(STDERR_FILENO))
                fprintf(stderr, "Shutting %s down if it runs, reverting it to %s and starting it again...\n", vm,
                        name);
        int r = vm_snapshot_call(bus, o, path, "RevertSnapshot", CLIENT_CHANGE_TIMEOUT, &reply, "st",
                                 name, flags);
        if (r < 0 || (r = read_string_reply(reply, &kept)) < 0)
                return -r;
        printf("Reverted %s to snapshot %s.\n", vm, name);
        if (kept[0])
                printf("Kept the previous state as snapshot %s.\n", kept);
        else
                printf("Discarded the previous state.\n");
        return EXIT_OK;
}

static int snapshot_delete(sd_bus *bus, const ClientOptions *o, const char *path, const char *vm,
                           const char *name) {
        if (isatty(STDERR_FILENO))
                fprintf(stderr, "Deleting snapshot %s of %s; merging its data into the images that need it "
                                "may take a while...\n", name, vm);
        int r = vm_snapshot_call(bus, o, path, "DeleteSnapshot", CLIENT_CHANGE_TIMEOUT, NULL, "s", name);
        if (r < 0)
                return -r;
        printf("Deleted snapshot %s of %s.\n", name, vm);
        return EXIT_OK;
}

static int snapshot_adopt(sd_bus *bus, const ClientOptions *o, const char *path, const char *vm) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(strv_freep) char **names = NULL;
        int r = vm_snapshot_call(bus, o, path, "AdoptSnapshots", CLIENT_CHANGE_TIMEOUT, &reply, NULL);
        if (r < 0)
                return -r;
        if ((r = sd_bus_message_read_strv(reply, &names)) < 0) {
                fprintf(stderr, "winvmctl: cannot read the reply: %s\n", strerror(-r));
                return EXIT_FAILED;
        }
        if (!names || !names[0])
                printf("%s has no snapshots winvm does not know already.\n", vm);
        for (char **p = names; p && *p; p++)
                printf("Adopted snapshot %s of %s.\n", *p, vm);
        return EXIT_OK;
}

/* ListSnapshots as a JSON array of the service's dictionaries, keys as the service names them. */
static int fetch_snapshots(sd_bus *bus, const ClientOptions *o, const char *path, JsonNode **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r = vm_snapshot_call(bus, o, path, "ListSnapshots", 0, &reply, NULL);
        if (r < 0)
                return r;

        g_autoptr(JsonBuilder) b = json_builder_new();
        r = client_bus_value_to_json(reply, b);
        JsonNode *root = r >= 0 ? json_builder_get_root(b) : NULL;
        if (!root || !JSON_NODE_HOLDS_ARRAY(root)) {
                if (root)
                        json_node_unref(root);
                fprintf(stderr, "winvmctl: cannot read the list of snapshots: %s\n",
                        strerror(r < 0 ? -r : EBADMSG));
                return -EXIT_FAILED;
        }
        *ret = root;
        return 0;
}

/* Views of the JSON objects (which own the strings); parents resolved to indexes. */
static Snap *snaps_from_json(JsonArray *a, size_t *ret_n) {
        size_t n = json_array_get_length(a);
        Snap *s = calloc(n ? n : 1, sizeof(Snap));
        if (!s)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                JsonObject *obj = json_array_get_object_element(a, (guint) i);
                if (!obj) {
                        s[i] = (Snap) { .name = "?", .parent = "", .state = "", .description = g_strdup("") };
                        continue;
                }
                s[i].name = json_object_get_string_member_with_default(obj, "Name", "?");
                s[i].parent = json_object_get_string_member_with_default(obj, "Parent", "");
                s[i].state = json_object_get_string_member_with_default(obj, "GuestState", "");
                s[i].created_usec = (uint64_t) json_object_get_int_member_with_default(obj, "CreationTime", 0);
                s[i].bytes = (uint64_t) json_object_get_int_member_with_default(obj, "BytesOnDisk", 0);
                s[i].quiesced = json_object_get_boolean_member_with_default(obj, "Quiesced", false);
                s[i].current = json_object_get_boolean_member_with_default(obj, "Current", false);
                s[i].adopted = json_object_get_boolean_member_with_default(obj, "Adopted", false);
                s[i].description = one_line(json_object_get_string_member_with_default(obj, "Description", ""));
        }
        for (size_t i = 0; i < n; i++) {
                s[i].parent_index = -1;
                for (size_t j = 0; s[i].parent[0] && j < n; j++)
                        if (j != i && strcmp(s[j].name, s[i].parent) == 0) {
                                s[i].parent_index = (ssize_t) j;
                                break;
                        }
        }
        *ret_n = n;
        return s;
}

static void snaps_free(Snap *s, size_t n) {
        for (size_t i = 0; s && i < n; i++)
                g_free(s[i].description);
        free(s);
}

static void print_table(const Snap *s, size_t n) {
        int name_w = 4, state_w = 5;
        bool any_current = false;
        char state[64];
        for (size_t i = 0; i < n; i++) {
                snprintf(state, sizeof(state), "%s%s%s", s[i].state, s[i].quiesced ? ", quiesced" : "",
                         s[i].adopted ? ", adopted" : "");
                name_w = MAX(name_w, (int) strlen(s[i].name));
                state_w = MAX(state_w, (int) strlen(state));
        }
        printf("  %-*s  %-19s  %-*s  %10s  %s\n", name_w, "NAME", "CREATED", state_w, "STATE", "SIZE", "DESCRIPTION");
        for (size_t i = 0; i < n; i++) {
                char created[64];
                format_time(s[i].created_usec, created, sizeof(created));
                snprintf(state, sizeof(state), "%s%s%s", s[i].state, s[i].quiesced ? ", quiesced" : "",
                         s[i].adopted ? ", adopted" : "");
                g_autofree char *size = g_format_size_full(s[i].bytes, G_FORMAT_SIZE_IEC_UNITS);
                printf("%c %-*s  %-19s  %-*s  %10s%s%s\n", s[i].current ? '*' : ' ', name_w, s[i].name, created,
                       state_w, state, size, s[i].description[0] ? "  " : "", s[i].description);
                any_current = any_current || s[i].current;
        }
        bool any_adopted = false;
        for (size_t i = 0; i < n; i++)
                any_adopted = any_adopted || s[i].adopted;
        if (any_current)
                printf("\n* the snapshot the current state grew from\n");
        if (any_adopted)
                printf("%sadopted: made outside winvm (virsh, snapshot-win-vm), taken in by 'snapshot adopt'\n",
                       any_current ? "" : "\n");
}

typedef struct Glyphs {
        const char *branch, *last, *pipe, *space;
} Glyphs;

static const Glyphs glyphs_utf8 = { "├── ", "└── ", "│   ", "    " };
static const Glyphs glyphs_ascii = { "|-- ", "`-- ", "|   ", "    " };

#define CURRENT_STATE_LABEL "(current state)"

static void print_node_line(const GString *prefix, const Glyphs *g, bool last, const Snap *node) {
        if (!node) {
                printf("%s%s%s\n", prefix->str, last ? g->last : g->branch, CURRENT_STATE_LABEL);
                return;
        }
        char created[64];
        format_time(node->created_usec, created, sizeof(created));
        printf("%s%s%s  %s%s%s\n", prefix->str, last ? g->last : g->branch, node->name, created,
               node->description[0] ? "  " : "", node->description);
}

/* Prints the children of parent (-1: the roots), oldest first, each followed by its own
 * subtree, and then the current state when it grew from parent. A node is printed once,
 * so even a parent cycle in a broken reply ends. */
static void print_children(Snap *s, size_t n, ssize_t parent, bool with_current, GString *prefix, const Glyphs *g) {
        for (size_t i = 0; i < n; i++) {
                if (s[i].printed || s[i].parent_index != parent)
                        continue;
                bool more = with_current;
                for (size_t j = i + 1; !more && j < n; j++)
                        more = !s[j].printed && s[j].parent_index == parent;

                s[i].printed = true;
                print_node_line(prefix, g, !more, &s[i]);
                size_t len = prefix->len;
                g_string_append(prefix, more ? g->pipe : g->space);
                print_children(s, n, (ssize_t) i, s[i].current, prefix, g);
                g_string_truncate(prefix, len);
        }
        if (with_current)
                print_node_line(prefix, g, true, NULL);
}

static void print_tree(Snap *s, size_t n, const char *vm) {
        const Glyphs *g = use_box_glyphs() ? &glyphs_utf8 : &glyphs_ascii;
        g_autoptr(GString) prefix = g_string_new(NULL);
        bool any_current = false;
        for (size_t i = 0; i < n; i++)
                any_current = any_current || s[i].current;

        printf("%s\n", vm);
        print_children(s, n, -1, !any_current, prefix, g);
        /* Only a broken reply (a parent cycle) leaves nodes unprinted: show them at the top. */
        for (size_t i = 0; i < n; i++)
                if (!s[i].printed) {
                        s[i].parent_index = -1;
                        print_children(s, n, -1, false, prefix, g);
                }
}

static int snapshot_list(sd_bus *bus, const ClientOptions *o, const char *path, const char *vm) {
        JsonNode *root = NULL;
        int r = fetch_snapshots(bus, o, path, &root);
        if (r < 0)
                return -r;
        if (o->json) {
                client_print_json(root);
                return EXIT_OK;
        }

        size_t n = 0;
        Snap *s = snaps_from_json(json_node_get_array(root), &n);
        if (!s) {
                json_node_unref(root);
                fprintf(stderr, "winvmctl: out of memory\n");
                return EXIT_FAILED;
        }
        if (n == 0)
                printf("%s has no snapshots.\n", vm);
        else if (o->tree)
                print_tree(s, n, vm);
        else
                print_table(s, n);
        snaps_free(s, n);
        json_node_unref(root);
        return EXIT_OK;
}

int cmd_snapshot_check(const ClientOptions *o, const char *verb, const char *action, const char *name) {
        int r;

        if (!action)
                action = "list";
        bool create = strcmp(action, "create") == 0, list = strcmp(action, "list") == 0,
             revert = strcmp(action, "revert") == 0, delete = strcmp(action, "delete") == 0,
             adopt = strcmp(action, "adopt") == 0;
        if (!create && !list && !revert && !delete && !adopt) {
                fprintf(stderr, "winvmctl: snapshot takes create, list, revert, delete or adopt\n");
                return EXIT_USAGE;
        }
        if ((list || adopt) && name) {
                fprintf(stderr, "winvmctl: unexpected argument '%s'\n", name);
                return EXIT_USAGE;
        }
        if ((revert || delete) && !name) {
                fprintf(stderr, "winvmctl: snapshot %s needs the NAME of a snapshot (see 'winvmctl snapshot list')\n",
                        action);
                return EXIT_USAGE;
        }
        if (name && !(create && name[0] == '\0') && (r = check_name(name)) < 0)
                return -r;
        if (o->message && !create) {
                fprintf(stderr, "winvmctl: --message is for snapshot create\n");
                return EXIT_USAGE;
        }
        if (o->message && !snapshot_description_is_valid(o->message)) {
                fprintf(stderr, "winvmctl: a snapshot description is at most %d bytes of UTF-8 text, without "
                                "control characters other than newline and tab\n", SNAPSHOT_DESCRIPTION_MAX);
                return EXIT_USAGE;
        }
        if (o->tree && !list) {
                fprintf(stderr, "winvmctl: --tree is for snapshot list\n");
                return EXIT_USAGE;
        }
        if ((o->shutdown || o->discard_current) && !revert) {
                fprintf(stderr, "winvmctl: --%s is for snapshot revert\n", o->shutdown ? "shutdown" : "discard-current");
                return EXIT_USAGE;
        }
        if (o->force && !(revert && o->shutdown)) {
                fprintf(stderr, "winvmctl: with snapshot commands, --force goes with snapshot revert --shutdown\n");
                return EXIT_USAGE;
        }
        return EXIT_OK;
}

int cmd_snapshot(sd_bus *bus, const ClientOptions *o, const char *verb, const char *action, const char *name) {
        int r = cmd_snapshot_check(o, "snapshot", action, name);
        if (r != EXIT_OK)
                return r;
        if (!action)
                action = "list";

        _cleanup_free_ char *path = NULL, *vm = NULL;
        if ((r = client_resolve_vm(bus, o, &path)) < 0)
                return -r;
        if (vm_name_from_object_path(path, &vm) < 0)
                vm = strdup(o->vm ? o->vm : path);

        if (strcmp(action, "create") == 0)
                return snapshot_create(bus, o, path, name);
        if (strcmp(action, "revert") == 0)
                return snapshot_revert(bus, o, path, vm, name);
        if (strcmp(action, "delete") == 0)
                return snapshot_delete(bus, o, path, vm, name);
        if (strcmp(action, "adopt") == 0)
                return snapshot_adopt(bus, o, path, vm);
        return snapshot_list(bus, o, path, vm);
}
