#include "qemu-img.h"

#include <errno.h>
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

void image_info_clear(ImageInfo *info) {
        free(info->format);
        free(info->backing);
        free(info->backing_format);
        *info = (ImageInfo) { 0 };
}

/* Runs qemu-img with argv (argv[0] is filled in); stdout in *ret_out when asked. */
static int run(const char **argv, char **ret_out, char **ret_message) {
        argv[0] = qemu_img_binary();
        int r = spawn_sync(argv, ret_out, ret_message);
        if (r == -EIO && *ret_message && strstr(*ret_message, "No space left on device"))
                return -ENOSPC;
        return r;
}

static char *member_string(JsonObject *o, const char *name) {
        const char *v = json_object_has_member(o, name) ? json_object_get_string_member(o, name) : NULL;
        return v ? strdup(v) : NULL;
}

int qemu_img_info(const char *path, ImageInfo *ret, char **ret_message) {
        const char *argv[] = { NULL, "info", "--force-share", "--output=json", "--", path, NULL };
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
        *ret = (ImageInfo) {
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
        const char *argv[] = { NULL, "create", "-q", "-f", "qcow2", "-b", backing, "-F", backing_format, "--",
                               path, NULL };
        int r = run(argv, NULL, ret_message);
        if (r < 0)
                (void) remove_tree(path);  /* a failed create may leave a truncated header */
        return r;
}

int qemu_img_rebase(const char *image, const char *new_backing, const char *new_backing_format,
                    char **ret_message) {
        const char *with[] = { NULL, "rebase", "-q", "-f", "qcow2", "-b", new_backing, "-F", new_backing_format,
                               "--", image, NULL };
        const char *without[] = { NULL, "rebase", "-q", "-f", "qcow2", "-b", "", "--", image, NULL };
        return run(new_backing ? with : without, NULL, ret_message);
}
