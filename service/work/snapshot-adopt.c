/* Adopting snapshots winvm did not take: libvirt's snapshot metadata (virsh
 * snapshot-create-as --disk-only) and the qcow2 backing chains of the VM's disks, with or
 * without metadata. Runs on the definition worker inside a snapshot operation (snapshot-ops.c).
 *
 * Each disk's chain is walked from its top in the persistent definition down to the first
 * image winvm's records know (or to the bottom). Every image on the way, except the top, is
 * the frozen image of one adopted snapshot, named after the overlay made on it: libvirt's
 * metadata names it where it has an entry for that overlay (and must agree with the chain);
 * otherwise the overlay must be "<stem>.<name>" in the folder of the chain's base
 * (snapshot-adopt-rules.h). Formats come from the definition and the qcow2 headers, checked
 * as every chain walk of winvm checks them (image_backing); nothing is probed.
 *
 * Steps, each safe to interrupt: copies of libvirt's snapshot XML kept in
 * <state>/libvirt-snapshot-metadata/<vm>/ → records saved → libvirt's metadata removed
 * (--metadata only: no file is touched). A restart after the records were saved finds the
 * snapshots known and only removes the metadata left. No disk file is ever written here. */
#include <errno.h>
#include <glib.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "domain-xml.h"
#include "errors.h"
#include "names.h"
#include "safe-files.h"
#include "snapshot-adopt-rules.h"
#include "snapshot-adopt.h"
#include "snapshot-ctx.h"
#include "util.h"

#define CHAIN_MAX 64

typedef struct Found {
        char *name;
        char *image;            /* the frozen image */
        char *format;
        char *stem;
} Found;

typedef struct DiskChain {
        const char *target;
        char *anchor;           /* the known snapshot the lowest found image grew from; "" for none */
        Found *found;           /* oldest first */
        size_t n;
} DiskChain;

typedef struct Metadata {
        virDomainSnapshotPtr *snaps;    /* parents before children */
        char **xml;
        LibvirtSnapshot **parsed;
        int n;
} Metadata;

static void disk_chain_clear(DiskChain *d) {
        for (size_t i = 0; i < d->n; i++) {
                free(d->found[i].name);
                free(d->found[i].image);
                free(d->found[i].format);
                free(d->found[i].stem);
        }
        free(d->found);
        free(d->anchor);
}

static void metadata_clear(Metadata *m) {
        for (int i = 0; i < m->n; i++) {
                virDomainSnapshotFree(m->snaps[i]);
                if (m->xml)
                        free(m->xml[i]);
                if (m->parsed)
                        libvirt_snapshot_free(m->parsed[i]);
        }
        free(m->snaps);
        free(m->xml);
        free(m->parsed);
        *m = (Metadata) { 0 };
}

static int read_metadata(Ctx *c, Metadata *m) {
        int n = virDomainListAllSnapshots(c->dom, &m->snaps, VIR_DOMAIN_SNAPSHOT_LIST_TOPOLOGICAL);
        if (n < 0)
                return fail_libvirt(c, "cannot list libvirt's snapshots of the VM");
        m->n = n;
        m->xml = calloc((size_t) n + 1, sizeof(char *));
        m->parsed = calloc((size_t) n + 1, sizeof(LibvirtSnapshot *));
        if (!m->xml || !m->parsed)
                return failf(c, WINVM_ERROR_FAILED, "out of memory");
        for (int i = 0; i < n; i++) {
                const char *name = virDomainSnapshotGetName(m->snaps[i]);
                m->xml[i] = virDomainSnapshotGetXMLDesc(m->snaps[i], VIR_DOMAIN_SNAPSHOT_XML_SECURE);
                if (!m->xml[i])
                        return fail_libvirt(c, "cannot read libvirt's snapshot metadata");
                int r = libvirt_snapshot_parse(m->xml[i], &m->parsed[i]);
                if (r == -EMEDIUMTYPE)
                        return failf(c, WINVM_ERROR_FAILED,
                                     "libvirt's snapshot %s is not disk-only and external; winvm adopts only those (remove it with virsh snapshot-delete first)",
                                     name ? name : "?");
                if (r < 0)
                        return failf(c, WINVM_ERROR_FAILED, "libvirt's snapshot %s cannot be adopted: %s",
                                     name ? name : "?", r == -EINVAL ? "its name or disks are not ones winvm accepts" : strerror(-r));
        }
        return 0;
}

/* The metadata entry that made overlay on target, NULL when none. */
static const LibvirtSnapshot *metadata_for_overlay(const Metadata *m, const char *target, const char *overlay) {
        for (int i = 0; i < m->n; i++) {
                const LibvirtSnapshotDisk *d = libvirt_snapshot_disk(m->parsed[i], target);
                if (d && strcmp(d->overlay, overlay) == 0)
                        return m->parsed[i];
        }
        return NULL;
}

static const LibvirtSnapshot *metadata_named(const Metadata *m, const char *name) {
        for (int i = 0; i < m->n; i++)
                if (strcmp(m->parsed[i]->name, name) == 0)
                        return m->parsed[i];
        return NULL;
}

/* The snapshot of the records whose frozen image for target is path, NULL when none. */
static const Snapshot *record_freezing(const SnapshotSet *set, const char *target, const char *path) {
        for (size_t i = 0; i < set->n; i++) {
                const SnapshotDisk *d = snapshot_find_disk(set->items[i], target);
                if (d && strcmp(d->image, path) == 0)
                        return set->items[i];
        }
        return NULL;
}

/* Walks target's chain from top (of format) down; fills d with the images to adopt. */
static int walk_disk(Ctx *c, const Metadata *m, const DomainDisk *dd, DiskChain *d) {
        char *files[CHAIN_MAX + 1] = { 0 }, *formats[CHAIN_MAX + 1] = { 0 };
        size_t k = 0;
        int r = 0;
        const Snapshot *anchor = NULL;
        files[0] = strdup(dd->file);
        formats[0] = strdup(dd->format);
        if (!files[0] || !formats[0])
                r = failf(c, WINVM_ERROR_FAILED, "out of memory");
        while (r == 0) {
                if (k > 0 && (anchor = record_freezing(c->set, dd->target, files[k]))) {
                        free(files[k]);
                        free(formats[k]);
                        files[k] = formats[k] = NULL;
                        k--;
                        break;
                }
                if (k == CHAIN_MAX) {
                        r = failf(c, WINVM_ERROR_FAILED, "the chain under %s is deeper than %d images", dd->file, CHAIN_MAX);
                        break;
                }
                if (image_backing(c, dd->target, files[k], formats[k], &files[k + 1], &formats[k + 1]) < 0) {
                        r = -1;
                        break;
                }
                if (!files[k + 1])
                        break;
                k++;
        }
        /* files[0] is the top, files[k] the lowest image to adopt (or the top: nothing). */
        d->target = dd->target;
        d->anchor = strdup(anchor ? anchor->name : "");
        d->found = calloc(k + 1, sizeof(Found));
        if (r == 0 && (!d->anchor || !d->found))
                r = failf(c, WINVM_ERROR_FAILED, "out of memory");
        _cleanup_free_ char *base = r == 0 ? strdup(anchor ? snapshot_find_disk(anchor, dd->target)->image : files[k]) : NULL;
        const char *known_stem = anchor ? snapshot_set_stem(c->set, dd->target) : NULL;
        _cleanup_free_ char *stem = !base ? NULL :
                                   known_stem ? strdup(known_stem) :
                                   anchor ? strdup(snapshot_find_disk(anchor, dd->target)->stem) :
                                   snapshot_image_stem(base);
        _cleanup_free_ char *folder = base ? dir_of(base) : NULL;
        if (r == 0 && (!stem || !folder))
                r = failf(c, WINVM_ERROR_FAILED, "out of memory");
        for (size_t i = k; r == 0 && i >= 1; i--) {
                /* files[i] is frozen; files[i - 1] is the overlay made on it, which names it. */
                const char *image = files[i], *overlay = files[i - 1];
                const LibvirtSnapshot *lv = metadata_for_overlay(m, dd->target, overlay);
                char *name = NULL;
                if (lv) {
                        const LibvirtSnapshotDisk *ld = libvirt_snapshot_disk(lv, dd->target);
                        if (strcmp(ld->image, image) != 0)
                                r = failf(c, WINVM_ERROR_FAILED,
                                          "libvirt's snapshot %s says it froze %s, but %s backs on %s; nothing was adopted",
                                          lv->name, ld->image, overlay, image);
                        else if (ld->format[0] && strcmp(ld->format, formats[i]) != 0)
                                r = failf(c, WINVM_ERROR_FAILED,
                                          "libvirt's snapshot %s says %s is %s, but %s names it as %s; nothing was adopted",
                                          lv->name, image, ld->format, overlay, formats[i]);
                        name = r == 0 ? strdup(lv->name) : NULL;
                } else if (!(name = snapshot_adopt_name_from_file(folder, stem, overlay)))
                        r = failf(c, WINVM_ERROR_FAILED,
                                  "%s backs on %s but is not named %s/%s.<snapshot name> and libvirt has no snapshot for it; winvm adopts only such chains, so nothing was adopted",
                                  overlay, image, folder, stem);
                if (r < 0)
                        break;
                d->found[d->n++] = (Found) { .name = name, .image = strdup(image), .format = strdup(formats[i]), .stem = strdup(stem) };
                if (!d->found[d->n - 1].image || !d->found[d->n - 1].format || !d->found[d->n - 1].stem)
                        r = failf(c, WINVM_ERROR_FAILED, "out of memory");
                if (i == 1)
                        break;
        }
        for (size_t i = 0; i <= CHAIN_MAX; i++) {
                free(files[i]);
                free(formats[i]);
        }
        return r;
}

static const Found *found_named(const DiskChain *d, const char *name) {
        for (size_t i = 0; i < d->n; i++)
                if (strcmp(d->found[i].name, name) == 0)
                        return &d->found[i];
        return NULL;
}

static uint64_t mtime_usec(const char *path) {
        struct stat st;
        if (stat(path, &st) < 0)
                return 1;
        return (uint64_t) st.st_mtim.tv_sec * 1000000u + (uint64_t) st.st_mtim.tv_nsec / 1000u;
}

/* The snapshots the chains hold, oldest first, added to c->set; their names in *ret_names. */
static int add_found(Ctx *c, const Metadata *m, DiskChain *chains, size_t n_chains, char ***ret_names) {
        const DiskChain *longest = NULL;
        for (size_t i = 0; i < n_chains; i++)
                if (!longest || chains[i].n > longest->n)
                        longest = &chains[i];
        size_t n = longest ? longest->n : 0;
        /* Every disk's snapshots are the newest of the longest chain's (a disk added later
         * has fewer), grown from the same known snapshot. */
        for (size_t i = 0; i < n_chains; i++) {
                const DiskChain *d = &chains[i];
                bool same = d->n == 0 || strcmp(d->anchor, longest->anchor) == 0 || d->n < n;
                for (size_t k = 0; same && k < d->n; k++)
                        same = strcmp(d->found[k].name, longest->found[n - d->n + k].name) == 0;
                if (!same)
                        return failf(c, WINVM_ERROR_FAILED,
                                     "the chains of disks %s and %s name different snapshots; nothing was adopted",
                                     d->target, longest->target);
        }
        char **names = calloc(n + 1, sizeof(char *));
        if (!names)
                return failf(c, WINVM_ERROR_FAILED, "out of memory");
        *ret_names = names;
        for (size_t k = 0; k < n; k++)
                if (snapshot_set_find(c->set, longest->found[k].name))
                        return failf(c, WINVM_ERROR_EXISTS,
                                     "winvm already has a snapshot named %s, which the chain of disk %s also names; nothing was adopted",
                                     longest->found[k].name, longest->target);
        for (size_t k = 0; k < n; k++) {
                const Found *f = &longest->found[k];
                const LibvirtSnapshot *lv = metadata_named(m, f->name);
                Snapshot *s = calloc(1, sizeof(*s));
                if (!s)
                        return failf(c, WINVM_ERROR_FAILED, "out of memory");
                bool description_ok = lv && snapshot_description_is_valid(lv->description);
                s->name = strdup(f->name);
                s->description = strdup(description_ok ? lv->description : "");
                s->parent = strdup(k > 0 ? longest->found[k - 1].name : longest->anchor);
                /* Without metadata: the frozen image stopped changing when the snapshot was taken. */
                s->created_usec = lv && lv->created_usec ? lv->created_usec : mtime_usec(f->image);
                s->guest_state = strdup(lv ? lv->state : "shutoff");
                s->adopted = true;
                s->disks = calloc(n_chains + 1, sizeof(SnapshotDisk));
                bool oom = !s->name || !s->description || !s->parent || !s->guest_state || !s->disks;
                for (size_t i = 0; !oom && i < n_chains; i++) {
                        const Found *g = found_named(&chains[i], f->name);
                        if (!g)
                                continue;
                        s->disks[s->n_disks++] = (SnapshotDisk) {
                                .target = strdup(chains[i].target),
                                .image = strdup(g->image),
                                .stem = strdup(g->stem),
                                .format = strdup(g->format),
                        };
                        const SnapshotDisk *sd = &s->disks[s->n_disks - 1];
                        oom = !sd->target || !sd->image || !sd->stem || !sd->format ||
                              snapshot_set_remember_stem(c->set, sd->target, sd->stem) < 0;
                }
                if (oom || !(names[k] = strdup(f->name)) || snapshot_set_add(c->set, s) < 0) {
                        snapshot_free(s);
                        return failf(c, WINVM_ERROR_FAILED, "cannot record the adopted snapshot %s", f->name);
                }
        }
        return 0;
}

/* A libvirt snapshot neither adopted now nor known before points at files winvm would not
 * protect once its metadata is gone: refused, with nothing changed. */
static int check_all_metadata_covered(Ctx *c, const Metadata *m) {
        for (int i = 0; i < m->n; i++)
                if (!snapshot_set_find(c->set, m->parsed[i]->name))
                        return failf(c, WINVM_ERROR_FAILED,
                                     "libvirt's snapshot %s is not on the chain of the VM's current disks; winvm adopts only the snapshots the current state grew from (remove that one with virsh snapshot-delete first)",
                                     m->parsed[i]->name);
        return 0;
}

static int keep_metadata_copies(Ctx *c, const Metadata *m) {
        _cleanup_free_ char *folder = snapshot_adopt_metadata_folder(c->op->state_dir, c->op->vm);
        int r = folder ? mkdir_parents(folder) : -ENOMEM;
        for (int i = 0; r == 0 && i < m->n; i++) {
                _cleanup_free_ char *file = NULL;
                if (asprintf(&file, "%s/%s.xml", folder, m->parsed[i]->name) < 0)
                        r = -ENOMEM;
                else
                        r = write_file_atomic(file, m->xml[i], strlen(m->xml[i]), 0600);
        }
        return r < 0 ? fail_errno(c, r, "cannot keep a copy of libvirt's snapshot metadata", NULL) : 0;
}

static int remove_metadata(Ctx *c, const Metadata *m) {
        for (int i = m->n - 1; i >= 0; i--)     /* children first */
                if (virDomainSnapshotDelete(m->snaps[i], VIR_DOMAIN_SNAPSHOT_DELETE_METADATA_ONLY) < 0)
                        return fail_libvirt(c, "cannot remove libvirt's snapshot metadata (a copy is kept)");
        return 0;
}

int snapshot_adopt(Ctx *c, char ***ret_names) {
        *ret_names = NULL;
        if (need_domain(c) < 0)
                return -1;
        Metadata m = { 0 };
        _cleanup_free_ char *xml = NULL;
        DomainDisk *disks = NULL;
        size_t n = 0;
        DiskChain *chains = NULL;
        int r = read_metadata(c, &m);
        if (r == 0 && !(xml = domain_xml(c, true)))
                r = -1;
        if (r == 0 && domain_xml_snapshot_disks(xml, &disks, &n) < 0)
                r = failf(c, WINVM_ERROR_FAILED, "cannot parse the VM's definition");
        if (r == 0 && !(chains = calloc(n + 1, sizeof(DiskChain))))
                r = failf(c, WINVM_ERROR_FAILED, "out of memory");
        for (size_t i = 0; r == 0 && i < n; i++)
                r = walk_disk(c, &m, &disks[i], &chains[i]);
        if (r == 0)
                r = add_found(c, &m, chains, n, ret_names);
        if (r == 0)
                r = check_all_metadata_covered(c, &m);
        if (r == 0 && m.n > 0)
                r = keep_metadata_copies(c, &m);
        if (r == 0 && *ret_names && (*ret_names)[0])
                r = save_set(c);
        if (r == 0) {
                crash_point("adopt:saved");
                r = remove_metadata(c, &m);
        }
        for (size_t i = 0; chains && i < n; i++)
                disk_chain_clear(&chains[i]);
        free(chains);
        domain_disks_free(disks, n);
        metadata_clear(&m);
        return r;
}

int snapshot_adopt_metadata_count(Ctx *c) {
        if (need_domain(c) < 0)
                return -1;
        int n = virDomainSnapshotNum(c->dom, 0);
        if (n < 0)
                virResetLastError();
        return n < 0 ? 0 : n;
}

char *snapshot_adopt_metadata_folder(const char *state_dir, const char *vm) {
        char *p = NULL;
        return asprintf(&p, "%s/libvirt-snapshot-metadata/%s", state_dir, vm) < 0 ? NULL : p;
}
