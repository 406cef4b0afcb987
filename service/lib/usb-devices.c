#include "usb-devices.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host-files.h"
#include "util.h"
#include "xml-doc.h"

static int hex4(const char *s, uint16_t *ret) {
        unsigned v = 0;
        for (int i = 0; i < 4; i++) {
                char c = s[i];
                unsigned d = c >= '0' && c <= '9' ? (unsigned) (c - '0') :
                             c >= 'a' && c <= 'f' ? (unsigned) (c - 'a' + 10) :
                             c >= 'A' && c <= 'F' ? (unsigned) (c - 'A' + 10) : 16;
                if (d > 15)
                        return -EINVAL;
                v = v * 16 + d;
        }
        *ret = (uint16_t) v;
        return 0;
}

int usb_id_parse(const char *s, UsbId *ret) {
        UsbId id;
        if (!s || strlen(s) != 9 || s[4] != ':' || hex4(s, &id.vendor) < 0 || hex4(s + 5, &id.product) < 0)
                return -EINVAL;
        *ret = id;
        return 0;
}

void usb_id_format(UsbId id, char buf[static 10]) {
        snprintf(buf, 10, "%04x:%04x", id.vendor, id.product);
}

void usb_host_device_clear(UsbHostDevice *d) {
        free(d->sysfs_name);
        free(d->manufacturer);
        free(d->product);
        *d = (UsbHostDevice) { 0 };
}

static int read_hex_attr(const char *root, const char *dev, const char *attr, uint16_t *ret) {
        _cleanup_free_ char *path = NULL, *line = NULL;
        if (asprintf(&path, "/sys/bus/usb/devices/%s/%s", dev, attr) < 0)
                return -ENOMEM;
        int r = host_read_line(root, path, &line);
        if (r < 0)
                return r;
        return hex4(line, ret) == 0 && line[4] == '\0' ? 0 : -EINVAL;
}

static char *read_attr(const char *root, const char *dev, const char *attr) {
        _cleanup_free_ char *path = NULL;
        char *line = NULL;
        if (asprintf(&path, "/sys/bus/usb/devices/%s/%s", dev, attr) < 0)
                return NULL;
        return host_read_line(root, path, &line) == 0 ? line : NULL;
}

int usb_host_find(const char *root, UsbId id, UsbHostDevice *ret) {
        char **names = NULL;
        int r = host_list_dir(root, "/sys/bus/usb/devices", &names);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        int found = 0;
        for (char **n = names; *n && !found; n++) {
                uint16_t v, p;
                /* Interfaces ("1-4:1.0") and root hubs' own entries have no matching ids. */
                if (strchr(*n, ':') || read_hex_attr(root, *n, "idVendor", &v) < 0 ||
                    read_hex_attr(root, *n, "idProduct", &p) < 0 || v != id.vendor || p != id.product)
                        continue;
                _cleanup_free_ char *bus = read_attr(root, *n, "busnum"), *dev = read_attr(root, *n, "devnum");
                *ret = (UsbHostDevice) {
                        .sysfs_name = strdup(*n),
                        .bus = bus ? (unsigned) strtoul(bus, NULL, 10) : 0,
                        .devnum = dev ? (unsigned) strtoul(dev, NULL, 10) : 0,
                        .manufacturer = read_attr(root, *n, "manufacturer"),
                        .product = read_attr(root, *n, "product"),
                };
                found = 1;
        }
        strv_free(names);
        return found;
}

/* Libvirt writes ids as 0x-prefixed hex; hand-written XML may use other cases. */
static bool id_attr_matches(xmlNodePtr node, uint16_t want) {
        xmlChar *v = node ? xmlGetProp(node, (const xmlChar *) "id") : NULL;
        bool ok = false;
        if (v) {
                char *end = NULL;
                unsigned long n = strtoul((const char *) v, &end, 16);
                ok = end != (char *) v && *end == '\0' && n == want;
        }
        xmlFree(v);
        return ok;
}

static bool hostdev_matches(xmlNodePtr hostdev, UsbId id) {
        xmlNodePtr source = xml_child(hostdev, "source");
        return source && id_attr_matches(xml_child(source, "vendor"), id.vendor) &&
               id_attr_matches(xml_child(source, "product"), id.product);
}

#define USB_HOSTDEVS "/domain/devices/hostdev[@mode='subsystem' and @type='usb']"

int usb_domain_has(const char *domain_xml, UsbId id) {
        XmlDoc x;
        int r = xml_doc_open(domain_xml, &x), n = 0, found = 0;
        if (r < 0)
                return r;
        xmlXPathObjectPtr o = xml_doc_nodes(&x, NULL, USB_HOSTDEVS, &n);
        for (int i = 0; i < n && !found; i++)
                found = hostdev_matches(o->nodesetval->nodeTab[i], id);
        xmlXPathFreeObject(o);
        xml_doc_close(&x);
        return found;
}

int usb_hostdev_xml(UsbId id, char **ret) {
        return asprintf(ret,
                        "<hostdev mode='subsystem' type='usb' managed='yes'>\n"
                        "  <source startupPolicy='optional'>\n"
                        "    <vendor id='0x%04x'/>\n"
                        "    <product id='0x%04x'/>\n"
                        "  </source>\n"
                        "</hostdev>\n",
                        id.vendor, id.product) < 0 ? -ENOMEM : 0;
}

int usb_domain_add(const char *domain_xml, UsbId id, char **ret_xml) {
        _cleanup_free_ char *hostdev = NULL;
        XmlDoc x, h;
        int r = usb_hostdev_xml(id, &hostdev);
        if (r < 0)
                return r;
        r = xml_doc_open(hostdev, &h);
        if (r < 0)
                return r;
        r = xml_doc_open(domain_xml, &x);
        if (r < 0) {
                xml_doc_close(&h);
                return r;
        }
        xmlNodePtr devices = xml_child_ensure(xmlDocGetRootElement(x.doc), "devices");
        xmlNodePtr copy = devices ? xmlDocCopyNode(xmlDocGetRootElement(h.doc), x.doc, 1) : NULL;
        if (!copy || !xmlAddChild(devices, copy)) {
                xmlFreeNode(copy);
                r = -ENOMEM;
        } else
                r = xml_doc_dump(&x, 0, ret_xml);
        xml_doc_close(&x);
        xml_doc_close(&h);
        return r;
}

int usb_domain_remove(const char *domain_xml, UsbId id, char **ret_xml) {
        XmlDoc x;
        int r = xml_doc_open(domain_xml, &x), n = 0, removed = 0;
        if (r < 0)
                return r;
        xmlXPathObjectPtr o = xml_doc_nodes(&x, NULL, USB_HOSTDEVS, &n);
        for (int i = 0; i < n; i++) {
                xmlNodePtr h = o->nodesetval->nodeTab[i];
                if (!hostdev_matches(h, id))
                        continue;
                xmlUnlinkNode(h);
                xmlFreeNode(h);
                o->nodesetval->nodeTab[i] = NULL;
                removed++;
        }
        xmlXPathFreeObject(o);
        r = removed == 0 ? -ENOENT : xml_doc_dump(&x, 0, ret_xml);
        xml_doc_close(&x);
        return r;
}
