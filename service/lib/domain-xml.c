#include "domain-xml.h"

#include <errno.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <stdlib.h>
#include <string.h>

#include "xml-doc.h"

int domain_xml_disk_files(const char *xml, char ***ret_files) {
        XmlDoc x;
        int n = 0, r = xml_doc_open(xml, &x);
        if (r < 0)
                return r;
        xmlXPathObjectPtr res = xml_doc_nodes(&x, NULL, "/domain/devices/disk[@type='file' and @device='disk']/source/@file",
                                              &n);
        char **files = calloc(n + 1, sizeof(char *));
        r = files ? 0 : -ENOMEM;
        for (int i = 0; r == 0 && i < n; i++) {
                xmlChar *v = xmlNodeGetContent(res->nodesetval->nodeTab[i]);
                files[i] = strdup((const char *) v);
                xmlFree(v);
        }
        xmlXPathFreeObject(res);
        xml_doc_close(&x);
        if (r < 0)
                return r;
        *ret_files = files;
        return 0;
}

/* --- snapshots ------------------------------------------------------------------------ */

#define SNAPSHOT_DISKS_XPATH \
        "/domain/devices/disk[@type='file' and @device='disk' and not(readonly) and not(shareable)]"

void domain_disks_free(DomainDisk *disks, size_t n) {
        for (size_t i = 0; disks && i < n; i++) {
                free(disks[i].target);
                free(disks[i].file);
                free(disks[i].format);
        }
        free(disks);
}

int domain_xml_snapshot_disks(const char *xml, DomainDisk **ret_disks, size_t *ret_n) {
        XmlDoc x;
        int r = xml_doc_open(xml, &x);
        if (r < 0)
                return r;
        xmlXPathObjectPtr res = xmlXPathEvalExpression((const xmlChar *) SNAPSHOT_DISKS_XPATH, x.ctx);
        int n = res && res->nodesetval ? res->nodesetval->nodeNr : 0;
        DomainDisk *disks = calloc(n + 1, sizeof(DomainDisk));
        size_t k = 0;
        r = disks ? 0 : -ENOMEM;
        for (int i = 0; r == 0 && i < n; i++) {
                xmlNodePtr node = res->nodesetval->nodeTab[i];
                DomainDisk d = {
                        .target = xml_doc_string(&x, node, "string(target/@dev)"),
                        .file = xml_doc_string(&x, node, "string(source/@file)"),
                        .format = xml_doc_string(&x, node, "string(driver/@type)"),
                };
                if (!d.format)
                        d.format = strdup("raw");
                if (!d.target || !d.file) {     /* an empty CD-like disk: nothing to snapshot */
                        free(d.target);
                        free(d.file);
                        free(d.format);
                        continue;
                }
                disks[k++] = d;
        }
        xmlXPathFreeObject(res);
        xml_doc_close(&x);
        if (r < 0) {
                domain_disks_free(disks, k);
                return r;
        }
        *ret_disks = disks;
        *ret_n = k;
        return 0;
}

int domain_xml_set_disk_sources(const char *xml, char *const *targets, char *const *files, size_t n,
                                char **ret_xml) {
        XmlDoc x;
        int r = xml_doc_open(xml, &x);
        if (r < 0)
                return r;
        xmlXPathObjectPtr res = xmlXPathEvalExpression((const xmlChar *) SNAPSHOT_DISKS_XPATH, x.ctx);
        int nodes = res && res->nodesetval ? res->nodesetval->nodeNr : 0;
        for (size_t t = 0; r == 0 && t < n; t++) {
                xmlNodePtr disk = NULL;
                for (int i = 0; !disk && i < nodes; i++) {
                        xmlNodePtr target = xml_child(res->nodesetval->nodeTab[i], "target");
                        xmlChar *dev = target ? xmlGetProp(target, (const xmlChar *) "dev") : NULL;
                        if (dev && strcmp((const char *) dev, targets[t]) == 0)
                                disk = res->nodesetval->nodeTab[i];
                        xmlFree(dev);
                }
                xmlNodePtr source = disk ? xml_child(disk, "source") : NULL;
                if (!source) {
                        r = -ENOENT;
                        break;
                }
                xmlSetProp(source, (const xmlChar *) "file", (const xmlChar *) files[t]);
                xmlNodePtr driver = xml_child(disk, "driver");
                if (!driver) {
                        driver = xmlNewNode(NULL, (const xmlChar *) "driver");
                        xmlSetProp(driver, (const xmlChar *) "name", (const xmlChar *) "qemu");
                        xmlAddPrevSibling(source, driver);
                }
                xmlSetProp(driver, (const xmlChar *) "type", (const xmlChar *) "qcow2");
                xmlNodePtr backing;
                while ((backing = xml_child(disk, "backingStore"))) {
                        xmlUnlinkNode(backing);
                        xmlFreeNode(backing);
                }
        }
        xmlXPathFreeObject(res);
        if (r == 0)     /* always UTF-8, whatever encoding the input declared: libvirt and we read it */
                r = xml_doc_dump(&x, 0, ret_xml);
        xml_doc_close(&x);
        return r;
}

int domain_xml_nvram(const char *xml, char **ret) {
        XmlDoc x;
        int r = xml_doc_open(xml, &x);
        if (r < 0)
                return r;
        /* libvirt 8.5 and later may write <nvram type='file'><source file=.../></nvram>; the
         * text is taken as written, spaces and all. */
        *ret = xml_doc_string(&x, NULL, "string(/domain/os/nvram/source/@file)");
        if (!*ret)
                *ret = xml_doc_string(&x, NULL, "string(/domain/os/nvram[not(source)])");
        xml_doc_close(&x);
        return 0;
}

int domain_xml_uuid(const char *xml, char **ret) {
        XmlDoc x;
        int r = xml_doc_open(xml, &x);
        if (r < 0)
                return r;
        *ret = xml_doc_string(&x, NULL, "normalize-space(/domain/uuid)");
        xml_doc_close(&x);
        return *ret ? 0 : -ENOENT;
}

int domain_xml_has_swtpm(const char *xml) {
        XmlDoc x;
        int r = xml_doc_open(xml, &x);
        if (r < 0)
                return r;
        char *s = xml_doc_string(&x, NULL, "string(count(/domain/devices/tpm/backend[@type='emulator']) > 0)");
        r = s && strcmp(s, "true") == 0;
        free(s);
        xml_doc_close(&x);
        return r;
}

int domain_xml_snapshot_request(const char *domain_xml, const char *name, const char *description,
                                char *const *targets, char *const *files, size_t n, char **ret_xml) {
        XmlDoc x;
        int r = xml_doc_open(domain_xml, &x);
        if (r < 0)
                return r;
        xmlXPathObjectPtr all = xmlXPathEvalExpression((const xmlChar *) "/domain/devices/disk/target/@dev", x.ctx);

        xmlDocPtr doc = xmlNewDoc((const xmlChar *) "1.0");
        xmlNodePtr root = xmlNewNode(NULL, (const xmlChar *) "domainsnapshot");
        xmlDocSetRootElement(doc, root);
        xmlNewTextChild(root, NULL, (const xmlChar *) "name", (const xmlChar *) name);
        xmlNewTextChild(root, NULL, (const xmlChar *) "description", (const xmlChar *) description);
        xmlNodePtr disks = xmlNewChild(root, NULL, (const xmlChar *) "disks", NULL);
        for (size_t i = 0; i < n; i++) {
                xmlNodePtr disk = xmlNewChild(disks, NULL, (const xmlChar *) "disk", NULL);
                xmlSetProp(disk, (const xmlChar *) "name", (const xmlChar *) targets[i]);
                xmlSetProp(disk, (const xmlChar *) "snapshot", (const xmlChar *) "external");
                xmlNodePtr driver = xmlNewChild(disk, NULL, (const xmlChar *) "driver", NULL);
                xmlSetProp(driver, (const xmlChar *) "type", (const xmlChar *) "qcow2");
                xmlNodePtr source = xmlNewChild(disk, NULL, (const xmlChar *) "source", NULL);
                xmlSetProp(source, (const xmlChar *) "file", (const xmlChar *) files[i]);
        }
        int others = all && all->nodesetval ? all->nodesetval->nodeNr : 0;
        for (int i = 0; i < others; i++) {
                xmlChar *dev = xmlNodeGetContent(all->nodesetval->nodeTab[i]);
                bool covered = false;
                for (size_t k = 0; dev && k < n; k++)
                        covered = covered || strcmp((const char *) dev, targets[k]) == 0;
                if (dev && !covered) {
                        xmlNodePtr disk = xmlNewChild(disks, NULL, (const xmlChar *) "disk", NULL);
                        xmlSetProp(disk, (const xmlChar *) "name", dev);
                        xmlSetProp(disk, (const xmlChar *) "snapshot", (const xmlChar *) "no");
                }
                xmlFree(dev);
        }
        xmlChar *out = NULL;
        int len = 0;
        xmlDocDumpMemory(doc, &out, &len);
        *ret_xml = out ? strdup((const char *) out) : NULL;
        xmlFree(out);
        xmlFreeDoc(doc);
        xmlXPathFreeObject(all);
        xml_doc_close(&x);
        return *ret_xml ? 0 : -ENOMEM;
}

int domain_xml_keep_graphics_passwords(const char *current_xml, const char *new_xml, char **ret_xml) {
        static const char *const carried[] = { "passwd", "passwdValidTo" };
        XmlDoc cur, x;
        *ret_xml = NULL;
        int r = xml_doc_open(current_xml, &cur);
        if (r < 0)
                return r;
        if ((r = xml_doc_open(new_xml, &x)) < 0) {
                xml_doc_close(&cur);
                return r;
        }
        int n_new = 0, n_cur = 0, carried_any = 0;
        xmlXPathObjectPtr want = xml_doc_nodes(&x, NULL, "/domain/devices/graphics[not(@passwd)][@type]", &n_new);
        xmlXPathObjectPtr have = xml_doc_nodes(&cur, NULL, "/domain/devices/graphics[@passwd][@type]", &n_cur);
        for (int i = 0; i < n_new; i++) {
                xmlNodePtr g = want->nodesetval->nodeTab[i];
                xmlChar *type = xmlGetProp(g, (const xmlChar *) "type");
                xmlNodePtr from = NULL;
                for (int k = 0; !from && k < n_cur; k++) {
                        xmlChar *t = xmlGetProp(have->nodesetval->nodeTab[k], (const xmlChar *) "type");
                        if (t && type && xmlStrcmp(t, type) == 0)
                                from = have->nodesetval->nodeTab[k];
                        xmlFree(t);
                }
                xmlFree(type);
                for (size_t a = 0; from && a < sizeof(carried) / sizeof(carried[0]); a++) {
                        xmlChar *v = xmlGetProp(from, (const xmlChar *) carried[a]);
                        if (v && !xmlHasProp(g, (const xmlChar *) carried[a])) {
                                xmlSetProp(g, (const xmlChar *) carried[a], v);
                                carried_any = 1;
                        }
                        xmlFree(v);
                }
        }
        xmlXPathFreeObject(want);
        xmlXPathFreeObject(have);
        if (carried_any)
                r = xml_doc_dump(&x, 0, ret_xml);
        xml_doc_close(&x);
        xml_doc_close(&cur);
        return r;
}
