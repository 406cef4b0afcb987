#include "client-errors.h"

#include <stdio.h>
#include <string.h>

#include "error-names.h"
#include "util.h"

#ifndef WINVM_POLKIT_GROUP
#define WINVM_POLKIT_GROUP "winvm"
#endif

static const struct {
        const char *name;
        int code;
} exit_codes[] = {
        { SD_BUS_ERROR_ACCESS_DENIED,                    EXIT_ACCESS_DENIED },
        { "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired", EXIT_ACCESS_DENIED },
        { WINVM_ERROR_NO_SUCH_VM,                        EXIT_NO_SUCH_VM },
        { WINVM_ERROR_NOT_DEFINED,                       EXIT_NO_SUCH_VM },
        { SD_BUS_ERROR_UNKNOWN_OBJECT,                   EXIT_NO_SUCH_VM },
        { WINVM_ERROR_NO_SUCH_SNAPSHOT,                  EXIT_NO_SUCH_VM },
        { WINVM_ERROR_NOT_FOUND,                         EXIT_NO_SUCH_VM },
        { WINVM_ERROR_ALREADY_RUNNING,                   EXIT_WRONG_STATE },
        { WINVM_ERROR_NOT_RUNNING,                       EXIT_WRONG_STATE },
        { WINVM_ERROR_GUEST_RUNNING,                     EXIT_WRONG_STATE },
        { WINVM_ERROR_EXISTS,                            EXIT_EXISTS },
        { WINVM_ERROR_NO_SPACE,                          EXIT_NO_SPACE },
        { WINVM_ERROR_TIMEOUT,                           EXIT_TIMEOUT },
        { SD_BUS_ERROR_NO_REPLY,                         EXIT_TIMEOUT },
        { SD_BUS_ERROR_TIMEOUT,                          EXIT_TIMEOUT },
        { WINVM_ERROR_DISCONNECTED,                      EXIT_UNAVAILABLE },
        { SD_BUS_ERROR_SERVICE_UNKNOWN,                  EXIT_UNAVAILABLE },
        { SD_BUS_ERROR_NAME_HAS_NO_OWNER,                EXIT_UNAVAILABLE },
        { WINVM_ERROR_INVALID_ARGUMENT,                  EXIT_USAGE },
        { SD_BUS_ERROR_INVALID_ARGS,                     EXIT_USAGE },
        /* Busy, Failed, Libvirt and anything else: EXIT_FAILED. */
};

int client_exit_code_for_error(const char *name) {
        for (size_t i = 0; name && i < ELEMENTSOF(exit_codes); i++)
                if (strcmp(exit_codes[i].name, name) == 0)
                        return exit_codes[i].code;
        return EXIT_FAILED;
}

int client_report_error(const sd_bus_error *error) {
        int code = client_exit_code_for_error(error->name);
        const char *message = error->message ? error->message : error->name;

        if (code == EXIT_UNAVAILABLE && error->name && strcmp(error->name, WINVM_ERROR_DISCONNECTED) != 0)
                fprintf(stderr, "winvmctl: the winvm service is not available: %s\n", message);
        else
                fprintf(stderr, "winvmctl: %s\n", message);
        /* The group grants everything but a change of the definition outside the allowlist:
         * that one needs an administrator however the caller is set up. */
        if (code == EXIT_ACCESS_DENIED && strstr(message, "org.winvm1.vm.define-unrestricted"))
                fprintf(stderr, "winvmctl: an administrator must allow this change: run the command where a polkit "
                                "agent can ask for an administrator's password, or have root run it\n");
        else if (code == EXIT_ACCESS_DENIED)
                fprintf(stderr, "winvmctl: members of the group '%s' may do this without a password; "
                                "an administrator can add you with: usermod -aG %s USER\n",
                        WINVM_POLKIT_GROUP, WINVM_POLKIT_GROUP);
        return code;
}

int client_fail(sd_bus_error *error, int r) {
        if (!sd_bus_error_is_set(error))
                sd_bus_error_set_errno(error, r);
        int code = client_report_error(error);
        sd_bus_error_free(error);
        return code;
}
