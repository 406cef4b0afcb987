/* Adopting the snapshots that exist on disk and in libvirt's metadata into winvm's records
 * (snapshot-adopt.c explains the rules and the steps). Definition worker only. */
#pragma once

#include "snapshot-ctx.h"

/* Adds what can be adopted to c->set and saves it; removes libvirt's snapshot metadata,
 * keeping copies. *ret_names: the adopted snapshots, oldest first (NULL-terminated, maybe
 * empty). -1 with the failure recorded in c->op, nothing changed. */
int snapshot_adopt(Ctx *c, char ***ret_names);

/* How many snapshots libvirt has metadata for (0 when it cannot say). */
int snapshot_adopt_metadata_count(Ctx *c);

/* Where the copies of libvirt's snapshot XML go: <state_dir>/libvirt-snapshot-metadata/<vm>,
 * beside the records folder rather than in it (a folder there is a snapshot's). */
char *snapshot_adopt_metadata_folder(const char *state_dir, const char *vm);
