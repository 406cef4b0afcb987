#include "doctor-repair.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ivshmem-construct.h"
#include "kvmfr-checks.h"
#include "util.h"
#include "xml-doc.h"

const char *const doctor_repair_ids[] = {
        "vm.memballoon", "vm.hyperv",          "vm.kvm-hidden",      "vm.vendor-id",   "vm.input",
        "vm.virtiofsd",  "kvmfr.ivshmem-path", "kvmfr.ivshmem-size", "vm.cpu-pinning", NULL,
};

bool doctor_repair_known(const char *id) {
        return strv_contains((char **) doctor_repair_ids, id);
}

typedef struct Repair {
        XmlDoc x;
        xmlNodePtr domain;
        const RepairContext *ctx;
        char **why;
} Repair;

static int fail(Repair *rp, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(Repair *rp, int r, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        free(*rp->why);
        if (vasprintf(rp->why, fmt, ap) < 0)
                *rp->why = NULL;
        va_end(ap);
        return *rp->why ? r : -ENOMEM;
}

/* Sets an attribute; 1 when that changed it, 0 when it had that value, -ENOMEM. */
static int set_attr(xmlNodePtr el, const char *name, const char *value) {
        xmlChar *have = xmlGetProp(el, BAD_CAST name);
        bool same = have && strcmp((const char *) have, value) == 0;
        xmlFree(have);
        if (same)
                return 0;
        return xmlSetProp(el, BAD_CAST name, BAD_CAST value) ? 1 : -ENOMEM;
}

/* The child of parent with this name whose attribute attr is value (attr NULL: any). */
static xmlNodePtr child_with(xmlNodePtr parent, const char *name, const char *attr, const char *value) {
        for (xmlNodePtr c = parent ? parent->children : NULL; c; c = c->next) {
                if (c->type != XML_ELEMENT_NODE || c->ns || xmlStrcmp(c->name, BAD_CAST name) != 0)
                        continue;
                if (!attr)
                        return c;
                xmlChar *v = xmlGetProp(c, BAD_CAST attr);
                bool match = v && strcmp((const char *) v, value) == 0;
                xmlFree(v);
                if (match)
                        return c;
        }
        return NULL;
}

static xmlNodePtr ensure(xmlNodePtr parent, const char *name, int *changed) {
        xmlNodePtr c = child_with(parent, name, NULL, NULL);
        if (c)
                return c;
        *changed = 1;
        return xmlNewChild(parent, NULL, BAD_CAST name, NULL);
}

static int accumulate(int *changed, int r) {
        if (r < 0)
                return r;
        *changed |= r;
        return 0;
}

static int repair_memballoon(Repair *rp, bool asked) {
        (void) asked;
        int changed = 0;
        xmlNodePtr devices = ensure(rp->domain, "devices", &changed);
        xmlNodePtr mb = devices ? ensure(devices, "memballoon", &changed) : NULL;
        if (!mb)
                return -ENOMEM;
        int r = accumulate(&changed, set_attr(mb, "model", "none"));
        /* A balloon's <stats>, <address> and <driver> belong to the virtio device that goes. */
        for (xmlNodePtr c = mb->children, next; c; c = next) {
                next = c->next;
                xmlUnlinkNode(c);
                xmlFreeNode(c);
                changed = 1;
        }
        static const char *const virtio_only[] = { "autodeflate", "freePageReporting" };
        for (size_t i = 0; i < ELEMENTSOF(virtio_only); i++)
                if (xmlHasProp(mb, BAD_CAST virtio_only[i])) {
                        xmlUnsetProp(mb, BAD_CAST virtio_only[i]);
                        changed = 1;
                }
        return r < 0 ? r : changed;
}

/* <features><hyperv mode='custom'> (mode passthrough already gives every enlightenment). */
static xmlNodePtr hyperv(Repair *rp, int *changed, bool *passthrough) {
        xmlNodePtr features = ensure(rp->domain, "features", changed);
        xmlNodePtr hv = features ? ensure(features, "hyperv", changed) : NULL;
        if (!hv)
                return NULL;
        xmlChar *mode = xmlGetProp(hv, BAD_CAST "mode");
        *passthrough = mode && strcmp((const char *) mode, "passthrough") == 0;
        xmlFree(mode);
        if (!*passthrough && accumulate(changed, set_attr(hv, "mode", "custom")) < 0)
                return NULL;
        return hv;
}

static int repair_hyperv(Repair *rp, bool asked) {
        (void) asked;
        int changed = 0;
        bool passthrough;
        xmlNodePtr hv = hyperv(rp, &changed, &passthrough);
        if (!hv)
                return -ENOMEM;
        if (passthrough)
                return changed;
        static const char *const wanted[] = { "relaxed", "vapic", "spinlocks" };
        for (size_t i = 0; i < ELEMENTSOF(wanted); i++) {
                xmlNodePtr e = ensure(hv, wanted[i], &changed);
                if (!e || accumulate(&changed, set_attr(e, "state", "on")) < 0)
                        return -ENOMEM;
                if (strcmp(wanted[i], "spinlocks") == 0 && !xmlHasProp(e, BAD_CAST "retries") &&
                    accumulate(&changed, set_attr(e, "retries", "8191")) < 0)
                        return -ENOMEM;
        }
        return changed;
}

static int repair_vendor_id(Repair *rp, bool asked) {
        (void) asked;
        int changed = 0;
        bool passthrough;
        xmlNodePtr hv = hyperv(rp, &changed, &passthrough);
        xmlNodePtr v = hv ? ensure(hv, "vendor_id", &changed) : NULL;
        if (!v)
                return -ENOMEM;
        xmlChar *value = xmlGetProp(v, BAD_CAST "value");
        bool keep = value && *value && strlen((const char *) value) <= 12;
        xmlFree(value);
        if (accumulate(&changed, set_attr(v, "state", "on")) < 0 ||
            (!keep && accumulate(&changed, set_attr(v, "value", "AuthenticAMD")) < 0))
                return -ENOMEM;
        return changed;
}

static int repair_kvm_hidden(Repair *rp, bool asked) {
        (void) asked;
        int changed = 0;
        xmlNodePtr features = ensure(rp->domain, "features", &changed);
        xmlNodePtr kvm = features ? ensure(features, "kvm", &changed) : NULL;
        xmlNodePtr hidden = kvm ? ensure(kvm, "hidden", &changed) : NULL;
        if (!hidden || accumulate(&changed, set_attr(hidden, "state", "on")) < 0)
                return -ENOMEM;
        return changed;
}

static int repair_input(Repair *rp, bool asked) {
        (void) asked;
        int changed = 0;
        xmlNodePtr devices = ensure(rp->domain, "devices", &changed);
        if (!devices)
                return -ENOMEM;
        xmlNodePtr tablet;
        while ((tablet = child_with(devices, "input", "type", "tablet"))) {
                xmlUnlinkNode(tablet);
                xmlFreeNode(tablet);
                changed = 1;
        }
        static const char *const kinds[] = { "mouse", "keyboard" };
        for (size_t i = 0; i < ELEMENTSOF(kinds); i++) {
                bool have = false;
                for (xmlNodePtr c = devices->children; c && !have; c = c->next) {
                        if (c->type != XML_ELEMENT_NODE || c->ns || xmlStrcmp(c->name, BAD_CAST "input") != 0)
                                continue;
                        xmlChar *t = xmlGetProp(c, BAD_CAST "type"), *b = xmlGetProp(c, BAD_CAST "bus");
                        have = t && b && strcmp((const char *) t, kinds[i]) == 0 && strcmp((const char *) b, "virtio") == 0;
                        xmlFree(t);
                        xmlFree(b);
                }
                if (have)
                        continue;
                /* Next to the other inputs, so the definition reads as libvirt writes it. */
                xmlNodePtr in = xmlNewNode(NULL, BAD_CAST "input");
                if (!in || !xmlSetProp(in, BAD_CAST "type", BAD_CAST kinds[i]) ||
                    !xmlSetProp(in, BAD_CAST "bus", BAD_CAST "virtio")) {
                        xmlFreeNode(in);
                        return -ENOMEM;
                }
                xmlNodePtr after = child_with(devices, "input", NULL, NULL);
                if (!(after ? xmlAddPrevSibling(after, in) : xmlAddChild(devices, in))) {
                        xmlFreeNode(in);
                        return -ENOMEM;
                }
                changed = 1;
        }
        return changed;
}

static int repair_virtiofsd(Repair *rp, bool asked) {
        int n = 0, changed = 0;
        xmlXPathObjectPtr o = xml_doc_nodes(&rp->x, NULL, "/domain/devices/filesystem[driver/@type='virtiofs']", &n);
        if (n > 0 && !rp->ctx->virtiofsd) {
                xmlXPathFreeObject(o);
                return asked ? fail(rp, -ENOENT,
                                    "no allowed virtiofsd exists on this host ([Virtiofs] AllowedBinaries): install "
                                    "one, then repair vm.virtiofsd")
                             : 0;
        }
        for (int i = 0; i < n; i++) {
                xmlNodePtr fs = o->nodesetval->nodeTab[i];
                xmlNodePtr b = ensure(fs, "binary", &changed);
                if (!b || accumulate(&changed, set_attr(b, "path", rp->ctx->virtiofsd)) < 0) {
                        xmlXPathFreeObject(o);
                        return -ENOMEM;
                }
        }
        xmlXPathFreeObject(o);
        return changed;
}

static int repair_ivshmem(Repair *rp, bool asked) {
        const char *device = rp->ctx->kvmfr_device ? rp->ctx->kvmfr_device : KVMFR_DEFAULT_DEVICE;
        unsigned long long size = (unsigned long long) rp->ctx->kvmfr_size_mib * 1024ull * 1024ull;
        for (xmlNodePtr c = rp->domain->children; c; c = c->next)
                if (ivshmem_construct_matches(c, device, size))
                        return 0;
        int r = ivshmem_construct_write(rp->x.doc, device, size);
        if (r == -EEXIST)
                return asked ? fail(rp, r,
                                    "the definition's <qemu:commandline> holds other arguments than an IVSHMEM device; "
                                    "only an administrator may change it")
                             : 0;
        if (r == -EINVAL)
                return asked ? fail(rp, r, "'%s' is no kvmfr device (/dev/kvmfrN) or the size is 0", device) : 0;
        return r < 0 ? r : 1;
}

typedef int (*RepairFunc)(Repair *rp, bool asked);

static const struct {
        const char *id;
        RepairFunc fn;
} repairs[] = {
        { "vm.memballoon", repair_memballoon },
        { "vm.hyperv", repair_hyperv },
        { "vm.kvm-hidden", repair_kvm_hidden },
        { "vm.vendor-id", repair_vendor_id },
        { "vm.input", repair_input },
        { "vm.virtiofsd", repair_virtiofsd },
        { "kvmfr.ivshmem-path", repair_ivshmem },
        { "kvmfr.ivshmem-size", repair_ivshmem },
};

/* Whether every vCPU has a <vcpupin> already (then pinning is left as it is). */
static bool all_pinned(XmlDoc *x) {
        _cleanup_free_ char *text = xml_doc_string(x, NULL, "normalize-space(/domain/vcpu)");
        long n = text ? strtol(text, NULL, 10) : 1;
        for (long v = 0; v < n && v < 4096; v++) {
                char expr[96];
                snprintf(expr, sizeof(expr), "boolean(/domain/cputune/vcpupin[@vcpu='%ld' and @cpuset!=''])", v);
                _cleanup_free_ char *b = xml_doc_string(x, NULL, expr);
                if (!streq_ptr(b, "true"))
                        return false;
        }
        return true;
}

static bool wanted(char *const *ids, const char *id) {
        return !ids || !*ids || strv_contains((char **) ids, id);
}

static int add_done(char ***done, size_t *n, const char *id) {
        char **d = realloc(*done, (*n + 2) * sizeof(char *));
        if (!d)
                return -ENOMEM;
        *done = d;
        if (!(d[*n] = strdup(id)))
                return -ENOMEM;
        d[++*n] = NULL;
        return 0;
}

int doctor_repair_apply(const char *xml, char *const *ids, const RepairContext *ctx, char **ret_xml,
                        char ***ret_done, char **ret_why) {
        *ret_xml = NULL;
        *ret_done = NULL;
        *ret_why = NULL;
        bool all = !ids || !*ids;
        for (char *const *i = ids; i && *i; i++)
                if (!doctor_repair_known(*i)) {
                        if (asprintf(ret_why, "no repair exists for '%s'", *i) < 0)
                                *ret_why = NULL;
                        return *ret_why ? -EINVAL : -ENOMEM;
                }
        Repair rp = { .ctx = ctx, .why = ret_why };
        int r = xml_doc_open(xml, &rp.x);
        if (r < 0)
                return r == -ENOMEM ? r : -EBADMSG;
        rp.domain = xmlDocGetRootElement(rp.x.doc);
        if (!rp.domain || xmlStrcmp(rp.domain->name, BAD_CAST "domain") != 0) {
                xml_doc_close(&rp.x);
                return -EBADMSG;
        }
        char **done = calloc(1, sizeof(char *));
        size_t n_done = 0;
        bool ivshmem_done = false;
        r = done ? 0 : -ENOMEM;
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(repairs); i++) {
                if (!wanted(ids, repairs[i].id))
                        continue;
                bool is_ivshmem = repairs[i].fn == repair_ivshmem;
                if (is_ivshmem && ivshmem_done)
                        continue;
                r = repairs[i].fn(&rp, !all);
                ivshmem_done |= is_ivshmem;
                if (r > 0)
                        r = add_done(&done, &n_done, repairs[i].id);
        }
        _cleanup_free_ char *text = NULL;
        bool pin = wanted(ids, "vm.cpu-pinning") && r >= 0;
        if (pin && all_pinned(&rp.x))
                pin = false;
        if (pin && !ctx->plan && !all)
                r = fail(&rp, -ENOENT, "no pinning plan could be made for this host: %s",
                         ctx->plan_why ? ctx->plan_why : "its CPU topology is unknown");
        if (r >= 0 && (n_done > 0 || (pin && ctx->plan)))
                r = xml_doc_dump(&rp.x, 1, &text);
        xml_doc_close(&rp.x);
        if (r >= 0 && pin && ctx->plan) {
                char *pinned = NULL;
                r = cpu_pinning_apply_to_xml(text, ctx->plan, &pinned);
                if (r >= 0) {
                        free(text);
                        text = pinned;
                        r = add_done(&done, &n_done, "vm.cpu-pinning");
                }
        }
        if (r < 0) {
                strv_free(done);
                return r;
        }
        *ret_xml = n_done > 0 ? TAKE_PTR(text) : NULL;
        *ret_done = done;
        return 0;
}

int doctor_repair_plan(const CpuTopology *t, unsigned n_vcpus, CpuPlan *ret, char **why) {
        *why = NULL;
        size_t n_big = 0, n_e = 0, threads = 0;
        for (size_t i = 0; i < t->n; i++) {
                const HostCpu *c = &t->cpus[i];
                if (!c->online)
                        continue;
                if (c->kind == CPU_KIND_E) {
                        n_e++;
                        continue;
                }
                n_big++;
                if (threads == 0) {
                        CpuSet s;
                        cpu_topology_siblings(c, &s);
                        threads = cpu_set_count(&s);
                }
        }
        if (threads == 0)
                threads = 1;
        size_t cores = n_big / threads, host = cores >= 2 ? 1 : 0;
        size_t p = n_vcpus / threads;
        if (p > cores - host)
                p = cores - host;
        size_t rest = n_vcpus - p * threads;
        if (rest > 0 && !t->hybrid) {
                if (asprintf(why, "%u vCPUs do not fill whole cores of %zu threads on this host's %zu cores (one kept "
                                  "for the host); set the count with winvmctl cpu plan --apply",
                             n_vcpus, threads, cores) < 0)
                        *why = NULL;
                return *why ? -EINVAL : -ENOMEM;
        }
        if (rest > n_e) {
                if (asprintf(why, "%u vCPUs need %zu E-cores beside %zu P-cores, and the host has %zu", n_vcpus, rest, p,
                             n_e) < 0)
                        *why = NULL;
                return *why ? -EINVAL : -ENOMEM;
        }
        int r = cpu_pinning_plan(t, (unsigned) p, (unsigned) rest, (unsigned) host, ret, why);
        if (r == 0 && ret->n_vcpus != n_vcpus) {
                cpu_plan_clear(ret);
                if (asprintf(why, "the plan has %u vCPUs, not %u", ret->n_vcpus, n_vcpus) < 0)
                        *why = NULL;
                return *why ? -EINVAL : -ENOMEM;
        }
        return r;
}
