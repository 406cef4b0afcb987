#include "errors.h"

#include <errno.h>
#include <libvirt/virterror.h>

const sd_bus_error_map winvm_error_map[] = {
        SD_BUS_ERROR_MAP(WINVM_ERROR_ALREADY_RUNNING,  EALREADY),
        SD_BUS_ERROR_MAP(WINVM_ERROR_NOT_RUNNING,      ESRCH),
        SD_BUS_ERROR_MAP(WINVM_ERROR_NOT_DEFINED,      ENOENT),
        SD_BUS_ERROR_MAP(WINVM_ERROR_NO_SUCH_VM,       ENXIO),
        SD_BUS_ERROR_MAP(WINVM_ERROR_TIMEOUT,          ETIMEDOUT),
        SD_BUS_ERROR_MAP(WINVM_ERROR_INVALID_ARGUMENT, EINVAL),
        SD_BUS_ERROR_MAP(WINVM_ERROR_DISCONNECTED,     ENOTCONN),
        SD_BUS_ERROR_MAP(WINVM_ERROR_BUSY,             EBUSY),
        SD_BUS_ERROR_MAP(WINVM_ERROR_LIBVIRT,          EIO),
        SD_BUS_ERROR_MAP(WINVM_ERROR_EXISTS,           EEXIST),
        SD_BUS_ERROR_MAP(WINVM_ERROR_NO_SUCH_SNAPSHOT, ENOENT),
        SD_BUS_ERROR_MAP(WINVM_ERROR_GUEST_RUNNING,    EBUSY),
        SD_BUS_ERROR_MAP(WINVM_ERROR_NO_SPACE,         ENOSPC),
        SD_BUS_ERROR_MAP(WINVM_ERROR_FAILED,           EIO),
        SD_BUS_ERROR_MAP(WINVM_ERROR_NOT_FOUND,        ENOPKG),
        SD_BUS_ERROR_MAP(WINVM_ERROR_NOT_CONFIGURED,   ENOKEY),
        SD_BUS_ERROR_MAP_END
};

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
