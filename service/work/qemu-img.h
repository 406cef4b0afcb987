/* qemu-img, spawned with an argument vector (never a shell) and only the capabilities for
 * file access. Blocking: worker threads only. Failures return a negative errno (-ENOSPC when
 * the image's filesystem is full) and qemu-img's own message in *ret_message.
 *
 * Formats are never probed: every call names the format of each image it opens, from the
 * domain definition or winvm's records. A guest writes the bytes of a raw image, so a raw
 * image read as anything else could name any host file as its backing file; a qcow2 header is
 * written by QEMU and qemu-img only. Only these formats are handled. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* raw or qcow2. */
bool qemu_img_format_is_known(const char *format);

typedef struct ImageInfo {
        char *format;           /* qcow2, raw, ... */
        char *backing;          /* absolute path of the backing file, NULL when none */
        char *backing_format;   /* as the qcow2 header says; NULL when it says none */
        uint64_t virtual_size;
} ImageInfo;

void image_info_clear(ImageInfo *info);

/* Reads the header of an image of the given format, also while QEMU has it open
 * (--force-share), without opening its backing file. A raw image has no backing file and
 * is not read at all. -EINVAL for a format that is not known. */
int qemu_img_info(const char *path, const char *format, ImageInfo *ret, char **ret_message);

/* Creates a qcow2 overlay at path on backing (of backing_format); path must not exist. The
 * backing file is read for its size only (with its format given), never through its chain. */
int qemu_img_create_overlay(const char *path, const char *backing, const char *backing_format,
                            char **ret_message);

/* Copies into image what its chain gets from its current backing file and not from
 * new_backing, then points it at new_backing (NULL: no backing file at all). The image's
 * content never changes, so an interrupted rebase is safe to repeat. */
/* The caller has checked image's chain against winvm's records first: qemu-img opens it,
 * following the formats its qcow2 headers name. */
int qemu_img_rebase(const char *image, const char *new_backing, const char *new_backing_format,
                    char **ret_message);

/* Writes what image (qcow2) holds itself into its backing file, leaving image as it was
 * (-d): the cost follows image's data, not the disk's size. What image reads never changes,
 * so an interrupted commit is safe to repeat; the backing file's own content is lost. The
 * caller has checked image's chain against winvm's records first. */
int qemu_img_commit(const char *image, char **ret_message);

/* The qemu-img binary; WINVM_QEMU_IMG overrides it (tests). */
const char *qemu_img_binary(void);
