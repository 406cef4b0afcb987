#include "definition-guard.h"

#include <errno.h>
#include <glib.h>
#include <libxml/xmlsave.h>
#include <stdio.h>
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

/* The value of a reference: an attribute's text, an element's text when it has no element
 * children, else the element serialised (a hostdev <source>, qemu:commandline). */
static char *value_of(xmlDocPtr doc, xmlNodePtr n) {
        bool has_children = false;
        for (xmlNodePtr c = n->type == XML_ELEMENT_NODE ? n->children : NULL; c; c = c->next)
                has_children = has_children || c->type == XML_ELEMENT_NODE;
        if (n->type == XML_ELEMENT_NODE && (has_children || n->properties)) {
                xmlBufferPtr buf = xmlBufferCreate();
                xmlSaveCtxtPtr save = buf ? xmlSaveToBuffer(buf, "UTF-8", XML_SAVE_NO_DECL) : NULL;
                char *out = NULL;
                if (save) {
                        xmlSaveTree(save, n);
                        xmlSaveClose(save);
                        /* Layout is not a change: drop the whitespace between elements. */
                        g_autoptr(GRegex) re = g_regex_new(">\\s+<", 0, 0, NULL);
                        out = re ? g_regex_replace_literal(re, (const char *) xmlBufferContent(buf), -1, 0, "><", 0, NULL)
                                 : NULL;
                }
                xmlBufferFree(buf);
                return out;
        }
        xmlChar *v = xmlNodeGetContent(n);
        char *s = g_strstrip(g_strdup(v ? (const char *) v : ""));
        xmlFree(v);
        (void) doc;
        return s;
}

typedef struct Ref {
        char *where, *value;
} Ref;

static void ref_free(gpointer p) {
        Ref *r = p;
        g_free(r->where);
        g_free(r->value);
        g_free(r);
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
                        ref->value = value_of(x.doc, o->nodesetval->nodeTab[k]);
                        if (!ref->value)
                                ref->value = g_strdup("");
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

static bool in_list(char *const *l, const char *s) {
        for (; l && *l; l++)
                if (strcmp(*l, s) == 0)
                        return true;
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
static bool usb_source_allowed(const DefinitionPolicy *p, const char *value) {
        g_autofree char *doc = g_strdup_printf("<domain><devices><hostdev mode='subsystem' type='usb'>%s</hostdev></devices></domain>",
                                               value);
        for (char *const *id = p->usb_ids; id && *id; id++) {
                UsbId u;
                if (usb_id_parse(*id, &u) == 0 && usb_domain_has(doc, u) == 1)
                        return true;
        }
        return false;
}

static bool allowed(GPtrArray *current, const DefinitionPolicy *p, const Ref *ref) {
        if (strcmp(ref->where, "<filesystem><binary> path") == 0)
                return in_list(p->virtiofsd_allowed, ref->value);
        if (strcmp(ref->where, "<disk><source> file") == 0)
                return image_allowed(current, p, ref->value);
        if (strcmp(ref->where, "<hostdev><source>") == 0)
                return usb_source_allowed(p, ref->value);
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
