/* libvirt-floor: the memory floor of any process that watches the guest through libvirt.
 *
 * It does what winvmd needs libvirt for at rest and nothing else: libvirt's default event
 * loop on a thread, one connection, the guest looked up, its state read once and its
 * lifecycle events watched. Then it prints "ready" and waits to be killed (SIGTERM), so that
 * `bus-bench rss` can read its resident memory beside winvmd's and libvirt-dbus's: whatever
 * winvmd adds to libvirt shows as the difference.
 *
 * Usage: libvirt-floor [URI [VM]]   (defaults qemu:///system and Windows11) */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <libvirt/libvirt.h>

static void *run_event_loop(void *userdata) {
        (void) userdata;
        for (;;)
                if (virEventRunDefaultImpl() < 0)
                        return NULL;
}

static int on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque) {
        (void) conn;
        (void) dom;
        (void) event;
        (void) detail;
        (void) opaque;
        return 0;
}

int main(int argc, char **argv) {
        const char *uri = argc > 1 ? argv[1] : "qemu:///system";
        const char *name = argc > 2 ? argv[2] : "Windows11";
        pthread_t loop;
        int state, reason;

        if (virEventRegisterDefaultImpl() < 0 || pthread_create(&loop, NULL, run_event_loop, NULL) != 0) {
                fprintf(stderr, "libvirt-floor: cannot start libvirt's event loop\n");
                return EXIT_FAILURE;
        }
        virConnectPtr conn = virConnectOpen(uri);
        virDomainPtr dom = conn ? virDomainLookupByName(conn, name) : NULL;
        if (!dom || virDomainGetState(dom, &state, &reason, 0) < 0 ||
            virConnectDomainEventRegisterAny(conn, dom, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                             VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), NULL, NULL) < 0) {
                fprintf(stderr, "libvirt-floor: cannot watch %s on %s\n", name, uri);
                return EXIT_FAILURE;
        }
        printf("ready\n");
        fflush(stdout);
        for (;;)
                pause(); /* until a signal ends it: the kernel frees what is left */
}
