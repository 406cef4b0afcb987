#include "vfio-checks.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host-files.h"
#include "util.h"

#define PCI_DEVICES "/sys/bus/pci/devices"
#define IOMMU_GROUPS "/sys/kernel/iommu_groups"

/* Drivers a device may be bound to without making its IOMMU group unusable for VFIO: the VFIO
 * driver itself, and drivers that never do DMA on their own (the kernel marks them
 * driver_managed_dma). A device with no driver is fine too. */
static const char *const harmless_drivers[] = { "vfio-pci", "pci-stub", "pcieport" };

bool vfio_pci_id_valid(const char *id) {
        if (!id || strlen(id) != 9 || id[4] != ':')
                return false;
        for (int i = 0; i < 9; i++)
                if (i != 4 && !isxdigit((unsigned char) id[i]))
                        return false;
        return true;
}

static void lowercase(char *s) {
        for (; *s; s++)
                *s = (char) tolower((unsigned char) *s);
}

int vfio_parse_pci_ids(const char *text, char ***ret) {
        if (!text)
                return -EINVAL;
        _cleanup_free_ char *copy = strdup(text);
        char **l = calloc(1, sizeof(char *));
        if (!copy || !l) {
                free(l);
                return -ENOMEM;
        }
        size_t n = 0;
        char *save = NULL;
        for (char *t = strtok_r(copy, ", \t\n", &save); t; t = strtok_r(NULL, ", \t\n", &save)) {
                if (!vfio_pci_id_valid(t)) {
                        strv_free(l);
                        return -EINVAL;
                }
                char **nl = realloc(l, (n + 2) * sizeof(char *));
                if (!nl || !(nl[n] = strdup(t))) {
                        strv_free(nl ? nl : l);
                        return -ENOMEM;
                }
                l = nl;
                lowercase(l[n]);
                l[++n] = NULL;
        }
        if (n == 0) {
                strv_free(l);
                return -EINVAL;
        }
        *ret = l;
        return 0;
}

/* --- the kernel command line ------------------------------------------------------------ */

/* Parameter names compare with '-' and '_' equal, as the kernel's parameq() does. */
static bool param_eq(const char *a, size_t alen, const char *b) {
        if (alen != strlen(b))
                return false;
        for (size_t i = 0; i < alen; i++) {
                char x = a[i] == '-' ? '_' : a[i], y = b[i] == '-' ? '_' : b[i];
                if (x != y)
                        return false;
        }
        return true;
}

char *vfio_cmdline_get(const char *cmdline, const char *key) {
        char *found = NULL;
        const char *p = cmdline;
        while (p && *p) {
                while (isspace((unsigned char) *p))
                        p++;
                if (!*p)
                        break;
                /* A word: key[=value], where double quotes protect spaces. */
                const char *start = p;
                bool quoted = false;
                while (*p && (quoted || !isspace((unsigned char) *p))) {
                        if (*p == '"')
                                quoted = !quoted;
                        p++;
                }
                size_t wlen = (size_t) (p - start);
                if (wlen == 2 && strncmp(start, "--", 2) == 0)
                        break;  /* the rest is for init */
                const char *eq = memchr(start, '=', wlen);
                size_t klen = eq ? (size_t) (eq - start) : wlen;
                const char *k = start;
                if (klen > 0 && k[0] == '"') {
                        k++;
                        klen--;
                }
                if (!param_eq(k, klen, key))
                        continue;
                free(found);
                if (!eq) {
                        found = strdup("");
                        continue;
                }
                const char *v = eq + 1;
                size_t vlen = (size_t) (p - v);
                if (vlen >= 1 && v[0] == '"') {
                        v++;
                        vlen--;
                }
                if (vlen >= 1 && v[vlen - 1] == '"')
                        vlen--;
                found = strndup(v, vlen);
        }
        return found;
}

/* true when the comma-separated value has an element equal to word. */
static bool list_has(const char *value, const char *word) {
        size_t n = strlen(word);
        for (const char *p = value; p && *p;) {
                size_t len = strcspn(p, ",");
                if (len == n && strncasecmp(p, word, n) == 0)
                        return true;
                p += len;
                if (*p == ',')
                        p++;
        }
        return false;
}

/* true when vfio-pci.ids (vendor:device[:subvendor:subdevice[:class:mask]] entries) covers id. */
static bool ids_cover(const char *value, const char *id) {
        for (const char *p = value; p && *p;) {
                size_t len = strcspn(p, ",");
                if (len >= 9 && strncasecmp(p, id, 9) == 0 && (len == 9 || p[9] == ':'))
                        return true;
                p += len;
                if (*p == ',')
                        p++;
        }
        return false;
}

/* --- reading the host -------------------------------------------------------------------- */

static char *read_pci_id(const char *root, const char *address) {
        _cleanup_free_ char *vpath = NULL, *dpath = NULL;
        if (asprintf(&vpath, PCI_DEVICES "/%s/vendor", address) < 0 ||
            asprintf(&dpath, PCI_DEVICES "/%s/device", address) < 0)
                return NULL;
        unsigned long vendor, device;
        if (host_read_hex(root, vpath, &vendor) < 0 || host_read_hex(root, dpath, &device) < 0 ||
            vendor > 0xffff || device > 0xffff)
                return NULL;
        char *id = NULL;
        return asprintf(&id, "%04lx:%04lx", vendor, device) < 0 ? NULL : id;
}

/* The basename of a device's link (driver, iommu_group), NULL when there is none. */
static char *device_link(const char *root, const char *address, const char *link) {
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, PCI_DEVICES "/%s/%s", address, link) < 0)
                return NULL;
        char *base = NULL;
        return host_link_basename(root, path, &base) < 0 ? NULL : base;
}

static bool harmless_driver(const char *driver) {
        for (size_t i = 0; i < ELEMENTSOF(harmless_drivers); i++)
                if (strcmp(driver, harmless_drivers[i]) == 0)
                        return true;
        return false;
}

static int read_member(const char *root, const char *address, VfioGroupMember *m) {
        *m = (VfioGroupMember) { .address = strdup(address) };
        if (!m->address)
                return -ENOMEM;
        m->pci_id = read_pci_id(root, address);
        m->driver = device_link(root, address, "driver");
        _cleanup_free_ char *cpath = NULL;
        if (asprintf(&cpath, PCI_DEVICES "/%s/class", address) < 0)
                return -ENOMEM;
        if (host_read_hex(root, cpath, &m->pci_class) < 0)
                m->pci_class = 0;
        m->is_bridge = (m->pci_class >> 8) == 0x0604;
        m->is_blocker = m->driver && !m->is_bridge && !harmless_driver(m->driver);
        return 0;
}

static void member_clear(VfioGroupMember *m) {
        free(m->address);
        free(m->pci_id);
        free(m->driver);
}

static int read_group(const char *root, VfioDevice *d) {
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, IOMMU_GROUPS "/%s/devices", d->group) < 0)
                return -ENOMEM;
        _cleanup_(strv_freep) char **names = NULL;
        if (host_list_dir(root, path, &names) < 0)
                return 0;       /* a group link whose folder is missing: no members known */
        size_t n = strv_length(names);
        d->members = calloc(n ? n : 1, sizeof(VfioGroupMember));
        if (!d->members)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                int r = read_member(root, names[i], &d->members[d->n_members++]);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int add_device(VfioReport *rep, const char *root, const char *id, const char *address) {
        VfioDevice *l = realloc(rep->devices, (rep->n_devices + 1) * sizeof(VfioDevice));
        if (!l)
                return -ENOMEM;
        rep->devices = l;
        VfioDevice *d = &rep->devices[rep->n_devices++];
        *d = (VfioDevice) { .pci_id = strdup(id) };
        if (!d->pci_id)
                return -ENOMEM;
        if (!address)
                return 0;
        d->address = strdup(address);
        if (!d->address)
                return -ENOMEM;
        d->driver = device_link(root, address, "driver");
        d->group = device_link(root, address, "iommu_group");
        return d->group ? read_group(root, d) : 0;
}

static char *read_cpu_vendor(const char *root) {
        _cleanup_free_ char *text = NULL;
        if (host_read_file(root, "/proc/cpuinfo", 0, &text) < 0)
                return NULL;
        char *save = NULL;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                if (strncmp(line, "vendor_id", 9) != 0)
                        continue;
                char *colon = strchr(line, ':');
                if (!colon)
                        continue;
                char *v = colon + 1;
                v += strspn(v, " \t");
                size_t n = strlen(v);
                while (n > 0 && isspace((unsigned char) v[n - 1]))
                        v[--n] = '\0';
                return n ? strdup(v) : NULL;
        }
        return NULL;
}

int vfio_report_read(const char *root, char *const *pci_ids, VfioReport *ret) {
        _cleanup_(strv_freep) char **defaults = NULL;
        if (!pci_ids) {
                int r = vfio_parse_pci_ids(VFIO_DEFAULT_PCI_IDS, &defaults);
                if (r < 0)
                        return r;
                pci_ids = defaults;
        }
        for (char *const *i = pci_ids; *i; i++)
                if (!vfio_pci_id_valid(*i))
                        return -EINVAL;

        VfioReport rep = { 0 };
        rep.cpu_vendor_id = read_cpu_vendor(root);
        if (streq_ptr(rep.cpu_vendor_id, "GenuineIntel"))
                rep.cpu_vendor = VFIO_CPU_INTEL;
        else if (streq_ptr(rep.cpu_vendor_id, "AuthenticAMD"))
                rep.cpu_vendor = VFIO_CPU_AMD;
        if (host_read_line(root, "/proc/cmdline", &rep.cmdline) < 0)
                rep.cmdline = NULL;

        _cleanup_(strv_freep) char **groups = NULL, **iommus = NULL, **addresses = NULL;
        if (host_list_dir(root, IOMMU_GROUPS, &groups) == 0)
                rep.n_groups = strv_length(groups);
        if (host_list_dir(root, "/sys/class/iommu", &iommus) < 0)
                iommus = NULL;
        rep.iommu_active = rep.n_groups > 0 || strv_length(iommus) > 0;

        if (host_list_dir(root, PCI_DEVICES, &addresses) < 0)
                addresses = NULL;
        size_t n_addr = strv_length(addresses);
        char **ids = calloc(n_addr + 1, sizeof(char *));
        int r = ids ? 0 : -ENOMEM;
        for (size_t a = 0; r == 0 && a < n_addr; a++)
                ids[a] = read_pci_id(root, addresses[a]);

        for (char *const *want = pci_ids; r == 0 && *want; want++) {
                _cleanup_free_ char *id = strdup(*want);
                if (!id) {
                        r = -ENOMEM;
                        break;
                }
                lowercase(id);
                bool found = false;
                for (size_t a = 0; r == 0 && a < n_addr; a++)
                        if (streq_ptr(ids[a], id)) {
                                found = true;
                                r = add_device(&rep, root, id, addresses[a]);
                        }
                if (r == 0 && !found)
                        r = add_device(&rep, root, id, NULL);
        }
        for (size_t a = 0; ids && a < n_addr; a++)
                free(ids[a]);
        free(ids);
        if (r < 0) {
                vfio_report_clear(&rep);
                return r;
        }
        *ret = rep;
        return 0;
}

void vfio_report_clear(VfioReport *r) {
        if (!r)
                return;
        for (size_t i = 0; i < r->n_devices; i++) {
                VfioDevice *d = &r->devices[i];
                free(d->pci_id);
                free(d->address);
                free(d->driver);
                free(d->group);
                for (size_t k = 0; k < d->n_members; k++)
                        member_clear(&d->members[k]);
                free(d->members);
        }
        free(r->devices);
        free(r->cpu_vendor_id);
        free(r->cmdline);
        *r = (VfioReport) { 0 };
}

/* --- checks ------------------------------------------------------------------------------- */

#define KERNEL_PARAM_HOWTO \
        " (NixOS: boot.kernelParams in the system configuration, then nixos-rebuild boot; " \
        "GRUB: GRUB_CMDLINE_LINUX in /etc/default/grub, then update-grub) and reboot."

/* "10de:2489,10de:228b": every configured id, in report order, once. */
static char *all_ids(const VfioReport *r) {
        size_t len = 1;
        for (size_t i = 0; i < r->n_devices; i++)
                len += strlen(r->devices[i].pci_id) + 1;
        char *s = calloc(1, len);
        for (size_t i = 0; s && i < r->n_devices; i++) {
                if (list_has(s, r->devices[i].pci_id))
                        continue;
                if (*s)
                        strcat(s, ",");
                strcat(s, r->devices[i].pci_id);
        }
        return s;
}

static int check_iommu_enabled(const VfioReport *r, CheckList *l) {
        if (r->iommu_active)
                return check_list_add(l, "vfio.iommu-enabled", CHECK_OK, NULL,
                                      "The IOMMU is active: %zu IOMMU groups", r->n_groups);
        const char *remedy =
                r->cpu_vendor == VFIO_CPU_AMD
                        ? "Enable the IOMMU (AMD-Vi, sometimes called \"IOMMU\" or \"SVM\") in the firmware setup; "
                          "the kernel turns it on by default on AMD. Check with: dmesg | grep -i AMD-Vi"
                        : "Enable VT-d in the firmware setup and add `intel_iommu=on iommu=pt` to the kernel "
                          "command line" KERNEL_PARAM_HOWTO;
        return check_list_add(l, "vfio.iommu-enabled", CHECK_FAIL, remedy,
                              "The IOMMU is not active: %s/ is empty, so no device can be passed through",
                              IOMMU_GROUPS);
}

static int check_cmdline_iommu(const VfioReport *r, CheckList *l) {
        const char *id = "vfio.cmdline.iommu";
        if (!r->cmdline)
                return check_list_add(l, id, CHECK_SKIPPED, NULL, "/proc/cmdline could not be read");
        _cleanup_free_ char *intel = vfio_cmdline_get(r->cmdline, "intel_iommu");
        _cleanup_free_ char *amd = vfio_cmdline_get(r->cmdline, "amd_iommu");
        _cleanup_free_ char *iommu = vfio_cmdline_get(r->cmdline, "iommu");

        if (iommu && list_has(iommu, "off"))
                return check_list_add(l, id, CHECK_FAIL,
                                       "Remove `iommu=off` from the kernel command line" KERNEL_PARAM_HOWTO,
                                       "The kernel command line has iommu=off");
        if (r->cpu_vendor != VFIO_CPU_AMD && intel && list_has(intel, "off"))
                return check_list_add(l, id, CHECK_FAIL,
                                      "Replace `intel_iommu=off` with `intel_iommu=on` on the kernel command line"
                                      KERNEL_PARAM_HOWTO,
                                      "The kernel command line has intel_iommu=off");
        if (r->cpu_vendor != VFIO_CPU_INTEL && amd && list_has(amd, "off"))
                return check_list_add(l, id, CHECK_FAIL,
                                      "Remove `amd_iommu=off` from the kernel command line" KERNEL_PARAM_HOWTO,
                                      "The kernel command line has amd_iommu=off");

        switch (r->cpu_vendor) {
        case VFIO_CPU_INTEL:
                if (intel && list_has(intel, "on"))
                        return check_list_add(l, id, CHECK_OK, NULL, "intel_iommu=on is on the kernel command line");
                if (r->iommu_active)
                        return check_list_add(l, id, CHECK_OK, NULL,
                                              "intel_iommu=on is not on the kernel command line, but this kernel "
                                              "turns the Intel IOMMU on by default");
                return check_list_add(l, id, CHECK_FAIL,
                                      "Add `intel_iommu=on` to the kernel command line" KERNEL_PARAM_HOWTO,
                                      "Intel CPU, and intel_iommu=on is not on the kernel command line");
        case VFIO_CPU_AMD:
                /* amd_iommu has no "on": AMD-Vi is on by default when the firmware enables it. */
                if (r->iommu_active)
                        return check_list_add(l, id, CHECK_OK, NULL,
                                              "AMD CPU: the kernel turns AMD-Vi on by default, no flag is needed");
                return check_list_add(l, id, CHECK_WARN,
                                      "Enable the IOMMU (AMD-Vi) in the firmware setup; on AMD no kernel flag "
                                      "is needed (amd_iommu=on is not a kernel option)",
                                      "AMD CPU and no IOMMU groups: the kernel enables AMD-Vi by default, so the "
                                      "firmware has it off");
        default:
                if ((intel && list_has(intel, "on")) || r->iommu_active)
                        return check_list_add(l, id, CHECK_OK, NULL, "The IOMMU is enabled (CPU vendor %s)",
                                              r->cpu_vendor_id ? r->cpu_vendor_id : "unknown");
                return check_list_add(l, id, CHECK_WARN,
                                      "Enable the IOMMU in the firmware setup; on Intel also add `intel_iommu=on` "
                                      "to the kernel command line" KERNEL_PARAM_HOWTO,
                                      "Unknown CPU vendor (%s) and no IOMMU flag on the kernel command line",
                                      r->cpu_vendor_id ? r->cpu_vendor_id : "no vendor_id in /proc/cpuinfo");
        }
}

static int check_cmdline_pt(const VfioReport *r, CheckList *l) {
        const char *id = "vfio.cmdline.iommu-pt";
        if (!r->cmdline)
                return check_list_add(l, id, CHECK_SKIPPED, NULL, "/proc/cmdline could not be read");
        _cleanup_free_ char *iommu = vfio_cmdline_get(r->cmdline, "iommu");
        if (iommu && list_has(iommu, "pt"))
                return check_list_add(l, id, CHECK_OK, NULL, "iommu=pt is on the kernel command line");
        return check_list_add(l, id, CHECK_WARN,
                              "Add `iommu=pt` to the kernel command line" KERNEL_PARAM_HOWTO,
                              "iommu=pt is not on the kernel command line: host devices pay for IOMMU "
                              "translation they do not need");
}

static bool device_on_vfio(const VfioReport *r, const char *pci_id) {
        bool any = false;
        for (size_t i = 0; i < r->n_devices; i++)
                if (strcmp(r->devices[i].pci_id, pci_id) == 0) {
                        if (!streq_ptr(r->devices[i].driver, "vfio-pci"))
                                return false;
                        any = true;
                }
        return any;
}

static int check_cmdline_ids(const VfioReport *r, CheckList *l) {
        const char *id = "vfio.cmdline.vfio-pci-ids";
        if (!r->cmdline)
                return check_list_add(l, id, CHECK_SKIPPED, NULL, "/proc/cmdline could not be read");
        _cleanup_free_ char *value = vfio_cmdline_get(r->cmdline, "vfio-pci.ids");
        _cleanup_free_ char *wanted = all_ids(r);
        if (!wanted)
                return -ENOMEM;
        char missing[512] = "";
        bool bound_anyway = true;
        for (size_t i = 0; i < r->n_devices; i++) {
                const char *pid = r->devices[i].pci_id;
                if ((value && ids_cover(value, pid)) || list_has(missing, pid))
                        continue;
                if (strlen(missing) + 11 < sizeof(missing)) {
                        if (*missing)
                                strcat(missing, ",");
                        strcat(missing, pid);
                }
                bound_anyway = bound_anyway && device_on_vfio(r, pid);
        }
        if (!*missing)
                return check_list_add(l, id, CHECK_OK, NULL, "vfio-pci.ids=%s covers every configured device", value);
        _cleanup_free_ char *remedy = NULL;
        if (asprintf(&remedy, "Set `vfio-pci.ids=%s` on the kernel command line%s", wanted, KERNEL_PARAM_HOWTO) < 0)
                return -ENOMEM;
        if (bound_anyway)
                return check_list_add(l, id, CHECK_WARN, remedy,
                                      "vfio-pci.ids does not list %s, but the device is on vfio-pci already "
                                      "(bound some other way, which may not survive a reboot)", missing);
        return check_list_add(l, id, CHECK_FAIL, remedy, "vfio-pci.ids %s %s",
                              value ? "does not list" : "is not on the kernel command line, so nothing binds",
                              missing);
}

static char *device_check_id(const VfioReport *r, const VfioDevice *d, const char *kind) {
        size_t same = 0;
        for (size_t i = 0; i < r->n_devices; i++)
                same += strcmp(r->devices[i].pci_id, d->pci_id) == 0;
        char *s = NULL;
        int k = same > 1 && d->address ? asprintf(&s, "vfio.%s.%s@%s", kind, d->pci_id, d->address)
                                       : asprintf(&s, "vfio.%s.%s", kind, d->pci_id);
        return k < 0 ? NULL : s;
}

static int check_driver(const VfioReport *r, const VfioDevice *d, CheckList *l) {
        _cleanup_free_ char *id = device_check_id(r, d, "driver");
        _cleanup_free_ char *cmd_ids = r->cmdline ? vfio_cmdline_get(r->cmdline, "vfio-pci.ids") : NULL;
        _cleanup_free_ char *wanted = all_ids(r);
        _cleanup_free_ char *remedy = NULL;
        if (!id || !wanted)
                return -ENOMEM;
        if (!d->address)
                return check_list_add(l, id, CHECK_FAIL,
                                      "Check the device's id with `lspci -nn` and correct the configured PCI ids",
                                      "No PCI device has the id %s", d->pci_id);
        if (streq_ptr(d->driver, "vfio-pci"))
                return check_list_add(l, id, CHECK_OK, NULL, "%s (%s) is on vfio-pci", d->address, d->pci_id);

        bool listed = cmd_ids && ids_cover(cmd_ids, d->pci_id);
        int k;
        if (!d->driver && listed)
                k = asprintf(&remedy,
                             "vfio-pci.ids lists %s but vfio-pci is not loaded: load it early "
                             "(NixOS: boot.initrd.kernelModules = [ \"vfio_pci\" \"vfio\" \"vfio_iommu_type1\" ]; "
                             "Debian: add vfio-pci to /etc/initramfs-tools/modules, then update-initramfs -u) "
                             "and reboot",
                             d->pci_id);
        else if (listed)
                k = asprintf(&remedy,
                             "%s claimed the device before vfio-pci: add `softdep %s pre: vfio-pci` to "
                             "/etc/modprobe.d/vfio.conf and rebuild the initrd, which may load the driver first "
                             "(Debian: update-initramfs -u; NixOS: boot.extraModprobeConfig), and reboot",
                             d->driver, d->driver);
        else {
                _cleanup_free_ char *unbind = NULL;
                if (d->driver && asprintf(&unbind, "echo %s | sudo tee " PCI_DEVICES "/%s/driver/unbind; ",
                                          d->address, d->address) < 0)
                        return -ENOMEM;
                k = asprintf(&remedy,
                             "Add %s to vfio-pci.ids: set `vfio-pci.ids=%s` on the kernel command line%s "
                             "To bind it now: echo vfio-pci | sudo tee " PCI_DEVICES "/%s/driver_override; "
                             "%secho %s | sudo tee /sys/bus/pci/drivers_probe",
                             d->pci_id, wanted, KERNEL_PARAM_HOWTO, d->address, unbind ? unbind : "", d->address);
        }
        if (k < 0)
                return -ENOMEM;
        if (!d->driver)
                return check_list_add(l, id, CHECK_FAIL, remedy, "%s (%s) has no driver: vfio-pci is not bound to it",
                                      d->address, d->pci_id);
        return check_list_add(l, id, CHECK_FAIL, remedy, "%s (%s) is on %s, not vfio-pci", d->address, d->pci_id,
                              d->driver);
}

static bool configured(const VfioReport *r, const char *pci_id) {
        for (size_t i = 0; pci_id && i < r->n_devices; i++)
                if (strcmp(r->devices[i].pci_id, pci_id) == 0)
                        return true;
        return false;
}

static int check_group(const VfioReport *r, const VfioDevice *d, CheckList *l) {
        _cleanup_free_ char *id = device_check_id(r, d, "group");
        if (!id)
                return -ENOMEM;
        if (!d->address)
                return check_list_add(l, id, CHECK_SKIPPED, NULL, "No PCI device has the id %s", d->pci_id);
        if (!d->group)
                return check_list_add(l, id, CHECK_FAIL,
                                      "Turn the IOMMU on first (see vfio.iommu-enabled)",
                                      "%s (%s) is in no IOMMU group", d->address, d->pci_id);

        /* The device itself is vfio.driver's business; here: the other members. */
        char blockers[1024] = "", remedy_parts[2048] = "";
        size_t n_blockers = 0, n_others = 0;
        bool foreign = false;
        for (size_t i = 0; i < d->n_members; i++) {
                const VfioGroupMember *m = &d->members[i];
                if (strcmp(m->address, d->address) == 0)
                        continue;
                n_others++;
                if (!m->is_blocker)
                        continue;
                char item[160];
                snprintf(item, sizeof(item), "%s%s (%s, class 0x%06lx, on %s)", n_blockers ? ", " : "", m->address,
                         m->pci_id ? m->pci_id : "unknown id", m->pci_class, m->driver);
                if (strlen(blockers) + strlen(item) < sizeof(blockers))
                        strcat(blockers, item);
                n_blockers++;
                if (configured(r, m->pci_id)) {
                        snprintf(item, sizeof(item), "%sBind %s to vfio-pci (see vfio.driver.%s).",
                                 *remedy_parts ? " " : "", m->address, m->pci_id);
                        if (strlen(remedy_parts) + strlen(item) < sizeof(remedy_parts))
                                strcat(remedy_parts, item);
                } else
                        foreign = true;
        }
        if (n_blockers == 0)
                return check_list_add(l, id, CHECK_OK, NULL,
                                      n_others ? "IOMMU group %s holds only devices on vfio-pci, bridges or no driver"
                                               : "IOMMU group %s holds this device alone",
                                      d->group);
        if (foreign) {
                const char *text =
                        " Pass the other devices through as well (add their ids to vfio-pci.ids), or move the card "
                        "to a slot whose IOMMU group it has alone (see `lspci -tv` and the board manual: slots wired "
                        "to the CPU are usually isolated). The ACS override patch splits groups only at the cost of "
                        "isolation between the devices.";
                if (strlen(remedy_parts) + strlen(text) < sizeof(remedy_parts))
                        strcat(remedy_parts, *remedy_parts ? text : text + 1);
        }
        return check_list_add(l, id, CHECK_FAIL, remedy_parts, "IOMMU group %s also holds %s", d->group, blockers);
}

int vfio_checks(const VfioReport *r, CheckList *l) {
        int r1 = check_iommu_enabled(r, l);
        if (r1 == 0)
                r1 = check_cmdline_iommu(r, l);
        if (r1 == 0)
                r1 = check_cmdline_pt(r, l);
        if (r1 == 0)
                r1 = check_cmdline_ids(r, l);
        for (size_t i = 0; r1 == 0 && i < r->n_devices; i++) {
                r1 = check_driver(r, &r->devices[i], l);
                if (r1 == 0)
                        r1 = check_group(r, &r->devices[i], l);
        }
        return r1;
}
