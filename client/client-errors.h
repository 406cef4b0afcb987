/* How winvmctl turns a bus error into a message and an exit code. */
#pragma once

#include <systemd/sd-bus.h>

#include "error-names.h"

enum {
        EXIT_OK = 0,
        EXIT_FAILED = 1,
        EXIT_USAGE = 2,
        EXIT_ACCESS_DENIED = 3,
        EXIT_NO_SUCH_VM = 4, /* also no such snapshot, and the kvmfr module not installed */
        EXIT_WRONG_STATE = 5,
        EXIT_TIMEOUT = 6,
        EXIT_UNAVAILABLE = 7,
        EXIT_EXISTS = 8,
        EXIT_NO_SPACE = 9,
};

/* The exit code for a bus error name (NULL or unknown: EXIT_FAILED). */
int client_exit_code_for_error(const char *error_name);

/* Prints the service's message verbatim, plus how to get access after a refusal.
 * Returns the exit code. */
int client_report_error(const sd_bus_error *error);

/* client_report_error() for error, set from the negative errno r when the call left it
 * empty, and frees it. Returns the exit code. */
int client_fail(sd_bus_error *error, int r);
