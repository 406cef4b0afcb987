/* Fuzzes every function of service/lib/domain-xml.h on one domain XML.
 *
 * Input: a first line "NAME|DESCRIPTION|FILE|FILE|..." (the snapshot name and description and
 * the new source files, as CreateSnapshot would pass them; an empty or invalid field gets a
 * realistic default), then the domain XML.
 *
 * Checks: all functions agree on whether the XML parses; the snapshot disks are among the
 * disk files; domain_xml_set_disk_sources() gives XML whose disks with those targets now use
 * the new qcow2 files without a backing store, with every other disk and fact unchanged; and
 * domain_xml_snapshot_request() gives a <domainsnapshot> with the name, the description, one
 * external disk per target and snapshot='no' for every other disk of the domain.
 *
 * Those two are checked on XML shaped as libvirt writes it (see libvirt_shaped()); on anything
 * else they only must not crash, leak or fail in an undocumented way. */
#include <errno.h>
#include <glib.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <stdbool.h>

#include "domain-xml.h"
#include "fuzz-common.h"
#include "names.h"
#include "util.h"

#define MAX_FIELDS 16

/* Text XML 1.0 can hold (its Char production): libxml2 cannot write anything else. The
 * service's file names come out of the domain XML, so they always are. */
static bool xml_text_ok(const char *s) {
        if (!g_utf8_validate(s, -1, NULL))
                return false;
        for (const char *p = s; *p; p = g_utf8_next_char(p)) {
                gunichar c = g_utf8_get_char(p);
                if (!(c == 0x9 || c == 0xa || c == 0xd || (c >= 0x20 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) ||
                      c >= 0x10000))
                        return false;
        }
        return true;
}

static xmlDocPtr parse(const char *xml) {
        return xmlReadMemory(xml, (int) strlen(xml), "fuzz.xml", NULL,
                             XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
}

/* The string value of an XPath expression over doc, "" when empty (a copy). */
static char *xpath_string(xmlDocPtr doc, const char *expr) {
        xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
        xmlXPathObjectPtr o = ctx ? xmlXPathEvalExpression((const xmlChar *) expr, ctx) : NULL;
        xmlChar *v = o ? xmlXPathCastToString(o) : NULL;
        char *s = strdup(v ? (const char *) v : "");
        xmlFree(v);
        xmlXPathFreeObject(o);
        xmlXPathFreeContext(ctx);
        return s;
}

/* As libvirt writes a domain: every disk has at most one <target>, <source> and <driver>, no
 * element of another namespace, and no two disks share a target dev (libvirt refuses that). */
static bool libvirt_shaped(const char *xml) {
        xmlDocPtr doc = parse(xml);
        if (!doc)
                return false;
        char *odd = xpath_string(doc, "count(/domain/devices/disk[count(*[local-name()='target']) > 1 or "
                                      "count(*[local-name()='source']) > 1 or count(*[local-name()='driver']) > 1 or "
                                      "*[namespace-uri() != '']])");
        bool ok = strcmp(odd, "0") == 0;
        free(odd);

        xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
        xmlXPathObjectPtr o = xmlXPathEvalExpression((const xmlChar *) "/domain/devices/disk/target/@dev", ctx);
        int n = o && o->nodesetval ? o->nodesetval->nodeNr : 0;
        GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, xmlFree, NULL);
        for (int i = 0; ok && i < n; i++) {
                xmlChar *dev = xmlNodeGetContent(o->nodesetval->nodeTab[i]);
                ok = !g_hash_table_contains(seen, dev);
                g_hash_table_add(seen, dev);
        }
        g_hash_table_destroy(seen);
        xmlXPathFreeObject(o);
        xmlXPathFreeContext(ctx);
        xmlFreeDoc(doc);
        return ok;
}

static const DomainDisk *find_disk(const DomainDisk *disks, size_t n, const char *target) {
        for (size_t i = 0; i < n; i++)
                if (strcmp(disks[i].target, target) == 0)
                        return &disks[i];
        return NULL;
}

static bool in_list(char *const *l, size_t n, const char *s) {
        for (size_t i = 0; i < n; i++)
                if (strcmp(l[i], s) == 0)
                        return true;
        return false;
}

/* Every function says -EINVAL for XML that does not parse. */
static void check_unparsable(const char *xml) {
        DomainDisk *disks = NULL;
        size_t n = 0;
        char *s = NULL;
        char *const targets[] = { (char *) "vda" }, *const files[] = { (char *) "/x.qcow2" };
        fuzz_check(domain_xml_snapshot_disks(xml, &disks, &n) == -EINVAL, "snapshot_disks");
        fuzz_check(domain_xml_nvram(xml, &s) == -EINVAL, "nvram");
        fuzz_check(domain_xml_uuid(xml, &s) == -EINVAL, "uuid");
        fuzz_check(domain_xml_has_swtpm(xml) == -EINVAL, "has_swtpm");
        fuzz_check(domain_xml_set_disk_sources(xml, targets, files, 1, &s) == -EINVAL, "set_disk_sources");
        fuzz_check(domain_xml_snapshot_request(xml, "fuzz", "", targets, files, 1, &s) == -EINVAL, "snapshot_request");
}

static void check_edited(const char *xml, const char *out, const DomainDisk *disks, size_t n_disks,
                         char *const *targets, char *const *files, size_t n) {
        DomainDisk *after = NULL;
        size_t n_after = 0;
        int r = domain_xml_snapshot_disks(out, &after, &n_after);
        fuzz_check(r == 0, "the edited XML does not parse again (%d):\n%s", r, out);
        fuzz_check(n_after == n_disks, "%zu snapshot disks before, %zu after:\n%s", n_disks, n_after, out);
        for (size_t i = 0; i < n_disks; i++) {
                fuzz_check(strcmp(after[i].target, disks[i].target) == 0, "disk %zu: target '%s' became '%s'", i,
                           disks[i].target, after[i].target);
                /* The first disk with a target is the one the edit changed. */
                size_t t = 0;
                while (t < n && strcmp(targets[t], disks[i].target) != 0)
                        t++;
                if (t < n && find_disk(disks, n_disks, disks[i].target) == &disks[i]) {
                        fuzz_check(strcmp(after[i].file, files[t]) == 0 && strcmp(after[i].format, "qcow2") == 0,
                                   "%s: '%s' (%s), expected '%s' (qcow2):\n%s", after[i].target, after[i].file,
                                   after[i].format, files[t], out);
                } else {
                        fuzz_check(strcmp(after[i].file, disks[i].file) == 0 && strcmp(after[i].format, disks[i].format) == 0,
                                   "%s was not to change: '%s' (%s) became '%s' (%s)", disks[i].target, disks[i].file,
                                   disks[i].format, after[i].file, after[i].format);
                }
        }
        domain_disks_free(after, n_after);

        /* No backing store is left on an edited disk (targets are safe in XPath when valid). */
        xmlDocPtr doc = parse(out);
        fuzz_check(doc, "the edited XML does not parse");
        for (size_t t = 0; t < n; t++) {
                if (!disk_target_is_valid(targets[t]))
                        continue;
                /* Room for any valid target: a truncated expression would not parse and count nothing. */
                char expr[512];
                int len = snprintf(expr, sizeof(expr),
                                   "count((/domain/devices/disk[@type='file' and @device='disk' and not(readonly) and "
                                   "not(shareable)][target/@dev='%s'])[1]/backingStore)", targets[t]);
                fuzz_check(len > 0 && (size_t) len < sizeof(expr), "target '%s' does not fit the expression", targets[t]);
                char *count = xpath_string(doc, expr);
                fuzz_check(strcmp(count, "0") == 0, "%s still has %s backing stores:\n%s", targets[t], count, out);
                free(count);
        }
        xmlFreeDoc(doc);

        /* The rest of the domain is as it was. */
        char *a = NULL, *b = NULL;
        fuzz_check(domain_xml_uuid(xml, &a) == domain_xml_uuid(out, &b) && streq_ptr(a, b), "uuid '%s' became '%s'",
                   fuzz_str(a), fuzz_str(b));
        free(a), free(b), a = b = NULL;
        fuzz_check(domain_xml_nvram(xml, &a) == 0 && domain_xml_nvram(out, &b) == 0 && streq_ptr(a, b),
                   "nvram '%s' became '%s'", fuzz_str(a), fuzz_str(b));
        free(a), free(b);
        fuzz_check(domain_xml_has_swtpm(xml) == domain_xml_has_swtpm(out), "has_swtpm changed");
}

static void check_request(const char *xml, const char *req, const char *name, const char *description,
                          char *const *targets, char *const *files, size_t n) {
        xmlDocPtr doc = parse(req);
        fuzz_check(doc, "the snapshot request does not parse:\n%s", req);
        xmlNodePtr root = xmlDocGetRootElement(doc);
        fuzz_check(root && strcmp((const char *) root->name, "domainsnapshot") == 0, "root element:\n%s", req);
        char *s = xpath_string(doc, "/domainsnapshot/name");
        fuzz_check(strcmp(s, name) == 0, "name '%s', expected '%s'", s, name);
        free(s);
        s = xpath_string(doc, "/domainsnapshot/description");
        fuzz_check(strcmp(s, description) == 0, "description '%s', expected '%s'", s, description);
        free(s);

        /* The disks of the request, in order: first the targets, then every other disk. */
        xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
        xmlXPathObjectPtr o = xmlXPathEvalExpression((const xmlChar *) "/domainsnapshot/disks/disk", ctx);
        int count = o && o->nodesetval ? o->nodesetval->nodeNr : 0;

        /* Every disk of the domain that is not a target is listed once with snapshot='no'. */
        size_t others = 0;
        xmlDocPtr dom = parse(xml);
        xmlXPathContextPtr dctx = xmlXPathNewContext(dom);
        xmlXPathObjectPtr all = xmlXPathEvalExpression((const xmlChar *) "/domain/devices/disk/target/@dev", dctx);
        for (int i = 0; all && all->nodesetval && i < all->nodesetval->nodeNr; i++) {
                xmlChar *dev = xmlNodeGetContent(all->nodesetval->nodeTab[i]);
                others += !in_list(targets, n, (const char *) dev);
                xmlFree(dev);
        }
        xmlXPathFreeObject(all);
        xmlXPathFreeContext(dctx);
        xmlFreeDoc(dom);
        fuzz_check((size_t) count == n + others, "%d disks for %zu targets and %zu other disks:\n%s", count, n,
                   others, req);
        for (int i = 0; i < count; i++) {
                xmlNodePtr disk = o->nodesetval->nodeTab[i];
                xmlChar *dname = xmlGetProp(disk, (const xmlChar *) "name");
                xmlChar *mode = xmlGetProp(disk, (const xmlChar *) "snapshot");
                fuzz_check(dname && mode, "disk %d without name or snapshot:\n%s", i, req);
                if ((size_t) i < n) {
                        ctx->node = disk;
                        xmlXPathObjectPtr f = xmlXPathEvalExpression((const xmlChar *) "string(source/@file)", ctx);
                        xmlChar *file = xmlXPathCastToString(f);
                        fuzz_check(strcmp((const char *) dname, targets[i]) == 0 &&
                                   strcmp((const char *) mode, "external") == 0 && strcmp((const char *) file, files[i]) == 0,
                                   "disk %d is %s %s '%s', expected %s external '%s'", i, dname, mode, file, targets[i],
                                   files[i]);
                        xmlFree(file);
                        xmlXPathFreeObject(f);
                } else {
                        fuzz_check(strcmp((const char *) mode, "no") == 0 && !in_list(targets, n, (const char *) dname),
                                   "extra disk %s with snapshot='%s':\n%s", dname, mode, req);
                }
                xmlFree(dname);
                xmlFree(mode);
        }
        xmlXPathFreeObject(o);
        xmlXPathFreeContext(ctx);
        xmlFreeDoc(doc);
}

static void quiet(void *ctx, const char *msg, ...) {
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) {
        /* libxml2 reports encoding and output errors on stderr even with XML_PARSE_NOERROR; a
         * fuzzer meets thousands of them. */
        xmlSetGenericErrorFunc(NULL, quiet);
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *input = fuzz_strndup(data, size);
        char *nl = strchr(input, '\n');
        const char *xml = nl ? nl + 1 : "";
        if (nl)
                *nl = '\0';
        char **fields = g_strsplit(input, "|", MAX_FIELDS);
        size_t n_fields = g_strv_length(fields);

        char **files = NULL;
        int r = domain_xml_disk_files(xml, &files);
        if (r < 0) {
                fuzz_check(r == -EINVAL, "disk_files returned %d", r);
                check_unparsable(xml);
                goto out;
        }

        DomainDisk *disks = NULL;
        size_t n_disks = 0;
        r = domain_xml_snapshot_disks(xml, &disks, &n_disks);
        fuzz_check(r == 0, "disk_files parsed it but snapshot_disks returned %d", r);
        for (size_t i = 0; i < n_disks; i++) {
                fuzz_check(disks[i].target[0] && disks[i].file[0] && disks[i].format[0], "disk %zu has an empty field", i);
                fuzz_check(in_list(files, strv_length(files), disks[i].file), "snapshot disk '%s' is not a disk file",
                           disks[i].file);
        }

        char *s = NULL;
        fuzz_check(domain_xml_nvram(xml, &s) == 0, "nvram");
        fuzz_check(!s || s[0], "empty nvram");
        free(s), s = NULL;
        r = domain_xml_uuid(xml, &s);
        fuzz_check((r == 0 && s && s[0]) || (r == -ENOENT && !s), "uuid %d", r);
        free(s), s = NULL;
        r = domain_xml_has_swtpm(xml);
        fuzz_check(r == 0 || r == 1, "has_swtpm %d", r);

        /* A snapshot of every disk it covers (each target once), as CreateSnapshot takes it. */
        const char *name = n_fields > 0 && snapshot_name_is_valid(fields[0]) ? fields[0] : "fuzz";
        const char *description = n_fields > 1 && snapshot_description_is_valid(fields[1]) ? fields[1] : "";
        char **targets = calloc(n_disks + 1, sizeof(char *)), **new_files = calloc(n_disks + 1, sizeof(char *));
        size_t n = 0;
        for (size_t i = 0; i < n_disks; i++) {
                if (find_disk(disks, n_disks, disks[i].target) != &disks[i])
                        continue;
                const char *f = n + 2 < n_fields ? fields[n + 2] : NULL;
                targets[n] = strdup(disks[i].target);
                new_files[n] = f && f[0] && xml_text_ok(f) ? strdup(f) : g_strdup_printf("%s.%s", disks[i].file, name);
                n++;
        }

        bool shaped = libvirt_shaped(xml);
        char *out = NULL;
        r = domain_xml_set_disk_sources(xml, targets, new_files, n, &out);
        if (shaped) {
                fuzz_check(r == 0, "set_disk_sources returned %d for targets snapshot_disks found", r);
                check_edited(xml, out, disks, n_disks, targets, new_files, n);
        } else {
                fuzz_check((r == 0 && out) || (r == -ENOENT && !out), "set_disk_sources returned %d", r);
        }
        free(out), out = NULL;

        /* A target the domain does not have. */
        char *const missing[] = { (char *) "fuzzmissing" }, *const missing_file[] = { (char *) "/x.qcow2" };
        if (!find_disk(disks, n_disks, missing[0])) {
                r = domain_xml_set_disk_sources(xml, missing, missing_file, 1, &out);
                fuzz_check(r == -ENOENT && !out, "a missing target gave %d", r);
        }

        char *req = NULL;
        r = domain_xml_snapshot_request(xml, name, description, targets, new_files, n, &req);
        fuzz_check(r == 0 && req, "snapshot_request returned %d", r);
        if (shaped)
                check_request(xml, req, name, description, targets, new_files, n);
        free(req);

        strv_free(targets);
        strv_free(new_files);
        domain_disks_free(disks, n_disks);
out:
        strv_free(files);
        g_strfreev(fields);
        free(input);
        return 0;
}
