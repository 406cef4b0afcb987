/* bus-fuzz: calls every method and property of winvmd with hostile arguments.
 *
 *   bus-fuzz [--seed N] [--count N] [--timeout SECONDS] [--parallel N] [--skip LIST]
 *            [--tame LIST] [--limit MEMBER=N,...] [--allow ERROR] [--log FILE] [--only N]
 *            [--dest NAME] [--root PATH] [--definition-file PATH] [--focus LIST]
 *
 * Walks the introspection of the service (org.winvm1 from /org/winvm1 down, again every
 * --rewalk calls so jobs that come and go are seen), then makes --count calls, each built
 * from the seed alone: a method or a property Get/Set/GetAll with arguments of the
 * introspected signature but hostile values (empty, huge, path- and shell-like strings,
 * valid-UTF-8 oddities, extreme integers, weird object paths), or with wrong types, missing
 * or extra arguments, deeply nested variants, arrays and structs, or on paths, interfaces and
 * members that do not exist. Strings read from the service's own properties (VM, snapshot and
 * filesystem names) are among the values, so calls also get past validation. The same seed
 * makes the same choices; the values read back may differ between runs (snapshot names).
 * Calls go to the unique name the service had at the start, so a restarted service is not
 * mistaken for the old one.
 *
 * With --definition-file (the VM's definition file, [Definitions] in winvm.conf, writable by
 * the caller), a call of Define first rewrites the file: the definition it held at the start
 * with one edit from the definition guard's world (an allowlisted change or a host reference:
 * a loader, an ACPI table from /etc/shadow, a raw disk read as qcow2, a security label, a
 * PCI device, qemu:commandline, ...) or a value of it replaced by a host path, so Define and
 * UndoChange are fuzzed against the allowlist. What the guest's definition may end up naming
 * is for the caller to check afterwards. --focus LIST keeps only the members it names (in
 * the --skip forms), for a pass on a few of them.
 *
 * Exits 1 (and says why) when a call gets no reply within --timeout (a hang), when the
 * service's unique name goes away (a crash), or when an error reply carries a name outside
 * the allowed list. Exits 2 when it cannot run at all (no bus, no service). Prints the count
 * of replies per error name ("reply COUNT NAME" lines) either way.
 *
 * What cannot be sent at all is counted as "not sent", never as a reply: sd-bus refuses to
 * build messages whose strings are not valid UTF-8 (the wire forbids it in s, o and g; sd-bus
 * also refuses the Unicode non-characters U+FDD0..U+FDEF and U+xFFFE/U+xFFFF, which the
 * specification allows), invalid object paths, names and signatures. Invalid UTF-8 still
 * reaches the service inside byte arrays (ay), where the wire allows any byte. sd-bus does
 * build some messages the bus daemon then finds invalid, and the bus drops the sender's
 * connection for them, so they are never generated: more than 64 levels of nesting in all
 * (deep values stay at 63), arrays or structs nested 33 deep (they stay at 32), a signature
 * value with a dict entry outside an array ("{sv}"), and more than 16 unix fds in one message
 * (the system bus's max_message_unix_fds; at most 8 here).
 *
 * The allowed error names (--allow adds more): org.winvm1.Error.* (the service's own, each
 * documented in the interface XML); AccessDenied and InteractiveAuthorizationRequired (polkit said
 * no); InvalidArgs, UnknownMethod, UnknownObject, UnknownInterface, UnknownProperty and
 * PropertyReadOnly (what sd-bus answers for calls that do not fit the vtables); NoMemory and
 * LimitsExceeded (a named refusal under load, e.g. too many calls of one connection waiting
 * for polkit). Not allowed: org.freedesktop.DBus.Error.Failed and System.Error.* (an errno
 * leaking out unnamed, which a client cannot act on), NoReply and Timeout (a hang), and
 * ServiceUnknown, NameHasNoOwner or Disconnected (the service went away). */
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <getopt.h>
#include <glib.h>
#include <inttypes.h>
#include <stdbool.h>
#include <libxml/parser.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#include "bus-name.h"

#define USEC_PER_SEC 1000000ULL
#define MAX_OBJECTS 256
#define MAX_DEPTH_TOTAL 63  /* the bus drops a client whose message nests 64 levels or more */
#define HUGE_STRING (1024 * 1024)
#define MAX_SHOWN_FAILURES 20
#define MAX_FDS 8 /* unix fds per message: the system bus drops a client that sends more than 16 */

/* The error names a hostile caller may legitimately get. */
static const char *const default_allowed[] = {
        "org.winvm1.Error.*",
        /* polkit refused (also a challenge without an agent) */
        "org.freedesktop.DBus.Error.AccessDenied",
        "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired",
        /* sd-bus itself: arguments that do not match the signature, or unreadable ones */
        "org.freedesktop.DBus.Error.InvalidArgs",
        "org.freedesktop.DBus.Error.UnknownMethod",
        "org.freedesktop.DBus.Error.UnknownObject",
        "org.freedesktop.DBus.Error.UnknownInterface",
        "org.freedesktop.DBus.Error.UnknownProperty",
        "org.freedesktop.DBus.Error.PropertyReadOnly",
        /* resource limits: a named refusal, not a failure */
        "org.freedesktop.DBus.Error.NoMemory",
        "org.freedesktop.DBus.Error.LimitsExceeded",
        NULL
};

typedef enum { T_METHOD, T_GET, T_SET, T_GETALL } Kind;

typedef struct Target {
        char *path, *interface, *member;
        char *signature; /* the in-arguments of a method; the type of a property */
        Kind kind;
} Target;

typedef enum { M_VALID, M_WRONG, M_MISSING, M_EXTRA, M_DEEP, M_ELSEWHERE, _M_MAX } Mode;
static const char *const mode_names[] = { "valid", "wrong-types", "missing-args", "extra-args", "deep", "elsewhere" };
static const unsigned mode_weights[] = { 45, 15, 8, 10, 7, 15 };

typedef struct Limit {
        char *pattern;
        unsigned max, used;
} Limit;

typedef struct Fuzz {
        sd_bus *bus;
        const char *dest;
        char *unique;
        const char *root;
        const char *definition_file;
        char *definition_base;  /* the file's text at the start */
        uint64_t seed, rng;
        unsigned count, parallel, rewalk;
        uint64_t timeout_usec;
        long only;
        char **skip, **tame, **allowed, **focus;
        GPtrArray *limits;
        FILE *log;

        GPtrArray *targets; /* Target* */
        unsigned n_objects;
        GPtrArray *members; /* every member and property name seen, for calls elsewhere */
        GPtrArray *harvest; /* strings the service's properties hold (snapshot names, ...) */

        unsigned issued, outstanding, answered, refused, limited, oneway;
        GHashTable *replies; /* name -> count */
        GHashTable *refusals; /* reason -> count */
        unsigned hangs, lost, disallowed, shown;
        bool vanished, disconnected;
        bool check_after_hang; /* the first hang was just seen: is the service stuck as a whole? */
        uint64_t slowest_usec;
        char *slowest;

        char *huge[4];
        char *deep_path, *long_component_path, *long_string[4];
        int devnull;
        int depth; /* nesting of the message being built */
        bool taming; /* --tame applies to the message being built */
        unsigned fds, fd_types; /* unix fds appended to, h types generated for the message */
        bool used_huge;
} Fuzz;

typedef struct Pending {
        Fuzz *f;
        unsigned index;
        uint64_t start;
        char *what;
} Pending;

/* --- determinism: splitmix64 ------------------------------------------------------- */

static uint64_t rnd(Fuzz *f) {
        uint64_t z = (f->rng += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}

static unsigned pick(Fuzz *f, unsigned n) {
        return n ? (unsigned) (rnd(f) % n) : 0;
}

static bool chance(Fuzz *f, unsigned percent) {
        return pick(f, 100) < percent;
}

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

/* --- hostile values ------------------------------------------------------------------ */

static const char *const hostile_strings[] = {
        "", " ", "Windows11", "windows11", "WINDOWS11", "Windows11 ", " Windows11", "Windows11\n",
        "Windows11/..", "Windows11/../Windows11", "images", "/vm-storage/images", "/vm-storage/images/",
        "/vm-storage/images/../../etc", "fuzz-snap", "fuzz.snap_1", "a", "-rf", "--help", ".", "..",
        "...", "/", "//", "~", "~root", "../../etc/passwd", "/etc/passwd", "/etc/shadow",
        "../../../../../../../../../../../../etc/passwd", "..\\..\\windows\\system32", "file:///etc/passwd",
        "qemu:///system", "qemu+ssh://evil/system", "/proc/self/environ", "/dev/zero", "/dev/kvm",
        "/run/dbus/system_bus_socket", "$(id)", "`id`", ";rm -rf /", "; rm -rf / #", "&& reboot",
        "| cat /etc/shadow", "$HOME", "${IFS}id", "'", "\"", "\\", "a\nb", "a\rb", "a\tb", "\n", "a b",
        "*", "?", "[a-z]*", "{a,b}", "%s%s%s%s%n", "%x%x%x%x", "%99999999s", "%", "<domain type='kvm'>",
        "]]>", "&amp;", "<!--", "' or '1'='1", "\x01", "\x1f", "\x7f", "\x1b[2J\x1b[31mred",
        "name\x1fvm=Windows11", "org.winvm1.vm.start", "org.winvm1.VM", "org.winvm1.Manager",
        "org.winvm1.Storage", "org.winvm1.Job", "org.freedesktop.DBus.Properties", "State", "Name",
        "snapshot-20260124-210227", "pre-revert-20260125-101010", "Windows11.fuzz-snap",
        /* valid UTF-8 oddities */
        "\xc3\xa9", "e\xcc\x81", "\xe2\x80\xae" "11swodniW", "Windows11\xe2\x80\xae", "\xef\xbb\xbf" "Windows11",
        "Windows\xe2\x80\x8b" "11", "\xef\xbc\xb7indows11", "\xf0\x9f\x98\x80", "a\xe2\x80\xa8" "b", "a\xc2\x85" "b",
        "\xd8\xa7\xd9\x84", "\xe1\x85\x9f", "\xc2\xa0", "\xf4\x8f\xbf\xbd",
        NULL
};

/* Not valid in an s (sd-bus refuses them; counted as not sent): invalid UTF-8, a surrogate,
 * an overlong encoding, and non-characters. */
static const char *const unsendable_strings[] = {
        "\xff\xfe", "abc\xc3", "\xed\xa0\x80", "\xc0\xaf", "\xef\xbf\xbf", "\xef\xb7\x90", NULL
};

static const char *const weird_paths[] = {
        "/", "/org", "/org/winvm1", "/org/winvm1/vm", "/org/winvm1/vm/Windows11", "/org/winvm1/vm/_57indows11",
        "/org/winvm1/vm/_2e_2e", "/org/winvm1/vm/_2f_2fetc_2fpasswd", "/org/winvm1/vm/Windows11/child",
        "/org/winvm1/vm/nope", "/org/winvm1/vm/_", "/org/winvm1/job", "/org/winvm1/job/0", "/org/winvm1/job/1",
        "/org/winvm1/job/18446744073709551615", "/org/winvm1/job/99999999999999999999999", "/org/winvm1/job/_",
        "/org/winvm1/storage", "/org/winvm1/storage/images", "/org/winvm1/Manager", "/org/freedesktop/DBus",
        "/org/freedesktop/PolicyKit1/Authority", "/_", "/org/winvm1/vm/Windows11/_2e_2e/_2e_2e", NULL
};

/* Signature values. Not "{sv}": sd-bus sends a dict entry outside an array, but the bus
 * daemon finds the message invalid and drops the sender. "a" and "(" sd-bus refuses. */
static const char *const weird_signatures[] = {
        "", "s", "v", "a{sv}", "aa{sv}", "a(ssbbs)", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaay",
        "((((((((((((((((((((((((((((((((y))))))))))))))))))))))))))))))))", "a{sa{sa{sv}}}", "h", "a",
        "(", "ssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssss", NULL
};

static const char *const weird_interfaces[] = {
        "org.winvm1.VM", "org.winvm1.Manager", "org.winvm1.Storage", "org.winvm1.Job", "org.winvm1.Nope",
        "org.winvm1", "org.freedesktop.DBus.Properties", "org.freedesktop.DBus.Introspectable",
        "org.freedesktop.DBus.Peer", "org.freedesktop.DBus.ObjectManager", "org.freedesktop.DBus", "a.b",
        "org.winvm1.VM.Start", "_._", NULL /* NULL: no interface at all */
};

static const char *const weird_members[] = {
        "Nope", "Start", "Shutdown", "Get", "Set", "GetAll", "Introspect", "Ping", "GetMachineId",
        "GetManagedObjects", "Cancel", "GetVM", "_", "a0", NULL
};

static const char *pick_str(Fuzz *f, const char *const *list) {
        size_t n = 0;
        while (list[n])
                n++;
        return list[pick(f, (unsigned) n)];
}

/* A pick from a NULL-terminated list that may return NULL (the terminator) too. */
static const char *pick_str_or_null(Fuzz *f, const char *const *list) {
        size_t n = 0;
        while (list[n])
                n++;
        return list[pick(f, (unsigned) n + 1)];
}

static void make_buffers(Fuzz *f) {
        /* Huge strings (one per message at most): ASCII, path-like, shell-like, 2-byte UTF-8. */
        static const char *const units[] = { "A", "../", "$(id);", "\xc3\xa9" };
        for (size_t k = 0; k < 4; k++) {
                size_t ul = strlen(units[k]), n = HUGE_STRING / ul;
                f->huge[k] = malloc(n * ul + 1);
                for (size_t i = 0; i < n; i++)
                        memcpy(f->huge[k] + i * ul, units[k], ul);
                f->huge[k][n * ul] = '\0';
        }
        /* Strings around the service's length limits (names 64, descriptions 1024). */
        static const size_t lens[] = { 64, 65, 1025, 65536 };
        for (size_t k = 0; k < 4; k++) {
                f->long_string[k] = malloc(lens[k] + 1);
                memset(f->long_string[k], k == 0 ? 'a' : 'b', lens[k]);
                f->long_string[k][lens[k]] = '\0';
        }
        /* An object path of 512 components, and one with an 8 KiB component. */
        GString *p = g_string_new(NULL);
        for (int i = 0; i < 512; i++)
                g_string_append(p, "/x");
        f->deep_path = g_string_free(p, false);
        p = g_string_new("/org/winvm1/vm/");
        for (int i = 0; i < 8192; i++)
                g_string_append_c(p, 'W');
        f->long_component_path = g_string_free(p, false);
        f->devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static const char *hostile_string(Fuzz *f) {
        unsigned k = pick(f, 100);
        if (k < 2 && !f->used_huge) {
                f->used_huge = true;
                return f->huge[pick(f, 4)];
        }
        if (k < 8)
                return f->long_string[pick(f, 4)];
        if (k < 10)
                return pick_str(f, unsendable_strings);
        if (k < 15 && f->members->len > 0)
                return f->members->pdata[pick(f, f->members->len)];
        if (k < 25 && f->harvest->len > 0)
                return f->harvest->pdata[pick(f, f->harvest->len)];
        return pick_str(f, hostile_strings);
}

static const char *hostile_path(Fuzz *f) {
        unsigned k = pick(f, 100);
        if (k < 3)
                return f->deep_path;
        if (k < 6)
                return f->long_component_path;
        if (k < 9)
                return "/org/winvm1/vm/../../etc"; /* invalid: not sent */
        if (k < 30 && f->targets->len > 0)
                return ((Target *) f->targets->pdata[pick(f, f->targets->len)])->path;
        return pick_str(f, weird_paths);
}

/* Extreme values for an integer of BITS bits, as the low bits of a uint64_t. */
static uint64_t hostile_int(Fuzz *f, unsigned bits, bool is_signed) {
        uint64_t mask = bits == 64 ? UINT64_MAX : (1ULL << bits) - 1;
        uint64_t max = is_signed ? mask >> 1 : mask;
        uint64_t min = is_signed ? ~(mask >> 1) & mask : 0;
        const uint64_t pool[] = {
                0, 1, 2, 3, 4, 5, 7, 60, 3600, 3601, 65535, 65536, max, max - 1, min, min + 1,
                1ULL << 31, (1ULL << 31) - 1, 0xffffffffULL, 1ULL << 32, 1ULL << 63, UINT64_MAX, UINT64_MAX - 1,
                mask, rnd(f),
        };
        uint64_t v = pool[pick(f, sizeof(pool) / sizeof(pool[0]))] & mask;
        /* --tame: 2..65535 could be a real wait (a timeout in seconds); 0 stays, it means the
         * configured default. */
        return f->taming && v >= 2 && v <= 65535 ? 1 : v;
}

/* Appends one value of the single complete type at SIG (LEN characters); returns < 0 when
 * sd-bus refuses it (the message is then unusable). */
static int append_value(Fuzz *f, sd_bus_message *m, const char *sig, size_t len);

/* The length of the single complete type at the start of S, 0 when S does not start with one. */
static size_t type_len(const char *s) {
        if (!*s)
                return 0;
        if (*s == 'a') {
                size_t n = type_len(s + 1);
                return n ? n + 1 : 0;
        }
        if (*s == '(' || *s == '{') {
                char close = *s == '(' ? ')' : '}';
                size_t i = 1;
                while (s[i] && s[i] != close) {
                        size_t n = type_len(s + i);
                        if (!n)
                                return 0;
                        i += n;
                }
                return s[i] == close ? i + 1 : 0;
        }
        return strchr("ybnqiuxtdsogvh", *s) ? 1 : 0;
}

static unsigned count_types(const char *s) {
        unsigned n = 0;
        for (size_t l; *s && (l = type_len(s)) > 0; s += l)
                n++;
        return n;
}

/* A random complete type, nested at most DEPTH levels, appended to OUT. */
static void random_type(Fuzz *f, GString *out, int depth) {
        static const char basic[] = "ybnqiuxtdsogh";
        unsigned k = pick(f, 100);
        if (depth <= 0 || k < 62) {
                char t = basic[pick(f, sizeof(basic) - 1)];
                if (t == 'h' && f->fd_types++ >= 2)
                        t = 'u';
                g_string_append_c(out, t);
                return;
        }
        if (k < 75) {
                g_string_append_c(out, 'a');
                random_type(f, out, depth - 1);
        } else if (k < 85) {
                g_string_append_c(out, '(');
                for (unsigned i = 0, n = 1 + pick(f, 3); i < n; i++)
                        random_type(f, out, depth - 1);
                g_string_append_c(out, ')');
        } else if (k < 93) {
                g_string_append(out, "a{");
                g_string_append_c(out, "sysuotb"[pick(f, 7)]);
                random_type(f, out, depth - 1);
                g_string_append_c(out, '}');
        } else
                g_string_append_c(out, 'v');
}

static int append_basic(Fuzz *f, sd_bus_message *m, char t) {
        switch (t) {
        case 'y': {
                uint8_t v = (uint8_t) hostile_int(f, 8, false);
                return sd_bus_message_append_basic(m, t, &v);
        }
        case 'b': {
                int v = (int) pick(f, 2);
                return sd_bus_message_append_basic(m, t, &v);
        }
        case 'n':
        case 'q': {
                uint16_t v = (uint16_t) hostile_int(f, 16, t == 'n');
                return sd_bus_message_append_basic(m, t, &v);
        }
        case 'i':
        case 'u': {
                uint32_t v = (uint32_t) hostile_int(f, 32, t == 'i');
                return sd_bus_message_append_basic(m, t, &v);
        }
        case 'x':
        case 't': {
                uint64_t v = hostile_int(f, 64, t == 'x');
                return sd_bus_message_append_basic(m, t, &v);
        }
        case 'd': {
                const double pool[] = { 0.0, -0.0, 1.0, -1.0, 0.5, NAN, INFINITY, -INFINITY, DBL_MAX, -DBL_MAX,
                                        DBL_MIN, 5e-324, 1e308, 4294967296.0 };
                double v = pool[pick(f, sizeof(pool) / sizeof(pool[0]))];
                return sd_bus_message_append_basic(m, t, &v);
        }
        case 's':
                return sd_bus_message_append_basic(m, t, hostile_string(f));
        case 'o':
                return sd_bus_message_append_basic(m, t, hostile_path(f));
        case 'g':
                return sd_bus_message_append_basic(m, t, pick_str(f, weird_signatures));
        case 'h':
                f->fds++;
                return sd_bus_message_append_basic(m, t, &f->devnull);
        default:
                return -EINVAL;
        }
}

static int append_array(Fuzz *f, sd_bus_message *m, const char *elem, size_t elem_len) {
        g_autofree char *contents = g_strndup(elem, elem_len);
        /* Byte arrays carry what an s may not: invalid UTF-8, NULs, path bytes. */
        if (elem_len == 1 && elem[0] == 'y' && chance(f, 50)) {
                static const char bytes[] = "\xff\xfe../../etc/passwd\0\xc0\xaf$(id)\n";
                return sd_bus_message_append_array(m, 'y', bytes, sizeof(bytes) - 1);
        }
        unsigned k = pick(f, 100), n;
        if (k < 30 || f->depth >= MAX_DEPTH_TOTAL - 2)
                n = 0;
        else if (k < 85)
                n = 1 + pick(f, 3);
        else if (k < 97 || f->depth > 2)
                n = 16 + pick(f, 48);
        else
                n = elem_len == 1 && elem[0] != 's' ? 2000 : 200;
        if (memchr(elem, 'h', elem_len)) /* each element may carry fds */
                n = f->fds + 2 <= MAX_FDS / 2 ? (n < 2 ? n : 2) : 0;

        int r = sd_bus_message_open_container(m, 'a', contents);
        f->depth++;
        for (unsigned i = 0; r >= 0 && i < n; i++)
                r = append_value(f, m, elem, elem_len);
        f->depth--;
        return r < 0 ? r : sd_bus_message_close_container(m);
}

static int append_value(Fuzz *f, sd_bus_message *m, const char *sig, size_t len) {
        int r;
        switch (sig[0]) {
        case 'a':
                return append_array(f, m, sig + 1, len - 1);
        case '(':
        case '{': {
                g_autofree char *contents = g_strndup(sig + 1, len - 2);
                r = sd_bus_message_open_container(m, sig[0] == '(' ? 'r' : 'e', contents);
                f->depth++;
                for (const char *p = contents; r >= 0 && *p;) {
                        size_t l = type_len(p);
                        r = l ? append_value(f, m, p, l) : -EINVAL;
                        p += l ? l : 1;
                }
                f->depth--;
                return r < 0 ? r : sd_bus_message_close_container(m);
        }
        case 'v': {
                g_autoptr(GString) inner = g_string_new(NULL);
                if (f->depth >= MAX_DEPTH_TOTAL - 2)
                        g_string_append_c(inner, 's');
                else if (chance(f, 10))
                        g_string_append_c(inner, 'v');
                else
                        random_type(f, inner, 2);
                r = sd_bus_message_open_container(m, 'v', inner->str);
                f->depth++;
                if (r >= 0)
                        r = append_value(f, m, inner->str, inner->len);
                f->depth--;
                return r < 0 ? r : sd_bus_message_close_container(m);
        }
        default:
                return append_basic(f, m, sig[0]);
        }
}

/* Appends every complete type of SIG, at most MAX of them. */
static int append_values(Fuzz *f, sd_bus_message *m, const char *sig, unsigned max) {
        int r = 0;
        for (unsigned i = 0; r >= 0 && *sig && i < max; i++) {
                size_t l = type_len(sig);
                if (!l)
                        return -EINVAL;
                r = append_value(f, m, sig, l);
                sig += l;
        }
        return r;
}

/* A value nested deeply: variants in variants, arrays in arrays, structs in structs, or a mix,
 * never beyond MAX_DEPTH_TOTAL levels (counting those already open). AS_VARIANT: the value
 * is one variant (for Set). */
static int append_deep(Fuzz *f, sd_bus_message *m, bool as_variant) {
        int room = MAX_DEPTH_TOTAL - f->depth - 1 - (as_variant ? 1 : 0);
        unsigned kind = pick(f, 4);
        int levels;
        if (kind == 1 || kind == 2) /* arrays and structs: 32 at most (sd-bus sends 33, the bus drops the sender) */
                levels = 24 + (int) pick(f, 9);
        else
                levels = room - (int) pick(f, 8);
        if (levels > room)
                levels = room;
        if (levels < 1)
                levels = 1;

        /* Build the signature from the inside out. */
        g_autoptr(GString) sig = g_string_new("s");
        for (int i = 0; i < levels; i++) {
                unsigned k = kind == 3 ? pick(f, 3) : kind;
                if (k == 0)
                        g_string_assign(sig, "v");
                else if (k == 1)
                        g_string_prepend_c(sig, 'a');
                else {
                        g_string_prepend_c(sig, '(');
                        g_string_append_c(sig, ')');
                }
        }
        if (kind == 0) {
                /* levels variants around an s, open by hand */
                int r = 0, opened = 0;
                for (; r >= 0 && opened < levels; opened++)
                        r = sd_bus_message_open_container(m, 'v', opened == levels - 1 ? "s" : "v");
                if (r >= 0)
                        r = sd_bus_message_append_basic(m, 's', hostile_string(f));
                for (int i = 0; r >= 0 && i < opened; i++)
                        r = sd_bus_message_close_container(m);
                return r;
        }
        int saved = f->depth, r = 0;
        if (as_variant)
                r = sd_bus_message_open_container(m, 'v', sig->str);
        f->depth = MAX_DEPTH_TOTAL; /* arrays inside stay empty or short, variants plain */
        if (r >= 0)
                r = append_value(f, m, sig->str, sig->len);
        f->depth = saved;
        if (r >= 0 && as_variant)
                r = sd_bus_message_close_container(m);
        return r;
}

/* --- targets ----------------------------------------------------------------------- */

static void target_free(void *p) {
        Target *t = p;
        free(t->path);
        free(t->interface);
        free(t->member);
        free(t->signature);
        free(t);
}

/* Whether a call of MEMBER on PATH and IFACE (NULL: a call without an interface, which may
 * reach any interface's member of that name) is one of PATTERNS: "Member", "Interface.Member",
 * or "/object/path" (that object and those below it). */
static bool matches_call(char **patterns, const char *path, const char *iface, const char *member) {
        for (char **p = patterns; p && *p; p++) {
                if ((*p)[0] == '/') {
                        size_t pl = strlen(*p);
                        if (strncmp(path, *p, pl) == 0 && (path[pl] == '\0' || path[pl] == '/'))
                                return true;
                        continue;
                }
                const char *dot = strrchr(*p, '.');
                if (!dot) {
                        if (strcmp(*p, member) == 0)
                                return true;
                        continue;
                }
                if (strcmp(dot + 1, member) == 0 &&
                    (!iface || (strlen(iface) == (size_t) (dot - *p) && strncmp(*p, iface, (size_t) (dot - *p)) == 0)))
                        return true;
        }
        return false;
}

static bool matches(char **patterns, const Target *t) {
        return matches_call(patterns, t->path, t->interface, t->member);
}

static void add_target(Fuzz *f, const char *path, const char *iface, const char *member, const char *sig,
                       Kind kind) {
        Target *t = calloc(1, sizeof(*t));
        t->path = strdup(path);
        t->interface = strdup(iface);
        t->member = strdup(member);
        t->signature = strdup(sig ? sig : "");
        t->kind = kind;
        if (matches(f->skip, t) || (f->focus && !matches(f->focus, t))) {
                target_free(t);
                return;
        }
        g_ptr_array_add(f->targets, t);
        for (guint i = 0; i < f->members->len; i++)
                if (strcmp(f->members->pdata[i], member) == 0)
                        return;
        g_ptr_array_add(f->members, g_strdup(member));
}

static char *xml_attr(xmlNodePtr n, const char *name) {
        xmlChar *v = xmlGetProp(n, (const xmlChar *) name);
        char *s = v ? strdup((const char *) v) : NULL;
        xmlFree(v);
        return s;
}

static bool is_element(xmlNodePtr n, const char *name) {
        return n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, (const xmlChar *) name) == 0;
}

static int introspect(Fuzz *f, const char *path, char **ret_xml) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *m = NULL, *reply = NULL;
        const char *xml;
        int r = sd_bus_message_new_method_call(f->bus, &m, f->unique, path, "org.freedesktop.DBus.Introspectable",
                                               "Introspect");
        if (r >= 0)
                r = sd_bus_call(f->bus, m, f->timeout_usec, &error, &reply);
        if (r >= 0)
                r = sd_bus_message_read(reply, "s", &xml);
        if (r < 0)
                fprintf(stderr, "bus-fuzz: cannot introspect %s: %s\n", path,
                        error.message ? error.message : strerror(-r));
        else
                *ret_xml = strdup(xml);
        sd_bus_error_free(&error);
        sd_bus_message_unref(m);
        sd_bus_message_unref(reply);
        return r;
}

static int walk(Fuzz *f, const char *path, int depth) {
        char *xml = NULL;
        int r = introspect(f, path, &xml);
        if (r < 0)
                return r;
        xmlDocPtr doc = xmlReadMemory(xml, (int) strlen(xml), "introspection.xml", NULL, XML_PARSE_NONET);
        free(xml);
        if (!doc) {
                fprintf(stderr, "bus-fuzz: %s: unparsable introspection\n", path);
                return -EBADMSG;
        }
        f->n_objects++;
        xmlNodePtr root = xmlDocGetRootElement(doc);
        for (xmlNodePtr n = root ? root->children : NULL; n; n = n->next) {
                if (is_element(n, "interface")) {
                        g_autofree char *iface = xml_attr(n, "name");
                        if (!iface)
                                continue;
                        bool has_properties = false;
                        for (xmlNodePtr c = n->children; c; c = c->next) {
                                g_autofree char *name = xml_attr(c, "name");
                                if (!name)
                                        continue;
                                if (is_element(c, "method")) {
                                        g_autoptr(GString) sig = g_string_new(NULL);
                                        for (xmlNodePtr a = c->children; a; a = a->next) {
                                                if (!is_element(a, "arg"))
                                                        continue;
                                                g_autofree char *dir = xml_attr(a, "direction");
                                                g_autofree char *type = xml_attr(a, "type");
                                                if (type && (!dir || strcmp(dir, "in") == 0))
                                                        g_string_append(sig, type);
                                        }
                                        add_target(f, path, iface, name, sig->str, T_METHOD);
                                } else if (is_element(c, "property")) {
                                        g_autofree char *type = xml_attr(c, "type");
                                        add_target(f, path, iface, name, type, T_GET);
                                        add_target(f, path, iface, name, type, T_SET);
                                        has_properties = true;
                                }
                        }
                        if (has_properties)
                                add_target(f, path, iface, "GetAll", "", T_GETALL);
                } else if (is_element(n, "node") && depth < 8 && f->n_objects < MAX_OBJECTS) {
                        g_autofree char *name = xml_attr(n, "name");
                        if (!name || !*name)
                                continue;
                        g_autofree char *child = strcmp(path, "/") == 0 ? g_strconcat("/", name, NULL)
                                                                        : g_strconcat(path, "/", name, NULL);
                        /* An object that vanished between the listing and now (a job) is no error. */
                        (void) walk(f, child, depth + 1);
                }
        }
        xmlFreeDoc(doc);
        return 0;
}

/* Collects every s and o inside the value at the read position of M (at most 256 strings). */
static void collect_strings(Fuzz *f, sd_bus_message *m) {
        char type;
        const char *contents;
        while (sd_bus_message_peek_type(m, &type, &contents) > 0) {
                if (type == 's' || type == 'o') {
                        const char *v;
                        if (sd_bus_message_read_basic(m, type, &v) < 0)
                                return;
                        bool seen = false;
                        for (guint i = 0; i < f->harvest->len && !seen; i++)
                                seen = strcmp(f->harvest->pdata[i], v) == 0;
                        if (!seen && f->harvest->len < 256 && strlen(v) < 4096)
                                g_ptr_array_add(f->harvest, g_strdup(v));
                } else if (strchr("avre", type)) {
                        if (sd_bus_message_enter_container(m, type, contents) < 0)
                                return;
                        collect_strings(f, m);
                        if (sd_bus_message_exit_container(m) < 0)
                                return;
                } else if (sd_bus_message_skip(m, NULL) < 0)
                        return;
        }
}

/* Reads every readable property once, keeping the strings in it: real snapshot, VM and
 * filesystem names make the calls reach deeper than a validation error. */
static void harvest(Fuzz *f) {
        g_ptr_array_set_size(f->harvest, 0);
        for (guint i = 0; i < f->targets->len; i++) {
                Target *t = f->targets->pdata[i];
                if (t->kind != T_GET || !strpbrk(t->signature, "so"))
                        continue;
                sd_bus_message *m = NULL, *reply = NULL;
                int r = sd_bus_message_new_method_call(f->bus, &m, f->unique, t->path, "org.freedesktop.DBus.Properties", "Get");
                if (r >= 0)
                        r = sd_bus_message_append(m, "ss", t->interface, t->member);
                if (r >= 0)
                        r = sd_bus_call(f->bus, m, f->timeout_usec, NULL, &reply);
                if (r >= 0)
                        collect_strings(f, reply);
                sd_bus_message_unref(m);
                sd_bus_message_unref(reply);
        }
}

static int walk_all(Fuzz *f) {
        g_ptr_array_set_size(f->targets, 0);
        f->n_objects = 0;
        int r = walk(f, f->root, 0);
        if (r >= 0)
                harvest(f);
        if (r < 0)
                return r;
        if (f->targets->len == 0) {
                fprintf(stderr, "bus-fuzz: nothing to call below %s\n", f->root);
                return -ENOENT;
        }
        return 0;
}

/* --- replies -------------------------------------------------------------------------- */

static bool allowed(Fuzz *f, const char *name) {
        for (char **a = f->allowed; a && *a; a++) {
                size_t l = strlen(*a);
                if (l > 0 && (*a)[l - 1] == '*' ? strncmp(name, *a, l - 1) == 0 : strcmp(name, *a) == 0)
                        return true;
        }
        return false;
}

static void count(GHashTable *h, const char *key) {
        gpointer old = g_hash_table_lookup(h, key);
        g_hash_table_insert(h, g_strdup(key), GUINT_TO_POINTER(GPOINTER_TO_UINT(old) + 1));
}

static void failure(Fuzz *f, const char *what, const char *call, const char *detail) {
        if (f->shown++ < MAX_SHOWN_FAILURES)
                fprintf(stderr, "bus-fuzz: FAIL %s: %s%s%s\n", what, call, detail ? ": " : "", detail ? detail : "");
        else if (f->shown == MAX_SHOWN_FAILURES + 1)
                fprintf(stderr, "bus-fuzz: (more failures not shown)\n");
}

static int on_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Pending *p = userdata;
        Fuzz *f = p->f;
        uint64_t took = now_usec() - p->start;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        const char *name = e ? e->name : "(method return)";
        const char *sender = sd_bus_message_get_sender(reply);
        (void) ret_error;

        f->outstanding--;
        if (took > f->slowest_usec) {
                f->slowest_usec = took;
                free(f->slowest);
                f->slowest = strdup(p->what);
        }
        if (e && sd_bus_error_has_name(e, SD_BUS_ERROR_NO_REPLY) && took + 50000 >= f->timeout_usec) {
                if (f->hangs++ == 0)
                        f->check_after_hang = true;
                count(f->replies, "(no reply within the timeout)");
                g_autofree char *d = g_strdup_printf("no reply within %.1f s", (double) f->timeout_usec / USEC_PER_SEC);
                failure(f, "hang", p->what, d);
        } else if (e && (sd_bus_error_has_name(e, SD_BUS_ERROR_NO_REPLY) ||
                         sd_bus_error_has_name(e, SD_BUS_ERROR_SERVICE_UNKNOWN) ||
                         sd_bus_error_has_name(e, SD_BUS_ERROR_NAME_HAS_NO_OWNER) ||
                         sd_bus_error_has_name(e, SD_BUS_ERROR_DISCONNECTED))) {
                f->lost++;
                count(f->replies, name);
                failure(f, "lost call (service gone or connection dropped)", p->what, e->message);
        } else {
                f->answered++;
                count(f->replies, name);
                if (e && !allowed(f, name)) {
                        f->disallowed++;
                        g_autofree char *d = g_strdup_printf("%s (\"%.200s\")%s%s", name, e->message ? e->message : "",
                                                             sender && strcmp(sender, f->unique) != 0 ? " from " : "",
                                                             sender && strcmp(sender, f->unique) != 0 ? sender : "");
                        failure(f, "error name not allowed", p->what, d);
                }
        }
        if (f->log)
                fprintf(f->log, "#%u %s -> %s%s%.200s%s %.3f s\n", p->index, p->what, name, e ? " \"" : "",
                        e && e->message ? e->message : "", e ? "\"" : "", (double) took / USEC_PER_SEC);
        free(p->what);
        free(p);
        return 0;
}

static int on_name_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Fuzz *f = userdata;
        const char *name, *old_owner, *new_owner;
        (void) ret_error;
        if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0)
                return 0;
        if ((strcmp(name, f->unique) == 0 && !*new_owner) ||
            (strcmp(name, f->dest) == 0 && strcmp(new_owner, f->unique) != 0)) {
                if (!f->vanished)
                        fprintf(stderr, "bus-fuzz: FAIL crash: %s lost its owner %s after %u calls\n", f->dest, f->unique,
                                f->issued);
                f->vanished = true;
        }
        return 0;
}

/* --- one call ------------------------------------------------------------------------ */

static Limit *limit_for(Fuzz *f, const Target *t) {
        for (guint i = 0; i < f->limits->len; i++) {
                Limit *l = f->limits->pdata[i];
                char *one[] = { l->pattern, NULL };
                if (matches(one, t))
                        return l;
        }
        return NULL;
}

/* --limit: whether this call could run a limited method (its arguments match the method's
 * signature, whatever the route) and the method's quota is used up; counts it otherwise. */
static bool over_limit(Fuzz *f, const char *path, const char *iface, const char *member, const char *signature) {
        for (guint i = 0; i < f->limits->len; i++) {
                Limit *l = f->limits->pdata[i];
                char *one[] = { l->pattern, NULL };
                if (!matches_call(one, path, iface, member))
                        continue;
                for (guint j = 0; j < f->targets->len; j++) {
                        const Target *t = f->targets->pdata[j];
                        if (t->kind != T_METHOD || strcmp(t->member, member) != 0 ||
                            (iface && strcmp(t->interface, iface) != 0) || strcmp(t->signature, signature ? signature : "") != 0)
                                continue;
                        if (l->used >= l->max)
                                return true;
                        l->used++;
                        return false;
                }
        }
        return false;
}

static Mode pick_mode(Fuzz *f) {
        unsigned total = 0;
        for (int i = 0; i < _M_MAX; i++)
                total += mode_weights[i];
        unsigned k = pick(f, total);
        for (int i = 0; i < _M_MAX; i++) {
                if (k < mode_weights[i])
                        return (Mode) i;
                k -= mode_weights[i];
        }
        return M_VALID;
}

/* The property arguments: interface, name (both sometimes hostile) and, for Set, a value. */
static int append_property_args(Fuzz *f, sd_bus_message *m, const Target *t, unsigned max, bool valid) {
        int r = 0;
        unsigned n = t->kind == T_GETALL ? 1 : t->kind == T_GET ? 2 : 3;
        for (unsigned i = 0; r >= 0 && i < n && i < max; i++) {
                if (i == 0)
                        r = sd_bus_message_append_basic(m, 's', valid || chance(f, 70) ? t->interface : hostile_string(f));
                else if (i == 1)
                        r = sd_bus_message_append_basic(m, 's', valid || chance(f, 70) ? t->member : hostile_string(f));
                else if (chance(f, 50)) { /* a value of the property's own type */
                        r = sd_bus_message_open_container(m, 'v', t->signature);
                        f->depth++;
                        if (r >= 0)
                                r = append_values(f, m, t->signature, 1);
                        f->depth--;
                        if (r >= 0)
                                r = sd_bus_message_close_container(m);
                } else
                        r = append_value(f, m, "v", 1);
        }
        return r;
}

static const char *const kind_iface[] = { NULL, "org.freedesktop.DBus.Properties", "org.freedesktop.DBus.Properties",
                                          "org.freedesktop.DBus.Properties" };
static const char *const kind_member[] = { NULL, "Get", "Set", "GetAll" };

/* Builds call number INDEX into *RET; returns < 0 (a reason in *REASON) when sd-bus refuses. */
/* --- definitions for Define ------------------------------------------------------------ */

/* Where an edit goes, and what: host references the allowlist must refuse, and changes it
 * admits (which libvirt may still refuse, e.g. a second memballoon). */
/* NULL-terminated, as pick_str reads them. */
static const char *const definition_anchors[] = { "</devices>", "</os>", "</features>", "</domain>", "</name>",
                                                  "</source>", NULL };
static const char *const definition_edits[] = {
        "<seclabel type='none'/>",
        "<seclabel type='static' model='dac' relabel='no'><label>+0:+0</label></seclabel>",
        "<acpi><table type='slic'>/etc/shadow</table></acpi>",
        "<loader readonly='yes' type='rom'>/etc/shadow</loader>",
        "<kernel>/etc/shadow</kernel>",
        "<nvram>/etc/gshadow</nvram>",
        "<emulator>/bin/sh</emulator>",
        "<disk type='block' device='disk'><driver name='qemu' type='raw'/><source dev='/dev/sda'/><target dev='vdz' bus='virtio'/></disk>",
        "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/etc/shadow'/><target dev='vdy' bus='virtio'/></disk>",
        "<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='/proc/self/mem'/><target dev='vdx' bus='virtio'/></disk>",
        "<hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x0000' bus='0x00' slot='0x1f' function='0x3'/></source></hostdev>",
        "<hostdev mode='subsystem' type='usb'><source><vendor id='0x046d'/><product id='0xc52b'/></source></hostdev>",
        "<serial type='file'><source path='/etc/passwd'/><target port='1'/></serial>",
        "<channel type='unix'><source mode='bind' path='/etc/evil.sock'/><target type='virtio' name='x'/></channel>",
        "<filesystem type='mount' accessmode='passthrough'><driver type='virtiofs'/><source dir='/'/><target dir='root'/></filesystem>",
        "<interface type='ethernet'><script path='/tmp/evil.sh'/></interface>",
        "<tpm model='tpm-tis'><backend type='passthrough'><device path='/dev/tpm0'/></backend></tpm>",
        "<input type='evdev'><source dev='/dev/input/event0'/></input>",
        "<shmem name='x'><model type='ivshmem-doorbell'/><server path='/tmp/s.sock'/></shmem>",
        "<sysinfo type='fwcfg'><entry name='opt/x' file='/etc/shadow'/></sysinfo>",
        "<qemu:commandline xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'><qemu:arg value='-S'/></qemu:commandline>",
        "<seclabel model='dac' relabel='no'/>",
        /* allowlisted */
        "<description>fuzzed</description>",
        "<memballoon model='virtio'/>",
        "<input type='tablet' bus='usb'/>",
        "<sound model='ich9'/>",
        "<hyperv mode='custom'><relaxed state='on'/></hyperv>",
        "<boot dev='hd'/>",
        "<graphics type='vnc' autoport='yes'/>",
        "<graphics type='vnc' socket='/run/evil.sock'/>",
        NULL,
};
static const char *const definition_swaps[][2] = {
        { "type='raw'", "type='qcow2'" },
        { "type='qcow2'", "type='raw'" },
        { "type='file'", "type='block'" },
        { "<vcpu placement='static'>1</vcpu>", "<vcpu placement='static'>2</vcpu>" },
        { "model='none'", "model='virtio'" },
};

/* Rewrites the definition file (atomically, so winvmd never reads half of it) with one edit
 * of the starting text. Half the time the file is left as it is (a fresh export, say). */
static void fuzz_definition_file(Fuzz *f) {
        if (!f->definition_base || chance(f, 50))
                return;
        g_autoptr(GString) s = g_string_new(f->definition_base);
        unsigned k = pick(f, 3);
        if (k == 0) {
                const char *anchor = pick_str(f, definition_anchors);
                const char *edit = pick_str(f, definition_edits);
                char *at = strstr(s->str, anchor);
                if (at)
                        g_string_insert(s, at - s->str, edit);
        } else if (k == 1) {
                unsigned i = pick(f, G_N_ELEMENTS(definition_swaps));
                g_string_replace(s, definition_swaps[i][0], definition_swaps[i][1], 1);
        } else {
                /* A path the definition names, pointed elsewhere. */
                char *at = strstr(s->str, "='/");
                if (at) {
                        char *end = strchr(at + 2, '\'');
                        if (end)
                                g_string_erase(s, at + 2 - s->str, end - at - 2);
                        g_string_insert(s, at + 2 - s->str, chance(f, 50) ? "/etc/shadow" : hostile_string(f));
                }
        }
        g_autofree char *tmp = g_strdup_printf("%s.bus-fuzz", f->definition_file);
        if (g_file_set_contents(tmp, s->str, (gssize) s->len, NULL))
                (void) rename(tmp, f->definition_file);
}

static int build_call(Fuzz *f, unsigned index, sd_bus_message **ret, char **ret_what, const char **reason) {
        Target *t = f->targets->pdata[pick(f, f->targets->len)];
        Mode mode = pick_mode(f);
        bool tame = t->kind == T_METHOD && matches(f->tame, t);
        Limit *limit = limit_for(f, t);
        if (mode == M_VALID && limit && limit->used >= limit->max)
                mode = M_WRONG; /* still a call of it, just not one that can run */

        const char *path = t->path;
        const char *iface = t->kind == T_METHOD ? t->interface : kind_iface[t->kind];
        const char *member = t->kind == T_METHOD ? t->member : kind_member[t->kind];
        if (mode == M_ELSEWHERE) {
                unsigned k = pick(f, 4);
                if (k == 0 || k == 3)
                        path = hostile_path(f);
                if (k == 1 || k == 3)
                        iface = pick_str_or_null(f, weird_interfaces);
                if (k == 2)
                        member = chance(f, 50) ? pick_str(f, weird_members) : f->members->pdata[pick(f, f->members->len)];
                /* Never a skipped member by another route (a call without an interface reaches
                 * any member of that name). */
                if (matches_call(f->skip, path, iface, member) ||
                    (t->kind != T_METHOD && matches_call(f->skip, path, NULL, t->member))) {
                        path = t->path;
                        iface = t->kind == T_METHOD ? t->interface : kind_iface[t->kind];
                        member = t->kind == T_METHOD ? t->member : kind_member[t->kind];
                }
                tame = matches_call(f->tame, path, iface, member);
        }
        if (t->kind == T_METHOD && strcmp(member, "Define") == 0)
                fuzz_definition_file(f);
        f->used_huge = false;
        f->depth = 0;
        f->fds = f->fd_types = 0;
        f->taming = tame;

        sd_bus_message *m = NULL;
        int r = sd_bus_message_new_method_call(f->bus, &m, f->unique, path, iface, member);
        if (r < 0) {
                *reason = "invalid object path, interface or member name";
                /* Keep the random sequence independent of what sd-bus accepts. */
                *ret_what = g_strdup_printf("%s %s.%s", path, iface ? iface : "(no interface)", member);
                return r;
        }
        if (chance(f, 30))
                (void) sd_bus_message_set_allow_interactive_authorization(m, true);
        (void) sd_bus_message_set_auto_start(m, false);

        bool props = t->kind != T_METHOD;
        unsigned n_sig = props ? (t->kind == T_GETALL ? 1 : t->kind == T_GET ? 2 : 3) : count_types(t->signature);
        switch (mode) {
        case M_VALID:
        case M_ELSEWHERE:
                r = props ? append_property_args(f, m, t, n_sig, mode == M_VALID && chance(f, 60))
                          : append_values(f, m, t->signature, n_sig);
                break;
        case M_WRONG: {
                g_autoptr(GString) sig = g_string_new(NULL);
                for (unsigned i = 0, n = 1 + pick(f, 3); i < n; i++)
                        random_type(f, sig, 3);
                r = append_values(f, m, sig->str, UINT32_MAX);
                break;
        }
        case M_MISSING: {
                unsigned keep = n_sig ? pick(f, n_sig) : 0;
                r = props ? append_property_args(f, m, t, keep, true) : append_values(f, m, t->signature, keep);
                break;
        }
        case M_EXTRA: {
                r = props ? append_property_args(f, m, t, n_sig, true) : append_values(f, m, t->signature, n_sig);
                g_autoptr(GString) sig = g_string_new(NULL);
                for (unsigned i = 0, n = 1 + pick(f, 3); i < n; i++)
                        random_type(f, sig, 2);
                if (r >= 0)
                        r = append_values(f, m, sig->str, UINT32_MAX);
                break;
        }
        case M_DEEP:
                if (t->kind == T_SET) { /* Set(interface, name, <deep>) */
                        r = append_property_args(f, m, t, 2, true);
                        if (r >= 0)
                                r = append_deep(f, m, true);
                } else {
                        if (chance(f, 50))
                                r = props ? append_property_args(f, m, t, n_sig, true) : append_values(f, m, t->signature, n_sig);
                        if (r >= 0)
                                r = append_deep(f, m, false);
                }
                break;
        default:
                break;
        }
        f->taming = false;

        g_autofree char *sig_now = NULL;
        const char *s = sd_bus_message_get_signature(m, true);
        sig_now = g_strdup(s ? s : "?");
        if (strlen(sig_now) > 40)
                strcpy(sig_now + 37, "...");
        *ret_what = g_strdup_printf("%s %s.%s(%s) [%s%s]", path, iface ? iface : "(no interface)", member, sig_now,
                                    mode_names[mode], t->kind == T_METHOD ? "" : " property");
        if (r < 0) {
                *reason = r == -EINVAL ? "string, object path or signature sd-bus will not send"
                                       : "container sd-bus will not build";
                sd_bus_message_unref(m);
                return r;
        }
        if (over_limit(f, path, iface, member, sd_bus_message_get_signature(m, true))) {
                *reason = "over its --limit";
                sd_bus_message_unref(m);
                return -EDQUOT;
        }
        (void) index;
        *ret = m;
        return 0;
}

static int issue_one(Fuzz *f) {
        unsigned index = f->issued++;
        sd_bus_message *m = NULL;
        char *what = NULL;
        const char *reason = NULL;
        bool oneway = chance(f, 2);
        int r = build_call(f, index, &m, &what, &reason);

        if (f->only >= 0 && (long) index != f->only) {
                sd_bus_message_unref(m);
                free(what);
                return 0;
        }
        if (r == -EDQUOT) {
                f->limited++;
                if (f->log)
                        fprintf(f->log, "#%u %s -> not sent: over its --limit\n", index, what);
                free(what);
                return 0;
        }
        if (r < 0) {
                f->refused++;
                count(f->refusals, reason);
                if (f->log)
                        fprintf(f->log, "#%u %s -> not sent: sd-bus refused it (%s: %s)\n", index, what, reason, strerror(-r));
                free(what);
                return 0;
        }
        if (f->only >= 0)
                fprintf(stderr, "bus-fuzz: call #%u: %s%s\n", index, what, oneway ? " (no reply expected)" : "");
        if (oneway) {
                (void) sd_bus_message_set_expect_reply(m, false);
                r = sd_bus_send(f->bus, m, NULL);
                if (f->only >= 0)
                        (void) sd_bus_message_dump(m, stderr, SD_BUS_MESSAGE_DUMP_WITH_HEADER);
                f->oneway++;
                if (f->log)
                        fprintf(f->log, "#%u %s -> sent without expecting a reply\n", index, what);
                free(what);
                sd_bus_message_unref(m);
                return r < 0 ? r : 0;
        }
        Pending *p = calloc(1, sizeof(*p));
        p->f = f;
        p->index = index;
        p->start = now_usec();
        p->what = what;
        r = sd_bus_call_async(f->bus, NULL, m, on_reply, p, f->timeout_usec);
        if (r >= 0 && f->only >= 0)
                (void) sd_bus_message_dump(m, stderr, SD_BUS_MESSAGE_DUMP_WITH_HEADER);
        sd_bus_message_unref(m);
        if (r < 0) {
                fprintf(stderr, "bus-fuzz: cannot send call #%u (%s): %s\n", index, what, strerror(-r));
                free(p->what);
                free(p);
                return r;
        }
        f->outstanding++;
        return 0;
}

/* --- main ------------------------------------------------------------------------------ */

/* After the first hang: does the service answer at all (Peer.Ping, which sd-bus answers
 * itself), and does a read that needs no new polkit verdict answer? Tells a stuck event loop
 * from calls stuck behind something else (polkit, libvirt). */
static void check_after_hang(Fuzz *f) {
        static const struct {
                const char *path, *iface, *member, *sig, *a1, *a2;
        } probes[] = {
                { "/org/winvm1", "org.freedesktop.DBus.Peer", "Ping", "", NULL, NULL },
                { "/org/winvm1", "org.freedesktop.DBus.Properties", "Get", "ss", "org.winvm1.Manager", "Version" },
        };
        f->check_after_hang = false;
        for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
                sd_bus_message *m = NULL, *reply = NULL;
                sd_bus_error error = SD_BUS_ERROR_NULL;
                uint64_t t0 = now_usec();
                int r = sd_bus_message_new_method_call(f->bus, &m, f->unique, probes[i].path, probes[i].iface,
                                                       probes[i].member);
                if (r >= 0 && probes[i].a1)
                        r = sd_bus_message_append(m, probes[i].sig, probes[i].a1, probes[i].a2);
                if (r >= 0)
                        r = sd_bus_call(f->bus, m, 5 * USEC_PER_SEC, &error, &reply);
                fprintf(stderr, "bus-fuzz: after the first hang, %s.%s %s after %.3f s%s%s\n", probes[i].iface,
                        probes[i].member, r >= 0 ? "answered" : "failed", (double) (now_usec() - t0) / USEC_PER_SEC,
                        r < 0 ? ": " : "", r < 0 ? (error.name ? error.name : strerror(-r)) : "");
                sd_bus_error_free(&error);
                sd_bus_message_unref(reply);
                sd_bus_message_unref(m);
        }
}

static int get_owner(Fuzz *f, char **ret) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        sd_bus *fresh = NULL;
        const char *owner;
        sd_bus *bus = f->bus;
        if (!sd_bus_is_open(bus)) { /* ours was dropped: ask on a new connection */
                int k = sd_bus_open_system(&fresh);
                if (k < 0) {
                        fprintf(stderr, "bus-fuzz: cannot connect to the system bus: %s\n", strerror(-k));
                        return k;
                }
                bus = fresh;
        }
        int r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                   "GetNameOwner", &error, &reply, "s", f->dest);
        if (r >= 0)
                r = sd_bus_message_read(reply, "s", &owner);
        if (r >= 0)
                *ret = strdup(owner);
        else
                fprintf(stderr, "bus-fuzz: %s has no owner: %s\n", f->dest, error.message ? error.message : strerror(-r));
        sd_bus_error_free(&error);
        sd_bus_message_unref(reply);
        sd_bus_flush_close_unref(fresh);
        return r;
}

static gint by_count(gconstpointer a, gconstpointer b, gpointer userdata) {
        GHashTable *h = userdata;
        guint ca = GPOINTER_TO_UINT(g_hash_table_lookup(h, *(char **) a));
        guint cb = GPOINTER_TO_UINT(g_hash_table_lookup(h, *(char **) b));
        return ca != cb ? (ca < cb ? 1 : -1) : strcmp(*(char **) a, *(char **) b);
}

static void print_counts(GHashTable *h, const char *prefix) {
        g_autoptr(GPtrArray) keys = g_ptr_array_new();
        GHashTableIter it;
        gpointer key;
        g_hash_table_iter_init(&it, h);
        while (g_hash_table_iter_next(&it, &key, NULL))
                g_ptr_array_add(keys, key);
        g_ptr_array_sort_with_data(keys, by_count, h);
        for (guint i = 0; i < keys->len; i++)
                printf("%s %u %s\n", prefix, GPOINTER_TO_UINT(g_hash_table_lookup(h, keys->pdata[i])),
                       (char *) keys->pdata[i]);
}

/* Says once, at the start, what sd-bus will not send (so that it is known, not guessed). */
static void note_unsendable(Fuzz *f) {
        sd_bus_message *m = NULL;
        if (sd_bus_message_new_method_call(f->bus, &m, f->unique, "/", "a.b", "C") < 0)
                return;
        int r = sd_bus_message_append_basic(m, 's', "\xff\xfe");
        sd_bus_message_unref(m);
        printf("bus-fuzz: note: sd-bus %s invalid UTF-8 in an s (%s); such strings are counted as not sent, "
               "and reach the service only inside byte arrays\n",
               r < 0 ? "refuses to send" : "sends", r < 0 ? strerror(-r) : "the bus will drop the connection");
}

static char **split_list(const char *s) {
        char **l = g_strsplit_set(s, ", ", -1);
        size_t j = 0;
        for (size_t i = 0; l[i]; i++) {
                if (*l[i])
                        l[j++] = l[i];
                else
                        g_free(l[i]);
        }
        l[j] = NULL;
        return l;
}

static char **strv_concat(char **a, char **b) {
        GStrvBuilder *sb = g_strv_builder_new();
        if (a)
                g_strv_builder_addv(sb, (const char **) a);
        if (b)
                g_strv_builder_addv(sb, (const char **) b);
        g_strfreev(a);
        g_strfreev(b);
        char **r = g_strv_builder_end(sb);
        g_strv_builder_unref(sb);
        return r;
}

static void usage(FILE *out, const char *argv0) {
        fprintf(out,
                "Usage: %s [OPTIONS]\n"
                "Calls every method and property of %s with hostile arguments; fails on a hang, a\n"
                "crash or an error name outside the allowed list.\n\n"
                "  --seed N          random sequence (default 1); the same seed makes the same calls\n"
                "  --count N         calls to make (default 1000)\n"
                "  --timeout SECS    how long a call may wait for its reply (default 10)\n"
                "  --parallel N      calls in flight at once (default 4, at most 32)\n"
                "  --skip LIST       never call these (comma-separated: Member, Interface.Member, or an\n"
                "                    /object/path for everything on it and below it)\n"
                "  --tame LIST       for these methods, integer arguments in 2..65535 become 1 (timeouts\n"
                "                    in seconds that would make a legitimate call wait long)\n"
                "  --limit M=N,...   at most N well-typed calls of member M (e.g. CreateSnapshot=8)\n"
                "  --allow NAME      also allow this error name (NAME.* for a prefix); repeatable\n"
                "  --log FILE        one line per call: what was called and the reply\n"
                "  --only N          build the whole sequence but send only call number N, and dump it\n"
                "  --rewalk N        introspect again every N calls (default 500; 0 = never)\n"
                "  --dest NAME       bus name (default %s)\n"
                "  --root PATH       where the walk starts (default /org/winvm1)\n"
                "  --definition-file PATH  rewrite this definition file before each Define\n"
                "  --focus LIST      call only these members (as in --skip)\n",
                argv0, WINVM_BUS_NAME, WINVM_BUS_NAME);
}

static bool parse_uint(const char *s, unsigned long long max, unsigned long long *ret) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno || end == s || *end || v > max || s[0] == '-')
                return false;
        *ret = v;
        return true;
}

int main(int argc, char **argv) {
        Fuzz f = {
                .dest = WINVM_BUS_NAME,
                .root = "/org/winvm1",
                .seed = 1,
                .count = 1000,
                .parallel = 4,
                .rewalk = 500,
                .timeout_usec = 10 * USEC_PER_SEC,
                .only = -1,
                .devnull = -1,
        };
        enum { O_SEED = 256, O_COUNT, O_TIMEOUT, O_PARALLEL, O_SKIP, O_TAME, O_LIMIT, O_ALLOW, O_LOG, O_ONLY,
               O_REWALK, O_DEST, O_ROOT, O_DEFINITION_FILE, O_FOCUS };
        static const struct option options[] = {
                { "seed", required_argument, NULL, O_SEED },         { "count", required_argument, NULL, O_COUNT },
                { "timeout", required_argument, NULL, O_TIMEOUT },   { "parallel", required_argument, NULL, O_PARALLEL },
                { "skip", required_argument, NULL, O_SKIP },         { "tame", required_argument, NULL, O_TAME },
                { "limit", required_argument, NULL, O_LIMIT },       { "allow", required_argument, NULL, O_ALLOW },
                { "log", required_argument, NULL, O_LOG },           { "only", required_argument, NULL, O_ONLY },
                { "rewalk", required_argument, NULL, O_REWALK },     { "dest", required_argument, NULL, O_DEST },
                { "root", required_argument, NULL, O_ROOT },
                { "definition-file", required_argument, NULL, O_DEFINITION_FILE },
                { "focus", required_argument, NULL, O_FOCUS },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        f.allowed = g_strdupv((char **) default_allowed);
        f.limits = g_ptr_array_new();
        unsigned long long v;
        int c;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (c) {
                case O_SEED:
                        if (!parse_uint(optarg, UINT64_MAX, &v))
                                goto bad;
                        f.seed = v;
                        break;
                case O_COUNT:
                        if (!parse_uint(optarg, 10000000, &v))
                                goto bad;
                        f.count = (unsigned) v;
                        break;
                case O_TIMEOUT: {
                        char *end;
                        double secs = strtod(optarg, &end);
                        if (*end || !(secs > 0 && secs <= 3600))
                                goto bad;
                        f.timeout_usec = (uint64_t) (secs * USEC_PER_SEC);
                        break;
                }
                case O_PARALLEL:
                        if (!parse_uint(optarg, 32, &v) || v == 0)
                                goto bad;
                        f.parallel = (unsigned) v;
                        break;
                case O_SKIP:
                        f.skip = strv_concat(f.skip, split_list(optarg));
                        break;
                case O_TAME:
                        f.tame = strv_concat(f.tame, split_list(optarg));
                        break;
                case O_LIMIT: {
                        g_auto(GStrv) items = split_list(optarg);
                        for (char **i = items; *i; i++) {
                                char *eq = strchr(*i, '=');
                                if (!eq || eq == *i || !parse_uint(eq + 1, UINT32_MAX, &v))
                                        goto bad;
                                Limit *l = calloc(1, sizeof(*l));
                                l->pattern = g_strndup(*i, (gsize) (eq - *i));
                                l->max = (unsigned) v;
                                g_ptr_array_add(f.limits, l);
                        }
                        break;
                }
                case O_ALLOW: {
                        char *one[] = { optarg, NULL };
                        f.allowed = strv_concat(f.allowed, g_strdupv(one));
                        break;
                }
                case O_LOG:
                        if (!(f.log = fopen(optarg, "we"))) {
                                fprintf(stderr, "bus-fuzz: cannot write %s: %m\n", optarg);
                                return 2;
                        }
                        setvbuf(f.log, NULL, _IOLBF, 0);
                        break;
                case O_ONLY:
                        if (!parse_uint(optarg, 10000000, &v))
                                goto bad;
                        f.only = (long) v;
                        break;
                case O_REWALK:
                        if (!parse_uint(optarg, 10000000, &v))
                                goto bad;
                        f.rewalk = (unsigned) v;
                        break;
                case O_DEST:
                        f.dest = optarg;
                        break;
                case O_ROOT:
                        f.root = optarg;
                        break;
                case O_FOCUS:
                        f.focus = strv_concat(f.focus, split_list(optarg));
                        break;
                case O_DEFINITION_FILE:
                        f.definition_file = optarg;
                        if (!g_file_get_contents(optarg, &f.definition_base, NULL, NULL)) {
                                fprintf(stderr, "bus-fuzz: cannot read %s\n", optarg);
                                return 2;
                        }
                        break;
                case 'h':
                        usage(stdout, argv[0]);
                        return 0;
                default:
                        usage(stderr, argv[0]);
                        return 2;
                }
                continue;
        bad:
                fprintf(stderr, "bus-fuzz: invalid value '%s' for --%s\n", optarg, options[c - O_SEED].name);
                return 2;
        }
        if (optind < argc) {
                usage(stderr, argv[0]);
                return 2;
        }
        f.rng = f.seed;
        f.targets = g_ptr_array_new_with_free_func(target_free);
        f.members = g_ptr_array_new_with_free_func(g_free);
        f.harvest = g_ptr_array_new_with_free_func(g_free);
        f.replies = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        f.refusals = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

        int r = sd_bus_open_system(&f.bus); /* honours DBUS_SYSTEM_BUS_ADDRESS */
        if (r < 0) {
                fprintf(stderr, "bus-fuzz: cannot connect to the system bus: %s\n", strerror(-r));
                return 2;
        }
        if (get_owner(&f, &f.unique) < 0)
                return 2;
        r = sd_bus_match_signal(f.bus, NULL, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                "NameOwnerChanged", on_name_owner_changed, &f);
        if (r < 0) {
                fprintf(stderr, "bus-fuzz: cannot watch NameOwnerChanged: %s\n", strerror(-r));
                return 2;
        }
        make_buffers(&f);
        if (walk_all(&f) < 0)
                return 2;
        printf("bus-fuzz: seed %" PRIu64 ", %u calls as uid %u to %s (%s), %u in flight, timeout %.1f s; "
               "%u targets on %u objects below %s, %u strings read from its properties\n",
               f.seed, f.count, (unsigned) getuid(), f.dest, f.unique, f.parallel,
               (double) f.timeout_usec / USEC_PER_SEC, f.targets->len, f.n_objects, f.root, f.harvest->len);
        note_unsendable(&f);
        fflush(stdout);

        uint64_t started = now_usec();
        unsigned walked_at = 0;
        while ((f.issued < f.count && !f.vanished && !f.disconnected) || f.outstanding > 0) {
                while (f.issued < f.count && !f.vanished && !f.disconnected && f.outstanding < f.parallel) {
                        if (f.rewalk && f.issued > 0 && f.issued % f.rewalk == 0 && walked_at != f.issued) {
                                walked_at = f.issued;
                                if (walk_all(&f) < 0) {
                                        failure(&f, "introspection", f.root, "the walk failed midway");
                                        f.lost++;
                                        f.disconnected = true;
                                        break;
                                }
                        }
                        if (issue_one(&f) < 0)
                                f.disconnected = true;
                }
                if (f.check_after_hang)
                        check_after_hang(&f);
                r = sd_bus_process(f.bus, NULL);
                if (r < 0) {
                        fprintf(stderr, "bus-fuzz: the bus connection failed: %s\n", strerror(-r));
                        f.disconnected = true;
                        break;
                }
                if (r > 0)
                        continue;
                r = sd_bus_wait(f.bus, 100000);
                if (r < 0 && r != -EINTR) {
                        fprintf(stderr, "bus-fuzz: waiting on the bus failed: %s\n", strerror(-r));
                        f.disconnected = true;
                        break;
                }
        }
        double secs = (double) (now_usec() - started) / USEC_PER_SEC;

        /* The same process must still own the name. */
        g_autofree char *owner = NULL;
        bool owner_ok = get_owner(&f, &owner) >= 0 && strcmp(owner, f.unique) == 0;
        if (!owner_ok && !f.vanished)
                fprintf(stderr, "bus-fuzz: FAIL crash: %s is now owned by %s, not %s\n", f.dest, owner ? owner : "nobody",
                        f.unique);

        printf("bus-fuzz: %u calls in %.1f s: %u answered, %u without a reply wanted, %u not sent (refused by sd-bus), "
               "%u not sent (over --limit)\n",
               f.issued, secs, f.answered, f.oneway, f.refused, f.limited);
        for (guint i = 0; i < f.limits->len; i++) {
                Limit *l = f.limits->pdata[i];
                printf("bus-fuzz: %s: %u of at most %u calls that could run it\n", l->pattern, l->used, l->max);
        }
        print_counts(f.refusals, "not-sent");
        print_counts(f.replies, "reply");
        if (f.slowest)
                printf("bus-fuzz: slowest reply %.3f s: %s\n", (double) f.slowest_usec / USEC_PER_SEC, f.slowest);

        bool failed = f.hangs || f.lost || f.disallowed || f.vanished || !owner_ok || f.disconnected;
        if (failed)
                printf("bus-fuzz: FAIL: %u hangs, %u lost calls, %u disallowed error names%s%s\n", f.hangs, f.lost,
                       f.disallowed, f.vanished || !owner_ok ? ", the service vanished" : "",
                       f.disconnected ? ", the connection to the bus failed" : "");
        else
                printf("bus-fuzz: PASS\n");

        if (f.log)
                fclose(f.log);
        for (size_t k = 0; k < 4; k++) {
                free(f.huge[k]);
                free(f.long_string[k]);
        }
        free(f.deep_path);
        free(f.long_component_path);
        if (f.devnull >= 0)
                close(f.devnull);
        g_ptr_array_unref(f.targets);
        g_ptr_array_unref(f.members);
        g_ptr_array_unref(f.harvest);
        g_hash_table_unref(f.replies);
        g_hash_table_unref(f.refusals);
        for (guint i = 0; i < f.limits->len; i++) {
                Limit *l = f.limits->pdata[i];
                g_free(l->pattern);
                free(l);
        }
        g_ptr_array_unref(f.limits);
        g_strfreev(f.skip);
        g_strfreev(f.tame);
        g_strfreev(f.allowed);
        g_strfreev(f.focus);
        g_free(f.definition_base);
        free(f.unique);
        free(f.slowest);
        sd_bus_flush_close_unref(f.bus);
        return failed ? 1 : 0;
}
