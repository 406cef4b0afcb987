#include "vm-config-ops.h"

#include <errno.h>
#include <libvirt/virterror.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "definition-history.h"
#include "domain-xml.h"
#include "errors.h"
#include "util.h"
#include "xml-doc.h"

VmConfigOp *vm_config_op_new(VmConfigOpKind kind, const WinvmConfig *config, const char *vm) {
        VmConfigOp *op = calloc(1, sizeof(*op));
        if (!op)
                return NULL;
        op->kind = kind;
        op->config = config;
        op->vm = vm ? strdup(vm) : NULL;
        if (vm && !op->vm)
                return vm_config_op_free(op);
        return op;
}

VmConfigOp *vm_config_op_free(VmConfigOp *op) {
        if (!op)
                return NULL;
        free(op->vm);
        free(op->path);
        check_list_clear(&op->checks);
        if (op->topology_valid)
                cpu_topology_clear(&op->topology);
        if (op->plan_valid)
                cpu_plan_clear(&op->plan);
        if (op->shares_valid)
                virtiofs_shares_clear(&op->shares);
        for (size_t i = 0; i < op->n_usb_status; i++)
                free(op->usb_status[i].name);
        free(op->usb_status);
        definition_versions_free(op->history, op->n_history);
        free(op->diff);
        free(op->result);
        free(op->error_message);
        free(op);
        return NULL;
}

void vm_config_fail(VmConfigOp *op, const char *name, char *message) {
        if (op->error_name) {
                free(message);
                return;
        }
        op->error_name = name;
        op->error_message = message ? message : strdup("out of memory");
}

void vm_config_failf(VmConfigOp *op, const char *name, const char *fmt, ...) {
        va_list ap;
        char *m = NULL;
        va_start(ap, fmt);
        if (vasprintf(&m, fmt, ap) < 0)
                m = NULL;
        va_end(ap);
        vm_config_fail(op, name, m);
}

void vm_config_fail_libvirt(VmConfigOp *op, const char *name, const char *what) {
        virErrorPtr e = virGetLastError();
        vm_config_failf(op, name ? name : winvm_error_name_from_libvirt(e ? e->code : VIR_ERR_INTERNAL_ERROR), "%s: %s",
                        what, e && e->message ? e->message : "libvirt call failed");
        virResetLastError();
}

char *vm_config_domain_xml(virDomainPtr dom, bool live, bool secure) {
        unsigned flags = (live ? 0 : VIR_DOMAIN_XML_INACTIVE) | (secure ? VIR_DOMAIN_XML_SECURE : 0);
        return virDomainGetXMLDesc(dom, flags);
}

/* name and uuid of a definition; false when it does not parse. */
static bool identity(const char *xml, char **name, char **uuid) {
        XmlDoc x;
        if (xml_doc_open(xml, &x) < 0)
                return false;
        *name = xml_doc_string(&x, NULL, "normalize-space(/domain/name)");
        *uuid = xml_doc_string(&x, NULL, "normalize-space(/domain/uuid)");
        bool is_domain = xmlStrcmp(xmlDocGetRootElement(x.doc)->name, (const xmlChar *) "domain") == 0;
        xml_doc_close(&x);
        return is_domain;
}

int vm_config_redefine(VmConfigOp *op, virConnectPtr conn, virDomainPtr dom, const char *what, const char *new_xml) {
        _cleanup_free_ char *current = vm_config_domain_xml(dom, false, true);
        if (!current) {
                vm_config_fail_libvirt(op, NULL, "cannot read the current definition");
                return -EIO;
        }
        _cleanup_free_ char *name = NULL, *uuid = NULL, *cur_name = NULL, *cur_uuid = NULL;
        if (!identity(new_xml, &name, &uuid)) {
                vm_config_failf(op, WINVM_ERROR_INVALID_ARGUMENT, "the new definition is not a libvirt <domain> XML document");
                return -EINVAL;
        }
        (void) identity(current, &cur_name, &cur_uuid);
        /* A different name or uuid would define a second VM beside this one. */
        if (!streq_ptr(name, op->vm)) {
                vm_config_failf(op, WINVM_ERROR_INVALID_ARGUMENT, "the definition names VM '%s', not '%s'",
                                name ? name : "", op->vm);
                return -EINVAL;
        }
        if (!uuid || !streq_ptr(uuid, cur_uuid)) {
                vm_config_failf(op, WINVM_ERROR_INVALID_ARGUMENT,
                                "the definition's <uuid> is %s, but VM %s has %s: a different uuid would define a second VM",
                                uuid ? uuid : "missing", op->vm, cur_uuid ? cur_uuid : "?");
                return -EINVAL;
        }
        _cleanup_free_ char *kept = NULL;
        int r = definition_history_keep(op->config->state_dir, op->vm, what, current, &kept);
        if (r < 0) {
                vm_config_failf(op, r == -ENOSPC ? WINVM_ERROR_NO_SPACE : WINVM_ERROR_FAILED,
                                "cannot keep the current definition for undo: %s", strerror(-r));
                return r;
        }
        virDomainPtr nd = virDomainDefineXMLFlags(conn, new_xml, VIR_DOMAIN_DEFINE_VALIDATE);
        if (!nd) {
                vm_config_fail_libvirt(op, WINVM_ERROR_INVALID_ARGUMENT, "libvirt refused the definition");
                (void) definition_history_drop(kept);
                return -EINVAL;
        }
        virDomainFree(nd);
        op->definition_changed = true;
        return 0;
}

static bool needs_libvirt(VmConfigOpKind k) {
        return k != VMCFG_TOPOLOGY && k != VMCFG_PIN_PLAN && k != VMCFG_HISTORY;
}

void vm_config_op_run(VmConfigOp *op) {
        virConnectPtr conn = NULL;
        virDomainPtr dom = NULL;
        if (needs_libvirt(op->kind)) {
                conn = virConnectOpen(op->config->libvirt_uri);
                if (!conn) {
                        vm_config_fail_libvirt(op, WINVM_ERROR_DISCONNECTED, "cannot connect to libvirt");
                        return;
                }
                dom = virDomainLookupByName(conn, op->vm);
                if (!dom) {
                        vm_config_failf(op, WINVM_ERROR_NOT_DEFINED, "VM %s is not defined in libvirt", op->vm);
                        virResetLastError();
                        virConnectClose(conn);
                        return;
                }
        }
        switch (op->kind) {
        case VMCFG_TOPOLOGY:
        case VMCFG_PIN_CHECK:
        case VMCFG_PIN_PLAN:
        case VMCFG_PIN_APPLY:
                cpu_ops_run(op, conn, dom);
                break;
        case VMCFG_USB_LIST:
        case VMCFG_USB_ATTACH:
        case VMCFG_USB_DETACH:
                usb_ops_run(op, conn, dom);
                break;
        case VMCFG_SHARES_LIST:
        case VMCFG_SHARES_CHECK:
        case VMCFG_SET_VIRTIOFSD:
                shares_ops_run(op, conn, dom);
                break;
        case VMCFG_EXPORT:
        case VMCFG_DEFINE:
        case VMCFG_DRIFT:
        case VMCFG_UNDO:
        case VMCFG_HISTORY:
                definition_ops_run(op, conn, dom);
                break;
        }
        if (dom)
                virDomainFree(dom);
        if (conn)
                virConnectClose(conn);
        virResetLastError();
}
