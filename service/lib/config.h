/* winvm.conf: read with GKeyFile, validated in full before the service starts. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define WINVM_DEFAULT_CONFIG "/etc/winvm/winvm.conf"
#define WINVM_SHUTDOWN_TIMEOUT_MAX 3600u

typedef struct WinvmConfig {
        char *libvirt_uri;            /* [Service] LibvirtURI */
        char **vms;                   /* [Service] VMs, NULL-terminated, unique, valid names */
        char *state_dir;              /* [Service] StateDirectory, absolute */
        uint32_t idle_timeout_sec;    /* [Service] IdleTimeoutSec, 0 = never exit on idle */
        uint32_t shutdown_timeout_sec;/* [Service] ShutdownTimeoutSec, used for Shutdown(0, ...) */
        uint32_t startup_read_wait_sec;/* [Service] StartupReadWaitSec, 0 = reads never wait */
        char **fs_names;              /* [Storage] Filesystems=name:/mount/point ..., names */
        char **fs_paths;              /* and their mount points, same order */
        uint64_t scrub_interval_sec;  /* [Storage] ScrubInterval: how often winvm-scrub.timer scrubs, 0 = off */

        char *host_root;              /* [Host] Root: where /sys, /proc, /dev and /etc are read */
        char *desktop_user;           /* [Host] DesktopUser: whose libvirt session to check, or NULL */

        uint32_t kvmfr_width, kvmfr_height; /* [Kvmfr] Resolution=WIDTHxHEIGHT */
        bool kvmfr_hdr;               /* [Kvmfr] HDR */
        char *kvmfr_owner;            /* [Kvmfr] Owner, NULL = none */
        char *kvmfr_group;            /* [Kvmfr] Group */
        uint32_t kvmfr_mode;          /* [Kvmfr] Mode, octal */
        char *kvmfr_device;           /* [Kvmfr] Device */
        char *kvmfr_udev_rule;        /* [Kvmfr] UdevRule: the rule file ApplyPermissions writes */
        char *kvmfr_modprobe;         /* [Kvmfr] ModprobeOptions: the options file it writes */
        char *qemu_conf;              /* [Kvmfr] QemuConf: libvirt's qemu.conf, read only */

        char **vfio_ids;              /* [Vfio] Devices: vendor:device PCI ids */

        char *cpu_host_cpus;          /* [Cpu] HostCPUs: cpulist kept for the host, NULL = none */
        char **usb_ids;               /* [Usb] Devices: vendor:product ids winvm may pass through */
        char **virtiofsd_allowed;     /* [Virtiofs] AllowedBinaries: absolute paths */
        char **definition_vms;        /* [Definitions] VM=FILE: the canonical XML file of a VM */
        char **definition_files;      /* same order as definition_vms */
} WinvmConfig;

/* The index of a configured filesystem given by name or by its exact mount point; -1 if none. */
int config_find_filesystem(const WinvmConfig *c, const char *name_or_path);

/* The configured definition file of a VM, or NULL. */
const char *config_definition_file(const WinvmConfig *c, const char *vm);

/* Defaults, as documented in winvm.conf(5). */
WinvmConfig *config_new_default(void);

/* Loads PATH over the defaults. A missing file is an error only when must_exist is set
 * (an explicit --config); then the defaults apply. On an invalid value returns -EINVAL and
 * sets *ret_error to a message naming the file, key and value. Unknown groups and keys are
 * collected in *ret_warnings (NULL-terminated, may be NULL when there are none). */
int config_load(const char *path, bool must_exist, WinvmConfig **ret, char **ret_error, char ***ret_warnings);

/* Parses the same format from a string; path is only used in messages. */
int config_load_from_data(const char *data, const char *path, WinvmConfig **ret, char **ret_error,
                          char ***ret_warnings);

WinvmConfig *config_free(WinvmConfig *c);
