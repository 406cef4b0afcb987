#include "ivshmem-construct.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

bool ivshmem_device_valid(const char *device) {
        const char *prefix = "/dev/kvmfr";
        if (!device || strncmp(device, prefix, strlen(prefix)) != 0)
                return false;
        const char *n = device + strlen(prefix);
        return *n && strlen(n) <= 3 && strspn(n, "0123456789") == strlen(n);
}

void ivshmem_construct_args_free(char *args[IVSHMEM_N_ARGS]) {
        for (int i = 0; i < IVSHMEM_N_ARGS; i++) {
                free(args[i]);
                args[i] = NULL;
        }
}

int ivshmem_construct_args(const char *device, unsigned long long size, char *ret[IVSHMEM_N_ARGS]) {
        for (int i = 0; i < IVSHMEM_N_ARGS; i++)
                ret[i] = NULL;
        if (!ivshmem_device_valid(device) || size == 0)
                return -EINVAL;
        ret[0] = strdup("-device");
        ret[1] = strdup("{'driver':'ivshmem-plain','id':'shmem0','memdev':'looking-glass'}");
        ret[2] = strdup("-object");
        if (asprintf(&ret[3], "{'qom-type':'memory-backend-file','id':'looking-glass','mem-path':'%s','size':%llu,"
                              "'share':true}", device, size) < 0)
                ret[3] = NULL;
        for (int i = 0; i < IVSHMEM_N_ARGS; i++)
                if (!ret[i]) {
                        ivshmem_construct_args_free(ret);
                        return -ENOMEM;
                }
        return 0;
}

static bool in_qemu_ns(xmlNodePtr n, const char *name) {
        return n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
               xmlStrcmp(n->ns->href, BAD_CAST IVSHMEM_QEMU_NS) == 0 && xmlStrcmp(n->name, BAD_CAST name) == 0;
}

/* Whether n is nothing but layout: a comment or blank text. */
static bool ignorable(xmlNodePtr n) {
        if (n->type == XML_COMMENT_NODE)
                return true;
        if (n->type != XML_TEXT_NODE)
                return false;
        for (const xmlChar *c = n->content; c && *c; c++)
                if (!strchr(" \t\r\n", *c))
                        return false;
        return true;
}

/* The value of an <qemu:arg> that has exactly one attribute, value, and no content; NULL else. */
static xmlChar *sole_value(xmlNodePtr arg) {
        if (!in_qemu_ns(arg, "arg") || !arg->properties || arg->properties->next || arg->properties->ns ||
            xmlStrcmp(arg->properties->name, BAD_CAST "value") != 0)
                return NULL;
        for (xmlNodePtr c = arg->children; c; c = c->next)
                if (!ignorable(c))
                        return NULL;
        return xmlGetProp(arg, BAD_CAST "value");
}

bool ivshmem_construct_matches(xmlNodePtr el, const char *device, unsigned long long size) {
        if (!el || !in_qemu_ns(el, "commandline") || el->properties)
                return false;
        char *want[IVSHMEM_N_ARGS];
        if (ivshmem_construct_args(device, size, want) < 0)
                return false;
        int i = 0;
        bool ok = true;
        for (xmlNodePtr c = el->children; ok && c; c = c->next) {
                if (ignorable(c))
                        continue;
                xmlChar *v = i < IVSHMEM_N_ARGS ? sole_value(c) : NULL;
                ok = v && strcmp((const char *) v, want[i]) == 0;
                xmlFree(v);
                i++;
        }
        ivshmem_construct_args_free(want);
        return ok && i == IVSHMEM_N_ARGS;
}

/* Whether an existing <qemu:commandline> holds only an IVSHMEM device and its backend, which
 * the construct replaces: four arguments, -device ivshmem-plain... and -object
 * memory-backend-file..., in either order. */
static bool only_ivshmem(xmlNodePtr el) {
        char *v[IVSHMEM_N_ARGS] = { 0 };
        int n = 0;
        bool ok = !el->properties;
        for (xmlNodePtr c = el->children; ok && c; c = c->next) {
                if (ignorable(c))
                        continue;
                xmlChar *value = n < IVSHMEM_N_ARGS ? sole_value(c) : NULL;
                ok = value != NULL;
                if (ok)
                        v[n++] = (char *) value;
        }
        ok = ok && n == IVSHMEM_N_ARGS;
        for (int i = 0; ok && i < IVSHMEM_N_ARGS; i += 2) {
                bool dev = strcmp(v[i], "-device") == 0 && strstr(v[i + 1], "ivshmem-plain");
                bool obj = strcmp(v[i], "-object") == 0 && strstr(v[i + 1], "memory-backend-file");
                ok = dev || obj;
        }
        for (int i = 0; i < n; i++)
                xmlFree(v[i]);
        return ok;
}

int ivshmem_construct_write(xmlDocPtr doc, const char *device, unsigned long long size) {
        xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
        if (!root)
                return -EINVAL;
        char *args[IVSHMEM_N_ARGS];
        int r = ivshmem_construct_args(device, size, args);
        if (r < 0)
                return r;
        for (xmlNodePtr c = root->children; c; c = c->next)
                if (in_qemu_ns(c, "commandline") && !only_ivshmem(c)) {
                        ivshmem_construct_args_free(args);
                        return -EEXIST;
                }
        for (xmlNodePtr c = root->children, next; c; c = next) {
                next = c->next;
                if (in_qemu_ns(c, "commandline")) {
                        xmlUnlinkNode(c);
                        xmlFreeNode(c);
                }
        }
        xmlNsPtr ns = xmlSearchNsByHref(doc, root, BAD_CAST IVSHMEM_QEMU_NS);
        if (!ns)
                ns = xmlNewNs(root, BAD_CAST IVSHMEM_QEMU_NS, BAD_CAST "qemu");
        xmlNodePtr cl = ns ? xmlNewChild(root, ns, BAD_CAST "commandline", NULL) : NULL;
        r = cl ? 0 : -ENOMEM;
        for (int i = 0; r == 0 && i < IVSHMEM_N_ARGS; i++) {
                xmlNodePtr a = xmlNewChild(cl, ns, BAD_CAST "arg", NULL);
                if (!a || !xmlSetProp(a, BAD_CAST "value", BAD_CAST args[i]))
                        r = -ENOMEM;
        }
        ivshmem_construct_args_free(args);
        return r;
}
