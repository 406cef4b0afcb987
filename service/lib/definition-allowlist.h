/* The allowlist the definition guard walks (definition-guard.h): one rule per element of a
 * domain, saying which of its attributes, text and children the desktop user may change.
 * Internal to the guard. */
#pragma once

#include <libxml/tree.h>
#include <stdbool.h>

#include "definition-guard.h"

typedef struct GuardCtx {
        const DefinitionPolicy *policy;
        char **in_use;          /* the files the current definition's disks use */
        char **virtiofsd_in_use; /* the virtiofsd binaries it runs already */
        char **shares_in_use;   /* the folders it shares already */
} GuardCtx;

typedef struct AllowRule AllowRule;

struct AllowRule {
        const char *name;
        /* Attributes that may change, appear or go: "name" for any value that names no path,
         * "name=a|b" for those values only, "name=*" for any value check_new checks itself. */
        const char *const *attrs;
        /* Its own text: NULL none, "" any value that names no path, "a|b" those values only. */
        const char *text;
        const AllowRule *const *children;
        bool removable;
        /* Anything below may change, as long as no value names a path. */
        bool free;
        /* Anything below may change, paths or not: text libvirt never acts on. */
        bool raw;
        /* An element added (or changed beyond the rule) is admitted when this admits it
         * whole: 0, or -EPERM with *why. NULL: it must pass the rule itself. */
        int (*check_new)(const GuardCtx *g, xmlNodePtr el, char **why);
        /* What pairs an old and a new sibling of this name as "the same device" (a disk's
         * target); NULL: pairs them in order. malloc'd. */
        char *(*key)(xmlNodePtr el);
};

/* The rule of <domain>. */
const AllowRule *allowlist_domain(void);

/* The rule of an element in another namespace than libvirt's, below parent's rule: the IVSHMEM
 * <qemu:commandline> below <domain>; NULL for anything else. */
const AllowRule *allowlist_foreign(const AllowRule *parent, xmlNodePtr child);

/* The value of attribute name of el, NULL when absent. malloc'd by libxml2 (xmlFree). */
char *allow_attr(xmlNodePtr el, const char *name);
/* Whether a value may name a host path: it has a '/'. */
bool allow_names_path(const char *value);
/* Whether el passes rule as a new element (every attribute, text and child on it). */
int allow_check_element(const GuardCtx *g, xmlNodePtr el, const AllowRule *rule, char **why);
