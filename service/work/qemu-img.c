#include "qemu-img.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>
#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdlib.h>
#include <string.h>

#include "safe-files.h"
#include "spawn.h"
#include "util.h"

const char *qemu_img_binary(void) {
        const char *e = getenv("WINVM_QEMU_IMG");
        return e && *e ? e : "qemu-img";
}

bool qemu_img_format_is_known(const char *format) {
        return format && (strcmp(format, "raw") == 0 || strcmp(format, "qcow2") == 0);
}

void image_info_clear(ImageInfo *info) {
        free(info->format);
        free(info->backing);
        free(info->backing_format);
        *info = (ImageInfo) { 0 };
}

/* Runs qemu-img with argv (argv[0] is filled in); stdout in *ret_out when asked. */
static int run(const char **argv, char **ret_out, char **ret_message) {
        argv[0] = qemu_img_binary();
        int r = spawn_sync_files_only(argv, ret_out, ret_message);
        if (r == -EIO && *ret_message && strstr(*ret_message, "No space left on device"))
                return -ENOSPC;
        return r;
}

static char *member_string(JsonObject *o, const char *name) {
        const char *v = json_object_has_member(o, name) ? json_object_get_string_member(o, name) : NULL;
        return v ? strdup(v) : NULL;
}

static int unknown_format(const char *format, char **ret_message) {
        *ret_message = g_strdup_printf("image format '%s' is not one winvm handles (raw, qcow2)", format ? format : "");
        return -EINVAL;
}

int qemu_img_info(const char *path, const char *format, ImageInfo *ret, char **ret_message) {
        if (!qemu_img_format_is_known(format))
                return unknown_format(format, ret_message);
        if (strcmp(format, "raw") == 0) {
                *ret = (ImageInfo) { .format = strdup("raw") };
                return ret->format ? 0 : -ENOMEM;
        }
        const char *argv[] = { NULL, "info", "-f", format, "--force-share", "--output=json", "--", path, NULL };
        _cleanup_free_ char *out = NULL;
        int r = run(argv, &out, ret_message);
        if (r < 0)
                return r;
        g_autoptr(JsonParser) parser = json_parser_new();
        JsonNode *root;
        if (!json_parser_load_from_data(parser, out, -1, NULL) || !(root = json_parser_get_root(parser)) ||
            !JSON_NODE_HOLDS_OBJECT(root)) {
                *ret_message = strdup("qemu-img info printed something that is not JSON");
                return -EBADMSG;
        }
        JsonObject *o = json_node_get_object(root);
        gint64 size = json_object_has_member(o, "virtual-size") ? json_object_get_int_member(o, "virtual-size") : 0;
        *ret = (ImageInfo) {
                .virtual_size = size > 0 ? (uint64_t) size : 0,
                .format = member_string(o, "format"),
                .backing = member_string(o, "full-backing-filename"),
                .backing_format = member_string(o, "backing-filename-format"),
        };
        if (!ret->backing)
                ret->backing = member_string(o, "backing-filename");
        return 0;
}

int qemu_img_create_overlay(const char *path, const char *backing, const char *backing_format,
                            char **ret_message) {
        if (path_exists(path)) {
                *ret_message = strdup("the file exists");
                return -EEXIST;
        }
        ImageInfo info = { 0 };
        int r = qemu_img_info(backing, backing_format, &info, ret_message);
        if (r < 0)
                return r;
        if (info.virtual_size == 0 && strcmp(backing_format, "raw") == 0) {
                struct stat st;
                if (stat(backing, &st) < 0) {
                        image_info_clear(&info);
                        *ret_message = g_strdup_printf("%s: %s", backing, strerror(errno));
                        return -errno;
                }
                info.virtual_size = (uint64_t) st.st_size;
        }
        char size[32];
        snprintf(size, sizeof(size), "%" PRIu64, info.virtual_size);
        image_info_clear(&info);
        /* -u: the size is given, so qemu-img does not open the backing file (and its chain). */
        const char *argv[] = { NULL, "create", "-q", "-f", "qcow2", "-u", "-b", backing, "-F", backing_format, "--",
                               path, size, NULL };
        r = run(argv, NULL, ret_message);
        if (r < 0)
                (void) remove_tree(path);  /* a failed create may leave a truncated header */
        return r;
}

int qemu_img_rebase(const char *image, const char *new_backing, const char *new_backing_format,
                    char **ret_message) {
        if (new_backing && !qemu_img_format_is_known(new_backing_format))
                return unknown_format(new_backing_format, ret_message);
        const char *with[] = { NULL, "rebase", "-q", "-f", "qcow2", "-b", new_backing, "-F", new_backing_format,
                               "--", image, NULL };
        const char *without[] = { NULL, "rebase", "-q", "-f", "qcow2", "-b", "", "--", image, NULL };
        return run(new_backing ? with : without, NULL, ret_message);
}

int qemu_img_commit(const char *image, char **ret_message) {
        const char *argv[] = { NULL, "commit", "-q", "-f", "qcow2", "-d", "--", image, NULL };
        return run(argv, NULL, ret_message);
}
