/* Compares the documented interface XML in dbus/ with what the running winvmd introspects.
 *
 *   introspect-diff OBJECT_PATH XML_FILE [OBJECT_PATH XML_FILE...]
 *
 * Every interface of each file must appear on its object with exactly the same methods
 * (argument names, types, directions), properties (type, access) and signals. Annotations
 * and comments are ignored. Exits 0 when all match, 1 with a list of differences otherwise. */
#include <glib.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "bus-name.h"

/* One sorted line per member, e.g. "method Shutdown(in u timeout_seconds, in b force_after)". */
static GPtrArray *members_of(xmlDocPtr doc, const char *interface) {
        GPtrArray *lines = g_ptr_array_new_with_free_func(g_free);
        xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
        g_autofree char *expr = g_strdup_printf("/node/interface[@name='%s']/*", interface);
        xmlXPathObjectPtr res = xmlXPathEvalExpression((const xmlChar *) expr, ctx);

        for (int i = 0; res && res->nodesetval && i < res->nodesetval->nodeNr; i++) {
                xmlNodePtr n = res->nodesetval->nodeTab[i];
                if (n->type != XML_ELEMENT_NODE || xmlStrcmp(n->name, (const xmlChar *) "annotation") == 0)
                        continue;
                xmlChar *name = xmlGetProp(n, (const xmlChar *) "name");
                GString *line = g_string_new(NULL);
                g_string_append_printf(line, "%s %s", (const char *) n->name, (const char *) name);
                if (xmlStrcmp(n->name, (const xmlChar *) "property") == 0) {
                        xmlChar *type = xmlGetProp(n, (const xmlChar *) "type");
                        xmlChar *access = xmlGetProp(n, (const xmlChar *) "access");
                        g_string_append_printf(line, " %s %s", (const char *) type, (const char *) access);
                        xmlFree(type);
                        xmlFree(access);
                } else {
                        bool signal = xmlStrcmp(n->name, (const xmlChar *) "signal") == 0;
                        g_string_append_c(line, '(');
                        bool first = true;
                        for (xmlNodePtr a = n->children; a; a = a->next) {
                                if (a->type != XML_ELEMENT_NODE || xmlStrcmp(a->name, (const xmlChar *) "arg") != 0)
                                        continue;
                                xmlChar *dir = xmlGetProp(a, (const xmlChar *) "direction");
                                xmlChar *type = xmlGetProp(a, (const xmlChar *) "type");
                                xmlChar *aname = xmlGetProp(a, (const xmlChar *) "name");
                                g_string_append_printf(line, "%s%s %s %s", first ? "" : ", ",
                                                       dir ? (const char *) dir : (signal ? "out" : "in"),
                                                       (const char *) type, aname ? (const char *) aname : "");
                                first = false;
                                xmlFree(dir);
                                xmlFree(type);
                                xmlFree(aname);
                        }
                        g_string_append_c(line, ')');
                }
                xmlFree(name);
                g_ptr_array_add(lines, g_string_free(line, false));
        }
        xmlXPathFreeObject(res);
        xmlXPathFreeContext(ctx);
        g_ptr_array_sort(lines, (GCompareFunc) g_ascii_strcasecmp);
        return lines;
}

static bool contains(GPtrArray *a, const char *s) {
        for (guint i = 0; i < a->len; i++)
                if (strcmp(a->pdata[i], s) == 0)
                        return true;
        return false;
}

static int compare_object(sd_bus *bus, const char *path, const char *file) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        const char *live_xml;
        int differences = 0;

        int r = sd_bus_call_method(bus, WINVM_BUS_NAME, path, "org.freedesktop.DBus.Introspectable", "Introspect",
                                   &error, &reply, NULL);
        if (r < 0 || sd_bus_message_read(reply, "s", &live_xml) < 0) {
                fprintf(stderr, "%s: cannot introspect: %s\n", path, error.message ? error.message : strerror(-r));
                sd_bus_error_free(&error);
                sd_bus_message_unref(reply);
                return 1;
        }
        xmlDocPtr live = xmlReadMemory(live_xml, (int) strlen(live_xml), "live.xml", NULL, XML_PARSE_NONET);
        xmlDocPtr doc = xmlReadFile(file, NULL, XML_PARSE_NONET);
        if (!live || !doc) {
                fprintf(stderr, "%s: cannot parse %s\n", path, doc ? "the live introspection" : file);
                return 1;
        }

        xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
        xmlXPathObjectPtr ifaces = xmlXPathEvalExpression((const xmlChar *) "/node/interface/@name", ctx);
        int n_ifaces = ifaces && ifaces->nodesetval ? ifaces->nodesetval->nodeNr : 0;
        if (n_ifaces == 0) {
                fprintf(stderr, "%s: documents no interface\n", file);
                differences++;
        }
        for (int i = 0; i < n_ifaces; i++) {
                xmlChar *iface = xmlNodeGetContent(ifaces->nodesetval->nodeTab[i]);
                GPtrArray *want = members_of(doc, (const char *) iface);
                GPtrArray *have = members_of(live, (const char *) iface);
                for (guint j = 0; j < want->len; j++)
                        if (!contains(have, want->pdata[j])) {
                                printf("%s %s: documented but not served: %s\n", path, iface, (char *) want->pdata[j]);
                                differences++;
                        }
                for (guint j = 0; j < have->len; j++)
                        if (!contains(want, have->pdata[j])) {
                                printf("%s %s: served but not documented: %s\n", path, iface, (char *) have->pdata[j]);
                                differences++;
                        }
                if (want->len == 0 || have->len == 0) {
                        printf("%s %s: %s has no members\n", path, iface, want->len == 0 ? file : "the service");
                        differences++;
                }
                printf("%s %s: %u members compared\n", path, iface, want->len);
                g_ptr_array_unref(want);
                g_ptr_array_unref(have);
                xmlFree(iface);
        }
        xmlXPathFreeObject(ifaces);
        xmlXPathFreeContext(ctx);
        xmlFreeDoc(doc);
        xmlFreeDoc(live);
        sd_bus_message_unref(reply);
        return differences ? 1 : 0;
}

int main(int argc, char **argv) {
        if (argc < 3 || argc % 2 == 0) {
                fprintf(stderr, "Usage: %s OBJECT_PATH XML_FILE [OBJECT_PATH XML_FILE...]\n", argv[0]);
                return 2;
        }
        sd_bus *bus = NULL;
        if (sd_bus_open_system(&bus) < 0) {
                fprintf(stderr, "cannot connect to the system bus\n");
                return 1;
        }
        int failed = 0;
        for (int i = 1; i + 1 < argc; i += 2)
                failed |= compare_object(bus, argv[i], argv[i + 1]);
        sd_bus_flush_close_unref(bus);
        printf("%s\n", failed ? "introspection differs from the documented XML" : "introspection matches the documented XML");
        return failed;
}
