/* Which of winvmd's two names winvmctl calls. Members of the polkit group (and root) call
 * WINVM_MEMBERS_BUS_NAME, which the bus lets nobody else call, so their calls never wait
 * behind other users' calls; everyone else, or a member the bus does not count in the group
 * (yet), calls WINVM_BUS_NAME. Signals always come from WINVM_BUS_NAME. */
#include <grp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "client.h"

const char *client_bus_name = WINVM_BUS_NAME;

static bool process_in_group(const char *group) {
        struct group *g = getgrnam(group);
        if (!g)
                return false;
        if (getegid() == g->gr_gid)
                return true;
        int n = getgroups(0, NULL);
        if (n <= 0)
                return false;
        gid_t *gids = calloc((size_t) n, sizeof(gid_t));
        bool found = false;
        if (gids && (n = getgroups(n, gids)) > 0)
                for (int i = 0; i < n && !found; i++)
                        found = gids[i] == g->gr_gid;
        free(gids);
        return found;
}

void client_choose_bus_name(sd_bus *bus) {
        if (geteuid() != 0 && !process_in_group(WINVM_POLKIT_GROUP))
                return;
        /* The bus answers AccessDenied when its policy does not admit this process, and
         * ServiceUnknown when no winvmd provides the name; a Ping also starts winvmd by
         * activation, as the call that follows would. */
        sd_bus_error error = SD_BUS_ERROR_NULL;
        if (sd_bus_call_method(bus, WINVM_MEMBERS_BUS_NAME, "/org/winvm1", "org.freedesktop.DBus.Peer", "Ping", &error,
                               NULL, "") >= 0)
                client_bus_name = WINVM_MEMBERS_BUS_NAME;
        sd_bus_error_free(&error);
}
