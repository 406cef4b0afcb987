#include "snapshot-intent.h"

#include <errno.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"

static char *dup0(const char *s) {
        return strdup(s ? s : "");
}

Intent *intent_new(const char *op, const char *name) {
        Intent *in = calloc(1, sizeof(*in));
        if (!in)
                return NULL;
        in->op = dup0(op);
        in->name = dup0(name);
        in->kept = dup0(NULL);
        in->parent = dup0(NULL);
        in->description = dup0(NULL);
        in->guest_state = dup0("shutoff");
        in->nvram = dup0(NULL);
        in->tpm = dup0(NULL);
        if (!in->op || !in->name || !in->kept || !in->parent || !in->description || !in->guest_state ||
            !in->nvram || !in->tpm)
                return intent_free(in);
        return in;
}

Intent *intent_free(Intent *in) {
        if (!in)
                return NULL;
        for (size_t i = 0; i < in->n_disks; i++) {
                IntentDisk *d = &in->disks[i];
                free(d->target);
                free(d->image);
                free(d->overlay);
                free(d->stem);
                free(d->backing);
                free(d->backing_format);
                free(d->image_format);
        }
        free(in->disks);
        free(in->op);
        free(in->name);
        free(in->kept);
        free(in->parent);
        free(in->description);
        free(in->guest_state);
        free(in->nvram);
        free(in->tpm);
        free(in);
        return NULL;
}

IntentDisk *intent_add_disk(Intent *in, const char *target, const char *image, const char *overlay,
                            const char *stem, const char *backing, const char *backing_format) {
        IntentDisk *disks = realloc(in->disks, (in->n_disks + 1) * sizeof(IntentDisk));
        if (!disks)
                return NULL;
        in->disks = disks;
        IntentDisk *d = &disks[in->n_disks];
        *d = (IntentDisk) {
                .target = dup0(target),
                .image = dup0(image),
                .overlay = dup0(overlay),
                .stem = dup0(stem),
                .backing = dup0(backing),
                .backing_format = dup0(backing_format),
                .image_format = dup0(NULL),
        };
        in->n_disks++;
        if (!d->target || !d->image || !d->overlay || !d->stem || !d->backing || !d->backing_format || !d->image_format)
                return NULL;
        return d;
}

int intent_format(const Intent *in, char **ret_data) {
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autofree char *created = g_strdup_printf("%" G_GUINT64_FORMAT, (guint64) in->created_usec);
        g_key_file_set_string(kf, "Intent", "Op", in->op);
        g_key_file_set_string(kf, "Intent", "Name", in->name);
        g_key_file_set_string(kf, "Intent", "Kept", in->kept);
        g_key_file_set_string(kf, "Intent", "Parent", in->parent);
        g_key_file_set_string(kf, "Intent", "Description", in->description);
        g_key_file_set_string(kf, "Intent", "GuestState", in->guest_state);
        g_key_file_set_string(kf, "Intent", "Created", created);
        g_key_file_set_string(kf, "Intent", "NVRAM", in->nvram);
        g_key_file_set_string(kf, "Intent", "TPM", in->tpm);
        for (size_t i = 0; i < in->n_disks; i++) {
                const IntentDisk *d = &in->disks[i];
                g_autofree char *group = g_strconcat("Disk ", d->target, NULL);
                g_key_file_set_string(kf, group, "Image", d->image);
                g_key_file_set_string(kf, group, "Overlay", d->overlay);
                g_key_file_set_string(kf, group, "Stem", d->stem);
                g_key_file_set_string(kf, group, "Backing", d->backing);
                g_key_file_set_string(kf, group, "BackingFormat", d->backing_format);
                g_key_file_set_string(kf, group, "ImageFormat", d->image_format);
        }
        g_autofree char *data = g_key_file_to_data(kf, NULL, NULL);
        *ret_data = data ? strdup(data) : NULL;
        return *ret_data ? 0 : -ENOMEM;
}

static bool take(GKeyFile *kf, const char *group, const char *key, char **field) {
        char *v = g_key_file_get_string(kf, group, key, NULL);
        if (!v)
                return false;
        free(*field);
        *field = strdup(v);
        g_free(v);
        return *field != NULL;
}

int intent_parse(const char *data, Intent **ret, char **ret_error) {
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autoptr(GError) err = NULL;
        *ret_error = NULL;
        if (!g_key_file_load_from_data(kf, data, strlen(data), G_KEY_FILE_NONE, &err)) {
                *ret_error = strdup(err->message);
                return -EBADMSG;
        }
        Intent *in = intent_new(NULL, NULL);
        if (!in)
                return -ENOMEM;
        g_autofree char *created = g_key_file_get_string(kf, "Intent", "Created", NULL);
        guint64 usec = 0;
        bool ok = take(kf, "Intent", "Op", &in->op) && take(kf, "Intent", "Name", &in->name) &&
                  take(kf, "Intent", "Kept", &in->kept) && take(kf, "Intent", "Parent", &in->parent) &&
                  take(kf, "Intent", "Description", &in->description) &&
                  take(kf, "Intent", "GuestState", &in->guest_state) && take(kf, "Intent", "NVRAM", &in->nvram) &&
                  take(kf, "Intent", "TPM", &in->tpm) && created &&
                  g_ascii_string_to_unsigned(created, 10, 0, UINT64_MAX, &usec, NULL);
        in->created_usec = usec;
        ok = ok && (strcmp(in->op, "create") == 0 || strcmp(in->op, "revert") == 0 || strcmp(in->op, "delete") == 0) &&
             snapshot_name_is_valid(in->name) && (!in->kept[0] || snapshot_name_is_valid(in->kept));

        g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);
        for (char **g = groups; ok && *g; g++) {
                if (strcmp(*g, "Intent") == 0)
                        continue;
                ok = strncmp(*g, "Disk ", 5) == 0 && disk_target_is_valid(*g + 5);
                IntentDisk *d = ok ? intent_add_disk(in, *g + 5, NULL, NULL, NULL, NULL, NULL) : NULL;
                ok = d && take(kf, *g, "Image", &d->image) && take(kf, *g, "Overlay", &d->overlay) &&
                     take(kf, *g, "Stem", &d->stem) && take(kf, *g, "Backing", &d->backing) &&
                     take(kf, *g, "BackingFormat", &d->backing_format) && d->image[0] == '/' &&
                     (take(kf, *g, "ImageFormat", &d->image_format) || true) &&
                     (!d->overlay[0] || d->overlay[0] == '/') && (!d->backing[0] || d->backing[0] == '/') &&
                     d->stem[0] && !strchr(d->stem, '/') && strcmp(d->stem, "..") != 0 && strcmp(d->stem, ".") != 0;
        }
        if (!ok || in->n_disks == 0) {
                *ret_error = strdup("the intent record is incomplete or damaged");
                intent_free(in);
                return -EBADMSG;
        }
        *ret = in;
        return 0;
}
