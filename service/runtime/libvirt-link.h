/* Keeps winvmd connected to libvirtd (libvirt-link.c): connection, reconnection and lifecycle
 * events. Event thread only. */
#pragma once

#include <stdbool.h>

#include "daemon.h"

void daemon_connect_libvirt(Daemon *d);
void daemon_on_lifecycle(void *userdata, char *name);
void daemon_on_closed(void *userdata, unsigned gen);
/* Dispatches the reads held at start-up once every VM's state is known, or at once when
 * unconditionally (the states cannot be known for now). */
void daemon_release_held_reads(Daemon *d, bool unconditionally);
