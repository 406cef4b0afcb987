/* Reading facts out of a libvirt domain XML with libxml2 XPath. Pure: takes the XML text. */
#pragma once

/* The file-backed disk images of the domain (<disk type='file' device='disk'> sources), in
 * document order, NULL-terminated. -EINVAL when the XML does not parse. */
int domain_xml_disk_files(const char *xml, char ***ret_files);

#include <stdbool.h>
#include <stddef.h>

/* A disk a snapshot covers: file-backed, device 'disk', writable. */
typedef struct DomainDisk {
        char *target;   /* <target dev>, e.g. vda */
        char *file;     /* <source file> */
        char *format;   /* <driver type>, "raw" when absent */
} DomainDisk;

/* The disks of the domain that snapshots cover, in document order (read-only and shareable
 * disks, CD-ROMs and non-file disks are left out). -EINVAL when the XML does not parse. */
int domain_xml_snapshot_disks(const char *xml, DomainDisk **ret_disks, size_t *ret_n);
void domain_disks_free(DomainDisk *disks, size_t n);

/* A copy of xml whose disks with the given targets use new qcow2 source files (their
 * <backingStore> dropped: the chain is read from the images). -ENOENT when a target is
 * missing, -EINVAL when the XML does not parse. */
int domain_xml_set_disk_sources(const char *xml, char *const *targets, char *const *files, size_t n,
                                char **ret_xml);

/* The <os><nvram> file, or NULL in *ret when the domain has none. */
int domain_xml_nvram(const char *xml, char **ret);
/* The <uuid>. */
int domain_xml_uuid(const char *xml, char **ret);
/* 1 when the domain has an emulated TPM (swtpm keeps state for it), else 0. */
int domain_xml_has_swtpm(const char *xml);

/* The <domainsnapshot> XML for a disk-only external snapshot: the disks in targets get the
 * qcow2 overlays in files; every other disk of domain_xml gets snapshot='no'. */
int domain_xml_snapshot_request(const char *domain_xml, const char *name, const char *description,
                                char *const *targets, char *const *files, size_t n, char **ret_xml);

/* A copy of new_xml in which each <graphics> that has no passwd takes the passwd (and
 * passwdValidTo) of the first <graphics> of the same type in current_xml that has one.
 * libvirt leaves passwords out of a definition unless asked for secure XML, so a definition
 * read that way (an exported file, say) would otherwise define the VM without them.
 * *ret_xml is NULL when nothing was carried over. -EINVAL when either does not parse. */
int domain_xml_keep_graphics_passwords(const char *current_xml, const char *new_xml, char **ret_xml);
