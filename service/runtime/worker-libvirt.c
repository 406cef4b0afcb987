/* One libvirt connection per worker thread, kept in thread-specific data so the thread's end
 * closes it and worker.c stays free of libvirt. */
#include <pthread.h>
#include <stdlib.h>
#include <libvirt/virterror.h>

#include "util.h"
#include "worker-libvirt.h"

typedef struct WorkerConn {
        virConnectPtr conn;
        char *uri;
} WorkerConn;

static pthread_key_t conn_key;
static pthread_once_t conn_key_once = PTHREAD_ONCE_INIT;

static void conn_free(void *p) {
        WorkerConn *c = p;
        if (c->conn)
                virConnectClose(c->conn);
        free(c->uri);
        free(c);
}

static void conn_key_make(void) {
        (void) pthread_key_create(&conn_key, conn_free);
}

virConnectPtr worker_libvirt(const char *uri) {
        (void) pthread_once(&conn_key_once, conn_key_make);
        WorkerConn *c = pthread_getspecific(conn_key);
        if (!c) {
                c = calloc(1, sizeof(*c));
                if (!c || pthread_setspecific(conn_key, c) != 0) {
                        free(c);
                        return NULL;
                }
        }
        /* libvirt's event loop (lv.c) sees the socket close when libvirtd goes away. */
        if (c->conn && (!streq_ptr(c->uri, uri) || virConnectIsAlive(c->conn) != 1)) {
                virConnectClose(c->conn);
                c->conn = NULL;
                virResetLastError();
        }
        if (!c->conn) {
                free(c->uri);
                c->uri = uri ? strdup(uri) : NULL;
                if (uri && !c->uri)
                        return NULL;
                c->conn = virConnectOpen(uri);
        }
        return c->conn;
}
