/* bus-bench: a load generator for winvmd on sd-bus.
 *
 * N concurrent clients, each a thread with its own system bus connection, call one thing in
 * a closed loop (the next call goes out when the reply is in) and time every call. Measured:
 *   - the floor, org.freedesktop.DBus.Peer.Ping to winvmd (answered inside sd-bus);
 *   - winvmd's reads: Properties.Get of the VM's State, Properties.GetAll on the VM, and
 *     ObjectManager.GetManagedObjects on /org/winvm1;
 *   - the peer, org.libvirt.Domain.GetState through libvirt-dbus, for the same guest.
 * Also the cold start (bus activation of winvmd up to the first reply) and the resident
 * memory of the bus names' owners and of bench/libvirt-floor (the memory floor). Figures go
 * to stdout and, as tab-separated rows, to a results file that `bus-bench report` turns into
 * the table with ratios and targets.
 *
 * It is a benchmark: it never fails on figures. It exits non-zero only when it cannot
 * measure (bad usage, no bus, a call kind that never succeeds).
 *
 * bench/run-bus-bench runs it inside the sandbox; see bench/README.md. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-bus.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

#define WINVM_NAME "org.winvm1"
#define WINVM_ROOT "/org/winvm1"
#define WINVM_VM_PREFIX "/org/winvm1/vm"
#define LIBVIRT_NAME "org.libvirt"
#define LIBVIRT_QEMU "/org/libvirt/QEMU"
#define FLOOR_NAME "libvirt-floor" /* bench/libvirt-floor, in the memory figures */
#define PROPERTIES "org.freedesktop.DBus.Properties"

/* The targets of issue 8. */
#define TARGET_FLOOR_RATIO 1.3      /* read p50 / Ping p50, at most */
#define TARGET_PEER_RATIO 2.0       /* read calls/s / libvirt-dbus calls/s, at least */
#define TARGET_COLD_MS 50.0         /* cold start, under */
#define TARGET_RSS_MIB 10.0         /* winvmd's idle VmRSS, under */

#define MAX_CLIENTS 256
#define MAX_ROWS 512
#define CALL_TIMEOUT_USEC (30ULL * 1000000ULL)

typedef enum Kind {
        KIND_PING,
        KIND_GET_STATE,
        KIND_GET_ALL,
        KIND_MANAGED_OBJECTS,
        KIND_LIBVIRT_GET_STATE,
        _KIND_MAX,
} Kind;

static const struct {
        const char *id;          /* in the results file and --kinds */
        const char *title;       /* in the tables */
        const char *reply_sig;   /* what a good reply carries */
        bool winvmd_read;        /* judged against the targets */
} kinds[_KIND_MAX] = {
        [KIND_PING] = { "ping", "Peer.Ping to winvmd (floor)", "", false },
        [KIND_GET_STATE] = { "get-state", "winvmd Get VM.State", "v", true },
        [KIND_GET_ALL] = { "get-all", "winvmd GetAll VM", "a{sv}", true },
        [KIND_MANAGED_OBJECTS] = { "managed-objects", "winvmd GetManagedObjects", "a{oa{sa{sv}}}", true },
        [KIND_LIBVIRT_GET_STATE] = { "libvirt-get-state", "libvirt-dbus Domain.GetState", "(ii)", false },
};

/* One measured case: a call kind at a number of clients, under a label ("idle", "scrub"). */
typedef struct Row {
        char label[64];
        unsigned clients;
        Kind kind;
        uint64_t n;              /* calls timed */
        uint64_t errors;
        double p50_us, p99_us;
        double calls_per_s;
} Row;

typedef struct Targets {
        char vm_path[256];
        char libvirt_path[256];  /* empty: libvirt-dbus not reachable, its rows are skipped */
} Targets;

typedef struct Run {
        const Targets *targets;
        Kind kind;
        double seconds;
        unsigned warmup;
        pthread_barrier_t barrier;
} Run;

typedef struct Client {
        pthread_t thread;
        Run *run;
        uint64_t *lat;           /* nanoseconds, one per successful timed call */
        size_t n, cap;
        uint64_t errors;
        uint64_t start_ns, end_ns;
        char first_error[256];
        int setup_r;             /* < 0: could not connect, no figures */
} Client;

static const char *arg_results = NULL;
static const char *arg_vm = "Windows11";
static const char *arg_label = "idle";
static const char *arg_kinds = NULL;
static unsigned arg_clients[16] = { 1, 4, 16 };
static size_t arg_n_clients = 3;
static double arg_seconds = 3.0;
/* Short slices, interleaved: a drift of the machine (CPU idle states, its host) falls on
 * every kind alike, so the ratios to the floor do not depend on which kind ran when. */
static unsigned arg_rounds = 15;
static unsigned arg_warmup = 200;

static uint64_t now_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}

static void bus_closep(sd_bus **bus) {
        *bus = sd_bus_flush_close_unref(*bus);
}

static int open_bus(sd_bus **ret) {
        _cleanup_(bus_closep) sd_bus *bus = NULL;
        int r = sd_bus_open_system(&bus); /* a new connection each time; honours DBUS_SYSTEM_BUS_ADDRESS */
        if (r < 0)
                return r;
        /* Wait for Hello here, so the first timed call does not include it. */
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                               "GetId", &error, &reply, "");
        if (r < 0)
                return r;
        *ret = bus;
        bus = NULL;
        return 0;
}

/* The message for one call of KIND. */
static int new_call(sd_bus *bus, const Targets *t, Kind kind, sd_bus_message **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        switch (kind) {
        case KIND_PING:
                r = sd_bus_message_new_method_call(bus, &m, WINVM_NAME, WINVM_ROOT, "org.freedesktop.DBus.Peer", "Ping");
                break;
        case KIND_GET_STATE:
                r = sd_bus_message_new_method_call(bus, &m, WINVM_NAME, t->vm_path, PROPERTIES, "Get");
                if (r >= 0)
                        r = sd_bus_message_append(m, "ss", "org.winvm1.VM", "State");
                break;
        case KIND_GET_ALL:
                r = sd_bus_message_new_method_call(bus, &m, WINVM_NAME, t->vm_path, PROPERTIES, "GetAll");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", "org.winvm1.VM");
                break;
        case KIND_MANAGED_OBJECTS:
                r = sd_bus_message_new_method_call(bus, &m, WINVM_NAME, WINVM_ROOT,
                                                   "org.freedesktop.DBus.ObjectManager", "GetManagedObjects");
                break;
        case KIND_LIBVIRT_GET_STATE:
                r = sd_bus_message_new_method_call(bus, &m, LIBVIRT_NAME, t->libvirt_path, "org.libvirt.Domain",
                                                   "GetState");
                if (r >= 0)
                        r = sd_bus_message_append(m, "u", 0);
                break;
        default:
                r = -EINVAL;
        }
        if (r < 0)
                return r;
        *ret = m;
        m = NULL;
        return 0;
}

/* One call, checked: an error reply or a reply of the wrong type counts as an error. */
static int one_call(sd_bus *bus, const Targets *t, Kind kind, char *errbuf, size_t errlen) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r = new_call(bus, t, kind, &m);
        if (r >= 0)
                r = sd_bus_call(bus, m, CALL_TIMEOUT_USEC, &error, &reply);
        if (r < 0) {
                snprintf(errbuf, errlen, "%s", error.message ? error.message : strerror(-r));
                return r;
        }
        const char *sig = sd_bus_message_get_signature(reply, true);
        if (!sig || strcmp(sig, kinds[kind].reply_sig) != 0) {
                snprintf(errbuf, errlen, "reply of type '%s', expected '%s'", sig ? sig : "?", kinds[kind].reply_sig);
                return -EBADMSG;
        }
        return 0;
}

static int lat_push(Client *c, uint64_t ns) {
        if (c->n == c->cap) {
                size_t cap = c->cap ? c->cap * 2 : 16384;
                uint64_t *p = realloc(c->lat, cap * sizeof(*p));
                if (!p)
                        return -ENOMEM;
                c->lat = p;
                c->cap = cap;
        }
        c->lat[c->n++] = ns;
        return 0;
}

static void client_error(Client *c, const char *msg) {
        c->errors++;
        if (!c->first_error[0])
                snprintf(c->first_error, sizeof(c->first_error), "%s", msg);
}

static void *client_main(void *userdata) {
        Client *c = userdata;
        Run *run = c->run;
        _cleanup_(bus_closep) sd_bus *bus = NULL;
        char err[256];

        c->setup_r = open_bus(&bus);
        if (c->setup_r < 0) {
                snprintf(err, sizeof(err), "cannot connect to the system bus: %s", strerror(-c->setup_r));
                client_error(c, err);
        }
        /* Warm-up, not timed: the first read of each connection pays winvmd's polkit check
         * (later ones hit its per-connection cache), and caches and pages settle. */
        for (unsigned i = 0; c->setup_r >= 0 && i < run->warmup; i++)
                if (one_call(bus, run->targets, run->kind, err, sizeof(err)) < 0) {
                        client_error(c, err);
                        break;
                }
        pthread_barrier_wait(&run->barrier);
        if (c->errors > 0)
                return NULL;

        uint64_t deadline = now_ns() + (uint64_t) (run->seconds * 1e9);
        c->start_ns = now_ns();
        for (;;) {
                uint64_t t0 = now_ns();
                int r = one_call(bus, run->targets, run->kind, err, sizeof(err));
                uint64_t t1 = now_ns();
                if (r < 0)
                        client_error(c, err);
                else if (lat_push(c, t1 - t0) < 0) {
                        client_error(c, "out of memory");
                        break;
                }
                if (t1 >= deadline)
                        break;
        }
        c->end_ns = now_ns();
        return NULL;
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
        return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v (n > 0). */
static double percentile_us(const uint64_t *v, size_t n, double p) {
        size_t rank = (size_t) ceil(p * (double) n);
        if (rank < 1)
                rank = 1;
        if (rank > n)
                rank = n;
        return (double) v[rank - 1] / 1000.0;
}

/* The figures of one case, gathered over its rounds. */
typedef struct Sample {
        uint64_t *lat;           /* nanoseconds */
        size_t n, cap;
        uint64_t errors;
        double seconds;          /* timed wall-clock time, summed over the rounds */
        bool reported;           /* its first error was printed */
} Sample;

/* One slice of a case: KIND with CLIENTS concurrent clients for SECONDS; adds the
 * latencies, errors and elapsed time to ACC. */
static int measure_slice(const Targets *t, Kind kind, unsigned clients, double seconds, Sample *acc) {
        Run run = { .targets = t, .kind = kind, .seconds = seconds, .warmup = arg_warmup };
        Client *c = calloc(clients, sizeof(Client));
        int r = 0;

        if (!c)
                return -ENOMEM;
        pthread_barrier_init(&run.barrier, NULL, clients);
        for (size_t i = 0; i < clients; i++) {
                c[i].run = &run;
                r = -pthread_create(&c[i].thread, NULL, client_main, &c[i]);
                if (r < 0) {
                        /* The barrier would wait for the missing thread for ever. */
                        fprintf(stderr, "bus-bench: cannot start client threads: %s\n", strerror(-r));
                        abort();
                }
        }

        uint64_t start = UINT64_MAX, end = 0;
        const char *first_error = NULL;
        size_t total = 0;
        for (size_t i = 0; i < clients; i++) {
                pthread_join(c[i].thread, NULL);
                total += c[i].n;
                acc->errors += c[i].errors;
                if (c[i].first_error[0] && !first_error)
                        first_error = c[i].first_error;
                if (c[i].n > 0) {
                        if (c[i].start_ns < start)
                                start = c[i].start_ns;
                        if (c[i].end_ns > end)
                                end = c[i].end_ns;
                }
        }
        pthread_barrier_destroy(&run.barrier);
        if (first_error && !acc->reported) {
                fprintf(stderr, "bus-bench: %s with %u client%s: errors, the first: %s\n", kinds[kind].id, clients,
                        clients == 1 ? "" : "s", first_error);
                acc->reported = true;
        }

        if (acc->n + total > acc->cap) {
                size_t cap = acc->n + total + acc->n / 2 + 1024;
                uint64_t *p = realloc(acc->lat, cap * sizeof(uint64_t));
                if (!p)
                        r = -ENOMEM;
                else {
                        acc->lat = p;
                        acc->cap = cap;
                }
        }
        for (size_t i = 0; i < clients; i++) {
                if (r >= 0) {
                        memcpy(acc->lat + acc->n, c[i].lat, c[i].n * sizeof(uint64_t));
                        acc->n += c[i].n;
                }
                free(c[i].lat);
        }
        if (r >= 0 && end > start)
                acc->seconds += (double) (end - start) / 1e9;
        free(c);
        return r;
}

/* ROW from the sample of KIND at CLIENTS. */
static void sample_to_row(Sample *acc, Kind kind, unsigned clients, Row *row) {
        *row = (Row) { .clients = clients, .kind = kind, .n = acc->n, .errors = acc->errors };
        snprintf(row->label, sizeof(row->label), "%s", arg_label);
        if (acc->n == 0)
                return;
        qsort(acc->lat, acc->n, sizeof(uint64_t), cmp_u64);
        row->p50_us = percentile_us(acc->lat, acc->n, 0.50);
        row->p99_us = percentile_us(acc->lat, acc->n, 0.99);
        row->calls_per_s = acc->seconds > 0 ? (double) acc->n / acc->seconds : 0;
}

/* --- results file ---------------------------------------------------------------------- */

static FILE *results_open(void) {
        if (!arg_results)
                return NULL;
        FILE *f = fopen(arg_results, "ae");
        if (!f)
                fprintf(stderr, "bus-bench: cannot append to %s: %m\n", arg_results);
        return f;
}

static void results_row(FILE *f, const Row *row) {
        if (f)
                fprintf(f, "call\t%s\t%u\t%s\t%" PRIu64 "\t%" PRIu64 "\t%.1f\t%.1f\t%.1f\n", row->label, row->clients,
                        kinds[row->kind].id, row->n, row->errors, row->p50_us, row->p99_us, row->calls_per_s);
}

static int kind_from_id(const char *id) {
        for (int k = 0; k < _KIND_MAX; k++)
                if (strcmp(kinds[k].id, id) == 0)
                        return k;
        return -1;
}

/* --- tables ----------------------------------------------------------------------------- */

static const Row *find_row(const Row *rows, size_t n, const char *label, unsigned clients, Kind kind) {
        for (size_t i = 0; i < n; i++)
                if (rows[i].kind == kind && rows[i].clients == clients && strcmp(rows[i].label, label) == 0 &&
                    rows[i].n > 0)
                        return &rows[i];
        return NULL;
}

static const char *verdict(bool met) {
        return met ? "met" : "MISSED";
}

typedef struct Tally {
        unsigned floor_met, floor_total, peer_met, peer_total;
        double floor_worst, peer_worst;
        char floor_worst_what[128], peer_worst_what[128];
} Tally;

/* Prints the rows of LABEL as a table, with each read's ratios to the floor and to the
 * peer at the same number of clients; counts the verdicts into TALLY (may be NULL). */
static void print_table(const Row *rows, size_t n, const char *label, Tally *tally) {
        printf("\n== %s ==\n", label);
        printf("%-30s %7s %8s %9s %9s %10s  %-21s  %-21s\n", "call", "clients", "calls", "p50 us", "p99 us",
               "calls/s", "p50 / floor (<=1.3)", "calls/s / peer (>=2)");
        for (size_t i = 0; i < n; i++) {
                const Row *r = &rows[i];
                char floor_col[32] = "", peer_col[32] = "", errs[48] = "";
                if (strcmp(r->label, label) != 0)
                        continue;
                if (r->errors > 0)
                        snprintf(errs, sizeof(errs), "  (%" PRIu64 " errors)", r->errors);
                if (r->n == 0) {
                        printf("%-30s %7u %8s %9s %9s %10s  no successful call%s\n", kinds[r->kind].title, r->clients,
                               "-", "-", "-", "-", errs);
                        continue;
                }
                if (kinds[r->kind].winvmd_read) {
                        const Row *fl = find_row(rows, n, label, r->clients, KIND_PING);
                        const Row *peer = find_row(rows, n, label, r->clients, KIND_LIBVIRT_GET_STATE);
                        if (fl && fl->p50_us > 0) {
                                double ratio = r->p50_us / fl->p50_us;
                                bool met = ratio <= TARGET_FLOOR_RATIO;
                                snprintf(floor_col, sizeof(floor_col), "%.2fx %s", ratio, verdict(met));
                                if (tally) {
                                        tally->floor_total++;
                                        tally->floor_met += met;
                                        if (ratio > tally->floor_worst) {
                                                tally->floor_worst = ratio;
                                                snprintf(tally->floor_worst_what, sizeof(tally->floor_worst_what),
                                                         "%s, %u client%s, %s", kinds[r->kind].id, r->clients,
                                                         r->clients == 1 ? "" : "s", label);
                                        }
                                }
                        } else
                                snprintf(floor_col, sizeof(floor_col), "n/a");
                        if (peer && peer->calls_per_s > 0) {
                                double ratio = r->calls_per_s / peer->calls_per_s;
                                bool met = ratio >= TARGET_PEER_RATIO;
                                snprintf(peer_col, sizeof(peer_col), "%.2fx %s", ratio, verdict(met));
                                if (tally) {
                                        tally->peer_total++;
                                        tally->peer_met += met;
                                        if (tally->peer_worst == 0 || ratio < tally->peer_worst) {
                                                tally->peer_worst = ratio;
                                                snprintf(tally->peer_worst_what, sizeof(tally->peer_worst_what),
                                                         "%s, %u client%s, %s", kinds[r->kind].id, r->clients,
                                                         r->clients == 1 ? "" : "s", label);
                                        }
                                }
                        } else
                                snprintf(peer_col, sizeof(peer_col), "n/a");
                } else {
                        snprintf(floor_col, sizeof(floor_col), r->kind == KIND_PING ? "(floor)" : "-");
                        snprintf(peer_col, sizeof(peer_col), r->kind == KIND_LIBVIRT_GET_STATE ? "(peer)" : "-");
                }
                printf("%-30s %7u %8" PRIu64 " %9.1f %9.1f %10.0f  %-21s  %-21s%s\n", kinds[r->kind].title, r->clients,
                       r->n, r->p50_us, r->p99_us, r->calls_per_s, floor_col, peer_col, errs);
        }
}

/* --- commands --------------------------------------------------------------------------- */

static bool kind_selected(Kind k) {
        if (!arg_kinds)
                return true;
        size_t len = strlen(kinds[k].id);
        for (const char *p = arg_kinds; (p = strstr(p, kinds[k].id)); p += len)
                if ((p == arg_kinds || p[-1] == ',') && (p[len] == ',' || p[len] == '\0'))
                        return true;
        return false;
}

static int resolve_targets(Targets *t, bool *peer_ok) {
        _cleanup_(bus_closep) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        char *vm_path = NULL;
        const char *path;

        int r = sd_bus_path_encode(WINVM_VM_PREFIX, arg_vm, &vm_path);
        if (r < 0)
                return r;
        snprintf(t->vm_path, sizeof(t->vm_path), "%s", vm_path);
        free(vm_path);

        if ((r = open_bus(&bus)) < 0) {
                fprintf(stderr, "bus-bench: cannot connect to the system bus: %s\n", strerror(-r));
                return r;
        }
        /* libvirt-dbus names a domain by its UUID; ask it for the path of ours. */
        *peer_ok = false;
        if (!kind_selected(KIND_LIBVIRT_GET_STATE))
                return 0;
        r = sd_bus_call_method(bus, LIBVIRT_NAME, LIBVIRT_QEMU, "org.libvirt.Connect", "DomainLookupByName", &error,
                               &reply, "s", arg_vm);
        if (r >= 0)
                r = sd_bus_message_read(reply, "o", &path);
        if (r < 0) {
                fprintf(stderr, "bus-bench: libvirt-dbus does not answer DomainLookupByName(%s): %s; no peer figures\n",
                        arg_vm, error.message ? error.message : strerror(-r));
                return 0;
        }
        snprintf(t->libvirt_path, sizeof(t->libvirt_path), "%s", path);
        *peer_ok = true;
        return 0;
}

static int cmd_run(void) {
        static Sample samples[ELEMENTSOF(arg_clients)][_KIND_MAX];
        Targets t = {};
        bool peer_ok = false;
        Row rows[MAX_ROWS];
        size_t n = 0;
        bool broken = false;

        int r = resolve_targets(&t, &peer_ok);
        if (r < 0)
                return EXIT_FAILURE;
        printf("bus-bench: %s; per case %.1f s timed in %u rounds, each after %u warm-up calls per client; uid %u; "
               "VM %s",
               arg_label, arg_seconds, arg_rounds, arg_warmup, (unsigned) getuid(), t.vm_path);
        if (peer_ok)
                printf(", libvirt-dbus %s", t.libvirt_path);
        printf("\n");
        fflush(stdout);

        /* Rounds interleave the kinds (A B C D E A B C D E ...), so that a slow spell of the
         * machine spreads over all of them instead of skewing one against the others. */
        for (unsigned round = 0; round < arg_rounds; round++)
                for (size_t ci = 0; ci < arg_n_clients; ci++) {
                        fprintf(stderr, "bus-bench: %s, round %u of %u, %u client%s...\n", arg_label, round + 1,
                                arg_rounds, arg_clients[ci], arg_clients[ci] == 1 ? "" : "s");
                        for (Kind k = 0; k < _KIND_MAX; k++) {
                                if (!kind_selected(k) || (k == KIND_LIBVIRT_GET_STATE && !peer_ok))
                                        continue;
                                r = measure_slice(&t, k, arg_clients[ci], arg_seconds / arg_rounds, &samples[ci][k]);
                                if (r < 0) {
                                        fprintf(stderr, "bus-bench: %s: %s\n", kinds[k].id, strerror(-r));
                                        return EXIT_FAILURE;
                                }
                        }
                }

        FILE *f = results_open();
        for (size_t ci = 0; ci < arg_n_clients; ci++)
                for (Kind k = 0; k < _KIND_MAX; k++) {
                        if (!kind_selected(k) || (k == KIND_LIBVIRT_GET_STATE && !peer_ok) || n >= MAX_ROWS)
                                continue;
                        sample_to_row(&samples[ci][k], k, arg_clients[ci], &rows[n]);
                        if (rows[n].n == 0 && k != KIND_LIBVIRT_GET_STATE)
                                broken = true;
                        results_row(f, &rows[n]);
                        n++;
                        free(samples[ci][k].lat);
                        samples[ci][k] = (Sample) {};
                }
        if (f)
                fclose(f);
        print_table(rows, n, arg_label, NULL);
        return broken ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* Cold start: with org.winvm1 unowned, the time from sending Get(State) (with the
 * auto-start flag, so the bus activates winvmd) to its reply. The connection is made
 * first and not timed. */
static int cmd_cold_start(void) {
        _cleanup_(bus_closep) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL, *owned = NULL;
        Targets t = {};
        char *vm_path = NULL;
        const char *state = "?";
        int has_owner = 0;

        int r = sd_bus_path_encode(WINVM_VM_PREFIX, arg_vm, &vm_path);
        if (r < 0)
                return EXIT_FAILURE;
        snprintf(t.vm_path, sizeof(t.vm_path), "%s", vm_path);
        free(vm_path);
        if ((r = open_bus(&bus)) < 0) {
                fprintf(stderr, "bus-bench: cannot connect to the system bus: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }
        r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                               "NameHasOwner", &error, &owned, "s", WINVM_NAME);
        if (r >= 0)
                r = sd_bus_message_read(owned, "b", &has_owner);
        if (r < 0 || has_owner) {
                fprintf(stderr, "bus-bench: %s\n", r < 0 ? "NameHasOwner failed" : WINVM_NAME " is owned: stop winvmd first");
                return EXIT_FAILURE;
        }

        if ((r = new_call(bus, &t, KIND_GET_STATE, &m)) < 0 || (r = sd_bus_message_set_auto_start(m, true)) < 0)
                return EXIT_FAILURE;
        uint64_t t0 = now_ns();
        r = sd_bus_call(bus, m, CALL_TIMEOUT_USEC, &error, &reply);
        uint64_t t1 = now_ns();
        if (r < 0) {
                fprintf(stderr, "bus-bench: cold Get(State) failed after %.1f ms: %s\n", (double) (t1 - t0) / 1e6,
                        error.message ? error.message : strerror(-r));
                return EXIT_FAILURE;
        }
        (void) sd_bus_message_read(reply, "v", "s", &state);
        printf("cold start: %.1f ms from the first Get(State) to its reply (State '%s')\n", (double) (t1 - t0) / 1e6,
               state);
        FILE *f = results_open();
        if (f) {
                fprintf(f, "cold\t%.3f\t%s\n", (double) (t1 - t0) / 1e6, state);
                fclose(f);
        }
        return EXIT_SUCCESS;
}

/* Reads "Key:   N kB" from /proc/PID/FILE. */
static long proc_kib(unsigned pid, const char *file, const char *key) {
        char path[64], line[256];
        long v = -1;
        snprintf(path, sizeof(path), "/proc/%u/%s", pid, file);
        FILE *f = fopen(path, "re");
        if (!f)
                return -1;
        size_t len = strlen(key);
        while (fgets(line, sizeof(line), f))
                if (strncmp(line, key, len) == 0 && line[len] == ':') {
                        v = strtol(line + len + 1, NULL, 10);
                        break;
                }
        fclose(f);
        return v;
}

/* Resident memory of each bus name's owner (VmRSS from /proc). */
static int cmd_rss(char **names, int n_names) {
        _cleanup_(bus_closep) sd_bus *bus = NULL;
        int r = open_bus(&bus), ret = EXIT_SUCCESS;
        if (r < 0) {
                fprintf(stderr, "bus-bench: cannot connect to the system bus: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }
        FILE *f = results_open();
        for (int i = 0; i < n_names; i++) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
                uint32_t pid = 0;
                char name[64];
                const char *eq = strchr(names[i], '=');
                if (eq) {
                        /* NAME=PID: a process that is not on the bus (the libvirt floor). */
                        snprintf(name, sizeof(name), "%.*s", (int) (eq - names[i]), names[i]);
                        pid = (uint32_t) strtoul(eq + 1, NULL, 10);
                        r = pid > 0 ? 0 : -EINVAL;
                } else {
                        snprintf(name, sizeof(name), "%s", names[i]);
                        r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                               "org.freedesktop.DBus", "GetConnectionUnixProcessID", &error, &reply,
                                               "s", names[i]);
                        if (r >= 0)
                                r = sd_bus_message_read(reply, "u", &pid);
                }
                long rss = r >= 0 ? proc_kib(pid, "status", "VmRSS") : -1;
                if (rss < 0) {
                        fprintf(stderr, "bus-bench: no resident size for %s: %s\n", names[i],
                                error.message ? error.message : "cannot read /proc");
                        ret = EXIT_FAILURE;
                        continue;
                }
                /* For the record: how much of it is the process's own, and its proportional
                 * share (Pss) of pages it shares with others, such as libraries. */
                long anon = proc_kib(pid, "status", "RssAnon"), file = proc_kib(pid, "status", "RssFile");
                long pss = proc_kib(pid, "smaps_rollup", "Pss");
                printf("%s (pid %u): VmRSS %.1f MiB (anonymous %.1f MiB, file-backed %.1f MiB; Pss %.1f MiB)\n",
                       name, pid, rss / 1024.0, anon / 1024.0, file / 1024.0, pss / 1024.0);
                if (f)
                        fprintf(f, "rss\t%s\t%s\t%u\t%ld\t%ld\t%ld\t%ld\n", arg_label, name, pid, rss, anon,
                                file, pss);
        }
        if (f)
                fclose(f);
        return ret;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return x < y ? -1 : x > y;
}

/* The whole run from the results file: a table per label, cold start, memory, targets. */
static int cmd_report(const char *path) {
        static Row rows[MAX_ROWS];
        char labels[16][64];
        size_t n = 0, n_labels = 0, n_cold = 0;
        double cold[256];
        char cold_state[64] = "";
        struct { char label[64], name[64]; long kib, anon, file, pss; } rss[16];
        size_t n_rss = 0;
        char line[1024];

        FILE *f = fopen(path, "re");
        if (!f) {
                fprintf(stderr, "bus-bench: cannot read %s: %m\n", path);
                return EXIT_FAILURE;
        }
        printf("bus-bench report\n");
        while (fgets(line, sizeof(line), f)) {
                char *fields[10] = {};
                size_t nf = 0;
                line[strcspn(line, "\n")] = '\0';
                for (char *save = NULL, *tok = strtok_r(line, "\t", &save); tok && nf < ELEMENTSOF(fields);
                     tok = strtok_r(NULL, "\t", &save))
                        fields[nf++] = tok;
                if (nf == 9 && strcmp(fields[0], "call") == 0 && n < MAX_ROWS) {
                        int k = kind_from_id(fields[3]);
                        if (k < 0)
                                continue;
                        Row *r = &rows[n++];
                        snprintf(r->label, sizeof(r->label), "%s", fields[1]);
                        r->clients = (unsigned) strtoul(fields[2], NULL, 10);
                        r->kind = k;
                        r->n = strtoull(fields[4], NULL, 10);
                        r->errors = strtoull(fields[5], NULL, 10);
                        r->p50_us = strtod(fields[6], NULL);
                        r->p99_us = strtod(fields[7], NULL);
                        r->calls_per_s = strtod(fields[8], NULL);
                        bool seen = false;
                        for (size_t i = 0; i < n_labels; i++)
                                seen |= strcmp(labels[i], r->label) == 0;
                        if (!seen && n_labels < ELEMENTSOF(labels))
                                snprintf(labels[n_labels++], sizeof(labels[0]), "%s", r->label);
                } else if (nf >= 2 && strcmp(fields[0], "cold") == 0 && n_cold < ELEMENTSOF(cold)) {
                        cold[n_cold++] = strtod(fields[1], NULL);
                        if (nf >= 3)
                                snprintf(cold_state, sizeof(cold_state), "%s", fields[2]);
                } else if (nf == 8 && strcmp(fields[0], "rss") == 0 && n_rss < ELEMENTSOF(rss)) {
                        snprintf(rss[n_rss].label, sizeof(rss[0].label), "%s", fields[1]);
                        snprintf(rss[n_rss].name, sizeof(rss[0].name), "%s", fields[2]);
                        rss[n_rss].kib = strtol(fields[4], NULL, 10);
                        rss[n_rss].anon = strtol(fields[5], NULL, 10);
                        rss[n_rss].file = strtol(fields[6], NULL, 10);
                        rss[n_rss++].pss = strtol(fields[7], NULL, 10);
                } else if (nf >= 2 && strcmp(fields[0], "note") == 0)
                        printf("note: %s\n", fields[1]);
        }
        fclose(f);

        Tally tally = {};
        for (size_t i = 0; i < n_labels; i++)
                print_table(rows, n, labels[i], &tally);

        printf("\n== cold start (bus activation of winvmd to the first reply) ==\n");
        double cold_median = NAN, cold_worst = NAN;
        if (n_cold > 0) {
                printf("each run, ms:");
                for (size_t i = 0; i < n_cold; i++)
                        printf(" %.1f", cold[i]);
                printf("\n");
                qsort(cold, n_cold, sizeof(double), cmp_double);
                cold_median = n_cold % 2 ? cold[n_cold / 2] : (cold[n_cold / 2 - 1] + cold[n_cold / 2]) / 2;
                cold_worst = cold[n_cold - 1];
                printf("%zu runs: median %.1f ms, best %.1f ms, worst %.1f ms (the first reply read State '%s')\n",
                       n_cold, cold_median, cold[0], cold_worst, cold_state);
        } else
                printf("not measured\n");

        printf("\n== idle resident memory (VmRSS) ==\n");
        long winvmd_kib = -1, peer_kib = -1, floor_kib = -1;
        for (size_t i = 0; i < n_rss; i++) {
                printf("%-13s %-20s VmRSS %5.1f MiB  (anonymous %.1f MiB, file-backed %.1f MiB; Pss %.1f MiB)\n",
                       rss[i].name, rss[i].label, rss[i].kib / 1024.0, rss[i].anon / 1024.0, rss[i].file / 1024.0,
                       rss[i].pss / 1024.0);
                if (strcmp(rss[i].name, WINVM_NAME) == 0)
                        winvmd_kib = rss[i].kib;
                else if (strcmp(rss[i].name, LIBVIRT_NAME) == 0)
                        peer_kib = rss[i].kib;
                else if (strcmp(rss[i].name, FLOOR_NAME) == 0)
                        floor_kib = rss[i].kib;
        }
        if (winvmd_kib > 0 && peer_kib > 0)
                printf("winvmd / libvirt-dbus: %.2fx\n", (double) winvmd_kib / (double) peer_kib);
        if (winvmd_kib > 0 && floor_kib > 0)
                printf("winvmd above %s (a process that only watches the guest through libvirt): %+.1f MiB\n",
                       FLOOR_NAME, (winvmd_kib - floor_kib) / 1024.0);

        printf("\n== targets ==\n");
        if (tally.floor_total > 0)
                printf("%-44s %-7s %u of %u cases; worst %.2fx (%s)\n", "reads p50 within 1.3x the Ping floor",
                       verdict(tally.floor_met == tally.floor_total), tally.floor_met, tally.floor_total,
                       tally.floor_worst, tally.floor_worst_what);
        else
                printf("%-44s %-7s\n", "reads p50 within 1.3x the Ping floor", "n/a");
        if (tally.peer_total > 0)
                printf("%-44s %-7s %u of %u cases; lowest %.2fx (%s)\n", "reads at least 2x libvirt-dbus's calls/s",
                       verdict(tally.peer_met == tally.peer_total), tally.peer_met, tally.peer_total, tally.peer_worst,
                       tally.peer_worst_what);
        else
                printf("%-44s %-7s\n", "reads at least 2x libvirt-dbus's calls/s", "n/a (no libvirt-dbus figures)");
        if (n_cold > 0)
                printf("%-44s %-7s median %.1f ms, worst %.1f ms\n", "cold start under 50 ms (median)",
                       verdict(cold_median < TARGET_COLD_MS), cold_median, cold_worst);
        else
                printf("%-44s %-7s\n", "cold start under 50 ms (median)", "n/a");
        if (winvmd_kib > 0) {
                char peer[48] = "not measured", floor[48] = "not measured";
                if (peer_kib > 0)
                        snprintf(peer, sizeof(peer), "%.1f MiB", peer_kib / 1024.0);
                if (floor_kib > 0)
                        snprintf(floor, sizeof(floor), "%.1f MiB", floor_kib / 1024.0);
                printf("%-44s %-7s %.1f MiB (libvirt-dbus %s; the libvirt floor %s)\n", "winvmd idle RSS under 10 MiB",
                       verdict(winvmd_kib / 1024.0 < TARGET_RSS_MIB), winvmd_kib / 1024.0, peer, floor);
        } else
                printf("%-44s %-7s\n", "winvmd idle RSS under 10 MiB", "n/a");
        return EXIT_SUCCESS;
}

static void help(void) {
        printf("Usage: bus-bench [OPTIONS] run | cold-start | rss NAME... | report FILE\n\n"
               "Load generator for winvmd on the system bus (DBUS_SYSTEM_BUS_ADDRESS). Run it through\n"
               "bench/run-bus-bench, which sets the scene in the sandbox.\n\n"
               "  run           time each call kind with each number of clients, print a table\n"
               "  cold-start    with org.winvm1 unowned: time Get(State) through bus activation\n"
               "  rss NAME...   VmRSS of each bus name's owner (NAME=PID: of that process)\n"
               "  report FILE   the whole run from a results file, with ratios and targets\n\n"
               "  --clients LIST   numbers of concurrent clients, comma-separated (default 1,4,16)\n"
               "  --seconds S      timed seconds per case (default 3)\n"
               "  --rounds N       split each case into N slices, interleaved with the others (default 15)\n"
               "  --warmup N       untimed calls per client before each slice (default 200)\n"
               "  --kinds LIST     only these: ping,get-state,get-all,managed-objects,libvirt-get-state\n"
               "  --label TEXT     names the conditions (default idle), in tables and results\n"
               "  --vm NAME        the VM (default Windows11)\n"
               "  --results FILE   append the figures to FILE (tab-separated)\n");
}

static int parse_clients(const char *s) {
        arg_n_clients = 0;
        for (const char *p = s; *p;) {
                char *end;
                errno = 0;
                unsigned long v = strtoul(p, &end, 10);
                if (errno || end == p || v < 1 || v > MAX_CLIENTS || arg_n_clients >= ELEMENTSOF(arg_clients) ||
                    (*end != ',' && *end != '\0'))
                        return -EINVAL;
                arg_clients[arg_n_clients++] = (unsigned) v;
                p = *end ? end + 1 : end;
        }
        return arg_n_clients > 0 ? 0 : -EINVAL;
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "clients", required_argument, NULL, 'c' },
                { "seconds", required_argument, NULL, 's' },
                { "warmup", required_argument, NULL, 'w' },
                { "rounds", required_argument, NULL, 'R' },
                { "kinds", required_argument, NULL, 'k' },
                { "label", required_argument, NULL, 'l' },
                { "vm", required_argument, NULL, 'v' },
                { "results", required_argument, NULL, 'r' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        int c;
        char *end;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'c':
                        if (parse_clients(optarg) < 0) {
                                fprintf(stderr, "bus-bench: bad --clients '%s' (1..%d, comma-separated)\n", optarg,
                                        MAX_CLIENTS);
                                return 2;
                        }
                        break;
                case 's':
                        arg_seconds = strtod(optarg, &end);
                        if (*end || !(arg_seconds > 0 && arg_seconds <= 3600)) {
                                fprintf(stderr, "bus-bench: bad --seconds '%s'\n", optarg);
                                return 2;
                        }
                        break;
                case 'w': {
                        unsigned long v = strtoul(optarg, &end, 10);
                        if (*end || v > 1000000) {
                                fprintf(stderr, "bus-bench: bad --warmup '%s'\n", optarg);
                                return 2;
                        }
                        arg_warmup = (unsigned) v;
                        break;
                }
                case 'R': {
                        unsigned long v = strtoul(optarg, &end, 10);
                        if (*end || v < 1 || v > 100) {
                                fprintf(stderr, "bus-bench: bad --rounds '%s'\n", optarg);
                                return 2;
                        }
                        arg_rounds = (unsigned) v;
                        break;
                }
                case 'k':
                        arg_kinds = optarg;
                        break;
                case 'l':
                        if (!*optarg || strpbrk(optarg, "\t\n") || strlen(optarg) >= sizeof(((Row *) 0)->label)) {
                                fprintf(stderr, "bus-bench: bad --label\n");
                                return 2;
                        }
                        arg_label = optarg;
                        break;
                case 'v':
                        arg_vm = optarg;
                        break;
                case 'r':
                        arg_results = optarg;
                        break;
                case 'h':
                        help();
                        return EXIT_SUCCESS;
                default:
                        return 2;
                }

        if (optind >= argc) {
                help();
                return 2;
        }
        const char *cmd = argv[optind];
        if (strcmp(cmd, "run") == 0 && optind + 1 == argc)
                return cmd_run();
        if (strcmp(cmd, "cold-start") == 0 && optind + 1 == argc)
                return cmd_cold_start();
        if (strcmp(cmd, "rss") == 0 && optind + 1 < argc)
                return cmd_rss(argv + optind + 1, argc - optind - 1);
        if (strcmp(cmd, "report") == 0 && optind + 2 == argc)
                return cmd_report(argv[optind + 1]);
        help();
        return 2;
}
