#include "desktop-user.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host-files.h"
#include "util.h"

static int add_unique(char ***list, size_t *n, const char *name, size_t len) {
        if (len == 0)
                return 0;
        for (size_t i = 0; i < *n; i++)
                if (strlen((*list)[i]) == len && strncmp((*list)[i], name, len) == 0)
                        return 0;
        char **grown = realloc(*list, (*n + 2) * sizeof(char *));
        if (!grown)
                return -ENOMEM;
        *list = grown;
        if (!(grown[*n] = strndup(name, len)))
                return -ENOMEM;
        grown[++*n] = NULL;
        return 0;
}

/* The n-th (0-based) ':' field of line, and its length. */
static const char *field(const char *line, size_t len, int n, size_t *flen) {
        const char *p = line, *end = line + len;
        for (int i = 0; i < n; i++) {
                const char *c = memchr(p, ':', (size_t) (end - p));
                if (!c)
                        return NULL;
                p = c + 1;
        }
        const char *c = memchr(p, ':', (size_t) (end - p));
        *flen = (size_t) ((c ? c : end) - p);
        return p;
}

int desktop_group_members(const char *root, const char *group, char ***ret) {
        _cleanup_free_ char *groups = NULL, *passwd = NULL;
        if (!group || host_read_file(root, "/etc/group", 0, &groups) < 0)
                return -ENOENT;
        char **out = calloc(1, sizeof(char *));
        size_t n = 0;
        const char *gid = NULL;
        size_t gid_len = 0;
        int r = out ? 0 : -ENOMEM;
        for (const char *line = groups; r == 0 && *line;) {
                size_t len = strcspn(line, "\n"), flen;
                const char *name = field(line, len, 0, &flen);
                if (name && flen == strlen(group) && strncmp(name, group, flen) == 0 && !gid) {
                        gid = field(line, len, 2, &gid_len);
                        size_t mlen;
                        const char *m = field(line, len, 3, &mlen);
                        for (const char *p = m; r == 0 && m && p < m + mlen;) {
                                size_t one = strcspn(p, ",");
                                if (p + one > m + mlen)
                                        one = (size_t) (m + mlen - p);
                                r = add_unique(&out, &n, p, one);
                                p += one + 1;
                        }
                }
                line += len + (line[len] == '\n');
        }
        if (r == 0 && !gid) {
                strv_free(out);
                return -ENOENT;
        }
        if (r == 0 && gid_len > 0 && host_read_file(root, "/etc/passwd", 0, &passwd) == 0)
                for (const char *line = passwd; r == 0 && *line;) {
                        size_t len = strcspn(line, "\n"), nlen, glen;
                        const char *name = field(line, len, 0, &nlen), *g = field(line, len, 3, &glen);
                        if (name && g && glen == gid_len && strncmp(g, gid, glen) == 0)
                                r = add_unique(&out, &n, name, nlen);
                        line += len + (line[len] == '\n');
                }
        if (r < 0) {
                strv_free(out);
                return r;
        }
        *ret = out;
        return 0;
}

int desktop_user_resolve(const char *root, const char *configured, const char *group, DesktopUser *u) {
        *u = (DesktopUser) { .source = DESKTOP_USER_NONE };
        if (group && !(u->group = strdup(group)))
                return -ENOMEM;
        if (configured) {
                u->source = DESKTOP_USER_CONFIGURED;
                return (u->name = strdup(configured)) ? 0 : -ENOMEM;
        }
        _cleanup_(strv_freep) char **members = NULL;
        int r = desktop_group_members(root, group, &members);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return 0;
        u->n_members = (unsigned) strv_length(members);
        if (u->n_members == 1) {
                u->source = DESKTOP_USER_GROUP;
                u->name = TAKE_PTR(members[0]);
        }
        return 0;
}

void desktop_user_clear(DesktopUser *u) {
        if (!u)
                return;
        free(u->name);
        free(u->group);
        *u = (DesktopUser) { 0 };
}

int desktop_user_check(const DesktopUser *u, CheckList *l) {
        const char *id = "host.desktop-user";
        if (u->source == DESKTOP_USER_CONFIGURED)
                return check_list_add(l, id, CHECK_OK, NULL, "The desktop user is %s ([Host] DesktopUser)", u->name);
        if (u->source == DESKTOP_USER_GROUP)
                return check_list_add(l, id, CHECK_OK, NULL,
                                      "The desktop user is %s, the only member of the %s group ([Host] DesktopUser "
                                      "is not set)",
                                      u->name, u->group);
        return check_list_add(l, id, CHECK_SKIPPED, NULL,
                              "No desktop user: [Host] DesktopUser is not set and the %s group has %u members; set "
                              "[Host] DesktopUser in winvm.conf (NixOS: services.winvm.users)",
                              u->group ? u->group : "polkit", u->n_members);
}
