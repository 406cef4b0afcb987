/* USB passthrough, the pure part: configured vendor:product ids, whether such a device is
 * plugged into the host (sysfs through a root prefix), whether the guest's definition has it,
 * and the <hostdev> XML that passes it through. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef struct UsbId {
        uint16_t vendor, product;
} UsbId;

/* "256c:006d" (four lower- or upper-case hex digits each) -> id. -EINVAL otherwise. */
int usb_id_parse(const char *s, UsbId *ret);
/* "256c:006d" into buf (at least 10 bytes). */
void usb_id_format(UsbId id, char buf[static 10]);

/* A USB device plugged into the host, as sysfs describes it. */
typedef struct UsbHostDevice {
        char *sysfs_name;       /* "1-4", "3-2.1" */
        unsigned bus, devnum;
        char *manufacturer;     /* may be NULL */
        char *product;          /* may be NULL */
} UsbHostDevice;

/* The first device under <root>/sys/bus/usb/devices with this id: 1 and *ret filled, 0 when
 * none is plugged in, -errno when sysfs cannot be read. */
int usb_host_find(const char *root, UsbId id, UsbHostDevice *ret);
void usb_host_device_clear(UsbHostDevice *d);

/* 1 when domain_xml has a USB <hostdev> for this vendor:product, 0 when not, -EINVAL when it
 * does not parse. */
int usb_domain_has(const char *domain_xml, UsbId id);

/* The <hostdev> element libvirt attaches for id. startupPolicy 'optional' lets the guest boot
 * while the device is unplugged; the hotplug rule attaches it when it comes. */
int usb_hostdev_xml(UsbId id, char **ret);

/* A copy of domain_xml with the <hostdev> of usb_hostdev_xml() added to its devices: what
 * the definition will be after an attach, for the definition guard. */
int usb_domain_add(const char *domain_xml, UsbId id, char **ret_xml);

/* A copy of domain_xml without the USB <hostdev> elements of id; -ENOENT when it has none. */
int usb_domain_remove(const char *domain_xml, UsbId id, char **ret_xml);
