/* The list of what the desktop user may change in a definition without an administrator.
 * Everything not named here (loader, nvram, kernel, ACPI tables, emulator, seclabel, disks of
 * other kinds, block and network sources, backing stores, PCI/SCSI/mdev hostdevs, serial
 * files and sockets, interfaces' types and scripts, smartcards, TPM passthrough, shmem,
 * leases, sysinfo, memory, blkio and numa tuning, qemu:commandline, ...) needs one. An
 * existing device may change its guest-facing details; a new or otherwise changed device must
 * pass its check_new whole. */
#include "definition-allowlist.h"
#include "ivshmem-construct.h"

#include <errno.h>
#include <glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "usb-devices.h"
#include "util.h"

#define ATTRS(...) ((const char *const[]) { __VA_ARGS__, NULL })
#define KIDS(...) ((const AllowRule *const[]) { __VA_ARGS__, NULL })

char *allow_attr(xmlNodePtr el, const char *name) {
        return (char *) xmlGetNoNsProp(el, BAD_CAST name);
}

bool allow_names_path(const char *value) {
        return value && strchr(value, '/') != NULL;
}

static char *attr_or_empty(xmlNodePtr el, const char *name) {
        xmlChar *v = el ? xmlGetNoNsProp(el, BAD_CAST name) : NULL;
        char *s = g_strdup(v ? (const char *) v : "");
        xmlFree(v);
        return s;
}

static xmlNodePtr first_child(xmlNodePtr el, const char *name) {
        for (xmlNodePtr c = el->children; c; c = c->next)
                if (c->type == XML_ELEMENT_NODE && !c->ns && xmlStrcmp(c->name, BAD_CAST name) == 0)
                        return c;
        return NULL;
}

/* The child NAME of el that a check reads, in *ret (NULL when there is none); false when there
 * are two: libvirt would read one of them and the check might have read the other. */
static bool sole_child(xmlNodePtr el, const char *name, xmlNodePtr *ret) {
        *ret = NULL;
        for (xmlNodePtr c = el ? el->children : NULL; c; c = c->next)
                if (c->type == XML_ELEMENT_NODE && !c->ns && xmlStrcmp(c->name, BAD_CAST name) == 0) {
                        if (*ret)
                                return false;
                        *ret = c;
                }
        return true;
}

/* --- shared small rules ----------------------------------------------------------------- */

static const AllowRule guest_address = { .name = "address", .free = true, .removable = true };
static const AllowRule alias = { .name = "alias", .attrs = ATTRS("name"), .removable = true };
static const AllowRule boot_order = { .name = "boot", .attrs = ATTRS("order", "loadparm"), .removable = true };
#define TEXT_RULE(n) { .name = n, .text = "", .removable = true }

/* --- the domain's own settings ------------------------------------------------------------- */

static const AllowRule name_rule = { .name = "name", .text = "" };     /* vm_config_redefine keeps it */
static const AllowRule uuid_rule = { .name = "uuid", .text = "" };     /* likewise */
static const AllowRule genid = TEXT_RULE("genid");
static const AllowRule title = { .name = "title", .raw = true, .removable = true };
static const AllowRule description = { .name = "description", .raw = true, .removable = true };
/* libvirt stores it and acts on none of it; winvm reads nothing from it. */
static const AllowRule metadata = { .name = "metadata", .raw = true, .removable = true };
static const AllowRule memory = { .name = "memory", .attrs = ATTRS("unit", "dumpCore=on|off"), .text = "" };
static const AllowRule current_memory = { .name = "currentMemory", .attrs = ATTRS("unit"), .text = "", .removable = true };
static const AllowRule max_memory = { .name = "maxMemory", .attrs = ATTRS("unit", "slots"), .text = "", .removable = true };
static const AllowRule vcpu = { .name = "vcpu", .attrs = ATTRS("placement=static|auto", "cpuset", "current"), .text = "" };
static const AllowRule vcpus_vcpu = { .name = "vcpu", .attrs = ATTRS("id", "enabled", "hotpluggable", "order"), .removable = true };
static const AllowRule vcpus = { .name = "vcpus", .children = KIDS(&vcpus_vcpu), .removable = true };
static const AllowRule iothreads = TEXT_RULE("iothreads");
static const AllowRule iothread_id = { .name = "iothread", .attrs = ATTRS("id", "thread_pool_min", "thread_pool_max"), .removable = true };
static const AllowRule iothreadids = { .name = "iothreadids", .children = KIDS(&iothread_id), .removable = true };

/* CPU pinning and scheduling, without realtime classes (fifo, rr) that can starve the host. */
static const AllowRule vcpupin = { .name = "vcpupin", .attrs = ATTRS("vcpu", "cpuset"), .removable = true };
static const AllowRule emulatorpin = { .name = "emulatorpin", .attrs = ATTRS("cpuset"), .removable = true };
static const AllowRule iothreadpin = { .name = "iothreadpin", .attrs = ATTRS("iothread", "cpuset"), .removable = true };
static const AllowRule vcpusched = { .name = "vcpusched", .attrs = ATTRS("vcpus", "scheduler=other|batch|idle", "priority"), .removable = true };
static const AllowRule emulatorsched = { .name = "emulatorsched", .attrs = ATTRS("scheduler=other|batch|idle", "priority"), .removable = true };
static const AllowRule iothreadsched = { .name = "iothreadsched", .attrs = ATTRS("iothreads", "scheduler=other|batch|idle", "priority"), .removable = true };
static const AllowRule tune_shares = TEXT_RULE("shares");
static const AllowRule tune_period = TEXT_RULE("period");
static const AllowRule tune_quota = TEXT_RULE("quota");
static const AllowRule tune_gperiod = TEXT_RULE("global_period");
static const AllowRule tune_gquota = TEXT_RULE("global_quota");
static const AllowRule tune_eperiod = TEXT_RULE("emulator_period");
static const AllowRule tune_equota = TEXT_RULE("emulator_quota");
static const AllowRule tune_iperiod = TEXT_RULE("iothread_period");
static const AllowRule tune_iquota = TEXT_RULE("iothread_quota");
static const AllowRule cputune = {
        .name = "cputune",
        .children = KIDS(&vcpupin, &emulatorpin, &iothreadpin, &vcpusched, &emulatorsched, &iothreadsched, &tune_shares,
                         &tune_period, &tune_quota, &tune_gperiod, &tune_gquota, &tune_eperiod, &tune_equota, &tune_iperiod,
                         &tune_iquota),
        .removable = true,
};

static const AllowRule cpu_model = { .name = "model", .attrs = ATTRS("fallback", "vendor_id"), .text = "", .removable = true };
static const AllowRule cpu_vendor = TEXT_RULE("vendor");
static const AllowRule cpu_topology = { .name = "topology", .attrs = ATTRS("sockets", "dies", "clusters", "cores", "threads"), .removable = true };
static const AllowRule cpu_feature = { .name = "feature", .attrs = ATTRS("policy", "name"), .removable = true };
static const AllowRule cpu_cache = { .name = "cache", .attrs = ATTRS("level", "mode"), .removable = true };
static const AllowRule cpu_maxphysaddr = { .name = "maxphysaddr", .attrs = ATTRS("mode", "bits"), .removable = true };
static const AllowRule numa_cell = { .name = "cell", .attrs = ATTRS("id", "cpus", "memory", "unit", "memAccess", "discard"), .removable = true };
static const AllowRule cpu_numa = { .name = "numa", .children = KIDS(&numa_cell), .removable = true };
static const AllowRule cpu = {
        .name = "cpu",
        .attrs = ATTRS("mode=host-passthrough|host-model|custom|maximum", "match", "check", "migratable"),
        .children = KIDS(&cpu_model, &cpu_vendor, &cpu_topology, &cpu_feature, &cpu_cache, &cpu_maxphysaddr, &cpu_numa),
        .removable = true,
};

/* Hyper-V enlightenments, <kvm><hidden>, vendor_id, ACPI, APIC, SMM, ...: all guest-facing. */
static const AllowRule features = { .name = "features", .free = true, .removable = true };

static const AllowRule timer_catchup = { .name = "catchup", .attrs = ATTRS("threshold", "slew", "limit"), .removable = true };
static const AllowRule clock_timer = {
        .name = "timer",
        .attrs = ATTRS("name", "present", "tickpolicy", "track", "frequency", "mode"),
        .children = KIDS(&timer_catchup),
        .removable = true,
};
/* Not offset='timezone': its value goes to QEMU's environment as TZ, which may name a file. */
static const AllowRule clock_rule = {
        .name = "clock",
        .attrs = ATTRS("offset=utc|localtime|variable", "adjustment", "basis=utc|localtime"),
        .children = KIDS(&clock_timer),
        .removable = true,
};
static const AllowRule pm_mem = { .name = "suspend-to-mem", .attrs = ATTRS("enabled"), .removable = true };
static const AllowRule pm_disk = { .name = "suspend-to-disk", .attrs = ATTRS("enabled"), .removable = true };
static const AllowRule pm = { .name = "pm", .children = KIDS(&pm_mem, &pm_disk), .removable = true };
/* Not coredump-*: that writes the guest's memory to a host file. */
#define LIFECYCLE "destroy|restart|preserve|rename-restart"
static const AllowRule on_poweroff = { .name = "on_poweroff", .text = LIFECYCLE, .removable = true };
static const AllowRule on_reboot = { .name = "on_reboot", .text = LIFECYCLE, .removable = true };
static const AllowRule on_crash = { .name = "on_crash", .text = LIFECYCLE, .removable = true };

/* Memory backing virtiofs needs; not file-backed memory or locked memory. */
static const AllowRule mb_page = { .name = "page", .attrs = ATTRS("size", "unit", "nodeset"), .removable = true };
static const AllowRule mb_hugepages = { .name = "hugepages", .children = KIDS(&mb_page), .removable = true };
static const AllowRule mb_nosharepages = { .name = "nosharepages", .removable = true };
static const AllowRule mb_source = { .name = "source", .attrs = ATTRS("type=memfd|anonymous"), .removable = true };
static const AllowRule mb_access = { .name = "access", .attrs = ATTRS("mode=shared|private"), .removable = true };
static const AllowRule mb_allocation = { .name = "allocation", .attrs = ATTRS("mode=immediate|ondemand", "threads"), .removable = true };
static const AllowRule mb_discard = { .name = "discard", .removable = true };
static const AllowRule memory_backing = {
        .name = "memoryBacking",
        .children = KIDS(&mb_hugepages, &mb_nosharepages, &mb_source, &mb_access, &mb_allocation, &mb_discard),
        .removable = true,
};

/* The boot order and machine, not what is booted: loader, nvram, kernel, initrd, dtb and ACPI
 * tables are host files. */
static const AllowRule os_type = { .name = "type", .attrs = ATTRS("arch", "machine"), .text = "hvm" };
static const AllowRule os_boot = { .name = "boot", .attrs = ATTRS("dev=hd|cdrom|fd|network"), .removable = true };
static const AllowRule os_bootmenu = { .name = "bootmenu", .attrs = ATTRS("enable", "timeout"), .removable = true };
static const AllowRule os_smbios = { .name = "smbios", .attrs = ATTRS("mode=emulate"), .removable = true };
static const AllowRule os_bios = { .name = "bios", .attrs = ATTRS("useserial", "rebootTimeout"), .removable = true };
static const AllowRule fw_feature = { .name = "feature", .attrs = ATTRS("enabled", "name"), .removable = true };
static const AllowRule os_firmware = { .name = "firmware", .children = KIDS(&fw_feature), .removable = true };
static const AllowRule os = {
        .name = "os",
        .attrs = ATTRS("firmware=efi|bios"),
        .children = KIDS(&os_type, &os_boot, &os_bootmenu, &os_smbios, &os_bios, &os_firmware),
};

/* --- devices -------------------------------------------------------------------------------- */

static char *key_target_dev(xmlNodePtr el) {
        return attr_or_empty(first_child(el, "target"), "dev");
}

static char *key_target_dir(xmlNodePtr el) {
        return attr_or_empty(first_child(el, "target"), "dir");
}

static char *key_mac(xmlNodePtr el) {
        return attr_or_empty(first_child(el, "mac"), "address");
}

static char *key_controller(xmlNodePtr el) {
        g_autofree char *type = attr_or_empty(el, "type"), *index = attr_or_empty(el, "index");
        return g_strdup_printf("%s/%s", type, index);
}

/* A hostdev's source as text: vendor:product of a USB device, else its whole source. */
static char *key_hostdev(xmlNodePtr el) {
        xmlNodePtr src = first_child(el, "source");
        if (!src)
                return g_strdup("");
        g_autofree char *v = attr_or_empty(first_child(src, "vendor"), "id");
        g_autofree char *p = attr_or_empty(first_child(src, "product"), "id");
        xmlBufferPtr b = xmlBufferCreate();
        if (b)
                xmlNodeDump(b, el->doc, src, 0, 0);
        char *k = g_strdup_printf("%s:%s:%s", v, p, b ? (const char *) xmlBufferContent(b) : "");
        xmlBufferFree(b);
        return k;
}

/* Disks: the guest-facing details of an existing disk may change; a new disk, or one whose
 * source, format or kind changes, must be a file image under a [Storage] filesystem
 * (check_disk). */
static const AllowRule disk_target = { .name = "target", .attrs = ATTRS("dev", "bus", "removable", "rotation_rate", "tray") };
static const AllowRule disk_driver_existing = {
        .name = "driver",
        .attrs = ATTRS("cache", "io", "discard", "detect_zeroes", "iothread", "queues", "queue_size", "error_policy",
                       "rerror_policy", "copy_on_read", "ioeventfd", "event_idx"),
};
static const AllowRule disk_serial = TEXT_RULE("serial");
static const AllowRule disk_wwn = TEXT_RULE("wwn");
static const AllowRule disk_vendor = TEXT_RULE("vendor");
static const AllowRule disk_product = TEXT_RULE("product");
static const AllowRule disk_blockio = { .name = "blockio", .attrs = ATTRS("logical_block_size", "physical_block_size"), .removable = true };
static const AllowRule disk_iotune = { .name = "iotune", .free = true, .removable = true };
static const AllowRule disk_geometry = { .name = "geometry", .attrs = ATTRS("cyls", "heads", "secs", "trans"), .removable = true };
static const AllowRule disk_readonly = { .name = "readonly" };
static int check_disk(const GuardCtx *g, xmlNodePtr el, char **why);
static const AllowRule disk = {
        .name = "disk",
        .children = KIDS(&disk_target, &disk_driver_existing, &boot_order, &guest_address, &alias, &disk_serial, &disk_wwn,
                         &disk_vendor, &disk_product, &disk_blockio, &disk_iotune, &disk_geometry, &disk_readonly),
        .removable = true,
        .check_new = check_disk,
        .key = key_target_dev,
};

/* What a new disk may have, besides its source and driver (checked by check_disk). */
static const AllowRule disk_driver_new = {
        .name = "driver",
        .attrs = ATTRS("name=qemu", "type=raw|qcow2", "cache", "io", "discard", "detect_zeroes", "iothread", "queues",
                       "queue_size", "error_policy", "rerror_policy", "copy_on_read", "ioeventfd", "event_idx"),
};
static const AllowRule disk_source_new = { .name = "source", .attrs = ATTRS("file=*") };
static const AllowRule disk_backing_none = { .name = "backingStore" };
static const AllowRule disk_readonly_new = { .name = "readonly" };
static const AllowRule disk_new = {
        .name = "disk",
        .attrs = ATTRS("type=file", "device=disk|cdrom"),
        .children = KIDS(&disk_target, &disk_driver_new, &disk_source_new, &disk_backing_none, &boot_order, &guest_address,
                         &alias, &disk_serial, &disk_wwn, &disk_vendor, &disk_product, &disk_blockio, &disk_iotune,
                         &disk_geometry, &disk_readonly_new),
};

static bool under(const char *dir, const char *path) {
        size_t n = strlen(dir);
        while (n > 1 && dir[n - 1] == '/')
                n--;
        return n > 1 && strncmp(dir, path, n) == 0 && path[n] == '/' && path[n + 1] != '\0';
}

/* An absolute path without ".", ".." or empty components. */
static bool clean_path(const char *path) {
        if (path[0] != '/')
                return false;
        g_auto(GStrv) parts = g_strsplit(path + 1, "/", -1);
        for (char **p = parts; *p; p++)
                if (!**p || strcmp(*p, ".") == 0 || strcmp(*p, "..") == 0)
                        return false;
        return true;
}

static int check_image(const GuardCtx *g, const char *file, const char *format, char **why) {
        const DefinitionPolicy *p = g->policy;
        if (!clean_path(file))
                return guard_refuse(why, "'%s' is not a plain absolute path", file);
        bool on_storage = false;
        for (char *const *d = p->storage_dirs; d && *d && !on_storage; d++)
                on_storage = under(*d, file);
        if (!on_storage)
                return guard_refuse(why, "'%s' is not on a [Storage] filesystem", file);
        /* The raw disk a guest writes, read as qcow2, would name any backing file it likes. */
        if (strv_contains(g->in_use, file))
                return guard_refuse(why, "'%s' is an image the VM already uses; its format or kind may not change", file);
        if (p->check_path)
                return p->check_path(p->userdata, GUARD_PATH_IMAGE, file, format, g->in_use, why);
        return 0;
}

static int check_disk(const GuardCtx *g, xmlNodePtr el, char **why) {
        int r = allow_check_element(g, el, &disk_new, why);
        if (r < 0)
                return r;
        xmlNodePtr driver, source, backing;
        if (!sole_child(el, "driver", &driver) || !sole_child(el, "source", &source) ||
            !sole_child(el, "backingStore", &backing))
                return guard_refuse(why, "a disk with two <driver>, <source> or <backingStore> elements");
        _cleanup_free_ char *device = allow_attr(el, "device");
        _cleanup_free_ char *format = driver ? allow_attr(driver, "type") : NULL;
        _cleanup_free_ char *file = source ? allow_attr(source, "file") : NULL;
        _cleanup_free_ char *type = allow_attr(el, "type");
        if (!type)
                return guard_refuse(why, "a new disk says type='file'");
        if (backing && (backing->children || backing->properties))
                return guard_refuse(why, "a new disk has no backing file");
        if (!file) {
                /* An empty CD-ROM drive names nothing on the host. */
                if (streq_ptr(device, "cdrom"))
                        return 0;
                return guard_refuse(why, "a new disk names its image with <source file>");
        }
        if (!format)
                return guard_refuse(why, "a new disk gives its format (<driver type='raw'> or 'qcow2'), so it is never probed");
        return check_image(g, file, format, why);
}

static const AllowRule controller = { .name = "controller", .free = true, .removable = true, .key = key_controller };

static const AllowRule input = {
        .name = "input",
        .attrs = ATTRS("type=tablet|mouse|keyboard", "bus=usb|ps2|virtio|none"),
        .children = KIDS(&guest_address, &alias),
        .removable = true,
};

static const AllowRule video_accel = { .name = "acceleration", .attrs = ATTRS("accel3d", "accel2d"), .removable = true };
static const AllowRule video_model = {
        .name = "model",
        .attrs = ATTRS("type", "vram", "ram", "vram64", "vgamem", "heads", "primary", "blob"),
        .children = KIDS(&video_accel),
};
static const AllowRule video_resolution = { .name = "resolution", .attrs = ATTRS("x", "y"), .removable = true };
static const AllowRule video = {
        .name = "video",
        .children = KIDS(&video_model, &video_resolution, &guest_address, &alias),
        .removable = true,
};

static const AllowRule sound_codec = { .name = "codec", .attrs = ATTRS("type"), .removable = true };
static const AllowRule sound_audio = { .name = "audio", .attrs = ATTRS("id"), .removable = true };
static const AllowRule sound = {
        .name = "sound",
        .attrs = ATTRS("model"),
        .children = KIDS(&sound_codec, &sound_audio, &guest_address, &alias),
        .removable = true,
};
/* Audio backends that reach no host socket or file. */
static const AllowRule audio = { .name = "audio", .attrs = ATTRS("id", "type=none|spice"), .removable = true };

/* Graphics without a host socket, render node or X authority file; not <gl>, for which
 * libvirt hands QEMU the host's render node. */
static const AllowRule gr_listen = { .name = "listen", .attrs = ATTRS("type=address|network|none", "address", "network"), .removable = true };
static const AllowRule gr_channel = { .name = "channel", .attrs = ATTRS("name", "mode"), .removable = true };
static const AllowRule gr_image = { .name = "image", .attrs = ATTRS("compression"), .removable = true };
static const AllowRule gr_jpeg = { .name = "jpeg", .attrs = ATTRS("compression"), .removable = true };
static const AllowRule gr_zlib = { .name = "zlib", .attrs = ATTRS("compression"), .removable = true };
static const AllowRule gr_playback = { .name = "playback", .attrs = ATTRS("compression"), .removable = true };
static const AllowRule gr_streaming = { .name = "streaming", .attrs = ATTRS("mode"), .removable = true };
static const AllowRule gr_clipboard = { .name = "clipboard", .attrs = ATTRS("copypaste"), .removable = true };
static const AllowRule gr_mouse = { .name = "mouse", .attrs = ATTRS("mode"), .removable = true };
static const AllowRule gr_filetransfer = { .name = "filetransfer", .attrs = ATTRS("enable"), .removable = true };
static const AllowRule gr_audio = { .name = "audio", .attrs = ATTRS("id"), .removable = true };
static const AllowRule graphics = {
        .name = "graphics",
        .attrs = ATTRS("type=vnc|spice", "port", "autoport", "tlsPort", "listen", "passwd", "passwdValidTo", "connected",
                       "keymap", "sharePolicy", "defaultMode", "websocket", "powerControl"),
        .children = KIDS(&gr_listen, &gr_channel, &gr_image, &gr_jpeg, &gr_zlib, &gr_playback, &gr_streaming, &gr_clipboard,
                         &gr_mouse, &gr_filetransfer, &gr_audio),
        .removable = true,
};

static const AllowRule balloon_stats = { .name = "stats", .attrs = ATTRS("period"), .removable = true };
static const AllowRule balloon_driver = { .name = "driver", .attrs = ATTRS("iommu", "ats", "packed"), .removable = true };
static const AllowRule memballoon = {
        .name = "memballoon",
        .attrs = ATTRS("model=virtio|virtio-transitional|virtio-non-transitional|none", "autodeflate", "freePageReporting"),
        .children = KIDS(&balloon_stats, &balloon_driver, &guest_address, &alias),
        .removable = true,
};

/* USB hostdevs of configured ids; an existing hostdev of any kind may change its guest side. */
static const AllowRule hostdev_rom = { .name = "rom", .attrs = ATTRS("bar", "enabled"), .removable = true };
static int check_usb_hostdev(const GuardCtx *g, xmlNodePtr el, char **why);
/* Not managed: flipped to yes, libvirt takes a PCI device from its host driver at start. */
static const AllowRule hostdev = {
        .name = "hostdev",
        .children = KIDS(&guest_address, &alias, &boot_order, &hostdev_rom),
        .removable = true,
        .check_new = check_usb_hostdev,
        .key = key_hostdev,
};
static const AllowRule usb_id = { .name = "vendor", .attrs = ATTRS("id") };
static const AllowRule usb_product = { .name = "product", .attrs = ATTRS("id") };
static const AllowRule usb_source = {
        .name = "source",
        .attrs = ATTRS("startupPolicy=mandatory|requisite|optional", "guestReset"),
        .children = KIDS(&usb_id, &usb_product),
};
static const AllowRule usb_hostdev = {
        .name = "hostdev",
        .attrs = ATTRS("mode=subsystem", "type=usb", "managed"),
        .children = KIDS(&usb_source, &guest_address, &alias, &boot_order),
};

static bool hex_id(const char *s, unsigned long *ret) {
        char *end = NULL;
        if (!s || !*s)
                return false;
        *ret = strtoul(s, &end, 16);
        return end && !*end && *ret <= 0xffff;
}

static int check_usb_hostdev(const GuardCtx *g, xmlNodePtr el, char **why) {
        int r = allow_check_element(g, el, &usb_hostdev, why);
        if (r < 0)
                return r;
        xmlNodePtr src, vendor, product;
        if (!sole_child(el, "source", &src) || !sole_child(src, "vendor", &vendor) || !sole_child(src, "product", &product))
                return guard_refuse(why, "a USB device with two <source>, <vendor> or <product> elements");
        g_autofree char *type = attr_or_empty(el, "type");
        g_autofree char *v = attr_or_empty(vendor, "id");
        g_autofree char *p = attr_or_empty(product, "id");
        unsigned long vi, pi;
        if (strcmp(type, "usb") != 0 || !hex_id(v, &vi) || !hex_id(p, &pi))
                return guard_refuse(why, "only a USB device by vendor and product id");
        char id[10];
        usb_id_format((UsbId) { (uint16_t) vi, (uint16_t) pi }, id);
        if (!strv_contains(g->policy->usb_ids, id))
                return guard_refuse(why, "USB device %s is not in [Usb] Devices", id);
        return 0;
}

/* virtiofs shares: a folder the desktop user owns, served by an allowed virtiofsd. */
static const AllowRule fs_driver = { .name = "driver", .attrs = ATTRS("type=virtiofs", "queue") };
static const AllowRule fs_cache = { .name = "cache", .attrs = ATTRS("mode") };
static const AllowRule fs_lock = { .name = "lock", .attrs = ATTRS("posix", "flock") };
static const AllowRule fs_sandbox = { .name = "sandbox", .attrs = ATTRS("mode=namespace|chroot") };
static const AllowRule fs_pool = { .name = "thread_pool", .attrs = ATTRS("size") };
static const AllowRule fs_binary = {
        .name = "binary",
        .attrs = ATTRS("path=*", "xattr"),
        .children = KIDS(&fs_cache, &fs_lock, &fs_sandbox, &fs_pool),
};
static const AllowRule fs_source = { .name = "source", .attrs = ATTRS("dir=*") };
static const AllowRule fs_target = { .name = "target", .attrs = ATTRS("dir") };
static const AllowRule fs_readonly = { .name = "readonly" };
static const AllowRule filesystem_new = {
        .name = "filesystem",
        .attrs = ATTRS("type=mount", "accessmode=passthrough"),
        .children = KIDS(&fs_driver, &fs_binary, &fs_source, &fs_target, &fs_readonly, &guest_address, &alias),
};
static int check_virtiofs(const GuardCtx *g, xmlNodePtr el, char **why);
static const AllowRule filesystem = {
        .name = "filesystem",
        .children = KIDS(&guest_address, &alias),
        .removable = true,
        .check_new = check_virtiofs,
        .key = key_target_dir,
};

static int check_virtiofs(const GuardCtx *g, xmlNodePtr el, char **why) {
        /* The rule admits any binary path and folder ("=*"): they are checked here. */
        xmlNodePtr driver, binary, source;
        if (!sole_child(el, "driver", &driver) || !sole_child(el, "binary", &binary) || !sole_child(el, "source", &source))
                return guard_refuse(why, "a share with two <driver>, <binary> or <source> elements");
        _cleanup_free_ char *bin = binary ? allow_attr(binary, "path") : NULL;
        _cleanup_free_ char *dir = source ? allow_attr(source, "dir") : NULL;
        _cleanup_free_ char *dtype = driver ? allow_attr(driver, "type") : NULL;
        if (!streq_ptr(dtype, "virtiofs"))
                return guard_refuse(why, "only a virtiofs share (<driver type='virtiofs'/>)");
        /* A virtiofsd the VM runs already brings in no new program. */
        if (!bin || !(strv_contains(g->policy->virtiofsd_allowed, bin) || strv_contains(g->virtiofsd_in_use, bin)))
                return guard_refuse(why, "its virtiofsd '%s' is not in [Virtiofs] AllowedBinaries", bin ? bin : "(libvirt's default)");
        if (!dir || !clean_path(dir))
                return guard_refuse(why, "its folder '%s' is not a plain absolute path", dir ? dir : "");
        /* A folder the VM shares already (another virtiofsd for it, say) is no new one. */
        bool shared = strv_contains(g->shares_in_use, dir);
        bool in_home = shared;
        for (char *const *d = g->policy->share_dirs; d && *d && !in_home; d++)
                in_home = under(*d, dir);
        if (!in_home)
                return guard_refuse(why, "'%s' is not a folder in the desktop user's home", dir);
        int r = allow_check_element(g, el, &filesystem_new, why);
        if (r < 0)
                return r;
        if (g->policy->check_path && !shared)
                return g->policy->check_path(g->policy->userdata, GUARD_PATH_SHARE, dir, NULL, g->in_use, why);
        return 0;
}

/* Character devices that reach nothing on the host: a pty, nothing, SPICE. */
static const AllowRule chr_target = { .name = "target", .free = true };
static const AllowRule serial = {
        .name = "serial",
        .attrs = ATTRS("type=pty|null|vc|spicevmc"),
        .children = KIDS(&chr_target, &guest_address, &alias),
        .removable = true,
};
static const AllowRule console = {
        .name = "console",
        .attrs = ATTRS("type=pty|null|vc|spicevmc"),
        .children = KIDS(&chr_target, &guest_address, &alias),
        .removable = true,
};
/* A unix channel without a path: libvirt makes its socket in its own folder (the guest agent). */
static const AllowRule chan_source = { .name = "source", .attrs = ATTRS("mode=bind") };
static const AllowRule vdagent_clipboard = { .name = "clipboard", .attrs = ATTRS("copypaste") };
static const AllowRule vdagent_mouse = { .name = "mouse", .attrs = ATTRS("mode") };
static const AllowRule channel = {
        .name = "channel",
        .attrs = ATTRS("type=spicevmc|qemu-vdagent|unix"),
        .children = KIDS(&chr_target, &chan_source, &vdagent_clipboard, &vdagent_mouse, &guest_address, &alias),
        .removable = true,
};
/* USB redirected from the SPICE viewer's side. */
static const AllowRule redirdev = {
        .name = "redirdev",
        .attrs = ATTRS("bus=usb", "type=spicevmc"),
        .children = KIDS(&guest_address, &alias, &boot_order),
        .removable = true,
};
static const AllowRule redirfilter = { .name = "redirfilter", .free = true, .removable = true };

/* Not action='dump': that writes the guest's memory to a host file. */
static const AllowRule watchdog = {
        .name = "watchdog",
        .attrs = ATTRS("model", "action=reset|shutdown|poweroff|pause|none|inject-nmi"),
        .children = KIDS(&guest_address, &alias),
        .removable = true,
};
static const AllowRule panic = { .name = "panic", .free = true, .removable = true };
static const AllowRule vsock = { .name = "vsock", .free = true, .removable = true };
static const AllowRule iommu = { .name = "iommu", .free = true, .removable = true };
static const AllowRule hub = { .name = "hub", .free = true, .removable = true };

/* Randomness from the kernel's own sources only. */
static const AllowRule rng_backend = { .name = "backend", .attrs = ATTRS("model=random|builtin"), .text = "/dev/urandom|/dev/random" };
static const AllowRule rng_rate = { .name = "rate", .attrs = ATTRS("bytes", "period"), .removable = true };
static const AllowRule rng = {
        .name = "rng",
        .attrs = ATTRS("model"),
        .children = KIDS(&rng_backend, &rng_rate, &guest_address, &alias),
        .removable = true,
};

/* An emulated TPM (swtpm), not the host's. */
static const AllowRule tpm_banks = { .name = "active_pcr_banks", .free = true, .removable = true };
static const AllowRule tpm_backend = {
        .name = "backend",
        .attrs = ATTRS("type=emulator", "version", "persistent_state"),
        .children = KIDS(&tpm_banks),
};
static const AllowRule tpm = {
        .name = "tpm",
        .attrs = ATTRS("model=tpm-tis|tpm-crb"),
        .children = KIDS(&tpm_backend, &guest_address, &alias),
        .removable = true,
};

/* An existing interface may change its model, MAC and link, not what it connects to. */
static const AllowRule if_model = { .name = "model", .attrs = ATTRS("type") };
static const AllowRule if_mac = { .name = "mac", .attrs = ATTRS("address") };
static const AllowRule if_link = { .name = "link", .attrs = ATTRS("state"), .removable = true };
static const AllowRule if_driver = {
        .name = "driver",
        .attrs = ATTRS("name=vhost|qemu", "queues", "txmode", "ioeventfd", "event_idx", "rx_queue_size", "tx_queue_size"),
        .removable = true,
};
static const AllowRule if_mtu = { .name = "mtu", .attrs = ATTRS("size"), .removable = true };
static const AllowRule interface = {
        .name = "interface",
        .children = KIDS(&if_model, &if_mac, &if_link, &if_driver, &if_mtu, &guest_address, &alias, &boot_order),
        .removable = true,
        .key = key_mac,
};

static const AllowRule devices = {
        .name = "devices",
        .children = KIDS(&disk, &controller, &input, &video, &sound, &audio, &graphics, &memballoon, &hostdev, &filesystem,
                         &serial, &console, &channel, &redirdev, &redirfilter, &watchdog, &panic, &vsock, &iommu, &hub, &rng,
                         &tpm, &interface),
};

static const AllowRule domain = {
        .name = "domain",
        .attrs = ATTRS("type=kvm|qemu"),
        .children = KIDS(&name_rule, &uuid_rule, &genid, &title, &description, &metadata, &memory, &current_memory, &max_memory,
                         &vcpu, &vcpus, &iothreads, &iothreadids, &cputune, &cpu, &features, &clock_rule, &pm, &on_poweroff,
                         &on_reboot, &on_crash, &memory_backing, &os, &devices),
};

const AllowRule *allowlist_domain(void) {
        return &domain;
}

/* Raw QEMU arguments can do anything QEMU can; winvm admits the one construct it writes itself
 * (the doctor's kvmfr.ivshmem repair), byte for byte, and any <qemu:commandline> may go. */
static int check_ivshmem_commandline(const GuardCtx *g, xmlNodePtr el, char **why) {
        const DefinitionPolicy *p = g->policy;
        if (p->ivshmem_device && p->ivshmem_size && ivshmem_construct_matches(el, p->ivshmem_device, p->ivshmem_size))
                return 0;
        return guard_refuse(why, "raw QEMU arguments other than the IVSHMEM device winvm writes for %s",
                            p->ivshmem_device ? p->ivshmem_device : "kvmfr");
}
static const AllowRule qemu_commandline = {
        .name = "commandline",
        .removable = true,
        .check_new = check_ivshmem_commandline,
};

const AllowRule *allowlist_foreign(const AllowRule *parent, xmlNodePtr child) {
        if (parent == &domain && child->ns && child->ns->href &&
            xmlStrcmp(child->ns->href, BAD_CAST IVSHMEM_QEMU_NS) == 0 &&
            xmlStrcmp(child->name, BAD_CAST "commandline") == 0)
                return &qemu_commandline;
        return NULL;
}
