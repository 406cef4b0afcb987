/* Reading and writing a VM's definition file ([Definitions] in winvm.conf), which may live in
 * a folder a desktop user owns (a configuration repository in their home). winvmd runs as
 * root, so nothing here follows a link or acts by path after the folder is opened: the file
 * is opened and replaced relative to the folder's descriptor, a link in its place is
 * refused, and a new file is handed to the folder's owner through its descriptor. Blocking:
 * worker threads only. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define DEFINITION_FILE_MAX (1024u * 1024u)

/* The file's text. -ENOENT when missing, -ELOOP for a link, -EINVAL when it is not a regular
 * file, -EFBIG above DEFINITION_FILE_MAX, -errno. */
int definition_file_read(const char *path, char **ret);

/* Whether the file's old text says the same as the new one (the old is then not kept). */
typedef bool (*DefinitionSameFn)(const char *old, const char *data);

/* Replaces the file with data atomically; with keep_previous, the file it replaces, if any,
 * becomes "<name>.previous" beside it (the same way), unless same says it is the same. The new
 * file keeps the old one's owner and permission bits (without setuid, setgid or sticky), or
 * gets the folder's owner and 0644. The file is read once, through its folder. */
int definition_file_write(const char *path, const char *data, bool keep_previous, DefinitionSameFn same);
