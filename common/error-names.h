/* The named errors of org.winvm1, for winvmd and its clients alike. */
#pragma once

#include <systemd/sd-bus.h>

#define WINVM_ERROR_ALREADY_RUNNING  "org.winvm1.Error.AlreadyRunning"
#define WINVM_ERROR_NOT_RUNNING      "org.winvm1.Error.NotRunning"
#define WINVM_ERROR_NOT_DEFINED      "org.winvm1.Error.NotDefined"
#define WINVM_ERROR_NO_SUCH_VM       "org.winvm1.Error.NoSuchVM"
#define WINVM_ERROR_TIMEOUT          "org.winvm1.Error.Timeout"
#define WINVM_ERROR_INVALID_ARGUMENT "org.winvm1.Error.InvalidArgument"
#define WINVM_ERROR_DISCONNECTED     "org.winvm1.Error.Disconnected"
#define WINVM_ERROR_BUSY             "org.winvm1.Error.Busy"
#define WINVM_ERROR_LIBVIRT          "org.winvm1.Error.Libvirt"
#define WINVM_ERROR_EXISTS           "org.winvm1.Error.Exists"
#define WINVM_ERROR_NO_SUCH_SNAPSHOT "org.winvm1.Error.NoSuchSnapshot"
#define WINVM_ERROR_GUEST_RUNNING    "org.winvm1.Error.GuestRunning"
#define WINVM_ERROR_NO_SPACE         "org.winvm1.Error.NoSpace"
#define WINVM_ERROR_FAILED           "org.winvm1.Error.Failed"
#define WINVM_ERROR_NOT_FOUND        "org.winvm1.Error.NotFound"
#define WINVM_ERROR_NOT_CONFIGURED   "org.winvm1.Error.NotConfigured"

/* Maps our error names to errno values for sd_bus_error_get_errno(); register once. */
extern const sd_bus_error_map winvm_error_map[];
