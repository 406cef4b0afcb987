#include "verbs.h"

#include <string.h>

#include "util.h"

/* Where the descriptions of the help's commands start, after the two spaces of indent. */
#define SYNOPSIS_WIDTH 25

#define SUBVERBS(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define USAGE(...) ((const VerbUsage[]){ __VA_ARGS__, { NULL, NULL } })

static const Verb verbs[] = {
        { "status", NULL, 0, USAGE({ "", "show every managed VM: state, reason, vCPUs, memory" }), NULL, cmd_status },
        { "start", NULL, 0, USAGE({ "", "start the VM" }), NULL, cmd_power },
        { "shutdown", NULL, 0, USAGE({ "", "shut the VM down gracefully and wait until it is off" }), NULL, cmd_shutdown },
        { "force-stop", NULL, 0, USAGE({ "", "power the VM off at once" }), NULL, cmd_power },
        { "reboot", NULL, 0, USAGE({ "", "ask the guest to reboot" }), NULL, cmd_power },
        { "scrub", SUBVERBS("start", "status", "cancel", "scheduled"), 2,
          USAGE({ "start [FS]", "scrub a configured btrfs filesystem (--wait follows it)" },
                { "status [FS]", "the running scrub and the last result" },
                { "cancel [FS]", "cancel the running scrub" },
                { "scheduled", "scrub each filesystem due by [Storage] ScrubInterval, one at a time" }),
          NULL, cmd_scrub },
        { "jobs", NULL, 0, USAGE({ "", "running and recently finished jobs" }), NULL, cmd_jobs },
        { "storage", NULL, 0, USAGE({ "", "the configured filesystems: btrfs, subvolume, space" }), NULL, cmd_storage },
        { "snapshot", SUBVERBS("create", "list", "revert", "delete", "adopt"), 2,
          USAGE({ "create [NAME]", "take a disk snapshot (default name snapshot-YYYYMMDD-HHMMSS)\n"
                                   "and print its name; -m sets its description" },
                { "list", "the VM's snapshots, oldest first; * marks the one the\n"
                          "current state grew from (--tree: as a tree, --json)" },
                { "revert NAME", "go back to a snapshot, keeping the current state as a\n"
                                 "snapshot pre-revert-... unless --discard-current" },
                { "delete NAME", "delete a snapshot, merging its data where still needed" },
                { "adopt", "take in snapshots made outside winvm (virsh, libvirt\n"
                           "metadata, <stem>.<name> overlay chains)" }),
          cmd_snapshot_check, cmd_snapshot },
        /* doctor --fix takes check ids: up to 16. */
        { "doctor", NULL, 16,
          USAGE({ "", "every readiness check of the host and the VM, with what\n"
                      "to change for each that is not ok" },
                { "--fix [ID...]", "apply the doctor's repairs to the VM's definition (all,\n"
                                   "or the checks named); winvmctl undo takes them back" }),
          cmd_host_check, cmd_doctor },
        { "kvmfr", SUBVERBS("status", "load", "unload", "apply-permissions"), 1,
          USAGE({ "[status]", "the Looking Glass kvmfr module, its devices and checks" },
                { "load | unload", "load (sized for the configured resolution) or unload it" },
                { "apply-permissions", "write the udev rule and module options, and apply them" }),
          cmd_host_check, cmd_kvmfr },
        { "vfio", NULL, 0, USAGE({ "", "the passthrough devices, their IOMMU groups and checks" }), cmd_host_check, cmd_vfio },
        { "list", SUBVERBS("vms", "snapshots", "filesystems", "usb"), 1,
          USAGE({ "vms | snapshots | filesystems | usb", "names only, one per line (for scripts and completion)" }),
          cmd_list_check, cmd_list },
        { "cpu", SUBVERBS("check", "plan"), 1,
          USAGE({ "", "the host's CPUs: core, package, P/E type, SMT siblings" },
                { "check", "check the VM's vCPU pinning against the host" },
                { "plan --p N [--e M] [--host-p K] [--apply]", "plan N P-cores and M E-cores for the guest, K P-cores\n"
                                                               "kept for the host; --apply writes it to the VM" }),
          cmd_config_check, cmd_cpu },
        { "usb", SUBVERBS("list", "attach", "detach"), 2,
          USAGE({ "[list]", "the configured USB devices: plugged in, attached" },
                { "attach ID | detach ID", "attach or detach a configured device (vendor:product)" }),
          cmd_config_check, cmd_usb },
        { "shares", NULL, 0,
          USAGE({ "", "the VM's virtiofs shares (--set-virtiofsd PATH changes\n"
                      "their virtiofsd to an allowed one)" }),
          NULL, cmd_shares },
        { "define", NULL, 0, USAGE({ "", "define the VM from its configured definition file" }), NULL, cmd_definition },
        { "export", NULL, 0, USAGE({ "", "write the VM's definition to that file" }), NULL, cmd_definition },
        { "diff", NULL, 0, USAGE({ "", "how libvirt's definition and the file differ" }), NULL, cmd_definition },
        { "undo", NULL, 0, USAGE({ "", "undo winvm's last change of the VM's definition" }), NULL, cmd_definition },
        { "history", NULL, 0, USAGE({ "", "the kept definitions an undo goes back to" }), NULL, cmd_definition },
};

const Verb *verb_find(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (strcmp(verbs[i].name, name) == 0)
                        return &verbs[i];
        return NULL;
}

/* "  verb synopsis   description", the description's further lines under its first; a
 * synopsis too long for its column has the description on the lines after it. */
static void print_usage(FILE *f, const char *name, const VerbUsage *u) {
        char synopsis[128];
        snprintf(synopsis, sizeof(synopsis), "%s%s%s", name, u->synopsis[0] ? " " : "", u->synopsis);
        fprintf(f, "  %-*s", SYNOPSIS_WIDTH, synopsis);
        if (strlen(synopsis) > SYNOPSIS_WIDTH)
                fprintf(f, "\n  %-*s", SYNOPSIS_WIDTH, "");
        for (const char *line = u->help; *line;) {
                size_t len = strcspn(line, "\n");
                fprintf(f, " %.*s\n", (int) len, line);
                line += len;
                if (*line == '\n') {
                        line++;
                        fprintf(f, "  %-*s", SYNOPSIS_WIDTH, "");
                }
        }
}

void verbs_print_help(FILE *f) {
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                for (const VerbUsage *u = verbs[i].usage; u->synopsis; u++)
                        print_usage(f, verbs[i].name, u);
}

void verbs_print_list(FILE *f) {
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
                fputs(verbs[i].name, f);
                for (const char *const *s = verbs[i].subverbs; s && *s; s++)
                        fprintf(f, " %s", *s);
                fputc('\n', f);
        }
}
