/* Small helpers shared by winvmd and winvmctl: cleanup attributes and string lists. */
#pragma once

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <time.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))

static inline void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

/* Declares type##p-style cleanup helpers for project types, as systemd does. */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)                 \
        static inline void func##p(type *p) {                   \
                if (*p)                                         \
                        func(*p);                               \
        }

/* Hands a pointer over to the caller and clears the variable a cleanup attribute watches. */
#define TAKE_PTR(p)                                             \
        ({                                                      \
                __typeof__(p) _taken = (p);                     \
                (p) = NULL;                                     \
                _taken;                                         \
        })

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

static inline bool streq_ptr(const char *a, const char *b) {
        if (!a || !b)
                return a == b;
        return strcmp(a, b) == 0;
}

/* Frees a NULL-terminated array of strings. */
static inline void strv_free(char **l) {
        if (!l)
                return;
        for (char **i = l; *i; i++)
                free(*i);
        free(l);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free);

static inline bool strv_contains(char *const *l, const char *s) {
        for (; l && *l; l++)
                if (strcmp(*l, s) == 0)
                        return true;
        return false;
}

static inline size_t strv_length(char *const *l) {
        size_t n = 0;
        while (l && l[n])
                n++;
        return n;
}

/* CLOCK_MONOTONIC in microseconds: for ages and timeouts (the same clock sd-event's
 * CLOCK_MONOTONIC timers use); never for dates, which are CLOCK_REALTIME. */
static inline uint64_t monotonic_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}
