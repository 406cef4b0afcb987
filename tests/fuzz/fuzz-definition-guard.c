/* Fuzzes the definition guard's allowlist (service/lib/definition-guard.c,
 * service/lib/definition-allowlist.c).
 *
 * Input: a current definition and a new one separated by a line "====="; without it, the new
 * one is the input and the current one the seed's guest below.
 *
 * Checks: any definition is admitted against itself; and when the guard admits the new
 * definition, every value in it that names a host path (has a '/') is either one the
 * current definition has at the same place, or in an allowed place: a disk image on the
 * [Storage] filesystem, a share in the desktop user's home, an allowed virtiofsd, the kernel's
 * random device, the IVSHMEM backend on the kvmfr device; text libvirt never acts on (title,
 * description, metadata) aside. The oracle
 * here walks the tree itself: it does not share the guard's code. */
#include <errno.h>
#include <glib.h>
#include <libxml/parser.h>

#include "definition-guard.h"
#include "fuzz-common.h"
#include "xml-doc.h"

#define STORAGE "/vm-storage/images"
#define HOME "/home/jarrett"
#define VIRTIOFSD "/run/current-system/sw/bin/virtiofsd"
#define QEMU_NS "http://libvirt.org/schemas/domain/qemu/1.0"
#define IVSHMEM_OBJECT \
        "{'qom-type':'memory-backend-file','id':'looking-glass','mem-path':'/dev/kvmfr0','size':134217728,'share':true}"

static const char *const seed_guest =
        "<domain type='kvm'><name>Windows11</name><uuid>5b8a3c4e-0000-4000-8000-000000000001</uuid>"
        "<memory unit='GiB'>32</memory><vcpu placement='static'>16</vcpu>"
        "<os><type arch='x86_64' machine='pc-q35-8.1'>hvm</type>"
        "<loader readonly='yes' type='pflash'>/run/libvirt/nix-ovmf/OVMF_CODE.fd</loader>"
        "<nvram>/var/lib/libvirt/qemu/nvram/Windows11_VARS.fd</nvram></os>"
        "<features><acpi/><apic/><hyperv mode='custom'><relaxed state='on'/></hyperv></features>"
        "<devices><emulator>/run/libvirt/nix-emulators/qemu-system-x86_64</emulator>"
        "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
        "<source file='" STORAGE "/win11.qcow2'/><target dev='vda' bus='virtio'/></disk>"
        "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
        "<source file='" STORAGE "/data.raw'/><target dev='vdb' bus='virtio'/></disk>"
        "<filesystem type='mount' accessmode='passthrough'><driver type='virtiofs'/>"
        "<binary path='" VIRTIOFSD "'/><source dir='" HOME "/windows-shared'/><target dir='shared'/></filesystem>"
        "<hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/></source></hostdev>"
        "<tpm model='tpm-crb'><backend type='emulator' version='2.0'/></tpm>"
        "<memballoon model='none'/></devices></domain>";

/* "domain/devices/disk/source@file" for an attribute, ".../backend" for text. */
static void path_of(GString *out, xmlNodePtr n) {
        if (!n || n->type != XML_ELEMENT_NODE)
                return;
        path_of(out, n->parent);
        if (out->len)
                g_string_append_c(out, '/');
        if (n->ns && n->ns->href)
                g_string_append_printf(out, "{%s}", (const char *) n->ns->href);
        g_string_append(out, (const char *) n->name);
}

/* Every (place, value) with a '/' in the document, as "place=value" strings. */
static void collect(xmlNodePtr n, GPtrArray *out) {
        for (; n; n = n->next) {
                if (n->type != XML_ELEMENT_NODE)
                        continue;
                if (!n->ns && n->parent && n->parent->type == XML_ELEMENT_NODE && !n->parent->parent->parent &&
                    (xmlStrEqual(n->name, BAD_CAST "title") || xmlStrEqual(n->name, BAD_CAST "description") ||
                     xmlStrEqual(n->name, BAD_CAST "metadata")))
                        continue;
                GString *place = g_string_new(NULL);
                path_of(place, n);
                for (xmlAttrPtr a = n->properties; a; a = a->next) {
                        xmlChar *v = xmlNodeListGetString(n->doc, a->children, 1);
                        if (v && strchr((const char *) v, '/'))
                                g_ptr_array_add(out, g_strdup_printf("%s@%s=%s", place->str, (const char *) a->name, (const char *) v));
                        xmlFree(v);
                }
                GString *text = g_string_new(NULL);
                for (xmlNodePtr c = n->children; c; c = c->next)
                        if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content)
                                g_string_append(text, (const char *) c->content);
                g_strstrip(text->str);
                if (strchr(text->str, '/'))
                        g_ptr_array_add(out, g_strdup_printf("%s=%s", place->str, text->str));
                g_string_free(text, true);
                g_string_free(place, true);
                collect(n->children, out);
        }
}

static GPtrArray *paths_of(const char *xml) {
        XmlDoc x;
        GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
        if (xml_doc_open(xml, &x) == 0) {
                collect(xmlDocGetRootElement(x.doc), out);
                xml_doc_close(&x);
        }
        return out;
}

static bool plain_under(const char *dir, const char *path) {
        size_t n = strlen(dir);
        return strncmp(path, dir, n) == 0 && path[n] == '/' && path[n + 1] && !strstr(path, "/../") &&
               !strstr(path, "/./") && !strstr(path, "//") && !g_str_has_suffix(path, "/..") &&
               !g_str_has_suffix(path, "/.");
}

static bool allowed_place(const char *entry) {
        const char *eq = strchr(entry, '=');
        g_autofree char *place = g_strndup(entry, (gsize) (eq - entry));
        const char *value = eq + 1;
        if (strcmp(place, "domain/devices/disk/source@file") == 0)
                return plain_under(STORAGE, value);
        if (strcmp(place, "domain/devices/filesystem/source@dir") == 0)
                return plain_under(HOME, value);
        if (strcmp(place, "domain/devices/filesystem/binary@path") == 0)
                return strcmp(value, VIRTIOFSD) == 0;
        if (strcmp(place, "domain/devices/rng/backend") == 0)
                return strcmp(value, "/dev/urandom") == 0 || strcmp(value, "/dev/random") == 0;
        /* The IVSHMEM backend winvm writes itself, on the policy's kvmfr device and size. */
        if (strcmp(place, "domain/{" QEMU_NS "}commandline/{" QEMU_NS "}arg@value") == 0)
                return strcmp(value, IVSHMEM_OBJECT) == 0;
        return false;
}

static bool has(GPtrArray *a, const char *s) {
        for (guint i = 0; i < a->len; i++)
                if (strcmp(a->pdata[i], s) == 0)
                        return true;
        return false;
}

static bool is_domain(const char *xml) {
        XmlDoc x;
        if (xml_doc_open(xml, &x) < 0)
                return false;
        xmlNodePtr root = xmlDocGetRootElement(x.doc);
        bool yes = root && !root->ns && xmlStrEqual(root->name, BAD_CAST "domain");
        xml_doc_close(&x);
        return yes;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *input = fuzz_strndup(data, size);
        char *sep = strstr(input, "\n=====\n");
        const char *current = seed_guest, *proposed = input;
        if (sep) {
                *sep = '\0';
                current = input;
                proposed = sep + 7;
        }
        char *allowed[] = { (char *) VIRTIOFSD, NULL };
        char *usb[] = { (char *) "256c:006d", NULL };
        char *storage[] = { (char *) STORAGE, NULL };
        char *shares[] = { (char *) HOME, NULL };
        DefinitionPolicy p = { .virtiofsd_allowed = allowed, .usb_ids = usb, .storage_dirs = storage, .share_dirs = shares,
                               .ivshmem_device = "/dev/kvmfr0", .ivshmem_size = 134217728ull };

        char *what = NULL;
        int r = definition_guard_check(proposed, proposed, &p, &what);
        fuzz_check(r == 0 || (r == -EINVAL && !is_domain(proposed)), "against itself: %d, %s", r, fuzz_str(what));
        free(what);
        what = NULL;

        r = definition_guard_check(current, proposed, &p, &what);
        fuzz_check(r == 0 || r == -EPERM || r == -EINVAL, "unexpected %d", r);
        fuzz_check((r == -EPERM) == (what != NULL), "a refusal names what (%d, %s)", r, fuzz_str(what));
        if (r == 0) {
                g_autoptr(GPtrArray) before = paths_of(current), after = paths_of(proposed);
                for (guint i = 0; i < after->len; i++) {
                        const char *e = after->pdata[i];
                        fuzz_check(has(before, e) || allowed_place(e), "admitted a new host path: %s", e);
                }
        }
        free(what);
        free(input);
        return 0;
}
