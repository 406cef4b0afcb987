#include "vm-state.h"

#include <libvirt/libvirt.h>

#include "util.h"

const char *vm_state_to_string(int state) {
        switch (state) {
        case VIR_DOMAIN_RUNNING:
        case VIR_DOMAIN_BLOCKED: /* running, waiting on a resource */
                return "running";
        case VIR_DOMAIN_PAUSED:
                return "paused";
        case VIR_DOMAIN_SHUTDOWN:
                return "shutting-down";
        case VIR_DOMAIN_SHUTOFF:
                return "shutoff";
        case VIR_DOMAIN_CRASHED:
                return "crashed";
        case VIR_DOMAIN_PMSUSPENDED:
                return "pmsuspended";
        default:
                return "unknown";
        }
}

static const char *const running_reasons[] = {
        [VIR_DOMAIN_RUNNING_BOOTED] = "booted",
        [VIR_DOMAIN_RUNNING_MIGRATED] = "migrated",
        [VIR_DOMAIN_RUNNING_RESTORED] = "restored",
        [VIR_DOMAIN_RUNNING_FROM_SNAPSHOT] = "from-snapshot",
        [VIR_DOMAIN_RUNNING_UNPAUSED] = "unpaused",
        [VIR_DOMAIN_RUNNING_MIGRATION_CANCELED] = "migration-canceled",
        [VIR_DOMAIN_RUNNING_SAVE_CANCELED] = "save-canceled",
        [VIR_DOMAIN_RUNNING_WAKEUP] = "wakeup",
        [VIR_DOMAIN_RUNNING_CRASHED] = "crashed",
        [VIR_DOMAIN_RUNNING_POSTCOPY] = "postcopy",
};

static const char *const paused_reasons[] = {
        [VIR_DOMAIN_PAUSED_USER] = "user",
        [VIR_DOMAIN_PAUSED_MIGRATION] = "migration",
        [VIR_DOMAIN_PAUSED_SAVE] = "save",
        [VIR_DOMAIN_PAUSED_DUMP] = "dump",
        [VIR_DOMAIN_PAUSED_IOERROR] = "ioerror",
        [VIR_DOMAIN_PAUSED_WATCHDOG] = "watchdog",
        [VIR_DOMAIN_PAUSED_FROM_SNAPSHOT] = "from-snapshot",
        [VIR_DOMAIN_PAUSED_SHUTTING_DOWN] = "shutting-down",
        [VIR_DOMAIN_PAUSED_SNAPSHOT] = "snapshot",
        [VIR_DOMAIN_PAUSED_CRASHED] = "crashed",
        [VIR_DOMAIN_PAUSED_STARTING_UP] = "starting-up",
};

static const char *const shutdown_reasons[] = {
        [VIR_DOMAIN_SHUTDOWN_USER] = "user",
};

static const char *const shutoff_reasons[] = {
        [VIR_DOMAIN_SHUTOFF_SHUTDOWN] = "shutdown",
        [VIR_DOMAIN_SHUTOFF_DESTROYED] = "destroyed",
        [VIR_DOMAIN_SHUTOFF_CRASHED] = "crashed",
        [VIR_DOMAIN_SHUTOFF_MIGRATED] = "migrated",
        [VIR_DOMAIN_SHUTOFF_SAVED] = "saved",
        [VIR_DOMAIN_SHUTOFF_FAILED] = "failed",
        [VIR_DOMAIN_SHUTOFF_FROM_SNAPSHOT] = "from-snapshot",
        [VIR_DOMAIN_SHUTOFF_DAEMON] = "daemon",
};

static const char *const crashed_reasons[] = {
        [VIR_DOMAIN_CRASHED_PANICKED] = "panicked",
};

static const char *lookup(const char *const *table, size_t n, int reason) {
        if (reason < 0 || (size_t) reason >= n || !table[reason])
                return "";
        return table[reason];
}

const char *vm_state_reason_to_string(int state, int reason) {
        switch (state) {
        case VIR_DOMAIN_RUNNING:
                return lookup(running_reasons, ELEMENTSOF(running_reasons), reason);
        case VIR_DOMAIN_PAUSED:
                return lookup(paused_reasons, ELEMENTSOF(paused_reasons), reason);
        case VIR_DOMAIN_SHUTDOWN:
                return lookup(shutdown_reasons, ELEMENTSOF(shutdown_reasons), reason);
        case VIR_DOMAIN_SHUTOFF:
                return lookup(shutoff_reasons, ELEMENTSOF(shutoff_reasons), reason);
        case VIR_DOMAIN_CRASHED:
                return lookup(crashed_reasons, ELEMENTSOF(crashed_reasons), reason);
        default:
                return "";
        }
}

bool vm_state_is_active(int state) {
        return state == VIR_DOMAIN_RUNNING || state == VIR_DOMAIN_BLOCKED || state == VIR_DOMAIN_PAUSED ||
               state == VIR_DOMAIN_SHUTDOWN || state == VIR_DOMAIN_PMSUSPENDED || state == VIR_DOMAIN_CRASHED;
}
