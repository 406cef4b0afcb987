/* Who the desktop user is: [Host] DesktopUser, or else the one member of the polkit group
 * (the group whose members get winvm's actions), read from <root>/etc/group and passwd. Checks
 * that need the user (a duplicate session definition, the kvmfr owner, the shares' home) then
 * run instead of being skipped. Pure apart from reading files under the root. */
#pragma once

#include "checks.h"

typedef enum DesktopUserSource {
        DESKTOP_USER_NONE,
        DESKTOP_USER_CONFIGURED,        /* [Host] DesktopUser */
        DESKTOP_USER_GROUP,             /* the polkit group's only member */
} DesktopUserSource;

typedef struct DesktopUser {
        char *name;                     /* NULL for none */
        DesktopUserSource source;
        unsigned n_members;             /* of the group, when it was read */
        char *group;
} DesktopUser;

/* The members of group: its member list in <root>/etc/group and the users whose primary group
 * it is in <root>/etc/passwd, without duplicates, NULL-terminated. -ENOENT when there is no
 * such group, -ENOMEM. */
int desktop_group_members(const char *root, const char *group, char ***ret);

/* Fills u. configured wins; else the sole member of group (NULL: none). 0 or -ENOMEM. */
int desktop_user_resolve(const char *root, const char *configured, const char *group, DesktopUser *u);
void desktop_user_clear(DesktopUser *u);

/* Adds host.desktop-user: who it is and why, or skipped with what to set. */
int desktop_user_check(const DesktopUser *u, CheckList *l);
