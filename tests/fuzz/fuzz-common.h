/* Shared by the libFuzzer targets: the input as a C string, and checks that abort with a
 * message (libFuzzer turns an abort into a crash report and saves the input). */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The parsers take NUL-terminated text, as they get it from a file or the bus: a NUL byte in
 * the input ends the string there. */
static inline char *fuzz_strndup(const uint8_t *data, size_t size) {
        char *s = malloc(size + 1);
        if (!s)
                abort();
        memcpy(s, data, size);
        s[size] = '\0';
        return s;
}

#define fuzz_check(cond, ...)                                                           \
        do {                                                                            \
                if (!(cond)) {                                                          \
                        fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
                        fprintf(stderr, __VA_ARGS__);                                   \
                        fputc('\n', stderr);                                            \
                        abort();                                                        \
                }                                                                       \
        } while (0)

static inline const char *fuzz_str(const char *s) {
        return s ? s : "(null)";
}
