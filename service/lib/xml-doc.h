/* A parsed XML document with an XPath context: the small layer every domain XML reader and
 * editor shares. Pure: takes and returns text. */
#pragma once

#include <libxml/parser.h>
#include <libxml/xpath.h>

typedef struct XmlDoc {
        xmlDocPtr doc;
        xmlXPathContextPtr ctx;
} XmlDoc;

/* Parses xml without touching the network and without printing errors. -EINVAL when it does
 * not parse, -ENOMEM. */
int xml_doc_open(const char *xml, XmlDoc *x);
void xml_doc_close(XmlDoc *x);

/* The string value of an XPath expression relative to node (NULL for the root element); NULL
 * when empty. malloc'd. */
char *xml_doc_string(XmlDoc *x, xmlNodePtr node, const char *expr);

/* The nodes an XPath expression selects relative to node (NULL for the root element); free
 * with xmlXPathFreeObject(). n gets the count (0 when the result is not a node set). */
xmlXPathObjectPtr xml_doc_nodes(XmlDoc *x, xmlNodePtr node, const char *expr, int *n);

/* The first element child of parent with this name, or NULL. */
xmlNodePtr xml_child(xmlNodePtr parent, const char *name);
/* That child, created (appended) when missing. NULL on ENOMEM. */
xmlNodePtr xml_child_ensure(xmlNodePtr parent, const char *name);
/* Removes and frees every element child of parent with this name. */
void xml_remove_children(xmlNodePtr parent, const char *name);

/* The document as UTF-8 text, whatever encoding the input declared (libvirt and we read it).
 * When pretty, blank text nodes are re-indented. */
int xml_doc_dump(XmlDoc *x, int pretty, char **ret);

/* Parses like xml_doc_open(), but on failure *ret_error says where and why
 * ("line 12: Opening and ending tag mismatch: vcpu and domain"). */
int xml_doc_open_verbose(const char *xml, XmlDoc *x, char **ret_error);

/* xml re-indented with blank text dropped, so two definitions compare by content, not by
 * layout. */
int xml_normalize(const char *xml, char **ret);
