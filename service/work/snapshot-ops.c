#include "snapshot-ops.h"

#include <errno.h>
#include <glib.h>
#include <libgen.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "definition-last.h"
#include "domain-xml.h"
#include "errors.h"
#include "qemu-img.h"
#include "safe-files.h"
#include "snapshot-adopt.h"
#include "snapshot-ctx.h"
#include "snapshot-intent.h"
#include "util.h"
#include "worker-libvirt.h"

const char *snapshot_crash_at;

void crash_point(const char *step) {
        if (snapshot_crash_at && strcmp(snapshot_crash_at, step) == 0)
                raise(SIGKILL);
}

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

/* op_fail() that returns -1, for `return failf(...)`. */
int failf(Ctx *c, const char *name, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        op_failv(c->operation, name, fmt, ap);
        va_end(ap);
        return -1;
}

/* A failure with an errno: ENOSPC and EEXIST get their own names. */
int fail_errno(Ctx *c, int r, const char *what, const char *detail) {
        const char *name = r == -ENOSPC ? WINVM_ERROR_NO_SPACE : r == -EEXIST ? WINVM_ERROR_EXISTS : WINVM_ERROR_FAILED;
        if (detail)
                return failf(c, name, "%s: %s", what, detail);
        return failf(c, name, "%s: %s", what, strerror(-r));
}

int fail_libvirt(Ctx *c, const char *what) {
        virErrorPtr e = virGetLastError();
        const char *msg = e && e->message ? e->message : "unknown libvirt error";
        const char *name = strstr(msg, "No space left on device") ? WINVM_ERROR_NO_SPACE :
                           winvm_error_name_from_libvirt(e ? e->code : VIR_ERR_INTERNAL_ERROR);
        failf(c, name, "%s: %s", what, msg);
        virResetLastError();
        return -1;
}

char *path_in(const char *dir, const char *name) {
        char *p = NULL;
        return asprintf(&p, "%s/%s", dir, name) < 0 ? NULL : p;
}

char *dir_of(const char *path) {
        _cleanup_free_ char *copy = strdup(path);
        return copy ? strdup(dirname(copy)) : NULL;
}

char *snapshot_state_folder(const char *state_dir, const char *vm) {
        char *p = NULL;
        return asprintf(&p, "%s/snapshots/%s", state_dir, vm) < 0 ? NULL : p;
}

/* --- libvirt ---------------------------------------------------------------------------- */

int need_domain(Ctx *c) {
        if (c->dom)
                return 0;
        if (!c->conn && !(c->conn = worker_libvirt(c->op->uri)))
                return fail_libvirt(c, "cannot reach libvirtd");
        c->dom = virDomainLookupByName(c->conn, c->op->vm);
        if (!c->dom) {
                virResetLastError();
                return failf(c, WINVM_ERROR_NOT_DEFINED, "VM %s is not defined in libvirt", c->op->vm);
        }
        return 0;
}

/* 1 when the guest runs (or is paused), 0 when off, -1 on failure. */
int domain_active(Ctx *c) {
        int r = virDomainIsActive(c->dom);
        return r < 0 ? fail_libvirt(c, "cannot read the VM's state") : r;
}

/* The persistent definition is read with its secrets: a revert defines the VM again from it,
 * and without SECURE libvirt leaves out graphics passwords, which would then be lost. */
char *domain_xml(Ctx *c, bool persistent) {
        char *xml = virDomainGetXMLDesc(c->dom, persistent ? VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_SECURE : 0);
        if (!xml)
                fail_libvirt(c, "cannot read the VM's definition");
        return xml;
}

static const char *guest_state_name(Ctx *c) {
        int state = 0, reason = 0;
        if (virDomainGetState(c->dom, &state, &reason, 0) < 0) {
                virResetLastError();
                return "shutoff";
        }
        return state == VIR_DOMAIN_RUNNING ? "running" : state == VIR_DOMAIN_PAUSED ? "paused" : "shutoff";
}

/* The current source file of target in the persistent definition, NULL when it has none. */
static char *current_source(const DomainDisk *disks, size_t n, const char *target) {
        for (size_t i = 0; i < n; i++)
                if (strcmp(disks[i].target, target) == 0)
                        return strdup(disks[i].file);
        return NULL;
}

/* Whether every disk of the intent now uses its new overlay in the persistent definition. */
static int definition_uses_overlays(Ctx *c, const Intent *in) {
        _cleanup_free_ char *xml = domain_xml(c, true);
        if (!xml)
                return -1;
        DomainDisk *disks = NULL;
        size_t n = 0;
        if (domain_xml_snapshot_disks(xml, &disks, &n) < 0)
                return failf(c, WINVM_ERROR_FAILED, "cannot parse the VM's definition");
        bool all = true;
        for (size_t i = 0; i < in->n_disks; i++) {
                _cleanup_free_ char *src = current_source(disks, n, in->disks[i].target);
                all = all && src && strcmp(src, in->disks[i].overlay) == 0;
        }
        domain_disks_free(disks, n);
        return all;
}

/* Whether any disk of the domain (persistent or live) uses path as its top image. */
static bool definition_uses(Ctx *c, const char *path) {
        for (int live = 0; live <= 1; live++) {
                if (live && virDomainIsActive(c->dom) != 1)
                        break;
                _cleanup_free_ char *xml = virDomainGetXMLDesc(c->dom, live ? 0 : VIR_DOMAIN_XML_INACTIVE);
                DomainDisk *disks = NULL;
                size_t n = 0;
                if (!xml || domain_xml_snapshot_disks(xml, &disks, &n) < 0) {
                        virResetLastError();
                        return true;    /* when in doubt, keep the file */
                }
                bool used = false;
                for (size_t i = 0; i < n; i++)
                        used = used || strcmp(disks[i].file, path) == 0;
                domain_disks_free(disks, n);
                if (used)
                        return true;
        }
        return false;
}

/* --- records ------------------------------------------------------------------------------ */

static int load_set(Ctx *c) {
        c->set = snapshot_set_free(c->set);
        _cleanup_free_ char *data = NULL;
        int r = read_file(c->meta_path, &data);
        c->records_missing = r == -ENOENT;
        if (r == -ENOENT) {
                c->set = snapshot_set_new();
                return c->set ? 0 : failf(c, WINVM_ERROR_FAILED, "out of memory");
        }
        if (r < 0)
                return fail_errno(c, r, "cannot read the snapshot records", NULL);
        _cleanup_free_ char *error = NULL;
        if (snapshot_set_parse(data, &c->set, &error) < 0)
                return failf(c, WINVM_ERROR_FAILED, "the snapshot records in %s are damaged: %s", c->meta_path, error);
        return 0;
}

int save_set(Ctx *c) {
        _cleanup_free_ char *data = NULL;
        int r = snapshot_set_format(c->set, &data);
        if (r == 0)
                r = mkdir_parents(c->dir);
        if (r == 0)
                r = write_file_atomic(c->meta_path, data, strlen(data), 0600);
        return r < 0 ? fail_errno(c, r, "cannot save the snapshot records", NULL) : 0;
}

static int write_intent(Ctx *c, const Intent *in) {
        _cleanup_free_ char *data = NULL;
        int r = intent_format(in, &data);
        if (r == 0)
                r = mkdir_parents(c->dir);
        if (r == 0)
                r = write_file_atomic(c->intent_path, data, strlen(data), 0600);
        return r < 0 ? fail_errno(c, r, "cannot write the intent record", NULL) : 0;
}

static void remove_intent(Ctx *c) {
        if (unlink(c->intent_path) == 0)
                (void) sync_parent(c->intent_path);
}

/* Every image a snapshot record or the current definition names for target. */
static char **known_images(Ctx *c, const char *target) {
        char **l = calloc(c->set->n + 2, sizeof(char *));
        size_t k = 0;
        for (size_t i = 0; l && i < c->set->n; i++) {
                const SnapshotDisk *d = snapshot_find_disk(c->set->items[i], target);
                if (d)
                        l[k++] = strdup(d->image);
        }
        _cleanup_free_ char *xml = l ? virDomainGetXMLDesc(c->dom, VIR_DOMAIN_XML_INACTIVE) : NULL;
        DomainDisk *disks = NULL;
        size_t n = 0;
        if (xml && domain_xml_snapshot_disks(xml, &disks, &n) == 0) {
                char *top = current_source(disks, n, target);
                if (top)
                        l[k++] = top;
                domain_disks_free(disks, n);
        }
        virResetLastError();
        return l;
}

/* --- image formats: from the records and the definition, never probed ----------------------- */

/* Whether an ancestor of s froze an image of target: then s's image is an overlay libvirt or
 * winvm made, always qcow2. */
static bool has_ancestor_disk(const SnapshotSet *set, const Snapshot *s, const char *target) {
        for (size_t depth = 0; s && s->parent[0] && depth < set->n; depth++) {
                s = snapshot_set_find(set, s->parent);
                if (s && snapshot_find_disk(s, target))
                        return true;
        }
        return false;
}

/* The format winvm knows path (an image of target) to have: a snapshot record's, else the
 * persistent definition's. Records of an older winvm kept no format; their images on top of an
 * earlier snapshot's are overlays, hence qcow2. NULL when nothing says. */
char *known_format(Ctx *c, const char *target, const char *path) {
        for (size_t i = 0; c->set && i < c->set->n; i++) {
                const SnapshotDisk *d = snapshot_find_disk(c->set->items[i], target);
                if (!d || strcmp(d->image, path) != 0)
                        continue;
                if (d->format && d->format[0])
                        return strdup(d->format);
                if (has_ancestor_disk(c->set, c->set->items[i], target))
                        return strdup("qcow2");
        }
        _cleanup_free_ char *xml = virDomainGetXMLDesc(c->dom, VIR_DOMAIN_XML_INACTIVE);
        DomainDisk *disks = NULL;
        size_t n = 0;
        char *format = NULL;
        if (xml && domain_xml_snapshot_disks(xml, &disks, &n) == 0) {
                for (size_t i = 0; i < n && !format; i++)
                        if (strcmp(disks[i].target, target) == 0 && strcmp(disks[i].file, path) == 0)
                                format = strdup(disks[i].format);
                domain_disks_free(disks, n);
        }
        virResetLastError();
        return format;
}

/* The backing file of path (of format, known) and its format. A raw image has none, whatever
 * its bytes say. A qcow2 header is QEMU's and qemu-img's, so its backing file is believed; the
 * format it names must be there (else QEMU would probe) and agree with the records. */
int image_backing(Ctx *c, const char *target, const char *path, const char *format, char **ret_backing,
                         char **ret_format) {
        *ret_backing = *ret_format = NULL;
        ImageInfo info = { 0 };
        _cleanup_free_ char *msg = NULL;
        int r = qemu_img_info(path, format, &info, &msg);
        if (r < 0)
                return fail_errno(c, r, path, msg);
        if (!info.backing) {
                image_info_clear(&info);
                return 0;
        }
        _cleanup_free_ char *recorded = known_format(c, target, info.backing);
        if (!qemu_img_format_is_known(info.backing_format))
                r = failf(c, WINVM_ERROR_FAILED,
                          "%s names its backing file %s without a format winvm handles (%s); winvm does not let qemu-img guess one",
                          path, info.backing, info.backing_format ? info.backing_format : "none");
        else if (recorded && strcmp(recorded, info.backing_format) != 0)
                r = failf(c, WINVM_ERROR_FAILED, "%s says its backing file %s is %s, but winvm recorded it as %s",
                          path, info.backing, info.backing_format, recorded);
        if (r == 0) {
                *ret_backing = info.backing;
                *ret_format = info.backing_format;
                info.backing = info.backing_format = NULL;
        }
        image_info_clear(&info);
        return r;
}

/* top (of format) and every image under it, each checked by image_backing: what qemu-img and
 * QEMU will open when they open top. NULL (the failure recorded) on a problem. */
static char **checked_chain(Ctx *c, const char *target, const char *top, const char *format) {
        char **l = calloc(65, sizeof(char *));
        _cleanup_free_ char *fmt = format ? strdup(format) : NULL;
        if (!l || !fmt) {
                free(l);
                failf(c, WINVM_ERROR_FAILED, !fmt ? "winvm has no record of the format of %s" : "out of memory", top);
                return NULL;
        }
        char *cur = strdup(top);
        for (size_t k = 0; cur; k++) {
                if (k == 64) {
                        free(cur);
                        strv_free(l);
                        failf(c, WINVM_ERROR_FAILED, "the chain under %s is deeper than 64 images", top);
                        return NULL;
                }
                l[k] = cur;
                char *next = NULL, *next_fmt = NULL;
                if (image_backing(c, target, cur, fmt, &next, &next_fmt) < 0) {
                        strv_free(l);
                        return NULL;
                }
                free(fmt);
                fmt = next_fmt;
                cur = next;
        }
        return l;
}

/* The images among target's known images whose backing file is image. */
static int dependents_of(Ctx *c, const char *target, const char *image, char ***ret) {
        _cleanup_(strv_freep) char **known = known_images(c, target);
        if (!known)
                return failf(c, WINVM_ERROR_FAILED, "out of memory");
        char **deps = calloc(strv_length(known) + 1, sizeof(char *));
        size_t k = 0;
        for (char **p = known; deps && *p; p++) {
                if (strcmp(*p, image) == 0 || !path_exists(*p))
                        continue;
                _cleanup_free_ char *format = known_format(c, target, *p), *backing = NULL, *backing_format = NULL;
                int r = format ? image_backing(c, target, *p, format, &backing, &backing_format)
                               : failf(c, WINVM_ERROR_FAILED, "winvm has no record of the format of %s", *p);
                if (r < 0) {
                        strv_free(deps);
                        return -1;
                }
                if (backing && strcmp(backing, image) == 0)
                        deps[k++] = strdup(*p);
        }
        *ret = deps;
        return deps ? 0 : failf(c, WINVM_ERROR_FAILED, "out of memory");
}

/* --- firmware: NVRAM and swtpm state ----------------------------------------------------------- */

/* Copies the domain's NVRAM file and TPM state into folder (complete or not at all). */
static int save_firmware(Ctx *c, const Intent *in, const char *folder) {
        _cleanup_free_ char *tmp = NULL;
        if (asprintf(&tmp, "%s/.%s.tmp", c->dir, strrchr(folder, '/') + 1) < 0)
                return failf(c, WINVM_ERROR_FAILED, "out of memory");
        int r = remove_tree(tmp);
        if (r == 0)
                r = remove_tree(folder);
        if (r == 0)
                r = mkdir_parents(tmp);
        if (r == 0 && in->nvram[0] && path_exists(in->nvram)) {
                _cleanup_free_ char *dst = path_in(tmp, "nvram");
                r = copy_tree(in->nvram, dst);
        }
        if (r == 0 && in->tpm[0] && path_exists(in->tpm)) {
                _cleanup_free_ char *dst = path_in(tmp, "tpm");
                r = copy_tree(in->tpm, dst);
        }
        if (r == 0 && (rename(tmp, folder) < 0))
                r = -errno;
        if (r == 0)
                r = sync_parent(folder);
        if (r < 0) {
                (void) remove_tree(tmp);
                return fail_errno(c, r, "cannot copy the NVRAM and TPM state", NULL);
        }
        return 0;
}

/* Puts the NVRAM file and TPM state saved in folder back in place. */
static int restore_firmware(Ctx *c, const Intent *in, const char *folder) {
        _cleanup_free_ char *nvram = path_in(folder, "nvram"), *tpm = path_in(folder, "tpm");
        int r = 0;
        if (in->nvram[0] && path_exists(nvram))
                r = copy_file_atomic(nvram, in->nvram, true);
        if (r == 0 && in->tpm[0] && path_exists(tpm)) {
                _cleanup_free_ char *fresh = NULL, *old = NULL;
                if (asprintf(&fresh, "%s.winvm-new", in->tpm) < 0 || asprintf(&old, "%s.winvm-old", in->tpm) < 0)
                        return failf(c, WINVM_ERROR_FAILED, "out of memory");
                r = remove_tree(fresh);
                if (r == 0)
                        r = remove_tree(old);
                if (r == 0)
                        r = copy_tree(tpm, fresh);
                if (r == 0 && path_exists(in->tpm) && rename(in->tpm, old) < 0)
                        r = -errno;
                if (r == 0 && rename(fresh, in->tpm) < 0)
                        r = -errno;
                if (r == 0)
                        r = remove_tree(old);
        }
        return r < 0 ? fail_errno(c, r, "cannot restore the NVRAM and TPM state", NULL) : 0;
}

static int firmware_paths(Ctx *c, const char *xml, Intent *in) {
        _cleanup_free_ char *nvram = NULL, *uuid = NULL;
        if (domain_xml_nvram(xml, &nvram) < 0 || domain_xml_uuid(xml, &uuid) < 0)
                return failf(c, WINVM_ERROR_FAILED, "cannot parse the VM's definition");
        if (nvram) {
                free(in->nvram);
                in->nvram = strdup(nvram);
        }
        if (domain_xml_has_swtpm(xml) == 1) {
                free(in->tpm);
                in->tpm = path_in(SWTPM_STATE_ROOT, uuid);
        }
        return in->nvram && in->tpm ? 0 : failf(c, WINVM_ERROR_FAILED, "out of memory");
}

/* A name not yet used by a snapshot or a file: base, base-2, base-3, ... */
static char *unique_name(Ctx *c, const char *base) {
        for (unsigned k = 1; k < 1000; k++) {
                char *name = NULL;
                if ((k == 1 ? asprintf(&name, "%s", base) : asprintf(&name, "%s-%u", base, k)) < 0)
                        return NULL;
                _cleanup_free_ char *folder = path_in(c->dir, name);
                if (!snapshot_set_find(c->set, name) && folder && !path_exists(folder))
                        return name;
                free(name);
        }
        return NULL;
}

/* --- create ---------------------------------------------------------------------------------- */

/* Adds to the records the snapshot an intent describes: named name, its images the intent's
 * disk images, its firmware whatever the folder <dir>/<name> holds. */
static int record_snapshot(Ctx *c, const Intent *in, const char *name, bool quiesced) {
        Snapshot *s = calloc(1, sizeof(*s));
        if (!s)
                return failf(c, WINVM_ERROR_FAILED, "out of memory");
        _cleanup_free_ char *folder = path_in(c->dir, name);
        _cleanup_free_ char *nvram = path_in(folder, "nvram"), *tpm = path_in(folder, "tpm");
        s->name = strdup(name);
        s->description = strdup(in->description);
        s->parent = strdup(snapshot_set_find(c->set, in->parent) ? in->parent : "");
        s->guest_state = strdup(in->guest_state);
        s->created_usec = in->created_usec;
        s->quiesced = quiesced;
        s->has_nvram = path_exists(nvram);
        s->has_tpm = path_exists(tpm);
        s->disks = calloc(in->n_disks, sizeof(SnapshotDisk));
        for (size_t i = 0; s->disks && i < in->n_disks; i++)
                s->disks[s->n_disks++] = (SnapshotDisk) {
                        .target = strdup(in->disks[i].target),
                        .image = strdup(in->disks[i].image),
                        .stem = strdup(in->disks[i].stem),
                        .format = strdup(in->disks[i].image_format),
                };
        if (!s->disks || snapshot_set_add(c->set, s) < 0) {
                snapshot_free(s);
                return failf(c, WINVM_ERROR_FAILED, "cannot record snapshot %s", name);
        }
        return 0;
}

static int finish_create(Ctx *c, const Intent *in, bool quiesced) {
        if (!snapshot_set_find(c->set, in->name)) {
                if (record_snapshot(c, in, in->name, quiesced) < 0)
                        return -1;
                for (size_t i = 0; i < in->n_disks; i++)
                        if (snapshot_set_remember_stem(c->set, in->disks[i].target, in->disks[i].stem) < 0)
                                return failf(c, WINVM_ERROR_FAILED, "out of memory");
                if (save_set(c) < 0)
                        return -1;
        }
        crash_point("create:saved");
        remove_intent(c);
        return 0;
}

static void rollback_create(Ctx *c, const Intent *in) {
        for (size_t i = 0; i < in->n_disks; i++)
                if (path_exists(in->disks[i].overlay) && !definition_uses(c, in->disks[i].overlay))
                        (void) remove_tree(in->disks[i].overlay);
        _cleanup_free_ char *folder = path_in(c->dir, in->name), *tmp = NULL;
        if (asprintf(&tmp, "%s/.%s.tmp", c->dir, in->name) >= 0)
                (void) remove_tree(tmp);
        (void) remove_tree(folder);
        remove_intent(c);
}

static bool quiesce_unavailable(void) {
        virErrorPtr e = virGetLastError();
        return e && (e->code == VIR_ERR_AGENT_UNRESPONSIVE || e->code == VIR_ERR_ARGUMENT_UNSUPPORTED ||
                     e->code == VIR_ERR_OPERATION_INVALID || e->code == VIR_ERR_OPERATION_UNSUPPORTED ||
                     e->code == VIR_ERR_CONFIG_UNSUPPORTED || e->code == VIR_ERR_AGENT_UNSYNCED);
}

static int op_create(Ctx *c) {
        SnapshotOp *op = c->op;
        uint64_t now = now_usec();
        _cleanup_free_ char *stamp = op->name[0] ? NULL : snapshot_name_for_time("snapshot", now);
        /* Two unnamed snapshots within a second get snapshot-...-2 and so on. */
        _cleanup_free_ char *name = op->name[0] ? strdup(op->name) : stamp ? unique_name(c, stamp) : NULL;
        if (!name)
                return failf(c, WINVM_ERROR_FAILED, "cannot name the snapshot");
        if (snapshot_set_find(c->set, name))
                return failf(c, WINVM_ERROR_EXISTS, "VM %s already has a snapshot named %s", op->vm, name);

        int active = domain_active(c);
        if (active < 0)
                return -1;
        _cleanup_free_ char *xml = domain_xml(c, !active), *persistent = domain_xml(c, true);
        if (!xml || !persistent)
                return -1;
        DomainDisk *disks = NULL;
        size_t n = 0;
        if (domain_xml_snapshot_disks(xml, &disks, &n) < 0)
                return failf(c, WINVM_ERROR_FAILED, "cannot parse the VM's definition");
        Intent *in = intent_new("create", name);
        int r = in ? 0 : failf(c, WINVM_ERROR_FAILED, "out of memory");
        if (r == 0 && n == 0)
                r = failf(c, WINVM_ERROR_FAILED, "VM %s has no writable disk image a snapshot could cover", op->vm);
        if (r == 0) {
                free(in->description);
                free(in->guest_state);
                free(in->parent);
                in->description = strdup(op->description);
                in->guest_state = strdup(guest_state_name(c));
                in->parent = strdup(c->set->current);
                in->created_usec = now;
                r = firmware_paths(c, persistent, in);
        }
        const Snapshot *cur = snapshot_set_find(c->set, c->set->current);
        char **targets = calloc(n + 1, sizeof(char *)), **overlays = calloc(n + 1, sizeof(char *));
        for (size_t i = 0; r == 0 && i < n; i++) {
                const SnapshotDisk *prev = snapshot_find_disk(cur, disks[i].target);
                const char *known = snapshot_set_stem(c->set, disks[i].target);
                _cleanup_free_ char *stem = known ? strdup(known) : prev ? strdup(prev->stem) :
                                            snapshot_image_stem(disks[i].file);
                _cleanup_free_ char *folder = dir_of(disks[i].file);
                _cleanup_free_ char *overlay = NULL;
                if (!stem || !folder || asprintf(&overlay, "%s/%s.%s", folder, stem, name) < 0) {
                        r = failf(c, WINVM_ERROR_FAILED, "out of memory");
                        break;
                }
                if (path_exists(overlay)) {
                        r = failf(c, WINVM_ERROR_EXISTS, "%s already exists; choose another snapshot name", overlay);
                        break;
                }
                if (!qemu_img_format_is_known(disks[i].format)) {
                        r = failf(c, WINVM_ERROR_FAILED, "disk %s of VM %s is in format %s; winvm snapshots raw and qcow2 images only",
                                  disks[i].target, op->vm, disks[i].format);
                        break;
                }
                IntentDisk *d = intent_add_disk(in, disks[i].target, disks[i].file, overlay, stem, NULL, NULL);
                if (d) {
                        free(d->image_format);
                        d->image_format = strdup(disks[i].format);
                }
                if (!d || !d->image_format) {
                        r = failf(c, WINVM_ERROR_FAILED, "out of memory");
                        break;
                }
                targets[i] = d->target;
                overlays[i] = d->overlay;
        }
        domain_disks_free(disks, n);
        _cleanup_free_ char *request = NULL;
        if (r == 0 && domain_xml_snapshot_request(xml, name, op->description, targets, overlays, in->n_disks, &request) < 0)
                r = failf(c, WINVM_ERROR_FAILED, "cannot build the snapshot request");
        free(targets);
        free(overlays);
        if (r < 0) {
                intent_free(in);
                return -1;
        }

        if (write_intent(c, in) < 0) {
                intent_free(in);
                return -1;
        }
        crash_point("create:intent");

        _cleanup_free_ char *folder = path_in(c->dir, name);
        if (save_firmware(c, in, folder) < 0) {
                rollback_create(c, in);
                intent_free(in);
                return -1;
        }
        crash_point("create:firmware");

        unsigned flags = VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY | VIR_DOMAIN_SNAPSHOT_CREATE_ATOMIC |
                         VIR_DOMAIN_SNAPSHOT_CREATE_NO_METADATA;
        bool quiesced = false;
        virDomainSnapshotPtr snap = NULL;
        if (active) {
                snap = virDomainSnapshotCreateXML(c->dom, request, flags | VIR_DOMAIN_SNAPSHOT_CREATE_QUIESCE);
                quiesced = snap != NULL;
                if (!snap && !quiesce_unavailable())
                        goto failed;
                virResetLastError();
        }
        if (!snap)
                snap = virDomainSnapshotCreateXML(c->dom, request, flags);
        if (!snap)
                goto failed;
        virDomainSnapshotFree(snap);
        crash_point("create:overlays");

        r = finish_create(c, in, quiesced);
        if (r == 0)
                op->result = strdup(name);
        intent_free(in);
        return r;

failed:
        fail_libvirt(c, "libvirt could not take the snapshot");
        rollback_create(c, in);
        intent_free(in);
        return -1;
}

/* --- revert ---------------------------------------------------------------------------------- */

static int shutdown_guest(Ctx *c) {
        SnapshotOp *op = c->op;
        if (virDomainShutdownFlags(c->dom, VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN) < 0 && virDomainIsActive(c->dom) == 1)
                return fail_libvirt(c, "cannot shut the guest down");
        virResetLastError();
        uint64_t deadline = now_usec() + (uint64_t) op->shutdown_timeout_sec * 1000000u;
        while (now_usec() < deadline) {
                int active = domain_active(c);
                if (active <= 0)
                        return active;
                usleep(100 * 1000);
        }
        if (!(op->flags & SNAPSHOT_REVERT_FORCE))
                return failf(c, WINVM_ERROR_TIMEOUT,
                             "VM %s did not shut down within %u s; nothing was changed (flag 4 forces it off)",
                             op->vm, op->shutdown_timeout_sec);
        if (virDomainDestroy(c->dom) < 0 && virDomainIsActive(c->dom) == 1)
                return fail_libvirt(c, "cannot force the guest off");
        virResetLastError();
        return 0;
}

static char *kept_folder(Ctx *c, const Intent *in) {
        return path_in(c->dir, in->kept[0] ? in->kept : "revert-rollback");
}

static int finish_revert(Ctx *c, const Intent *in) {
        _cleanup_free_ char *kept = kept_folder(c, in);
        if (strcmp(c->set->current, in->name) != 0 || (in->kept[0] && !snapshot_set_find(c->set, in->kept))) {
                if (in->kept[0] && !snapshot_set_find(c->set, in->kept) &&
                    record_snapshot(c, in, in->kept, false) < 0)
                        return -1;
                free(c->set->current);
                c->set->current = strdup(in->name);
                if (save_set(c) < 0)
                        return -1;
        }
        crash_point("revert:saved");
        if (!in->kept[0]) {
                /* The discarded tops: nothing backs on a top, and no record names them. */
                for (size_t i = 0; i < in->n_disks; i++)
                        if (!definition_uses(c, in->disks[i].image))
                                (void) remove_tree(in->disks[i].image);
                (void) remove_tree(kept);
        }
        remove_intent(c);
        return 0;
}

static void rollback_revert(Ctx *c, const Intent *in) {
        _cleanup_free_ char *kept = kept_folder(c, in);
        if (path_exists(kept))
                (void) restore_firmware(c, in, kept);
        for (size_t i = 0; i < in->n_disks; i++)
                if (path_exists(in->disks[i].overlay) && !definition_uses(c, in->disks[i].overlay))
                        (void) remove_tree(in->disks[i].overlay);
        _cleanup_free_ char *tmp = NULL;
        if (asprintf(&tmp, "%s/.%s.tmp", c->dir, strrchr(kept, '/') + 1) >= 0)
                (void) remove_tree(tmp);
        if (!in->kept[0] || !snapshot_set_find(c->set, in->kept))
                (void) remove_tree(kept);
        remove_intent(c);
}

static char *unique_path(const char *base) {
        for (unsigned k = 1; k < 1000; k++) {
                char *p = NULL;
                if ((k == 1 ? asprintf(&p, "%s", base) : asprintf(&p, "%s-%u", base, k)) < 0)
                        return NULL;
                if (!path_exists(p))
                        return p;
                free(p);
        }
        return NULL;
}

static int op_revert(Ctx *c) {
        SnapshotOp *op = c->op;
        const Snapshot *s = snapshot_set_find(c->set, op->name);
        if (!s)
                return failf(c, WINVM_ERROR_NO_SUCH_SNAPSHOT, "VM %s has no snapshot named %s", op->vm, op->name);
        for (size_t i = 0; i < s->n_disks; i++)
                if (!path_exists(s->disks[i].image))
                        return failf(c, WINVM_ERROR_FAILED, "the image %s of snapshot %s is missing",
                                     s->disks[i].image, s->name);

        int active = domain_active(c);
        if (active < 0)
                return -1;
        const char *state_before = guest_state_name(c);
        bool was_running = active;
        if (active) {
                if (!(op->flags & SNAPSHOT_REVERT_SHUTDOWN))
                        return failf(c, WINVM_ERROR_GUEST_RUNNING,
                                     "VM %s is running; shut it down first, or let the revert do it (flag 1, winvmctl snapshot revert --shutdown)",
                                     op->vm);
                if (shutdown_guest(c) < 0)
                        return -1;
                crash_point("revert:stopped");
        }

        uint64_t now = now_usec();
        _cleanup_free_ char *xml = domain_xml(c, true);
        if (!xml)
                return -1;
        DomainDisk *disks = NULL;
        size_t n = 0;
        if (domain_xml_snapshot_disks(xml, &disks, &n) < 0)
                return failf(c, WINVM_ERROR_FAILED, "cannot parse the VM's definition");

        Intent *in = intent_new("revert", s->name);
        int r = in ? 0 : failf(c, WINVM_ERROR_FAILED, "out of memory");
        if (r == 0 && !(op->flags & SNAPSHOT_REVERT_DISCARD)) {
                _cleanup_free_ char *base = snapshot_name_for_time("pre-revert", now);
                free(in->kept);
                in->kept = base ? unique_name(c, base) : NULL;
                if (!in->kept)
                        r = failf(c, WINVM_ERROR_FAILED, "cannot name the pre-revert snapshot");
        }
        if (r == 0) {
                free(in->parent);
                free(in->guest_state);
                free(in->description);
                in->parent = strdup(c->set->current);
                in->guest_state = strdup(was_running ? "running" : state_before);
                in->description = g_strdup_printf("State before reverting to %s", s->name);
                in->created_usec = now;
                r = firmware_paths(c, xml, in);
        }
        _cleanup_free_ char *stamp = snapshot_name_for_time("revert", now);
        char **targets = calloc(s->n_disks + 1, sizeof(char *)), **overlays = calloc(s->n_disks + 1, sizeof(char *));
        for (size_t i = 0; r == 0 && i < s->n_disks; i++) {
                const SnapshotDisk *sd = &s->disks[i];
                _cleanup_free_ char *top = current_source(disks, n, sd->target);
                if (!top) {
                        r = failf(c, WINVM_ERROR_FAILED, "VM %s no longer has the disk %s that snapshot %s holds",
                                  op->vm, sd->target, s->name);
                        break;
                }
                _cleanup_free_ char *folder = dir_of(sd->image), *base = NULL;
                _cleanup_free_ char *format = known_format(c, sd->target, sd->image);
                _cleanup_(strv_freep) char **chain = checked_chain(c, sd->target, sd->image, format);
                if (!chain) {
                        r = -1;
                        break;
                }
                _cleanup_free_ char *overlay = NULL;
                if (asprintf(&base, "%s/%s.%s.%s", folder, sd->stem, s->name, stamp) >= 0)
                        overlay = unique_path(base);
                IntentDisk *d = overlay ? intent_add_disk(in, sd->target, top, overlay, sd->stem, sd->image, format) : NULL;
                for (size_t k = 0; d && k < n; k++)
                        if (strcmp(disks[k].target, sd->target) == 0) {
                                free(d->image_format);
                                d->image_format = strdup(disks[k].format);
                        }
                if (!d || !d->image_format) {
                        r = failf(c, WINVM_ERROR_FAILED, "out of memory");
                        break;
                }
                targets[i] = d->target;
                overlays[i] = d->overlay;
        }
        domain_disks_free(disks, n);
        _cleanup_free_ char *new_xml = NULL;
        if (r == 0 && domain_xml_set_disk_sources(xml, targets, overlays, in->n_disks, &new_xml) < 0)
                r = failf(c, WINVM_ERROR_FAILED, "cannot edit the VM's definition");
        free(targets);
        free(overlays);
        if (r < 0 || write_intent(c, in) < 0) {
                intent_free(in);
                return -1;
        }
        crash_point("revert:intent");

        _cleanup_free_ char *kept = kept_folder(c, in), *from = path_in(c->dir, s->name);
        if (save_firmware(c, in, kept) < 0)
                goto rollback;
        crash_point("revert:kept");

        for (size_t i = 0; i < in->n_disks; i++) {
                _cleanup_free_ char *msg = NULL;
                const IntentDisk *d = &in->disks[i];
                int k = qemu_img_create_overlay(d->overlay, d->backing, d->backing_format, &msg);
                if (k < 0) {
                        fail_errno(c, k, "cannot create the new overlay", msg);
                        goto rollback;
                }
        }
        crash_point("revert:overlays");

        if (restore_firmware(c, in, from) < 0)
                goto rollback;
        crash_point("revert:firmware");

        virDomainPtr defined = virDomainDefineXML(c->conn, new_xml);
        if (!defined) {
                fail_libvirt(c, "libvirt refused the reverted definition");
                goto rollback;
        }
        virDomainFree(defined);
        crash_point("revert:defined");

        r = finish_revert(c, in);
        if (r == 0)
                op->result = strdup(in->kept);
        intent_free(in);
        if (r == 0 && was_running && virDomainCreate(c->dom) < 0)
                return fail_libvirt(c, "reverted, but the guest did not start again");
        return r;

rollback:
        rollback_revert(c, in);
        intent_free(in);
        return -1;
}

/* --- delete ---------------------------------------------------------------------------------- */

/* Pulls the data of the image under the running top into it, up to base, and waits. */
static int block_pull(Ctx *c, const char *target, const char *base) {
        if (virDomainBlockRebase(c->dom, target, base && *base ? base : NULL, 0, 0) < 0)
                return fail_libvirt(c, "cannot start merging into the running disk");
        for (;;) {
                virDomainBlockJobInfo info;
                int r = virDomainGetBlockJobInfo(c->dom, target, &info, 0);
                if (r < 0)
                        return fail_libvirt(c, "lost track of the merge into the running disk");
                if (r == 0)
                        return 0;
                usleep(20 * 1000);
        }
}

/* The running chain of a disk: its top and every backing file under it; NULL (the failure
 * recorded) when it cannot be read without guessing a format. */
static char **chain_of(Ctx *c, const char *target, const char *top) {
        if (!top)
                return calloc(1, sizeof(char *));
        _cleanup_free_ char *format = known_format(c, target, top);
        return checked_chain(c, target, top, format);
}

/* While the guest runs, QEMU has the disk's whole chain open: only the top may change, and
 * only through QEMU (a block pull). Images off the running chain are rebased as usual. */
static int merge_dependents(Ctx *c, const IntentDisk *d, bool active, const char *top) {
        _cleanup_(strv_freep) char **deps = NULL, **chain = active ? chain_of(c, d->target, top) : NULL;
        if ((active && !chain) || dependents_of(c, d->target, d->image, &deps) < 0)
                return -1;
        /* qemu-img opens the new backing file's chain: it must be what the records say. */
        _cleanup_(strv_freep) char **below = d->backing[0] ? checked_chain(c, d->target, d->backing, d->backing_format) : NULL;
        if (d->backing[0] && !below)
                return -1;
        for (char **p = deps; *p; p++) {
                if (active && top && strcmp(*p, top) == 0) {
                        if (block_pull(c, d->target, d->backing) < 0)
                                return -1;
                        continue;
                }
                if (active && strv_contains(chain, *p))
                        return failf(c, WINVM_ERROR_GUEST_RUNNING,
                                     "merging into %s would rewrite an image the running guest has open; shut the guest down first",
                                     *p);
                _cleanup_(strv_freep) char **own = checked_chain(c, d->target, *p, "qcow2");
                if (!own)
                        return -1;
                _cleanup_free_ char *msg = NULL;
                int r = qemu_img_rebase(*p, d->backing[0] ? d->backing : NULL, d->backing_format, &msg);
                if (r < 0)
                        return fail_errno(c, r, "cannot merge the snapshot into a dependent image", msg);
        }
        return 0;
}

/* Whether the delete of d commits its single dependent into the snapshot's image (the
 * dependent's path names it afterwards) rather than rebasing dependents onto the image's
 * backing file. */
static bool by_commit(const IntentDisk *d) {
        return d->overlay[0] != '\0';
}

static bool any_by_commit(const Intent *in) {
        for (size_t i = 0; i < in->n_disks; i++)
                if (by_commit(&in->disks[i]))
                        return true;
        return false;
}

/* Commits the dependent d->overlay into the snapshot's image d->image and moves the image into
 * the dependent's place. Until the rename, the dependent still reads as before (a commit
 * leaves it whole), so a repeat after a crash is safe; after it, the image is gone. Only with
 * the guest off: QEMU would hold both files open. */
static int commit_into_image(Ctx *c, const IntentDisk *d) {
        if (!path_exists(d->image))
                return 0;
        int active = domain_active(c);
        if (active < 0)
                return -1;
        if (active)
                return failf(c, WINVM_ERROR_GUEST_RUNNING,
                             "deleting a snapshot was interrupted and is finished with the guest off; shut VM %s down and call again",
                             c->op->vm);
        _cleanup_(strv_freep) char **chain = checked_chain(c, d->target, d->overlay, "qcow2");
        if (!chain)
                return -1;
        if (!chain[1] || strcmp(chain[1], d->image) != 0)
                return failf(c, WINVM_ERROR_FAILED, "%s no longer backs on %s; the snapshot's image was kept", d->overlay,
                             d->image);
        _cleanup_free_ char *msg = NULL;
        int r = qemu_img_commit(d->overlay, &msg);
        if (r < 0)
                return fail_errno(c, r, "cannot merge the dependent image into the snapshot's image", msg);
        crash_point("delete:committed");
        /* The moved file takes the dependent's owner and mode: libvirt and the user see the
         * same file they had. */
        struct stat st;
        if (stat(d->overlay, &st) == 0) {
                (void) chown(d->image, st.st_uid, st.st_gid);
                (void) chmod(d->image, st.st_mode & 07777);
        }
        if (rename(d->image, d->overlay) < 0)
                return fail_errno(c, -errno, "cannot move the merged image into place", NULL);
        (void) sync_parent(d->overlay);
        crash_point("delete:moved");
        return 0;
}

static int forget_snapshot(Ctx *c, const Intent *in) {
        if (!snapshot_set_find(c->set, in->name))
                return 0;
        if (snapshot_set_remove(c->set, in->name) < 0)
                return failf(c, WINVM_ERROR_FAILED, "out of memory");
        return save_set(c);
}

static int finish_delete(Ctx *c, const Intent *in) {
        /* A commit overwrites the snapshot's image: from its first byte on the snapshot no
         * longer exists, so it leaves the records first, and the intent stays until the move. */
        bool commits = any_by_commit(in);
        if (commits) {
                if (forget_snapshot(c, in) < 0)
                        return -1;
                crash_point("delete:forgotten");
        }
        bool active = virDomainIsActive(c->dom) == 1;
        _cleanup_free_ char *xml = domain_xml(c, true);
        DomainDisk *disks = NULL;
        size_t n = 0;
        if (!xml || domain_xml_snapshot_disks(xml, &disks, &n) < 0)
                return xml ? failf(c, WINVM_ERROR_FAILED, "cannot parse the VM's definition") : -1;
        int r = 0;
        for (size_t i = 0; r == 0 && i < in->n_disks; i++) {
                if (by_commit(&in->disks[i])) {
                        r = commit_into_image(c, &in->disks[i]);
                        continue;
                }
                _cleanup_free_ char *top = current_source(disks, n, in->disks[i].target);
                r = merge_dependents(c, &in->disks[i], active, top);
        }
        domain_disks_free(disks, n);
        if (r < 0) {
                /* Whatever was merged reads as before and the snapshot is still whole:
                 * consistent, so the intent goes and the snapshot stays. Not after a commit
                 * began: then the intent stays, to be finished. */
                if (!commits)
                        remove_intent(c);
                return -1;
        }
        crash_point("delete:merged");

        if (forget_snapshot(c, in) < 0)
                return -1;
        crash_point("delete:saved");

        for (size_t i = 0; i < in->n_disks; i++) {
                if (by_commit(&in->disks[i]))
                        continue;       /* moved into the dependent's place */
                _cleanup_(strv_freep) char **deps = NULL;
                if (dependents_of(c, in->disks[i].target, in->disks[i].image, &deps) < 0)
                        return -1;
                if (deps[0] || definition_uses(c, in->disks[i].image))
                        return failf(c, WINVM_ERROR_FAILED, "%s is still needed by %s; it was kept",
                                     in->disks[i].image, deps[0] ? deps[0] : "the VM's definition");
                (void) remove_tree(in->disks[i].image);
        }
        _cleanup_free_ char *folder = path_in(c->dir, in->name);
        (void) remove_tree(folder);
        remove_intent(c);
        return 0;
}

/* Whether deleting the snapshot whose image (of format) has the single dependent dep is
 * cheaper by committing dep into the image and moving it into dep's place: both qcow2 (the
 * moved file must read as dep did, in dep's format), the guest off, and dep holding less
 * data than the image. Data is what the files hold on the host, not their virtual size. */
static bool commit_is_cheaper(Ctx *c, const char *target, const char *image, const char *format, const char *dep) {
        if (strcmp(format, "qcow2") != 0 || definition_uses(c, image))
                return false;
        _cleanup_free_ char *dep_format = known_format(c, target, dep);
        if (!dep_format || strcmp(dep_format, "qcow2") != 0)
                return false;
        return disk_usage(dep) < disk_usage(image);
}

static int op_delete(Ctx *c) {
        SnapshotOp *op = c->op;
        const Snapshot *s = snapshot_set_find(c->set, op->name);
        if (!s)
                return failf(c, WINVM_ERROR_NO_SUCH_SNAPSHOT, "VM %s has no snapshot named %s", op->vm, op->name);
        int active = domain_active(c);
        if (active < 0)
                return -1;
        _cleanup_free_ char *xml = domain_xml(c, true);
        if (!xml)
                return -1;
        DomainDisk *disks = NULL;
        size_t n = 0;
        if (domain_xml_snapshot_disks(xml, &disks, &n) < 0)
                return failf(c, WINVM_ERROR_FAILED, "cannot parse the VM's definition");

        Intent *in = intent_new("delete", s->name);
        int r = in ? 0 : failf(c, WINVM_ERROR_FAILED, "out of memory");
        for (size_t i = 0; r == 0 && i < s->n_disks; i++) {
                const SnapshotDisk *sd = &s->disks[i];
                _cleanup_free_ char *format = known_format(c, sd->target, sd->image), *backing = NULL,
                                    *backing_format = NULL;
                if (!format) {
                        r = failf(c, WINVM_ERROR_FAILED, "winvm has no record of the format of %s", sd->image);
                        break;
                }
                if (image_backing(c, sd->target, sd->image, format, &backing, &backing_format) < 0) {
                        r = -1;
                        break;
                }
                IntentDisk *d = intent_add_disk(in, sd->target, sd->image, NULL, sd->stem, backing, backing_format);
                if (!d) {
                        r = failf(c, WINVM_ERROR_FAILED, "out of memory");
                        break;
                }
                _cleanup_free_ char *top = current_source(disks, n, sd->target);
                if (top && strcmp(top, sd->image) == 0)
                        r = failf(c, WINVM_ERROR_FAILED, "snapshot %s's image %s is the VM's current disk; the records are inconsistent",
                                  s->name, sd->image);
                if (r == 0 && !active) {
                        _cleanup_(strv_freep) char **deps = NULL;
                        if (dependents_of(c, sd->target, sd->image, &deps) < 0)
                                r = -1;
                        else if (deps[0] && !deps[1] && commit_is_cheaper(c, sd->target, sd->image, format, deps[0])) {
                                free(d->overlay);
                                if (!(d->overlay = strdup(deps[0])))
                                        r = failf(c, WINVM_ERROR_FAILED, "out of memory");
                        }
                }
                if (r == 0 && active) {
                        /* Live, the running top may be rewritten by QEMU itself, and images off
                         * the running chain by qemu-img; the rest of the chain is QEMU's. */
                        _cleanup_(strv_freep) char **deps = NULL, **chain = chain_of(c, sd->target, top);
                        if (!chain || dependents_of(c, sd->target, sd->image, &deps) < 0)
                                r = -1;
                        for (char **p = deps; r == 0 && p && *p; p++)
                                if (top && strcmp(*p, top) != 0 && strv_contains(chain, *p))
                                        r = failf(c, WINVM_ERROR_GUEST_RUNNING,
                                                  "deleting snapshot %s while VM %s runs would rewrite %s, which the guest has open; shut the guest down first",
                                                  s->name, op->vm, *p);
                }
        }
        domain_disks_free(disks, n);
        if (r < 0 || write_intent(c, in) < 0) {
                intent_free(in);
                return -1;
        }
        crash_point("delete:intent");
        r = finish_delete(c, in);
        intent_free(in);
        return r;
}

/* libvirt finishes a call winvmd made even when winvmd died meanwhile (a snapshot it was
 * taking, a definition it was writing). A modifying call waits for that job to end, so the
 * definition read next is final: removing a metadata element that does not exist is one. */
static int libvirt_barrier(Ctx *c) {
        if (virDomainSetMetadata(c->dom, VIR_DOMAIN_METADATA_ELEMENT, NULL, NULL, "https://winvm.invalid/barrier",
                                 VIR_DOMAIN_AFFECT_CONFIG) < 0)
                return fail_libvirt(c, "cannot wait for libvirt to finish the interrupted operation");
        return 0;
}

/* --- recovery and entry ------------------------------------------------------------------------ */

static int recover(Ctx *c) {
        _cleanup_free_ char *data = NULL, *error = NULL;
        int r = read_file(c->intent_path, &data);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return fail_errno(c, r, "cannot read the intent record", NULL);
        Intent *in = NULL;
        if (intent_parse(data, &in, &error) < 0)
                return failf(c, WINVM_ERROR_FAILED, "the intent record %s is damaged (%s); fix or remove it by hand",
                             c->intent_path, error);
        if (need_domain(c) < 0 || libvirt_barrier(c) < 0) {
                intent_free(in);
                return -1;
        }
        if (strcmp(in->op, "delete") == 0)
                r = finish_delete(c, in);
        else {
                r = definition_uses_overlays(c, in);
                bool create = strcmp(in->op, "create") == 0;
                if (r == 1 && create)
                        r = finish_create(c, in, false);
                else if (r == 1) {
                        _cleanup_free_ char *from = path_in(c->dir, in->name);
                        r = restore_firmware(c, in, from);
                        if (r == 0)
                                r = finish_revert(c, in);
                } else if (r == 0) {
                        if (create)
                                rollback_create(c, in);
                        else
                                rollback_revert(c, in);
                }
        }
        intent_free(in);
        return r < 0 ? -1 : 0;
}

/* Sizes for ListSnapshots. */
static void measure(Ctx *c) {
        for (size_t i = 0; c->set && i < c->set->n; i++) {
                Snapshot *s = c->set->items[i];
                _cleanup_free_ char *folder = path_in(c->dir, s->name);
                s->bytes_on_disk = folder ? disk_usage(folder) : 0;
                for (size_t k = 0; k < s->n_disks; k++)
                        s->bytes_on_disk += disk_usage(s->disks[k].image);
        }
}

/* A VM winvm has no records for, or one libvirt has snapshot metadata for (taken with virsh
 * since, or left by an adoption a crash cut short), has its snapshots adopted when winvmd
 * reads them. A failure leaves the load as it was and is told as a notice. */
static void adopt_at_load(Ctx *c) {
        if (!c->records_missing && c->set->n > 0) {
                /* Known VM: only libvirt metadata brings anything new. */
                if (need_domain(c) < 0 || snapshot_adopt_metadata_count(c) <= 0)
                        goto quiet;
        } else if (need_domain(c) < 0)
                goto quiet;
        if (snapshot_adopt(c, &c->op->adopted) == 0)
                return;
        c->op->notice = op_take_error(c->operation, &c->op->notice_name);
        (void) load_set(c);
        return;
quiet:
        free(op_take_error(c->operation, NULL));
}

SnapshotOp *snapshot_op_new(const char *uri, const char *vm, const char *state_dir) {
        SnapshotOp *op = calloc(1, sizeof(*op));
        if (!op)
                return NULL;
        op->uri = strdup(uri);
        op->vm = strdup(vm);
        op->state_dir = strdup(state_dir);
        op->name = strdup("");
        op->description = strdup("");
        if (!op->uri || !op->vm || !op->state_dir || !op->name || !op->description)
                return snapshot_op_free(op);
        return op;
}

SnapshotOp *snapshot_op_free(SnapshotOp *op) {
        if (!op)
                return NULL;
        free(op->uri);
        free(op->vm);
        free(op->state_dir);
        free(op->name);
        free(op->description);
        free(op->result);
        free(op->notice);
        strv_free(op->adopted);
        snapshot_set_free(op->set);
        free(op);
        return NULL;
}

typedef int (*snapshot_step_fn)(Ctx *c);

/* The frame of every snapshot operation: recovery first, then step (with the domain looked
 * up when needs_domain), then the snapshots as they are on disk, whatever happened. */
static void run(Operation *o, SnapshotOp *op, bool needs_domain, snapshot_step_fn step) {
        Ctx c = { .operation = o, .op = op };
        c.dir = snapshot_state_folder(op->state_dir, op->vm);
        c.meta_path = c.dir ? path_in(c.dir, "snapshots.ini") : NULL;
        c.intent_path = c.dir ? path_in(c.dir, "intent.ini") : NULL;
        if (!c.meta_path || !c.intent_path) {
                failf(&c, WINVM_ERROR_FAILED, "out of memory");
                goto finish;
        }
        if (load_set(&c) < 0)
                goto finish;
        if (recover(&c) < 0 || load_set(&c) < 0)
                goto finish;
        if (needs_domain && need_domain(&c) < 0)
                goto finish;
        (void) step(&c);
finish:
        /* What is on disk now is the truth, whatever happened above. */
        if (c.meta_path) {
                const char *name;
                _cleanup_free_ char *message = op_take_error(o, &name);
                if (load_set(&c) == 0) {
                        measure(&c);
                        op->set = c.set;
                        c.set = NULL;
                }
                if (name) {
                        free(op_take_error(o, NULL));
                        op_fail(o, name, "%s", message ? message : "failed");
                }
        }
        snapshot_set_free(c.set);
        if (c.dom) {
                /* The last definition seen, for a define after libvirt lost the VM. */
                _cleanup_free_ char *last = virDomainGetXMLDesc(c.dom, VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_SECURE);
                if (last)
                        (void) definition_last_keep(op->state_dir, op->vm, last);
                virDomainFree(c.dom);
        }
        virResetLastError();
        free(c.dir);
        free(c.meta_path);
        free(c.intent_path);
}

static int adopt_step(Ctx *c) {
        return snapshot_adopt(c, &c->op->adopted);
}

static int load_step(Ctx *c) {
        adopt_at_load(c);
        return 0;
}

void snapshot_load_work(Operation *o, void *data) {
        run(o, data, false, load_step);
}

void snapshot_create_work(Operation *o, void *data) {
        run(o, data, true, op_create);
}

void snapshot_revert_work(Operation *o, void *data) {
        run(o, data, true, op_revert);
}

void snapshot_delete_work(Operation *o, void *data) {
        run(o, data, true, op_delete);
}

void snapshot_adopt_work(Operation *o, void *data) {
        run(o, data, true, adopt_step);
}
