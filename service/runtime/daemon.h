/* The state of winvmd, owned by the sd-event thread. */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "authz.h"
#include "bus-polkit.h"
#include "call-limit.h"
#include "checks.h"
#include "config.h"
#include "lv.h"
#include "mailbox.h"
#include "worker.h"

typedef struct Daemon Daemon;
typedef struct Vm Vm;
typedef struct ShutdownWait ShutdownWait;
typedef struct HostCache HostCache;

#define HOST_PATH "/org/winvm1/host"
#define STORAGE_PATH "/org/winvm1/storage"

/* What org.winvm1.VM last published, to signal only what changed. */
typedef struct VmPublished {
        const char *state;
        const char *reason;
        char uuid[37];
        bool autostart;
        unsigned vcpus;
        uint64_t memory_mib;
} VmPublished;

struct Vm {
        Daemon *daemon;
        char *name;
        char *path;
        LvDomainInfo info;      /* last answer from libvirt */
        bool info_valid;        /* info answers for the current connection */
        bool info_before_outage; /* info is what libvirt said before the connection dropped */
        VmPublished published;
        ShutdownWait *waits;    /* Shutdown calls waiting for the guest to power off */
        bool refreshing, refresh_again;
        struct SnapshotSet *snapshots; /* as last read from the state folder; NULL until then */
        bool snapshot_busy;     /* a create, revert or delete runs */
        /* For the journal: the call whose success the next refresh will see (start,
         * force-stop), its caller and job id (0: none); NULL when none. */
        const char *log_operation;
        uid_t log_uid;
        uint64_t log_job_id;
};

struct Daemon {
        WinvmConfig *config;
        sd_event *event;
        sd_bus *bus;
        sd_bus *members_bus;    /* WINVM_MEMBERS_BUS_NAME: the same objects, for the group only */
        Mailbox *mailbox;
        Worker *worker;         /* lifecycle calls, state refreshes and reads on the main libvirt connection (lv.c) */
        Worker *host_worker;    /* host reads: sysfs, /dev, statfs, btrfs ioctls; the Kvmfr, Vfio and Doctor checks */
        Worker *definition_worker; /* reads and changes of a VM's definition and disks, one at a
                                    * time: snapshots, the configuration calls; own libvirt connection */
        struct StorageFs **filesystems;
        size_t n_filesystems;
        Lv *lv;
        Authz *authz;
        BusPolkit *polkit;
        CallLimit *call_limit;  /* bus calls queued on the workers, per uid and in all */
        CallLimit *lifecycle_limit; /* Start, Shutdown, ForceStop, Reboot: per uid only */
        struct StartupHold *startup_hold; /* reads waiting for the VMs' first states */

        Vm **vms;
        size_t n_vms;

        HostCache *host_cache;  /* Kvmfr's properties, read on the host worker */
        unsigned n_config_queued; /* vm-config-dbus.c calls on the definition worker, capped */

        bool connected;
        unsigned gen;           /* generation of the current libvirt connection */
        bool connecting;
        unsigned reconnect_attempt;
        sd_event_source *reconnect_timer;

        struct Job **jobs;      /* running and lingering jobs */
        size_t n_jobs;
        uint64_t last_job_id;

        unsigned n_busy;        /* calls in flight and waits; they keep the service from idling out */
        uint64_t last_activity;
        sd_event_source *idle_timer;
};

Vm *daemon_find_vm(Daemon *d, const char *name);
Vm *daemon_find_vm_by_path(Daemon *d, const char *path);

/* vm.c */
Vm *vm_new(Daemon *d, const char *name);
Vm *vm_free(Vm *vm);
void vm_refresh(Vm *vm);
void vm_publish(Vm *vm);
const char *vm_state_string(Vm *vm);
const char *vm_reason_string(Vm *vm);
void vm_add_shutdown_wait(Vm *vm, sd_bus_message *m, uint32_t timeout_sec, bool force_after, uid_t uid);

/* vm-dbus.c */
extern const sd_bus_vtable vm_vtable[];
int vm_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                   sd_bus_error *error);
int vm_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error);

/* vm-get-definition.c */
int vm_method_get_definition(sd_bus_message *m, void *userdata, sd_bus_error *error);

/* snapshot-dbus.c */
int vm_snapshots_load(Vm *vm);
int vm_method_create_snapshot(sd_bus_message *m, void *userdata, sd_bus_error *error);
int vm_method_revert_snapshot(sd_bus_message *m, void *userdata, sd_bus_error *error);
int vm_method_delete_snapshot(sd_bus_message *m, void *userdata, sd_bus_error *error);
int vm_method_adopt_snapshots(sd_bus_message *m, void *userdata, sd_bus_error *error);
int vm_method_list_snapshots(sd_bus_message *m, void *userdata, sd_bus_error *error);
int vm_property_get_snapshots(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error);

/* host-dbus.c */
extern const sd_bus_vtable kvmfr_vtable[];
extern const sd_bus_vtable vfio_vtable[];
int host_init(Daemon *d);
void host_done_all(Daemon *d);
int manager_method_doctor(sd_bus_message *m, void *userdata, sd_bus_error *error);
int manager_method_repair(sd_bus_message *m, void *userdata, sd_bus_error *error);
/* Appends checks as the a(ssss) every Check method and Doctor return. */
int bus_append_checks(sd_bus_message *reply, const CheckList *l);

/* vm-config-dbus.c */
extern const sd_bus_vtable cpu_vtable[];
extern const sd_bus_vtable usb_vtable[];
extern const sd_bus_vtable shares_vtable[];
extern const sd_bus_vtable definition_vtable[];

/* manager-dbus.c */
extern const sd_bus_vtable manager_vtable[];
int manager_read_gate(sd_bus_message *m, void *userdata, sd_bus_error *error);

/* libvirt-link.c: connection, reconnection and lifecycle events. */
void daemon_connect_libvirt(Daemon *d);
void daemon_on_lifecycle(void *userdata, char *name);
void daemon_on_closed(void *userdata, unsigned gen);
/* Dispatches the reads held at start-up once every VM's state is known, or at once when
 * unconditionally (the states cannot be known for now). */
void daemon_release_held_reads(Daemon *d, bool unconditionally);

/* Forces the VM off for a Shutdown call whose wait ran out; replies to m when done. */
int vm_force_stop_after_timeout(Vm *vm, sd_bus_message *m, struct Job *job, uid_t uid);

void daemon_busy_inc(Daemon *d);
void daemon_busy_dec(Daemon *d);
void daemon_update_status(Daemon *d);

/* A bus call's place under the limits of call-limit.h: taken before its work is queued, given
 * back when it is answered (call-ticket.c). */
typedef struct CallTicket {
        uid_t uid;
        bool held, in_total;
} CallTicket;

/* 0 with t held, or -EBUSY with *error set to org.winvm1.Error.Busy saying which cap was hit.
 * in_total: false for lifecycle calls, which count against a per-user cap of their own only. */
int daemon_call_enter(Daemon *d, sd_bus_message *m, bool in_total, CallTicket *t, sd_bus_error *error);
void daemon_call_leave(Daemon *d, CallTicket *t);
