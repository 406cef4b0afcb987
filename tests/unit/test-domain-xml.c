/* Unit tests for service/domain-xml.c: the file-backed disk images named in a libvirt domain XML. */
#include <check.h>
#include <errno.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "domain-xml.h"
#include "util.h"

/* What the last call returned; freed by the fixture so a failing test does not leak. */
static char **files;

static void setup(void) {
        files = NULL;
}

static void teardown(void) {
        strv_free(files);
        files = NULL;
}

static void assert_files(const char *const *expected) {
        size_t n = 0;
        ck_assert_ptr_nonnull(files);
        for (; expected[n]; n++) {
                ck_assert_msg(files[n] != NULL, "only %zu files, expected '%s' next", n, expected[n]);
                ck_assert_str_eq(files[n], expected[n]);
        }
        ck_assert_msg(files[n] == NULL, "unexpected extra file '%s'", files[n]);
}

static void parse_ok(const char *xml) {
        int r = domain_xml_disk_files(xml, &files);
        ck_assert_msg(r == 0, "domain_xml_disk_files failed: %d", r);
        ck_assert_ptr_nonnull(files);
}

/* `virsh dumpxml Windows11` of the seed's VM, as libvirt writes it for a running guest: UEFI
 * with Secure Boot, TPM, the system disk, a data disk with a backing file, the Windows and
 * virtio-win installation ISOs, and devices that are not images (block, network, empty). */
static const char windows11_xml[] =
        "<domain type='kvm' id='3' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>\n"
        "  <name>Windows11</name>\n"
        "  <uuid>4b1f6a52-8d0e-4c8e-9a51-0c2a4f3d7e11</uuid>\n"
        "  <metadata>\n"
        "    <libosinfo:libosinfo xmlns:libosinfo=\"http://libosinfo.org/xmlns/libvirt/domain/1.0\">\n"
        "      <libosinfo:os id=\"http://microsoft.com/win/11\"/>\n"
        "    </libosinfo:libosinfo>\n"
        "  </metadata>\n"
        "  <memory unit='KiB'>16777216</memory>\n"
        "  <currentMemory unit='KiB'>16777216</currentMemory>\n"
        "  <vcpu placement='static'>8</vcpu>\n"
        "  <os firmware='efi'>\n"
        "    <type arch='x86_64' machine='pc-q35-8.2'>hvm</type>\n"
        "    <firmware>\n"
        "      <feature enabled='yes' name='enrolled-keys'/>\n"
        "      <feature enabled='yes' name='secure-boot'/>\n"
        "    </firmware>\n"
        "    <loader readonly='yes' secure='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.ms.fd</loader>\n"
        "    <nvram template='/usr/share/OVMF/OVMF_VARS_4M.ms.fd'>/var/lib/libvirt/qemu/nvram/Windows11_VARS.fd</nvram>\n"
        "    <boot dev='hd'/>\n"
        "  </os>\n"
        "  <features>\n"
        "    <acpi/>\n"
        "    <apic/>\n"
        "    <hyperv mode='custom'>\n"
        "      <relaxed state='on'/>\n"
        "      <vapic state='on'/>\n"
        "      <spinlocks state='on' retries='8191'/>\n"
        "    </hyperv>\n"
        "    <smm state='on'/>\n"
        "  </features>\n"
        "  <cpu mode='host-passthrough' check='none' migratable='on'/>\n"
        "  <clock offset='localtime'>\n"
        "    <timer name='hypervclock' present='yes'/>\n"
        "  </clock>\n"
        "  <on_poweroff>destroy</on_poweroff>\n"
        "  <on_reboot>restart</on_reboot>\n"
        "  <on_crash>destroy</on_crash>\n"
        "  <devices>\n"
        "    <emulator>/usr/bin/qemu-system-x86_64</emulator>\n"
        "    <disk type='file' device='disk'>\n"
        "      <driver name='qemu' type='qcow2' discard='unmap'/>\n"
        "      <source file='/vm-storage/images/windows11.qcow2' index='4'/>\n"
        "      <backingStore/>\n"
        "      <target dev='sda' bus='sata'/>\n"
        "      <boot order='1'/>\n"
        "      <alias name='sata0-0-0'/>\n"
        "      <address type='drive' controller='0' bus='0' target='0' unit='0'/>\n"
        "    </disk>\n"
        "    <disk type='file' device='cdrom'>\n"
        "      <driver name='qemu' type='raw'/>\n"
        "      <source file='/vm-storage/iso/Win11_23H2_English_x64.iso' index='3'/>\n"
        "      <target dev='sdb' bus='sata'/>\n"
        "      <readonly/>\n"
        "      <address type='drive' controller='0' bus='0' target='0' unit='1'/>\n"
        "    </disk>\n"
        "    <disk type='file' device='cdrom'>\n"
        "      <driver name='qemu' type='raw'/>\n"
        "      <source file='/vm-storage/iso/virtio-win-0.1.240.iso' index='2'/>\n"
        "      <target dev='sdc' bus='sata'/>\n"
        "      <readonly/>\n"
        "      <address type='drive' controller='0' bus='0' target='0' unit='2'/>\n"
        "    </disk>\n"
        "    <disk type='block' device='disk'>\n"
        "      <driver name='qemu' type='raw' cache='none' io='native'/>\n"
        "      <source dev='/dev/disk/by-id/nvme-Samsung_SSD_980_1TB_S64ANS0T123456'/>\n"
        "      <target dev='vdb' bus='virtio'/>\n"
        "    </disk>\n"
        "    <disk type='file' device='disk'>\n"
        "      <driver name='qemu' type='qcow2'/>\n"
        "      <source file='/vm-storage/images/windows11-data.qcow2' index='1'/>\n"
        "      <backingStore type='file' index='5'>\n"
        "        <format type='qcow2'/>\n"
        "        <source file='/vm-storage/images/windows11-data-base.qcow2'/>\n"
        "        <backingStore/>\n"
        "      </backingStore>\n"
        "      <target dev='vda' bus='virtio'/>\n"
        "    </disk>\n"
        "    <disk type='network' device='disk'>\n"
        "      <driver name='qemu' type='raw'/>\n"
        "      <source protocol='iscsi' name='iqn.2024-01.org.example:storage/1'>\n"
        "        <host name='192.168.1.20' port='3260'/>\n"
        "      </source>\n"
        "      <target dev='vdc' bus='virtio'/>\n"
        "    </disk>\n"
        "    <disk type='file' device='cdrom'>\n"
        "      <driver name='qemu' type='raw'/>\n"
        "      <target dev='sdd' bus='sata'/>\n"
        "      <readonly/>\n"
        "    </disk>\n"
        "    <disk type='file' device='floppy'>\n"
        "      <source file='/vm-storage/images/drivers.img'/>\n"
        "      <target dev='fda' bus='fdc'/>\n"
        "    </disk>\n"
        "    <controller type='sata' index='0'>\n"
        "      <address type='pci' domain='0x0000' bus='0x00' slot='0x1f' function='0x2'/>\n"
        "    </controller>\n"
        "    <controller type='usb' index='0' model='qemu-xhci' ports='15'/>\n"
        "    <filesystem type='mount' accessmode='passthrough'>\n"
        "      <source dir='/vm-storage/shared'/>\n"
        "      <target dir='shared'/>\n"
        "    </filesystem>\n"
        "    <interface type='network'>\n"
        "      <mac address='52:54:00:6b:3c:58'/>\n"
        "      <source network='default'/>\n"
        "      <model type='virtio'/>\n"
        "    </interface>\n"
        "    <serial type='file'>\n"
        "      <source path='/var/log/libvirt/qemu/Windows11-serial.log'/>\n"
        "      <target type='isa-serial' port='0'/>\n"
        "    </serial>\n"
        "    <input type='tablet' bus='usb'/>\n"
        "    <tpm model='tpm-crb'>\n"
        "      <backend type='emulator' version='2.0'/>\n"
        "    </tpm>\n"
        "    <graphics type='spice' autoport='yes'>\n"
        "      <listen type='address'/>\n"
        "    </graphics>\n"
        "    <video>\n"
        "      <model type='qxl' ram='65536' vram='65536' vgamem='16384' heads='1' primary='yes'/>\n"
        "    </video>\n"
        "    <memballoon model='virtio'/>\n"
        "  </devices>\n"
        "  <seclabel type='dynamic' model='apparmor' relabel='yes'/>\n"
        "</domain>\n";

/* ---- file-backed disks ---- */

START_TEST(test_windows11) {
        parse_ok(windows11_xml);
        /* Not the ISOs, the empty drive, the floppy, the block or network disk, the backing file,
         * the nvram, the shared folder or the serial log. */
        assert_files((const char *const[]) {
                "/vm-storage/images/windows11.qcow2",
                "/vm-storage/images/windows11-data.qcow2",
                NULL,
        });
}
END_TEST

/* The sandbox guest (tests/sandbox/windows11.xml.in), as virsh define accepts it. */
START_TEST(test_sandbox_guest) {
        parse_ok("<!-- comment -->\n"
                 "<domain type='kvm'>\n"
                 "  <name>Windows11</name>\n"
                 "  <memory unit='MiB'>128</memory>\n"
                 "  <os><type arch='x86_64' machine='q35'>hvm</type><boot dev='hd'/></os>\n"
                 "  <devices>\n"
                 "    <disk type='file' device='disk'>\n"
                 "      <driver name='qemu' type='qcow2'/>\n"
                 "      <source file='/vm-storage/images/windows11.qcow2'/>\n"
                 "      <target dev='vda' bus='virtio'/>\n"
                 "    </disk>\n"
                 "    <controller type='usb' model='none'/>\n"
                 "    <memballoon model='none'/>\n"
                 "  </devices>\n"
                 "</domain>\n");
        assert_files((const char *const[]) { "/vm-storage/images/windows11.qcow2", NULL });
}
END_TEST

/* Document order, not target or boot order; attribute order and quoting do not matter. */
START_TEST(test_document_order) {
        parse_ok("<?xml version='1.0' encoding='UTF-8'?>\n"
                 "<domain type='kvm'><name>w</name><devices>"
                 "<disk device='disk' type='file'><source file='/a/zeta.qcow2'/><target dev='vdc'/><boot order='3'/></disk>"
                 "<disk type=\"file\" device=\"disk\"><source file=\"/a/alpha.raw\"/><target dev='vda'/><boot order='1'/></disk>"
                 "<disk type='file' device='cdrom'><source file='/a/between.iso'/></disk>"
                 "<disk type='file' device='disk'><target dev='vdb'/><source file='/a/mid.img'/></disk>"
                 "</devices></domain>");
        assert_files((const char *const[]) { "/a/zeta.qcow2", "/a/alpha.raw", "/a/mid.img", NULL });
}
END_TEST

/* Paths come back as libvirt means them: entities decoded, spaces and UTF-8 kept. */
START_TEST(test_path_characters) {
        parse_ok("<domain><devices>"
                 "<disk type='file' device='disk'><source file='/vm-storage/My VMs/Windows 11.qcow2'/></disk>"
                 "<disk type='file' device='disk'><source file='/vm-storage/a&amp;b/&apos;q&apos;&lt;&gt;.qcow2'/></disk>"
                 "<disk type='file' device='disk'><source file='/vm-storage/Wind\xc3\xb6ws.qcow2'/></disk>"
                 "</devices></domain>");
        assert_files((const char *const[]) {
                "/vm-storage/My VMs/Windows 11.qcow2",
                "/vm-storage/a&b/'q'<>.qcow2",
                "/vm-storage/Wind\xc3\xb6ws.qcow2",
                NULL,
        });
}
END_TEST

/* ---- what is not a file-backed disk image ---- */

static const struct {
        const char *what;
        const char *disk;
} not_images[] = {
        { "cdrom", "<disk type='file' device='cdrom'><source file='/vm-storage/iso/Win11.iso'/><readonly/></disk>" },
        { "virtio-win ISO",
          "<disk type='file' device='cdrom'><driver name='qemu' type='raw'/>"
          "<source file='/usr/share/virtio-win/virtio-win.iso'/><target dev='sdb' bus='sata'/><readonly/></disk>" },
        { "floppy", "<disk type='file' device='floppy'><source file='/vm-storage/floppy.img'/></disk>" },
        { "block", "<disk type='block' device='disk'><source dev='/dev/vg0/windows11'/></disk>" },
        { "block with a file attribute", "<disk type='block' device='disk'><source file='/dev/sdb' dev='/dev/sdb'/></disk>" },
        { "block lun", "<disk type='block' device='lun'><source dev='/dev/sdc'/></disk>" },
        { "network rbd",
          "<disk type='network' device='disk'><source protocol='rbd' name='pool/windows11'>"
          "<host name='ceph1' port='6789'/></source></disk>" },
        { "network nbd", "<disk type='network' device='disk'><source protocol='nbd'><host name='nas'/></source></disk>" },
        { "volume", "<disk type='volume' device='disk'><source pool='default' volume='windows11.qcow2'/></disk>" },
        { "dir", "<disk type='dir' device='disk'><source dir='/vm-storage/fat'/></disk>" },
        { "no source", "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><target dev='vda'/></disk>" },
        { "source without file", "<disk type='file' device='disk'><source/><target dev='vda'/></disk>" },
        { "empty cdrom", "<disk type='file' device='cdrom'><target dev='sdb' bus='sata'/><readonly/></disk>" },
        { "no type", "<disk device='disk'><source file='/vm-storage/untyped.qcow2'/></disk>" },
        { "no device", "<disk type='file'><source file='/vm-storage/nodevice.qcow2'/></disk>" },
        { "backing file only",
          "<disk type='block' device='disk'><source dev='/dev/vg0/top'/>"
          "<backingStore type='file'><format type='qcow2'/><source file='/vm-storage/base.qcow2'/></backingStore></disk>" },
        { "not a disk", "<filesystem type='mount'><source file='/vm-storage/fs.img' dir='/x'/></filesystem>" },
};

START_TEST(test_not_an_image) {
        g_autofree char *xml = g_strdup_printf("<domain type='kvm'><name>w</name><devices>\n%s\n</devices></domain>",
                                               not_images[_i].disk);
        parse_ok(xml);
        ck_assert_msg(files[0] == NULL, "%s: listed '%s'", not_images[_i].what, files[0]);
}
END_TEST

/* The same, next to a real disk: only the disk comes back. */
START_TEST(test_not_an_image_beside_disk) {
        g_autofree char *xml = g_strdup_printf(
                "<domain type='kvm'><name>w</name><devices>\n%s\n"
                "<disk type='file' device='disk'><source file='/vm-storage/images/windows11.qcow2'/></disk>\n%s\n"
                "</devices></domain>",
                not_images[_i].disk, not_images[_i].disk);
        parse_ok(xml);
        assert_files((const char *const[]) { "/vm-storage/images/windows11.qcow2", NULL });
}
END_TEST

/* Disks outside /domain/devices are not the domain's. */
START_TEST(test_only_domain_devices) {
        parse_ok("<domain><name>w</name>"
                 "<metadata><app:x xmlns:app='urn:x'><disk type='file' device='disk'><source file='/meta.qcow2'/></disk></app:x></metadata>"
                 "<disk type='file' device='disk'><source file='/outside-devices.qcow2'/></disk>"
                 "<devices><disk type='file' device='disk'><source file='/inside.qcow2'/></disk></devices>"
                 "</domain>");
        assert_files((const char *const[]) { "/inside.qcow2", NULL });
}
END_TEST

/* ---- no disks ---- */

static const char *const diskless[] = {
        "<domain type='kvm'><name>Windows11</name><memory>1024</memory></domain>",
        "<domain type='kvm'><name>Windows11</name><devices/></domain>",
        "<domain type='kvm'><name>Windows11</name><devices>"
        "<interface type='network'><source network='default'/></interface><memballoon model='none'/>"
        "</devices></domain>",
        "<domain/>",
        /* Well-formed, but not a domain. */
        "<network><name>default</name></network>",
        "<devices><disk type='file' device='disk'><source file='/vm-storage/x.qcow2'/></disk></devices>",
};

START_TEST(test_no_disks) {
        parse_ok(diskless[_i]);
        ck_assert_msg(files[0] == NULL, "listed '%s' for %s", files[0], diskless[_i]);
}
END_TEST

/* ---- malformed XML ---- */

static const char *const malformed[] = {
        "",
        " ",
        "\n",
        "not xml at all",
        "Windows11",
        "<domain>",
        "<domain><devices><disk type='file' device='disk'><source file='/a.qcow2'/></disk></devices>",
        "<domain><devices></domain>",
        "<domain></domian>",
        "<domain type='kvm' type='qemu'></domain>",
        "<domain type=kvm></domain>",
        "<domain><name>a & b</name></domain>",
        "<domain></domain><domain></domain>",
        "<domain></domain> trailing text",
        "<?xml version='1.0'?>",
        "<!-- only a comment -->",
        "<domain><name>W\xff\xfeindows</name></domain>", /* not UTF-8 */
        "<domain><devices><disk type='file' device='disk'><source file='/a.qcow2'></disk></devices></domain>",
};

START_TEST(test_malformed) {
        char **untouched = (char **) 0x1;
        char **ret = untouched;
        int r = domain_xml_disk_files(malformed[_i], &ret);
        if (r == 0)
                files = ret; /* so the fixture frees it */
        ck_assert_msg(r == -EINVAL, "returned %d for '%s'", r, malformed[_i]);
        ck_assert_ptr_eq(ret, untouched);
}
END_TEST

/* An external entity is neither fetched nor expanded into a path. */
START_TEST(test_no_external_entities) {
        static const char xml[] =
                "<?xml version='1.0'?>\n"
                "<!DOCTYPE domain [<!ENTITY img SYSTEM 'file:///etc/hostname'>]>\n"
                "<domain><devices>"
                "<disk type='file' device='disk'><source file='/vm-storage/images/windows11.qcow2'/></disk>"
                "<disk type='file' device='disk'><source file='/x/&img;'/></disk>"
                "</devices></domain>";
        int r = domain_xml_disk_files(xml, &files);
        if (r == 0)
                for (char **f = files; *f; f++)
                        ck_assert_msg(strncmp(*f, "/x/", 3) != 0 || strcmp(*f, "/x/") == 0,
                                      "external entity expanded into '%s'", *f);
        else
                ck_assert_int_eq(r, -EINVAL);
}
END_TEST

/* The same XML twice gives the same answer: nothing global is left over between calls. */
START_TEST(test_repeated_calls) {
        for (int i = 0; i < 50; i++) {
                parse_ok(windows11_xml);
                assert_files((const char *const[]) {
                        "/vm-storage/images/windows11.qcow2",
                        "/vm-storage/images/windows11-data.qcow2",
                        NULL,
                });
                strv_free(files);
                files = NULL;
                char **ret = NULL;
                ck_assert_int_eq(domain_xml_disk_files("<domain>", &ret), -EINVAL);
                ck_assert_ptr_null(ret);
        }
}
END_TEST

static Suite *domain_xml_suite(void) {
        Suite *s = suite_create("domain-xml");
        TCase *tc;

        tc = tcase_create("disk_files");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_windows11);
        tcase_add_test(tc, test_sandbox_guest);
        tcase_add_test(tc, test_document_order);
        tcase_add_test(tc, test_path_characters);
        tcase_add_test(tc, test_only_domain_devices);
        tcase_add_test(tc, test_repeated_calls);
        suite_add_tcase(s, tc);

        tc = tcase_create("not_images");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_loop_test(tc, test_not_an_image, 0, G_N_ELEMENTS(not_images));
        tcase_add_loop_test(tc, test_not_an_image_beside_disk, 0, G_N_ELEMENTS(not_images));
        tcase_add_loop_test(tc, test_no_disks, 0, G_N_ELEMENTS(diskless));
        suite_add_tcase(s, tc);

        tc = tcase_create("malformed");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_loop_test(tc, test_malformed, 0, G_N_ELEMENTS(malformed));
        tcase_add_test(tc, test_no_external_entities);
        suite_add_tcase(s, tc);

        return s;
}

int main(void) {
        SRunner *sr = srunner_create(domain_xml_suite());
        srunner_set_fork_status(sr, CK_FORK_GETENV); /* forks unless CK_FORK=no */
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
