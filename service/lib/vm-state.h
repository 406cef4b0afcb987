/* libvirt domain states and reasons as the strings org.winvm1.VM publishes. */
#pragma once

#include <stdbool.h>

/* running, shutoff, paused, crashed, pmsuspended, shutting-down or unknown. */
const char *vm_state_to_string(int libvirt_state);

/* libvirt's reason as a short word (booted, shutdown, destroyed, ...); "" when unknown. */
const char *vm_state_reason_to_string(int libvirt_state, int libvirt_reason);

/* Whether the state counts as running for Start/Shutdown (a guest that can be stopped). */
bool vm_state_is_active(int libvirt_state);
