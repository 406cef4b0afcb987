/* Prints winvmd's kvmfr size (kvmfr_required_size_mib) for each WIDTHxHEIGHT or
 * WIDTHxHEIGHT:hdr argument, one a line, so check-kvmfr-size.sh can hold nix/kvmfr-size.nix to
 * the same formula. */
#include <stdio.h>
#include <string.h>

#include "kvmfr-checks.h"

int main(int argc, char **argv) {
        for (int i = 1; i < argc; i++) {
                unsigned w, h;
                char tail[8] = "";
                if (sscanf(argv[i], "%ux%u%7s", &w, &h, tail) < 2 || (*tail && strcmp(tail, ":hdr") != 0)) {
                        fprintf(stderr, "expected WIDTHxHEIGHT[:hdr], not %s\n", argv[i]);
                        return 2;
                }
                printf("%u\n", kvmfr_required_size_mib(w, h, *tail != '\0'));
        }
        return 0;
}
