/* VFIO and IOMMU readiness of a host, read through a root prefix (see host-files.h).
 *
 * Reads <root>/sys/bus/pci/devices/<addr>/{vendor,device,class} and the driver and
 * iommu_group links, <root>/sys/kernel/iommu_groups/<N>/devices/, <root>/sys/class/iommu,
 * <root>/proc/cmdline and the vendor_id of <root>/proc/cpuinfo. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "checks.h"

/* The devices the seed passes through: the RTX 3060 Ti and its HDMI audio function. */
#define VFIO_DEFAULT_PCI_IDS "10de:2489,10de:228b"

typedef enum VfioCpuVendor {
        VFIO_CPU_UNKNOWN,
        VFIO_CPU_INTEL,
        VFIO_CPU_AMD,
} VfioCpuVendor;

/* One device in an IOMMU group. */
typedef struct VfioGroupMember {
        char *address;          /* 0000:01:00.1 */
        char *pci_id;           /* 10de:228b, or NULL when unreadable */
        char *driver;           /* NULL when no driver is bound */
        unsigned long pci_class;/* 0x040300 */
        bool is_bridge;         /* class 0x0604xx: a PCI bridge, harmless in a group */
        bool is_blocker;        /* bound to a driver that keeps the group from VFIO */
} VfioGroupMember;

/* One configured PCI id and the device found for it. */
typedef struct VfioDevice {
        char *pci_id;           /* as configured, lowercase: 10de:2489 */
        char *address;          /* NULL when no device has this id */
        char *driver;           /* NULL when none is bound */
        char *group;            /* IOMMU group number, NULL when the device has none */
        VfioGroupMember *members;       /* every device in the group, this one included */
        size_t n_members;
} VfioDevice;

typedef struct VfioReport {
        VfioCpuVendor cpu_vendor;
        char *cpu_vendor_id;    /* GenuineIntel, AuthenticAMD, or NULL */
        char *cmdline;          /* <root>/proc/cmdline, NULL when unreadable */
        bool iommu_active;      /* IOMMU groups exist (or /sys/class/iommu has entries) */
        size_t n_groups;
        VfioDevice *devices;    /* one per configured id and matching device, in config order */
        size_t n_devices;
} VfioReport;

/* Parses a list of PCI ids separated by commas or spaces ("10de:2489,10de:228b") into a
 * NULL-terminated, lowercase list. -EINVAL on anything but hex4:hex4 or an empty list. */
int vfio_parse_pci_ids(const char *text, char ***ret);
/* true for "10de:2489" (case-insensitive). */
bool vfio_pci_id_valid(const char *id);

/* Reads the host. pci_ids NULL means VFIO_DEFAULT_PCI_IDS. A configured id that matches no
 * device still gets a VfioDevice (address NULL); one matching several devices gets one per
 * device. -EINVAL for an invalid id, -ENOMEM; a missing file is a fact, not an error. */
int vfio_report_read(const char *root, char *const *pci_ids, VfioReport *ret);
void vfio_report_clear(VfioReport *r);

/* The value of a kernel command line parameter (the last occurrence wins, as in the kernel),
 * NULL when absent; "" for a parameter with no value. */
char *vfio_cmdline_get(const char *cmdline, const char *key);

/* Adds, in this order:
 *   vfio.iommu-enabled, vfio.cmdline.iommu, vfio.cmdline.iommu-pt, vfio.cmdline.vfio-pci-ids,
 *   then for each device vfio.driver.<id> and vfio.group.<id>
 *   (with "@<address>" after the id when one id matches several devices). */
int vfio_checks(const VfioReport *r, CheckList *l);
