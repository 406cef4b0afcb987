/* The walk of the guard: two libxml2 trees side by side. Siblings are paired (identical ones
 * first, then by the rule's key, then in order); what is left over was added or removed.
 * Every attribute, text and child that differs must be on the rule of its element
 * (definition-allowlist.c); an element whose change is not, but that its rule's check_new
 * admits as a whole (a disk pointed at another image), is admitted as a new one. */
#include "definition-guard.h"

#include <errno.h>
#include <stdarg.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "definition-allowlist.h"
#include "util.h"
#include "xml-doc.h"

/* "<a><b><c>" for el and up to two of its ancestors below <devices> or <domain>. */
static void append_where(GString *s, xmlNodePtr el) {
        xmlNodePtr chain[3];
        int n = 0;
        for (xmlNodePtr e = el; e && e->type == XML_ELEMENT_NODE && n < 3; e = e->parent) {
                if (e != el && (xmlStrcmp(e->name, BAD_CAST "devices") == 0 || xmlStrcmp(e->name, BAD_CAST "domain") == 0))
                        break;
                chain[n++] = e;
        }
        while (n-- > 0) {
                xmlNodePtr e = chain[n];
                if (e->ns && e->ns->prefix)
                        g_string_append_printf(s, "<%s:%s>", (const char *) e->ns->prefix, (const char *) e->name);
                else
                        g_string_append_printf(s, "<%s>", (const char *) e->name);
        }
}

static int refuse(char **ret_what, xmlNodePtr el, const char *attr, const char *value, const char *why) {
        GString *s = g_string_new(NULL);
        append_where(s, el);
        if (attr)
                g_string_append_printf(s, " %s", attr);
        if (value) {
                /* It goes into a bus message and a polkit detail: valid UTF-8, and short. */
                g_autofree char *valid = g_utf8_make_valid(value, -1);
                g_autofree char *v = g_utf8_substring(valid, 0, MIN(g_utf8_strlen(valid, -1), 200));
                g_string_append_printf(s, "='%s'", g_strstrip(v));
        }
        if (why)
                g_string_append_printf(s, " (%s)", why);
        free(*ret_what);
        *ret_what = strdup(s->str);
        g_string_free(s, true);
        return *ret_what ? -EPERM : -ENOMEM;
}

/* An element as text that depends on its content only: {namespace}name, attributes,
 * children, trimmed text. */
static void canonical(GString *out, xmlNodePtr n, bool siblings) {
        for (; n; n = siblings ? n->next : NULL) {
                if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
                        g_autofree char *t = g_strstrip(g_strdup(n->content ? (const char *) n->content : ""));
                        if (*t)
                                g_string_append_printf(out, "\"%s\"", t);
                        continue;
                }
                if (n->type != XML_ELEMENT_NODE)
                        continue;
                g_string_append_c(out, '<');
                if (n->ns && n->ns->href) {
                        /* A namespace's text is not escaped when written: a newline in it reads
                         * back as a space. Layout is no change. */
                        g_autofree char *href = g_strdup((const char *) n->ns->href);
                        g_strdelimit(href, "\t\n\r", ' ');
                        g_string_append_printf(out, "{%s}", href);
                }
                g_string_append(out, (const char *) n->name);
                for (xmlAttrPtr a = n->properties; a; a = a->next) {
                        xmlChar *v = xmlNodeListGetString(n->doc, a->children, 1);
                        g_string_append_printf(out, " %s=\"%s\"", (const char *) a->name, v ? (const char *) v : "");
                        xmlFree(v);
                }
                g_string_append_c(out, '>');
                canonical(out, n->children, true);
                g_string_append(out, "</>");
        }
}

static char *canonical_of(xmlNodePtr n) {
        GString *s = g_string_new(NULL);
        canonical(s, n, false);
        return g_string_free(s, false);
}

/* The element's own text: its text children, each trimmed, the empty ones left out. Between
 * child elements only the indentation changes when a definition is written again; text nodes
 * are joined by \x01, which XML text can never hold, so no two different texts compare equal. */
static char *own_text(xmlNodePtr el) {
        GString *s = g_string_new(NULL);
        for (xmlNodePtr c = el->children; c; c = c->next)
                if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content) {
                        g_autofree char *t = g_strstrip(g_strdup((const char *) c->content));
                        if (!*t)
                                continue;
                        if (s->len)
                                g_string_append_c(s, '\x01');
                        g_string_append(s, t);
                }
        return g_string_free(s, false);
}

static bool in_list(const char *list, const char *value) {
        g_auto(GStrv) items = g_strsplit(list, "|", -1);
        return value && g_strv_contains((const char *const *) items, value);
}

/* Whether attribute name may take value (NULL: be removed) under rule. */
static bool attr_allowed(const AllowRule *rule, const char *name, const char *value) {
        if (rule->raw)
                return true;
        if (rule->free)
                return !value || !allow_names_path(value);
        for (const char *const *a = rule->attrs; a && *a; a++) {
                const char *eq = strchr(*a, '=');
                size_t n = eq ? (size_t) (eq - *a) : strlen(*a);
                if (strlen(name) != n || strncmp(*a, name, n) != 0)
                        continue;
                if (!value || (eq && strcmp(eq + 1, "*") == 0))
                        return true;
                return eq ? in_list(eq + 1, value) : !allow_names_path(value);
        }
        return false;
}

static bool text_allowed(const AllowRule *rule, const char *text) {
        if (rule->raw || !*text)
                return true;
        if (rule->free)
                return !allow_names_path(text);
        if (!rule->text)
                return false;
        return rule->text[0] ? in_list(rule->text, text) : !allow_names_path(text);
}

static const AllowRule *child_rule(const AllowRule *rule, xmlNodePtr child) {
        static const AllowRule anything_free = { .free = true, .removable = true };
        static const AllowRule anything_raw = { .raw = true, .removable = true };
        if (rule->raw)
                return &anything_raw;
        if (rule->free)
                return &anything_free;
        /* libvirt's own elements have no namespace; of the others (qemu:commandline) only what
         * allowlist_foreign() names. */
        if (child->ns && child->ns->href)
                return allowlist_foreign(rule, child);
        for (const AllowRule *const *c = rule->children; c && *c; c++)
                if (xmlStrcmp(child->name, BAD_CAST(*c)->name) == 0)
                        return *c;
        return NULL;
}

int allow_check_element(const GuardCtx *g, xmlNodePtr el, const AllowRule *rule, char **why) {
        for (xmlAttrPtr a = el->properties; a; a = a->next) {
                xmlChar *v = xmlNodeListGetString(el->doc, a->children, 1);
                bool ok = attr_allowed(rule, (const char *) a->name, v ? (const char *) v : "");
                int r = ok ? 0 : refuse(why, el, (const char *) a->name, v ? (const char *) v : "", NULL);
                xmlFree(v);
                if (r < 0)
                        return r;
        }
        g_autofree char *text = own_text(el);
        if (!text_allowed(rule, text))
                return refuse(why, el, NULL, text, NULL);
        for (xmlNodePtr c = el->children; c; c = c->next) {
                if (c->type != XML_ELEMENT_NODE)
                        continue;
                const AllowRule *cr = child_rule(rule, c);
                if (!cr)
                        return refuse(why, c, NULL, NULL, NULL);
                int r = cr->check_new ? cr->check_new(g, c, why) : allow_check_element(g, c, cr, why);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int diff(const GuardCtx *g, xmlNodePtr old, xmlNodePtr new, const AllowRule *rule, char **what);

/* Refuses a changed element no rule covers, naming what changed in it: an attribute, its
 * text, or else the element. */
static int refuse_changed(char **what, xmlNodePtr old, xmlNodePtr new) {
        for (xmlAttrPtr a = new->properties; a; a = a->next) {
                xmlChar *v = xmlNodeListGetString(new->doc, a->children, 1);
                xmlChar *w = xmlGetNoNsProp(old, a->name);
                int r = xmlStrEqual(v, w) ? 0 : refuse(what, new, (const char *) a->name, v ? (const char *) v : "", NULL);
                xmlFree(v);
                xmlFree(w);
                if (r < 0)
                        return r;
        }
        g_autofree char *ot = own_text(old), *nt = own_text(new);
        return refuse(what, new, NULL, strcmp(ot, nt) != 0 ? nt : NULL, NULL);
}

/* An added element, admitted by its rule's check_new or the rule itself. */
static int check_added(const GuardCtx *g, xmlNodePtr el, const AllowRule *rule, char **what) {
        if (!rule)
                return refuse(what, el, NULL, NULL, "added");
        if (!rule->check_new)
                return allow_check_element(g, el, rule, what);
        _cleanup_free_ char *why = NULL;
        int r = rule->check_new(g, el, &why);
        if (r != -EPERM)
                return r;
        /* Its check says why; the refusal also says where. */
        return refuse(what, el, NULL, NULL, why ? why : "added");
}

static bool same_name(xmlNodePtr a, xmlNodePtr b) {
        const xmlChar *na = a->ns ? a->ns->href : NULL, *nb = b->ns ? b->ns->href : NULL;
        return xmlStrcmp(a->name, b->name) == 0 && xmlStrcmp(na, nb) == 0;
}

typedef struct Side {
        GPtrArray *nodes;       /* element children */
        GPtrArray *canon;       /* their canonical text */
        bool *paired;
} Side;

static void side_init(Side *s, xmlNodePtr parent) {
        s->nodes = g_ptr_array_new();
        s->canon = g_ptr_array_new_with_free_func(g_free);
        for (xmlNodePtr c = parent->children; c; c = c->next)
                if (c->type == XML_ELEMENT_NODE) {
                        g_ptr_array_add(s->nodes, c);
                        g_ptr_array_add(s->canon, canonical_of(c));
                }
        s->paired = g_new0(bool, s->nodes->len + 1);
}

static void side_clear(Side *s) {
        g_ptr_array_free(s->nodes, true);
        g_ptr_array_free(s->canon, true);
        g_free(s->paired);
}

static char *key_of(const AllowRule *rule, xmlNodePtr el) {
        return rule && rule->key ? rule->key(el) : g_strdup("");
}

static int diff_children(const GuardCtx *g, xmlNodePtr old, xmlNodePtr new, const AllowRule *rule, char **what) {
        Side o, n;
        int r = 0;
        side_init(&o, old);
        side_init(&n, new);
        /* Unchanged elements first, wherever they moved. */
        for (guint i = 0; i < n.nodes->len; i++)
                for (guint k = 0; k < o.nodes->len && !n.paired[i]; k++)
                        if (!o.paired[k] && strcmp(n.canon->pdata[i], o.canon->pdata[k]) == 0)
                                n.paired[i] = o.paired[k] = true;
        /* Then changed ones: the same element name and key. */
        for (guint i = 0; r == 0 && i < n.nodes->len; i++) {
                if (n.paired[i])
                        continue;
                xmlNodePtr nc = n.nodes->pdata[i];
                const AllowRule *cr = child_rule(rule, nc);
                g_autofree char *nk = key_of(cr, nc);
                for (guint k = 0; k < o.nodes->len && !n.paired[i]; k++) {
                        xmlNodePtr oc = o.nodes->pdata[k];
                        if (o.paired[k] || !same_name(oc, nc))
                                continue;
                        g_autofree char *ok = key_of(cr, oc);
                        if (strcmp(ok, nk) != 0)
                                continue;
                        n.paired[i] = o.paired[k] = true;
                        if (!cr)
                                r = refuse_changed(what, oc, nc);
                        else
                                r = diff(g, oc, nc, cr, what);
                }
        }
        /* What is left was added or removed. */
        for (guint i = 0; r == 0 && i < n.nodes->len; i++) {
                if (n.paired[i])
                        continue;
                xmlNodePtr nc = n.nodes->pdata[i];
                r = check_added(g, nc, child_rule(rule, nc), what);
        }
        for (guint k = 0; r == 0 && k < o.nodes->len; k++) {
                if (o.paired[k])
                        continue;
                xmlNodePtr oc = o.nodes->pdata[k];
                const AllowRule *cr = child_rule(rule, oc);
                if (!cr || !cr->removable)
                        r = refuse(what, oc, NULL, NULL, "removed");
        }
        side_clear(&o);
        side_clear(&n);
        return r;
}

/* The differences within one element, each checked against its rule. */
static int diff_inner(const GuardCtx *g, xmlNodePtr old, xmlNodePtr new, const AllowRule *rule, char **what) {
        for (int pass = 0; pass < 2; pass++) {
                xmlNodePtr el = pass == 0 ? new : old, other = pass == 0 ? old : new;
                for (xmlAttrPtr a = el->properties; a; a = a->next) {
                        xmlChar *v = xmlNodeListGetString(el->doc, a->children, 1);
                        xmlChar *w = xmlGetNoNsProp(other, a->name);
                        int r = 0;
                        if (pass == 0 && !xmlStrEqual(v, w) && !attr_allowed(rule, (const char *) a->name, (const char *) v))
                                r = refuse(what, new, (const char *) a->name, v ? (const char *) v : "", NULL);
                        else if (pass == 1 && !w && !attr_allowed(rule, (const char *) a->name, NULL))
                                r = refuse(what, new, (const char *) a->name, NULL, "removed");
                        xmlFree(v);
                        xmlFree(w);
                        if (r < 0)
                                return r;
                }
        }
        g_autofree char *ot = own_text(old), *nt = own_text(new);
        if (strcmp(ot, nt) != 0 && !text_allowed(rule, nt))
                return refuse(what, new, NULL, nt, NULL);
        return diff_children(g, old, new, rule, what);
}

static int diff(const GuardCtx *g, xmlNodePtr old, xmlNodePtr new, const AllowRule *rule, char **what) {
        int r = diff_inner(g, old, new, rule, what);
        if (r != -EPERM || !rule->check_new)
                return r;
        /* Not a change of its guest-facing parts: admitted only as a new element would be. */
        _cleanup_free_ char *why = NULL;
        int k = rule->check_new(g, new, &why);
        if (k == 0) {
                free(*what);
                *what = NULL;
                return 0;
        }
        if (k == -EPERM && why) {
                char *both = NULL;
                if (asprintf(&both, "%s; as a new device: %s", *what, why) < 0)
                        return -ENOMEM;
                free(*what);
                *what = both;
        }
        return k;
}

/* The values an XPath selects in the current definition: every disk and backing file (a new
 * image may not be one of them), every virtiofsd. */
static char **values_of(XmlDoc *x, const char *xpath) {
        int n = 0;
        xmlXPathObjectPtr o = xml_doc_nodes(x, NULL, xpath, &n);
        char **files = calloc((size_t) n + 1, sizeof(char *));
        for (int i = 0; files && i < n; i++) {
                xmlChar *v = xmlNodeGetContent(o->nodesetval->nodeTab[i]);
                files[i] = strdup(v ? (const char *) v : "");
                xmlFree(v);
        }
        xmlXPathFreeObject(o);
        return files;
}

int definition_guard_check(const char *current_xml, const char *new_xml, const DefinitionPolicy *policy,
                           char **ret_what) {
        XmlDoc cur, nw;
        *ret_what = NULL;
        int r = xml_doc_open(current_xml, &cur);
        if (r < 0)
                return r;
        r = xml_doc_open(new_xml, &nw);
        if (r < 0) {
                xml_doc_close(&cur);
                return r;
        }
        xmlNodePtr a = xmlDocGetRootElement(cur.doc), b = xmlDocGetRootElement(nw.doc);
        _cleanup_(strv_freep) char **in_use = values_of(&cur, "/domain/devices/disk//source/@file | /domain/devices/disk//source/@dev");
        _cleanup_(strv_freep) char **binaries = values_of(&cur, "/domain/devices/filesystem/binary/@path");
        _cleanup_(strv_freep) char **shares = values_of(&cur, "/domain/devices/filesystem[driver/@type='virtiofs']/source/@dir");
        GuardCtx g = { .policy = policy, .in_use = in_use, .virtiofsd_in_use = binaries, .shares_in_use = shares };
        if (!in_use || !binaries || !shares)
                r = -ENOMEM;
        else if (!a || !b || xmlStrcmp(a->name, BAD_CAST "domain") != 0 || xmlStrcmp(b->name, BAD_CAST "domain") != 0 ||
                 a->ns || b->ns)
                r = -EINVAL;
        /* Entities could bring in a host file wherever libvirt's parser expands them. */
        else if (nw.doc->intSubset && !cur.doc->intSubset)
                r = refuse(ret_what, b, NULL, NULL, "a <!DOCTYPE> with entities");
        else
                r = diff(&g, a, b, allowlist_domain(), ret_what);
        xml_doc_close(&cur);
        xml_doc_close(&nw);
        if (r == 0) {
                free(*ret_what);
                *ret_what = NULL;
        }
        return r;
}

int guard_refuse(char **why, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        free(*why);
        if (vasprintf(why, fmt, ap) < 0)
                *why = NULL;
        va_end(ap);
        return *why ? -EPERM : -ENOMEM;
}
