/* org.winvm1.Shares on the worker: the guest's virtiofs shares, their checks, and pointing
 * them at another virtiofsd from the allow-list. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "errors.h"
#include "host-files.h"
#include "util.h"
#include "vm-config-ops.h"

static bool read_shares(VmConfigOp *op, virDomainPtr dom) {
        _cleanup_free_ char *xml = vm_config_domain_xml(dom, false, false);
        if (!xml) {
                vm_config_fail_libvirt(op, NULL, "cannot read the definition");
                return false;
        }
        if (virtiofs_shares_from_xml(xml, &op->shares) < 0) {
                vm_config_fail(op, WINVM_ERROR_FAILED, strdup("libvirt's definition does not parse"));
                return false;
        }
        op->shares_valid = true;
        (void) virtiofs_shares_mark_running(op->config->host_root, &op->shares);
        return true;
}

static void set_virtiofsd(VmConfigOp *op, virConnectPtr conn, virDomainPtr dom) {
        if (!host_is_executable(op->config->host_root, op->path)) {
                vm_config_failf(op, WINVM_ERROR_NOT_FOUND, "%s is not an executable file on this host", op->path);
                return;
        }
        _cleanup_free_ char *xml = vm_config_domain_xml(dom, false, true), *edited = NULL;
        if (!xml) {
                vm_config_fail_libvirt(op, NULL, "cannot read the definition");
                return;
        }
        /* Already so: nothing to change, and no history entry for a no-op. */
        VirtiofsShares now = { 0 };
        bool same = virtiofs_shares_from_xml(xml, &now) == 0 && now.n > 0;
        for (size_t i = 0; same && i < now.n; i++)
                same = streq_ptr(now.items[i].binary, op->path);
        virtiofs_shares_clear(&now);
        int r = same ? 0 : virtiofs_set_binary(xml, op->path, &edited);
        if (r == -ENOENT) {
                vm_config_failf(op, WINVM_ERROR_NOT_FOUND, "VM %s has no virtiofs shares", op->vm);
                return;
        }
        if (r < 0) {
                vm_config_fail(op, WINVM_ERROR_FAILED, strdup("the definition could not be edited"));
                return;
        }
        if (same || vm_config_redefine(op, conn, dom, "virtiofsd", edited, 0) == 0)
                if (asprintf(&op->result, "every virtiofs share of %s uses %s%s", op->vm, op->path,
                             virDomainIsActive(dom) == 1 ? " from the next start" : "") < 0)
                        op->result = NULL;
}

static void list_step(VmConfigOp *op, virConnectPtr conn, virDomainPtr dom) {
        (void) conn;
        (void) read_shares(op, dom);
}

static void check_step(VmConfigOp *op, virConnectPtr conn, virDomainPtr dom) {
        (void) conn;
        if (read_shares(op, dom) &&
            virtiofs_checks(op->config->host_root, &op->shares, op->config->virtiofsd_allowed, &op->checks) < 0)
                vm_config_fail(op, WINVM_ERROR_FAILED, NULL);
}

VM_CONFIG_WORK(shares_list_work, false, list_step, NULL)
VM_CONFIG_WORK(shares_check_work, false, check_step, NULL)
VM_CONFIG_WORK(shares_set_virtiofsd_work, false, set_virtiofsd, NULL)
