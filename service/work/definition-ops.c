/* org.winvm1.Definition on the worker: the VM's canonical XML file (export, define, drift)
 * and undoing winvm's changes from the kept versions. The caller never names a path: the
 * file comes from [Definitions] in winvm.conf. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "definition-file.h"
#include "definition-history.h"
#include "definition-last.h"
#include "domain-xml.h"
#include "errors.h"
#include "safe-files.h"
#include "spawn.h"
#include "util.h"
#include "vm-config-ops.h"
#include "xml-doc.h"

static const char *definition_file(VmConfigOp *op) {
        const char *file = config_definition_file(op->config, op->vm);
        if (!file)
                vm_config_failf(op, WINVM_ERROR_NOT_CONFIGURED,
                                "VM %s has no definition file: set [Definitions] %s=/path/to/%s.xml in winvm.conf", op->vm,
                                op->vm, op->vm);
        return file;
}

static void fail_file(VmConfigOp *op, const char *file, const char *what, int r) {
        vm_config_failf(op, r == -ENOENT ? WINVM_ERROR_NOT_FOUND : r == -ENOSPC ? WINVM_ERROR_NO_SPACE : WINVM_ERROR_FAILED,
                        "cannot %s %s: %s%s", what, file, strerror(-r),
                        r == -EROFS ? " (winvmd's unit mounts it read-only: allow its folder with ReadWritePaths= in a drop-in)" : "");
}

static bool same_definition(const char *old, const char *data) {
        _cleanup_free_ char *a = NULL, *b = NULL;
        return xml_normalize(old, &a) == 0 && xml_normalize(data, &b) == 0 && strcmp(a, b) == 0;
}

static void export(VmConfigOp *op, virConnectPtr conn, virDomainPtr dom) {
        (void) conn;
        const char *file = definition_file(op);
        if (!file)
                return;
        _cleanup_free_ char *xml = vm_config_domain_xml(dom, false, false);
        if (!xml) {
                vm_config_fail_libvirt(op, NULL, "cannot read the definition");
                return;
        }
        /* The version before is kept only when it says something else: two exports in a row
         * must not push a person's edit out of .previous. */
        int r = definition_file_write(file, xml, true, same_definition);
        if (r == -ELOOP || r == -EINVAL)
                vm_config_failf(op, WINVM_ERROR_FAILED, "%s is a link or not a regular file; not replacing it", file);
        else if (r == -EFBIG)
                vm_config_failf(op, WINVM_ERROR_FAILED, "%s is bigger than a definition (%u bytes); not replacing it",
                                file, DEFINITION_FILE_MAX);
        else if (r < 0)
                fail_file(op, file, "write", r);
        else
                op->result = strdup(file);
}

static int read_definition(VmConfigOp *op, const char *file, char **ret) {
        int r = definition_file_read(file, ret);
        if (r == -ENOENT)
                vm_config_failf(op, WINVM_ERROR_NOT_FOUND, "%s does not exist; `winvmctl export` writes it", file);
        else if (r == -ELOOP || r == -EINVAL || r == -EFBIG)
                vm_config_failf(op, WINVM_ERROR_INVALID_ARGUMENT, "%s is not a regular file of at most %u bytes (links are not followed)",
                                file, DEFINITION_FILE_MAX);
        else if (r < 0)
                fail_file(op, file, "read", r);
        return r;
}

/* The file as read_definition() gives it, refused unless it is well-formed XML: what Define
 * reads, whether libvirt still has the VM or not. */
static int read_wellformed_definition(VmConfigOp *op, const char *file, char **ret) {
        _cleanup_free_ char *xml = NULL, *why = NULL;
        int r = read_definition(op, file, &xml);
        if (r < 0)
                return r;
        XmlDoc x;
        if (xml_doc_open_verbose(xml, &x, &why) < 0) {
                vm_config_failf(op, WINVM_ERROR_INVALID_ARGUMENT, "%s is not well-formed XML: %s", file,
                                why ? why : "out of memory");
                return -EINVAL;
        }
        xml_doc_close(&x);
        *ret = TAKE_PTR(xml);
        return 0;
}

static void define(VmConfigOp *op, virConnectPtr conn, virDomainPtr dom) {
        const char *file = definition_file(op);
        _cleanup_free_ char *xml = NULL;
        if (!file || read_wellformed_definition(op, file, &xml) < 0)
                return;
        if (vm_config_redefine(op, conn, dom, "define", xml, 0) == 0 &&
            asprintf(&op->result, "VM %s defined from %s%s", op->vm, file,
                     virDomainIsActive(dom) == 1 ? "; the running guest keeps its old definition until it is shut down" : "") < 0)
                op->result = NULL;
}

static int write_temp(const char *dir, const char *name, const char *data, char **ret) {
        if (asprintf(ret, "%s/%s", dir, name) < 0)
                return -ENOMEM;
        return write_file_atomic(*ret, data, strlen(data), 0600);
}

static void drift(VmConfigOp *op, virConnectPtr conn, virDomainPtr dom) {
        (void) conn;
        const char *file = definition_file(op);
        _cleanup_free_ char *data = NULL, *xml = NULL, *a = NULL, *b = NULL;
        if (!file || read_definition(op, file, &data) < 0)
                return;
        xml = vm_config_domain_xml(dom, false, false);
        if (!xml) {
                vm_config_fail_libvirt(op, NULL, "cannot read the definition");
                return;
        }
        if (xml_normalize(xml, &a) < 0 || xml_normalize(data, &b) < 0) {
                vm_config_failf(op, WINVM_ERROR_INVALID_ARGUMENT, "%s is not well-formed XML", file);
                return;
        }
        op->differs = strcmp(a, b) != 0;
        if (!op->differs || !op->with_diff) {
                op->diff = strdup("");
                return;
        }
        char dir[] = "/tmp/winvmd-diff-XXXXXX";
        if (!mkdtemp(dir)) {
                vm_config_failf(op, WINVM_ERROR_FAILED, "cannot make a folder for diff: %m");
                return;
        }
        _cleanup_free_ char *fa = NULL, *fb = NULL, *label = NULL, *out = NULL, *err = NULL;
        int status = 2;
        if (write_temp(dir, "libvirt.xml", a, &fa) == 0 && write_temp(dir, "file.xml", b, &fb) == 0 &&
            asprintf(&label, "libvirt:%s", op->vm) >= 0) {
                const char *argv[] = { "diff", "-u", "--label", label, "--label", file, fa, fb, NULL };
                if (spawn_sync_exit(argv, &out, &err, &status) < 0)
                        status = 2;
        }
        (void) remove_tree(dir);
        if (status != 1 || !out) {
                vm_config_failf(op, WINVM_ERROR_FAILED, "diff failed: %s", err ? err : "could not run it");
                return;
        }
        op->diff = TAKE_PTR(out);
}

static void undo(VmConfigOp *op, virConnectPtr conn, virDomainPtr dom) {
        DefinitionVersion *v = NULL;
        size_t n = 0;
        int r = definition_history_list(op->config->state_dir, op->vm, &v, &n);
        if (r < 0 || n == 0) {
                definition_versions_free(v, n);
                if (r < 0)
                        vm_config_failf(op, WINVM_ERROR_FAILED, "cannot read the kept definitions: %s", strerror(-r));
                else
                        vm_config_failf(op, WINVM_ERROR_NOT_FOUND, "there is no change of VM %s to undo", op->vm);
                return;
        }
        const DefinitionVersion *last = &v[n - 1];
        _cleanup_free_ char *previous = NULL;
        r = read_file(last->path, &previous);
        if (r < 0)
                vm_config_failf(op, WINVM_ERROR_FAILED, "cannot read %s: %s", last->path, strerror(-r));
        /* What the undo replaces is kept too (undone/): nothing is lost, even by an undo. */
        else if (vm_config_redefine(op, conn, dom, "undo", previous, REDEFINE_UNDO) == 0) {
                (void) definition_history_drop(last->path);
                time_t t = (time_t) (last->usec / 1000000u);
                struct tm tm;
                char when[32] = "";
                if (localtime_r(&t, &tm))
                        strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
                if (asprintf(&op->result, "VM %s has its definition from before the %s change of %s again%s", op->vm,
                             last->what, when,
                             virDomainIsActive(dom) == 1 ? " (the running guest uses it from its next start)" : "") < 0)
                        op->result = NULL;
        }
        definition_versions_free(v, n);
}

/* The definition winvm last saw, else the newest kept version; NULL when there is none. */
static char *baseline_of(VmConfigOp *op) {
        char *xml = NULL;
        if (definition_last_read(op->config->state_dir, op->vm, &xml) == 0)
                return xml;
        DefinitionVersion *v = NULL;
        size_t n = 0;
        if (definition_history_list(op->config->state_dir, op->vm, &v, &n) == 0 && n > 0)
                (void) read_file(v[n - 1].path, &xml);
        definition_versions_free(v, n);
        return xml;
}

/* Define when libvirt has no domain of the VM's name. */
static void define_lost(VmConfigOp *op, virConnectPtr conn, virDomainPtr dom) {
        (void) dom;
        const char *file = definition_file(op);
        _cleanup_free_ char *xml = NULL, *baseline = NULL;
        if (!file || read_wellformed_definition(op, file, &xml) < 0)
                return;
        baseline = baseline_of(op);
        if (vm_config_define_lost(op, conn, baseline, xml) == 0 &&
            asprintf(&op->result, "VM %s defined again from %s (libvirt did not have it); %s", op->vm, file,
                     baseline ? "checked against the definition winvm kept, with the snapshots' disks" :
                                "winvm kept no definition of it to compare with") < 0)
                op->result = NULL;
}

static void history_step(VmConfigOp *op, virConnectPtr conn, virDomainPtr dom) {
        (void) conn;
        (void) dom;
        if (definition_history_list(op->config->state_dir, op->vm, &op->history, &op->n_history) < 0)
                vm_config_fail(op, WINVM_ERROR_FAILED, strdup("cannot read the kept definitions"));
}

VM_CONFIG_WORK(definition_export_work, false, export, NULL)
VM_CONFIG_WORK(definition_define_work, false, define, define_lost)
VM_CONFIG_WORK(definition_drift_work, false, drift, NULL)
VM_CONFIG_WORK(definition_undo_work, false, undo, NULL)
VM_CONFIG_WORK(definition_history_work, true, history_step, NULL)
