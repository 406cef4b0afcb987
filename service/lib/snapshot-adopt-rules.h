/* What winvm believes when it adopts snapshots it did not take (snapshot-adopt.c): libvirt's
 * snapshot XML, and the naming rule for chains without any metadata. Pure: text in, data out,
 * so the unit tests cover every rule. */
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef struct LibvirtSnapshotDisk {
        char *target;           /* <disks><disk name>: vda */
        char *overlay;          /* <disks><disk><source file>: the overlay the snapshot made */
        char *image;            /* the snapshot's <domain> disk source: the image it froze */
        char *format;           /* that disk's <driver type> in the snapshot's <domain>; "" when absent */
} LibvirtSnapshotDisk;

typedef struct LibvirtSnapshot {
        char *name;
        char *description;      /* "" when none */
        char *parent;           /* "" when none */
        char *state;            /* running, paused or shutoff (disk-snapshot counts as running) */
        uint64_t created_usec;
        LibvirtSnapshotDisk *disks;     /* external file disks only */
        size_t n_disks;
} LibvirtSnapshot;

/* Parses a <domainsnapshot> of libvirt. -EINVAL when it does not parse or has no valid name;
 * -EMEDIUMTYPE when it is not disk-only external (a memory snapshot, an internal one), which
 * winvm cannot adopt. */
int libvirt_snapshot_parse(const char *xml, LibvirtSnapshot **ret);
LibvirtSnapshot *libvirt_snapshot_free(LibvirtSnapshot *s);
const LibvirtSnapshotDisk *libvirt_snapshot_disk(const LibvirtSnapshot *s, const char *target);

/* The rule for chains without metadata, as virsh snapshot-create-as --disk-only and the seed's
 * snapshot-win-vm name overlays: an overlay is "<folder>/<stem>.<name>", in the folder of the
 * chain's base image, where stem is the base image's name without its extension and name is
 * a valid snapshot name. Returns name (malloc'd), NULL when file does not follow the rule. */
char *snapshot_adopt_name_from_file(const char *folder, const char *stem, const char *file);
