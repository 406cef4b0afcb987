/* Unit tests for service/lib/kvmfr-checks.c: the size formula against the documented table, the
 * generated udev rule and modprobe options, the ACL, qemu.conf and IVSHMEM parsers, and every
 * kvmfr check against every fixture host (device nodes through FakeNode, see host-fixtures.h). */
#include <check.h>
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "host-fixtures.h"
#include "kvmfr-checks.h"
#include "util.h"

static KvmfrState state;
static CheckList checks;
static char *seed_xml;

static void setup(void) {
        memset(&state, 0, sizeof(state));
        checks = CHECK_LIST_INIT;
        seed_xml = fixture_text("domains/windows11-seed.xml");
}

static void teardown(void) {
        kvmfr_state_clear(&state);
        check_list_clear(&checks);
        free(seed_xml);
}

static void run_host(const char *name, const FakeHost *nodes, const KvmfrConfig *c, const char *xml) {
        HostOps ops = FAKE_OPS(nodes);
        const char *root = host_root(name);
        ck_assert_int_eq(kvmfr_state_read(root, c, &ops, &state), 0);
        ck_assert_int_eq(kvmfr_checks(root, c, &state, xml, &checks), 0);
        ck_assert_uint_eq(checks.n, 7);
}

/* --- the size formula ---------------------------------------------------------------------- */

static const struct {
        unsigned w, h;
        bool hdr;
        unsigned mib;
} sizes[] = {
        { 1920, 1080, false, 32 },
        { 2560, 1440, false, 64 },
        { 3840, 2160, false, 128 },     /* the seed: 63.28 MiB + 10 = 73.28 -> 128 */
        { 1920, 1080, true, 64 },
        { 2560, 1440, true, 128 },
        { 3840, 2160, true, 256 },
        { 1280, 720, false, 32 },       /* 7.03 + 10 = 17.03 -> 32 */
        { 3440, 1440, false, 64 },      /* 37.8 + 10 = 47.8 -> 64 */
        { 5120, 2880, false, 128 },     /* 112.5 + 10 = 122.5 -> 128 */
        { 7680, 4320, false, 512 },     /* 253.1 + 10 -> 512 */
};

START_TEST(test_required_size) {
        unsigned got = kvmfr_required_size_mib(sizes[_i].w, sizes[_i].h, sizes[_i].hdr);
        unsigned want = sizes[_i].mib;
        ck_assert_msg(got == want, "%ux%u%s: %u MiB, expected %u", sizes[_i].w, sizes[_i].h,
                      sizes[_i].hdr ? " HDR" : "", got, want);
}
END_TEST

START_TEST(test_required_size_edges) {
        /* Exactly a power of two stays: 54 MiB of frames + 10 = 64. */
        ck_assert_uint_eq(kvmfr_required_size_mib(3456, 2048, false), 64);      /* 3456*2048*8 = 54 MiB */
        ck_assert_uint_eq(kvmfr_required_size_mib(3457, 2048, false), 128);
        ck_assert_uint_eq(kvmfr_required_size_mib(0, 0, false), 16);
        ck_assert_uint_eq(kvmfr_required_size_mib(65535, 65535, true), 131072);       /* 65534 + 10 MiB */
}
END_TEST

/* --- generated files ----------------------------------------------------------------------- */

START_TEST(test_udev_rule) {
        KvmfrConfig c;
        kvmfr_config_init(&c);
        char *rule = NULL;
        ck_assert_int_eq(kvmfr_udev_rule(&c, &rule), 0);
        ck_assert_str_eq(rule, "SUBSYSTEM==\"kvmfr\", GROUP=\"kvm\", MODE=\"0660\"\n");
        free(rule);
        c.owner = "jarrett";    /* the seed's rule, byte for byte */
        ck_assert_int_eq(kvmfr_udev_rule(&c, &rule), 0);
        ck_assert_str_eq(rule, "SUBSYSTEM==\"kvmfr\", OWNER=\"jarrett\", GROUP=\"kvm\", MODE=\"0660\"\n");
        free(rule);
        c.group = "libvirtd";
        c.mode = 0600;
        ck_assert_int_eq(kvmfr_udev_rule(&c, &rule), 0);
        ck_assert_str_eq(rule, "SUBSYSTEM==\"kvmfr\", OWNER=\"jarrett\", GROUP=\"libvirtd\", MODE=\"0600\"\n");
        free(rule);
        c.group = NULL; /* the default */
        ck_assert_int_eq(kvmfr_udev_rule(&c, &rule), 0);
        ck_assert_ptr_nonnull(strstr(rule, "GROUP=\"kvm\""));
        free(rule);

        const char *bad[] = { "", "a\"b", "a b", "a,b", "a\\b", "a\nRUN+=\"/bin/sh\"" };
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                kvmfr_config_init(&c);
                c.owner = bad[i];
                ck_assert_int_eq(kvmfr_udev_rule(&c, &rule), -EINVAL);
                kvmfr_config_init(&c);
                c.group = bad[i];
                ck_assert_int_eq(kvmfr_udev_rule(&c, &rule), -EINVAL);
        }
        kvmfr_config_init(&c);
        c.mode = 010000;
        ck_assert_int_eq(kvmfr_udev_rule(&c, &rule), -EINVAL);
}
END_TEST

START_TEST(test_modprobe_options) {
        char *text = NULL;
        unsigned one[] = { 128 };
        ck_assert_int_eq(kvmfr_modprobe_options(one, 1, &text), 0);
        ck_assert_str_eq(text, "options kvmfr static_size_mb=128\n");
        free(text);
        unsigned two[] = { 128, 64 };
        ck_assert_int_eq(kvmfr_modprobe_options(two, 2, &text), 0);
        ck_assert_str_eq(text, "options kvmfr static_size_mb=128,64\n");
        free(text);
        ck_assert_int_eq(kvmfr_modprobe_options(one, 0, &text), -EINVAL);
        unsigned zero[] = { 0 };
        ck_assert_int_eq(kvmfr_modprobe_options(zero, 1, &text), -EINVAL);
}
END_TEST

START_TEST(test_parse_sizes) {
        unsigned *s = NULL;
        size_t n = 0;
        ck_assert_int_eq(kvmfr_parse_sizes("128", &s, &n), 0);
        ck_assert_uint_eq(n, 1);
        ck_assert_uint_eq(s[0], 128);
        free(s);
        ck_assert_int_eq(kvmfr_parse_sizes("128,64\n", &s, &n), 0);
        ck_assert_uint_eq(n, 2);
        ck_assert_uint_eq(s[1], 64);
        free(s);
        ck_assert_int_eq(kvmfr_parse_sizes("", &s, &n), 0);     /* loaded without the parameter */
        ck_assert_uint_eq(n, 0);
        free(s);
        ck_assert_int_eq(kvmfr_parse_sizes("abc", &s, &n), -EINVAL);
        ck_assert_int_eq(kvmfr_parse_sizes("0", &s, &n), -EINVAL);
        ck_assert_int_eq(kvmfr_parse_sizes("128,", &s, &n), -EINVAL);
        ck_assert_int_eq(kvmfr_parse_sizes("-1", &s, &n), -EINVAL);
        ck_assert_int_eq(kvmfr_parse_sizes("128 64", &s, &n), -EINVAL);
}
END_TEST

/* --- ACLs ---------------------------------------------------------------------------------- */

/* system.posix_acl_access as the kernel stores it after `setfacl -m u:1000:rw`. */
static const unsigned char acl_bytes[] = {
        0x02, 0x00, 0x00, 0x00,
        0x01, 0x00, 0x06, 0x00, 0xff, 0xff, 0xff, 0xff,         /* user::rw- */
        0x02, 0x00, 0x06, 0x00, 0xe8, 0x03, 0x00, 0x00,         /* user:1000:rw- */
        0x04, 0x00, 0x06, 0x00, 0xff, 0xff, 0xff, 0xff,         /* group::rw- */
        0x08, 0x00, 0x04, 0x00, 0x2e, 0x01, 0x00, 0x00,         /* group:302:r-- */
        0x10, 0x00, 0x06, 0x00, 0xff, 0xff, 0xff, 0xff,         /* mask::rw- */
        0x20, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff,         /* other::--- */
};

START_TEST(test_acl_decode) {
        char **acl = NULL;
        ck_assert_int_eq(kvmfr_acl_decode(host_root("intel-seed"), acl_bytes, sizeof(acl_bytes), &acl), 0);
        const char *want[] = { "user::rw-", "user:jarrett:rw-", "group::rw-", "group:kvm:r--", "mask::rw-",
                               "other::---" };
        ck_assert_uint_eq(strv_length(acl), G_N_ELEMENTS(want));
        for (size_t i = 0; i < G_N_ELEMENTS(want); i++)
                ck_assert_str_eq(acl[i], want[i]);
        strv_free(acl);
        /* Not in the root's passwd: the number. */
        ck_assert_int_eq(kvmfr_acl_decode("/nonexistent-winvm-root", acl_bytes, sizeof(acl_bytes), &acl), 0);
        ck_assert_str_eq(acl[1], "user:1000:rw-");
        strv_free(acl);

        unsigned char bad[sizeof(acl_bytes)];
        memcpy(bad, acl_bytes, sizeof(bad));
        bad[0] = 1;     /* version */
        ck_assert_int_eq(kvmfr_acl_decode(NULL, bad, sizeof(bad), &acl), -EINVAL);
        ck_assert_int_eq(kvmfr_acl_decode(NULL, acl_bytes, sizeof(acl_bytes) - 1, &acl), -EINVAL);
        ck_assert_int_eq(kvmfr_acl_decode(NULL, acl_bytes, 3, &acl), -EINVAL);
        memcpy(bad, acl_bytes, sizeof(bad));
        bad[4] = 0x40;  /* unknown tag */
        ck_assert_int_eq(kvmfr_acl_decode(NULL, bad, sizeof(bad), &acl), -EINVAL);
        ck_assert_int_eq(kvmfr_acl_decode(NULL, acl_bytes, 4, &acl), 0);        /* no entries */
        ck_assert_uint_eq(strv_length(acl), 0);
        strv_free(acl);
}
END_TEST

/* --- qemu.conf ----------------------------------------------------------------------------- */

START_TEST(test_qemu_conf) {
        char **acl = NULL;
        const char *conf = "# cgroup_device_acl = [ \"/dev/commented\" ]\n"
                           "user = \"qemu\"\n"
                           "cgroup_device_acl = [\n"
                           "    \"/dev/null\", \"/dev/kvm\", # a comment \"/dev/not\"\n"
                           "    \"/dev/kvmfr0\"\n"
                           "]\n"
                           "namespaces = [ \"mount\" ]\n";
        ck_assert_int_eq(kvmfr_qemu_conf_device_acl(conf, &acl), 0);
        ck_assert_uint_eq(strv_length(acl), 3);
        ck_assert_str_eq(acl[0], "/dev/null");
        ck_assert_str_eq(acl[2], "/dev/kvmfr0");
        strv_free(acl);
        ck_assert_int_eq(kvmfr_qemu_conf_device_acl("#cgroup_device_acl = [ \"/dev/kvmfr0\" ]\n", &acl), -ENOENT);
        ck_assert_int_eq(kvmfr_qemu_conf_device_acl("", &acl), -ENOENT);
        ck_assert_int_eq(kvmfr_qemu_conf_device_acl("my_cgroup_device_acl = [ \"/dev/kvmfr0\" ]\n", &acl), -ENOENT);
        ck_assert_int_eq(kvmfr_qemu_conf_device_acl("cgroup_device_acl=[\"/dev/a\"]\ncgroup_device_acl = []\n", &acl), 0);
        ck_assert_uint_eq(strv_length(acl), 0);     /* the last one wins */
        strv_free(acl);
}
END_TEST

/* --- the IVSHMEM device -------------------------------------------------------------------- */

START_TEST(test_ivshmem_seed) {
        KvmfrIvshmem iv;
        ck_assert_int_eq(kvmfr_ivshmem_from_xml(seed_xml, &iv), 0);
        ck_assert_int_eq(iv.kind, KVMFR_IVSHMEM_COMMANDLINE);
        ck_assert_str_eq(iv.backend_id, "looking-glass");
        ck_assert_str_eq(iv.mem_path, "/dev/kvmfr0");
        ck_assert_uint_eq(iv.size, 134217728ull);
        ck_assert(iv.share);
        kvmfr_ivshmem_clear(&iv);
}
END_TEST

#define DOMAIN_QEMU(args) \
        "<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'><name>w</name>" \
        "<qemu:commandline>" args "</qemu:commandline></domain>"

START_TEST(test_ivshmem_forms) {
        KvmfrIvshmem iv;
        /* The key=value form, the object before the device, a size with a suffix. */
        ck_assert_int_eq(kvmfr_ivshmem_from_xml(DOMAIN_QEMU(
                "<qemu:arg value='-object'/>"
                "<qemu:arg value='memory-backend-file,id=lg,mem-path=/dev/kvmfr1,size=64M,share=yes'/>"
                "<qemu:arg value='-device'/><qemu:arg value='ivshmem-plain,id=shmem0,memdev=lg'/>"), &iv), 0);
        ck_assert_int_eq(iv.kind, KVMFR_IVSHMEM_COMMANDLINE);
        ck_assert_str_eq(iv.backend_id, "lg");
        ck_assert_str_eq(iv.mem_path, "/dev/kvmfr1");
        ck_assert_uint_eq(iv.size, 64ull << 20);
        ck_assert(iv.share);
        kvmfr_ivshmem_clear(&iv);

        /* Double-quoted JSON, share off, a device naming a backend that is not there. */
        ck_assert_int_eq(kvmfr_ivshmem_from_xml(DOMAIN_QEMU(
                "<qemu:arg value='-device'/><qemu:arg value='{\"driver\":\"ivshmem-plain\",\"memdev\":\"a\"}'/>"
                "<qemu:arg value='-object'/>"
                "<qemu:arg value='{\"qom-type\":\"memory-backend-file\",\"id\":\"b\",\"mem-path\":\"/dev/kvmfr0\"}'/>"),
                &iv), 0);
        ck_assert_int_eq(iv.kind, KVMFR_IVSHMEM_COMMANDLINE);
        ck_assert_str_eq(iv.backend_id, "a");
        ck_assert_ptr_null(iv.mem_path);
        kvmfr_ivshmem_clear(&iv);

        /* libvirt's <shmem>: a /dev/shm file. */
        ck_assert_int_eq(kvmfr_ivshmem_from_xml(
                "<domain><devices><shmem name='looking-glass'><model type='ivshmem-plain'/>"
                "<size unit='M'>32</size></shmem></devices></domain>", &iv), 0);
        ck_assert_int_eq(iv.kind, KVMFR_IVSHMEM_SHMEM);
        ck_assert_str_eq(iv.backend_id, "looking-glass");
        ck_assert_uint_eq(iv.size, 32ull << 20);
        kvmfr_ivshmem_clear(&iv);

        /* No IVSHMEM at all, or a qemu:commandline without one. */
        ck_assert_int_eq(kvmfr_ivshmem_from_xml("<domain><name>x</name></domain>", &iv), 0);
        ck_assert_int_eq(iv.kind, KVMFR_IVSHMEM_NONE);
        kvmfr_ivshmem_clear(&iv);
        ck_assert_int_eq(kvmfr_ivshmem_from_xml(DOMAIN_QEMU("<qemu:arg value='-device'/>"
                                                            "<qemu:arg value='{bad json'/>"
                                                            "<qemu:arg value='-s'/>"), &iv), 0);
        ck_assert_int_eq(iv.kind, KVMFR_IVSHMEM_NONE);
        kvmfr_ivshmem_clear(&iv);
        ck_assert_int_eq(kvmfr_ivshmem_from_xml("<domain>", &iv), -EINVAL);
}
END_TEST

/* --- every check against every fixture host ------------------------------------------------ */

START_TEST(test_intel_seed) {
        KvmfrConfig c;
        kvmfr_config_init(&c);
        c.owner = "jarrett";
        run_host("intel-seed", &intel_seed_host, &c, seed_xml);
        ck_assert(state.loaded);
        ck_assert_uint_eq(state.n_static_sizes, 1);
        ck_assert_uint_eq(state.static_sizes_mib[0], 128);
        ck_assert_uint_eq(state.n_configured_sizes, 1);
        ck_assert_uint_eq(state.n_devices, 1);
        const KvmfrDevice *d = &state.devices[0];
        ck_assert_str_eq(d->path, "/dev/kvmfr0");
        ck_assert(d->exists && d->is_char);
        ck_assert_uint_eq(d->major, 242);
        ck_assert_str_eq(d->owner, "jarrett");
        ck_assert_str_eq(d->group, "kvm");
        ck_assert_uint_eq(d->mode, 0660);
        ck_assert_uint_eq(strv_length(d->acl), 5);
        ck_assert_str_eq(d->acl[1], "user:jarrett:rw-");
        ck_assert_ptr_null(d->acl_error);

        assert_check(&checks, "kvmfr.loaded", CHECK_OK, "static_size_mb=128", NULL);
        assert_check(&checks, "kvmfr.size", CHECK_OK, "/dev/kvmfr0 is 128 MiB; 3840x2160 SDR needs 128 MiB", NULL);
        assert_check(&checks, "kvmfr.device", CHECK_OK, "character device (242:0)", NULL);
        assert_check(&checks, "kvmfr.permissions", CHECK_OK, "/dev/kvmfr0 is jarrett:kvm 0660 (ACL user::rw-,user:jarrett:rw-",
                     NULL);
        assert_check(&checks, "kvmfr.cgroup-acl", CHECK_OK, "lists /dev/kvmfr0", NULL);
        assert_check(&checks, "kvmfr.ivshmem-path", CHECK_OK, "'looking-glass' uses /dev/kvmfr0", NULL);
        assert_check(&checks, "kvmfr.ivshmem-size", CHECK_OK, "134217728 bytes, static_size_mb=128", NULL);
        ck_assert_int_eq(check_list_worst(&checks), CHECK_OK);
}
END_TEST

/* The default config (no owner): the group and mode decide. */
START_TEST(test_intel_seed_defaults) {
        run_host("intel-seed", &intel_seed_host, NULL, NULL);
        assert_check(&checks, "kvmfr.permissions", CHECK_OK, NULL, NULL);
        assert_check(&checks, "kvmfr.ivshmem-path", CHECK_SKIPPED, "No domain XML", NULL);
        assert_check(&checks, "kvmfr.ivshmem-size", CHECK_SKIPPED, "No domain XML", NULL);
}
END_TEST

START_TEST(test_audio_on_snd) {
        run_host("audio-on-snd", &no_nodes_host, NULL, seed_xml);
        ck_assert(!state.loaded);
        ck_assert_uint_eq(state.n_static_sizes, 0);
        ck_assert_uint_eq(state.n_configured_sizes, 1);
        ck_assert(state.devices[0].exists && !state.devices[0].is_char);

        assert_check(&checks, "kvmfr.loaded", CHECK_FAIL, "kvmfr is not loaded",
                     "sudo modprobe kvmfr static_size_mb=128. To load it at boot: `kvmfr` in "
                     "/etc/modules-load.d/kvmfr.conf and `options kvmfr static_size_mb=128` in /etc/modprobe.d/kvmfr.conf");
        assert_check(&checks, "kvmfr.size", CHECK_OK, "128 MiB (from the modprobe options)", NULL);
        assert_check(&checks, "kvmfr.device", CHECK_FAIL,
                     "/dev/kvmfr0 is a regular file, not a character device: QEMU created it because the guest "
                     "started before kvmfr was loaded",
                     "Shut the guest down, remove the file (sudo rm /dev/kvmfr0), load kvmfr (sudo modprobe kvmfr "
                     "static_size_mb=128), then start the guest");
        assert_check(&checks, "kvmfr.permissions", CHECK_SKIPPED, "No /dev/kvmfr0 character device", NULL);
        assert_check(&checks, "kvmfr.cgroup-acl", CHECK_FAIL, "/etc/libvirt/qemu.conf sets no cgroup_device_acl",
                     "Set `cgroup_device_acl = [ \"/dev/null\", \"/dev/full\", \"/dev/zero\", \"/dev/random\", "
                     "\"/dev/urandom\", \"/dev/ptmx\", \"/dev/kvm\", \"/dev/kvmfr0\" ]` in /etc/libvirt/qemu.conf");
        assert_check(&checks, "kvmfr.ivshmem-path", CHECK_OK, NULL, NULL);
        assert_check(&checks, "kvmfr.ivshmem-size", CHECK_OK, "static_size_mb=128 of the modprobe options", NULL);
}
END_TEST

START_TEST(test_shared_group) {
        KvmfrConfig c;
        kvmfr_config_init(&c);
        c.owner = "jarrett";
        run_host("shared-group", &shared_group_host, &c, seed_xml);
        ck_assert_uint_eq(state.static_sizes_mib[0], 64);
        ck_assert_uint_eq(strv_length(state.devices[0].acl), 0);

        assert_check(&checks, "kvmfr.loaded", CHECK_OK, "static_size_mb=64", NULL);
        assert_check(&checks, "kvmfr.size", CHECK_FAIL, "/dev/kvmfr0 is 64 MiB; 3840x2160 SDR needs 128 MiB",
                     "Set `options kvmfr static_size_mb=128` in /etc/modprobe.d/kvmfr.conf (NixOS: "
                     "boot.extraModprobeConfig), then with the guest shut down: sudo modprobe -r kvmfr && sudo "
                     "modprobe kvmfr static_size_mb=128");
        assert_check(&checks, "kvmfr.device", CHECK_OK, NULL, NULL);
        assert_check(&checks, "kvmfr.permissions", CHECK_FAIL,
                     "/dev/kvmfr0 is root:root 0600 (ACL none): group root, not kvm; mode 0600, not 0660; owner "
                     "root, not jarrett, and no ACL entry user:jarrett:rw-",
                     "Write `SUBSYSTEM==\"kvmfr\", OWNER=\"jarrett\", GROUP=\"kvm\", MODE=\"0660\"` to "
                     "/etc/udev/rules.d/99-kvmfr.rules (NixOS: services.udev.extraRules), then sudo udevadm control "
                     "--reload-rules && sudo udevadm trigger --subsystem-match=kvmfr");
        assert_check(&checks, "kvmfr.cgroup-acl", CHECK_OK, NULL, NULL);
        assert_check(&checks, "kvmfr.ivshmem-path", CHECK_OK, NULL, NULL);
        assert_check(&checks, "kvmfr.ivshmem-size", CHECK_FAIL,
                     "The IVSHMEM backend is 134217728 bytes, but static_size_mb=64 of the loaded module is 67108864 bytes",
                     "The definition has the size 3840x2160 needs: load kvmfr with static_size_mb=128");
}
END_TEST

START_TEST(test_iommu_off) {
        run_host("iommu-off", &no_nodes_host, NULL, seed_xml);
        ck_assert(!state.loaded);
        ck_assert(!state.devices[0].exists);

        assert_check(&checks, "kvmfr.loaded", CHECK_FAIL, NULL, "sudo modprobe kvmfr static_size_mb=128");
        assert_check(&checks, "kvmfr.size", CHECK_FAIL,
                     "kvmfr is not loaded and /etc/modprobe.d/kvmfr.conf sets no static_size_mb; 3840x2160 SDR "
                     "needs 128 MiB",
                     "Set `options kvmfr static_size_mb=128` in /etc/modprobe.d/kvmfr.conf");
        assert_check(&checks, "kvmfr.device", CHECK_FAIL, "/dev/kvmfr0 does not exist: kvmfr is not loaded",
                     "sudo modprobe kvmfr static_size_mb=128");
        assert_check(&checks, "kvmfr.permissions", CHECK_SKIPPED, NULL, NULL);
        assert_check(&checks, "kvmfr.cgroup-acl", CHECK_FAIL, "/etc/libvirt/qemu.conf does not exist",
                     "\"/dev/kvm\", \"/dev/kvmfr0\" ]`");
        assert_check(&checks, "kvmfr.ivshmem-path", CHECK_OK, NULL, NULL);
        assert_check(&checks, "kvmfr.ivshmem-size", CHECK_SKIPPED, "static_size_mb for /dev/kvmfr0 is not known", NULL);
}
END_TEST

START_TEST(test_amd) {
        KvmfrConfig c;
        kvmfr_config_init(&c);
        c.owner = "jarrett";
        c.hdr = true;
        run_host("amd", &amd_host, &c, seed_xml);
        ck_assert_str_eq(state.devices[0].owner, "root");

        assert_check(&checks, "kvmfr.loaded", CHECK_OK, "static_size_mb=256", NULL);
        assert_check(&checks, "kvmfr.size", CHECK_OK, "/dev/kvmfr0 is 256 MiB; 3840x2160 HDR needs 256 MiB", NULL);
        assert_check(&checks, "kvmfr.device", CHECK_OK, "(511:0)", NULL);
        /* The owner is root, but the ACL gives jarrett rw: fine. */
        assert_check(&checks, "kvmfr.permissions", CHECK_OK, "root:kvm 0660 (ACL user::rw-,user:jarrett:rw-", NULL);
        assert_check(&checks, "kvmfr.cgroup-acl", CHECK_OK, NULL, NULL);
        assert_check(&checks, "kvmfr.ivshmem-path", CHECK_OK, NULL, NULL);
        assert_check(&checks, "kvmfr.ivshmem-size", CHECK_FAIL, "static_size_mb=256 of the loaded module is 268435456 bytes",
                     "winvmctl doctor --fix kvmfr.ivshmem-size (it writes 'size':268435456");
}
END_TEST

/* An ACL whose mask takes write away does not grant rw. */
START_TEST(test_acl_mask) {
        static const FakeNode nodes[] = {
                { "/dev/kvmfr0", S_IFCHR | 0660, 511, 0, 0, 302,
                  "user::rw-,user:1000:rw-,group::rw-,mask::r--,other::---" },
        };
        const FakeHost host = { nodes, 1 };
        KvmfrConfig c;
        kvmfr_config_init(&c);
        c.owner = "jarrett";
        run_host("amd", &host, &c, NULL);
        assert_check(&checks, "kvmfr.permissions", CHECK_FAIL, "owner root, not jarrett, and no ACL entry user:jarrett:rw-",
                     "OWNER=\"jarrett\"");
}
END_TEST

/* A group the host does not have: create it first. */
START_TEST(test_missing_group) {
        KvmfrConfig c;
        kvmfr_config_init(&c);
        c.group = "looking-glass";
        run_host("intel-seed", &intel_seed_host, &c, NULL);
        assert_check(&checks, "kvmfr.permissions", CHECK_FAIL, "group kvm, not looking-glass (no such group)",
                     "Create the group (sudo groupadd -r looking-glass). Write `SUBSYSTEM==\"kvmfr\", "
                     "GROUP=\"looking-glass\", MODE=\"0660\"`");
}
END_TEST

/* Loaded without static_size_mb: no devices. */
START_TEST(test_loaded_without_sizes) {
        char tmpl[] = "/tmp/winvm-kvmfr-XXXXXX";
        char *root = mkdtemp(tmpl);
        char path[512];
        snprintf(path, sizeof(path), "mkdir -p %s/sys/module/kvmfr/parameters && echo > "
                                     "%s/sys/module/kvmfr/parameters/static_size_mb", root, root);
        ck_assert_int_eq(system(path), 0);
        ck_assert_int_eq(kvmfr_state_read(root, NULL, NULL, &state), 0);
        ck_assert_int_eq(kvmfr_checks(root, NULL, &state, NULL, &checks), 0);
        assert_check(&checks, "kvmfr.loaded", CHECK_OK, "static_size_mb=none", NULL);
        assert_check(&checks, "kvmfr.size", CHECK_FAIL, "loaded without static_size_mb, so it made no device",
                     "sudo modprobe -r kvmfr && sudo modprobe kvmfr static_size_mb=128");
        assert_check(&checks, "kvmfr.device", CHECK_FAIL, "/dev/kvmfr0 does not exist",
                     "With the guest shut down: sudo modprobe -r kvmfr && sudo modprobe kvmfr static_size_mb=128");
        snprintf(path, sizeof(path), "rm -rf %s", root);
        ck_assert_int_eq(system(path), 0);
}
END_TEST

/* The IVSHMEM cross-checks on other XML forms. */
START_TEST(test_ivshmem_checks) {
        run_host("intel-seed", &intel_seed_host, NULL,
                 "<domain><devices><shmem name='looking-glass'><model type='ivshmem-plain'/>"
                 "<size unit='M'>128</size></shmem></devices></domain>");
        assert_check(&checks, "kvmfr.ivshmem-path", CHECK_FAIL,
                     "The domain uses libvirt's <shmem name='looking-glass'>, a file in /dev/shm, not /dev/kvmfr0",
                     "'mem-path':'/dev/kvmfr0','size':134217728,'share':true}");
        assert_check(&checks, "kvmfr.ivshmem-size", CHECK_SKIPPED, NULL, NULL);
        check_list_clear(&checks);
        kvmfr_state_clear(&state);

        run_host("intel-seed", &intel_seed_host, NULL, "<domain><name>x</name></domain>");
        assert_check(&checks, "kvmfr.ivshmem-path", CHECK_FAIL, "The domain has no IVSHMEM device",
                     "winvmctl doctor --fix kvmfr.ivshmem-path (it adds");
        check_list_clear(&checks);
        kvmfr_state_clear(&state);

        run_host("intel-seed", &intel_seed_host, NULL, DOMAIN_QEMU(
                "<qemu:arg value='-device'/><qemu:arg value='ivshmem-plain,memdev=lg'/>"
                "<qemu:arg value='-object'/>"
                "<qemu:arg value='memory-backend-file,id=lg,mem-path=/dev/shm/looking-glass,size=128M,share=on'/>"));
        assert_check(&checks, "kvmfr.ivshmem-path", CHECK_FAIL, "uses /dev/shm/looking-glass, not /dev/kvmfr0",
                     "winvmctl doctor --fix kvmfr.ivshmem-path (it writes 'mem-path':'/dev/kvmfr0' in place of the "
                     "memory-backend-file object 'lg'");
        assert_check(&checks, "kvmfr.ivshmem-size", CHECK_OK, NULL, NULL);
        check_list_clear(&checks);
        kvmfr_state_clear(&state);

        run_host("intel-seed", &intel_seed_host, NULL, DOMAIN_QEMU(
                "<qemu:arg value='-device'/><qemu:arg value='ivshmem-plain,memdev=lg'/>"
                "<qemu:arg value='-object'/>"
                "<qemu:arg value='memory-backend-file,id=lg,mem-path=/dev/kvmfr0,size=128M'/>"));
        assert_check(&checks, "kvmfr.ivshmem-path", CHECK_FAIL, "is not shared", "'share':true");
        check_list_clear(&checks);
        kvmfr_state_clear(&state);

        run_host("intel-seed", &intel_seed_host, NULL, "<domain");
        assert_check(&checks, "kvmfr.ivshmem-path", CHECK_SKIPPED, "does not parse", NULL);
        assert_check(&checks, "kvmfr.ivshmem-size", CHECK_SKIPPED, "does not parse", NULL);
}
END_TEST

START_TEST(test_bad_config) {
        KvmfrConfig c;
        kvmfr_config_init(&c);
        c.device = "/dev/shm/x";
        ck_assert_int_eq(kvmfr_state_read(host_root("intel-seed"), &c, NULL, &state), -EINVAL);
        kvmfr_config_init(&c);
        ck_assert_int_eq(kvmfr_state_read(host_root("intel-seed"), &c, NULL, &state), 0);
        c.width = 0;
        ck_assert_int_eq(kvmfr_checks(host_root("intel-seed"), &c, &state, NULL, &checks), -EINVAL);
        kvmfr_config_init(&c);
        c.owner = "x\" RUN+=\"/bin/sh";
        ck_assert_int_eq(kvmfr_checks(host_root("intel-seed"), &c, &state, NULL, &checks), -EINVAL);
        ck_assert_uint_eq(checks.n, 0);
}
END_TEST

/* A NixOS host is told by /etc/NIXOS under its root; the seed's stand-in (NixOS-flavoured in
 * other ways, with run/current-system) has none, and a root with the file is one. */
START_TEST(test_managed_by_nixos) {
        ck_assert(!kvmfr_managed_by_nixos(host_root("intel-seed")));
        g_autoptr(GError) e = NULL;
        g_autofree char *root = g_dir_make_tmp("winvm-test-nixos-XXXXXX", &e);
        ck_assert_msg(root != NULL, "g_dir_make_tmp: %s", e ? e->message : "?");
        g_autofree char *etc = g_build_filename(root, "etc", NULL);
        g_autofree char *marker = g_build_filename(etc, "NIXOS", NULL);
        ck_assert(!kvmfr_managed_by_nixos(root));
        ck_assert_int_eq(g_mkdir(etc, 0755), 0);
        ck_assert(g_file_set_contents(marker, "", 0, NULL));
        ck_assert(kvmfr_managed_by_nixos(root));
        ck_assert_int_eq(g_unlink(marker), 0);
        ck_assert_int_eq(g_rmdir(etc), 0);
        ck_assert_int_eq(g_rmdir(root), 0);
}
END_TEST

static Suite *kvmfr_suite(void) {
        Suite *s = suite_create("kvmfr-checks");
        TCase *tc = tcase_create("size");
        tcase_add_loop_test(tc, test_required_size, 0, G_N_ELEMENTS(sizes));
        tcase_add_test(tc, test_required_size_edges);
        suite_add_tcase(s, tc);

        tc = tcase_create("files");
        tcase_add_test(tc, test_udev_rule);
        tcase_add_test(tc, test_modprobe_options);
        tcase_add_test(tc, test_parse_sizes);
        tcase_add_test(tc, test_acl_decode);
        tcase_add_test(tc, test_qemu_conf);
        suite_add_tcase(s, tc);

        tc = tcase_create("ivshmem");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_ivshmem_seed);
        tcase_add_test(tc, test_ivshmem_forms);
        suite_add_tcase(s, tc);

        tc = tcase_create("hosts");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_intel_seed);
        tcase_add_test(tc, test_intel_seed_defaults);
        tcase_add_test(tc, test_audio_on_snd);
        tcase_add_test(tc, test_shared_group);
        tcase_add_test(tc, test_iommu_off);
        tcase_add_test(tc, test_amd);
        tcase_add_test(tc, test_acl_mask);
        tcase_add_test(tc, test_missing_group);
        tcase_add_test(tc, test_loaded_without_sizes);
        tcase_add_test(tc, test_ivshmem_checks);
        tcase_add_test(tc, test_bad_config);
        tcase_add_test(tc, test_managed_by_nixos);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        SRunner *sr = srunner_create(kvmfr_suite());
        srunner_set_fork_status(sr, CK_FORK_GETENV); /* forks unless CK_FORK=no */
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
