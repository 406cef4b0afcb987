#include "domain-xml.h"

#include <errno.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <stdlib.h>
#include <string.h>

int domain_xml_disk_files(const char *xml, char ***ret_files) {
        xmlDocPtr doc = xmlReadMemory(xml, (int) strlen(xml), "domain.xml", NULL,
                                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        if (!doc)
                return -EINVAL;
        xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
        xmlXPathObjectPtr res = xmlXPathEvalExpression(
                (const xmlChar *) "/domain/devices/disk[@type='file' and @device='disk']/source/@file", ctx);
        int n = res && res->nodesetval ? res->nodesetval->nodeNr : 0;
        char **files = calloc(n + 1, sizeof(char *));
        int r = files ? 0 : -ENOMEM;
        for (int i = 0; r == 0 && i < n; i++) {
                xmlChar *v = xmlNodeGetContent(res->nodesetval->nodeTab[i]);
                files[i] = strdup((const char *) v);
                xmlFree(v);
        }
        xmlXPathFreeObject(res);
        xmlXPathFreeContext(ctx);
        xmlFreeDoc(doc);
        if (r < 0)
                return r;
        *ret_files = files;
        return 0;
}
