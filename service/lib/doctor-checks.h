/* The doctor: every readiness check of the seed's Troubleshooting section, with a remedy each.
 * kvmfr.* come from kvmfr-checks.h, vfio.* from vfio-checks.h; the vm.* checks here read the
 * domain XML (libxml2 XPath) and host files through the root prefix. Pure apart from reading
 * files under the root: no libvirt, no bus. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "checks.h"
#include "host-files.h"
#include "kvmfr-checks.h"
#include "virtiofsd-checks.h"

/* What the caller knows about one disk image (winvmd reads the flags in storage-images.c). */
typedef struct DoctorImage {
        const char *path;
        int nocow;              /* 1 NOCOW, 0 not, or a negative errno when it could not be read */
} DoctorImage;

typedef struct DoctorInput {
        const char *root;               /* NULL, "" or "/": the real host */
        const char *domain_xml;         /* the VM's definition; NULL: vm.* and IVSHMEM checks skipped */
        const char *user;               /* the desktop user (for vm.session-duplicate); NULL: skipped */
        const KvmfrConfig *kvmfr;       /* NULL: defaults */
        const HostOps *ops;             /* NULL: the real lstat/lgetxattr */
        char *const *pci_ids;           /* NULL: VFIO_DEFAULT_PCI_IDS */
        bool images_known;              /* false: vm.images-nocow is skipped */
        const DoctorImage *images;
        size_t n_images;
        /* The polkit group: when user is NULL and it has one member, that member is the desktop
         * user (desktop-user.h), shown as host.desktop-user; NULL: no such default. */
        const char *polkit_group;
        /* What virtiofsd_facts_read() found (it spawns, so the caller reads it on a worker);
         * NULL: vm.virtiofsd-version and vm.virtiofsd-running are skipped. */
        const VirtiofsdFacts *virtiofsd;
} DoctorInput;

/* The vm.* checks, in this order: vm.memballoon, vm.hyperv, vm.kvm-hidden, vm.vendor-id,
 * vm.cpu-pinning, vm.virtiofsd, vm.session-duplicate, vm.images-nocow, vm.input. Without a domain XML (or
 * with one that does not parse) every XML check is skipped with the reason. 0 or -ENOMEM. */
int doctor_vm_checks(const DoctorInput *in, CheckList *l);

/* Everything: host.desktop-user (when polkit_group is given), the kvmfr.* checks (the kvmfr
 * owner defaults to the desktop user), the vfio.* checks, the vm.* checks, then
 * vm.virtiofsd-version and vm.virtiofsd-running (when virtiofsd is given). 0, -ENOMEM, or
 * -EINVAL for a bad kvmfr config or PCI id. */
int doctor_run(const DoctorInput *in, CheckList *l);
