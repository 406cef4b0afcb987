/* /org/winvm1/host: org.winvm1.Kvmfr and org.winvm1.Vfio, and Manager.Doctor. Every check
 * reads the host through the configured root prefix on the host worker (sysfs, /dev and
 * /etc reads, libkmod, udevadm), with the worker's libvirt connection for domain XML; the
 * replies are built back here. Kvmfr's properties answer from a cache that a read older
 * than two seconds refreshes in the background, signalling what changed. */
#include <errno.h>
#include <glib.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cpu-pinning.h"
#include "daemon.h"
#include "desktop-user.h"
#include "doctor-checks.h"
#include "domain-xml.h"
#include "errors.h"
#include "host-dbus.h"
#include "kvmfr-manage.h"
#include "nixos-host.h"
#include "operation.h"
#include "safe-files.h"
#include "scrub-records.h"
#include "util.h"
#include "vfio-checks.h"
#include "virtiofs-shares.h"
#include "worker-libvirt.h"

#define KVMFR_CACHE_USEC (2u * 1000000u)

#ifndef WINVM_POLKIT_GROUP
#define WINVM_POLKIT_GROUP "winvm"
#endif

/* What a host call found, filled on the host worker. */
typedef struct HostResult {
        Daemon *daemon;
        char *vm;               /* doctor, and the VM whose IVSHMEM device kvmfr checks look at */
        CheckList checks;
        KvmfrState kvmfr;
        bool kvmfr_valid;
        VfioReport vfio;
        bool vfio_valid;
        char **files;
        char *result;
} HostResult;

static void host_result_free(void *data) {
        HostResult *c = data;
        check_list_clear(&c->checks);
        if (c->kvmfr_valid)
                kvmfr_state_clear(&c->kvmfr);
        if (c->vfio_valid)
                vfio_report_clear(&c->vfio);
        strv_free(c->files);
        free(c->result);
        free(c->vm);
        free(c);
}

struct HostCache {
        KvmfrState state;
        bool valid;
        char *fingerprint;      /* what was last published, to signal only changes */
        uint64_t read_usec;
        bool refreshing;
};

/* The owner, when [Kvmfr] Owner is unset, is the polkit group's only member (as the NixOS
 * module makes the first of services.winvm.users the owner); du keeps the name (the caller
 * clears it). Worker only: it reads /etc. */
static void kvmfr_config_from(const WinvmConfig *cfg, KvmfrConfig *k, DesktopUser *du) {
        kvmfr_config_init(k);
        k->width = cfg->kvmfr_width;
        k->height = cfg->kvmfr_height;
        k->hdr = cfg->kvmfr_hdr;
        k->owner = cfg->kvmfr_owner;
        if (!k->owner && desktop_user_resolve(cfg->host_root, cfg->desktop_user, WINVM_POLKIT_GROUP, du) == 0 &&
            du->source == DESKTOP_USER_GROUP)
                k->owner = du->name;
        k->group = cfg->kvmfr_group;
        k->mode = cfg->kvmfr_mode;
        k->device = cfg->kvmfr_device;
        k->udev_rule_path = cfg->kvmfr_udev_rule;
        k->modprobe_path = cfg->kvmfr_modprobe;
        k->qemu_conf_path = cfg->qemu_conf;
}

static unsigned required_size(const WinvmConfig *cfg) {
        return kvmfr_required_size_mib(cfg->kvmfr_width, cfg->kvmfr_height, cfg->kvmfr_hdr);
}

/* The VM's persistent definition (live when live and it runs), over the worker's connection. */
static char *domain_xml(const WinvmConfig *cfg, const char *vm, bool live, bool *ret_active) {
        virConnectPtr conn = worker_libvirt(cfg->libvirt_uri);
        virDomainPtr dom = conn ? virDomainLookupByName(conn, vm) : NULL;
        char *xml = NULL;
        if (dom) {
                int active = virDomainIsActive(dom) == 1;
                if (ret_active)
                        *ret_active = active;
                xml = virDomainGetXMLDesc(dom, live && active ? 0 : VIR_DOMAIN_XML_INACTIVE);
                virDomainFree(dom);
        }
        virResetLastError();
        return xml;
}

static void kvmfr_read(HostResult *c, const KvmfrConfig *k) {
        const char *root = c->daemon->config->host_root;
        c->kvmfr_valid = kvmfr_state_read(root, k, NULL, &c->kvmfr) == 0;
}

/* Unloading under a running guest would take its frame buffer away. */
static bool device_in_use(HostResult *c, const KvmfrConfig *k, char **ret_vm) {
        const WinvmConfig *cfg = c->daemon->config;
        for (char **vm = cfg->vms; vm && *vm; vm++) {
                bool active = false;
                _cleanup_free_ char *xml = domain_xml(cfg, *vm, true, &active);
                KvmfrIvshmem iv = { 0 };
                if (active && xml && kvmfr_ivshmem_from_xml(xml, &iv) == 0 && iv.mem_path &&
                    strcmp(iv.mem_path, k->device ? k->device : KVMFR_DEFAULT_DEVICE) == 0) {
                        kvmfr_ivshmem_clear(&iv);
                        *ret_vm = strdup(*vm);
                        return true;
                }
                kvmfr_ivshmem_clear(&iv);
        }
        return false;
}

/* The checks of the VM's configuration beyond the definition alone: vCPU pinning against the
 * host topology, and the shared memory virtiofs needs. */
static void doctor_config_checks(HostResult *c, const char *xml) {
        const WinvmConfig *cfg = c->daemon->config;
        if (!xml)
                return;
        CpuTopology t;
        if (cpu_topology_read(cfg->host_root, &t) == 0) {
                (void) cpu_pinning_check(&t, xml, cfg->cpu_host_cpus, &c->checks);
                cpu_topology_clear(&t);
        } else
                (void) check_list_add(&c->checks, "cpu.topology", CHECK_SKIPPED, NULL,
                                      "the host's CPU topology could not be read from /sys/devices/system/cpu");
        VirtiofsShares s;
        if (virtiofs_shares_from_xml(xml, &s) == 0) {
                (void) virtiofs_check_shared_memory(&s, &c->checks);
                virtiofs_shares_clear(&s);
        }
}

/* storage.scrub-overdue: the last scrub of each configured filesystem, winvm's or btrfs-progs'. */
static void doctor_scrub_check(HostResult *c) {
        const WinvmConfig *cfg = c->daemon->config;
        ScrubScheduleFs *fs = NULL;
        size_t n = 0;
        if (scrub_records_read(cfg, &fs, &n) == 0)
                (void) scrub_overdue_check(cfg->scrub_interval_sec, fs, n, scrub_records_now_usec(), &c->checks);
        free(fs);
}

static void doctor_work(Operation *op, void *data) {
        HostResult *c = data;
        const WinvmConfig *cfg = c->daemon->config;
        KvmfrConfig k;
        DesktopUser du = { 0 };
        kvmfr_config_from(cfg, &k, &du);
        _cleanup_free_ char *xml = domain_xml(cfg, c->vm, false, NULL);
        DomainDisk *disks = NULL;
        size_t n = 0;
        DoctorImage *images = NULL;
        if (xml && domain_xml_snapshot_disks(xml, &disks, &n) == 0)
                images = calloc(n + 1, sizeof(DoctorImage));
        for (size_t i = 0; images && i < n; i++)
                images[i] = (DoctorImage) { .path = disks[i].file, .nocow = file_nocow(disks[i].file) };
        VirtiofsdFacts vf = { 0 };
        bool vf_valid = xml && virtiofsd_facts_read(cfg->host_root, xml, cfg->virtiofsd_allowed, &vf) == 0;
        DoctorInput in = {
                .root = cfg->host_root,
                .domain_xml = xml,
                .user = cfg->desktop_user,
                .polkit_group = WINVM_POLKIT_GROUP,
                .virtiofsd = vf_valid ? &vf : NULL,
                .kvmfr = &k,
                .pci_ids = cfg->vfio_ids,
                .images_known = images != NULL,
                .images = images,
                .n_images = images ? n : 0,
        };
        if (doctor_run(&in, &c->checks) < 0)
                op_fail(op, WINVM_ERROR_FAILED, "the checks could not run (a bad PCI id or kvmfr setting)");
        doctor_config_checks(c, xml);
        doctor_scrub_check(c);
        if (check_list_name_vm(&c->checks, c->vm) < 0)
                op_fail(op, WINVM_ERROR_FAILED, "out of memory");
        if (vf_valid)
                virtiofsd_facts_clear(&vf);
        desktop_user_clear(&du);
        free(images);
        domain_disks_free(disks, n);
}

/* The kvmfr settings of the configuration, on the worker; the caller clears du. */
#define KVMFR_CONFIG(c, k, du)                                   \
        KvmfrConfig k;                                           \
        _cleanup_(desktop_user_clear) DesktopUser du = { 0 };    \
        kvmfr_config_from((c)->daemon->config, &k, &du)

static void refresh_work(Operation *op, void *data) {
        HostResult *c = data;
        (void) op;
        KVMFR_CONFIG(c, k, du);
        kvmfr_read(c, &k);
}

static void kvmfr_check_work(Operation *op, void *data) {
        HostResult *c = data;
        const WinvmConfig *cfg = c->daemon->config;
        KVMFR_CONFIG(c, k, du);
        _cleanup_free_ char *xml = c->vm ? domain_xml(cfg, c->vm, false, NULL) : NULL;
        kvmfr_read(c, &k);
        if (!c->kvmfr_valid || kvmfr_checks(cfg->host_root, &k, &c->kvmfr, xml, &c->checks) < 0)
                op_fail(op, WINVM_ERROR_FAILED, "the kvmfr checks could not run");
        /* The kvmfr.ivshmem-* repairs change the VM whose definition was checked, as the doctor's. */
        if (check_list_name_vm(&c->checks, c->vm) < 0)
                op_fail(op, WINVM_ERROR_FAILED, "out of memory");
}

static void kvmfr_load_work(Operation *op, void *data) {
        HostResult *c = data;
        const WinvmConfig *cfg = c->daemon->config;
        KVMFR_CONFIG(c, k, du);
        _cleanup_free_ char *message = NULL;
        int r = kvmfr_load(cfg->host_root, required_size(cfg), &message);
        if (r < 0)
                op_fail(op, r == -ENOENT ? WINVM_ERROR_NOT_FOUND : r == -EALREADY ? WINVM_ERROR_BUSY : WINVM_ERROR_FAILED,
                        "%s", message ? message : "out of memory");
        kvmfr_read(c, &k);
}

static void kvmfr_unload_work(Operation *op, void *data) {
        HostResult *c = data;
        KVMFR_CONFIG(c, k, du);
        _cleanup_free_ char *vm = NULL, *message = NULL;
        int r;
        if (device_in_use(c, &k, &vm))
                op_fail(op, WINVM_ERROR_GUEST_RUNNING, "VM %s is running and uses %s; shut it down first", vm,
                        k.device ? k.device : KVMFR_DEFAULT_DEVICE);
        else if ((r = kvmfr_unload(c->daemon->config->host_root, &message)) < 0)
                op_fail(op, r == -EBUSY ? WINVM_ERROR_BUSY : WINVM_ERROR_FAILED, "%s", message ? message : "out of memory");
        kvmfr_read(c, &k);
}

static void kvmfr_apply_work(Operation *op, void *data) {
        HostResult *c = data;
        const WinvmConfig *cfg = c->daemon->config;
        const char *root = cfg->host_root;
        KVMFR_CONFIG(c, k, du);
        _cleanup_free_ char *udev = NULL, *message = NULL;
        int r;
        if (kvmfr_managed_by_nixos(root)) {
                /* NixOS builds /etc from the system configuration: never write there. The
                 * running system gets the rule and the options under /run (udev and
                 * modprobe read both), until the next boot; the configuration keeps them. */
                KvmfrConfig run = k;
                if (!k.udev_rule_path || strncmp(k.udev_rule_path, "/etc/", 5) == 0)
                        run.udev_rule_path = NIXOS_RUN_UDEV_RULE;
                if (!k.modprobe_path || strncmp(k.modprobe_path, "/etc/", 5) == 0)
                        run.modprobe_path = NIXOS_RUN_MODPROBE;
                r = kvmfr_write_config_files(root, &run, required_size(cfg), &c->files, &message);
                if (r < 0) {
                        op_fail(op, WINVM_ERROR_FAILED, "%s", message ? message : "out of memory");
                        return;
                }
                _cleanup_free_ char *reload = NULL;
                (void) kvmfr_reload_udev(root, &run, &reload);
                if (asprintf(&udev,
                             "NixOS: nothing written into /etc, which the system configuration builds; to keep "
                             "this across reboots set " KVMFR_NIXOS_OPTIONS
                             " in the NixOS configuration and run nixos-rebuild switch. Applied to the "
                             "running system in /run: %s and %s; %s",
                             run.udev_rule_path, run.modprobe_path, reload ? reload : "udev not reloaded") < 0)
                        udev = NULL;
        } else {
                r = kvmfr_write_config_files(root, &k, required_size(cfg), &c->files, &message);
                if (r < 0) {
                        op_fail(op, WINVM_ERROR_FAILED, "%s", message ? message : "out of memory");
                        return;
                }
                (void) kvmfr_reload_udev(root, &k, &udev);
        }
        kvmfr_read(c, &k);
        CheckList l = CHECK_LIST_INIT;
        const Check *perm = NULL;
        if (c->kvmfr_valid && kvmfr_checks(root, &k, &c->kvmfr, NULL, &l) == 0)
                perm = check_list_find(&l, "kvmfr.permissions");
        if (asprintf(&c->result, "%s; device: %s%s%s", udev ? udev : "",
                     perm ? check_status_to_string(perm->status) : "not checked",
                     perm ? ", " : "", perm ? perm->message : "") < 0)
                c->result = NULL;
        check_list_clear(&l);
}

static void vfio_work(Operation *op, void *data) {
        HostResult *c = data;
        const WinvmConfig *cfg = c->daemon->config;
        c->vfio_valid = vfio_report_read(cfg->host_root, cfg->vfio_ids, &c->vfio) == 0;
        if (!c->vfio_valid)
                op_fail(op, WINVM_ERROR_FAILED, "the PCI devices could not be read");
}

static void vfio_check_work(Operation *op, void *data) {
        HostResult *c = data;
        vfio_work(op, data);
        if (c->vfio_valid && vfio_checks(&c->vfio, &c->checks) < 0)
                op_fail(op, WINVM_ERROR_FAILED, "the VFIO checks could not run");
}

/* --- the Kvmfr property cache ------------------------------------------------------------------ */

static char *fingerprint(const KvmfrState *s) {
        GString *f = g_string_new(s->loaded ? "L" : "-");
        for (size_t i = 0; i < s->n_static_sizes; i++)
                g_string_append_printf(f, ",%u", s->static_sizes_mib[i]);
        for (size_t i = 0; i < s->n_devices; i++) {
                const KvmfrDevice *d = &s->devices[i];
                g_string_append_printf(f, "|%s %d %d %s %s %o", d->path, d->exists, d->is_char, d->owner ? d->owner : "",
                                       d->group ? d->group : "", d->mode);
                for (char **a = d->acl; a && *a; a++)
                        g_string_append_printf(f, " %s", *a);
        }
        return g_string_free(f, false);
}

static void cache_take(Daemon *d, HostResult *c) {
        HostCache *h = d->host_cache;
        if (!h || !c->kvmfr_valid)
                return;
        kvmfr_state_clear(&h->state);
        h->state = c->kvmfr;
        c->kvmfr = (KvmfrState) { 0 };
        c->kvmfr_valid = false;
        h->valid = true;
        h->read_usec = monotonic_usec();
        g_autofree char *f = fingerprint(&h->state);
        if (!h->fingerprint || strcmp(f, h->fingerprint) != 0) {
                g_free(h->fingerprint);
                h->fingerprint = g_steal_pointer(&f);
                (void) sd_bus_emit_properties_changed(d->bus, HOST_PATH, "org.winvm1.Kvmfr", "Loaded", "StaticSizesMiB",
                                                      "Devices", NULL);
        }
}

/* --- replies ---------------------------------------------------------------------------------- */

int bus_append_checks(sd_bus_message *reply, const CheckList *l) {
        int r = sd_bus_message_open_container(reply, 'a', "(ssss)");
        for (size_t i = 0; r >= 0 && i < l->n; i++)
                r = sd_bus_message_append(reply, "(ssss)", l->items[i].id, check_status_to_string(l->items[i].status),
                                          l->items[i].message, l->items[i].remedy);
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

static int append_vfio(sd_bus_message *reply, const VfioReport *v) {
        int r = sd_bus_message_open_container(reply, 'a', "a{sv}");
        for (size_t i = 0; r >= 0 && i < v->n_devices; i++) {
                const VfioDevice *dev = &v->devices[i];
                r = sd_bus_message_open_container(reply, 'a', "{sv}");
                if (r >= 0)
                        r = sd_bus_message_append(reply, "{sv}{sv}{sv}{sv}", "PciId", "s", dev->pci_id, "Address", "s",
                                                  dev->address ? dev->address : "", "Driver", "s",
                                                  dev->driver ? dev->driver : "", "IommuGroup", "s",
                                                  dev->group ? dev->group : "");
                if (r >= 0)
                        r = sd_bus_message_open_container(reply, 'e', "sv");
                if (r >= 0)
                        r = sd_bus_message_append(reply, "s", "Members");
                if (r >= 0)
                        r = sd_bus_message_open_container(reply, 'v', "a(sssbb)");
                if (r >= 0)
                        r = sd_bus_message_open_container(reply, 'a', "(sssbb)");
                for (size_t k = 0; r >= 0 && k < dev->n_members; k++) {
                        const VfioGroupMember *m = &dev->members[k];
                        r = sd_bus_message_append(reply, "(sssbb)", m->address, m->pci_id ? m->pci_id : "",
                                                  m->driver ? m->driver : "", (int) m->is_bridge, (int) m->is_blocker);
                }
                for (int k = 0; k < 4 && r >= 0; k++)
                        r = sd_bus_message_close_container(reply);
        }
        if (r >= 0)
                r = sd_bus_message_append(reply, "a{sv}", 5, "Host", "b", 1, "CpuVendor", "s",
                                          v->cpu_vendor_id ? v->cpu_vendor_id : "", "Cmdline", "s",
                                          v->cmdline ? v->cmdline : "", "IommuActive", "b", (int) v->iommu_active,
                                          "Groups", "u", (uint32_t) v->n_groups);
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

static int append_summary(sd_bus_message *reply, const CheckList *l) {
        CheckSummary s = check_list_summary(l);
        return sd_bus_message_append(reply, "a{su}", 4, "ok", (uint32_t) s.ok, "warn", (uint32_t) s.warn, "fail",
                                     (uint32_t) s.fail, "skipped", (uint32_t) s.skipped);
}

static int checks_reply(Operation *op, sd_bus_message *reply, void *data) {
        (void) op;
        return bus_append_checks(reply, &((HostResult *) data)->checks);
}

static int doctor_reply(Operation *op, sd_bus_message *reply, void *data) {
        HostResult *c = data;
        (void) op;
        int r = bus_append_checks(reply, &c->checks);
        return r < 0 ? r : append_summary(reply, &c->checks);
}

static int vfio_reply(Operation *op, sd_bus_message *reply, void *data) {
        (void) op;
        return append_vfio(reply, &((HostResult *) data)->vfio);
}

static int apply_reply(Operation *op, sd_bus_message *reply, void *data) {
        HostResult *c = data;
        (void) op;
        int r = sd_bus_message_append_strv(reply, c->files);
        return r < 0 ? r : sd_bus_message_append(reply, "s", c->result ? c->result : "");
}

/* A kvmfr state the work read updates the property cache, whether the call succeeded or not. */
static void kvmfr_settle(Operation *op, void *data) {
        cache_take(op_daemon(op), data);
}

/* share: for a read, its OpOptions.share key (the method, with vm when it names one); NULL
 * for a change. */
static int submit(Daemon *d, sd_bus_message *m, const char *vm, op_work_fn work, op_reply_fn reply, const char *share,
                  sd_bus_error *error) {
        HostResult *c = calloc(1, sizeof(*c));
        if (!c || (vm && !(c->vm = strdup(vm)))) {
                free(c);
                return -ENOMEM;
        }
        c->daemon = d;
        g_autofree char *key = share ? g_strjoin("\x1f", share, vm, NULL) : NULL;
        const OpOptions o = { .settle = kvmfr_settle, .free_data = host_result_free, .share = key };
        return op_submit(d, d->host_worker, m, NULL, work, reply, c, &o, error);
}

static int refresh_done(Operation *op, sd_bus_message *reply, void *data) {
        Daemon *d = op_daemon(op);
        (void) reply;
        if (d->host_cache)
                d->host_cache->refreshing = false;
        cache_take(d, data);
        return 0;
}

static void refresh_if_stale(Daemon *d) {
        HostCache *h = d->host_cache;
        if (!h || h->refreshing || (h->valid && monotonic_usec() - h->read_usec < KVMFR_CACHE_USEC))
                return;
        HostResult *c = calloc(1, sizeof(*c));
        if (!c)
                return;
        c->daemon = d;
        const OpOptions o = { .free_data = host_result_free };
        if (op_submit(d, d->host_worker, NULL, NULL, refresh_work, refresh_done, c, &o, NULL) < 0)
                return;
        h->refreshing = true;
}

int host_init(Daemon *d) {
        d->host_cache = calloc(1, sizeof(HostCache));
        if (!d->host_cache)
                return -ENOMEM;
        refresh_if_stale(d);
        return 0;
}

void host_done_all(Daemon *d) {
        if (!d->host_cache)
                return;
        if (d->host_cache->valid)
                kvmfr_state_clear(&d->host_cache->state);
        g_free(d->host_cache->fingerprint);
        free(d->host_cache);
        d->host_cache = NULL;
}

/* --- handlers --------------------------------------------------------------------------------- */

static int verify_read(Daemon *d, sd_bus_message *m, const char *action, sd_bus_error *error) {
        const char *const actions[] = { action, NULL };
        const BusPolkitRequest req = { .actions = actions, .verb = "read", .read = true };
        return bus_polkit_check(d->polkit, m, &req, error);
}

static int verify_manage(Daemon *d, sd_bus_message *m, const char *verb, sd_bus_error *error) {
        static const char *const actions[] = { "org.winvm1.kvmfr.manage", NULL };
        const char *details[] = { "verb", verb, NULL };
        uid_t uid;
        const BusPolkitRequest req = { .actions = actions, .details = details, .ret_uid = &uid };
        return bus_polkit_check(d->polkit, m, &req, error);
}

static const char *first_vm(Daemon *d) {
        return d->n_vms > 0 ? d->vms[0]->name : NULL;
}

static int method_kvmfr_check(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        int r = verify_read(d, m, "org.winvm1.kvmfr.read", error);
        if (r <= 0)
                return r < 0 ? r : 1;
        return submit(d, m, first_vm(d), kvmfr_check_work, checks_reply, "Kvmfr.Check", error);
}

static int method_kvmfr_load(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        int r = verify_manage(d, m, "load", error);
        if (r <= 0)
                return r < 0 ? r : 1;
        return submit(d, m, NULL, kvmfr_load_work, NULL, NULL, error);
}

static int method_kvmfr_unload(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        int r = verify_manage(d, m, "unload", error);
        if (r <= 0)
                return r < 0 ? r : 1;
        return submit(d, m, NULL, kvmfr_unload_work, NULL, NULL, error);
}

static int method_kvmfr_apply(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        int r = verify_manage(d, m, "apply-permissions", error);
        if (r <= 0)
                return r < 0 ? r : 1;
        return submit(d, m, NULL, kvmfr_apply_work, apply_reply, NULL, error);
}

static int method_vfio_devices(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        int r = verify_read(d, m, "org.winvm1.host.read", error);
        if (r <= 0)
                return r < 0 ? r : 1;
        return submit(d, m, NULL, vfio_work, vfio_reply, "Vfio.GetDevices", error);
}

static int method_vfio_check(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        int r = verify_read(d, m, "org.winvm1.host.read", error);
        if (r <= 0)
                return r < 0 ? r : 1;
        return submit(d, m, NULL, vfio_check_work, checks_reply, "Vfio.Check", error);
}

int manager_method_doctor(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        const char *name;
        int r = sd_bus_message_read(m, "s", &name);
        if (r < 0)
                return r;
        if (name[0] == '\0')
                name = first_vm(d);
        if (!name || !daemon_find_vm(d, name))
                return sd_bus_error_setf(error, WINVM_ERROR_NO_SUCH_VM, "'%s' is not a VM winvm manages", name ? name : "");
        r = verify_read(d, m, "org.winvm1.host.read", error);
        if (r <= 0)
                return r < 0 ? r : 1;
        return submit(d, m, name, doctor_work, doctor_reply, "Manager.Doctor", error);
}

static int property_get(sd_bus *bus, const char *path, const char *interface, const char *property,
                        sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        (void) bus;
        (void) path;
        (void) interface;
        (void) error;
        refresh_if_stale(d);
        const HostCache *h = d->host_cache;
        const KvmfrState *s = h && h->valid ? &h->state : NULL;
        if (streq_ptr(property, "Loaded"))
                return sd_bus_message_append_basic(reply, 'b', &(int) { s && s->loaded });
        if (streq_ptr(property, "RequiredSizeMiB"))
                return sd_bus_message_append_basic(reply, 'u', &(uint32_t) { required_size(d->config) });
        if (streq_ptr(property, "StaticSizesMiB"))
                return sd_bus_message_append_array(reply, 'u', s ? s->static_sizes_mib : NULL,
                                                   s ? s->n_static_sizes * sizeof(unsigned) : 0);
        int r = sd_bus_message_open_container(reply, 'a', "(sbssuas)");
        for (size_t i = 0; r >= 0 && s && i < s->n_devices; i++) {
                const KvmfrDevice *dev = &s->devices[i];
                if (!dev->exists)
                        continue;
                r = sd_bus_message_open_container(reply, 'r', "sbssuas");
                if (r >= 0)
                        r = sd_bus_message_append(reply, "sbssu", dev->path, (int) dev->is_char,
                                                  dev->owner ? dev->owner : "", dev->group ? dev->group : "",
                                                  (uint32_t) dev->mode);
                if (r >= 0)
                        r = sd_bus_message_append_strv(reply, dev->acl);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
        }
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

const sd_bus_vtable kvmfr_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Loaded", "b", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("StaticSizesMiB", "au", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("RequiredSizeMiB", "u", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Devices", "a(sbssuas)", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD_WITH_ARGS("Check", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(ssss)", checks), method_kvmfr_check,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Load", NULL, NULL, method_kvmfr_load, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Unload", NULL, NULL, method_kvmfr_unload, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ApplyPermissions", SD_BUS_NO_ARGS, SD_BUS_RESULT("as", files, "s", result),
                                method_kvmfr_apply, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

const sd_bus_vtable vfio_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("GetDevices", SD_BUS_NO_ARGS, SD_BUS_RESULT("aa{sv}", devices), method_vfio_devices,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Check", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(ssss)", checks), method_vfio_check,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};
