/* The state of winvmd, owned by the sd-event thread. */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "authz.h"
#include "bus-polkit.h"
#include "call-limit.h"
#include "call-ticket.h"
#include "checks.h"
#include "heap-trim.h"
#include "config.h"
#include "lv.h"
#include "mailbox.h"
#include "worker.h"

typedef struct _GHashTable GHashTable; /* glib.h's, without all of glib here */

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
        GHashTable *shared_reads; /* OpOptions.share key -> the queued read that answers it */
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
        HeapTrim *heap_trim;    /* freed heap back to the system after a burst of calls */
        uint64_t last_activity;
        sd_event_source *idle_timer;
};

Vm *daemon_find_vm(Daemon *d, const char *name);
Vm *daemon_find_vm_by_path(Daemon *d, const char *path);

void daemon_busy_inc(Daemon *d);
void daemon_busy_dec(Daemon *d);
void daemon_update_status(Daemon *d);
