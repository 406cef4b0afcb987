#include "vm-config-ops.h"

#include <errno.h>
#include <libvirt/virterror.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "definition-history.h"
#include "definition-last.h"
#include "definition-guard.h"
#include "definition-paths.h"
#include "desktop-user.h"
#include "domain-xml.h"
#include "errors.h"
#include "host-files.h"
#include "kvmfr-checks.h"
#include "safe-files.h"
#include "snapshot-meta.h"
#include "util.h"
#include "worker-libvirt.h"
#include "xml-doc.h"

#ifndef WINVM_POLKIT_GROUP
#define WINVM_POLKIT_GROUP "winvm"
#endif

VmConfigOp *vm_config_op_new(const WinvmConfig *config, const char *vm) {
        VmConfigOp *op = calloc(1, sizeof(*op));
        if (!op)
                return NULL;
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
        strv_free(op->repair_ids);
        strv_free(op->repaired);
        if (op->shares_valid)
                virtiofs_shares_clear(&op->shares);
        for (size_t i = 0; i < op->n_usb_status; i++)
                free(op->usb_status[i].name);
        free(op->usb_status);
        definition_versions_free(op->history, op->n_history);
        free(op->diff);
        free(op->result);
        free(op->unrestricted_what);
        free(op->checked_current);
        free(op->checked_new);
        free(op);
        return NULL;
}

void vm_config_fail(VmConfigOp *op, const char *name, char *message) {
        op_fail(op->operation, name, "%s", message ? message : "out of memory");
        free(message);
}

void vm_config_failf(VmConfigOp *op, const char *name, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        op_failv(op->operation, name, fmt, ap);
        va_end(ap);
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

/* A uuid's 16 bytes from its text, whatever its case and dashes (libvirt accepts both). */
static bool uuid_parse_hex(const char *s, unsigned char out[16]) {
        size_t k = 0;
        for (const char *p = s; *p; p++) {
                if (*p == '-')
                        continue;
                int v = *p >= '0' && *p <= '9' ? *p - '0' : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 :
                        *p >= 'A' && *p <= 'F' ? *p - 'A' + 10 : -1;
                if (v < 0 || k >= 32)
                        return false;
                out[k / 2] = (unsigned char) (k % 2 ? (out[k / 2] | v) : v << 4);
                k++;
        }
        return k == 32;
}

static bool same_uuid(const char *a, const char *b) {
        unsigned char ua[16], ub[16];
        return a && b && uuid_parse_hex(a, ua) && uuid_parse_hex(b, ub) && memcmp(ua, ub, 16) == 0;
}

/* Whether the VM has snapshots, from winvm's own records: read here, on the worker that also
 * runs the snapshot operations, so it cannot be stale. */
static bool has_snapshots(const VmConfigOp *op) {
        _cleanup_free_ char *path = NULL, *data = NULL, *why = NULL;
        SnapshotSet *set = NULL;
        if (asprintf(&path, "%s/snapshots/%s/snapshots.ini", op->config->state_dir, op->vm) < 0)
                return true;    /* when in doubt, protect the disks */
        int r = read_file(path, &data);
        if (r == -ENOENT)
                return false;
        if (r < 0 || snapshot_set_parse(data, &set, &why) < 0)
                return true;
        bool any = set->n > 0;
        snapshot_set_free(set);
        return any;
}

/* Snapshots own the disk sources: each one moves the disks to a new overlay, and the images
 * before it are frozen. A definition from before a snapshot would point the guest back at an
 * image others back onto. With carry (undo), new_xml gets the current sources; otherwise it
 * must have them. */
static int protect_snapshot_disks(VmConfigOp *op, const char *current, const char *new_xml, bool carry,
                                  char **ret_xml) {
        DomainDisk *have = NULL, *want = NULL;
        size_t nh = 0, nw = 0;
        int r = 0;
        *ret_xml = NULL;
        if (!has_snapshots(op) || domain_xml_snapshot_disks(current, &have, &nh) < 0)
                return 0;
        if (domain_xml_snapshot_disks(new_xml, &want, &nw) < 0) {
                domain_disks_free(have, nh);
                return 0;       /* the define reports what does not parse */
        }
        char **targets = calloc(nh + 1, sizeof(char *)), **files = calloc(nh + 1, sizeof(char *));
        size_t n = 0;
        for (size_t i = 0; targets && files && r == 0 && i < nh; i++) {
                const char *in_new = NULL;
                for (size_t k = 0; k < nw; k++)
                        if (strcmp(want[k].target, have[i].target) == 0)
                                in_new = want[k].file;
                if (in_new && strcmp(in_new, have[i].file) == 0)
                        continue;
                if (!carry || !in_new) {
                        vm_config_failf(op, WINVM_ERROR_INVALID_ARGUMENT,
                                        in_new ? "the definition points disk %s at %s, but VM %s has snapshots and uses %s now: export the definition, edit that, and define again" :
                                                 "the definition has no disk %s%s, but VM %s has snapshots of it (it uses %s now)",
                                        have[i].target, in_new ? in_new : "", op->vm, have[i].file);
                        r = -EINVAL;
                        break;
                }
                targets[n] = have[i].target;
                files[n++] = have[i].file;
        }
        if (!targets || !files)
                r = -ENOMEM;
        if (r == 0 && n > 0 && domain_xml_set_disk_sources(new_xml, targets, files, n, ret_xml) < 0) {
                vm_config_failf(op, WINVM_ERROR_FAILED, "cannot keep the snapshots' disk sources in the definition");
                r = -EINVAL;
        }
        free(targets);
        free(files);
        domain_disks_free(have, nh);
        domain_disks_free(want, nw);
        return r;
}

/* What the change may do without an administrator (definition-guard.h), from winvm.conf and
 * the host. */
static int guard(VmConfigOp *op, const char *current, const char *new_xml) {
        if (op->unrestricted) {
                /* An administrator admitted exactly this step; anything else is asked again. */
                if (streq_ptr(op->checked_current, current) && streq_ptr(op->checked_new, new_xml))
                        return 0;
                vm_config_failf(op, WINVM_ERROR_FAILED,
                                "the definition of VM %s or the file changed while an administrator was asked; nothing was changed, try again",
                                op->vm);
                return -ESTALE;
        }
        const WinvmConfig *cfg = op->config;
        _cleanup_(strv_freep) char **shares = calloc(2, sizeof(char *));
        HostUser u = { 0 };
        DefinitionPaths paths = {
                .storage_dirs = cfg->fs_paths,
                .desktop_uid = (uid_t) -1,
                .qemu_uid = definition_paths_qemu_uid(),
                .share_root = cfg->host_root,
        };
        /* [Host] DesktopUser, or the polkit group's only member (desktop-user.h). */
        DesktopUser du = { 0 };
        (void) desktop_user_resolve(cfg->host_root, cfg->desktop_user, WINVM_POLKIT_GROUP, &du);
        if (shares && du.name && host_user_by_name(cfg->host_root, du.name, &u) == 0 && u.home &&
            strcmp(u.home, "/") != 0) {
                shares[0] = strdup(u.home);
                paths.desktop_uid = u.uid;
        }
        host_user_clear(&u);
        desktop_user_clear(&du);
        DefinitionPolicy policy = {
                .virtiofsd_allowed = cfg->virtiofsd_allowed,
                .usb_ids = cfg->usb_ids,
                .storage_dirs = cfg->fs_paths,
                .share_dirs = shares,
                .ivshmem_device = cfg->kvmfr_device,
                .ivshmem_size = (unsigned long long) kvmfr_required_size_mib(cfg->kvmfr_width, cfg->kvmfr_height,
                                                                             cfg->kvmfr_hdr) * 1024ull * 1024ull,
                .check_path = definition_paths_check,
                .userdata = &paths,
        };
        _cleanup_free_ char *what = NULL;
        int r = definition_guard_check(current, new_xml, &policy, &what);
        if (r == -EPERM) {
                op->needs_unrestricted = true;
                op->checked_current = strdup(current);
                op->checked_new = strdup(new_xml);
                vm_config_failf(op, "org.freedesktop.DBus.Error.AccessDenied",
                                "the change of VM %s's definition at %s is not one the desktop user may make (it can reach the host); it needs %s, an administrator's authentication",
                                op->vm, what ? what : "?", DEFINE_UNRESTRICTED_ACTION);
                op->unrestricted_what = TAKE_PTR(what);
                if (!op->checked_current || !op->checked_new)
                        op->needs_unrestricted = false;
        } else if (r < 0)
                vm_config_failf(op, WINVM_ERROR_INVALID_ARGUMENT, "the definition cannot be checked: it does not parse");
        return r;
}

int vm_config_guard(VmConfigOp *op, const char *current, const char *new_xml) {
        return guard(op, current, new_xml);
}

/* libvirt's refusals of the definition itself are the caller's to fix; anything else (the
 * connection, an internal error) keeps libvirt's own error name. */
static const char *refusal_name(void) {
        virErrorPtr e = virGetLastError();
        int code = e ? e->code : VIR_ERR_INTERNAL_ERROR;
        switch (code) {
        case VIR_ERR_XML_ERROR:
        case VIR_ERR_XML_DETAIL:
        case VIR_ERR_XML_INVALID_SCHEMA:
        case VIR_ERR_CONFIG_UNSUPPORTED:
        case VIR_ERR_INVALID_ARG:
        case VIR_ERR_OPERATION_INVALID:
        case VIR_ERR_OPERATION_UNSUPPORTED:
        case VIR_ERR_NO_SUPPORT:
        case VIR_ERR_INTERNAL_ERROR:
                return WINVM_ERROR_INVALID_ARGUMENT;
        default:
                return winvm_error_name_from_libvirt(code);
        }
}

int vm_config_redefine(VmConfigOp *op, virConnectPtr conn, virDomainPtr dom, const char *what, const char *new_xml,
                       unsigned flags) {
        bool undo = flags & REDEFINE_UNDO;
        _cleanup_free_ char *current = vm_config_domain_xml(dom, false, true);
        if (!current) {
                vm_config_fail_libvirt(op, NULL, "cannot read the current definition");
                return -EIO;
        }
        _cleanup_free_ char *name = NULL, *uuid = NULL, *cur_name = NULL, *cur_uuid = NULL, *fixed = NULL;
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
        if (!same_uuid(uuid, cur_uuid)) {
                vm_config_failf(op, WINVM_ERROR_INVALID_ARGUMENT,
                                "the definition's <uuid> is %s, but VM %s has %s: a different uuid would define a second VM",
                                uuid ? uuid : "missing", op->vm, cur_uuid ? cur_uuid : "?");
                return -EINVAL;
        }
        if (protect_snapshot_disks(op, current, new_xml, undo, &fixed) < 0)
                return -EINVAL;
        if (fixed)
                new_xml = fixed;
        /* A file exported by winvmd has no passwords (libvirt leaves them out unless asked):
         * keep the current ones rather than define the VM without them. */
        _cleanup_free_ char *with_passwords = NULL;
        if (!undo && domain_xml_keep_graphics_passwords(current, new_xml, &with_passwords) == 0 && with_passwords)
                new_xml = with_passwords;
        /* Checked last, on exactly what libvirt will get; every change is, an undo too: a kept
         * version was admitted once, but an administrator may have taken something out since. */
        if (guard(op, current, new_xml) < 0)
                return -EPERM;

        _cleanup_free_ char *kept = NULL;
        int r = undo ? definition_history_keep_undone(op->config->state_dir, op->vm, current) :
                       definition_history_keep(op->config->state_dir, op->vm, what, current, &kept);
        if (r < 0) {
                vm_config_failf(op, r == -ENOSPC ? WINVM_ERROR_NO_SPACE : WINVM_ERROR_FAILED,
                                "cannot keep the current definition for undo: %s", strerror(-r));
                return r;
        }
        virDomainPtr nd = virDomainDefineXMLFlags(conn, new_xml, VIR_DOMAIN_DEFINE_VALIDATE);
        if (!nd) {
                vm_config_fail_libvirt(op, refusal_name(), "libvirt refused the definition");
                if (kept)
                        (void) definition_history_drop(kept);
                return -EINVAL;
        }
        virDomainFree(nd);
        if (!undo)
                definition_history_prune(op->config->state_dir, op->vm);
        op->definition_changed = true;
        return 0;
}

int vm_config_define_lost(VmConfigOp *op, virConnectPtr conn, const char *baseline, const char *new_xml) {
        _cleanup_free_ char *name = NULL, *uuid = NULL, *base_name = NULL, *base_uuid = NULL, *fixed = NULL,
                            *minimal = NULL, *with_passwords = NULL;
        if (!identity(new_xml, &name, &uuid)) {
                vm_config_failf(op, WINVM_ERROR_INVALID_ARGUMENT, "the definition is not a libvirt <domain> XML document");
                return -EINVAL;
        }
        if (!streq_ptr(name, op->vm)) {
                vm_config_failf(op, WINVM_ERROR_INVALID_ARGUMENT, "the definition names VM '%s', not '%s'",
                                name ? name : "", op->vm);
                return -EINVAL;
        }
        if (baseline) {
                (void) identity(baseline, &base_name, &base_uuid);
                if (uuid && *uuid && !same_uuid(uuid, base_uuid)) {
                        vm_config_failf(op, WINVM_ERROR_INVALID_ARGUMENT,
                                        "the definition's <uuid> is %s, but VM %s had %s: a different uuid would make another VM of it",
                                        uuid, op->vm, base_uuid ? base_uuid : "?");
                        return -EINVAL;
                }
                /* The snapshots moved the disks since the file was written, maybe: the kept
                 * definition has their sources, as an undo carries them. */
                if (protect_snapshot_disks(op, baseline, new_xml, true, &fixed) < 0)
                        return -EINVAL;
                if (fixed)
                        new_xml = fixed;
                if (domain_xml_keep_graphics_passwords(baseline, new_xml, &with_passwords) == 0 && with_passwords)
                        new_xml = with_passwords;
        } else if (has_snapshots(op)) {
                vm_config_failf(op, WINVM_ERROR_FAILED,
                                "VM %s has snapshots, but winvm kept no definition of it to take their disk sources from; define it with virsh as an administrator",
                                op->vm);
                return -ENOENT;
        } else {
                /* Nothing to compare with: everything the file holds is a change from an empty
                 * domain, admitted by the allowlist or an administrator. */
                XmlDoc x;
                _cleanup_free_ char *type = NULL;
                if (xml_doc_open(new_xml, &x) == 0) {
                        type = xml_doc_string(&x, NULL, "string(/domain/@type)");
                        xml_doc_close(&x);
                }
                if (asprintf(&minimal, "<domain type='%s'><name>%s</name>%s%s%s</domain>", type ? type : "kvm", op->vm,
                             uuid && *uuid ? "<uuid>" : "", uuid && *uuid ? uuid : "", uuid && *uuid ? "</uuid>" : "") < 0) {
                        vm_config_failf(op, WINVM_ERROR_FAILED, "out of memory");
                        return -ENOMEM;
                }
        }
        if (guard(op, baseline ? baseline : minimal, new_xml) < 0)
                return -EPERM;
        virDomainPtr nd = virDomainDefineXMLFlags(conn, new_xml, VIR_DOMAIN_DEFINE_VALIDATE);
        if (!nd) {
                vm_config_fail_libvirt(op, refusal_name(), "libvirt refused the definition");
                return -EINVAL;
        }
        virDomainFree(nd);
        op->definition_changed = true;
        return 0;
}

void vm_config_run(Operation *o, VmConfigOp *op, bool host_only, vm_config_step_fn step, vm_config_step_fn lost) {
        op->operation = o;
        if (host_only) {
                step(op, NULL, NULL);
                virResetLastError();
                return;
        }
        virConnectPtr conn = worker_libvirt(op->config->libvirt_uri);
        if (!conn) {
                vm_config_fail_libvirt(op, WINVM_ERROR_DISCONNECTED, "cannot connect to libvirt");
                return;
        }
        virDomainPtr dom = virDomainLookupByName(conn, op->vm);
        virErrorPtr e = dom ? NULL : virGetLastError();
        if (!dom && lost && e && e->code == VIR_ERR_NO_DOMAIN) {
                /* libvirt lost the VM (a rebuild, an undefine): define it again. */
                virResetLastError();
                lost(op, conn, NULL);
                return;
        }
        if (!dom) {
                vm_config_failf(op, WINVM_ERROR_NOT_DEFINED, "VM %s is not defined in libvirt", op->vm);
                virResetLastError();
                return;
        }
        step(op, conn, dom);
        /* The last definition seen, for a define after libvirt lost the VM. */
        _cleanup_free_ char *last = vm_config_domain_xml(dom, false, true);
        if (last)
                (void) definition_last_keep(op->config->state_dir, op->vm, last);
        virDomainFree(dom);
        virResetLastError();
}
