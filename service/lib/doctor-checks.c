#include "doctor-checks.h"

#include <errno.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "desktop-user.h"
#include "util.h"
#include "xml-doc.h"
#include "vfio-checks.h"

#define NIX_STORE "/nix/store/"
#define NIXOS_VIRTIOFSD "/run/current-system/sw/bin/virtiofsd"
#define DEBIAN_VIRTIOFSD "/usr/libexec/virtiofsd"

/* What each vm.* check gets: the input and the parsed domain (doc NULL when there is none). */
typedef struct DoctorContext {
        const DoctorInput *in;
        XmlDoc x;               /* the parsed domain; x.doc NULL when there is none */
        char *vm;               /* <name>, or "the VM" */
        const char *no_xml;     /* why there is no document */
} DoctorContext;

/* The string value of an XPath expression, NULL when empty. */
static char *xstr(DoctorContext *c, const char *expr) {
        return xml_doc_string(&c->x, NULL, expr);
}

static bool xbool(DoctorContext *c, const char *expr) {
        xmlXPathObjectPtr o = xmlXPathEvalExpression((const xmlChar *) expr, c->x.ctx);
        bool b = o && xmlXPathCastToBoolean(o);
        xmlXPathFreeObject(o);
        return b;
}

/* For the checks that need the XML: adds a skipped check and returns 1 when there is none. */
static int need_xml(DoctorContext *c, const char *id, CheckList *l, int *r) {
        if (c->x.doc)
                return 0;
        *r = check_list_add(l, id, CHECK_SKIPPED, NULL, "%s", c->no_xml);
        return 1;
}

static int check_memballoon(DoctorContext *c, CheckList *l) {
        const char *id = "vm.memballoon";
        int r;
        if (need_xml(c, id, l, &r))
                return r;
        _cleanup_free_ char *model = xstr(c, "string(/domain/devices/memballoon/@model)");
        if (streq_ptr(model, "none"))
                return check_list_add(l, id, CHECK_OK, NULL, "The memory balloon is disabled (model none)");
        return check_list_add(l, id, CHECK_WARN,
                              "winvmctl doctor --fix vm.memballoon (it writes <memballoon model='none'/>; the guest gets it at its next start)",
                              model ? "The domain has a memory balloon (model %s): it costs performance with a "
                                      "passed-through GPU"
                                    : "The domain has no <memballoon> element, so libvirt adds a virtio balloon%s",
                              model ? model : "");
}

static int check_hyperv(DoctorContext *c, CheckList *l) {
        const char *id = "vm.hyperv";
        int r;
        if (need_xml(c, id, l, &r))
                return r;
        if (xbool(c, "/domain/features/hyperv[@mode='passthrough']"))
                return check_list_add(l, id, CHECK_OK, NULL, "Hyper-V enlightenments: passthrough mode (all of them)");
        static const char *const wanted[] = { "relaxed", "vapic", "spinlocks" };
        char missing[64] = "";
        for (size_t i = 0; i < ELEMENTSOF(wanted); i++) {
                char expr[128];
                snprintf(expr, sizeof(expr), "/domain/features/hyperv/%s[@state='on']", wanted[i]);
                if (!xbool(c, expr))
                        snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing), "%s%s",
                                 *missing ? ", " : "", wanted[i]);
        }
        if (!*missing)
                return check_list_add(l, id, CHECK_OK, NULL,
                                      "Hyper-V enlightenments relaxed, vapic and spinlocks are on");
        return check_list_add(l, id, CHECK_WARN,
                              "winvmctl doctor --fix vm.hyperv (it writes <hyperv mode='custom'><relaxed state='on'/><vapic state='on'/>"
                              "<spinlocks state='on' retries='8191'/></hyperv> into <features>)",
                              "Hyper-V enlightenments missing: %s (Windows runs slower, and NVIDIA's driver may stop "
                              "with Code 43)",
                              missing);
}

static int check_kvm_hidden(DoctorContext *c, CheckList *l) {
        const char *id = "vm.kvm-hidden";
        int r;
        if (need_xml(c, id, l, &r))
                return r;
        if (xbool(c, "/domain/features/kvm/hidden[@state='on']"))
                return check_list_add(l, id, CHECK_OK, NULL, "The KVM signature is hidden from the guest");
        return check_list_add(l, id, CHECK_WARN,
                              "winvmctl doctor --fix vm.kvm-hidden (it writes <kvm><hidden state='on'/></kvm> into <features>)",
                              "The KVM signature is visible to the guest (no <kvm><hidden state='on'/>): older "
                              "NVIDIA drivers stop with Code 43");
}

static int check_vendor_id(DoctorContext *c, CheckList *l) {
        const char *id = "vm.vendor-id";
        int r;
        if (need_xml(c, id, l, &r))
                return r;
        _cleanup_free_ char *value = xstr(c, "string(/domain/features/hyperv/vendor_id[@state='on']/@value)");
        if (value && strlen(value) <= 12)
                return check_list_add(l, id, CHECK_OK, NULL, "The Hyper-V vendor_id is set to '%s'", value);
        const char *remedy = "winvmctl doctor --fix vm.vendor-id (it writes <vendor_id state='on' value='AuthenticAMD'/> "
                             "into <features><hyperv>; any value of up to 12 characters does)";
        if (value)
                return check_list_add(l, id, CHECK_WARN, remedy,
                                      "The Hyper-V vendor_id '%s' is longer than 12 characters", value);
        return check_list_add(l, id, CHECK_WARN, remedy,
                              "No Hyper-V vendor_id is set: older NVIDIA drivers stop with Code 43");
}

static int check_cpu_pinning(DoctorContext *c, CheckList *l) {
        const char *id = "vm.cpu-pinning";
        int r;
        if (need_xml(c, id, l, &r))
                return r;
        _cleanup_free_ char *text = xstr(c, "normalize-space(/domain/vcpu)");
        long n = text ? strtol(text, NULL, 10) : 1;
        if (n <= 0 || n > 4096)
                n = 1;
        char missing[256] = "";
        long n_missing = 0;
        for (long v = 0; v < n; v++) {
                char expr[96];
                snprintf(expr, sizeof(expr), "/domain/cputune/vcpupin[@vcpu='%ld' and @cpuset!='']", v);
                if (xbool(c, expr))
                        continue;
                if (n_missing++ < 16)
                        snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing), "%s%ld",
                                 *missing ? "," : "", v);
        }
        const char *remedy = "winvmctl doctor --fix vm.cpu-pinning (it writes a plan for the host's CPUs; "
                             "winvmctl cpu plan --p N --e N --host-p N shows one with other counts, --apply writes it)";
        if (n_missing == 0)
                return check_list_add(l, id, CHECK_OK, NULL, "All %ld vCPUs are pinned", n);
        if (n_missing == n)
                return check_list_add(l, id, CHECK_WARN, remedy, "None of the %ld vCPUs is pinned", n);
        return check_list_add(l, id, CHECK_WARN, remedy, "%ld of %ld vCPUs are not pinned: %s%s", n_missing, n,
                              missing, n_missing > 16 ? ",..." : "");
}

/* Where virtiofsd is on this host, for a remedy. */
static const char *virtiofsd_suggestion(const char *root, const char *path) {
        if (host_exists(root, NIXOS_VIRTIOFSD) || (path && strncmp(path, NIX_STORE, strlen(NIX_STORE)) == 0))
                return NIXOS_VIRTIOFSD;
        if (host_exists(root, DEBIAN_VIRTIOFSD))
                return DEBIAN_VIRTIOFSD;
        return NULL;
}

static int check_virtiofsd(DoctorContext *c, CheckList *l) {
        const char *id = "vm.virtiofsd";
        int r;
        if (need_xml(c, id, l, &r))
                return r;
        if (!xbool(c, "/domain/devices/filesystem[driver/@type='virtiofs']"))
                return check_list_add(l, id, CHECK_OK, NULL, "The domain has no virtiofs share");
        _cleanup_free_ char *path = xstr(c, "string(/domain/devices/filesystem[driver/@type='virtiofs']/binary/@path)");
        if (!path)
                return check_list_add(l, id, CHECK_OK, NULL,
                                      "The virtiofs share names no <binary path>: libvirt finds virtiofsd itself");
        const char *suggest = virtiofsd_suggestion(c->in->root, path);
        _cleanup_free_ char *remedy = NULL;
        if (suggest && strcmp(suggest, path) != 0) {
                if (asprintf(&remedy,
                             "winvmctl --vm %s doctor --fix vm.virtiofsd (it sets <binary path='%s'/> in the "
                             "domain's virtiofs <filesystem>; the guest uses it from its next start)",
                             c->vm, suggest) < 0)
                        return -ENOMEM;
        } else if (asprintf(&remedy,
                            "Install virtiofsd (NixOS: the virtiofsd package in environment.systemPackages; Debian: "
                            "apt install virtiofsd), list it in [Virtiofs] AllowedBinaries, then winvmctl --vm %s "
                            "doctor --fix vm.virtiofsd",
                            c->vm) < 0)
                return -ENOMEM;

        struct stat st;
        r = host_stat(c->in->root, path, true, &st);
        bool in_store = strncmp(path, NIX_STORE, strlen(NIX_STORE)) == 0;
        if (r < 0)
                return check_list_add(l, id, CHECK_FAIL, remedy,
                                      "virtiofsd %s does not exist%s: the guest cannot start", path,
                                      in_store ? " (a rebuild and garbage collection removed it)" : "");
        if (!S_ISREG(st.st_mode) || (st.st_mode & 0111) == 0)
                return check_list_add(l, id, CHECK_FAIL, remedy, "virtiofsd %s is not an executable file", path);
        if (in_store)
                return check_list_add(l, id, CHECK_WARN, remedy,
                                      "virtiofsd %s is a Nix store path: a garbage collection after the next rebuild "
                                      "removes it and the guest will not start",
                                      path);
        return check_list_add(l, id, CHECK_OK, NULL, "virtiofsd %s exists and is executable", path);
}

static int check_session_duplicate(DoctorContext *c, CheckList *l) {
        const char *id = "vm.session-duplicate";
        int r;
        if (need_xml(c, id, l, &r))
                return r;
        if (!c->in->user)
                return check_list_add(l, id, CHECK_SKIPPED, NULL, "No desktop user is configured");
        if (strchr(c->vm, '/'))
                return check_list_add(l, id, CHECK_SKIPPED, NULL, "The VM name holds a '/'");
        HostUser u;
        r = host_user_by_name(c->in->root, c->in->user, &u);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return check_list_add(l, id, CHECK_SKIPPED, NULL, "The user %s is not in /etc/passwd", c->in->user);
        _cleanup_free_ char *path = NULL, *remedy = NULL;
        r = asprintf(&path, "%s/.config/libvirt/qemu/%s.xml", strcmp(u.home, "/") == 0 ? "" : u.home, c->vm);
        host_user_clear(&u);
        if (r < 0)
                return -ENOMEM;
        if (!host_exists(c->in->root, path))
                return check_list_add(l, id, CHECK_OK, NULL, "%s is not defined in %s's session (qemu:///session)",
                                      c->vm, c->in->user);
        if (asprintf(&remedy,
                     "As %s: virsh --connect qemu:///session undefine --nvram %s (the system VM, qemu:///system, "
                     "stays)",
                     c->in->user, c->vm) < 0)
                return -ENOMEM;
        return check_list_add(l, id, CHECK_WARN, remedy,
                              "%s is also defined in %s's session (qemu:///session, %s): virsh without sudo "
                              "manages that one, not the system VM",
                              c->vm, c->in->user, path);
}

static int check_images_nocow(DoctorContext *c, CheckList *l) {
        const char *id = "vm.images-nocow";
        const DoctorInput *in = c->in;
        if (!in->images_known)
                return check_list_add(l, id, CHECK_SKIPPED, NULL,
                                      "The images' NOCOW flags were not read "
                                      "(winvmd reads them for Storage.GetImages)");
        char nocow[1024] = "", unreadable[1024] = "";
        for (size_t i = 0; i < in->n_images; i++) {
                const DoctorImage *img = &in->images[i];
                if (img->nocow > 0)
                        snprintf(nocow + strlen(nocow), sizeof(nocow) - strlen(nocow), "%s%s", *nocow ? ", " : "",
                                 img->path);
                else if (img->nocow < 0)
                        snprintf(unreadable + strlen(unreadable), sizeof(unreadable) - strlen(unreadable), "%s%s (%s)",
                                 *unreadable ? ", " : "", img->path, strerror(-img->nocow));
        }
        if (*nocow)
                return check_list_add(l, id, CHECK_WARN,
                                      "With the guest shut down, for each image: sudo chattr -C on its folder, then "
                                      "cp --reflink=never IMAGE IMAGE.cow && mv IMAGE.cow IMAGE (the copy gets "
                                      "checksums again)",
                                      "NOCOW (chattr +C) images carry no btrfs checksums, so a scrub cannot see rot "
                                      "in them: %s",
                                      nocow);
        if (*unreadable)
                return check_list_add(l, id, CHECK_SKIPPED, NULL, "The flags of some images could not be read: %s",
                                      unreadable);
        return check_list_add(l, id, CHECK_OK, NULL, in->n_images ? "No image is NOCOW: btrfs checksums them all"
                                                                  : "The domain has no file-backed images");
}

/* The seed's mouse fix: virtio keyboard and mouse (Looking Glass captures relative motion), no
 * USB tablet (absolute motion, which Looking Glass's capture does not drive). */
static int check_input(DoctorContext *c, CheckList *l) {
        const char *id = "vm.input";
        int r;
        if (need_xml(c, id, l, &r))
                return r;
        bool tablet = xbool(c, "/domain/devices/input[@type='tablet']");
        bool mouse = xbool(c, "/domain/devices/input[@type='mouse' and @bus='virtio']");
        bool keyboard = xbool(c, "/domain/devices/input[@type='keyboard' and @bus='virtio']");
        if (!tablet && mouse && keyboard)
                return check_list_add(l, id, CHECK_OK, NULL, "The guest has a virtio keyboard and mouse, no tablet");
        char missing[96] = "";
        if (!mouse)
                snprintf(missing, sizeof(missing), "no virtio mouse");
        if (!keyboard)
                snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing), "%sno virtio keyboard",
                         *missing ? ", " : "");
        if (tablet)
                snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing), "%sa USB tablet",
                         *missing ? ", " : "");
        return check_list_add(l, id, CHECK_WARN,
                              "winvmctl doctor --fix vm.input (it puts <input type='mouse' bus='virtio'/> and "
                              "<input type='keyboard' bus='virtio'/> in place of the tablet; the guest needs the "
                              "VirtIO input drivers)",
                              "The guest has %s: Looking Glass's mouse capture needs the virtio mouse and keyboard",
                              missing);
}

typedef int (*DoctorCheckFunc)(DoctorContext *c, CheckList *l);

/* Adding a check: write its function above and list it here. */
static const DoctorCheckFunc vm_checks[] = {
        check_memballoon,
        check_hyperv,
        check_kvm_hidden,
        check_vendor_id,
        check_cpu_pinning,
        check_virtiofsd,
        check_session_duplicate,
        check_images_nocow,
        check_input,
};

int doctor_vm_checks(const DoctorInput *in, CheckList *l) {
        DoctorContext c = { .in = in, .no_xml = "No domain XML to check" };
        if (in->domain_xml) {
                int r = xml_doc_open(in->domain_xml, &c.x);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        c.no_xml = "The domain XML does not parse";
                else
                        c.vm = xstr(&c, "normalize-space(/domain/name)");
        }
        if (!c.vm)
                c.vm = strdup("the VM");
        int r = c.vm ? 0 : -ENOMEM;
        for (size_t i = 0; r == 0 && i < ELEMENTSOF(vm_checks); i++)
                r = vm_checks[i](&c, l);
        free(c.vm);
        if (c.x.doc)
                xml_doc_close(&c.x);
        return r;
}

int doctor_run(const DoctorInput *in, CheckList *l) {
        KvmfrConfig defaults;
        kvmfr_config_init(&defaults);
        KvmfrConfig kc = in->kvmfr ? *in->kvmfr : defaults;
        DoctorInput with_user = *in;

        /* The desktop user by default: the polkit group's only member. */
        DesktopUser du = { 0 };
        int r = 0;
        if (in->polkit_group) {
                r = desktop_user_resolve(in->root, in->user, in->polkit_group, &du);
                if (r == 0)
                        r = desktop_user_check(&du, l);
                if (r < 0) {
                        desktop_user_clear(&du);
                        return r;
                }
                with_user.user = du.name;
                if (!kc.owner && du.source == DESKTOP_USER_GROUP)
                        kc.owner = du.name;
        }

        KvmfrState ks;
        r = kvmfr_state_read(in->root, &kc, in->ops, &ks);
        if (r == 0) {
                r = kvmfr_checks(in->root, &kc, &ks, in->domain_xml, l);
                kvmfr_state_clear(&ks);
        }

        VfioReport vr;
        if (r == 0)
                r = vfio_report_read(in->root, in->pci_ids, &vr);
        if (r == 0) {
                r = vfio_checks(&vr, l);
                vfio_report_clear(&vr);
        }
        if (r == 0)
                r = doctor_vm_checks(&with_user, l);
        if (r == 0 && in->virtiofsd) {
                _cleanup_free_ char *vm = NULL;
                XmlDoc x;
                if (in->domain_xml && xml_doc_open(in->domain_xml, &x) == 0) {
                        vm = xml_doc_string(&x, NULL, "normalize-space(/domain/name)");
                        xml_doc_close(&x);
                }
                r = virtiofsd_checks(in->virtiofsd, vm, l);
        }
        desktop_user_clear(&du);
        return r;
}
