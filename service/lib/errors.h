/* The one place libvirt failures become bus errors; the error names themselves are
 * common/error-names.h, shared with winvmctl. */
#pragma once

#include <systemd/sd-bus.h>

#include "error-names.h"

/* The bus error name for a virErrorNumber. */
const char *winvm_error_name_from_libvirt(int vir_error_code);

/* Sets *error from a libvirt error code and message; returns the matching negative errno
 * so handlers can `return winvm_error_set_libvirt(...)`. */
int winvm_error_set_libvirt(sd_bus_error *error, int vir_error_code, const char *message);
