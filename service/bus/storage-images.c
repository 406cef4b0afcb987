/* Storage.GetImages: each VM's disk images and whether btrfs can protect them. A file marked
 * NOCOW (chattr +C) carries no checksums, so a scrub cannot see rot in it. The definition
 * comes from libvirt on its worker; the flags are read on the host worker. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "daemon.h"
#include "domain-xml.h"
#include "operation.h"
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

typedef struct Images {
        Image *items;
        size_t n;
} Images;

static void add_image(Images *c, const char *vm, const char *path, const char *error) {
        Image *l = realloc(c->items, (c->n + 1) * sizeof(Image));
        if (!l)
                return;
        c->items = l;
        c->items[c->n++] = (Image) {
                .vm = strdup(vm), .path = strdup(path), .error = strdup(error ? error : ""),
        };
}

static void images_free(void *data) {
        Images *c = data;
        for (size_t i = 0; i < c->n; i++) {
                free(c->items[i].vm);
                free(c->items[i].path);
                free(c->items[i].error);
        }
        free(c->items);
        free(c);
}

static void flags_work(Operation *op, void *data) {
        Images *c = data;
        (void) op;
        for (size_t i = 0; i < c->n; i++) {
                Image *img = &c->items[i];
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

static void list_work(Operation *op, void *data) {
        Images *c = data;
        Daemon *d = op_daemon(op);
        for (size_t i = 0; i < d->n_vms; i++) {
                _cleanup_free_ char *xml = NULL;
                _cleanup_(strv_freep) char **files = NULL;
                LvError err = { 0 };
                int r = lv_domain_xml(op_lv(op), d->vms[i]->name, &xml, &err);
                if (r == 0 && domain_xml_disk_files(xml, &files) == 0)
                        for (char **f = files; *f; f++)
                                add_image(c, d->vms[i]->name, *f, NULL);
                else if (r != -ENOENT)
                        add_image(c, d->vms[i]->name, "", err.message ? err.message : "cannot read the definition");
                lv_error_clear(&err);
        }
        op_then(op, d->host_worker, flags_work);
}

static int images_reply(Operation *op, sd_bus_message *reply, void *data) {
        Images *c = data;
        (void) op;
        int r = sd_bus_message_open_container(reply, 'a', "(ssbbs)");
        for (size_t i = 0; r >= 0 && i < c->n; i++)
                r = sd_bus_message_append(reply, "(ssbbs)", c->items[i].vm, c->items[i].path, c->items[i].exists,
                                          c->items[i].nocow, c->items[i].error);
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

int storage_method_get_images(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        int r = storage_verify_read(d, m, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        Images *c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        const OpOptions o = { .free_data = images_free, .share = "Storage.GetImages" };
        /* Without libvirt there is no definition to read: answer with what we know, nothing. */
        if (!d->connected && !d->connecting)
                return op_submit(d, d->host_worker, m, NULL, flags_work, images_reply, c, &o, error);
        return op_submit(d, d->worker, m, NULL, list_work, images_reply, c, &o, error);
}
