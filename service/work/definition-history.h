/* The definitions a VM had before winvm changed them, so every change can be undone:
 * <state_dir>/definitions/<vm>/<sequence>-<usec>-<what>.xml, newest last, and what an undo
 * replaced in <...>/undone/. Each folder keeps the newest DEFINITION_HISTORY_MAX, pruned only
 * after a change succeeded. Blocking: worker only. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define DEFINITION_HISTORY_MAX 32

typedef struct DefinitionVersion {
        char *path;
        char *what;             /* the change that replaced it: "pinning", "usb-attach", "define", ... */
        uint64_t usec;          /* when it was replaced (CLOCK_REALTIME) */
} DefinitionVersion;

/* Keeps xml as the version the change what replaces. what is [a-z-]+. *ret_path may be NULL. */
int definition_history_keep(const char *state_dir, const char *vm, const char *what, const char *xml,
                            char **ret_path);
/* The same into the undone/ folder. */
int definition_history_keep_undone(const char *state_dir, const char *vm, const char *xml);

/* Every kept version, oldest first. */
int definition_history_list(const char *state_dir, const char *vm, DefinitionVersion **ret, size_t *ret_n);
void definition_versions_free(DefinitionVersion *v, size_t n);

/* Drops the oldest kept versions beyond DEFINITION_HISTORY_MAX: after a change succeeded. */
void definition_history_prune(const char *state_dir, const char *vm);

/* Removes one kept version (after an undo restored it, or when the change failed). */
int definition_history_drop(const char *path);
