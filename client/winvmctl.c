/* winvmctl: the unprivileged command line for winvmd. Talks only to org.winvm1 on the system
 * bus; polkit in the service decides what the caller may do. */
#include <errno.h>
#include <getopt.h>
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
#include "verbs.h"

#ifndef WINVM_VERSION
#define WINVM_VERSION "0"
#endif

static ClientOptions opts = { .ask_password = true };

static void help(void) {
        printf("Usage: winvmctl [OPTIONS] COMMAND\n\n"
               "Control the virtual machines managed by winvmd, without sudo.\n\n"
               "Commands:\n");
        verbs_print_help(stdout);
        printf("\n"
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

static int open_bus(sd_bus **ret) {
        int r = sd_bus_open_system(ret);
        if (r < 0) {
                fprintf(stderr, "winvmctl: cannot connect to the system bus: %s\n", strerror(-r));
                return EXIT_UNAVAILABLE;
        }
        (void) sd_bus_error_add_map(winvm_error_map);
        client_choose_bus_name(*ret);
        return EXIT_OK;
}

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
        OPT_LIST_VERBS,
};

static const struct option winvmctl_options[] = {
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
        /* Not in --help: for the completion scripts and their test. */
        { "list-verbs", no_argument, NULL, OPT_LIST_VERBS },
        {}
};

static const struct option snapshot_win_vm_options[] = {
        { "vm", required_argument, NULL, OPT_VM },
        { "no-ask-password", no_argument, NULL, OPT_NO_ASK },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, OPT_VERSION },
        {}
};

/* The options that only turn something on (or, --no-ask-password, off). */
static const struct {
        int option;
        bool *field;
        bool value;
} switches[] = {
        { OPT_JSON, &opts.json, true },
        { 'f', &opts.force, true },
        { 'w', &opts.wait, true },
        { OPT_READONLY, &opts.readonly, true },
        { OPT_TREE, &opts.tree, true },
        { OPT_SHUTDOWN, &opts.shutdown, true },
        { OPT_DISCARD_CURRENT, &opts.discard_current, true },
        { OPT_APPLY, &opts.apply, true },
        { OPT_LIVE, &opts.live, true },
        { OPT_IF_RUNNING, &opts.if_running, true },
        { OPT_FIX, &opts.fix, true },
        { OPT_IF_CONFIGURED, &opts.if_configured, true },
        { OPT_NO_ASK, &opts.ask_password, false },
};

static bool set_switch(int option) {
        for (size_t i = 0; i < ELEMENTSOF(switches); i++)
                if (switches[i].option == option) {
                        *switches[i].field = switches[i].value;
                        return true;
                }
        return false;
}

/* winvmctl and snapshot-win-vm: one parser, each with its own options and help. */
typedef struct Program {
        const char *name;         /* for messages */
        const char *version_name; /* for --version */
        const char *optstring;
        const struct option *options;
        void (*help)(void);
} Program;

#define OPTIONS_PARSED (-1)

/* Reads the options into opts: OPTIONS_PARSED, or the exit code when there is nothing more
 * to do (--help, --version, a bad option). */
static int parse_options(const Program *p, int argc, char **argv) {
        int c;
        while ((c = getopt_long(argc, argv, p->optstring, p->options, NULL)) >= 0)
                switch (c) {
                case OPT_VM:
                        if (!vm_name_is_valid(optarg)) {
                                fprintf(stderr, "%s: '%s' is not a valid VM name\n", p->name, optarg);
                                return EXIT_USAGE;
                        }
                        opts.vm = optarg;
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
                case 'm':
                        opts.message = optarg;
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
                case OPT_SET_VIRTIOFSD:
                        opts.virtiofsd = optarg;
                        break;
                case 'h':
                        p->help();
                        return EXIT_OK;
                case OPT_VERSION:
                        printf("%s %s\n", p->version_name, WINVM_VERSION);
                        return EXIT_OK;
                case OPT_LIST_VERBS:
                        verbs_print_list(stdout);
                        return EXIT_OK;
                default:
                        if (!set_switch(c))
                                return EXIT_USAGE;
                }
        return OPTIONS_PARSED;
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
        static const Program program = {
                .name = "snapshot-win-vm",
                .version_name = "snapshot-win-vm (winvmctl)",
                /* '+': options only before the description, so its words are never taken for options. */
                .optstring = "+h",
                .options = snapshot_win_vm_options,
                .help = snapshot_win_vm_help,
        };
        int r = parse_options(&program, argc, argv);
        if (r != OPTIONS_PARSED)
                return r;

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

        r = cmd_snapshot_check(&opts, "snapshot", "create", NULL);
        if (r != EXIT_OK)
                return r;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        if ((r = open_bus(&bus)) != EXIT_OK)
                return r;
        return cmd_snapshot(bus, &opts, "snapshot", "create", NULL);
}

int main(int argc, char **argv) {
        static const Program program = {
                .name = "winvmctl",
                .version_name = "winvmctl",
                .optstring = "t:fwm:h",
                .options = winvmctl_options,
                .help = help,
        };

        const char *slash = argc > 0 ? strrchr(argv[0], '/') : NULL;
        if (argc > 0 && strcmp(slash ? slash + 1 : argv[0], "snapshot-win-vm") == 0)
                return snapshot_win_vm_main(argc, argv);

        int r = parse_options(&program, argc, argv);
        if (r != OPTIONS_PARSED)
                return r;

        const char *verb = optind < argc ? argv[optind] : "status";
        int n_args = argc - optind - 1 > 0 ? argc - optind - 1 : 0;
        const char *arg1 = n_args > 0 ? argv[optind + 1] : NULL, *arg2 = n_args > 1 ? argv[optind + 2] : NULL;

        const Verb *v = verb_find(verb);
        if (!v) {
                fprintf(stderr, "winvmctl: unknown command '%s'; see 'winvmctl --help'\n", verb);
                return EXIT_USAGE;
        }
        if (n_args > (int) v->max_args) {
                fprintf(stderr, "winvmctl: unexpected argument '%s'\n", argv[optind + 1 + v->max_args]);
                return EXIT_USAGE;
        }

        if (v->check && (r = v->check(&opts, verb, arg1, arg2)) != EXIT_OK)
                return r;
        if (opts.fix && strcmp(verb, "doctor") != 0) {
                fprintf(stderr, "winvmctl: --fix is for doctor\n");
                return EXIT_USAGE;
        }
        if (opts.fix)
                opts.fix_ids = argv + optind + 1;

        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        if ((r = open_bus(&bus)) != EXIT_OK)
                return r;
        return v->run(bus, &opts, verb, arg1, arg2);
}
