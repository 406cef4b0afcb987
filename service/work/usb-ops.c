/* org.winvm1.Usb on the worker: which configured devices are plugged in and attached, and
 * attaching or detaching one, live through libvirt and in the persistent definition. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "definition-history.h"
#include "errors.h"
#include "util.h"
#include "vm-config-ops.h"

static char *device_name(const UsbHostDevice *d) {
        char *s = NULL;
        if (asprintf(&s, "%s%s%s", d->manufacturer ? d->manufacturer : "", d->manufacturer && d->product ? " " : "",
                     d->product ? d->product : "") < 0)
                return NULL;
        return s;
}

static void list(VmConfigOp *op, virConnectPtr conn, virDomainPtr dom) {
        (void) conn;
        bool active = virDomainIsActive(dom) == 1;
        _cleanup_free_ char *persistent = vm_config_domain_xml(dom, false, false);
        _cleanup_free_ char *live = active ? vm_config_domain_xml(dom, true, false) : NULL;
        size_t n = strv_length(op->config->usb_ids);
        op->usb_status = calloc(n + 1, sizeof(UsbStatus));
        if (!op->usb_status) {
                vm_config_fail(op, WINVM_ERROR_FAILED, NULL);
                return;
        }
        for (size_t i = 0; i < n; i++) {
                UsbStatus *s = &op->usb_status[op->n_usb_status++];
                UsbId id;
                if (usb_id_parse(op->config->usb_ids[i], &id) < 0)
                        continue;
                usb_id_format(id, s->id);
                UsbHostDevice dev = { 0 };
                s->present = usb_host_find(op->config->host_root, id, &dev) > 0;
                s->name = s->present ? device_name(&dev) : strdup("");
                usb_host_device_clear(&dev);
                s->persistent = persistent && usb_domain_has(persistent, id) > 0;
                s->live = live && usb_domain_has(live, id) > 0;
        }
}

static void attach(VmConfigOp *op, virConnectPtr conn, virDomainPtr dom, const char *id, const char *xml) {
        bool active = virDomainIsActive(dom) == 1;
        if (!active && (op->flags & USB_FLAG_IF_RUNNING)) {
                op->result = strdup("the guest is not running; nothing attached");
                return;
        }
        if (!active && (op->flags & USB_FLAG_LIVE_ONLY)) {
                vm_config_failf(op, WINVM_ERROR_NOT_RUNNING, "VM %s is not running, so nothing can be attached live", op->vm);
                return;
        }
        UsbHostDevice dev = { 0 };
        int r = usb_host_find(op->config->host_root, op->usb, &dev);
        if (r <= 0) {
                vm_config_failf(op, WINVM_ERROR_NOT_FOUND, r < 0 ? "cannot read the USB devices of this host: %s" :
                                "USB device %s is not plugged into this host; plug it in and try again",
                                r < 0 ? strerror(-r) : id);
                return;
        }
        _cleanup_free_ char *name = device_name(&dev);
        usb_host_device_clear(&dev);

        bool live_done = false, config_done = false;
        if (active) {
                _cleanup_free_ char *live = vm_config_domain_xml(dom, true, false);
                if (live && usb_domain_has(live, op->usb) > 0)
                        live_done = true;   /* already there */
                else if (virDomainAttachDeviceFlags(dom, xml, VIR_DOMAIN_AFFECT_LIVE) < 0) {
                        vm_config_fail_libvirt(op, WINVM_ERROR_LIBVIRT, "libvirt could not attach the device to the running guest");
                        return;
                } else
                        live_done = true;
        }
        if (!(op->flags & USB_FLAG_LIVE_ONLY)) {
                _cleanup_free_ char *persistent = vm_config_domain_xml(dom, false, true);
                if (persistent && usb_domain_has(persistent, op->usb) > 0)
                        config_done = true;
                else {
                        /* A configured device is on the allowlist; checked all the same, as every
                         * change of the definition is. */
                        _cleanup_free_ char *kept = NULL, *with = NULL;
                        if (persistent && usb_domain_add(persistent, op->usb, &with) == 0 &&
                            vm_config_guard(op, persistent, with) < 0)
                                return;
                        r = persistent ? definition_history_keep(op->config->state_dir, op->vm, "usb-attach", persistent, &kept) :
                                         -EIO;
                        if (r < 0) {
                                vm_config_failf(op, WINVM_ERROR_FAILED, "cannot keep the current definition for undo: %s",
                                                strerror(-r));
                                return;
                        }
                        if (virDomainAttachDeviceFlags(dom, xml, VIR_DOMAIN_AFFECT_CONFIG) < 0) {
                                (void) definition_history_drop(kept);
                                vm_config_fail_libvirt(op, WINVM_ERROR_LIBVIRT,
                                                       live_done ? "the device is attached to the running guest, but libvirt could not add it to the definition" :
                                                                   "libvirt could not add the device to the definition");
                                return;
                        }
                        definition_history_prune(op->config->state_dir, op->vm);
                        op->definition_changed = true;
                        config_done = true;
                }
        }
        (void) conn;
        if (asprintf(&op->result, "%s%s%s: %s%s%s", id, name && *name ? " " : "", name ? name : "",
                     live_done ? "attached to the running guest" : "",
                     live_done && config_done ? " and " : "", config_done ? "in the definition" : "") < 0)
                op->result = NULL;
}

static void detach(VmConfigOp *op, virDomainPtr dom, const char *id, const char *xml) {
        bool active = virDomainIsActive(dom) == 1;
        if (!active && (op->flags & USB_FLAG_IF_RUNNING)) {
                op->result = strdup("the guest is not running; nothing detached");
                return;
        }
        _cleanup_free_ char *live = active ? vm_config_domain_xml(dom, true, false) : NULL;
        _cleanup_free_ char *persistent = vm_config_domain_xml(dom, false, true);
        bool in_live = live && usb_domain_has(live, op->usb) > 0;
        bool in_config = !(op->flags & USB_FLAG_LIVE_ONLY) && persistent && usb_domain_has(persistent, op->usb) > 0;
        if (!in_live && !in_config) {
                vm_config_failf(op, WINVM_ERROR_NOT_FOUND, "USB device %s is not attached to VM %s%s", id, op->vm,
                                op->flags & USB_FLAG_LIVE_ONLY ? " (live)" : "");
                return;
        }
        if (in_live && virDomainDetachDeviceFlags(dom, xml, VIR_DOMAIN_AFFECT_LIVE) < 0) {
                vm_config_fail_libvirt(op, WINVM_ERROR_LIBVIRT, "libvirt could not detach the device from the running guest");
                return;
        }
        if (in_config) {
                _cleanup_free_ char *kept = NULL;
                int r = definition_history_keep(op->config->state_dir, op->vm, "usb-detach", persistent, &kept);
                if (r < 0) {
                        vm_config_failf(op, WINVM_ERROR_FAILED, "cannot keep the current definition for undo: %s", strerror(-r));
                        return;
                }
                if (virDomainDetachDeviceFlags(dom, xml, VIR_DOMAIN_AFFECT_CONFIG) < 0) {
                        (void) definition_history_drop(kept);
                        vm_config_fail_libvirt(op, WINVM_ERROR_LIBVIRT, "libvirt could not remove the device from the definition");
                        return;
                }
                definition_history_prune(op->config->state_dir, op->vm);
                op->definition_changed = true;
        }
        if (asprintf(&op->result, "%s: detached%s%s%s", id, in_live ? " from the running guest" : "",
                     in_live && in_config ? " and" : "", in_config ? " from the definition" : "") < 0)
                op->result = NULL;
}

/* The device's hostdev XML, for the handler's id (one of [Usb] Devices: the configuration
 * does not change). */
static char *hostdev_xml(VmConfigOp *op, char id[10]) {
        usb_id_format(op->usb, id);
        char *xml = NULL;
        if (usb_hostdev_xml(op->usb, &xml) < 0) {
                vm_config_fail(op, WINVM_ERROR_FAILED, NULL);
                return NULL;
        }
        return xml;
}

static void attach_step(VmConfigOp *op, virConnectPtr conn, virDomainPtr dom) {
        char id[10];
        _cleanup_free_ char *xml = hostdev_xml(op, id);
        if (xml)
                attach(op, conn, dom, id, xml);
}

static void detach_step(VmConfigOp *op, virConnectPtr conn, virDomainPtr dom) {
        char id[10];
        _cleanup_free_ char *xml = hostdev_xml(op, id);
        (void) conn;
        if (xml)
                detach(op, dom, id, xml);
}

VM_CONFIG_WORK(usb_list_work, false, list, NULL)
VM_CONFIG_WORK(usb_attach_work, false, attach_step, NULL)
VM_CONFIG_WORK(usb_detach_work, false, detach_step, NULL)
