/* The state one snapshot operation carries on the definition worker, and the helpers of
 * snapshot-ops.c that the other snapshot operation files (snapshot-adopt.c) share. Worker
 * thread only. */
#pragma once

#include <libvirt/libvirt.h>
#include <stdbool.h>

#include "snapshot-meta.h"
#include "snapshot-ops.h"

typedef struct Ctx {
        Operation *operation;   /* holds the error slot */
        SnapshotOp *op;
        virConnectPtr conn;
        virDomainPtr dom;
        char *dir;              /* <state>/snapshots/<vm> */
        char *meta_path;
        char *intent_path;
        SnapshotSet *set;
        bool records_missing;   /* no records file: winvm never recorded a snapshot of this VM */
} Ctx;

/* Tests: kills winvmd (SIGKILL) when step is the one WINVMD_TEST_CRASH_AT names. */
void crash_point(const char *step);

/* Set the operation's error (its first failure stays); each returns -1. */
int __attribute__((format(printf, 3, 4))) failf(Ctx *c, const char *name, const char *fmt, ...);
int fail_errno(Ctx *c, int r, const char *what, const char *detail);
int fail_libvirt(Ctx *c, const char *what);

char *path_in(const char *dir, const char *name);
char *dir_of(const char *path);

/* Looks the domain up (and connects) once; NotDefined when libvirt does not know it. */
int need_domain(Ctx *c);
/* 1 when the guest runs or is paused, 0 when off, -1 on failure. */
int domain_active(Ctx *c);
/* The live or persistent definition (the latter with secrets); NULL on failure. */
char *domain_xml(Ctx *c, bool persistent);

/* Writes c->set to the records file atomically. */
int save_set(Ctx *c);

/* The format winvm knows path (an image of target) to have, NULL when nothing says. */
char *known_format(Ctx *c, const char *target, const char *path);
/* The backing file of path (of format) and its format, checked: never probed. */
int image_backing(Ctx *c, const char *target, const char *path, const char *format, char **ret_backing,
                  char **ret_format);
