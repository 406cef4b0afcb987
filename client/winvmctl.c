/* winvmctl: the unprivileged command line for winvmd. Talks only to org.winvm1 on the system
 * bus; polkit in the service decides what the caller may do. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "client-errors.h"
#include "client.h"
#include "error-names.h"
#include "names.h"
#include "util.h"

#ifndef WINVM_VERSION
#define WINVM_VERSION "0"
#endif

#define CALL_SLACK_USEC (30 * 1000000ULL)

static ClientOptions opts = { .ask_password = true };

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

static void help(void) {
        printf("Usage: winvmctl [OPTIONS] COMMAND\n\n"
               "Control the virtual machines managed by winvmd, without sudo.\n\n"
               "Commands:\n"
               "  status                    show every managed VM: state, reason, vCPUs, memory\n"
               "  start                     start the VM\n"
               "  shutdown                  shut the VM down gracefully and wait until it is off\n"
               "  force-stop                power the VM off at once\n"
               "  reboot                    ask the guest to reboot\n"
               "  scrub start [FS]          scrub a configured btrfs filesystem (--wait follows it)\n"
               "  scrub status [FS]         the running scrub and the last result\n"
               "  scrub cancel [FS]         cancel the running scrub\n"
               "  scrub scheduled           scrub each filesystem due by [Storage] ScrubInterval, one at a time\n"
               "  jobs                      running and recently finished jobs\n"
               "  storage                   the configured filesystems: btrfs, subvolume, space\n"
               "  snapshot create [NAME]    take a disk snapshot (default name snapshot-YYYYMMDD-HHMMSS)\n"
               "                            and print its name; -m sets its description\n"
               "  snapshot list             the VM's snapshots, oldest first; * marks the one the\n"
               "                            current state grew from (--tree: as a tree, --json)\n"
               "  snapshot revert NAME      go back to a snapshot, keeping the current state as a\n"
               "                            snapshot pre-revert-... unless --discard-current\n"
               "  snapshot delete NAME      delete a snapshot, merging its data where still needed\n"
               "  snapshot adopt            take in snapshots made outside winvm (virsh, libvirt\n"
               "                            metadata, <stem>.<name> overlay chains)\n"
               "  doctor                    every readiness check of the host and the VM, with what\n"
               "                            to change for each that is not ok\n"
               "  doctor --fix [ID...]      apply the doctor's repairs to the VM's definition (all,\n"
               "                            or the checks named); winvmctl undo takes them back\n"
               "  kvmfr [status]            the Looking Glass kvmfr module, its devices and checks\n"
               "  kvmfr load | unload       load (sized for the configured resolution) or unload it\n"
               "  kvmfr apply-permissions   write the udev rule and module options, and apply them\n"
               "  vfio                      the passthrough devices, their IOMMU groups and checks\n"
               "  list vms | snapshots | filesystems | usb\n"
               "                            names only, one per line (for scripts and completion)\n"
               "  cpu                       the host's CPUs: core, package, P/E type, SMT siblings\n"
               "  cpu check                 check the VM's vCPU pinning against the host\n"
               "  cpu plan --p N [--e M] [--host-p K] [--apply]\n"
               "                            plan N P-cores and M E-cores for the guest, K P-cores\n"
               "                            kept for the host; --apply writes it to the VM\n"
               "  usb [list]                the configured USB devices: plugged in, attached\n"
               "  usb attach ID | detach ID attach or detach a configured device (vendor:product)\n"
               "  shares                    the VM's virtiofs shares (--set-virtiofsd PATH changes\n"
               "                            their virtiofsd to an allowed one)\n"
               "  define                    define the VM from its configured definition file\n"
               "  export                    write the VM's definition to that file\n"
               "  diff                      how libvirt's definition and the file differ\n"
               "  undo                      undo winvm's last change of the VM's definition\n"
               "  history                   the kept definitions an undo goes back to\n\n"
               "Options:\n"
               "      --vm NAME             the VM to act on (needed when several are managed;\n"
               "                            doctor: the first VM without it)\n"
               "      --json                print reads as JSON\n"
               "  -t, --timeout SECONDS     shutdown: how long to wait (default: the service's)\n"
               "  -f, --force               shutdown: force the VM off when the timeout passes\n"
               "  -w, --wait                scrub start: follow the job to its end\n"
               "      --read-only           scrub start: report errors without repairing\n"
               "  -m, --message TEXT        snapshot create: the snapshot's description\n"
               "      --tree                snapshot list: draw the snapshots as a tree\n"
               "      --shutdown            snapshot revert: shut the running VM down first (the\n"
               "                            service's timeout) and start it again afterwards;\n"
               "                            with --force, force it off when it does not stop in time\n"
               "      --discard-current     snapshot revert: drop the current state instead of\n"
               "                            keeping it as a snapshot\n"
               "      --p N, --e M, --host-p K\n"
               "                            cpu plan: P-cores and E-cores for the guest, P-cores\n"
               "                            kept for the host (on a uniform host: cores)\n"
               "      --apply               cpu plan: write the plan into the VM's definition\n"
               "      --set-virtiofsd PATH  shares: use this virtiofsd ([Virtiofs] AllowedBinaries)\n"
               "      --live                usb attach/detach: the running guest only\n"
               "      --if-running          usb attach/detach: do nothing when the guest is off\n"
               "      --fix                 doctor: repair the checks named (or every one a repair exists for)\n"
               "      --if-configured       usb attach/detach: do nothing for an id not in [Usb] Devices\n"
               "      --no-ask-password     never ask for authentication\n"
               "  -h, --help                show this help\n"
               "      --version             show the version\n\n"
               "Exit status:\n"
               "  0 success, 1 failure, 2 bad usage or argument, 3 access denied,\n"
               "  4 no such VM or snapshot, or VM not defined,\n"
               "  5 VM in the wrong state (already running, not running, running but must be off),\n"
               "  6 timed out, 7 winvmd or libvirtd not available, 8 a snapshot of that name exists,\n"
               "  9 no space left for the snapshot\n"
               "  doctor, kvmfr status and vfio: 1 when a check fails (warnings do not count);\n"
               "  kvmfr load: 4 when the kvmfr module is not installed\n\n"
               "Invoked as snapshot-win-vm [DESCRIPTION...], it runs 'snapshot create -m DESCRIPTION'.\n"
               "Colour only on a terminal, and not with NO_COLOR set. See winvmctl(1) for the --json\n"
               "output and the rest, org.winvm1(5) for the bus API.\n");
}

static int bus_error_exit(sd_bus_error *error, int r) {
        if (!sd_bus_error_is_set(error))
                sd_bus_error_set_errno(error, r);
        return client_report_error(error);
}

int client_fail(sd_bus_error *error, int r) {
        int code = bus_error_exit(error, r);
        sd_bus_error_free(error);
        return code;
}

void client_print_json(void *node) {
        g_autoptr(JsonGenerator) gen = json_generator_new();
        json_generator_set_root(gen, node);
        json_generator_set_pretty(gen, true);
        g_autofree char *text = json_generator_to_data(gen, NULL);
        printf("%s\n", text);
        json_node_unref(node);
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
        int r = sd_bus_call_method(bus, WINVM_BUS_NAME, path, "org.freedesktop.DBus.Properties", "GetAll", &error,
                                   &reply, "s", "org.winvm1.VM");
        if (r < 0) {
                int code = bus_error_exit(&error, r);
                sd_bus_error_free(&error);
                return -code;
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
                r = sd_bus_call_method(bus, WINVM_BUS_NAME, "/org/winvm1", "org.winvm1.Manager", "GetVM", &error,
                                       &reply, "s", o->vm);
                if (r < 0 || (r = sd_bus_message_read(reply, "o", &path)) < 0) {
                        int code = bus_error_exit(&error, r);
                        sd_bus_error_free(&error);
                        return -code;
                }
                *ret_path = strdup(path);
                return 0;
        }

        _cleanup_(strv_freep) char **paths = NULL;
        r = sd_bus_get_property_strv(bus, WINVM_BUS_NAME, "/org/winvm1", "org.winvm1.Manager", "VMs", &error, &paths);
        if (r < 0) {
                int code = bus_error_exit(&error, r);
                sd_bus_error_free(&error);
                return -code;
        }
        size_t n = strv_length(paths);
        if (n != 1) {
                fprintf(stderr, "winvmctl: %zu VMs are managed; choose one with --vm NAME (see 'winvmctl status')\n", n);
                return -EXIT_USAGE;
        }
        *ret_path = strdup(paths[0]);
        return 0;
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
                json_builder_set_member_name(b, "name");
                json_builder_add_string_value(b, list[i].name);
                json_builder_set_member_name(b, "object_path");
                json_builder_add_string_value(b, list[i].path);
                json_builder_set_member_name(b, "uuid");
                json_builder_add_string_value(b, list[i].uuid);
                json_builder_set_member_name(b, "state");
                json_builder_add_string_value(b, list[i].state);
                json_builder_set_member_name(b, "reason");
                json_builder_add_string_value(b, list[i].reason);
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

static int cmd_status(sd_bus *bus) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(strv_freep) char **paths = NULL;
        int r;

        if (opts.vm) {
                char *path = NULL;
                if ((r = client_resolve_vm(bus, &opts, &path)) < 0)
                        return -r;
                paths = calloc(2, sizeof(char *));
                paths[0] = path;
        } else if ((r = sd_bus_get_property_strv(bus, WINVM_BUS_NAME, "/org/winvm1", "org.winvm1.Manager", "VMs",
                                                 &error, &paths)) < 0) {
                int code = bus_error_exit(&error, r);
                sd_bus_error_free(&error);
                return code;
        }

        int connected = 0;
        r = sd_bus_get_property_trivial(bus, WINVM_BUS_NAME, "/org/winvm1", "org.winvm1.Manager", "LibvirtConnected",
                                        &error, 'b', &connected);
        if (r < 0) {
                int code = bus_error_exit(&error, r);
                sd_bus_error_free(&error);
                return code;
        }

        size_t n = strv_length(paths);
        VmStatus *list = calloc(n ? n : 1, sizeof(VmStatus));
        int code = EXIT_OK;
        for (size_t i = 0; i < n && code == EXIT_OK; i++)
                if ((r = get_vm_status(bus, paths[i], &list[i])) < 0)
                        code = -r;
        if (code == EXIT_OK) {
                if (opts.json)
                        print_status_json(list, n, connected);
                else
                        print_status_table(list, n, connected);
        }
        for (size_t i = 0; i < n; i++)
                vm_status_clear(&list[i]);
        free(list);
        return code;
}

static int cmd_shutdown(sd_bus *bus) {
        /* The reply comes once the guest is off: wait as long as the service may. */
        uint64_t wait = (uint64_t) (opts.timeout ? opts.timeout : 3600) * 1000000ULL + CALL_SLACK_USEC;
        return -client_vm_call(bus, &opts, "org.winvm1.VM", "Shutdown", wait, NULL, "ub", opts.timeout, (int) opts.force);
}

static int open_bus(sd_bus **ret) {
        int r = sd_bus_open_system(ret);
        if (r < 0) {
                fprintf(stderr, "winvmctl: cannot connect to the system bus: %s\n", strerror(-r));
                return EXIT_UNAVAILABLE;
        }
        (void) sd_bus_error_add_map(winvm_error_map);
        return EXIT_OK;
}

static void snapshot_win_vm_help(void) {
        printf("Usage: snapshot-win-vm [OPTIONS] [DESCRIPTION...]\n\n"
               "Take a disk snapshot of the VM, named snapshot-YYYYMMDD-HHMMSS, and print its name.\n"
               "The words of DESCRIPTION, joined by spaces, describe it. The same as\n"
               "'winvmctl snapshot create -m DESCRIPTION'; list them with 'winvmctl snapshot list'.\n\n"
               "Options:\n"
               "      --vm NAME             the VM (needed when several are managed)\n"
               "      --no-ask-password     never ask for authentication\n"
               "  -h, --help                show this help\n"
               "      --version             show the version\n"
               "  --                        end of options: a description may start with '-'\n\n"
               "Exit status: as winvmctl's (see 'winvmctl --help').\n");
}

/* snapshot-win-vm "description": the command of the original setup, as a link to winvmctl. */
static int snapshot_win_vm_main(int argc, char **argv) {
        enum { OPT_VM = 0x100, OPT_NO_ASK, OPT_VERSION };
        static const struct option options[] = {
                { "vm", required_argument, NULL, OPT_VM },
                { "no-ask-password", no_argument, NULL, OPT_NO_ASK },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, OPT_VERSION },
                {}
        };
        int c;

        /* '+': options only before the description, so its words are never taken for options. */
        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0)
                switch (c) {
                case OPT_VM:
                        if (!vm_name_is_valid(optarg)) {
                                fprintf(stderr, "snapshot-win-vm: '%s' is not a valid VM name\n", optarg);
                                return EXIT_USAGE;
                        }
                        opts.vm = optarg;
                        break;
                case OPT_NO_ASK:
                        opts.ask_password = false;
                        break;
                case 'h':
                        snapshot_win_vm_help();
                        return EXIT_OK;
                case OPT_VERSION:
                        printf("snapshot-win-vm (winvmctl) %s\n", WINVM_VERSION);
                        return EXIT_OK;
                default:
                        return EXIT_USAGE;
                }

        /* The words of the description, as the shell split them, joined again by spaces. */
        size_t len = 1;
        for (int i = optind; i < argc; i++)
                len += strlen(argv[i]) + 1;
        _cleanup_free_ char *description = calloc(1, len);
        if (!description) {
                fprintf(stderr, "snapshot-win-vm: out of memory\n");
                return EXIT_FAILED;
        }
        for (int i = optind; i < argc; i++) {
                if (i > optind)
                        strcat(description, " ");
                strcat(description, argv[i]);
        }
        opts.message = description;

        int r = cmd_snapshot_check(&opts, "create", NULL);
        if (r != EXIT_OK)
                return r;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        if ((r = open_bus(&bus)) != EXIT_OK)
                return r;
        return cmd_snapshot(bus, &opts, "create", NULL);
}

int main(int argc, char **argv) {
        enum {
                OPT_VM = 0x100,
                OPT_JSON,
                OPT_NO_ASK,
                OPT_VERSION,
                OPT_READONLY,
                OPT_TREE,
                OPT_SHUTDOWN,
                OPT_DISCARD_CURRENT,
                OPT_P,
                OPT_E,
                OPT_HOST_P,
                OPT_APPLY,
                OPT_SET_VIRTIOFSD,
                OPT_LIVE,
                OPT_IF_RUNNING,
                OPT_FIX,
                OPT_IF_CONFIGURED,
        };
        static const struct option options[] = {
                { "vm", required_argument, NULL, OPT_VM },
                { "json", no_argument, NULL, OPT_JSON },
                { "timeout", required_argument, NULL, 't' },
                { "force", no_argument, NULL, 'f' },
                { "wait", no_argument, NULL, 'w' },
                { "read-only", no_argument, NULL, OPT_READONLY },
                { "message", required_argument, NULL, 'm' },
                { "tree", no_argument, NULL, OPT_TREE },
                { "shutdown", no_argument, NULL, OPT_SHUTDOWN },
                { "discard-current", no_argument, NULL, OPT_DISCARD_CURRENT },
                { "p", required_argument, NULL, OPT_P },
                { "e", required_argument, NULL, OPT_E },
                { "host-p", required_argument, NULL, OPT_HOST_P },
                { "apply", no_argument, NULL, OPT_APPLY },
                { "set-virtiofsd", required_argument, NULL, OPT_SET_VIRTIOFSD },
                { "live", no_argument, NULL, OPT_LIVE },
                { "if-running", no_argument, NULL, OPT_IF_RUNNING },
                { "fix", no_argument, NULL, OPT_FIX },
                { "if-configured", no_argument, NULL, OPT_IF_CONFIGURED },
                { "no-ask-password", no_argument, NULL, OPT_NO_ASK },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, OPT_VERSION },
                {}
        };
        int c;

        const char *slash = argc > 0 ? strrchr(argv[0], '/') : NULL;
        if (argc > 0 && strcmp(slash ? slash + 1 : argv[0], "snapshot-win-vm") == 0)
                return snapshot_win_vm_main(argc, argv);

        while ((c = getopt_long(argc, argv, "t:fwm:h", options, NULL)) >= 0)
                switch (c) {
                case OPT_VM:
                        if (!vm_name_is_valid(optarg)) {
                                fprintf(stderr, "winvmctl: '%s' is not a valid VM name\n", optarg);
                                return EXIT_USAGE;
                        }
                        opts.vm = optarg;
                        break;
                case OPT_JSON:
                        opts.json = true;
                        break;
                case 't': {
                        char *end;
                        errno = 0;
                        unsigned long v = strtoul(optarg, &end, 10);
                        if (errno || *end || end == optarg || v > UINT32_MAX) {
                                fprintf(stderr, "winvmctl: --timeout takes seconds, not '%s'\n", optarg);
                                return EXIT_USAGE;
                        }
                        opts.timeout = (uint32_t) v;
                        break;
                }
                case 'f':
                        opts.force = true;
                        break;
                case 'w':
                        opts.wait = true;
                        break;
                case OPT_READONLY:
                        opts.readonly = true;
                        break;
                case 'm':
                        opts.message = optarg;
                        break;
                case OPT_TREE:
                        opts.tree = true;
                        break;
                case OPT_SHUTDOWN:
                        opts.shutdown = true;
                        break;
                case OPT_DISCARD_CURRENT:
                        opts.discard_current = true;
                        break;
                case OPT_P:
                case OPT_E:
                case OPT_HOST_P: {
                        char *end;
                        errno = 0;
                        unsigned long v = strtoul(optarg, &end, 10);
                        if (errno || *end || end == optarg || optarg[0] == '-' || v > 1024) {
                                fprintf(stderr, "winvmctl: --%s takes a number of cores (0-1024), not '%s'\n",
                                        c == OPT_P ? "p" : c == OPT_E ? "e" : "host-p", optarg);
                                return EXIT_USAGE;
                        }
                        *(c == OPT_P ? &opts.p_cores : c == OPT_E ? &opts.e_cores : &opts.host_p_cores) = (uint32_t) v;
                        break;
                }
                case OPT_APPLY:
                        opts.apply = true;
                        break;
                case OPT_SET_VIRTIOFSD:
                        opts.virtiofsd = optarg;
                        break;
                case OPT_LIVE:
                        opts.live = true;
                        break;
                case OPT_IF_RUNNING:
                        opts.if_running = true;
                        break;
                case OPT_FIX:
                        opts.fix = true;
                        break;
                case OPT_IF_CONFIGURED:
                        opts.if_configured = true;
                        break;
                case OPT_NO_ASK:
                        opts.ask_password = false;
                        break;
                case 'h':
                        help();
                        return EXIT_OK;
                case OPT_VERSION:
                        printf("winvmctl %s\n", WINVM_VERSION);
                        return EXIT_OK;
                default:
                        return EXIT_USAGE;
                }

        const char *verb = optind < argc ? argv[optind] : "status";
        int n_args = argc - optind - 1 > 0 ? argc - optind - 1 : 0;
        const char *arg1 = n_args > 0 ? argv[optind + 1] : NULL, *arg2 = n_args > 1 ? argv[optind + 2] : NULL;

        static const struct {
                const char *verb;
                int max_args;
        } verbs[] = {
                { "status", 0 }, { "start", 0 }, { "shutdown", 0 }, { "force-stop", 0 }, { "reboot", 0 },
                { "scrub", 2 },  { "jobs", 0 },  { "storage", 0 },  { "snapshot", 2 }, { "doctor", 16 },
                { "kvmfr", 1 },  { "vfio", 0 },
                { "list", 1 },
                { "cpu", 1 },    { "usb", 2 },   { "shares", 0 }, { "define", 0 }, { "export", 0 },
                { "diff", 0 },   { "undo", 0 },  { "history", 0 },
        };
        bool known = false;
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (strcmp(verb, verbs[i].verb) == 0) {
                        known = true;
                        if (n_args > verbs[i].max_args) {
                                fprintf(stderr, "winvmctl: unexpected argument '%s'\n",
                                        argv[optind + 1 + verbs[i].max_args]);
                                return EXIT_USAGE;
                        }
                }
        if (!known) {
                fprintf(stderr, "winvmctl: unknown command '%s'; see 'winvmctl --help'\n", verb);
                return EXIT_USAGE;
        }

        int r;
        if (strcmp(verb, "snapshot") == 0 && (r = cmd_snapshot_check(&opts, arg1, arg2)) != EXIT_OK)
                return r;
        bool host_verb = strcmp(verb, "doctor") == 0 || strcmp(verb, "kvmfr") == 0 || strcmp(verb, "vfio") == 0;
        if (host_verb && (r = cmd_host_check(&opts, verb, arg1)) != EXIT_OK)
                return r;
        if (strcmp(verb, "doctor") == 0 && n_args > 0 && !opts.fix) {
                fprintf(stderr, "winvmctl: doctor takes check ids only with --fix (winvmctl doctor --fix vm.memballoon)\n");
                return EXIT_USAGE;
        }
        if (opts.fix && strcmp(verb, "doctor") != 0) {
                fprintf(stderr, "winvmctl: --fix is for doctor\n");
                return EXIT_USAGE;
        }
        if (opts.fix)
                opts.fix_ids = argv + optind + 1;
        if (strcmp(verb, "list") == 0 && (r = cmd_list_check(&opts, arg1)) != EXIT_OK)
                return r;
        if ((r = cmd_config_check(&opts, verb, arg1, arg2)) != EXIT_OK)
                return r;

        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        if ((r = open_bus(&bus)) != EXIT_OK)
                return r;

        if (strcmp(verb, "status") == 0)
                return cmd_status(bus);
        if (strcmp(verb, "scrub") == 0)
                return cmd_scrub(bus, &opts, arg1, arg2);
        if (strcmp(verb, "jobs") == 0)
                return cmd_jobs(bus, &opts);
        if (strcmp(verb, "storage") == 0)
                return cmd_storage(bus, &opts);
        if (strcmp(verb, "snapshot") == 0)
                return cmd_snapshot(bus, &opts, arg1, arg2);
        if (strcmp(verb, "doctor") == 0)
                return opts.fix ? cmd_doctor_fix(bus, &opts) : cmd_doctor(bus, &opts);
        if (strcmp(verb, "kvmfr") == 0)
                return cmd_kvmfr(bus, &opts, arg1);
        if (strcmp(verb, "vfio") == 0)
                return cmd_vfio(bus, &opts);
        if (strcmp(verb, "list") == 0)
                return cmd_list(bus, &opts, arg1);
        if (strcmp(verb, "cpu") == 0)
                return cmd_cpu(bus, &opts, arg1);
        if (strcmp(verb, "usb") == 0)
                return cmd_usb(bus, &opts, arg1, arg2);
        if (strcmp(verb, "shares") == 0)
                return cmd_shares(bus, &opts);
        if (strcmp(verb, "define") == 0 || strcmp(verb, "export") == 0 || strcmp(verb, "diff") == 0 ||
            strcmp(verb, "undo") == 0 || strcmp(verb, "history") == 0)
                return cmd_definition(bus, &opts, verb);
        if (strcmp(verb, "start") == 0)
                return -client_vm_call(bus, &opts, "org.winvm1.VM", "Start", CLIENT_CHANGE_TIMEOUT, NULL, NULL);
        if (strcmp(verb, "shutdown") == 0)
                return cmd_shutdown(bus);
        if (strcmp(verb, "force-stop") == 0)
                return -client_vm_call(bus, &opts, "org.winvm1.VM", "ForceStop", CLIENT_CHANGE_TIMEOUT, NULL, NULL);
        return -client_vm_call(bus, &opts, "org.winvm1.VM", "Reboot", CLIENT_CHANGE_TIMEOUT, NULL, NULL);
}
