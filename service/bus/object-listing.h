/* ObjectManager.GetManagedObjects for /org/winvm1, built from bus-objects.h. */
#pragma once

#include <systemd/sd-bus.h>

typedef struct Daemon Daemon;

/* Replies to the GetManagedObjects call; 1 when a reply (or error reply) went out. */
int object_listing_reply(Daemon *d, sd_bus_message *call);
