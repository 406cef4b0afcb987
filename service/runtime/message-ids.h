/* The MESSAGE_IDs of winvmd's journal entries, one per kind of event, so that
 * `journalctl -u winvmd MESSAGE_ID=...` finds every entry of a kind. Each is explained in
 * systemd/winvm.catalog (journalctl -x); the two lists must stay the same (test-journal.sh
 * compares them). New ids come from `systemd-id128 new`. */
#pragma once

/* The VM went from off to running (WINVM_OPERATION=start when a winvm call started it). */
#define WINVM_MESSAGE_VM_STARTED        "3f73ea9f048245a0aad374d8ec9f39df"
/* The VM went from running to off: WINVM_STOP says graceful, forced, crashed, failed or other. */
#define WINVM_MESSAGE_VM_STOPPED        "2a8525c62836432bae2ffbbab40aace7"
#define WINVM_MESSAGE_SNAPSHOT_CREATED  "ca56f1d1895841a084d9107bb7b03ac2"
#define WINVM_MESSAGE_SNAPSHOT_REVERTED "043ae7e01b164b10ae6a79146e92843c"
#define WINVM_MESSAGE_SNAPSHOT_DELETED  "2dcd380ca6f04f5bbbd3714312045413"
/* Snapshots made outside winvm were adopted; WINVM_SNAPSHOTS lists them, oldest first. */
#define WINVM_MESSAGE_SNAPSHOTS_ADOPTED "30d82cdf094d40f1a496a909fc41fc32"
/* A scrub job ended (finished, cancelled or failed), with its counters. */
#define WINVM_MESSAGE_SCRUB_FINISHED    "21e6f2e02dc64520bec877d4869e6201"
/* winvm changed the VM's persistent definition (WINVM_OPERATION: pinning, usb-attach,
 * usb-detach, virtiofsd, define, undo); the definition it replaced is kept for undo. */
#define WINVM_MESSAGE_DEFINITION_CHANGED "d6f9a591f7814d279e4c4dab33ab3803"
/* An operation a caller asked for failed or was refused for the VM's state; WINVM_ERROR
 * holds the bus error name the caller got. */
#define WINVM_MESSAGE_OPERATION_FAILED  "cc5b5fff62c64bf7bd8c80dd756f0872"
