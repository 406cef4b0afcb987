/* The bus name winvmd owns and its clients call. meson's bus_name option sets it, so that a
 * development build can own another name beside the installed service. */
#pragma once

#ifndef WINVM_BUS_NAME
#define WINVM_BUS_NAME "org.winvm1"
#endif

/* The same objects under a second name that the bus policy lets only the polkit group (and
 * root) call: members' calls never queue behind anyone else's (dbus/org.winvm1.conf.in). */
#define WINVM_MEMBERS_BUS_NAME WINVM_BUS_NAME ".Members"
