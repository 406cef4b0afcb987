/* The one <qemu:commandline> winvm writes itself: Looking Glass's IVSHMEM device on a kvmfr
 * device, as in the seed (QEMU's JSON form, an ivshmem-plain device on a shared
 * memory-backend-file). The doctor's repair writes it and the definition guard admits exactly
 * it, nothing else of qemu:commandline, so both build it here. Pure (libxml2). */
#pragma once

#include <libxml/tree.h>
#include <stdbool.h>

#define IVSHMEM_QEMU_NS "http://libvirt.org/schemas/domain/qemu/1.0"
#define IVSHMEM_N_ARGS 4

/* Whether device is a kvmfr device node path: /dev/kvmfrN. */
bool ivshmem_device_valid(const char *device);

/* The four <qemu:arg value> strings for device and size (bytes), malloc'd into ret.
 * -EINVAL for a device that is not /dev/kvmfrN or a size of 0, -ENOMEM. */
int ivshmem_construct_args(const char *device, unsigned long long size, char *ret[IVSHMEM_N_ARGS]);
void ivshmem_construct_args_free(char *args[IVSHMEM_N_ARGS]);

/* Whether el (a <qemu:commandline>) is exactly the construct: no attributes, no text, and the
 * four <qemu:arg value> children in order with nothing else on them. */
bool ivshmem_construct_matches(xmlNodePtr el, const char *device, unsigned long long size);

/* Puts the construct into the domain (its root element), declaring the qemu namespace. An
 * existing <qemu:commandline> is replaced only when it holds an IVSHMEM device and nothing else
 * (four arguments: -device ivshmem-plain and -object of its backend); anything else in it is
 * an administrator's, and -EEXIST leaves the document as it was. 0, -EINVAL, -ENOMEM. */
int ivshmem_construct_write(xmlDocPtr doc, const char *device, unsigned long long size);
