#include "nixos-host.h"

#include <string.h>

#include "host-files.h"
#include "kvmfr-checks.h"
#include "util.h"

bool nixos_host(const char *root) {
        if (host_exists(root, "/etc/NIXOS"))
                return true;
        _cleanup_free_ char *target = NULL;
        return host_readlink(root, "/etc/static", &target) == 0 && strncmp(target, "/nix/store/", 11) == 0;
}

const char *nixos_qemu_conf(const char *root, const char *configured) {
        const char *path = configured ? configured : KVMFR_DEFAULT_QEMU_CONF;
        if (strcmp(path, KVMFR_DEFAULT_QEMU_CONF) == 0 && !host_exists(root, path) && nixos_host(root))
                return NIXOS_QEMU_CONF;
        return path;
}
