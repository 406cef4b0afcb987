/* Life cycle of the daemon as seen from main(). */
#pragma once

#include "config.h"

typedef struct Daemon Daemon;

/* Builds everything and owns the bus name; on failure *ret is still set for daemon_free(). */
int daemon_new(WinvmConfig *config, Daemon **ret);
int daemon_run(Daemon *d);
Daemon *daemon_free(Daemon *d);
