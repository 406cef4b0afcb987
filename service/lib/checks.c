#include "checks.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const status_names[_CHECK_STATUS_MAX] = {
        [CHECK_OK] = "ok",
        [CHECK_WARN] = "warn",
        [CHECK_FAIL] = "fail",
        [CHECK_SKIPPED] = "skipped",
};

const char *check_status_to_string(CheckStatus s) {
        if ((unsigned) s >= _CHECK_STATUS_MAX)
                return NULL;
        return status_names[s];
}

int check_status_from_string(const char *s, CheckStatus *ret) {
        for (int i = 0; s && i < _CHECK_STATUS_MAX; i++)
                if (strcmp(s, status_names[i]) == 0) {
                        *ret = (CheckStatus) i;
                        return 0;
                }
        return -EINVAL;
}

static int grow(CheckList *l, size_t extra) {
        if (l->n + extra <= l->allocated)
                return 0;
        size_t want = l->allocated ? l->allocated * 2 : 16;
        while (want < l->n + extra)
                want *= 2;
        Check *items = realloc(l->items, want * sizeof(Check));
        if (!items)
                return -ENOMEM;
        l->items = items;
        l->allocated = want;
        return 0;
}

int check_list_addv(CheckList *l, const char *id, CheckStatus status, const char *remedy,
                    const char *message_fmt, va_list ap) {
        if (!l || !id || !*id || (unsigned) status >= _CHECK_STATUS_MAX || !message_fmt)
                return -EINVAL;
        if (grow(l, 1) < 0)
                return -ENOMEM;
        Check c = {
                .id = strdup(id),
                .status = status,
                .remedy = strdup(remedy ? remedy : ""),
        };
        if (vasprintf(&c.message, message_fmt, ap) < 0)
                c.message = NULL;
        if (!c.id || !c.remedy || !c.message) {
                free(c.id);
                free(c.remedy);
                free(c.message);
                return -ENOMEM;
        }
        l->items[l->n++] = c;
        return 0;
}

int check_list_add(CheckList *l, const char *id, CheckStatus status, const char *remedy,
                   const char *message_fmt, ...) {
        va_list ap;
        va_start(ap, message_fmt);
        int r = check_list_addv(l, id, status, remedy, message_fmt, ap);
        va_end(ap);
        return r;
}

int check_list_move(CheckList *dst, CheckList *src) {
        if (src->n == 0)
                return 0;
        if (grow(dst, src->n) < 0)
                return -ENOMEM;
        memcpy(dst->items + dst->n, src->items, src->n * sizeof(Check));
        dst->n += src->n;
        free(src->items);
        *src = CHECK_LIST_INIT;
        return 0;
}

int check_list_name_vm(CheckList *l, const char *vm) {
        static const char repair[] = "winvmctl doctor --fix ";
        for (size_t i = 0; vm && *vm && i < l->n; i++) {
                char *at = strstr(l->items[i].remedy, repair);
                if (!at)
                        continue;
                char *named;
                if (asprintf(&named, "%.*swinvmctl --vm %s doctor --fix %s", (int) (at - l->items[i].remedy),
                             l->items[i].remedy, vm, at + strlen(repair)) < 0)
                        return -ENOMEM;
                free(l->items[i].remedy);
                l->items[i].remedy = named;
        }
        return 0;
}

const Check *check_list_find(const CheckList *l, const char *id) {
        for (size_t i = 0; l && id && i < l->n; i++)
                if (strcmp(l->items[i].id, id) == 0)
                        return &l->items[i];
        return NULL;
}

CheckSummary check_list_summary(const CheckList *l) {
        CheckSummary s = { 0 };
        for (size_t i = 0; l && i < l->n; i++)
                switch (l->items[i].status) {
                case CHECK_OK:
                        s.ok++;
                        break;
                case CHECK_WARN:
                        s.warn++;
                        break;
                case CHECK_FAIL:
                        s.fail++;
                        break;
                default:
                        s.skipped++;
                        break;
                }
        return s;
}

CheckStatus check_list_worst(const CheckList *l) {
        CheckSummary s = check_list_summary(l);
        return s.fail ? CHECK_FAIL : s.warn ? CHECK_WARN : CHECK_OK;
}

void check_list_clear(CheckList *l) {
        if (!l)
                return;
        for (size_t i = 0; i < l->n; i++) {
                free(l->items[i].id);
                free(l->items[i].message);
                free(l->items[i].remedy);
        }
        free(l->items);
        *l = CHECK_LIST_INIT;
}
