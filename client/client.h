/* Shared by winvmctl's command files. */
#pragma once

#include <json-glib/json-glib.h>
#include <stdarg.h>
#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "bus-name.h"
#include "client-errors.h"

/* bus-destination.c: the name method calls go to, WINVM_BUS_NAME or WINVM_MEMBERS_BUS_NAME;
 * chosen once the bus is open. Signals are matched on WINVM_BUS_NAME. */
extern const char *client_bus_name;
void client_choose_bus_name(sd_bus *bus);

typedef struct ClientOptions {
        const char *vm;
        bool json;
        bool ask_password;
        uint32_t timeout;
        bool force;
        bool wait;
        bool readonly;
        const char *message;    /* snapshot create: the description (NULL: none) */
        bool tree;              /* snapshot list: draw the parent chain */
        bool shutdown;          /* snapshot revert: shut down first, start again after */
        bool discard_current;   /* snapshot revert: do not keep the current state */
        uint32_t p_cores, e_cores, host_p_cores; /* cpu plan */
        bool apply;             /* cpu plan: apply it to the VM */
        const char *virtiofsd;  /* shares: point every share at this virtiofsd */
        bool live;              /* usb attach/detach: the running guest only */
        bool if_running;        /* usb attach/detach: nothing to do when the guest is off (hotplug) */
        bool fix;               /* doctor: apply the repairs (Manager.Repair) */
        char **fix_ids;         /* doctor --fix: the check ids, NULL-terminated; empty for every repair */
        bool if_configured;     /* usb attach/detach: nothing to do for an id not in [Usb] Devices (hotplug) */
        bool scheduled;         /* scrub scheduled: set by it for the scrubs it starts (no progress lines) */
} ClientOptions;

/* vm-commands.c */
/* The object path of the VM to act on: --vm NAME through GetVM, else the only managed VM.
 * On failure prints why and returns minus winvmctl's exit code. */
int client_resolve_vm(sd_bus *bus, const ClientOptions *o, char **ret_path);
/* winvmctl status: every managed VM (or --vm's) as a table or --json. */
int cmd_status(sd_bus *bus, const ClientOptions *o, const char *verb, const char *arg1, const char *arg2);
/* winvmctl shutdown: waits until the guest is off (--timeout, --force). */
int cmd_shutdown(sd_bus *bus, const ClientOptions *o, const char *verb, const char *arg1, const char *arg2);
/* winvmctl start | force-stop | reboot: the VM method of that name. */
int cmd_power(sd_bus *bus, const ClientOptions *o, const char *verb, const char *arg1, const char *arg2);

/* terminal.c */
/* Whether the user's locale (LANG, LC_*) is UTF-8, so box-drawing characters show; the
 * program's own locale is left as it was. */
bool client_locale_is_utf8(void);

/* bus-json.c */
/* Prints a JSON node (a JsonNode *) pretty and frees it. */
void client_print_json(void *json_node);
/* Prints {"LIST_NAME": [list...], "result": result}, the --json of a change that reports
 * what it touched and a sentence. */
void client_print_list_and_result(const char *list_name, char **list, const char *result);
/* Reads one complete value of any type from the reader's position and adds it to the JSON
 * being built: dictionaries with string keys become objects, other arrays and structs
 * arrays, integers numbers (uint64 as int64), file descriptors null. Negative errno when the
 * message does not read. */
int client_bus_value_to_json(sd_bus_message *m, JsonBuilder *b);
/* Adds the entries of an a{sv} the reader is inside of to the JSON object being built. */
int client_dict_to_json(sd_bus_message *reply, JsonBuilder *b);

/* scrub-commands.c */
int cmd_scrub(sd_bus *bus, const ClientOptions *o, const char *verb, const char *action, const char *fs);
int cmd_jobs(sd_bus *bus, const ClientOptions *o, const char *verb, const char *arg1, const char *arg2);
int cmd_storage(sd_bus *bus, const ClientOptions *o, const char *verb, const char *arg1, const char *arg2);

/* snapshot-commands.c */
/* winvmctl snapshot create|list|revert|delete; action NULL means list. */
int cmd_snapshot(sd_bus *bus, const ClientOptions *o, const char *verb, const char *action, const char *name);
/* The arguments and options of a snapshot command, checked before connecting to the bus, so
 * that a mistake is reported as one (exit 2) and never leads to a password prompt. */
int cmd_snapshot_check(const ClientOptions *o, const char *verb, const char *action, const char *name);

/* host-commands.c */
/* Calls a method, letting polkit ask for a password unless --no-ask-password (timeout 0: the
 * bus default). 0, or minus winvmctl's exit code after printing why. */
int client_call(sd_bus *bus, const ClientOptions *o, const char *path, const char *interface, const char *member,
                uint64_t timeout_usec, sd_bus_message **ret_reply, const char *types, ...);
int client_callv(sd_bus *bus, const ClientOptions *o, const char *path, const char *interface, const char *member,
                 uint64_t timeout_usec, sd_bus_message **ret_reply, const char *types, va_list ap);
/* The same call, with the error left in error for the caller to report its own way. */
/* The reply timeout of calls that change something: none. libvirt may take long to start a
 * guest with passthrough devices, and polkit may be waiting for a password typed at the agent. */
#define CLIENT_CHANGE_TIMEOUT UINT64_MAX
int client_call_unreported(sd_bus *bus, const ClientOptions *o, const char *path, const char *interface,
                           const char *member, uint64_t timeout_usec, sd_bus_error *error, sd_bus_message **ret_reply,
                           const char *types, va_list ap);
/* client_call() on the VM's object (--vm, or the only VM). */
int client_vm_call(sd_bus *bus, const ClientOptions *o, const char *interface, const char *member,
                   uint64_t timeout_usec, sd_bus_message **ret_reply, const char *types, ...);
/* Prints the a(ssss) checks the reader is at, as a checklist or (--json) an object with
 * "checks" and "summary". The exit code: 1 when a check failed, else 0. */
int client_print_checks(sd_bus_message *reply, const ClientOptions *o);
/* winvmctl doctor: Manager.Doctor for --vm (or the first VM) as a checklist or --json. Exit
 * code 1 when a check failed (warnings do not count), else 0. With --fix: cmd_doctor_fix(). */
int cmd_doctor(sd_bus *bus, const ClientOptions *o, const char *verb, const char *arg1, const char *arg2);
/* doctor-fix.c */
/* winvmctl doctor --fix [ID...]: Manager.Repair, then its result (or --json: repaired, result). */
int cmd_doctor_fix(sd_bus *bus, const ClientOptions *o);
/* winvmctl kvmfr status|load|unload|apply-permissions; action NULL means status. status exits
 * 1 when a check failed, as doctor does. */
int cmd_kvmfr(sd_bus *bus, const ClientOptions *o, const char *verb, const char *action, const char *arg2);
/* winvmctl vfio: the passthrough devices, their IOMMU groups, the host, and the checks (exit
 * code as doctor's). */
int cmd_vfio(sd_bus *bus, const ClientOptions *o, const char *verb, const char *arg1, const char *arg2);
/* The arguments and options of doctor, kvmfr and vfio (verb), checked before connecting to
 * the bus: EXIT_OK or EXIT_USAGE after printing why. doctor takes check ids (action is the
 * first) only with --fix. */
int cmd_host_check(const ClientOptions *o, const char *verb, const char *action, const char *arg2);

/* list-commands.c */
/* winvmctl list vms|snapshots|filesystems|usb (what NULL means vms; cmd_list_check() has
 * checked it): names only, one per line, or a JSON array with --json; for scripts and shell
 * completion. */
int cmd_list(sd_bus *bus, const ClientOptions *o, const char *verb, const char *what, const char *arg2);
/* The argument of list, checked before connecting to the bus. */
int cmd_list_check(const ClientOptions *o, const char *verb, const char *what, const char *arg2);

/* config-commands.c */
/* winvmctl cpu [check|plan]: the host topology, the VM's pinning checks, or a plan (--apply). */
int cmd_cpu(sd_bus *bus, const ClientOptions *o, const char *verb, const char *action, const char *arg2);
/* winvmctl usb [list] | attach ID | detach ID. */
int cmd_usb(sd_bus *bus, const ClientOptions *o, const char *verb, const char *action, const char *id);
/* winvmctl shares [--set-virtiofsd PATH]. */
int cmd_shares(sd_bus *bus, const ClientOptions *o, const char *verb, const char *arg1, const char *arg2);
/* winvmctl define | export | diff | undo | history: the VM's definition file and its kept versions. */
int cmd_definition(sd_bus *bus, const ClientOptions *o, const char *verb, const char *arg1, const char *arg2);
/* The arguments of cpu and usb, checked before connecting to the bus. */
int cmd_config_check(const ClientOptions *o, const char *verb, const char *action, const char *arg);
