#include "lv.h"

#include <errno.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm-state.h"

struct Lv {
        char *uri;
        Mailbox *mailbox;
        LvHandlers handlers;

        /* Worker thread only. */
        virConnectPtr conn;
        int lifecycle_id;
        unsigned gen;

        pthread_t event_thread;
        atomic_bool stopping;
};

/* Letters carry copies of the handlers, not the Lv: they may be delivered after lv_free(). */
typedef struct LifecycleLetter {
        LvHandlers handlers;
        char *name;
} LifecycleLetter;

typedef struct ClosedLetter {
        Lv *lv;            /* only used on the event thread of libvirt, while lv lives */
        LvHandlers handlers;
        unsigned gen;
} ClosedLetter;

static void *event_main(void *arg) {
        Lv *lv = arg;
        while (!atomic_load(&lv->stopping))
                if (virEventRunDefaultImpl() < 0)
                        break;
        return NULL;
}

/* libvirt logs every error to stderr by default; we report them ourselves. */
static void silent_error(void *userdata, virErrorPtr error) {
        (void) userdata;
        (void) error;
}

int lv_new(Mailbox *mb, const char *uri, const LvHandlers *handlers, Lv **ret) {
        if (virInitialize() < 0 || virEventRegisterDefaultImpl() < 0)
                return -EIO;
        virSetErrorFunc(NULL, silent_error);

        Lv *lv = calloc(1, sizeof(*lv));
        if (!lv)
                return -ENOMEM;
        lv->uri = strdup(uri);
        lv->mailbox = mb;
        lv->handlers = *handlers;
        lv->lifecycle_id = -1;
        int r = pthread_create(&lv->event_thread, NULL, event_main, lv);
        if (r != 0) {
                free(lv->uri);
                free(lv);
                return -r;
        }
        (void) pthread_setname_np(lv->event_thread, "libvirt-events");
        *ret = lv;
        return 0;
}

static void wake_timeout(int timer, void *opaque) {
        (void) opaque;
        virEventRemoveTimeout(timer);
}

Lv *lv_free(Lv *lv) {
        if (!lv)
                return NULL;
        lv_disconnect(lv);
        atomic_store(&lv->stopping, true);
        /* An immediate timer makes virEventRunDefaultImpl() return so the thread sees the flag. */
        virEventAddTimeout(0, wake_timeout, NULL, NULL);
        pthread_join(lv->event_thread, NULL);
        free(lv->uri);
        free(lv);
        return NULL;
}

void lv_error_clear(LvError *err) {
        free(err->message);
        err->message = NULL;
        err->code = 0;
}

static int capture_error(LvError *err) {
        virErrorPtr e = virGetLastError();
        if (err) {
                free(err->message);
                err->code = e ? e->code : VIR_ERR_INTERNAL_ERROR;
                err->message = strdup(e && e->message ? e->message : "unknown libvirt error");
        }
        virResetLastError();
        return -EIO;
}

static void deliver_lifecycle(void *userdata) {
        LifecycleLetter *l = userdata;
        l->handlers.lifecycle(l->handlers.userdata, l->name);
        free(l);
}

static int on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque) {
        Lv *lv = opaque;
        (void) conn;
        (void) event;
        (void) detail;
        LifecycleLetter *l = calloc(1, sizeof(*l));
        if (!l)
                return 0;
        l->handlers = lv->handlers;
        l->name = strdup(virDomainGetName(dom));
        if (mailbox_post(lv->mailbox, deliver_lifecycle, l) < 0) {
                free(l->name);
                free(l);
        }
        return 0;
}

static void deliver_closed(void *userdata) {
        ClosedLetter *l = userdata;
        l->handlers.closed(l->handlers.userdata, l->gen);
        free(l);
}

static void on_close(virConnectPtr conn, int reason, void *opaque) {
        (void) conn;
        (void) reason;
        ClosedLetter *l = opaque;
        ClosedLetter *copy = malloc(sizeof(*copy));
        if (!copy)
                return;
        *copy = *l;
        if (mailbox_post(l->lv->mailbox, deliver_closed, copy) < 0)
                free(copy);
}

void lv_disconnect(Lv *lv) {
        if (!lv->conn)
                return;
        if (lv->lifecycle_id >= 0)
                virConnectDomainEventDeregisterAny(lv->conn, lv->lifecycle_id);
        lv->lifecycle_id = -1;
        virConnectUnregisterCloseCallback(lv->conn, on_close);
        virConnectClose(lv->conn);
        lv->conn = NULL;
        virResetLastError();
}

int lv_connect(Lv *lv, unsigned *ret_gen, LvError *err) {
        lv_disconnect(lv);

        virConnectPtr conn = virConnectOpen(lv->uri);
        if (!conn)
                return capture_error(err);

        ClosedLetter *closed = malloc(sizeof(*closed));
        if (!closed) {
                virConnectClose(conn);
                return -ENOMEM;
        }
        closed->lv = lv;
        closed->handlers = lv->handlers;
        closed->gen = ++lv->gen;

        /* Keepalive notices a libvirtd that hangs; a dead socket is noticed at once. */
        (void) virConnectSetKeepAlive(conn, 5, 3);
        if (virConnectRegisterCloseCallback(conn, on_close, closed, free) < 0) {
                free(closed);
                capture_error(err);
                virConnectClose(conn);
                return -EIO;
        }
        int id = virConnectDomainEventRegisterAny(conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                                  VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), lv, NULL);
        if (id < 0) {
                capture_error(err);
                virConnectUnregisterCloseCallback(conn, on_close);
                virConnectClose(conn);
                return -EIO;
        }
        lv->conn = conn;
        lv->lifecycle_id = id;
        *ret_gen = lv->gen;
        return 0;
}

static virDomainPtr lookup(Lv *lv, const char *name, LvError *err, int *ret) {
        if (!lv->conn) {
                *ret = -ENOTCONN;
                return NULL;
        }
        virDomainPtr dom = virDomainLookupByName(lv->conn, name);
        if (!dom) {
                virErrorPtr e = virGetLastError();
                if (e && e->code == VIR_ERR_NO_DOMAIN) {
                        virResetLastError();
                        *ret = -ENOENT;
                } else
                        *ret = capture_error(err);
        }
        return dom;
}

int lv_query(Lv *lv, const char *name, LvDomainInfo *info, LvError *err) {
        int r;
        memset(info, 0, sizeof(*info));
        virDomainPtr dom = lookup(lv, name, err, &r);
        if (!dom)
                return r == -ENOENT ? 0 : r;

        virDomainInfo di;
        int autostart = 0;
        r = 0;
        if (virDomainGetUUIDString(dom, info->uuid) < 0 ||
            virDomainGetState(dom, &info->state, &info->reason, 0) < 0 ||
            virDomainGetAutostart(dom, &autostart) < 0 ||
            virDomainGetInfo(dom, &di) < 0)
                r = capture_error(err);
        else {
                info->defined = true;
                info->autostart = autostart;
                info->vcpus = di.nrVirtCpu;
                info->memory_mib = di.maxMem / 1024;
        }
        virDomainFree(dom);
        return r;
}

static int domain_xml(Lv *lv, const char *name, unsigned flags, char **ret_xml, LvError *err) {
        int r;
        virDomainPtr dom = lookup(lv, name, err, &r);
        if (!dom)
                return r;
        char *xml = virDomainGetXMLDesc(dom, flags);
        r = xml ? 0 : capture_error(err);
        virDomainFree(dom);
        *ret_xml = xml;
        return r;
}

int lv_domain_xml(Lv *lv, const char *name, char **ret_xml, LvError *err) {
        return domain_xml(lv, name, VIR_DOMAIN_XML_INACTIVE, ret_xml, err);
}

int lv_domain_xml_live(Lv *lv, const char *name, char **ret_xml, LvError *err) {
        /* Without VIR_DOMAIN_XML_SECURE libvirt leaves passwords out. */
        return domain_xml(lv, name, 0, ret_xml, err);
}

int lv_action(Lv *lv, const char *name, LvAction action, LvError *err) {
        int r, state = 0, reason = 0;
        virDomainPtr dom = lookup(lv, name, err, &r);
        if (!dom)
                return r;

        /* Decide named errors from libvirt's own state rather than parsing its messages. */
        if (virDomainGetState(dom, &state, &reason, 0) < 0) {
                r = capture_error(err);
                goto finish;
        }
        bool active = vm_state_is_active(state);
        if (action == LV_START && active) {
                r = -EALREADY;
                goto finish;
        }
        if (action != LV_START && !active) {
                r = -ESRCH;
                goto finish;
        }

        switch (action) {
        case LV_START:
                r = virDomainCreate(dom);
                break;
        case LV_SHUTDOWN:
                r = virDomainShutdownFlags(dom, VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN);
                break;
        case LV_FORCE_STOP:
                r = virDomainDestroy(dom);
                break;
        case LV_REBOOT:
                r = virDomainReboot(dom, VIR_DOMAIN_REBOOT_ACPI_POWER_BTN);
                break;
        }
        if (r < 0) {
                /* The guest may have stopped between the state check and the call. */
                virErrorPtr e = virGetLastError();
                if (action != LV_START && e && e->code == VIR_ERR_OPERATION_INVALID &&
                    virDomainGetState(dom, &state, &reason, 0) == 0 && !vm_state_is_active(state)) {
                        virResetLastError();
                        r = -ESRCH;
                } else
                        r = capture_error(err);
        }
finish:
        virDomainFree(dom);
        return r;
}
