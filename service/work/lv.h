/* The libvirt side: one connection used only from the libvirt worker thread, and libvirt's
 * default event loop serviced on a thread of its own so lifecycle events and keepalives flow.
 * Event callbacks never touch daemon state: they hand a letter to the mailbox. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "mailbox.h"

typedef struct Lv Lv;

typedef struct LvError {
        int code;        /* virErrorNumber */
        char *message;   /* libvirt's message, malloc'd */
} LvError;

typedef struct LvDomainInfo {
        bool defined;
        char uuid[37];
        int state, reason;   /* virDomainState and its reason */
        bool autostart;
        unsigned vcpus;
        uint64_t memory_mib;
} LvDomainInfo;

typedef enum LvAction {
        LV_START,
        LV_SHUTDOWN,
        LV_FORCE_STOP,
        LV_REBOOT,
} LvAction;

typedef struct LvHandlers {
        /* Run on the event thread through the mailbox. name is malloc'd and owned by the callee. */
        void (*lifecycle)(void *userdata, char *name);
        /* The connection of generation gen went away. */
        void (*closed)(void *userdata, unsigned gen);
        void *userdata;
} LvHandlers;

int lv_new(Mailbox *mb, const char *uri, const LvHandlers *handlers, Lv **ret);
Lv *lv_free(Lv *lv);

/* Worker thread only. */
int lv_connect(Lv *lv, unsigned *ret_gen, LvError *err);
void lv_disconnect(Lv *lv);
int lv_query(Lv *lv, const char *name, LvDomainInfo *info, LvError *err);
/* The persistent definition's XML; -ENOENT when not defined. */
int lv_domain_xml(Lv *lv, const char *name, char **ret_xml, LvError *err);
/* The definition the VM runs with (the persistent one when it is off), without secrets such
 * as graphics passwords; -ENOENT when not defined. */
int lv_domain_xml_live(Lv *lv, const char *name, char **ret_xml, LvError *err);
/* 0 on success; -EALREADY (already running), -ESRCH (not running), -ENOENT (not defined),
 * -ENOTCONN (no connection) or -EIO with err filled from libvirt. */
int lv_action(Lv *lv, const char *name, LvAction action, LvError *err);

void lv_error_clear(LvError *err);
