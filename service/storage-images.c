/* Storage.GetImages: each VM's disk images and whether btrfs can protect them. A file marked
 * NOCOW (chattr +C) carries no checksums, so a scrub cannot see rot in it. The definition
 * comes from libvirt on its worker; the flags are read on the storage worker. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "daemon.h"
#include "domain-xml.h"
#include "safe-files.h"
#include "scrub.h"
#include "util.h"

typedef struct Image {
        char *vm;
        char *path;
        int exists;
        int nocow;
        char *error;
} Image;

typedef struct ImagesCall {
        Daemon *daemon;
        sd_bus_message *message;
        CallTicket ticket;      /* held from the call to its reply, over both workers */
        Image *images;
        size_t n_images;
} ImagesCall;

static void add_image(ImagesCall *c, const char *vm, const char *path, const char *error) {
        Image *l = realloc(c->images, (c->n_images + 1) * sizeof(Image));
        if (!l)
                return;
        c->images = l;
        c->images[c->n_images++] = (Image) {
                .vm = strdup(vm), .path = strdup(path), .error = strdup(error ? error : ""),
        };
}

static void list_work(void *userdata) {
        ImagesCall *c = userdata;
        Daemon *d = c->daemon;
        for (size_t i = 0; i < d->n_vms; i++) {
                _cleanup_free_ char *xml = NULL;
                _cleanup_(strv_freep) char **files = NULL;
                LvError err = { 0 };
                int r = lv_domain_xml(d->lv, d->vms[i]->name, &xml, &err);
                if (r == 0 && domain_xml_disk_files(xml, &files) == 0)
                        for (char **f = files; *f; f++)
                                add_image(c, d->vms[i]->name, *f, NULL);
                else if (r != -ENOENT)
                        add_image(c, d->vms[i]->name, "", err.message ? err.message : "cannot read the definition");
                lv_error_clear(&err);
        }
}

static void flags_work(void *userdata) {
        ImagesCall *c = userdata;
        for (size_t i = 0; i < c->n_images; i++) {
                Image *img = &c->images[i];
                if (img->path[0] == '\0')
                        continue;
                int r = file_nocow(img->path);
                if (r < 0) {
                        free(img->error);
                        img->error = strdup(strerror(-r));
                        continue;
                }
                img->exists = 1;
                img->nocow = r;
        }
}

static void reply_done(void *userdata) {
        ImagesCall *c = userdata;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        daemon_call_leave(c->daemon, &c->ticket);
        int r = sd_bus_message_new_method_return(c->message, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(ssbbs)");
        for (size_t i = 0; r >= 0 && i < c->n_images; i++)
                r = sd_bus_message_append(reply, "(ssbbs)", c->images[i].vm, c->images[i].path, c->images[i].exists,
                                          c->images[i].nocow, c->images[i].error);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                (void) sd_bus_send(NULL, reply, NULL);
        else
                (void) sd_bus_reply_method_errno(c->message, -r, NULL);

        daemon_busy_dec(c->daemon);
        for (size_t i = 0; i < c->n_images; i++) {
                free(c->images[i].vm);
                free(c->images[i].path);
                free(c->images[i].error);
        }
        free(c->images);
        sd_bus_message_unref(c->message);
        free(c);
}

static void list_done(void *userdata) {
        ImagesCall *c = userdata;
        if (worker_submit(c->daemon->storage_worker, flags_work, reply_done, c) < 0)
                reply_done(c);
}

int storage_method_get_images(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        int r = storage_verify_read(d, m, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        ImagesCall *c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        r = daemon_call_enter(d, m, true, &c->ticket, error);
        if (r < 0) {
                free(c);
                return r;
        }
        c->daemon = d;
        c->message = sd_bus_message_ref(m);
        daemon_busy_inc(d);
        /* Without libvirt there is no definition to read: answer with what we know, nothing. */
        if ((!d->connected && !d->connecting) || worker_submit(d->worker, list_work, list_done, c) < 0)
                list_done(c);
        return 1;
}
