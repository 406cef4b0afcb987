/* winvmctl doctor --fix [ID...]: Manager.Repair for --vm (or the first VM), then the result.
 * Without ids, every repair whose setting is not right yet. */
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "client-errors.h"
#include "util.h"

#define FIX_IDS_MAX 16

int cmd_doctor_fix(sd_bus *bus, const ClientOptions *o) {
        /* "as" reads its count, then that many strings: pass the ids padded to the maximum. */
        const char *ids[FIX_IDS_MAX] = { 0 };
        unsigned n = 0;
        for (char **i = o->fix_ids; i && *i && n < FIX_IDS_MAX; i++)
                ids[n++] = *i;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r = client_call(bus, o, "/org/winvm1", "org.winvm1.Manager", "Repair", CLIENT_CHANGE_TIMEOUT, &reply, "sas",
                            o->vm ? o->vm : "", n, ids[0], ids[1], ids[2], ids[3], ids[4], ids[5], ids[6], ids[7],
                            ids[8], ids[9], ids[10], ids[11], ids[12], ids[13], ids[14], ids[15]);
        if (r < 0)
                return -r;
        _cleanup_(strv_freep) char **repaired = NULL;
        const char *result = NULL;
        r = sd_bus_message_read_strv(reply, &repaired);
        if (r >= 0)
                r = sd_bus_message_read(reply, "s", &result);
        if (r < 0)
                return client_fail(NULL, r);
        if (o->json)
                client_print_list_and_result("repaired", repaired, result);
        else
                printf("%s\n", result);
        return EXIT_OK;
}
