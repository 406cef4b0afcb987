/* The libvirt connection of the worker thread a task runs on, for the workers other than the
 * libvirt one (whose connection lv.c keeps, with its events): one per worker, never per call. */
#pragma once

#include <libvirt/libvirt.h>

/* Worker thread only. The thread's connection to uri: opened on first use and kept for every
 * later task, opened anew when it died (libvirtd restarted, as the main connection reconnects)
 * or uri changed, closed when the thread ends. Never close it. NULL, with libvirt's last error
 * set, when libvirtd cannot be reached. */
virConnectPtr worker_libvirt(const char *uri);
