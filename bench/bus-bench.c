/* bus-bench: a load generator for winvmd on sd-bus.
 *
 * N concurrent clients, each a thread with its own system bus connection, call one thing in
 * a closed loop (the next call goes out when the reply is in) and time every call. Measured:
 *   - the floor, org.freedesktop.DBus.Peer.Ping to winvmd (answered inside sd-bus);
 *   - winvmd's reads: Properties.Get of the VM's State, Properties.GetAll on the VM, and
 *     ObjectManager.GetManagedObjects on /org/winvm1;
 *   - the peer, org.libvirt.Domain.GetState through libvirt-dbus, for the same guest.
 * Also the cold start (bus activation up to the first reply) of winvmd, with the phases it
 * records, and of libvirt-dbus; and what the bus names' owners and bench/libvirt-floor (the
 * memory floor) own in memory (anonymous, Pss). Figures go
 * to stdout and, as tab-separated rows, to a results file that `bus-bench report` turns into
 * the table with ratios and targets.
 *
 * It is a benchmark: it never fails on figures. It exits non-zero only when it cannot
 * measure (bad usage, no bus, a call kind that never succeeds).
 *
 * bench/run-bus-bench runs it inside the sandbox; see bench/README.md. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <spawn.h>
#include <sys/wait.h>
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

/* The targets of issues 8 and 20. */
#define TARGET_FLOOR_RATIO 1.2      /* read p50 / Ping p50, at most */
#define TARGET_PEER_RATIO 2.0       /* read calls/s / libvirt-dbus calls/s, at least */
#define TARGET_COLD_RATIO 1.0       /* winvmd's cold start median / libvirt-dbus's, at most */
#define TARGET_COLD_MS 50.0         /* cold start median, under, where the machine has KVM */

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
static const char *arg_libvirt_path = NULL; /* the guest's object path at libvirt-dbus, for cold-start-peer */
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
               "calls/s", "p50 / floor (<=1.2)", "calls/s / peer (>=2)");
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

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return x < y ? -1 : x > y;
}


/* --- cold start ----------------------------------------------------------------------- */

static int name_has_owner(sd_bus *bus, const char *name) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int has_owner = 0;
        int r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                   "NameHasOwner", &error, &reply, "s", name);
        if (r >= 0)
                r = sd_bus_message_read(reply, "b", &has_owner);
        return r < 0 ? r : has_owner;
}

/* Writes each phase winvmd recorded for its start (Manager.StartupPhases, CLOCK_MONOTONIC
 * microseconds) as its time since the call that activated it was sent at t0_ns. */
static void record_phases(sd_bus *bus, uint64_t t0_ns, FILE *f) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *phase;
        uint64_t usec;
        int r = sd_bus_get_property(bus, WINVM_NAME, WINVM_ROOT, "org.winvm1.Manager", "StartupPhases", &error,
                                    &reply, "a(st)");
        if (r >= 0)
                r = sd_bus_message_enter_container(reply, 'a', "(st)");
        if (r < 0) {
                fprintf(stderr, "bus-bench: no StartupPhases: %s\n", error.message ? error.message : strerror(-r));
                return;
        }
        while ((r = sd_bus_message_read(reply, "(st)", &phase, &usec)) > 0) {
                double ms = ((double) usec * 1000.0 - (double) t0_ns) / 1e6;
                printf("  %-18s at %6.1f ms\n", phase, ms);
                if (f)
                        fprintf(f, "phase\t%s\t%.3f\n", phase, ms);
        }
}

/* Cold start of a bus-activated server: with NAME unowned, the time from sending a read
 * (with the auto-start flag, so the bus activates the server) to its reply. The connection
 * is made first and not timed. winvmd: Get(State) of the VM, then its StartupPhases;
 * libvirt-dbus (peer): Domain.GetState of the same guest. */
static int cmd_cold_start(bool peer) {
        _cleanup_(bus_closep) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        const char *name = peer ? LIBVIRT_NAME : WINVM_NAME, *who = peer ? "libvirt-dbus" : "winvmd";
        Targets t = {};
        char *vm_path = NULL, state[32] = "?";

        int r = sd_bus_path_encode(WINVM_VM_PREFIX, arg_vm, &vm_path);
        if (r < 0)
                return EXIT_FAILURE;
        snprintf(t.vm_path, sizeof(t.vm_path), "%s", vm_path);
        free(vm_path);
        if (peer) {
                if (!arg_libvirt_path) {
                        fprintf(stderr, "bus-bench: cold-start-peer needs --libvirt-path\n");
                        return 2;
                }
                snprintf(t.libvirt_path, sizeof(t.libvirt_path), "%s", arg_libvirt_path);
        }
        if ((r = open_bus(&bus)) < 0) {
                fprintf(stderr, "bus-bench: cannot connect to the system bus: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }
        if ((r = name_has_owner(bus, name)) != 0) {
                fprintf(stderr, "bus-bench: %s\n", r < 0 ? "NameHasOwner failed" : "the name is owned: stop its server first");
                return EXIT_FAILURE;
        }

        Kind kind = peer ? KIND_LIBVIRT_GET_STATE : KIND_GET_STATE;
        if ((r = new_call(bus, &t, kind, &m)) < 0 || (r = sd_bus_message_set_auto_start(m, true)) < 0)
                return EXIT_FAILURE;
        uint64_t t0 = now_ns();
        r = sd_bus_call(bus, m, CALL_TIMEOUT_USEC, &error, &reply);
        uint64_t t1 = now_ns();
        if (r < 0) {
                fprintf(stderr, "bus-bench: %s's cold start failed after %.1f ms: %s\n", who, (double) (t1 - t0) / 1e6,
                        error.message ? error.message : strerror(-r));
                return EXIT_FAILURE;
        }
        if (peer) {
                int32_t st = -1, reason = -1;
                if (sd_bus_message_read(reply, "(ii)", &st, &reason) > 0)
                        snprintf(state, sizeof(state), "%d", st);
        } else {
                const char *s;
                if (sd_bus_message_read(reply, "v", "s", &s) > 0)
                        snprintf(state, sizeof(state), "%s", s);
        }
        printf("cold start of %s: %.1f ms from the first call to its reply (state %s)\n", who,
               (double) (t1 - t0) / 1e6, state);
        FILE *f = results_open();
        if (f)
                fprintf(f, "cold\t%s\t%.3f\t%s\n", who, (double) (t1 - t0) / 1e6, state);
        if (!peer)
                record_phases(bus, t0, f);
        if (f)
                fclose(f);
        return EXIT_SUCCESS;
}

/* Exec to exit of PROGRAM ARGS (e.g. `winvmd --version`), the median of 11 runs: what
 * exec, the dynamic loader and the libraries' constructors cost before main() runs. */
static int cmd_exec_time(const char *label, char **argv) {
        double ms[11];
        extern char **environ;
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
        for (size_t i = 0; i < ELEMENTSOF(ms); i++) {
                pid_t pid;
                int status;
                uint64_t t0 = now_ns();
                int r = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
                if (r != 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                        fprintf(stderr, "bus-bench: %s did not run and exit 0\n", argv[0]);
                        posix_spawn_file_actions_destroy(&fa);
                        return EXIT_FAILURE;
                }
                ms[i] = (double) (now_ns() - t0) / 1e6;
        }
        posix_spawn_file_actions_destroy(&fa);
        qsort(ms, ELEMENTSOF(ms), sizeof(double), cmp_double);
        double median = ms[ELEMENTSOF(ms) / 2];
        printf("%s: exec to exit %.1f ms (median of %zu)\n", label, median, ELEMENTSOF(ms));
        FILE *f = results_open();
        if (f) {
                fprintf(f, "exec\t%s\t%.3f\n", label, median);
                fclose(f);
        }
        return EXIT_SUCCESS;
}

/* --- load without timing ---------------------------------------------------------------- */

typedef struct Churn {
        pthread_t thread;
        const Targets *targets;
        Kind kinds[_KIND_MAX];
        size_t n_kinds;
        uint64_t calls, errors;
        char first_error[256];
} Churn;

static void *churn_main(void *userdata) {
        Churn *c = userdata;
        _cleanup_(bus_closep) sd_bus *bus = NULL;
        char err[256];
        if (open_bus(&bus) < 0) {
                c->errors = c->calls;
                snprintf(c->first_error, sizeof(c->first_error), "cannot connect to the system bus");
                return NULL;
        }
        for (uint64_t i = 0; i < c->calls; i++)
                if (one_call(bus, c->targets, c->kinds[i % c->n_kinds], err, sizeof(err)) < 0 && c->errors++ == 0)
                        snprintf(c->first_error, sizeof(c->first_error), "%s", err);
        return NULL;
}

/* N calls in all, of the selected kinds in turn, over the first --clients figure of
 * connections: the load after which memory is read again. */
static int cmd_calls(uint64_t n) {
        Targets t = {};
        bool peer_ok = false;
        unsigned clients = arg_clients[0];
        if (resolve_targets(&t, &peer_ok) < 0)
                return EXIT_FAILURE;
        Churn *c = calloc(clients, sizeof(Churn));
        if (!c)
                return EXIT_FAILURE;
        uint64_t t0 = now_ns(), errors = 0;
        for (unsigned i = 0; i < clients; i++) {
                c[i].targets = &t;
                for (Kind k = 0; k < _KIND_MAX; k++)
                        if (kind_selected(k) && (k != KIND_LIBVIRT_GET_STATE || peer_ok))
                                c[i].kinds[c[i].n_kinds++] = k;
                c[i].calls = n / clients + (i < n % clients);
                if (c[i].n_kinds == 0 || pthread_create(&c[i].thread, NULL, churn_main, &c[i]) != 0) {
                        fprintf(stderr, "bus-bench: no call kinds, or cannot start a thread\n");
                        abort(); /* started threads would outlive c */
                }
        }
        for (unsigned i = 0; i < clients; i++) {
                pthread_join(c[i].thread, NULL);
                errors += c[i].errors;
                if (c[i].errors > 0)
                        fprintf(stderr, "bus-bench: calls: %" PRIu64 " errors, the first: %s\n", c[i].errors,
                                c[i].first_error);
        }
        free(c);
        printf("%" PRIu64 " calls over %u connections in %.1f s, %" PRIu64 " errors\n", n, clients,
               (double) (now_ns() - t0) / 1e9, errors);
        return errors < n ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* --- memory ----------------------------------------------------------------------------- */

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

/* The memory of each bus name's owner (NAME=PID: of that process): what it owns, its
 * anonymous pages (heap, stacks, its data) and Pss (its proportional share of every page it
 * maps, shared libraries counted once across the processes that map them), from
 * /proc/PID/smaps_rollup; VmRSS beside them for information. */
static int cmd_memory(char **names, int n_names) {
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
                long anon = r >= 0 ? proc_kib(pid, "smaps_rollup", "Anonymous") : -1;
                long pss = r >= 0 ? proc_kib(pid, "smaps_rollup", "Pss") : -1;
                long rss = r >= 0 ? proc_kib(pid, "status", "VmRSS") : -1;
                if (anon < 0 || pss < 0 || rss < 0) {
                        fprintf(stderr, "bus-bench: no memory figures for %s: %s\n", names[i],
                                error.message ? error.message : "cannot read /proc");
                        ret = EXIT_FAILURE;
                        continue;
                }
                printf("%s (pid %u): anonymous %.1f MiB, Pss %.1f MiB (VmRSS %.1f MiB)\n", name, pid, anon / 1024.0,
                       pss / 1024.0, rss / 1024.0);
                if (f)
                        fprintf(f, "mem\t%s\t%s\t%u\t%ld\t%ld\t%ld\n", arg_label, name, pid, anon, pss, rss);
        }
        if (f)
                fclose(f);
        return ret;
}

/* --- report ----------------------------------------------------------------------------- */

static double median_of(double *v, size_t n) {
        if (n == 0)
                return NAN;
        qsort(v, n, sizeof(double), cmp_double);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#define MAX_COLD 64
#define MAX_PHASES 16

typedef struct ColdRuns {
        double ms[MAX_COLD];
        size_t n;
        char state[32];
} ColdRuns;

typedef struct PhaseRuns {
        char name[32];
        double ms[MAX_COLD];
        size_t n;
} PhaseRuns;

typedef struct MemRow {
        char label[64], name[64];
        long anon, pss, rss;
} MemRow;

static void print_cold(const char *who, ColdRuns *c) {
        if (c->n == 0) {
                printf("%-13s not measured\n", who);
                return;
        }
        printf("%-13s each run, ms:", who);
        for (size_t i = 0; i < c->n; i++)
                printf(" %.1f", c->ms[i]);
        double copy[MAX_COLD];
        memcpy(copy, c->ms, c->n * sizeof(double));
        double med = median_of(copy, c->n);
        printf("\n%-13s %zu runs: median %.1f ms, best %.1f ms, worst %.1f ms (its first reply: state %s)\n", who, c->n,
               med, copy[0], copy[c->n - 1], c->state);
}

static double cold_median(const ColdRuns *c) {
        double copy[MAX_COLD];
        memcpy(copy, c->ms, c->n * sizeof(double));
        return median_of(copy, c->n);
}

static const MemRow *find_mem(const MemRow *m, size_t n, const char *name, bool loaded) {
        for (size_t i = 0; i < n; i++)
                if (strcmp(m[i].name, name) == 0 && (strcmp(m[i].label, "idle") != 0) == loaded)
                        return &m[i];
        return NULL;
}

/* One memory target line: winvmd's figure (anonymous or Pss) at most libvirt-dbus's, idle
 * and after the load. */
static void memory_target(const MemRow *m, size_t n, bool pss) {
        char what[64], detail[160] = "";
        size_t len = 0;
        bool met = true, any = false;
        snprintf(what, sizeof(what), "winvmd %s at most libvirt-dbus's", pss ? "Pss" : "anonymous memory");
        for (int loaded = 0; loaded <= 1; loaded++) {
                const MemRow *w = find_mem(m, n, WINVM_NAME, loaded), *p = find_mem(m, n, LIBVIRT_NAME, loaded);
                if (!w || !p)
                        continue;
                long wv = pss ? w->pss : w->anon, pv = pss ? p->pss : p->anon;
                any = true;
                met &= wv <= pv;
                len += (size_t) snprintf(detail + len, sizeof(detail) - len, "%s%s %.1f vs %.1f MiB (%.2fx)",
                                         len ? "; " : "", loaded ? "loaded" : "idle", wv / 1024.0, pv / 1024.0,
                                         (double) wv / (double) pv);
                if (len >= sizeof(detail))
                        break;
        }
        printf("%-44s %-7s %s\n", what, any ? verdict(met) : "n/a", any ? detail : "(not measured)");
}

/* The whole run from the results file: a table per label, cold start with its phases,
 * memory, targets. */
static int cmd_report(const char *path) {
        static Row rows[MAX_ROWS];
        char labels[16][64];
        size_t n = 0, n_labels = 0, n_phases = 0, n_mem = 0;
        ColdRuns cold_winvmd = {}, cold_peer = {};
        static PhaseRuns phases[MAX_PHASES];
        MemRow mem[32];
        struct { char label[64]; double ms; } execs[4];
        size_t n_exec = 0;
        bool kvm = false;
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
                } else if (nf == 4 && strcmp(fields[0], "cold") == 0) {
                        ColdRuns *c = strcmp(fields[1], "winvmd") == 0 ? &cold_winvmd : &cold_peer;
                        if (c->n < MAX_COLD)
                                c->ms[c->n++] = strtod(fields[2], NULL);
                        snprintf(c->state, sizeof(c->state), "%s", fields[3]);
                } else if (nf == 3 && strcmp(fields[0], "phase") == 0) {
                        size_t i = 0;
                        while (i < n_phases && strcmp(phases[i].name, fields[1]) != 0)
                                i++;
                        if (i == n_phases && n_phases < MAX_PHASES)
                                snprintf(phases[n_phases++].name, sizeof(phases[0].name), "%s", fields[1]);
                        if (i < n_phases && phases[i].n < MAX_COLD)
                                phases[i].ms[phases[i].n++] = strtod(fields[2], NULL);
                } else if (nf == 3 && strcmp(fields[0], "exec") == 0 && n_exec < ELEMENTSOF(execs)) {
                        snprintf(execs[n_exec].label, sizeof(execs[0].label), "%s", fields[1]);
                        execs[n_exec++].ms = strtod(fields[2], NULL);
                } else if (nf == 7 && strcmp(fields[0], "mem") == 0 && n_mem < ELEMENTSOF(mem)) {
                        snprintf(mem[n_mem].label, sizeof(mem[0].label), "%s", fields[1]);
                        snprintf(mem[n_mem].name, sizeof(mem[0].name), "%s", fields[2]);
                        mem[n_mem].anon = strtol(fields[4], NULL, 10);
                        mem[n_mem].pss = strtol(fields[5], NULL, 10);
                        mem[n_mem++].rss = strtol(fields[6], NULL, 10);
                } else if (nf == 2 && strcmp(fields[0], "kvm") == 0)
                        kvm = strcmp(fields[1], "yes") == 0;
                else if (nf >= 2 && strcmp(fields[0], "note") == 0)
                        printf("note: %s\n", fields[1]);
        }
        fclose(f);

        Tally tally = {};
        for (size_t i = 0; i < n_labels; i++)
                print_table(rows, n, labels[i], &tally);

        printf("\n== cold start (bus activation to the first reply: winvmd's Get(State), libvirt-dbus's GetState) ==\n");
        print_cold("winvmd", &cold_winvmd);
        print_cold("libvirt-dbus", &cold_peer);
        double cw = cold_winvmd.n ? cold_median(&cold_winvmd) : NAN, cp = cold_peer.n ? cold_median(&cold_peer) : NAN;
        if (cold_winvmd.n && cold_peer.n)
                printf("winvmd / libvirt-dbus (medians): %.2fx\n", cw / cp);
        for (size_t i = 0; i < n_exec; i++)
                printf("exec to exit of `%s` (dynamic loading and library constructors, no bus): %.1f ms\n",
                       execs[i].label, execs[i].ms);
        if (n_phases > 0) {
                printf("winvmd's phases (Manager.StartupPhases), median ms after the first call was sent:\n");
                printf("  %-18s %8s %9s\n", "phase", "at", "step");
                double prev = 0;
                for (size_t i = 0; i < n_phases; i++) {
                        double at = median_of(phases[i].ms, phases[i].n);
                        printf("  %-18s %8.1f %+9.1f\n", phases[i].name, at, at - prev);
                        prev = at;
                }
                printf("  %-18s %8.1f %+9.1f\n", "reply received", cw, cw - prev);
                printf("  (\"main\" counts activation by the bus, exec and library loading; libvirt is connected\n"
                       "  on a worker while the bus name is taken, so steps may overlap)\n");
        }

        printf("\n== memory: what each server owns (anonymous) and its share of what it maps (Pss) ==\n");
        printf("%-14s %-40s %9s %9s %9s\n", "server", "when", "anon MiB", "Pss MiB", "VmRSS MiB");
        for (size_t i = 0; i < n_mem; i++)
                printf("%-14s %-40s %9.1f %9.1f %9.1f\n", mem[i].name, mem[i].label, mem[i].anon / 1024.0,
                       mem[i].pss / 1024.0, mem[i].rss / 1024.0);
        const MemRow *wi = find_mem(mem, n_mem, WINVM_NAME, false), *wl = find_mem(mem, n_mem, WINVM_NAME, true);
        if (wi && wl)
                printf("winvmd after the load against idle: anonymous %+.1f MiB, Pss %+.1f MiB\n",
                       (wl->anon - wi->anon) / 1024.0, (wl->pss - wi->pss) / 1024.0);
        printf("(VmRSS is for information: most of it is libraries' file pages shared with other processes)\n");

        printf("\n== targets ==\n");
        char what[64];
        snprintf(what, sizeof(what), "reads p50 within %.1fx the Ping floor", TARGET_FLOOR_RATIO);
        if (tally.floor_total > 0)
                printf("%-44s %-7s %u of %u cases; worst %.2fx (%s)\n", what,
                       verdict(tally.floor_met == tally.floor_total), tally.floor_met, tally.floor_total,
                       tally.floor_worst, tally.floor_worst_what);
        else
                printf("%-44s %-7s\n", what, "n/a");
        if (tally.peer_total > 0)
                printf("%-44s %-7s %u of %u cases; lowest %.2fx (%s)\n", "reads at least 2x libvirt-dbus's calls/s",
                       verdict(tally.peer_met == tally.peer_total), tally.peer_met, tally.peer_total, tally.peer_worst,
                       tally.peer_worst_what);
        else
                printf("%-44s %-7s\n", "reads at least 2x libvirt-dbus's calls/s", "n/a (no libvirt-dbus figures)");
        if (cold_winvmd.n && cold_peer.n)
                printf("%-44s %-7s %.2fx (median %.1f ms against %.1f ms)\n", "cold start at most libvirt-dbus's",
                       verdict(cw / cp <= TARGET_COLD_RATIO), cw / cp, cw, cp);
        else
                printf("%-44s %-7s\n", "cold start at most libvirt-dbus's", "n/a");
        if (cold_winvmd.n && kvm)
                printf("%-44s %-7s median %.1f ms\n", "cold start under 50 ms (median, with KVM)",
                       verdict(cw < TARGET_COLD_MS), cw);
        else
                printf("%-44s %-7s %s\n", "cold start under 50 ms (median, with KVM)", "n/a",
                       cold_winvmd.n ? "no KVM on this machine: judged by the ratio above" : "");
        memory_target(mem, n_mem, false);
        memory_target(mem, n_mem, true);
        return EXIT_SUCCESS;
}


static void help(void) {
        printf("Usage: bus-bench [OPTIONS] run | calls N | cold-start | cold-start-peer | exec-time LABEL PROGRAM [ARG...]\n"
               "                           | memory NAME... | report FILE\n\n"
               "Load generator for winvmd on the system bus (DBUS_SYSTEM_BUS_ADDRESS). Run it through\n"
               "bench/run-bus-bench, which sets the scene in the sandbox.\n\n"
               "  run           time each call kind with each number of clients, print a table\n"
               "  calls N       N untimed calls of the --kinds in turn over the first --clients figure of\n"
               "                connections (the load before memory is read again)\n"
               "  cold-start    with org.winvm1 unowned: time Get(State) through bus activation, then\n"
               "                print winvmd's StartupPhases against the time the call was sent\n"
               "  cold-start-peer  the same for libvirt-dbus: Domain.GetState on --libvirt-path\n"
               "  exec-time LABEL PROGRAM [ARG...]  exec to exit of PROGRAM (e.g. winvmd --version)\n"
               "  memory NAME...  anonymous memory and Pss (smaps_rollup) of each bus name's owner\n"
               "                (NAME=PID: of that process); VmRSS for information\n"
               "  report FILE   the whole run from a results file, with ratios and targets\n\n"
               "  --clients LIST   numbers of concurrent clients, comma-separated (default 1,4,16)\n"
               "  --seconds S      timed seconds per case (default 3)\n"
               "  --rounds N       split each case into N slices, interleaved with the others (default 15)\n"
               "  --warmup N       untimed calls per client before each slice (default 200)\n"
               "  --kinds LIST     only these: ping,get-state,get-all,managed-objects,libvirt-get-state\n"
               "  --label TEXT     names the conditions (default idle), in tables and results\n"
               "  --vm NAME        the VM (default Windows11)\n"
               "  --libvirt-path P the VM's object path at libvirt-dbus (cold-start-peer)\n"
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
                { "libvirt-path", required_argument, NULL, 'P' },
                { "results", required_argument, NULL, 'r' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        int c;
        char *end;

        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0)
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
                case 'P':
                        arg_libvirt_path = optarg;
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
        if (strcmp(cmd, "calls") == 0 && optind + 2 == argc) {
                unsigned long long v = strtoull(argv[optind + 1], &end, 10);
                if (*end || v < 1 || v > 100000000) {
                        fprintf(stderr, "bus-bench: bad number of calls '%s'\n", argv[optind + 1]);
                        return 2;
                }
                return cmd_calls(v);
        }
        if (strcmp(cmd, "cold-start") == 0 && optind + 1 == argc)
                return cmd_cold_start(false);
        if (strcmp(cmd, "cold-start-peer") == 0 && optind + 1 == argc)
                return cmd_cold_start(true);
        if (strcmp(cmd, "exec-time") == 0 && optind + 3 <= argc)
                return cmd_exec_time(argv[optind + 1], argv + optind + 2);
        if (strcmp(cmd, "memory") == 0 && optind + 1 < argc)
                return cmd_memory(argv + optind + 1, argc - optind - 1);
        if (strcmp(cmd, "report") == 0 && optind + 2 == argc)
                return cmd_report(argv[optind + 1]);
        help();
        return 2;
}
