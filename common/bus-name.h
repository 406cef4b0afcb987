/* The bus name winvmd owns and its clients call. meson's bus_name option sets it, so that a
 * development build can own another name beside the installed service. */
#pragma once

#ifndef WINVM_BUS_NAME
#define WINVM_BUS_NAME "org.winvm1"
#endif
