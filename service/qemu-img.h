/* qemu-img, spawned with an argument vector (never a shell). Blocking: worker threads only.
 * Failures return a negative errno (-ENOSPC when the image's filesystem is full) and
 * qemu-img's own message in *ret_message. */
#pragma once

typedef struct ImageInfo {
        char *format;           /* qcow2, raw, ... */
        char *backing;          /* absolute path of the backing file, NULL when none */
        char *backing_format;
} ImageInfo;

void image_info_clear(ImageInfo *info);

/* Reads the header of an image, also while QEMU has it open (--force-share). */
int qemu_img_info(const char *path, ImageInfo *ret, char **ret_message);

/* Creates a qcow2 overlay at path on backing (of backing_format); path must not exist. */
int qemu_img_create_overlay(const char *path, const char *backing, const char *backing_format,
                            char **ret_message);

/* Copies into image what its chain gets from its current backing file and not from
 * new_backing, then points it at new_backing (NULL: no backing file at all). The image's
 * content never changes, so an interrupted rebase is safe to repeat. */
int qemu_img_rebase(const char *image, const char *new_backing, const char *new_backing_format,
                    char **ret_message);

/* The qemu-img binary; WINVM_QEMU_IMG overrides it (tests). */
const char *qemu_img_binary(void);
