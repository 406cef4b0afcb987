#include "definition-guard.h"

#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "usb-devices.h"
#include "util.h"
#include "xml-doc.h"

#define QEMU_NS "http://libvirt.org/schemas/domain/qemu/1.0"

/* Every place a domain refers to the host, as "kind=value" strings. Guest-side names
 * (<target dev='vda'>, a virtiofs tag) are not host references. */
static const char *const reference_xpaths[] = {
        "//*[not(self::target)]/@file",
        "//*[not(self::target)]/@dev",
        "//*[not(self::target)]/@dir",
        "//*[not(self::target)]/@path",
        "//*[not(self::target)]/@socket",
        "//@evdev",
        "//@template",
        "//path",
        "/domain/devices/rng/backend",
        "/domain/devices/emulator",
        "/domain/os/loader",
        "/domain/os/nvram",
        "/domain/os/kernel",
        "/domain/os/initrd",
        "/domain/os/dtb",
        "/domain/devices/hostdev/source",
        "/domain/devices/interface[@type='ethernet']/target",
        "//*[namespace-uri()='" QEMU_NS "' and not(parent::*[namespace-uri()='" QEMU_NS "'])]",
};

/* "<element><child>@attr" for a node, so a message says where the value sits. */
static char *where(xmlNodePtr n) {
        GString *s = g_string_new(NULL);
        xmlNodePtr e = n->type == XML_ATTRIBUTE_NODE ? n->parent : n;
        if (e && e->parent && e->parent->type == XML_ELEMENT_NODE && xmlStrcmp(e->parent->name, BAD_CAST "devices") != 0 &&
            xmlStrcmp(e->parent->name, BAD_CAST "domain") != 0)
                g_string_append_printf(s, "<%s>", (const char *) e->parent->name);
        if (e)
                g_string_append_printf(s, "<%s>", (const char *) e->name);
        if (n->type == XML_ATTRIBUTE_NODE)
                g_string_append_printf(s, " %s", (const char *) n->name);
        return g_string_free(s, false);
}

/* An element as text that depends on its content only, not on how a document was encoded
 * or laid out: {namespace}name, attributes as name="value", children, trimmed text. */
static void canonical(GString *out, xmlNodePtr n) {
        for (; n; n = n->next) {
                if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
                        xmlChar *v = xmlNodeGetContent(n);
                        g_autofree char *t = g_strstrip(g_strdup(v ? (const char *) v : ""));
                        xmlFree(v);
                        if (*t)
                                g_string_append_printf(out, "\"%s\"", t);
                        continue;
                }
                if (n->type != XML_ELEMENT_NODE)
                        continue;
                g_string_append_c(out, '<');
                if (n->ns && n->ns->href)
                        g_string_append_printf(out, "{%s}", (const char *) n->ns->href);
                g_string_append(out, (const char *) n->name);
                for (xmlAttrPtr a = n->properties; a; a = a->next) {
                        xmlChar *v = xmlNodeListGetString(n->doc, a->children, 1);
                        g_string_append_printf(out, " %s=\"%s\"", (const char *) a->name, v ? (const char *) v : "");
                        xmlFree(v);
                }
                g_string_append_c(out, '>');
                canonical(out, n->children);
                g_string_append(out, "</>");
        }
}

/* The value of a reference: an attribute's text, an element's text when it is a plain text
 * element, else the element in canonical form (a hostdev <source>, qemu:commandline). */
static char *value_of(xmlNodePtr n) {
        bool has_children = false;
        for (xmlNodePtr c = n->type == XML_ELEMENT_NODE ? n->children : NULL; c; c = c->next)
                has_children = has_children || c->type == XML_ELEMENT_NODE;
        if (n->type == XML_ELEMENT_NODE && (has_children || n->properties)) {
                GString *out = g_string_new(NULL);
                xmlNodePtr next = n->next;
                n->next = NULL; /* this element alone, not its following siblings */
                canonical(out, n);
                n->next = next;
                return g_string_free(out, false);
        }
        xmlChar *v = xmlNodeGetContent(n);
        char *s = g_strstrip(g_strdup(v ? (const char *) v : ""));
        xmlFree(v);
        return s;
}

typedef struct Ref {
        char *where, *value;
        char usb_id[10];        /* a USB hostdev's vendor:product, "" otherwise */
} Ref;

static void ref_free(gpointer p) {
        Ref *r = p;
        g_free(r->where);
        g_free(r->value);
        g_free(r);
}

/* The vendor:product of a USB hostdev's <source>, as libvirt reads its hex ids. */
static void usb_id_of(XmlDoc *x, xmlNodePtr n, char out[static 10]) {
        out[0] = '\0';
        if (n->type != XML_ELEMENT_NODE || xmlStrcmp(n->name, BAD_CAST "source") != 0 || !n->parent ||
            xmlStrcmp(n->parent->name, BAD_CAST "hostdev") != 0)
                return;
        g_autofree char *type = xml_doc_string(x, n->parent, "string(@type)");
        g_autofree char *vendor = xml_doc_string(x, n, "string(vendor/@id)");
        g_autofree char *product = xml_doc_string(x, n, "string(product/@id)");
        if (!type || strcmp(type, "usb") != 0 || !vendor || !product)
                return;
        char *end_v = NULL, *end_p = NULL;
        unsigned long v = strtoul(vendor, &end_v, 16), p = strtoul(product, &end_p, 16);
        if (*end_v || *end_p || v > 0xffff || p > 0xffff)
                return;
        usb_id_format((UsbId) { (uint16_t) v, (uint16_t) p }, out);
}

static int collect(const char *xml, GPtrArray *refs) {
        XmlDoc x;
        int r = xml_doc_open(xml, &x);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(reference_xpaths); i++) {
                int n = 0;
                xmlXPathObjectPtr o = xml_doc_nodes(&x, NULL, reference_xpaths[i], &n);
                for (int k = 0; k < n; k++) {
                        Ref *ref = g_new0(Ref, 1);
                        ref->where = where(o->nodesetval->nodeTab[k]);
                        ref->value = value_of(o->nodesetval->nodeTab[k]);
                        if (!ref->value)
                                ref->value = g_strdup("");
                        usb_id_of(&x, o->nodesetval->nodeTab[k], ref->usb_id);
                        g_ptr_array_add(refs, ref);
                }
                xmlXPathFreeObject(o);
        }
        xml_doc_close(&x);
        return 0;
}

static bool known(GPtrArray *refs, const Ref *ref) {
        for (guint i = 0; i < refs->len; i++) {
                const Ref *c = refs->pdata[i];
                if (strcmp(c->where, ref->where) == 0 && strcmp(c->value, ref->value) == 0)
                        return true;
        }
        return false;
}

static bool under(const char *dir, const char *path) {
        size_t n = strlen(dir);
        while (n > 1 && dir[n - 1] == '/')
                n--;
        return strncmp(dir, path, n) == 0 && path[n] == '/' && !strstr(path, "/../") && !g_str_has_suffix(path, "/..");
}

/* A disk image beside one the VM already uses, or on a [Storage] filesystem. */
static bool image_allowed(GPtrArray *current, const DefinitionPolicy *p, const char *file) {
        if (file[0] != '/')
                return false;
        for (char *const *d = p->storage_dirs; d && *d; d++)
                if (under(*d, file))
                        return true;
        for (guint i = 0; i < current->len; i++) {
                const Ref *c = current->pdata[i];
                if (strcmp(c->where, "<disk><source> file") != 0)
                        continue;
                g_autofree char *dir = g_path_get_dirname(c->value);
                if (strcmp(dir, "/") != 0 && under(dir, file))
                        return true;
        }
        return false;
}

/* A virtiofs share of a folder in the desktop user's home. */
static bool share_allowed(const DefinitionPolicy *p, const char *dir) {
        for (char *const *d = p->share_dirs; d && *d; d++)
                if (strcmp(*d, dir) == 0 || under(*d, dir))
                        return true;
        return false;
}

/* A USB <source> for a configured vendor:product. */
static bool usb_source_allowed(const DefinitionPolicy *p, const Ref *ref) {
        return ref->usb_id[0] && strv_contains(p->usb_ids, ref->usb_id);
}

static bool allowed(GPtrArray *current, const DefinitionPolicy *p, const Ref *ref) {
        if (strcmp(ref->where, "<filesystem><binary> path") == 0)
                return strv_contains(p->virtiofsd_allowed, ref->value);
        if (strcmp(ref->where, "<disk><source> file") == 0)
                return image_allowed(current, p, ref->value);
        if (strcmp(ref->where, "<hostdev><source>") == 0)
                return usb_source_allowed(p, ref);
        if (strcmp(ref->where, "<filesystem><source> dir") == 0)
                return share_allowed(p, ref->value);
        return false;
}

int definition_guard_check(const char *current_xml, const char *new_xml, const DefinitionPolicy *policy,
                           char **ret_what) {
        g_autoptr(GPtrArray) current = g_ptr_array_new_with_free_func(ref_free);
        g_autoptr(GPtrArray) proposed = g_ptr_array_new_with_free_func(ref_free);
        int r = collect(current_xml, current);
        if (r == 0)
                r = collect(new_xml, proposed);
        if (r < 0)
                return r;
        for (guint i = 0; i < proposed->len; i++) {
                const Ref *ref = proposed->pdata[i];
                if (known(current, ref) || allowed(current, policy, ref))
                        continue;
                g_autofree char *v = g_strndup(ref->value, 200);
                *ret_what = NULL;
                if (asprintf(ret_what, "%s='%s'", ref->where, v) < 0)
                        return -ENOMEM;
                return -EPERM;
        }
        return 0;
}
