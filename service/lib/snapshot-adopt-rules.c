#include "snapshot-adopt-rules.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "util.h"
#include "xml-doc.h"

LibvirtSnapshot *libvirt_snapshot_free(LibvirtSnapshot *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_disks; i++) {
                free(s->disks[i].target);
                free(s->disks[i].overlay);
                free(s->disks[i].image);
                free(s->disks[i].format);
        }
        free(s->disks);
        free(s->name);
        free(s->description);
        free(s->parent);
        free(s->state);
        free(s);
        return NULL;
}

const LibvirtSnapshotDisk *libvirt_snapshot_disk(const LibvirtSnapshot *s, const char *target) {
        for (size_t i = 0; s && i < s->n_disks; i++)
                if (strcmp(s->disks[i].target, target) == 0)
                        return &s->disks[i];
        return NULL;
}

static char *or_empty(char *s) {
        return s ? s : strdup("");
}

/* libvirt's snapshot states: a disk-only snapshot of a running guest is "disk-snapshot". */
static const char *guest_state_of(const char *state) {
        if (!state || strcmp(state, "shutoff") == 0 || strcmp(state, "shutdown") == 0 || strcmp(state, "crashed") == 0)
                return "shutoff";
        if (strcmp(state, "paused") == 0 || strcmp(state, "pmsuspended") == 0)
                return "paused";
        return "running";
}

/* The snapshot's <domain> disk whose target is target: its source file and driver type. */
static void frozen_image(XmlDoc *x, const char *target, char **ret_image, char **ret_format) {
        int n = 0;
        xmlXPathObjectPtr res = xml_doc_nodes(x, NULL, "/domainsnapshot/domain/devices/disk[@type='file']", &n);
        *ret_image = *ret_format = NULL;
        for (int i = 0; i < n && !*ret_image; i++) {
                xmlNodePtr node = res->nodesetval->nodeTab[i];
                _cleanup_free_ char *dev = xml_doc_string(x, node, "string(target/@dev)");
                if (!dev || strcmp(dev, target) != 0)
                        continue;
                *ret_image = xml_doc_string(x, node, "string(source/@file)");
                *ret_format = xml_doc_string(x, node, "string(driver/@type)");
        }
        xmlXPathFreeObject(res);
}

int libvirt_snapshot_parse(const char *xml, LibvirtSnapshot **ret) {
        XmlDoc x;
        int r = xml_doc_open(xml, &x);
        if (r < 0)
                return r;
        LibvirtSnapshot *s = calloc(1, sizeof(*s));
        if (!s) {
                xml_doc_close(&x);
                return -ENOMEM;
        }
        s->name = xml_doc_string(&x, NULL, "string(/domainsnapshot/name)");
        s->description = or_empty(xml_doc_string(&x, NULL, "string(/domainsnapshot/description)"));
        s->parent = or_empty(xml_doc_string(&x, NULL, "string(/domainsnapshot/parent/name)"));
        _cleanup_free_ char *state = xml_doc_string(&x, NULL, "string(/domainsnapshot/state)");
        _cleanup_free_ char *created = xml_doc_string(&x, NULL, "string(/domainsnapshot/creationTime)");
        _cleanup_free_ char *memory = xml_doc_string(&x, NULL, "string(/domainsnapshot/memory/@snapshot)");
        s->state = strdup(guest_state_of(state));
        char *end = NULL;
        unsigned long long secs = created ? strtoull(created, &end, 10) : 0;
        s->created_usec = created && end && !*end ? (uint64_t) secs * 1000000u : 0;
        if (!s->name || !snapshot_name_is_valid(s->name) || !s->parent ||
            (s->parent[0] && !snapshot_name_is_valid(s->parent)))
                r = -EINVAL;
        else if (!s->description || !s->state)
                r = -ENOMEM;
        else if (memory && strcmp(memory, "no") != 0)
                r = -EMEDIUMTYPE;

        int n = 0;
        xmlXPathObjectPtr res = r < 0 ? NULL : xml_doc_nodes(&x, NULL, "/domainsnapshot/disks/disk", &n);
        s->disks = calloc((size_t) n + 1, sizeof(LibvirtSnapshotDisk));
        if (r == 0 && !s->disks)
                r = -ENOMEM;
        for (int i = 0; r == 0 && i < n; i++) {
                xmlNodePtr node = res->nodesetval->nodeTab[i];
                _cleanup_free_ char *kind = xml_doc_string(&x, node, "string(@snapshot)");
                if (kind && strcmp(kind, "no") == 0)
                        continue;
                if (!kind || strcmp(kind, "external") != 0) {
                        r = -EMEDIUMTYPE;      /* internal: inside the qcow2 file, not a chain */
                        break;
                }
                LibvirtSnapshotDisk d = {
                        .target = xml_doc_string(&x, node, "string(@name)"),
                        .overlay = xml_doc_string(&x, node, "string(source/@file)"),
                };
                if (d.target && d.overlay && disk_target_is_valid(d.target))
                        frozen_image(&x, d.target, &d.image, &d.format);
                if (!d.image || d.overlay[0] != '/' || d.image[0] != '/') {
                        free(d.target);
                        free(d.overlay);
                        free(d.image);
                        free(d.format);
                        r = -EINVAL;
                        break;
                }
                d.format = or_empty(d.format);
                s->disks[s->n_disks++] = d;
        }
        if (r == 0 && s->n_disks == 0)
                r = -EMEDIUMTYPE;
        xmlXPathFreeObject(res);
        xml_doc_close(&x);
        if (r < 0) {
                libvirt_snapshot_free(s);
                return r;
        }
        *ret = s;
        return 0;
}

char *snapshot_adopt_name_from_file(const char *folder, const char *stem, const char *file) {
        size_t fl = strlen(folder), sl = strlen(stem);
        if (strncmp(file, folder, fl) != 0 || file[fl] != '/')
                return NULL;
        const char *base = file + fl + 1;
        if (strchr(base, '/') || strncmp(base, stem, sl) != 0 || base[sl] != '.')
                return NULL;
        const char *name = base + sl + 1;
        return snapshot_name_is_valid(name) ? strdup(name) : NULL;
}
