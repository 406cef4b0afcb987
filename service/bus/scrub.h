/* btrfs scrubs of the configured filesystems as Jobs: one thread per device runs the
 * blocking scrub ioctl, the host worker polls progress and cancels, and the event thread
 * sums it all up and keeps the verdict in the state folder. */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "scrub-result.h"

typedef struct Daemon Daemon;
typedef struct Scrub Scrub;

typedef struct StorageFs {
        Daemon *daemon;
        char *name;
        char *mount_point;
        ScrubResult last;
        bool has_last;
        Scrub *running;
} StorageFs;

int storage_init(Daemon *d);
void storage_done(Daemon *d);

/* Starts a scrub for the caller of m; replies with the Job path or a named error. */
void scrub_start(StorageFs *fs, sd_bus_message *m, bool readonly, uid_t uid);

const char *scrub_job_path(const Scrub *s);

/* storage-dbus.c: polkit's org.winvm1.storage.read for a Storage method (cached per caller);
 * returns like bus_polkit_check(). */
int storage_verify_read(Daemon *d, sd_bus_message *m, sd_bus_error *error);

/* storage-images.c */
int storage_method_get_images(sd_bus_message *m, void *userdata, sd_bus_error *error);

/* storage-schedule.c */
int storage_method_get_scrub_schedule(sd_bus_message *m, void *userdata, sd_bus_error *error);
int storage_property_get_scrub_interval(sd_bus *bus, const char *path, const char *interface, const char *property,
                                        sd_bus_message *reply, void *userdata, sd_bus_error *error);

extern const sd_bus_vtable storage_vtable[];
