#include "errors.h"

#include <libvirt/virterror.h>

const char *winvm_error_name_from_libvirt(int code) {
        switch (code) {
        case VIR_ERR_NO_DOMAIN:
                return WINVM_ERROR_NOT_DEFINED;
        case VIR_ERR_NO_CONNECT:
        case VIR_ERR_INVALID_CONN:
        case VIR_ERR_RPC:
                return WINVM_ERROR_DISCONNECTED;
        case VIR_ERR_OPERATION_TIMEOUT:
        case VIR_ERR_AGENT_UNRESPONSIVE:
                return WINVM_ERROR_TIMEOUT;
        case VIR_ERR_INVALID_ARG:
                return WINVM_ERROR_INVALID_ARGUMENT;
        default:
                return WINVM_ERROR_LIBVIRT;
        }
}

int winvm_error_set_libvirt(sd_bus_error *error, int code, const char *message) {
        const char *name = winvm_error_name_from_libvirt(code);
        return sd_bus_error_setf(error, name, "%s", message && *message ? message : "libvirt call failed");
}
