#include "virtiofs-shares.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host-files.h"
#include "util.h"
#include "xml-doc.h"

#define VIRTIOFS_XPATH "/domain/devices/filesystem[driver/@type='virtiofs']"

void virtiofs_shares_clear(VirtiofsShares *s) {
        for (size_t i = 0; s->items && i < s->n; i++) {
                free(s->items[i].source);
                free(s->items[i].tag);
                free(s->items[i].binary);
        }
        free(s->items);
        free(s->memory_source);
        *s = (VirtiofsShares) { 0 };
}

int virtiofs_shares_from_xml(const char *domain_xml, VirtiofsShares *ret) {
        XmlDoc x;
        int r = xml_doc_open(domain_xml, &x), n = 0;
        if (r < 0)
                return r;
        VirtiofsShares s = { 0 };
        xmlXPathObjectPtr o = xml_doc_nodes(&x, NULL, VIRTIOFS_XPATH, &n);
        s.items = calloc((size_t) n + 1, sizeof(VirtiofsShare));
        r = s.items ? 0 : -ENOMEM;
        for (int i = 0; r == 0 && i < n; i++) {
                xmlNodePtr fs = o->nodesetval->nodeTab[i];
                s.items[s.n++] = (VirtiofsShare) {
                        .source = xml_doc_string(&x, fs, "string(source/@dir)"),
                        .tag = xml_doc_string(&x, fs, "string(target/@dir)"),
                        .binary = xml_doc_string(&x, fs, "string(binary/@path)"),
                };
        }
        xmlXPathFreeObject(o);
        _cleanup_free_ char *access = xml_doc_string(&x, NULL, "string(/domain/memoryBacking/access/@mode)");
        s.shared_memory = access && strcmp(access, "shared") == 0;
        s.memory_source = xml_doc_string(&x, NULL, "string(/domain/memoryBacking/source/@type)");
        xml_doc_close(&x);
        if (r < 0) {
                virtiofs_shares_clear(&s);
                return r;
        }
        *ret = s;
        return 0;
}

/* argv of a process as one string per argument, from a NUL-separated cmdline. */
static bool cmdline_serves(const char *cmdline, size_t len, const char *source) {
        if (len == 0 || !source)
                return false;
        const char *argv0 = cmdline, *slash = strrchr(argv0, '/');
        if (!strstr(slash ? slash + 1 : argv0, "virtiofsd"))
                return false;
        size_t slen = strlen(source);
        /* --shared-dir=DIR, --shared-dir DIR, -o source=DIR,cache=auto (older virtiofsd) */
        for (const char *a = cmdline + strlen(cmdline) + 1; a < cmdline + len; a += strlen(a) + 1)
                for (const char *tok = a; *tok; tok += strcspn(tok, ",") + (tok[strcspn(tok, ",")] == ',')) {
                        size_t tlen = strcspn(tok, ",");
                        const char *eq = memchr(tok, '=', tlen);
                        const char *val = eq ? eq + 1 : tok;
                        if ((size_t) (tok + tlen - val) == slen && strncmp(val, source, slen) == 0)
                                return true;
                }
        return false;
}

/* Calls fn for each running virtiofsd serving a share, with the share's index. */
static int each_serving(const char *root, const VirtiofsShares *s, int (*fn)(const char *pid, size_t i, void *u),
                        void *userdata) {
        char **pids = NULL;
        int r = host_list_dir(root, "/proc", &pids);
        if (r < 0)
                return r;
        for (char **p = pids; r >= 0 && *p; p++) {
                if (strspn(*p, "0123456789") != strlen(*p))
                        continue;
                _cleanup_free_ char *path = NULL, *cmdline = NULL;
                if (asprintf(&path, "/proc/%s/cmdline", *p) < 0) {
                        r = -ENOMEM;
                        break;
                }
                if (host_read_file(root, path, 0, &cmdline) < 0)
                        continue;
                /* The arguments are NUL-separated and host_read_file() adds one more NUL at the
                 * end, so the walk stops there (or at an empty argument, which virtiofsd's
                 * command lines do not have). */
                size_t len = 0;
                for (const char *c = cmdline; *c; c += strlen(c) + 1)
                        len = (size_t) (c - cmdline) + strlen(c) + 1;
                for (size_t i = 0; r >= 0 && i < s->n; i++)
                        if (cmdline_serves(cmdline, len, s->items[i].source)) {
                                r = fn(*p, i, userdata);
                                break;
                        }
        }
        strv_free(pids);
        return r;
}

static int mark(const char *pid, size_t i, void *userdata) {
        (void) pid;
        ((VirtiofsShares *) userdata)->items[i].running = true;
        return 0;
}

int virtiofs_shares_mark_running(const char *root, VirtiofsShares *s) {
        return each_serving(root, s, mark, s);
}

typedef struct PidList {
        char **pids;
        size_t n;
} PidList;

static int collect(const char *pid, size_t i, void *userdata) {
        (void) i;
        PidList *l = userdata;
        char **grown = realloc(l->pids, (l->n + 2) * sizeof(char *));
        if (!grown)
                return -ENOMEM;
        l->pids = grown;
        if (!(l->pids[l->n] = strdup(pid)))
                return -ENOMEM;
        l->pids[++l->n] = NULL;
        return 0;
}

int virtiofs_running_pids(const char *root, const VirtiofsShares *s, char ***ret) {
        PidList l = { .pids = calloc(1, sizeof(char *)) };
        int r = l.pids ? each_serving(root, s, collect, &l) : -ENOMEM;
        if (r < 0) {
                strv_free(l.pids);
                return r;
        }
        *ret = l.pids;
        return 0;
}

bool virtiofs_binary_allowed(char *const *allowed, const char *path) {
        return strv_contains(allowed, path);
}

int virtiofs_set_binary(const char *domain_xml, const char *binary, char **ret_xml) {
        XmlDoc x;
        int r = xml_doc_open(domain_xml, &x), n = 0;
        if (r < 0)
                return r;
        xmlXPathObjectPtr o = xml_doc_nodes(&x, NULL, VIRTIOFS_XPATH, &n);
        for (int i = 0; i < n; i++) {
                xmlNodePtr b = xml_child_ensure(o->nodesetval->nodeTab[i], "binary");
                if (!b) {
                        r = -ENOMEM;
                        break;
                }
                xmlSetProp(b, (const xmlChar *) "path", (const xmlChar *) binary);
        }
        xmlXPathFreeObject(o);
        if (r == 0)
                r = n == 0 ? -ENOENT : xml_doc_dump(&x, 0, ret_xml);
        xml_doc_close(&x);
        return r;
}

int virtiofs_check_shared_memory(const VirtiofsShares *s, CheckList *out) {
        if (s->n == 0)
                return 0;
        if (s->shared_memory)
                return check_list_add(out, "virtiofs.shared-memory", CHECK_OK, NULL, "memory backing is shared (source %s)",
                                      s->memory_source ? s->memory_source : "default");
        return check_list_add(out, "virtiofs.shared-memory", CHECK_FAIL,
                              "add <memoryBacking><source type='memfd'/><access mode='shared'/></memoryBacking> to the definition",
                              "virtiofs needs shared memory backing and the definition has none: the guest will not start");
}

int virtiofs_checks(const char *root, const VirtiofsShares *s, char *const *allowed, CheckList *out) {
        int r = 0;
        if (s->n == 0)
                return check_list_add(out, "virtiofs.shares", CHECK_SKIPPED, NULL, "the guest has no virtiofs shares");
        r = virtiofs_check_shared_memory(s, out);
        for (size_t i = 0; r >= 0 && i < s->n; i++) {
                const VirtiofsShare *sh = &s->items[i];
                _cleanup_free_ char *id = NULL;
                if (asprintf(&id, "virtiofs.binary.%s", sh->tag ? sh->tag : "?") < 0)
                        return -ENOMEM;
                if (!sh->binary)
                        r = check_list_add(out, id, CHECK_WARN, "winvmctl shares --set-virtiofsd PATH",
                                           "share '%s' uses libvirt's default virtiofsd", sh->tag ? sh->tag : "?");
                else if (!virtiofs_binary_allowed(allowed, sh->binary))
                        r = check_list_add(out, id, CHECK_WARN, "winvmctl shares --set-virtiofsd PATH",
                                           "share '%s' uses %s, which is not in [Virtiofs] AllowedBinaries (a path that a system rebuild may remove)",
                                           sh->tag ? sh->tag : "?", sh->binary);
                else
                        r = host_is_executable(root, sh->binary) ? check_list_add(out, id, CHECK_OK, NULL, "share '%s' uses %s", sh->tag ? sh->tag : "?",
                                                sh->binary) :
                                 check_list_add(out, id, CHECK_FAIL, "install virtiofsd, or point the share at another allowed binary",
                                                "share '%s' uses %s, which is not an executable file", sh->tag ? sh->tag : "?",
                                                sh->binary);
        }
        return r;
}
