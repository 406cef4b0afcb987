#include "xml-doc.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

int xml_doc_open(const char *xml, XmlDoc *x) {
        x->doc = xmlReadMemory(xml, (int) strlen(xml), "domain.xml", NULL,
                               XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        if (!x->doc)
                return -EINVAL;
        x->ctx = xmlXPathNewContext(x->doc);
        if (!x->ctx) {
                xmlFreeDoc(x->doc);
                return -ENOMEM;
        }
        return 0;
}

void xml_doc_close(XmlDoc *x) {
        xmlXPathFreeContext(x->ctx);
        xmlFreeDoc(x->doc);
        x->ctx = NULL;
        x->doc = NULL;
}

char *xml_doc_string(XmlDoc *x, xmlNodePtr node, const char *expr) {
        x->ctx->node = node ? node : xmlDocGetRootElement(x->doc);
        xmlXPathObjectPtr o = xmlXPathEvalExpression((const xmlChar *) expr, x->ctx);
        char *s = NULL;
        if (o) {
                xmlChar *v = xmlXPathCastToString(o);
                if (v && *v)
                        s = strdup((const char *) v);
                xmlFree(v);
                xmlXPathFreeObject(o);
        }
        return s;
}

xmlXPathObjectPtr xml_doc_nodes(XmlDoc *x, xmlNodePtr node, const char *expr, int *n) {
        x->ctx->node = node ? node : xmlDocGetRootElement(x->doc);
        xmlXPathObjectPtr o = xmlXPathEvalExpression((const xmlChar *) expr, x->ctx);
        *n = o && o->type == XPATH_NODESET && o->nodesetval ? o->nodesetval->nodeNr : 0;
        return o;
}

xmlNodePtr xml_child(xmlNodePtr parent, const char *name) {
        for (xmlNodePtr c = parent ? parent->children : NULL; c; c = c->next)
                if (c->type == XML_ELEMENT_NODE && xmlStrcmp(c->name, (const xmlChar *) name) == 0)
                        return c;
        return NULL;
}

xmlNodePtr xml_child_ensure(xmlNodePtr parent, const char *name) {
        xmlNodePtr c = xml_child(parent, name);
        return c ? c : xmlNewChild(parent, NULL, (const xmlChar *) name, NULL);
}

void xml_remove_children(xmlNodePtr parent, const char *name) {
        xmlNodePtr c;
        while ((c = xml_child(parent, name))) {
                xmlUnlinkNode(c);
                xmlFreeNode(c);
        }
}

int xml_doc_dump(XmlDoc *x, int pretty, char **ret) {
        xmlChar *out = NULL;
        int len = 0;
        xmlDocDumpFormatMemoryEnc(x->doc, &out, &len, "UTF-8", pretty);
        *ret = out ? strdup((const char *) out) : NULL;
        xmlFree(out);
        return *ret ? 0 : -ENOMEM;
}

int xml_doc_open_verbose(const char *xml, XmlDoc *x, char **ret_error) {
        *ret_error = NULL;
        xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
        if (!ctxt)
                return -ENOMEM;
        x->doc = xmlCtxtReadMemory(ctxt, xml, (int) strlen(xml), "domain.xml", NULL,
                                   XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        if (!x->doc) {
                const xmlError *e = xmlCtxtGetLastError(ctxt);
                char *m = NULL;
                if (asprintf(&m, "line %d: %s", e ? e->line : 0, e && e->message ? e->message : "not XML") >= 0) {
                        m[strcspn(m, "\n")] = '\0';
                        *ret_error = m;
                }
                xmlFreeParserCtxt(ctxt);
                return -EINVAL;
        }
        xmlFreeParserCtxt(ctxt);
        x->ctx = xmlXPathNewContext(x->doc);
        if (!x->ctx) {
                xmlFreeDoc(x->doc);
                return -ENOMEM;
        }
        return 0;
}

static bool is_blank_text(xmlNodePtr n) {
        if (n->type != XML_TEXT_NODE)
                return false;
        for (const xmlChar *c = n->content; c && *c; c++)
                if (*c != ' ' && *c != '\t' && *c != '\n' && *c != '\r')
                        return false;
        return true;
}

/* Drops the whitespace-only text between elements (indentation), whether it was written
 * out or as character references, so layout never counts; other text stays as it is. */
static void drop_layout(xmlNodePtr parent) {
        bool has_elements = false;
        for (xmlNodePtr c = parent->children; c; c = c->next)
                has_elements = has_elements || c->type == XML_ELEMENT_NODE;
        for (xmlNodePtr c = parent->children, next; c; c = next) {
                next = c->next;
                if (has_elements && is_blank_text(c)) {
                        xmlUnlinkNode(c);
                        xmlFreeNode(c);
                } else if (c->type == XML_ELEMENT_NODE)
                        drop_layout(c);
        }
}

/* One round: parse, drop the layout, dump indented. */
static int normalize_once(const char *xml, char **ret) {
        xmlDocPtr doc = xmlReadMemory(xml, (int) strlen(xml), "domain.xml", NULL,
                                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        if (!doc)
                return -EINVAL;
        if (xmlDocGetRootElement(doc))
                drop_layout(xmlDocGetRootElement(doc));
        XmlDoc x = { .doc = doc };
        int r = xml_doc_dump(&x, 1, ret);
        xmlFreeDoc(doc);
        return r;
}

int xml_normalize(const char *xml, char **ret) {
        /* libxml2 writes some values it read back otherwise (a newline in a namespace URI
         * comes out raw and reads back as a space): a second round reaches the fixed point. */
        _cleanup_free_ char *first = NULL;
        int r = normalize_once(xml, &first);
        return r < 0 ? r : normalize_once(first, ret);
}
