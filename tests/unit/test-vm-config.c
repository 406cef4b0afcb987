/* Unit tests of the pure parts of the VM's configuration: USB ids, devices in the fixture
 * hosts' sysfs and <hostdev> edits (service/lib/usb-devices.c), virtiofs shares and their checks
 * (service/lib/virtiofs-shares.c), XML normalising and parse errors (service/lib/xml-doc.c), and the
 * winvm.conf keys [Cpu], [Usb], [Virtiofs] and [Definitions] (service/lib/config.c). */
#include <check.h>
#include <glib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "definition-file.h"
#include "definition-guard.h"
#include "host-fixtures.h"
#include "usb-devices.h"
#include "util.h"
#include "virtiofs-shares.h"
#include "xml-doc.h"

static const char *const minimal_domain =
        "<domain type='kvm'><name>Windows11</name><devices>"
        "<hostdev mode='subsystem' type='pci' managed='yes'><source><address bus='1'/></source></hostdev>"
        "</devices></domain>";

/* --- USB ------------------------------------------------------------------------------------ */

START_TEST(test_usb_id_parse) {
        UsbId id;
        char buf[10];
        ck_assert_int_eq(usb_id_parse("256c:006d", &id), 0);
        ck_assert_uint_eq(id.vendor, 0x256c);
        ck_assert_uint_eq(id.product, 0x006d);
        ck_assert_int_eq(usb_id_parse("256F:C635", &id), 0);
        usb_id_format(id, buf);
        ck_assert_str_eq(buf, "256f:c635");
        static const char *const bad[] = { "", "256c", "256c:06d", "256c:006dd", "256c-006d", "g56c:006d",
                                           "256c:006d ", " 256c:006d", "256c::06d", "0x25:006d", NULL };
        for (const char *const *b = bad; *b; b++)
                ck_assert_msg(usb_id_parse(*b, &id) == -EINVAL, "'%s' was taken for an id", *b);
        ck_assert_int_eq(usb_id_parse(NULL, &id), -EINVAL);
}
END_TEST

START_TEST(test_usb_host_find) {
        UsbHostDevice d = { 0 };
        UsbId tablet = { 0x256c, 0x006d }, spacemouse = { 0x256f, 0xc635 };
        ck_assert_int_eq(usb_host_find(host_root("intel-seed"), tablet, &d), 1);
        ck_assert_str_eq(d.sysfs_name, "1-4");
        ck_assert_uint_eq(d.bus, 1);
        ck_assert_uint_eq(d.devnum, 5);
        ck_assert_str_eq(d.manufacturer, "HUION");
        ck_assert_str_eq(d.product, "Kamvas 16");
        usb_host_device_clear(&d);
        ck_assert_int_eq(usb_host_find(host_root("intel-seed"), spacemouse, &d), 0);
        /* A host without USB devices in sysfs at all: unplugged, not an error. */
        ck_assert_int_eq(usb_host_find(host_root("amd"), tablet, &d), 0);
}
END_TEST

START_TEST(test_usb_hostdev_round_trip) {
        UsbId tablet = { 0x256c, 0x006d }, other = { 0x256c, 0x006e };
        _cleanup_free_ char *hostdev = NULL, *with = NULL, *without = NULL;
        ck_assert_int_eq(usb_hostdev_xml(tablet, &hostdev), 0);
        ck_assert_ptr_nonnull(strstr(hostdev, "startupPolicy='optional'"));
        ck_assert_ptr_nonnull(strstr(hostdev, "<vendor id='0x256c'/>"));
        ck_assert_ptr_nonnull(strstr(hostdev, "<product id='0x006d'/>"));
        ck_assert_int_eq(usb_domain_has(minimal_domain, tablet), 0);

        /* The domain with the hostdev added where libvirt puts it. */
        const char *devices = strstr(minimal_domain, "<devices>") + strlen("<devices>");
        ck_assert_int_ge(asprintf(&with, "%.*s%s%s", (int) (devices - minimal_domain), minimal_domain, hostdev, devices),
                         0);
        ck_assert_int_eq(usb_domain_has(with, tablet), 1);
        ck_assert_int_eq(usb_domain_has(with, other), 0);
        ck_assert_int_eq(usb_domain_remove(with, tablet, &without), 0);
        ck_assert_int_eq(usb_domain_has(without, tablet), 0);
        /* The PCI hostdev stays. */
        ck_assert_ptr_nonnull(strstr(without, "type=\"pci\""));
        _cleanup_free_ char *again = NULL;
        ck_assert_int_eq(usb_domain_remove(without, tablet, &again), -ENOENT);
        ck_assert_int_eq(usb_domain_has("<domain", tablet), -EINVAL);
        /* What an attach will make of the definition. */
        _cleanup_free_ char *added = NULL, *added_bare = NULL;
        ck_assert_int_eq(usb_domain_add(minimal_domain, tablet, &added), 0);
        ck_assert_int_eq(usb_domain_has(added, tablet), 1);
        ck_assert_ptr_nonnull(strstr(added, "type=\"pci\""));
        ck_assert_int_eq(usb_domain_add("<domain><name>x</name></domain>", tablet, &added_bare), 0);
        ck_assert_int_eq(usb_domain_has(added_bare, tablet), 1);
        ck_assert_int_eq(usb_domain_add("<domain", tablet, &again), -EINVAL);
}
END_TEST

START_TEST(test_usb_id_case_in_xml) {
        /* Hand-written definitions may spell ids in upper case or without leading zeros. */
        const char *xml = "<domain><devices><hostdev mode='subsystem' type='usb'><source>"
                          "<vendor id='0x256C'/><product id='0x6d'/></source></hostdev></devices></domain>";
        ck_assert_int_eq(usb_domain_has(xml, (UsbId) { 0x256c, 0x006d }), 1);
        const char *bad = "<domain><devices><hostdev mode='subsystem' type='usb'><source>"
                          "<vendor id='0x256c junk'/><product id='0x006d'/></source></hostdev></devices></domain>";
        ck_assert_int_eq(usb_domain_has(bad, (UsbId) { 0x256c, 0x006d }), 0);
}
END_TEST

/* --- virtiofs ------------------------------------------------------------------------------- */

START_TEST(test_virtiofs_seed) {
        _cleanup_free_ char *xml = fixture_text("domains/windows11-seed.xml");
        VirtiofsShares s;
        ck_assert_int_eq(virtiofs_shares_from_xml(xml, &s), 0);
        ck_assert_uint_eq(s.n, 1);
        ck_assert_str_eq(s.items[0].source, "/home/jarrett/windows-shared");
        ck_assert_str_eq(s.items[0].tag, "shared");
        ck_assert_str_eq(s.items[0].binary,
                         "/nix/store/vw6vbapxh9dwaw8mhs3pyzlbr7bks6kk-virtiofsd-1.13.2-looking-glass/bin/virtiofsd");
        ck_assert(s.shared_memory);

        char *allowed[] = { "/run/current-system/sw/bin/virtiofsd", "/usr/libexec/virtiofsd", NULL };
        CheckList l = CHECK_LIST_INIT;
        ck_assert_int_eq(virtiofs_checks(host_root("intel-seed"), &s, allowed, &l), 0);
        assert_check(&l, "virtiofs.shared-memory", CHECK_OK, "shared", NULL);
        /* The seed's Nix store path is not on the allow-list: a rebuild may remove it. */
        assert_check(&l, "virtiofs.binary.shared", CHECK_WARN, "AllowedBinaries", "--set-virtiofsd");
        check_list_clear(&l);

        _cleanup_free_ char *edited = NULL;
        ck_assert_int_eq(virtiofs_set_binary(xml, allowed[0], &edited), 0);
        VirtiofsShares e;
        ck_assert_int_eq(virtiofs_shares_from_xml(edited, &e), 0);
        ck_assert_str_eq(e.items[0].binary, allowed[0]);
        ck_assert_int_eq(virtiofs_checks(host_root("intel-seed"), &e, allowed, &l), 0);
        assert_check(&l, "virtiofs.binary.shared", CHECK_OK, allowed[0], NULL);
        check_list_clear(&l);
        /* On a host without that binary, the allowed path fails. */
        ck_assert_int_eq(virtiofs_checks(host_root("amd"), &e, allowed, &l), 0);
        assert_check(&l, "virtiofs.binary.shared", CHECK_FAIL, "not an executable", NULL);
        check_list_clear(&l);
        virtiofs_shares_clear(&e);
        virtiofs_shares_clear(&s);
}
END_TEST

START_TEST(test_virtiofs_without_shared_memory) {
        const char *xml = "<domain><devices><filesystem type='mount'><driver type='virtiofs'/>"
                          "<source dir='/srv/a'/><target dir='a'/></filesystem>"
                          "<filesystem type='mount'><driver type='path'/><source dir='/srv/b'/><target dir='b'/>"
                          "</filesystem></devices></domain>";
        VirtiofsShares s;
        ck_assert_int_eq(virtiofs_shares_from_xml(xml, &s), 0);
        ck_assert_uint_eq(s.n, 1);   /* the 9p share is not virtiofs */
        ck_assert(!s.shared_memory);
        ck_assert_ptr_null(s.items[0].binary);
        CheckList l = CHECK_LIST_INIT;
        ck_assert_int_eq(virtiofs_check_shared_memory(&s, &l), 0);
        assert_check(&l, "virtiofs.shared-memory", CHECK_FAIL, "will not start", "memfd");
        check_list_clear(&l);
        virtiofs_shares_clear(&s);

        _cleanup_free_ char *edited = NULL;
        ck_assert_int_eq(virtiofs_set_binary(minimal_domain, "/usr/libexec/virtiofsd", &edited), -ENOENT);
        ck_assert_int_eq(virtiofs_shares_from_xml(minimal_domain, &s), 0);
        ck_assert_uint_eq(s.n, 0);
        ck_assert_int_eq(virtiofs_check_shared_memory(&s, &l), 0);
        ck_assert_uint_eq(l.n, 0);
        virtiofs_shares_clear(&s);
}
END_TEST

START_TEST(test_virtiofs_allowed) {
        char *allowed[] = { "/usr/libexec/virtiofsd", NULL };
        ck_assert(virtiofs_binary_allowed(allowed, "/usr/libexec/virtiofsd"));
        ck_assert(!virtiofs_binary_allowed(allowed, "/usr/libexec/virtiofsd/"));
        ck_assert(!virtiofs_binary_allowed(allowed, "/usr/libexec/../libexec/virtiofsd"));
        ck_assert(!virtiofs_binary_allowed(NULL, "/usr/libexec/virtiofsd"));
}
END_TEST

/* --- XML ------------------------------------------------------------------------------------ */

START_TEST(test_xml_normalize) {
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;
        ck_assert_int_eq(xml_normalize("<domain><name>x</name>\n\n   <vcpu>1</vcpu></domain>", &a), 0);
        ck_assert_int_eq(xml_normalize("<domain>\n  <name>x</name>\n  <vcpu>1</vcpu>\n</domain>\n", &b), 0);
        ck_assert_str_eq(a, b);
        ck_assert_int_eq(xml_normalize("<domain><name>x</name><vcpu>2</vcpu></domain>", &c), 0);
        ck_assert_str_ne(a, c);
        ck_assert_int_eq(xml_normalize("<domain>", &c), -EINVAL);
}
END_TEST

START_TEST(test_xml_verbose_error) {
        XmlDoc x;
        _cleanup_free_ char *why = NULL;
        ck_assert_int_eq(xml_doc_open_verbose("<domain>\n<name>x</nom>\n</domain>", &x, &why), -EINVAL);
        ck_assert_ptr_nonnull(why);
        ck_assert_msg(strstr(why, "line 2") != NULL, "no line in '%s'", why);
        ck_assert_ptr_null(strchr(why, '\n'));
        free(why);
        why = NULL;
        ck_assert_int_eq(xml_doc_open_verbose(minimal_domain, &x, &why), 0);
        ck_assert_ptr_null(why);
        xml_doc_close(&x);
}
END_TEST

/* --- what a definition file may bring in ---------------------------------------------------- */

static const char *const guarded_current =
        "<domain type='kvm'><name>Windows11</name><os><loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE.fd</loader>"
        "<nvram>/var/lib/libvirt/qemu/nvram/Windows11_VARS.fd</nvram></os><devices>"
        "<emulator>/usr/bin/qemu-system-x86_64</emulator>"
        "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/vm-storage/images/win.qcow2'/>"
        "<target dev='vda' bus='virtio'/></disk>"
        "<filesystem type='mount'><driver type='virtiofs'/><binary path='/nix/store/abc-virtiofsd/bin/virtiofsd'/>"
        "<source dir='/home/jarrett/windows-shared'/><target dir='shared'/></filesystem>"
        "</devices></domain>";

static int guard(const char *from, const char *to, char **what) {
        char *allowed[] = { "/run/current-system/sw/bin/virtiofsd", NULL };
        char *usb[] = { "256c:006d", NULL };
        char *storage[] = { "/vm-storage/images", NULL };
        char *shares[] = { "/home/jarrett", NULL };
        DefinitionPolicy p = { .virtiofsd_allowed = allowed, .usb_ids = usb, .storage_dirs = storage, .share_dirs = shares };
        *what = NULL;
        return definition_guard_check(from, to, &p, what);
}

/* guarded_current with one substring replaced (or, with from NULL, to inserted before </devices>). */
static char *edit(const char *from, const char *to) {
        GString *s = g_string_new(guarded_current);
        if (from) {
                char *at = strstr(s->str, from);
                ck_assert_msg(at != NULL, "no '%s' in the test domain", from);
                gssize pos = at - s->str;
                g_string_erase(s, pos, (gssize) strlen(from));
                g_string_insert(s, pos, to);
        } else {
                char *at = strstr(s->str, "</devices>");
                g_string_insert(s, at - s->str, to);
        }
        return g_string_free(s, false);
}

START_TEST(test_guard_allows) {
        char *what = NULL;
        /* The same definition, reformatted or with harmless edits. */
        ck_assert_int_eq(guard(guarded_current, guarded_current, &what), 0);
        static const char *const ok[][2] = {
                { "<name>Windows11</name>", "<name>Windows11</name><description>edited</description><memory unit='GiB'>32</memory>" },
                { "<name>Windows11</name>", "<name>Windows11</name><title>Games</title><metadata><x:y xmlns:x='urn:x'>/a/b</x:y></metadata>" },
                { "<name>Windows11</name>", "<name>Windows11</name><vcpu placement='static'>16</vcpu><cputune><vcpupin vcpu='0' cpuset='4'/>"
                                            "<emulatorpin cpuset='0-3'/></cputune><cpu mode='host-passthrough'><topology sockets='1' dies='1' cores='8' threads='2'/></cpu>" },
                { "</os>", "<boot dev='hd'/></os><features><hyperv mode='custom'><relaxed state='on'/><vendor_id state='on' value='randomid'/></hyperv>"
                           "<kvm><hidden state='on'/></kvm></features><clock offset='localtime'><timer name='hpet' present='no'/></clock>" },
                { "/nix/store/abc-virtiofsd/bin/virtiofsd", "/run/current-system/sw/bin/virtiofsd" },
                { "/vm-storage/images/win.qcow2", "/vm-storage/images/win.overlay" },
                { "/home/jarrett/windows-shared", "/home/jarrett/other" },
                { "<target dev='vda' bus='virtio'/>", "<target dev='vda' bus='sata'/><boot order='1'/><serial>x1</serial>" },
                { "<driver name='qemu' type='qcow2'/>", "<driver name='qemu' type='qcow2' cache='none' discard='unmap'/>" },
                { NULL, "<hostdev mode='subsystem' type='usb' managed='yes'><source startupPolicy='optional'>"
                        "<vendor id='0x256c'/><product id='0x006d'/></source></hostdev>" },
                { NULL, "<controller type='usb' model='qemu-xhci'/>" },
                { NULL, "<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='/vm-storage/images/data.img'/>"
                        "<target dev='vdb' bus='virtio'/></disk>" },
                { NULL, "<disk type='file' device='cdrom'><driver name='qemu' type='raw'/><target dev='sda' bus='sata'/><readonly/></disk>" },
                { NULL, "<input type='tablet' bus='usb'/><video><model type='virtio' heads='1'/></video><sound model='ich9'/>"
                        "<graphics type='spice' autoport='yes'><listen type='address' address='127.0.0.1'/></graphics>"
                        "<memballoon model='virtio'><stats period='5'/></memballoon><rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>"
                        "<tpm model='tpm-crb'><backend type='emulator' version='2.0'/></tpm><channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>"
                        "<serial type='pty'><target port='0'/></serial><redirdev bus='usb' type='spicevmc'/>" },
        };
        for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
                g_autofree char *x = edit(ok[i][0], ok[i][1]);
                int r = guard(guarded_current, x, &what);
                ck_assert_msg(r == 0, "edit %zu refused: %s", i, what);
                free(what);
        }
        /* Another allowed virtiofsd for a share outside the home an administrator made. */
        g_autofree char *admin_share = edit("/home/jarrett/windows-shared", "/srv/games");
        g_autofree char *admin_share_nix = g_strdup(admin_share);
        GString *d = g_string_new(admin_share);
        g_string_replace(d, "/nix/store/abc-virtiofsd/bin/virtiofsd", "/run/current-system/sw/bin/virtiofsd", 1);
        g_autofree char *admin_share_allowed = g_string_free(d, false);
        ck_assert_int_eq(guard(admin_share_nix, admin_share_allowed, &what), 0);
        /* Taking things out: a disk, the share. */
        g_autofree char *with_data = edit(NULL, "<disk type='block' device='disk'><source dev='/dev/sdb'/><target dev='vdc'/></disk>");
        ck_assert_int_eq(guard(with_data, guarded_current, &what), 0);
}
END_TEST

/* A definition with a raw data disk, a loader and a security label, as the examples need. */
static const char *const raw_disk = "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
                                    "<source file='/vm-storage/images/data.img'/><target dev='vdb' bus='virtio'/></disk>";

START_TEST(test_guard_refuses) {
        static const char *const bad[][3] = {
                /* The three. */
                { "<driver name='qemu' type='raw'/>", "<driver name='qemu' type='qcow2'/>", "<disk><driver> type='qcow2'" },
                { "</os>", "<acpi><table type='slic'>/etc/shadow</table></acpi></os>", "<os><acpi>" },
                { "</devices>", "</devices><seclabel type='none'/>", "<seclabel>" },
                /* And every kind of host reference. */
                { "/nix/store/abc-virtiofsd/bin/virtiofsd", "/home/jarrett/evil", "<binary> path='/home/jarrett/evil'" },
                { "/usr/bin/qemu-system-x86_64", "/home/jarrett/qemu", "<emulator>='/home/jarrett/qemu'" },
                { "/vm-storage/images/win.qcow2", "/etc/shadow", "<source> file='/etc/shadow'" },
                { "/vm-storage/images/win.qcow2", "/vm-storage/images/../../etc/shadow", "<source> file" },
                { "/vm-storage/images/win.qcow2", "/vm-storage/images/data.img", "<source> file" },
                { "/home/jarrett/windows-shared", "/root", "<source> dir='/root'" },
                { "/home/jarrett/windows-shared", "/home/jarrett2", "<source> dir" },
                { "_VARS.fd</nvram>", "_VARS.fd</nvram><kernel>/boot/vmlinuz</kernel>", "<kernel>" },
                { "Windows11_VARS.fd</nvram>", "x.fd</nvram>", "<nvram>" },
                { "OVMF_CODE.fd</loader>", "OVMF_CODE.secboot.fd</loader>", "<loader>" },
                { NULL, "<disk type='block' device='disk'><source dev='/dev/sda'/><target dev='vdz'/></disk>", "<disk>" },
                { NULL, "<disk type='network' device='disk'><driver name='qemu' type='raw'/><source protocol='nbd' name='x'><host name='h'/></source><target dev='vdy'/></disk>", "<disk>" },
                { NULL, "<disk type='volume' device='disk'><driver name='qemu' type='raw'/><source pool='p' volume='v'/><target dev='vdx'/></disk>", "<disk>" },
                { NULL, "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/vm-storage/images/n.qcow2'/>"
                        "<backingStore type='file'><format type='raw'/><source file='/dev/sda'/></backingStore><target dev='vdw'/></disk>", "backing" },
                { NULL, "<disk type='file' device='disk'><source file='/vm-storage/images/n.img'/><target dev='vdv'/></disk>", "format" },
                { NULL, "<hostdev mode='subsystem' type='usb'><source><vendor id='0x046d'/><product id='0xc52b'/></source></hostdev>", "<hostdev>" },
                { NULL, "<hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x0000' bus='0x02' slot='0x00' function='0x0'/></source></hostdev>", "<hostdev>" },
                { NULL, "<hostdev mode='subsystem' type='mdev' model='vfio-pci'><source><address uuid='c2177883-f1bb-47f0-914d-32a22e3a8804'/></source></hostdev>", "<hostdev>" },
                { NULL, "<serial type='file'><source path='/etc/passwd'/><target port='0'/></serial>", "<serial> type='file'" },
                { NULL, "<channel type='unix'><source mode='bind' path='/etc/x.sock'/><target type='virtio' name='a'/></channel>", "path='/etc/x.sock'" },
                { NULL, "<interface type='ethernet'><script path='/home/jarrett/up.sh'/></interface>", "<interface>" },
                { NULL, "<input type='evdev'><source dev='/dev/input/event3'/></input>", "<input>" },
                { NULL, "<tpm model='tpm-tis'><backend type='passthrough'><device path='/dev/tpm0'/></backend></tpm>", "<tpm><backend> type='passthrough'" },
                { NULL, "<smartcard mode='host'/>", "<smartcard>" },
                { NULL, "<shmem name='x'><model type='ivshmem-doorbell'/><server path='/tmp/s'/></shmem>", "<shmem>" },
                { NULL, "<redirdev bus='usb' type='tcp'><source mode='connect' host='h' service='1'/></redirdev>", "<redirdev> type='tcp'" },
                { NULL, "<graphics type='vnc' socket='/run/x.sock'/>", "socket='/run/x.sock'" },
                { NULL, "<graphics type='spice'><gl enable='yes' rendernode='/dev/dri/renderD128'/></graphics>", "<gl>" },
                { NULL, "<rng model='virtio'><backend model='random'>/dev/sda</backend></rng>", "<backend>='/dev/sda'" },
                { "</devices>", "</devices><memoryBacking><source type='file'/></memoryBacking>", "<memoryBacking><source> type='file'" },
                { "</devices>", "</devices><sysinfo type='fwcfg'><entry name='opt/x' file='/etc/shadow'/></sysinfo>", "<sysinfo>" },
                { "</devices>", "</devices><blkiotune><device><path>/dev/sda</path><weight>1</weight></device></blkiotune>", "<blkiotune>" },
                { "<domain type='kvm'>", "<domain type='kvm'><seclabel type='dynamic' model='dac' relabel='no'/>", "<seclabel>" },
                { "</domain>", "<qemu:commandline xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'><qemu:arg value='-evil'/></qemu:commandline></domain>", "commandline" },
                { NULL, "<watchdog model='i6300esb' action='dump'/>", "<watchdog> action='dump'" },
                { NULL, "<graphics type='spice'><gl enable='yes'/></graphics>", "<graphics><gl>" },
                { "<domain type='kvm'>", "<!DOCTYPE domain [<!ENTITY x SYSTEM 'file:///etc/shadow'>]><domain type='kvm'>", "DOCTYPE" },
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                GString *cur = g_string_new(guarded_current);
                g_string_replace(cur, "</devices>", raw_disk, 1);
                g_string_append(cur, "");
                char *at = strstr(cur->str, "/vm-storage/images/data.img'/><target dev='vdb' bus='virtio'/></disk>");
                g_string_insert(cur, at - cur->str + strlen("/vm-storage/images/data.img'/><target dev='vdb' bus='virtio'/></disk>"), "</devices>");
                g_autofree char *current = g_string_free(cur, false);
                g_autofree char *x = NULL;
                if (bad[i][0]) {
                        GString *s = g_string_new(current);
                        ck_assert_msg(strstr(s->str, bad[i][0]), "no '%s' in the test domain", bad[i][0]);
                        g_string_replace(s, bad[i][0], bad[i][1], 1);
                        x = g_string_free(s, false);
                } else {
                        GString *s = g_string_new(current);
                        g_string_replace(s, "</devices>", "", 1);
                        char *end = strstr(s->str, "</domain>");
                        g_string_insert(s, end - s->str, "</devices>");
                        g_string_insert(s, end - s->str, bad[i][1]);
                        x = g_string_free(s, false);
                }
                char *what = NULL;
                int r = guard(current, x, &what);
                ck_assert_msg(r == -EPERM, "edit %zu (%s) allowed", i, bad[i][1]);
                ck_assert_msg(what && strstr(what, bad[i][2]), "edit %zu: '%s' does not name %s", i, what, bad[i][2]);
                free(what);
        }
        /* What the current definition already has stays allowed, allowlist or not. */
        char *what = NULL;
        g_autofree char *with_cmdline = edit("</domain>", "<qemu:commandline xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>"
                                                          "<qemu:arg value='-device'/></qemu:commandline></domain>");
        ck_assert_int_eq(guard(with_cmdline, with_cmdline, &what), 0);
        g_autofree char *cmdline_and_vcpus = edit("</domain>", "<vcpu>4</vcpu><qemu:commandline xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>"
                                                               "<qemu:arg value='-device'/></qemu:commandline></domain>");
        ck_assert_int_eq(guard(with_cmdline, cmdline_and_vcpus, &what), 0);
        ck_assert_int_eq(guard(guarded_current, "<domain", &what), -EINVAL);
        ck_assert_int_eq(guard(guarded_current, "<notadomain/>", &what), -EINVAL);
}
END_TEST

/* --- the definition file ----------------------------------------------------------------- */

/* Texts that differ only in a trailing newline say the same. */
static bool same_but_newline(const char *old, const char *data) {
        size_t a = strcspn(old, "\n"), b = strcspn(data, "\n");
        return a == b && strncmp(old, data, a) == 0;
}

START_TEST(test_definition_file) {
        char dir[] = "/tmp/winvm-test-XXXXXX";
        ck_assert_ptr_nonnull(mkdtemp(dir));
        g_autofree char *file = g_strdup_printf("%s/Windows11.xml", dir);
        g_autofree char *previous = g_strdup_printf("%s.previous", file);
        char *text = NULL;
        ck_assert_int_eq(definition_file_read(file, &text), -ENOENT);
        ck_assert_int_eq(definition_file_write(file, "<domain>one</domain>", true, NULL), 0);
        ck_assert_int_eq(access(previous, F_OK), -1);
        ck_assert_int_eq(chmod(file, 06755), 0);
        ck_assert_int_eq(definition_file_write(file, "<domain>two</domain>", true, NULL), 0);
        ck_assert_int_eq(definition_file_read(file, &text), 0);
        ck_assert_str_eq(text, "<domain>two</domain>");
        free(text);
        ck_assert_int_eq(definition_file_read(previous, &text), 0);
        ck_assert_str_eq(text, "<domain>one</domain>");
        free(text);
        struct stat st;
        ck_assert_int_eq(stat(file, &st), 0);
        ck_assert_uint_eq(st.st_mode & 07777, 0644);    /* permission bits kept, setuid and setgid not */
        ck_assert_int_eq(definition_file_write(file, "<domain>four</domain>", false, NULL), 0);
        ck_assert_int_eq(definition_file_read(previous, &text), 0);
        ck_assert_str_eq(text, "<domain>one</domain>");  /* without keep_previous, .previous stays */
        free(text);
        /* What says the same as the file it replaces does not push .previous out. */
        ck_assert_int_eq(definition_file_write(file, "<domain>four</domain>\n", true, same_but_newline), 0);
        ck_assert_int_eq(definition_file_read(previous, &text), 0);
        ck_assert_str_eq(text, "<domain>one</domain>");
        free(text);
        ck_assert_int_eq(definition_file_write(file, "<domain>five</domain>", true, same_but_newline), 0);
        ck_assert_int_eq(definition_file_read(previous, &text), 0);
        ck_assert_str_eq(text, "<domain>four</domain>\n");
        free(text);

        /* A link in the file's place is neither followed for reading nor written through. */
        g_autofree char *target = g_strdup_printf("%s/target", dir);
        ck_assert_int_eq(definition_file_write(target, "secret", true, NULL), 0);
        ck_assert_int_eq(unlink(file), 0);
        ck_assert_int_eq(symlink(target, file), 0);
        ck_assert_int_eq(definition_file_read(file, &text), -ELOOP);
        ck_assert_int_eq(definition_file_write(file, "<domain>three</domain>", true, NULL), -ELOOP);
        ck_assert_int_eq(definition_file_read(target, &text), 0);
        ck_assert_str_eq(text, "secret");
        free(text);

        /* Neither is a FIFO (which would block) nor anything too big. */
        ck_assert_int_eq(unlink(file), 0);
        ck_assert_int_eq(mkfifo(file, 0600), 0);
        ck_assert_int_eq(definition_file_read(file, &text), -EINVAL);
        ck_assert_int_eq(unlink(file), 0);
        FILE *f = fopen(file, "we");
        ck_assert_int_eq(fseek(f, DEFINITION_FILE_MAX + 1, SEEK_SET), 0);
        fputc('x', f);
        fclose(f);
        ck_assert_int_eq(definition_file_read(file, &text), -EFBIG);
        ck_assert_int_eq(definition_file_read("relative.xml", &text), -EINVAL);

        g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
        ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* --- winvm.conf ----------------------------------------------------------------------------- */

static WinvmConfig *load(const char *text, char **error, char ***warnings) {
        WinvmConfig *c = NULL;
        *error = NULL;
        if (config_load_from_data(text, "winvm.conf", &c, error, warnings) < 0)
                return NULL;
        return c;
}

START_TEST(test_config_defaults) {
        WinvmConfig *c = config_new_default();
        ck_assert_str_eq(c->usb_ids[0], "256c:006d");
        ck_assert_str_eq(c->usb_ids[1], "256f:c635");
        ck_assert_ptr_null(c->usb_ids[2]);
        ck_assert_str_eq(c->virtiofsd_allowed[0], "/run/current-system/sw/bin/virtiofsd");
        ck_assert_str_eq(c->virtiofsd_allowed[1], "/usr/libexec/virtiofsd");
        ck_assert_str_eq(c->virtiofsd_allowed[2], "/usr/lib/qemu/virtiofsd");
        ck_assert_ptr_null(c->cpu_host_cpus);
        ck_assert_ptr_null(config_definition_file(c, "Windows11"));
        config_free(c);
}
END_TEST

START_TEST(test_config_keys) {
        char *error = NULL;
        char **warnings = NULL;
        WinvmConfig *c = load("[Service]\nVMs=Windows11 Linux\n[Cpu]\nHostCPUs=0-3,16\n[Usb]\nDevices=046d:c52b\n"
                              "[Virtiofs]\nAllowedBinaries=/opt/virtiofsd\n[Definitions]\nWindows11=/etc/nixos/vm/windows11.xml\n"
                              "Gone=/etc/gone.xml\n",
                              &error, &warnings);
        ck_assert_msg(c != NULL, "%s", error);
        ck_assert_str_eq(c->cpu_host_cpus, "0-3,16");
        ck_assert_str_eq(c->usb_ids[0], "046d:c52b");
        ck_assert_ptr_null(c->usb_ids[1]);
        ck_assert_str_eq(c->virtiofsd_allowed[0], "/opt/virtiofsd");
        ck_assert_str_eq(config_definition_file(c, "Windows11"), "/etc/nixos/vm/windows11.xml");
        ck_assert_ptr_null(config_definition_file(c, "Linux"));
        /* A definition for a VM winvm does not manage is a warning, not an error. */
        ck_assert_ptr_nonnull(warnings);
        ck_assert_ptr_nonnull(strstr(warnings[0], "[Definitions] Gone"));
        strv_free(warnings);
        config_free(c);
}
END_TEST

START_TEST(test_config_bad_values) {
        static const char *const bad[] = {
                "[Cpu]\nHostCPUs=0-3;rm\n",
                "[Usb]\nDevices=256c-006d\n",
                "[Usb]\nDevices=256C:006D\n",
                "[Virtiofs]\nAllowedBinaries=virtiofsd\n",
                "[Virtiofs]\nAllowedBinaries=/usr/../tmp/virtiofsd\n",
                "[Definitions]\nWindows11=relative.xml\n",
                "[Definitions]\n-bad=/etc/x.xml\n",
                NULL,
        };
        for (const char *const *b = bad; *b; b++) {
                char *error = NULL;
                WinvmConfig *c = load(*b, &error, NULL);
                ck_assert_msg(c == NULL, "accepted: %s", *b);
                ck_assert_msg(error && strstr(error, "winvm.conf: ["), "no file and group in '%s'", error);
                free(error);
        }
}
END_TEST

static Suite *vm_config_suite(void) {
        Suite *s = suite_create("vm-config");
        TCase *tc = tcase_create("usb");
        tcase_add_test(tc, test_usb_id_parse);
        tcase_add_test(tc, test_usb_host_find);
        tcase_add_test(tc, test_usb_hostdev_round_trip);
        tcase_add_test(tc, test_usb_id_case_in_xml);
        suite_add_tcase(s, tc);
        tc = tcase_create("virtiofs");
        tcase_add_test(tc, test_virtiofs_seed);
        tcase_add_test(tc, test_virtiofs_without_shared_memory);
        tcase_add_test(tc, test_virtiofs_allowed);
        suite_add_tcase(s, tc);
        tc = tcase_create("xml");
        tcase_add_test(tc, test_xml_normalize);
        tcase_add_test(tc, test_xml_verbose_error);
        suite_add_tcase(s, tc);
        tc = tcase_create("definition");
        tcase_add_test(tc, test_guard_allows);
        tcase_add_test(tc, test_guard_refuses);
        tcase_add_test(tc, test_definition_file);
        suite_add_tcase(s, tc);
        tc = tcase_create("config");
        tcase_add_test(tc, test_config_defaults);
        tcase_add_test(tc, test_config_keys);
        tcase_add_test(tc, test_config_bad_values);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        SRunner *sr = srunner_create(vm_config_suite());
        srunner_set_fork_status(sr, CK_FORK_GETENV); /* forks unless CK_FORK=no */
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
