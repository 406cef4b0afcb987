/* Running a helper program (qemu-img, udevadm) from a worker thread: an argument vector,
 * never a shell, and the child dies with winvmd, so an operation a crash interrupted is
 * finished by the next winvmd without a leftover child racing it on the same files. */
#pragma once

/* Runs argv[0] (looked up in PATH) and waits. 0 on exit status 0, with stdout in *ret_out when
 * ret_out is given; otherwise -ENOEXEC (could not start) or -EIO (failed) with the child's
 * stderr, or a description, in *ret_err. */
int spawn_sync(const char *const *argv, char **ret_out, char **ret_err);

/* The same, for a program that only reads and writes files (qemu-img): the child keeps only
 * the capabilities for file access (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER) and may
 * gain no others (no_new_privs), so a bug in it or in what it parses cannot load a module,
 * mount or reach devices through the rest of root's powers. */
int spawn_sync_files_only(const char *const *argv, char **ret_out, char **ret_err);

/* The same, for programs whose exit status carries an answer (diff: 1 = the files differ): any
 * normal exit returns 0 with the status in *ret_exit and stdout in *ret_out; a signal gives -EIO. */
int spawn_sync_exit(const char *const *argv, char **ret_out, char **ret_err, int *ret_exit);
