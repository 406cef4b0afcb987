#include "kvmfr-checks.h"

#include <ctype.h>
#include <errno.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "nixos-host.h"
#include "util.h"

#define MIB (1024ull * 1024ull)
#define QEMU_NS "http://libvirt.org/schemas/domain/qemu/1.0"
/* libvirt's built-in cgroup_device_acl (qemu.conf's commented default). */
#define LIBVIRT_DEFAULT_ACL "\"/dev/null\", \"/dev/full\", \"/dev/zero\", \"/dev/random\", \"/dev/urandom\", " \
                            "\"/dev/ptmx\", \"/dev/kvm\""

void kvmfr_config_init(KvmfrConfig *c) {
        *c = (KvmfrConfig) {
                .width = KVMFR_DEFAULT_WIDTH,
                .height = KVMFR_DEFAULT_HEIGHT,
                .group = KVMFR_DEFAULT_GROUP,
                .mode = KVMFR_DEFAULT_MODE,
                .device = KVMFR_DEFAULT_DEVICE,
                .udev_rule_path = KVMFR_DEFAULT_UDEV_RULE_PATH,
                .modprobe_path = KVMFR_DEFAULT_MODPROBE_PATH,
                .qemu_conf_path = KVMFR_DEFAULT_QEMU_CONF,
        };
}

/* The config with every NULL replaced by its default. */
static KvmfrConfig effective(const KvmfrConfig *c) {
        KvmfrConfig e;
        kvmfr_config_init(&e);
        if (!c)
                return e;
        KvmfrConfig r = *c;
        if (!r.group)
                r.group = e.group;
        if (!r.device)
                r.device = e.device;
        if (!r.udev_rule_path)
                r.udev_rule_path = e.udev_rule_path;
        if (!r.modprobe_path)
                r.modprobe_path = e.modprobe_path;
        if (!r.qemu_conf_path)
                r.qemu_conf_path = e.qemu_conf_path;
        return r;
}

unsigned kvmfr_required_size_mib(unsigned width, unsigned height, bool hdr) {
        uint64_t bytes = (uint64_t) width * height * (hdr ? 8u : 4u) * 2u;
        uint64_t mib = (bytes + MIB - 1) / MIB + 10;
        uint64_t p = 1;
        while (p < mib)
                p <<= 1;
        return p > UINT32_MAX ? 0 : (unsigned) p;
}

/* The N of /dev/kvmfrN; -EINVAL for any other path. */
static int device_index(const char *path) {
        const char *prefix = "/dev/kvmfr";
        if (!path || strncmp(path, prefix, strlen(prefix)) != 0)
                return -EINVAL;
        const char *n = path + strlen(prefix);
        if (!*n || strspn(n, "0123456789") != strlen(n) || strlen(n) > 3)
                return -EINVAL;
        return atoi(n);
}

int kvmfr_parse_sizes(const char *text, unsigned **ret, size_t *ret_n) {
        unsigned *sizes = NULL;
        size_t n = 0;
        const char *p = text ? text : "";
        p += strspn(p, " \t\n");
        while (*p && *p != '\n') {
                if (!isdigit((unsigned char) *p)) {
                        free(sizes);
                        return -EINVAL;
                }
                char *end = NULL;
                errno = 0;
                unsigned long v = strtoul(p, &end, 10);
                if (errno || v == 0 || v > UINT32_MAX || (*end && *end != ',' && !isspace((unsigned char) *end))) {
                        free(sizes);
                        return -EINVAL;
                }
                unsigned *ns = realloc(sizes, (n + 1) * sizeof(unsigned));
                if (!ns) {
                        free(sizes);
                        return -ENOMEM;
                }
                sizes = ns;
                sizes[n++] = (unsigned) v;
                p = end;
                if (*p != ',')
                        break;
                p++;
                if (!isdigit((unsigned char) *p)) {     /* "128," */
                        free(sizes);
                        return -EINVAL;
                }
        }
        p += strspn(p, " \t\n");
        if (*p) {
                free(sizes);
                return -EINVAL;
        }
        *ret = sizes;
        *ret_n = n;
        return 0;
}

/* static_size_mb from `options kvmfr ...` lines of a modprobe.d file. */
static int modprobe_sizes(const char *text, unsigned **ret, size_t *ret_n) {
        _cleanup_free_ char *copy = strdup(text);
        if (!copy)
                return -ENOMEM;
        int r = -ENOENT;
        char *save = NULL;
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *words = NULL;
                char *w = strtok_r(line, " \t", &words);
                if (!w || strcmp(w, "options") != 0)
                        continue;
                w = strtok_r(NULL, " \t", &words);
                if (!w || strcmp(w, "kvmfr") != 0)
                        continue;
                while ((w = strtok_r(NULL, " \t", &words))) {
                        if (w[0] == '#')
                                break;
                        if (strncmp(w, "static_size_mb=", 15) != 0)
                                continue;
                        unsigned *sizes = NULL;
                        size_t n = 0;
                        if (kvmfr_parse_sizes(w + 15, &sizes, &n) < 0)
                                continue;
                        if (r == 0)
                                free(*ret);
                        *ret = sizes;
                        *ret_n = n;
                        r = 0;
                }
        }
        return r;
}

/* --- ACLs -------------------------------------------------------------------------------- */

#define ACL_XATTR_VERSION 0x0002
enum {
        TAG_USER_OBJ = 0x01,
        TAG_USER = 0x02,
        TAG_GROUP_OBJ = 0x04,
        TAG_GROUP = 0x08,
        TAG_MASK = 0x10,
        TAG_OTHER = 0x20,
};

static uint32_t le32(const unsigned char *p) {
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static uint16_t le16(const unsigned char *p) {
        return (uint16_t) (p[0] | p[1] << 8);
}

int kvmfr_acl_decode(const char *root, const void *value, size_t size, char ***ret) {
        const unsigned char *b = value;
        if (size < 4 || (size - 4) % 8 != 0 || le32(b) != ACL_XATTR_VERSION)
                return -EINVAL;
        size_t n = (size - 4) / 8;
        char **l = calloc(n + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const unsigned char *e = b + 4 + i * 8;
                uint16_t tag = le16(e), perm = le16(e + 2);
                uint32_t id = le32(e + 4);
                char perms[4] = { perm & 4 ? 'r' : '-', perm & 2 ? 'w' : '-', perm & 1 ? 'x' : '-', '\0' };
                _cleanup_free_ char *name = NULL;
                const char *kind;
                switch (tag) {
                case TAG_USER_OBJ:
                        kind = "user";
                        break;
                case TAG_USER:
                        kind = "user";
                        name = host_uid_to_name(root, (uid_t) id);
                        break;
                case TAG_GROUP_OBJ:
                        kind = "group";
                        break;
                case TAG_GROUP:
                        kind = "group";
                        name = host_gid_to_name(root, (gid_t) id);
                        break;
                case TAG_MASK:
                        kind = "mask";
                        break;
                case TAG_OTHER:
                        kind = "other";
                        break;
                default:
                        strv_free(l);
                        return -EINVAL;
                }
                if ((tag == TAG_USER || tag == TAG_GROUP) && !name) {
                        strv_free(l);
                        return -ENOMEM;
                }
                if (asprintf(&l[i], "%s:%s:%s", kind, name ? name : "", perms) < 0) {
                        l[i] = NULL;
                        strv_free(l);
                        return -ENOMEM;
                }
        }
        *ret = l;
        return 0;
}

/* --- reading the host -------------------------------------------------------------------- */

static void device_clear(KvmfrDevice *d) {
        free(d->path);
        free(d->owner);
        free(d->group);
        strv_free(d->acl);
        free(d->acl_error);
}

static int read_device(const char *root, const HostOps *ops, const char *path, KvmfrDevice *d) {
        *d = (KvmfrDevice) { .path = strdup(path), .acl = calloc(1, sizeof(char *)) };
        if (!d->path || !d->acl)
                return -ENOMEM;
        struct stat st;
        int r = host_ops_lstat(ops, root, path, &st);
        if (r < 0)
                return 0;       /* missing (or unreadable): exists stays false */
        d->exists = true;
        d->is_char = S_ISCHR(st.st_mode);
        if (d->is_char) {
                d->major = major(st.st_rdev);
                d->minor = minor(st.st_rdev);
        }
        d->uid = st.st_uid;
        d->gid = st.st_gid;
        d->mode = st.st_mode & 07777;
        d->owner = host_uid_to_name(root, st.st_uid);
        d->group = host_gid_to_name(root, st.st_gid);
        if (!d->owner || !d->group)
                return -ENOMEM;
        _cleanup_free_ void *value = NULL;
        size_t size = 0;
        r = host_ops_getxattr(ops, root, path, "system.posix_acl_access", &value, &size);
        if (r == -ENODATA || r == -EOPNOTSUPP)
                return 0;
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                d->acl_error = strdup(strerror(-r));
                return d->acl_error ? 0 : -ENOMEM;
        }
        char **acl = NULL;
        r = kvmfr_acl_decode(root, value, size, &acl);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                d->acl_error = strdup("malformed system.posix_acl_access");
                return d->acl_error ? 0 : -ENOMEM;
        }
        strv_free(d->acl);
        d->acl = acl;
        return 0;
}

static bool have_path(const KvmfrState *s, const char *path) {
        for (size_t i = 0; i < s->n_devices; i++)
                if (strcmp(s->devices[i].path, path) == 0)
                        return true;
        return false;
}

static int add_device(KvmfrState *s, const char *root, const HostOps *ops, const char *path) {
        if (have_path(s, path))
                return 0;
        KvmfrDevice *l = realloc(s->devices, (s->n_devices + 1) * sizeof(KvmfrDevice));
        if (!l)
                return -ENOMEM;
        s->devices = l;
        int r = read_device(root, ops, path, &s->devices[s->n_devices]);
        s->n_devices++;
        return r;
}

int kvmfr_state_read(const char *root, const KvmfrConfig *config, const HostOps *ops, KvmfrState *ret) {
        KvmfrConfig c = effective(config);
        if (device_index(c.device) < 0)
                return -EINVAL;
        KvmfrState s = { 0 };
        s.loaded = host_exists(root, "/sys/module/kvmfr");
        _cleanup_free_ char *param = NULL;
        if (s.loaded && host_read_line(root, "/sys/module/kvmfr/parameters/static_size_mb", &param) == 0 &&
            kvmfr_parse_sizes(param, &s.static_sizes_mib, &s.n_static_sizes) < 0) {
                s.static_sizes_mib = NULL;
                s.n_static_sizes = 0;
        }
        _cleanup_free_ char *options = NULL;
        if (host_read_file(root, c.modprobe_path, 0, &options) == 0 &&
            modprobe_sizes(options, &s.configured_sizes_mib, &s.n_configured_sizes) < 0) {
                s.configured_sizes_mib = NULL;
                s.n_configured_sizes = 0;
        }

        int r = add_device(&s, root, ops, c.device);
        for (size_t i = 0; r == 0 && i < s.n_static_sizes && i < 1000; i++) {
                char path[32];
                snprintf(path, sizeof(path), "/dev/kvmfr%zu", i);
                r = add_device(&s, root, ops, path);
        }
        _cleanup_(strv_freep) char **dev = NULL;
        if (r == 0 && host_list_dir(root, "/dev", &dev) == 0)
                for (char **n = dev; r == 0 && *n; n++) {
                        char path[300];
                        snprintf(path, sizeof(path), "/dev/%s", *n);
                        if (device_index(path) >= 0)
                                r = add_device(&s, root, ops, path);
                }
        if (r < 0) {
                kvmfr_state_clear(&s);
                return r;
        }
        *ret = s;
        return 0;
}

void kvmfr_state_clear(KvmfrState *s) {
        if (!s)
                return;
        for (size_t i = 0; i < s->n_devices; i++)
                device_clear(&s->devices[i]);
        free(s->devices);
        free(s->static_sizes_mib);
        free(s->configured_sizes_mib);
        *s = (KvmfrState) { 0 };
}

/* --- generated files ----------------------------------------------------------------------- */

static bool udev_value_ok(const char *s) {
        if (!s || !*s || strlen(s) > 64)
                return false;
        for (const char *p = s; *p; p++)
                if (*p == '"' || *p == '\\' || *p == ',' || isspace((unsigned char) *p) || iscntrl((unsigned char) *p))
                        return false;
        return true;
}

int kvmfr_udev_rule(const KvmfrConfig *config, char **ret) {
        KvmfrConfig c = effective(config);
        if ((c.owner && !udev_value_ok(c.owner)) || !udev_value_ok(c.group) || c.mode > 07777)
                return -EINVAL;
        _cleanup_free_ char *owner = NULL;
        if (c.owner && asprintf(&owner, "OWNER=\"%s\", ", c.owner) < 0)
                return -ENOMEM;
        if (asprintf(ret, "SUBSYSTEM==\"kvmfr\", %sGROUP=\"%s\", MODE=\"%04o\"\n", owner ? owner : "", c.group,
                     c.mode) < 0)
                return -ENOMEM;
        return 0;
}

bool kvmfr_managed_by_nixos(const char *root) {
        return nixos_host(root);
}

/* "128" or "128,64". */
static char *sizes_text(const unsigned *sizes, size_t n) {
        char *s = calloc(1, n * 12 + 1);
        for (size_t i = 0; s && i < n; i++)
                sprintf(s + strlen(s), "%s%u", i ? "," : "", sizes[i]);
        return s;
}

int kvmfr_modprobe_options(const unsigned *sizes_mib, size_t n, char **ret) {
        if (n == 0 || !sizes_mib)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (sizes_mib[i] == 0)
                        return -EINVAL;
        _cleanup_free_ char *text = sizes_text(sizes_mib, n);
        if (!text || asprintf(ret, "options kvmfr static_size_mb=%s\n", text) < 0)
                return -ENOMEM;
        return 0;
}

/* --- the IVSHMEM device in the domain XML -------------------------------------------------- */

/* A flat list of key/value pairs from a QEMU option string. */
typedef struct Props {
        char *keys[32];
        char *values[32];
        size_t n;
} Props;

static void props_clear(Props *p) {
        for (size_t i = 0; i < p->n; i++) {
                free(p->keys[i]);
                free(p->values[i]);
        }
        p->n = 0;
}

static int props_add(Props *p, char *key, char *value) {
        if (!key || !value || p->n >= ELEMENTSOF(p->keys)) {
                free(key);
                free(value);
                return -EINVAL;
        }
        p->keys[p->n] = key;
        p->values[p->n++] = value;
        return 0;
}

static const char *props_get(const Props *p, const char *key) {
        for (size_t i = p->n; i > 0; i--)
                if (strcmp(p->keys[i - 1], key) == 0)
                        return p->values[i - 1];
        return NULL;
}

/* A JSON (or QEMU's single-quoted JSON) string at *s; advances *s. */
static char *json_string(const char **s) {
        char q = **s;
        if (q != '"' && q != '\'')
                return NULL;
        const char *p = *s + 1;
        char *out = malloc(strlen(p) + 1);
        size_t n = 0;
        if (!out)
                return NULL;
        for (; *p && *p != q; p++) {
                if (*p == '\\' && p[1]) {
                        p++;
                        out[n++] = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
                } else
                        out[n++] = *p;
        }
        if (*p != q) {
                free(out);
                return NULL;
        }
        out[n] = '\0';
        *s = p + 1;
        return out;
}

/* A flat JSON object: string, number, true, false or null values. */
static int parse_json_object(const char *s, Props *p) {
        s += strspn(s, " \t\n");
        if (*s++ != '{')
                return -EINVAL;
        for (;;) {
                s += strspn(s, " \t\n");
                if (*s == '}' && p->n == 0)
                        break;
                char *key = json_string(&s);
                if (!key)
                        return -EINVAL;
                s += strspn(s, " \t\n");
                if (*s++ != ':') {
                        free(key);
                        return -EINVAL;
                }
                s += strspn(s, " \t\n");
                char *value;
                if (*s == '"' || *s == '\'')
                        value = json_string(&s);
                else {
                        size_t len = strspn(s, "0123456789+-.eEtrufalsn");
                        value = len ? strndup(s, len) : NULL;
                        s += len;
                }
                if (props_add(p, key, value) < 0)
                        return -EINVAL;
                s += strspn(s, " \t\n");
                if (*s == ',') {
                        s++;
                        continue;
                }
                if (*s == '}')
                        break;
                return -EINVAL;
        }
        s++;
        s += strspn(s, " \t\n");
        return *s ? -EINVAL : 0;
}

/* QEMU's key=value,key=value form (",," is a literal comma); a first element without '=' is
 * stored under implied_key (qom-type for -object, driver for -device). */
static int parse_keyval(const char *s, const char *implied_key, Props *p) {
        bool first = true;
        while (*s) {
                char *item = malloc(strlen(s) + 1);
                size_t n = 0;
                if (!item)
                        return -ENOMEM;
                for (; *s; s++) {
                        if (*s == ',' && s[1] == ',') {
                                item[n++] = ',';
                                s++;
                        } else if (*s == ',')
                                break;
                        else
                                item[n++] = *s;
                }
                item[n] = '\0';
                if (*s == ',')
                        s++;
                char *eq = strchr(item, '=');
                int r;
                if (eq) {
                        *eq = '\0';
                        r = props_add(p, strdup(item), strdup(eq + 1));
                } else if (first)
                        r = props_add(p, strdup(implied_key), strdup(item));
                else
                        r = props_add(p, strdup(item), strdup("on"));   /* a bare flag */
                free(item);
                if (r < 0)
                        return r;
                first = false;
        }
        return 0;
}

static int parse_option(const char *s, const char *implied_key, Props *p) {
        const char *t = s + strspn(s, " \t\n");
        return *t == '{' ? parse_json_object(t, p) : parse_keyval(s, implied_key, p);
}

/* QEMU sizes: a number of bytes with an optional B, K, M, G, T, P or E suffix. */
static int parse_qemu_size(const char *s, unsigned long long *ret) {
        if (!s || !isdigit((unsigned char) *s))
                return -EINVAL;
        char *end = NULL;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno)
                return -ERANGE;
        static const char units[] = "BKMGTPE";
        unsigned shift = 0;
        if (*end) {
                const char *u = strchr(units, toupper((unsigned char) *end));
                if (!u || end[1])
                        return -EINVAL;
                shift = 10u * (unsigned) (u - units);
        }
        if (shift && v > (~0ull >> shift))
                return -ERANGE;
        *ret = v << shift;
        return 0;
}

static bool truthy(const char *s) {
        return s && (strcmp(s, "true") == 0 || strcmp(s, "on") == 0 || strcmp(s, "yes") == 0);
}

/* libvirt's scaled units for <size unit=...>. */
static int libvirt_scale(const char *unit, unsigned long long *ret) {
        static const struct {
                const char *name;
                unsigned long long scale;
        } units[] = {
                { "b", 1 }, { "bytes", 1 },
                { "KB", 1000ull }, { "k", 1ull << 10 }, { "K", 1ull << 10 }, { "KiB", 1ull << 10 },
                { "MB", 1000000ull }, { "M", 1ull << 20 }, { "MiB", 1ull << 20 },
                { "GB", 1000000000ull }, { "G", 1ull << 30 }, { "GiB", 1ull << 30 },
                { "TB", 1000000000000ull }, { "T", 1ull << 40 }, { "TiB", 1ull << 40 },
        };
        if (!unit || !*unit) {
                *ret = 1;
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                if (strcmp(unit, units[i].name) == 0) {
                        *ret = units[i].scale;
                        return 0;
                }
        return -EINVAL;
}

static char *node_prop(xmlNodePtr n, const char *name) {
        xmlChar *v = xmlGetProp(n, (const xmlChar *) name);
        char *s = v ? strdup((const char *) v) : NULL;
        xmlFree(v);
        return s;
}

static int ivshmem_from_shmem(xmlXPathContextPtr ctx, KvmfrIvshmem *out) {
        xmlXPathObjectPtr o = xmlXPathEvalExpression(
                (const xmlChar *) "/domain/devices/shmem[not(model) or model/@type='ivshmem-plain']", ctx);
        int r = 0;
        if (o && o->nodesetval && o->nodesetval->nodeNr > 0) {
                xmlNodePtr shmem = o->nodesetval->nodeTab[0];
                out->kind = KVMFR_IVSHMEM_SHMEM;
                out->backend_id = node_prop(shmem, "name");
                out->share = true;
                for (xmlNodePtr c = shmem->children; c; c = c->next) {
                        if (c->type != XML_ELEMENT_NODE || xmlStrcmp(c->name, (const xmlChar *) "size") != 0)
                                continue;
                        _cleanup_free_ char *unit = node_prop(c, "unit");
                        xmlChar *text = xmlNodeGetContent(c);
                        const char *t = (const char *) text;
                        unsigned long long scale = 1, v = 0;
                        if (t && *t && strspn(t, "0123456789") == strlen(t) && libvirt_scale(unit, &scale) == 0 &&
                            parse_qemu_size(t, &v) == 0)
                                out->size = v * scale;
                        xmlFree(text);
                }
        }
        xmlXPathFreeObject(o);
        return r;
}

int kvmfr_ivshmem_from_xml(const char *domain_xml, KvmfrIvshmem *ret) {
        if (!domain_xml)
                return -EINVAL;
        xmlDocPtr doc = xmlReadMemory(domain_xml, (int) strlen(domain_xml), "domain.xml", NULL,
                                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        if (!doc)
                return -EINVAL;
        xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
        if (!ctx) {
                xmlFreeDoc(doc);
                return -ENOMEM;
        }
        xmlXPathRegisterNs(ctx, (const xmlChar *) "qemu", (const xmlChar *) QEMU_NS);
        KvmfrIvshmem out = { .kind = KVMFR_IVSHMEM_NONE };

        xmlXPathObjectPtr args = xmlXPathEvalExpression(
                (const xmlChar *) "/domain/qemu:commandline/qemu:arg/@value", ctx);
        int n = args && args->nodesetval ? args->nodesetval->nodeNr : 0;
        char **values = calloc((size_t) n + 1, sizeof(char *));
        int r = values ? 0 : -ENOMEM;
        for (int i = 0; r == 0 && i < n; i++) {
                xmlChar *v = xmlNodeGetContent(args->nodesetval->nodeTab[i]);
                values[i] = strdup(v ? (const char *) v : "");
                xmlFree(v);
                if (!values[i])
                        r = -ENOMEM;
        }
        xmlXPathFreeObject(args);

        /* The ivshmem-plain device names its memory backend. */
        _cleanup_free_ char *memdev = NULL;
        bool have_device = false;
        for (int i = 0; r == 0 && i + 1 < n; i++) {
                if (strcmp(values[i], "-device") != 0)
                        continue;
                Props p = { .n = 0 };
                if (parse_option(values[i + 1], "driver", &p) == 0 &&
                    streq_ptr(props_get(&p, "driver"), "ivshmem-plain")) {
                        have_device = true;
                        free(memdev);
                        memdev = props_get(&p, "memdev") ? strdup(props_get(&p, "memdev")) : NULL;
                }
                props_clear(&p);
        }
        if (r == 0 && have_device) {
                out.kind = KVMFR_IVSHMEM_COMMANDLINE;
                out.backend_id = memdev ? strdup(memdev) : NULL;
                for (int i = 0; memdev && i + 1 < n; i++) {
                        if (strcmp(values[i], "-object") != 0)
                                continue;
                        Props p = { .n = 0 };
                        if (parse_option(values[i + 1], "qom-type", &p) == 0 &&
                            streq_ptr(props_get(&p, "qom-type"), "memory-backend-file") &&
                            streq_ptr(props_get(&p, "id"), memdev)) {
                                free(out.mem_path);
                                out.mem_path = props_get(&p, "mem-path") ? strdup(props_get(&p, "mem-path")) : NULL;
                                if (parse_qemu_size(props_get(&p, "size"), &out.size) < 0)
                                        out.size = 0;
                                out.share = truthy(props_get(&p, "share"));
                        }
                        props_clear(&p);
                }
        }
        if (r == 0 && out.kind == KVMFR_IVSHMEM_NONE)
                r = ivshmem_from_shmem(ctx, &out);
        strv_free(values);
        xmlXPathFreeContext(ctx);
        xmlFreeDoc(doc);
        if (r < 0) {
                kvmfr_ivshmem_clear(&out);
                return r;
        }
        *ret = out;
        return 0;
}

void kvmfr_ivshmem_clear(KvmfrIvshmem *i) {
        if (!i)
                return;
        free(i->backend_id);
        free(i->mem_path);
        *i = (KvmfrIvshmem) { 0 };
}

/* --- qemu.conf ----------------------------------------------------------------------------- */

/* libvirt's conf syntax: NAME = VALUE, VALUE a string, number or [ list ], '#' comments. */
int kvmfr_qemu_conf_device_acl(const char *text, char ***ret) {
        char **found = NULL;
        const char *p = text;
        bool at_line_start = true;
        while (p && *p) {
                if (*p == '#') {
                        p += strcspn(p, "\n");
                        continue;
                }
                if (isspace((unsigned char) *p)) {
                        at_line_start = at_line_start || *p == '\n';
                        p++;
                        continue;
                }
                size_t len = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
                bool ours = at_line_start && len == strlen("cgroup_device_acl") &&
                            strncmp(p, "cgroup_device_acl", len) == 0;
                at_line_start = false;
                if (len == 0) {
                        p++;
                        continue;
                }
                p += len;
                p += strspn(p, " \t");
                if (*p != '=')
                        continue;
                p++;
                p += strspn(p, " \t\n");
                if (*p != '[') {
                        /* a scalar value: skip a string or a word */
                        if (*p == '"') {
                                const char *q = strchr(p + 1, '"');
                                p = q ? q + 1 : p + strlen(p);
                        } else
                                p += strcspn(p, " \t\n#");
                        continue;
                }
                p++;
                char **l = calloc(1, sizeof(char *));
                size_t n = 0;
                if (!l) {
                        strv_free(found);
                        return -ENOMEM;
                }
                while (*p && *p != ']') {
                        if (*p == '#') {
                                p += strcspn(p, "\n");
                                continue;
                        }
                        if (*p != '"') {
                                p++;
                                continue;
                        }
                        const char *q = strchr(p + 1, '"');
                        if (!q)
                                break;
                        char **nl = realloc(l, (n + 2) * sizeof(char *));
                        if (!nl || !(nl[n] = strndup(p + 1, (size_t) (q - p - 1)))) {
                                strv_free(nl ? nl : l);
                                strv_free(found);
                                return -ENOMEM;
                        }
                        l = nl;
                        l[++n] = NULL;
                        p = q + 1;
                }
                if (*p == ']')
                        p++;
                if (ours) {
                        strv_free(found);
                        found = l;
                } else
                        strv_free(l);
        }
        if (!found)
                return -ENOENT;
        *ret = found;
        return 0;
}

/* --- checks -------------------------------------------------------------------------------- */

/* The static_size_mb list the module has (loaded) or will get (the modprobe file). */
static void known_sizes(const KvmfrState *s, const unsigned **sizes, size_t *n, const char **source) {
        if (s->loaded) {
                *sizes = s->static_sizes_mib;
                *n = s->n_static_sizes;
                *source = "the loaded module";
        } else {
                *sizes = s->configured_sizes_mib;
                *n = s->n_configured_sizes;
                *source = "the modprobe options";
        }
}

/* The sizes with the device's entry raised to what the config needs. */
static char *wanted_sizes(const KvmfrState *s, int idx, unsigned required) {
        const unsigned *sizes;
        size_t n;
        const char *source;
        known_sizes(s, &sizes, &n, &source);
        size_t m = n > (size_t) idx ? n : (size_t) idx + 1;
        unsigned *w = calloc(m, sizeof(unsigned));
        if (!w)
                return NULL;
        for (size_t i = 0; i < m; i++)
                w[i] = i < n ? sizes[i] : required;
        if (w[idx] < required)
                w[idx] = required;
        char *text = sizes_text(w, m);
        free(w);
        return text;
}

static const KvmfrDevice *find_device(const KvmfrState *s, const char *path) {
        for (size_t i = 0; i < s->n_devices; i++)
                if (strcmp(s->devices[i].path, path) == 0)
                        return &s->devices[i];
        return NULL;
}

static int check_loaded(const KvmfrConfig *c, const KvmfrState *s, const char *sizes, CheckList *l) {
        if (s->loaded) {
                _cleanup_free_ char *have = sizes_text(s->static_sizes_mib, s->n_static_sizes);
                if (!have)
                        return -ENOMEM;
                return check_list_add(l, "kvmfr.loaded", CHECK_OK, NULL, "kvmfr is loaded (static_size_mb=%s)",
                                      *have ? have : "none");
        }
        _cleanup_free_ char *remedy = NULL;
        if (asprintf(&remedy,
                     "sudo modprobe kvmfr static_size_mb=%s. To load it at boot: `kvmfr` in "
                     "/etc/modules-load.d/kvmfr.conf and `options kvmfr static_size_mb=%s` in %s "
                     "(NixOS: boot.kernelModules = [ \"kvmfr\" ]; boot.extraModulePackages = "
                     "[ config.boot.kernelPackages.kvmfr ]; boot.extraModprobeConfig)",
                     sizes, sizes, c->modprobe_path) < 0)
                return -ENOMEM;
        return check_list_add(l, "kvmfr.loaded", CHECK_FAIL, remedy, "kvmfr is not loaded");
}

static int check_size(const KvmfrConfig *c, const KvmfrState *s, int idx, unsigned required, const char *sizes,
                      CheckList *l) {
        const unsigned *have;
        size_t n;
        const char *source;
        known_sizes(s, &have, &n, &source);
        _cleanup_free_ char *remedy = NULL;
        if (asprintf(&remedy,
                     "Set `options kvmfr static_size_mb=%s` in %s (NixOS: boot.extraModprobeConfig), then with the "
                     "guest shut down: sudo modprobe -r kvmfr && sudo modprobe kvmfr static_size_mb=%s",
                     sizes, c->modprobe_path, sizes) < 0)
                return -ENOMEM;
        const char *what = c->hdr ? "HDR" : "SDR";
        if (n == 0) {
                if (s->loaded)
                        return check_list_add(l, "kvmfr.size", CHECK_FAIL, remedy,
                                              "kvmfr is loaded without static_size_mb, so it made no device; "
                                              "%ux%u %s needs %u MiB", c->width, c->height, what, required);
                return check_list_add(l, "kvmfr.size", CHECK_FAIL, remedy,
                                      "kvmfr is not loaded and %s sets no static_size_mb; %ux%u %s needs %u MiB",
                                      c->modprobe_path, c->width, c->height, what, required);
        }
        if ((size_t) idx >= n)
                return check_list_add(l, "kvmfr.size", CHECK_FAIL, remedy,
                                      "static_size_mb of %s has no size for %s", source, c->device);
        if (have[idx] < required)
                return check_list_add(l, "kvmfr.size", CHECK_FAIL, remedy,
                                      "%s is %u MiB; %ux%u %s needs %u MiB", c->device, have[idx], c->width, c->height,
                                      what, required);
        if (s->loaded && s->n_configured_sizes > (size_t) idx && s->configured_sizes_mib[idx] != have[idx])
                return check_list_add(l, "kvmfr.size", CHECK_WARN, remedy,
                                      "%s is %u MiB now, but %s says static_size_mb=%u for the next load",
                                      c->device, have[idx], c->modprobe_path, s->configured_sizes_mib[idx]);
        return check_list_add(l, "kvmfr.size", CHECK_OK, NULL, "%s is %u MiB%s; %ux%u %s needs %u MiB", c->device,
                              have[idx], s->loaded ? "" : " (from the modprobe options)", c->width, c->height, what,
                              required);
}

static int check_device(const KvmfrConfig *c, const KvmfrState *s, int idx, const char *sizes, CheckList *l) {
        const KvmfrDevice *d = find_device(s, c->device);
        _cleanup_free_ char *remedy = NULL;
        int k = 0;
        if (d && d->is_char)
                return check_list_add(l, "kvmfr.device", CHECK_OK, NULL, "%s is a character device (%u:%u)",
                                      d->path, d->major, d->minor);
        if (d && d->exists) {
                if (asprintf(&remedy,
                             "Shut the guest down, remove the file (sudo rm %s), load kvmfr "
                             "(sudo modprobe kvmfr static_size_mb=%s), then start the guest",
                             c->device, sizes) < 0)
                        return -ENOMEM;
                return check_list_add(l, "kvmfr.device", CHECK_FAIL, remedy,
                                      "%s is a regular file, not a character device: QEMU created it because the "
                                      "guest started before kvmfr was loaded",
                                      c->device);
        }
        if (!s->loaded)
                k = asprintf(&remedy, "sudo modprobe kvmfr static_size_mb=%s", sizes);
        else if (s->n_static_sizes <= (size_t) idx)
                k = asprintf(&remedy, "With the guest shut down: sudo modprobe -r kvmfr && sudo modprobe kvmfr "
                                      "static_size_mb=%s", sizes);
        else
                k = asprintf(&remedy, "Check `dmesg | grep kvmfr`, then sudo udevadm trigger --subsystem-match=kvmfr");
        if (k < 0)
                return -ENOMEM;
        return check_list_add(l, "kvmfr.device", CHECK_FAIL, remedy, "%s does not exist%s", c->device,
                              s->loaded ? "" : ": kvmfr is not loaded");
}

/* true when the ACL grants user rw (the mask applied). */
static bool acl_grants(char *const *acl, const char *user) {
        char want[128];
        snprintf(want, sizeof(want), "user:%s:", user);
        bool entry = false, mask_ok = true;
        for (char *const *e = acl; e && *e; e++) {
                if (strncmp(*e, want, strlen(want)) == 0)
                        entry = strncmp(*e + strlen(want), "rw", 2) == 0;
                else if (strncmp(*e, "mask::", 6) == 0)
                        mask_ok = strncmp(*e + 6, "rw", 2) == 0;
        }
        return entry && mask_ok;
}

static char *acl_text(char *const *acl) {
        size_t len = 1;
        for (char *const *e = acl; e && *e; e++)
                len += strlen(*e) + 1;
        char *s = calloc(1, len);
        for (char *const *e = acl; s && e && *e; e++) {
                if (*s)
                        strcat(s, ",");
                strcat(s, *e);
        }
        return s;
}

static int check_permissions(const char *root, const KvmfrConfig *c, const KvmfrState *s, CheckList *l) {
        const KvmfrDevice *d = find_device(s, c->device);
        if (!d || !d->is_char)
                return check_list_add(l, "kvmfr.permissions", CHECK_SKIPPED, NULL,
                                      "No %s character device to check", c->device);
        _cleanup_free_ char *rule = NULL, *remedy = NULL, *acl = acl_text(d->acl);
        int r = kvmfr_udev_rule(c, &rule);
        if (r < 0)
                return r;
        if (!acl)
                return -ENOMEM;
        rule[strcspn(rule, "\n")] = '\0';
        gid_t gid;
        bool group_exists = host_group_by_name(root, c->group, &gid) == 0;
        _cleanup_free_ char *create = NULL;
        if (!group_exists && asprintf(&create, "Create the group (sudo groupadd -r %s). ", c->group) < 0)
                return -ENOMEM;
        if (asprintf(&remedy,
                     "%sWrite `%s` to %s (NixOS: services.udev.extraRules), then sudo udevadm control "
                     "--reload-rules && sudo udevadm trigger --subsystem-match=kvmfr",
                     create ? create : "", rule, c->udev_rule_path) < 0)
                return -ENOMEM;

        char problems[512] = "";
        if (!streq_ptr(d->group, c->group) || !group_exists)
                snprintf(problems + strlen(problems), sizeof(problems) - strlen(problems), "%sgroup %s, not %s%s",
                         *problems ? "; " : "", d->group, c->group, group_exists ? "" : " (no such group)");
        if (d->mode != c->mode)
                snprintf(problems + strlen(problems), sizeof(problems) - strlen(problems), "%smode %04o, not %04o",
                         *problems ? "; " : "", d->mode, c->mode);
        if (c->owner && !streq_ptr(d->owner, c->owner) && !acl_grants(d->acl, c->owner))
                snprintf(problems + strlen(problems), sizeof(problems) - strlen(problems),
                         "%sowner %s, not %s, and no ACL entry user:%s:rw-", *problems ? "; " : "", d->owner, c->owner,
                         c->owner);
        if (*problems)
                return check_list_add(l, "kvmfr.permissions", CHECK_FAIL, remedy, "%s is %s:%s %04o (ACL %s): %s",
                                      d->path, d->owner, d->group, d->mode, *acl ? acl : "none", problems);
        return check_list_add(l, "kvmfr.permissions", CHECK_OK, NULL, "%s is %s:%s %04o (ACL %s)", d->path, d->owner,
                              d->group, d->mode, *acl ? acl : "none");
}

static int check_cgroup_acl(const char *root, const KvmfrConfig *config, CheckList *l) {
        _cleanup_free_ char *text = NULL, *remedy = NULL;
        _cleanup_(strv_freep) char **acl = NULL;
        /* NixOS keeps the qemu.conf it generates in /var/lib/libvirt. */
        KvmfrConfig cc = *config;
        cc.qemu_conf_path = nixos_qemu_conf(root, config->qemu_conf_path);
        const KvmfrConfig *c = &cc;
        bool nixos = nixos_host(root);
        int r = host_read_file(root, c->qemu_conf_path, 1024 * 1024, &text);
        if (r == 0)
                r = kvmfr_qemu_conf_device_acl(text, &acl);
        if (r == -ENOMEM)
                return r;
        for (char **e = acl; e && *e; e++)
                if (strcmp(*e, c->device) == 0)
                        return check_list_add(l, "kvmfr.cgroup-acl", CHECK_OK, NULL,
                                              "cgroup_device_acl in %s lists %s", c->qemu_conf_path, c->device);
        /* Suggest the list the host has (or libvirt's default) with the device added. */
        char list[2048] = "";
        if (acl && *acl)
                for (char **e = acl; *e; e++)
                        snprintf(list + strlen(list), sizeof(list) - strlen(list), "\"%s\", ", *e);
        else
                snprintf(list, sizeof(list), "%s, ", LIBVIRT_DEFAULT_ACL);
        if (nixos ? asprintf(&remedy,
                             "Set virtualisation.libvirtd.qemu.verbatimConfig = ''cgroup_device_acl = [ %s\"%s\" ]'' "
                             "in the NixOS configuration (NixOS generates %s), then nixos-rebuild switch and restart "
                             "libvirtd (sudo systemctl restart libvirtd)",
                             list, c->device, c->qemu_conf_path) < 0
                  : asprintf(&remedy,
                             "Set `cgroup_device_acl = [ %s\"%s\" ]` in %s "
                             "(NixOS: virtualisation.libvirtd.qemu.verbatimConfig), "
                             "then restart libvirtd (sudo systemctl restart libvirtd)",
                             list, c->device, c->qemu_conf_path) < 0)
                return -ENOMEM;
        if (text == NULL)
                return check_list_add(l, "kvmfr.cgroup-acl", CHECK_FAIL, remedy,
                                      "%s does not exist: libvirt's default cgroup_device_acl has no %s, so QEMU "
                                      "may not open it",
                                      c->qemu_conf_path, c->device);
        if (!acl)
                return check_list_add(l, "kvmfr.cgroup-acl", CHECK_FAIL, remedy,
                                      "%s sets no cgroup_device_acl: libvirt's default has no %s, so QEMU may not "
                                      "open it",
                                      c->qemu_conf_path, c->device);
        return check_list_add(l, "kvmfr.cgroup-acl", CHECK_FAIL, remedy, "cgroup_device_acl in %s does not list %s",
                              c->qemu_conf_path, c->device);
}

static char *ivshmem_snippet(const char *device, unsigned long long size) {
        char *s = NULL;
        if (asprintf(&s,
                     "<qemu:commandline> <qemu:arg value='-device'/> "
                     "<qemu:arg value=\"{'driver':'ivshmem-plain','id':'shmem0','memdev':'looking-glass'}\"/> "
                     "<qemu:arg value='-object'/> "
                     "<qemu:arg value=\"{'qom-type':'memory-backend-file','id':'looking-glass','mem-path':'%s',"
                     "'size':%llu,'share':true}\"/> </qemu:commandline>",
                     device, size) < 0)
                return NULL;
        return s;
}

static int check_ivshmem(const KvmfrConfig *c, const KvmfrState *s, int idx, unsigned required, const char *xml,
                         CheckList *l) {
        if (!xml) {
                int r = check_list_add(l, "kvmfr.ivshmem-path", CHECK_SKIPPED, NULL, "No domain XML to check");
                return r < 0 ? r
                             : check_list_add(l, "kvmfr.ivshmem-size", CHECK_SKIPPED, NULL, "No domain XML to check");
        }
        KvmfrIvshmem iv;
        int r = kvmfr_ivshmem_from_xml(xml, &iv);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                r = check_list_add(l, "kvmfr.ivshmem-path", CHECK_SKIPPED, NULL, "The domain XML does not parse");
                return r < 0 ? r : check_list_add(l, "kvmfr.ivshmem-size", CHECK_SKIPPED, NULL,
                                                  "The domain XML does not parse");
        }

        const unsigned *sizes;
        size_t n;
        const char *source;
        known_sizes(s, &sizes, &n, &source);
        unsigned mib = (size_t) idx < n ? sizes[idx] : required;
        _cleanup_free_ char *snippet = ivshmem_snippet(c->device, (unsigned long long) mib * MIB);
        _cleanup_free_ char *remedy = NULL;
        if (!snippet) {
                kvmfr_ivshmem_clear(&iv);
                return -ENOMEM;
        }

        switch (iv.kind) {
        case KVMFR_IVSHMEM_NONE:
                r = asprintf(&remedy, "winvmctl doctor --fix kvmfr.ivshmem-path (it adds, with the size for the "
                                      "configured resolution: %s)", snippet);
                if (r >= 0)
                        r = check_list_add(l, "kvmfr.ivshmem-path", CHECK_FAIL, remedy,
                                           "The domain has no IVSHMEM device "
                                           "(ivshmem-plain with a memory-backend-file)");
                break;
        case KVMFR_IVSHMEM_SHMEM:
                r = asprintf(&remedy, "Replace the <shmem> device with (virsh edit; the <domain> element needs "
                                      "xmlns:qemu='" QEMU_NS "'): %s", snippet);
                if (r >= 0)
                        r = check_list_add(l, "kvmfr.ivshmem-path", CHECK_FAIL, remedy,
                                           "The domain uses libvirt's <shmem name='%s'>, a file in /dev/shm, not %s",
                                           iv.backend_id ? iv.backend_id : "", c->device);
                break;
        default:
                if (!iv.mem_path) {
                        r = asprintf(&remedy, "Give the ivshmem-plain device a memory-backend-file on %s: %s",
                                     c->device, snippet);
                        if (r >= 0)
                                r = check_list_add(l, "kvmfr.ivshmem-path", CHECK_FAIL, remedy,
                                                   "The ivshmem-plain device's memdev '%s' is no memory-backend-file "
                                                   "with a mem-path",
                                                   iv.backend_id ? iv.backend_id : "");
                } else if (strcmp(iv.mem_path, c->device) != 0) {
                        r = asprintf(&remedy, "winvmctl doctor --fix kvmfr.ivshmem-path (it writes 'mem-path':'%s' "
                                              "in place of the memory-backend-file object '%s' of <qemu:commandline>)",
                                     c->device, iv.backend_id);
                        if (r >= 0)
                                r = check_list_add(l, "kvmfr.ivshmem-path", CHECK_FAIL, remedy,
                                                   "The IVSHMEM memory-backend-file uses %s, not %s", iv.mem_path,
                                                   c->device);
                } else if (!iv.share) {
                        r = asprintf(&remedy, "winvmctl doctor --fix kvmfr.ivshmem-path (it writes the object '%s' "
                                              "of <qemu:commandline> again with 'share':true)",
                                     iv.backend_id);
                        if (r >= 0)
                                r = check_list_add(l, "kvmfr.ivshmem-path", CHECK_FAIL, remedy,
                                                   "The IVSHMEM memory-backend-file on %s is not shared, so the host "
                                                   "never sees the guest's frames",
                                                   c->device);
                } else
                        r = check_list_add(l, "kvmfr.ivshmem-path", CHECK_OK, NULL,
                                           "The IVSHMEM memory-backend-file '%s' uses %s", iv.backend_id, c->device);
                break;
        }
        free(remedy);
        remedy = NULL;

        if (r >= 0) {
                if (iv.kind != KVMFR_IVSHMEM_COMMANDLINE || !iv.mem_path)
                        r = check_list_add(l, "kvmfr.ivshmem-size", CHECK_SKIPPED, NULL,
                                           "No IVSHMEM memory-backend-file to compare (see kvmfr.ivshmem-path)");
                else if ((size_t) idx >= n)
                        r = check_list_add(l, "kvmfr.ivshmem-size", CHECK_SKIPPED, NULL,
                                           "kvmfr's static_size_mb for %s is not known: the module is not loaded and "
                                           "%s sets none",
                                           c->device, c->modprobe_path);
                else if (iv.size == (unsigned long long) sizes[idx] * MIB)
                        r = check_list_add(l, "kvmfr.ivshmem-size", CHECK_OK, NULL,
                                           "The IVSHMEM backend is %llu bytes, static_size_mb=%u of %s", iv.size,
                                           sizes[idx], source);
                else {
                        r = iv.size == (unsigned long long) required * MIB
                                    ? asprintf(&remedy, "The definition has the size %ux%u needs: load kvmfr with "
                                                        "static_size_mb=%u (see kvmfr.size)",
                                               c->width, c->height, required)
                                    : asprintf(&remedy, "winvmctl doctor --fix kvmfr.ivshmem-size (it writes "
                                                        "'size':%llu, the size %ux%u needs, into the object '%s'), "
                                                        "and load kvmfr with static_size_mb=%u (see kvmfr.size)",
                                               (unsigned long long) required * MIB, c->width, c->height,
                                               iv.backend_id, required);
                        if (r >= 0)
                                r = check_list_add(l, "kvmfr.ivshmem-size", CHECK_FAIL, remedy,
                                                   "The IVSHMEM backend is %llu bytes, but static_size_mb=%u of %s "
                                                   "is %llu bytes",
                                                   iv.size, sizes[idx], source, (unsigned long long) sizes[idx] * MIB);
                }
        }
        kvmfr_ivshmem_clear(&iv);
        return r < 0 ? (r == -1 ? -ENOMEM : r) : 0;
}

int kvmfr_checks(const char *root, const KvmfrConfig *config, const KvmfrState *s, const char *domain_xml,
                 CheckList *l) {
        KvmfrConfig c = effective(config);
        int idx = device_index(c.device);
        unsigned required = kvmfr_required_size_mib(c.width, c.height, c.hdr);
        if (idx < 0 || required == 0 || c.width == 0 || c.height == 0)
                return -EINVAL;
        _cleanup_free_ char *rule = NULL;
        int r = kvmfr_udev_rule(&c, &rule);     /* validates owner, group and mode */
        if (r < 0)
                return r;
        _cleanup_free_ char *sizes = wanted_sizes(s, idx, required);
        if (!sizes)
                return -ENOMEM;
        r = check_loaded(&c, s, sizes, l);
        if (r == 0)
                r = check_size(&c, s, idx, required, sizes, l);
        if (r == 0)
                r = check_device(&c, s, idx, sizes, l);
        if (r == 0)
                r = check_permissions(root, &c, s, l);
        if (r == 0)
                r = check_cgroup_acl(root, &c, l);
        if (r == 0)
                r = check_ivshmem(&c, s, idx, required, domain_xml, l);
        return r;
}
