/* The last definition winvm saw of each VM, kept so that a VM libvirt has lost (a NixOS
 * rebuild, a virsh undefine) can be defined again from its file with something trusted to
 * compare it with: <state_dir>/last-definitions/<vm>.xml, root's, 0600 (it holds secrets).
 * Written by the definition worker after each operation that found the domain. Blocking:
 * worker only. */
#pragma once

/* Keeps xml unless the kept file already says exactly that. */
int definition_last_keep(const char *state_dir, const char *vm, const char *xml);

/* The kept definition; -ENOENT when none. */
int definition_last_read(const char *state_dir, const char *vm, char **ret);
