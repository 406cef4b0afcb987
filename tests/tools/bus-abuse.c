/* bus-abuse: badly behaved clients of winvmd, for tests/integration/test-abuse.sh.
 *
 *   bus-abuse vanish [--clients N] [--concurrency C] [--calls K] [--seed S] [--call SPEC]...
 *   bus-abuse flood  [--calls N] [--timeout SECS] [--call SPEC]...
 *   bus-abuse storm  [--clients N] [--calls K] [--timeout SECS] [--call SPEC]...
 *   bus-abuse hold   [--calls N] [--timeout SECS] --call SPEC [--then SPEC]
 *   bus-abuse probe  [--duration SECS] [--interval MS] [--max-latency SECS] [--call SPEC]
 *
 * A call SPEC is one string: "PATH INTERFACE.MEMBER [SIGNATURE [ARG...]]", arguments of the
 * basic types s o b y n q i u x t only, e.g.
 *   "/org/winvm1/vm/Windows11 org.freedesktop.DBus.Properties.Get ss org.winvm1.VM State";
 * an s argument "@N" is N bytes of 'x' (a big message).
 * Every call allows interactive authorization, so polkit has the most to do.
 *
 * vanish: N clients, C connected at once, each with its own connection: it sends K calls
 *   (taken in turn from the --call list, by default Start, Shutdown, ForceStop, reads and
 *   snapshot calls on the VM) and disconnects without waiting for the replies: at once, after
 *   a few milliseconds (while polkit is still being asked), or after the first reply. Some
 *   connect and leave without a call. Prints how many clients and calls there were.
 * flood: one connection sends N calls back to back without reading anything, then reads
 *   every reply. Prints "reply COUNT FROM NAME" lines (FROM: service, or bus when the bus
 *   daemon answered itself, e.g. past its own limit of pending replies per connection) and
 *   "unanswered COUNT"; exits 1 when a call got no reply within --timeout.
 * storm: flood from N connections of one process at once: K calls in all, dealt out to the
 *   connections in turn, every one written before any reply is read; then the replies of all
 *   connections are read. Prints what flood prints. (One process, so that a benchmark's load
 *   is the calls, not hundreds of clients starting.)
 * hold: one connection sends N calls, prints "held N" once they are written, waits for all
 *   replies and counts them as flood does; then, on the same connection, makes the --then
 *   call and prints "then NAME" (or "then (method return)"). For tests that change what the
 *   service sees between the calls and their answers (polkitd stopped, a job gone).
 * probe: the well-behaved client: one connection that makes the --call (default: Get of the
 *   VM's State) every --interval ms for --duration seconds, or until the file named by
 *   --stop-file exists. Prints "ready" after its first answer (from then on its read verdict
 *   is cached in winvmd), then a summary line "probe: N calls, F failed, max X s, ...";
 *   exits 1 when a call failed or took longer than --max-latency. */
#include <errno.h>
#include <getopt.h>
#include <glib.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include "bus-name.h"

#define USEC_PER_SEC 1000000ULL
#define VM_PATH "/org/winvm1/vm/Windows11"

static const char *const default_calls[] = {
        VM_PATH " org.winvm1.VM.Start",
        VM_PATH " org.winvm1.VM.Shutdown ub 1 true",
        VM_PATH " org.winvm1.VM.ForceStop",
        VM_PATH " org.winvm1.VM.Reboot",
        VM_PATH " org.freedesktop.DBus.Properties.Get ss org.winvm1.VM State",
        VM_PATH " org.freedesktop.DBus.Properties.GetAll s org.winvm1.VM",
        "/org/winvm1 org.freedesktop.DBus.ObjectManager.GetManagedObjects",
        "/org/winvm1 org.winvm1.Manager.GetVM s Windows11",
        VM_PATH " org.winvm1.VM.ListSnapshots",
        VM_PATH " org.winvm1.VM.CreateSnapshot ss abuse x",
        VM_PATH " org.winvm1.VM.DeleteSnapshot s abuse",
        "/org/winvm1/storage org.winvm1.Storage.GetFacts",
        NULL
};

typedef struct Spec {
        char *path, *interface, *member, *signature;
        char **args;
} Spec;

typedef struct Tally {
        GHashTable *names; /* "FROM NAME" -> count */
        const char *service;
        unsigned answered;
} Tally;

static uint64_t rng_state = 1;

static uint64_t rnd(void) {
        uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

static bool parse_spec(const char *text, Spec *s) {
        g_auto(GStrv) w = g_strsplit_set(text, " ", -1);
        guint n = g_strv_length(w);
        if (n < 2)
                return false;
        char *dot = strrchr(w[1], '.');
        if (!dot)
                return false;
        s->path = g_strdup(w[0]);
        s->interface = g_strndup(w[1], (gsize) (dot - w[1]));
        s->member = g_strdup(dot + 1);
        s->signature = g_strdup(n > 2 ? w[2] : "");
        s->args = g_new0(char *, n > 3 ? n - 2 : 1);
        for (guint i = 3; i < n; i++)
                s->args[i - 3] = g_strdup(w[i]);
        return strlen(s->signature) == (n > 3 ? n - 3 : 0);
}

static int append_arg(sd_bus_message *m, char type, const char *text) {
        switch (type) {
        case 's':
                if (text[0] == '@' && text[1] >= '0' && text[1] <= '9') { /* "@N": N bytes of 'x' */
                        size_t n = strtoul(text + 1, NULL, 10);
                        g_autofree char *big = g_malloc(n + 1);
                        memset(big, 'x', n);
                        big[n] = '\0';
                        return sd_bus_message_append_basic(m, type, big);
                }
                return sd_bus_message_append_basic(m, type, text);
        case 'o':
                return sd_bus_message_append_basic(m, type, text);
        case 'b': {
                int v = strcmp(text, "true") == 0 || strcmp(text, "1") == 0;
                return sd_bus_message_append_basic(m, type, &v);
        }
        case 'y':
        case 'n':
        case 'q':
        case 'i':
        case 'u':
        case 'x':
        case 't': {
                errno = 0;
                unsigned long long v = strtoull(text, NULL, 0);
                if (errno)
                        return -errno;
                uint8_t y = (uint8_t) v;
                uint16_t q = (uint16_t) v;
                uint32_t u = (uint32_t) v;
                uint64_t t = (uint64_t) v;
                return sd_bus_message_append_basic(m, type, type == 'y' ? (void *) &y : type == 'n' || type == 'q' ? (void *) &q
                                                                           : type == 'i' || type == 'u' ? (void *) &u : (void *) &t);
        }
        default:
                return -EINVAL;
        }
}

static int new_call(sd_bus *bus, const char *dest, const Spec *s, sd_bus_message **ret) {
        sd_bus_message *m = NULL;
        int r = sd_bus_message_new_method_call(bus, &m, dest, s->path, s->interface, s->member);
        if (r < 0)
                return r;
        (void) sd_bus_message_set_allow_interactive_authorization(m, true);
        for (size_t i = 0; r >= 0 && s->signature[i]; i++)
                r = append_arg(m, s->signature[i], s->args[i]);
        if (r < 0) {
                sd_bus_message_unref(m);
                return r;
        }
        *ret = m;
        return 0;
}

static void tally_reply(Tally *t, sd_bus_message *reply) {
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        const char *sender = sd_bus_message_get_sender(reply);
        bool from_service = sender && t->service && strcmp(sender, t->service) == 0;
        g_autofree char *key = g_strdup_printf("%s %s", from_service ? "service" : "bus", e ? e->name : "(method return)");
        gpointer old = g_hash_table_lookup(t->names, key);
        g_hash_table_insert(t->names, g_steal_pointer(&key), GUINT_TO_POINTER(GPOINTER_TO_UINT(old) + 1));
        t->answered++;
}

static int on_tally(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        (void) ret_error;
        tally_reply(userdata, reply);
        return 0;
}

static void print_tally(Tally *t) {
        GHashTableIter it;
        gpointer k, v;
        g_hash_table_iter_init(&it, t->names);
        while (g_hash_table_iter_next(&it, &k, &v))
                printf("reply %u %s\n", GPOINTER_TO_UINT(v), (char *) k);
}

static int get_owner(sd_bus *bus, const char *name, char **ret) {
        sd_bus_message *reply = NULL;
        const char *owner;
        int r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                   "GetNameOwner", NULL, &reply, "s", name);
        if (r >= 0)
                r = sd_bus_message_read(reply, "s", &owner);
        if (r >= 0)
                *ret = strdup(owner);
        sd_bus_message_unref(reply);
        return r;
}

/* Waits until COUNT replies have been tallied or TIMEOUT passed; returns how many are missing. */
static unsigned drain(sd_bus *bus, Tally *t, unsigned count, uint64_t timeout) {
        uint64_t deadline = now_usec() + timeout;
        while (t->answered < count && now_usec() < deadline) {
                int r = sd_bus_process(bus, NULL);
                if (r < 0) {
                        fprintf(stderr, "bus-abuse: the connection failed: %s\n", strerror(-r));
                        break;
                }
                if (r == 0)
                        (void) sd_bus_wait(bus, 100000);
        }
        return count - t->answered;
}

/* --- modes ----------------------------------------------------------------------------- */

typedef struct Client {
        sd_bus *bus;
        uint64_t leave_at;
        bool after_reply; /* leave at the first reply (or at leave_at, whichever comes first) */
        unsigned replies;
} Client;

static int on_client_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Client *c = userdata;
        (void) reply;
        (void) ret_error;
        c->replies++;
        return 0;
}

static void client_leave(Client *c) {
        /* close() without flushing: whatever is still pending is simply dropped */
        sd_bus_close(c->bus);
        c->bus = sd_bus_unref(c->bus);
}

static int mode_vanish(const char *dest, Spec *specs, size_t n_specs, unsigned clients, unsigned concurrency,
                       unsigned calls) {
        Client *slots = calloc(concurrency, sizeof(Client));
        unsigned started = 0, sent = 0, left_at_once = 0, left_later = 0, left_after_reply = 0, failed = 0;
        size_t next_spec = 0;
        uint64_t begin = now_usec();

        for (;;) {
                bool any = false;
                for (unsigned i = 0; i < concurrency; i++) {
                        Client *c = &slots[i];
                        if (c->bus) {
                                any = true;
                                (void) sd_bus_process(c->bus, NULL);
                                if ((c->after_reply && c->replies > 0) || now_usec() >= c->leave_at) {
                                        if (c->after_reply && c->replies > 0)
                                                left_after_reply++;
                                        else
                                                left_later++;
                                        client_leave(c);
                                }
                                continue;
                        }
                        if (started >= clients)
                                continue;
                        started++;
                        any = true;
                        int r = sd_bus_open_system(&c->bus);
                        if (r < 0) {
                                failed++;
                                c->bus = NULL;
                                continue;
                        }
                        unsigned k = rnd() % 100 < 5 ? 0 : calls;
                        for (unsigned j = 0; j < k; j++) {
                                sd_bus_message *m = NULL;
                                const Spec *s = &specs[next_spec++ % n_specs];
                                if (new_call(c->bus, dest, s, &m) < 0) {
                                        failed++;
                                        continue;
                                }
                                r = sd_bus_call_async(c->bus, NULL, m, on_client_reply, c, 30 * USEC_PER_SEC);
                                sd_bus_message_unref(m);
                                if (r < 0) {
                                        failed++;
                                        break;
                                }
                                sent++;
                        }
                        /* Connecting and writing the calls happen here; the bus has them all after it. */
                        r = sd_bus_flush(c->bus);
                        if (r < 0)
                                failed++;
                        unsigned how = (unsigned) (rnd() % 3);
                        c->replies = 0;
                        c->after_reply = how == 2;
                        if (how == 0 || k == 0) {
                                left_at_once++;
                                client_leave(c);
                        } else if (how == 1)
                                c->leave_at = now_usec() + 1000 + rnd() % 20000; /* while polkit is asked */
                        else
                                c->leave_at = now_usec() + 5 * USEC_PER_SEC;
                }
                if (!any && started >= clients)
                        break;
                usleep(200);
        }
        free(slots);
        printf("vanish: %u clients, %u calls sent, %u left at once, %u after a few ms, %u after their first reply, "
               "%u failures to connect or send, %.1f s\n",
               started, sent, left_at_once, left_later, left_after_reply, failed,
               (double) (now_usec() - begin) / USEC_PER_SEC);
        return 0;
}

static int mode_flood(const char *dest, Spec *specs, size_t n_specs, unsigned calls, uint64_t timeout, const Spec *then) {
        sd_bus *bus = NULL;
        int r = sd_bus_open_system(&bus);
        if (r < 0) {
                fprintf(stderr, "bus-abuse: cannot connect to the system bus: %s\n", strerror(-r));
                return 2;
        }
        Tally t = { .names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL) };
        g_autofree char *service = NULL;
        if (get_owner(bus, dest, &service) < 0) {
                fprintf(stderr, "bus-abuse: %s has no owner\n", dest);
                return 2;
        }
        t.service = service;

        uint64_t begin = now_usec();
        unsigned sent = 0;
        for (unsigned i = 0; i < calls; i++) {
                sd_bus_message *m = NULL;
                if (new_call(bus, dest, &specs[i % n_specs], &m) < 0) {
                        fprintf(stderr, "bus-abuse: cannot build the call\n");
                        return 2;
                }
                r = sd_bus_call_async(bus, NULL, m, on_tally, &t, timeout);
                sd_bus_message_unref(m);
                if (r < 0) {
                        fprintf(stderr, "bus-abuse: cannot queue call %u: %s\n", i, strerror(-r));
                        break;
                }
                sent++;
        }
        /* Write everything without reading a single reply. */
        r = sd_bus_flush(bus);
        if (r < 0)
                fprintf(stderr, "bus-abuse: cannot write the calls: %s\n", strerror(-r));
        printf("held %u\n", sent);
        fflush(stdout);
        uint64_t written = now_usec();

        unsigned missing = drain(bus, &t, sent, timeout + USEC_PER_SEC);
        printf("sent %u in %.3f s, answered %u in %.3f s more, unanswered %u\n", sent,
               (double) (written - begin) / USEC_PER_SEC, t.answered, (double) (now_usec() - written) / USEC_PER_SEC,
               missing);
        print_tally(&t);

        if (then) {
                sd_bus_message *m = NULL, *reply = NULL;
                sd_bus_error error = SD_BUS_ERROR_NULL;
                if (new_call(bus, dest, then, &m) < 0)
                        return 2;
                r = sd_bus_call(bus, m, timeout, &error, &reply);
                printf("then %s%s%s\n", r >= 0 ? "(method return)" : error.name ? error.name : strerror(-r),
                       error.message ? ": " : "", error.message ? error.message : "");
                sd_bus_error_free(&error);
                sd_bus_message_unref(reply);
                sd_bus_message_unref(m);
        }
        g_hash_table_unref(t.names);
        sd_bus_flush_close_unref(bus);
        return missing ? 1 : 0;
}

static int mode_storm(const char *dest, Spec *specs, size_t n_specs, unsigned clients, unsigned calls,
                      uint64_t timeout) {
        sd_bus **buses = calloc(clients, sizeof(sd_bus *));
        struct pollfd *fds = calloc(clients, sizeof(struct pollfd));
        Tally t = { .names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL) };
        g_autofree char *service = NULL;
        if (!buses || !fds)
                return 2;
        for (unsigned i = 0; i < clients; i++) {
                int r = sd_bus_open_system(&buses[i]);
                if (r < 0) {
                        fprintf(stderr, "bus-abuse: cannot connect connection %u: %s\n", i, strerror(-r));
                        return 2;
                }
        }
        if (get_owner(buses[0], dest, &service) < 0) {
                fprintf(stderr, "bus-abuse: %s has no owner\n", dest);
                return 2;
        }
        t.service = service;
        uint64_t begin = now_usec();
        unsigned sent = 0;
        for (unsigned i = 0; i < calls; i++) {
                sd_bus_message *m = NULL;
                sd_bus *bus = buses[i % clients];
                if (new_call(bus, dest, &specs[i % n_specs], &m) < 0)
                        return 2;
                int r = sd_bus_call_async(bus, NULL, m, on_tally, &t, timeout);
                sd_bus_message_unref(m);
                if (r >= 0)
                        sent++;
        }
        for (unsigned i = 0; i < clients; i++)
                (void) sd_bus_flush(buses[i]);
        printf("held %u\n", sent);
        fflush(stdout);
        uint64_t written = now_usec(), deadline = written + timeout + USEC_PER_SEC;
        while (t.answered < sent && now_usec() < deadline) {
                bool progress = false;
                for (unsigned i = 0; i < clients; i++)
                        while (sd_bus_process(buses[i], NULL) > 0)
                                progress = true;
                if (progress)
                        continue;
                for (unsigned i = 0; i < clients; i++)
                        fds[i] = (struct pollfd) { .fd = sd_bus_get_fd(buses[i]), .events = (short) sd_bus_get_events(buses[i]) };
                (void) poll(fds, clients, 100);
        }
        unsigned missing = sent - t.answered;
        printf("sent %u in %.3f s, answered %u in %.3f s more, unanswered %u\n", sent,
               (double) (written - begin) / USEC_PER_SEC, t.answered, (double) (now_usec() - written) / USEC_PER_SEC,
               missing);
        print_tally(&t);
        for (unsigned i = 0; i < clients; i++)
                sd_bus_flush_close_unref(buses[i]);
        g_hash_table_unref(t.names);
        free(buses);
        free(fds);
        return missing ? 1 : 0;
}

static int mode_probe(const char *dest, const Spec *spec, double duration, unsigned interval_ms, double max_latency,
                      const char *stop_file) {
        sd_bus *bus = NULL;
        int r = sd_bus_open_system(&bus);
        if (r < 0) {
                fprintf(stderr, "bus-abuse: cannot connect to the system bus: %s\n", strerror(-r));
                return 2;
        }
        uint64_t begin = now_usec(), end = begin + (uint64_t) (duration * USEC_PER_SEC);
        uint64_t max_usec = 0, total_usec = 0, limit = (uint64_t) (max_latency * USEC_PER_SEC);
        uint64_t timeout = limit * 2 > 5 * USEC_PER_SEC ? limit * 2 : 5 * USEC_PER_SEC;
        unsigned n = 0, failed = 0, slow = 0;
        while (now_usec() < end && !(stop_file && access(stop_file, F_OK) == 0)) {
                sd_bus_message *m = NULL, *reply = NULL;
                sd_bus_error error = SD_BUS_ERROR_NULL;
                if (new_call(bus, dest, spec, &m) < 0)
                        return 2;
                uint64_t t0 = now_usec();
                r = sd_bus_call(bus, m, timeout, &error, &reply);
                uint64_t took = now_usec() - t0;
                n++;
                total_usec += took;
                if (took > max_usec)
                        max_usec = took;
                if (took > limit) {
                        slow++;
                        fprintf(stderr, "probe: call %u took %.3f s\n", n, (double) took / USEC_PER_SEC);
                }
                if (r < 0) {
                        if (failed++ < 5)
                                fprintf(stderr, "probe: call %u failed: %s: %s\n", n, error.name ? error.name : strerror(-r),
                                        error.message ? error.message : "");
                } else if (n == 1 || (n - failed) == 1) {
                        printf("ready\n");
                        fflush(stdout);
                }
                sd_bus_error_free(&error);
                sd_bus_message_unref(reply);
                sd_bus_message_unref(m);
                usleep(interval_ms * 1000);
        }
        printf("probe: %u calls, %u failed, %u slower than %.1f s, max %.3f s, mean %.3f s\n", n, failed, slow,
               max_latency, (double) max_usec / USEC_PER_SEC, n ? (double) total_usec / n / USEC_PER_SEC : 0.0);
        sd_bus_flush_close_unref(bus);
        return failed || slow || n == 0 ? 1 : 0;
}

static void usage(FILE *out, const char *argv0) {
        fprintf(out,
                "Usage: %s vanish [--clients N] [--concurrency C] [--calls K] [--seed S] [--call SPEC]...\n"
                "       %s flood [--calls N] [--timeout SECS] [--call SPEC]...\n"
                "       %s storm [--clients N] [--calls K] [--timeout SECS] [--call SPEC]...\n"
                "       %s hold [--calls N] [--timeout SECS] --call SPEC [--then SPEC]\n"
                "       %s probe [--duration SECS] [--interval MS] [--max-latency SECS] [--stop-file FILE] [--call SPEC]\n"
                "SPEC: \"PATH INTERFACE.MEMBER [SIGNATURE [ARG...]]\" (basic types only)\n",
                argv0, argv0, argv0, argv0, argv0);
}

int main(int argc, char **argv) {
        if (argc < 2) {
                usage(stderr, argv[0]);
                return 2;
        }
        const char *mode = argv[1];
        unsigned clients = 300, concurrency = 50, calls = 0;
        double timeout_secs = 30, duration = 10, max_latency = 2;
        unsigned interval_ms = 100;
        const char *dest = WINVM_BUS_NAME, *then_text = NULL, *stop_file = NULL;
        GPtrArray *spec_texts = g_ptr_array_new();
        enum { O_CLIENTS = 256, O_CONCURRENCY, O_CALLS, O_SEED, O_CALL, O_THEN, O_TIMEOUT, O_DEST, O_DURATION,
               O_INTERVAL, O_MAX_LATENCY, O_STOP_FILE };
        static const struct option options[] = {
                { "clients", required_argument, NULL, O_CLIENTS }, { "concurrency", required_argument, NULL, O_CONCURRENCY },
                { "calls", required_argument, NULL, O_CALLS },     { "seed", required_argument, NULL, O_SEED },
                { "call", required_argument, NULL, O_CALL },       { "then", required_argument, NULL, O_THEN },
                { "timeout", required_argument, NULL, O_TIMEOUT }, { "dest", required_argument, NULL, O_DEST },
                { "duration", required_argument, NULL, O_DURATION }, { "interval", required_argument, NULL, O_INTERVAL },
                { "max-latency", required_argument, NULL, O_MAX_LATENCY }, { "stop-file", required_argument, NULL, O_STOP_FILE },
                { "help", no_argument, NULL, 'h' },                {},
        };
        optind = 2;
        int c;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (c) {
                case O_CLIENTS:
                        clients = (unsigned) strtoul(optarg, NULL, 10);
                        break;
                case O_CONCURRENCY:
                        concurrency = (unsigned) strtoul(optarg, NULL, 10);
                        break;
                case O_CALLS:
                        calls = (unsigned) strtoul(optarg, NULL, 10);
                        break;
                case O_SEED:
                        rng_state = strtoull(optarg, NULL, 10);
                        break;
                case O_CALL:
                        g_ptr_array_add(spec_texts, optarg);
                        break;
                case O_THEN:
                        then_text = optarg;
                        break;
                case O_TIMEOUT:
                        timeout_secs = strtod(optarg, NULL);
                        break;
                case O_DEST:
                        dest = optarg;
                        break;
                case O_DURATION:
                        duration = strtod(optarg, NULL);
                        break;
                case O_INTERVAL:
                        interval_ms = (unsigned) strtoul(optarg, NULL, 10);
                        break;
                case O_MAX_LATENCY:
                        max_latency = strtod(optarg, NULL);
                        break;
                case O_STOP_FILE:
                        stop_file = optarg;
                        break;
                case 'h':
                        usage(stdout, argv[0]);
                        return 0;
                default:
                        usage(stderr, argv[0]);
                        return 2;
                }
        }
        if (optind < argc || concurrency == 0 || concurrency > 200 || timeout_secs <= 0) {
                usage(stderr, argv[0]);
                return 2;
        }
        if (spec_texts->len == 0 && strcmp(mode, "probe") == 0)
                g_ptr_array_add(spec_texts, VM_PATH " org.freedesktop.DBus.Properties.Get ss org.winvm1.VM State");
        else if (spec_texts->len == 0)
                for (const char *const *d = default_calls; *d; d++)
                        g_ptr_array_add(spec_texts, (char *) *d);
        size_t n_specs = spec_texts->len;
        Spec *specs = calloc(n_specs, sizeof(Spec));
        for (size_t i = 0; i < n_specs; i++)
                if (!parse_spec(spec_texts->pdata[i], &specs[i])) {
                        fprintf(stderr, "bus-abuse: bad call spec '%s'\n", (char *) spec_texts->pdata[i]);
                        return 2;
                }
        Spec then = {};
        if (then_text && !parse_spec(then_text, &then)) {
                fprintf(stderr, "bus-abuse: bad call spec '%s'\n", then_text);
                return 2;
        }
        uint64_t timeout = (uint64_t) (timeout_secs * USEC_PER_SEC);

        int r;
        if (strcmp(mode, "vanish") == 0)
                r = mode_vanish(dest, specs, n_specs, clients, concurrency, calls ? calls : 3);
        else if (strcmp(mode, "flood") == 0)
                r = mode_flood(dest, specs, n_specs, calls ? calls : 5000, timeout, NULL);
        else if (strcmp(mode, "storm") == 0)
                r = mode_storm(dest, specs, n_specs, clients, calls ? calls : 20000, timeout);
        else if (strcmp(mode, "hold") == 0)
                r = mode_flood(dest, specs, n_specs, calls ? calls : 32, timeout, then_text ? &then : NULL);
        else if (strcmp(mode, "probe") == 0)
                r = mode_probe(dest, &specs[0], duration, interval_ms, max_latency, stop_file);
        else {
                usage(stderr, argv[0]);
                r = 2;
        }
        for (size_t i = 0; i < n_specs; i++) {
                g_free(specs[i].path);
                g_free(specs[i].interface);
                g_free(specs[i].member);
                g_free(specs[i].signature);
                g_strfreev(specs[i].args);
        }
        free(specs);
        g_free(then.path);
        g_free(then.interface);
        g_free(then.member);
        g_free(then.signature);
        g_strfreev(then.args);
        g_ptr_array_unref(spec_texts);
        return r;
}
