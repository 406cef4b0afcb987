/* /org/winvm1/host: org.winvm1.Kvmfr and org.winvm1.Vfio, and Manager.Doctor. Every check
 * reads the host through the configured root prefix on the storage worker (sysfs, /dev and
 * /etc reads, libkmod, udevadm), with a libvirt connection of its own for domain XML; the
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
#include "kvmfr-manage.h"
#include "nixos-host.h"
#include "safe-files.h"
#include "scrub-records.h"
#include "util.h"
#include "vfio-checks.h"
#include "virtiofs-shares.h"

#define KVMFR_CACHE_USEC (2u * 1000000u)

#ifndef WINVM_POLKIT_GROUP
#define WINVM_POLKIT_GROUP "winvm"
#endif

typedef enum HostOp {
        HOST_REFRESH,           /* the Kvmfr property cache; no caller */
        HOST_KVMFR_CHECK,
        HOST_KVMFR_LOAD,
        HOST_KVMFR_UNLOAD,
        HOST_KVMFR_APPLY,
        HOST_VFIO_DEVICES,
        HOST_VFIO_CHECK,
        HOST_DOCTOR,
} HostOp;

typedef struct HostCall {
        Daemon *daemon;
        sd_bus_message *message;
        CallTicket ticket;
        HostOp op;
        char *vm;               /* doctor, and the VM whose IVSHMEM device kvmfr checks look at */

        /* Results, filled on the worker. */
        CheckList checks;
        KvmfrState kvmfr;
        bool kvmfr_valid;
        VfioReport vfio;
        bool vfio_valid;
        char **files;
        char *result;
        const char *error_name;
        char *error_message;
} HostCall;

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

static void seterr(HostCall *c, const char *name, char *message) {
        if (c->error_name) {
                free(message);
                return;
        }
        c->error_name = name;
        c->error_message = message ? message : strdup("out of memory");
}

/* The VM's persistent definition (live when live and it runs), over a connection of our own. */
static char *domain_xml(const WinvmConfig *cfg, const char *vm, bool live, bool *ret_active) {
        virConnectPtr conn = virConnectOpen(cfg->libvirt_uri);
        virDomainPtr dom = conn ? virDomainLookupByName(conn, vm) : NULL;
        char *xml = NULL;
        if (dom) {
                int active = virDomainIsActive(dom) == 1;
                if (ret_active)
                        *ret_active = active;
                xml = virDomainGetXMLDesc(dom, live && active ? 0 : VIR_DOMAIN_XML_INACTIVE);
                virDomainFree(dom);
        }
        if (conn)
                virConnectClose(conn);
        virResetLastError();
        return xml;
}

static void kvmfr_read(HostCall *c, const KvmfrConfig *k) {
        const char *root = c->daemon->config->host_root;
        c->kvmfr_valid = kvmfr_state_read(root, k, NULL, &c->kvmfr) == 0;
}

/* Unloading under a running guest would take its frame buffer away. */
static bool device_in_use(HostCall *c, const KvmfrConfig *k, char **ret_vm) {
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
static void doctor_config_checks(HostCall *c, const char *xml) {
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
static void doctor_scrub_check(HostCall *c) {
        const WinvmConfig *cfg = c->daemon->config;
        ScrubScheduleFs *fs = NULL;
        size_t n = 0;
        if (scrub_records_read(cfg, &fs, &n) == 0)
                (void) scrub_overdue_check(cfg->scrub_interval_sec, fs, n, scrub_records_now_usec(), &c->checks);
        free(fs);
}

static void doctor_work(HostCall *c) {
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
                seterr(c, WINVM_ERROR_FAILED, strdup("the checks could not run (a bad PCI id or kvmfr setting)"));
        doctor_config_checks(c, xml);
        doctor_scrub_check(c);
        if (vf_valid)
                virtiofsd_facts_clear(&vf);
        desktop_user_clear(&du);
        free(images);
        domain_disks_free(disks, n);
}

static void host_work(void *userdata) {
        HostCall *c = userdata;
        const WinvmConfig *cfg = c->daemon->config;
        const char *root = cfg->host_root;
        KvmfrConfig k;
        DesktopUser du = { 0 };
        kvmfr_config_from(cfg, &k, &du);
        char *message = NULL;
        int r;

        switch (c->op) {
        case HOST_REFRESH:
                kvmfr_read(c, &k);
                break;
        case HOST_KVMFR_CHECK: {
                _cleanup_free_ char *xml = c->vm ? domain_xml(cfg, c->vm, false, NULL) : NULL;
                kvmfr_read(c, &k);
                if (!c->kvmfr_valid || kvmfr_checks(root, &k, &c->kvmfr, xml, &c->checks) < 0)
                        seterr(c, WINVM_ERROR_FAILED, strdup("the kvmfr checks could not run"));
                break;
        }
        case HOST_KVMFR_LOAD:
                r = kvmfr_load(root, required_size(cfg), &message);
                if (r < 0)
                        seterr(c, r == -ENOENT ? WINVM_ERROR_NOT_FOUND : r == -EALREADY ? WINVM_ERROR_BUSY :
                                  WINVM_ERROR_FAILED, message);
                else
                        free(message);
                kvmfr_read(c, &k);
                break;
        case HOST_KVMFR_UNLOAD: {
                _cleanup_free_ char *vm = NULL;
                if (device_in_use(c, &k, &vm)) {
                        char *m = NULL;
                        seterr(c, WINVM_ERROR_BUSY,
                               asprintf(&m, "VM %s is running and uses %s; shut it down first", vm,
                                        k.device ? k.device : KVMFR_DEFAULT_DEVICE) < 0 ? NULL : m);
                } else if ((r = kvmfr_unload(root, &message)) < 0)
                        seterr(c, r == -EBUSY ? WINVM_ERROR_BUSY : WINVM_ERROR_FAILED, message);
                else
                        free(message);
                kvmfr_read(c, &k);
                break;
        }
        case HOST_KVMFR_APPLY: {
                _cleanup_free_ char *udev = NULL;
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
                                seterr(c, WINVM_ERROR_FAILED, message);
                                break;
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
                                seterr(c, WINVM_ERROR_FAILED, message);
                                break;
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
                break;
        }
        case HOST_VFIO_DEVICES:
        case HOST_VFIO_CHECK:
                c->vfio_valid = vfio_report_read(root, cfg->vfio_ids, &c->vfio) == 0;
                if (!c->vfio_valid)
                        seterr(c, WINVM_ERROR_FAILED, strdup("the PCI devices could not be read"));
                else if (c->op == HOST_VFIO_CHECK && vfio_checks(&c->vfio, &c->checks) < 0)
                        seterr(c, WINVM_ERROR_FAILED, strdup("the VFIO checks could not run"));
                break;
        case HOST_DOCTOR:
                doctor_work(c);
                break;
        }
        desktop_user_clear(&du);
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

static void cache_take(Daemon *d, HostCall *c) {
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

static void reply(HostCall *c) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        if (c->error_name) {
                (void) sd_bus_reply_method_errorf(c->message, c->error_name, "%s", c->error_message);
                return;
        }
        int r = sd_bus_message_new_method_return(c->message, &m);
        if (r >= 0)
                switch (c->op) {
                case HOST_KVMFR_CHECK:
                case HOST_VFIO_CHECK:
                        r = bus_append_checks(m, &c->checks);
                        break;
                case HOST_DOCTOR:
                        r = bus_append_checks(m, &c->checks);
                        if (r >= 0)
                                r = append_summary(m, &c->checks);
                        break;
                case HOST_VFIO_DEVICES:
                        r = append_vfio(m, &c->vfio);
                        break;
                case HOST_KVMFR_APPLY:
                        r = sd_bus_message_append_strv(m, c->files);
                        if (r >= 0)
                                r = sd_bus_message_append(m, "s", c->result ? c->result : "");
                        break;
                default:
                        break;
                }
        if (r >= 0)
                r = sd_bus_send(NULL, m, NULL);
        if (r < 0)
                (void) sd_bus_reply_method_errnof(c->message, -r, "Could not build the reply: %m");
}

static void host_done(void *userdata) {
        HostCall *c = userdata;
        Daemon *d = c->daemon;
        if (c->op == HOST_REFRESH && d->host_cache)
                d->host_cache->refreshing = false;
        cache_take(d, c);
        daemon_call_leave(d, &c->ticket);
        if (c->message)
                reply(c);
        daemon_busy_dec(d);
        check_list_clear(&c->checks);
        if (c->kvmfr_valid)
                kvmfr_state_clear(&c->kvmfr);
        if (c->vfio_valid)
                vfio_report_clear(&c->vfio);
        strv_free(c->files);
        free(c->result);
        free(c->error_message);
        free(c->vm);
        sd_bus_message_unref(c->message);
        free(c);
}

static int submit(Daemon *d, sd_bus_message *m, HostOp op, const char *vm) {
        HostCall *c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->daemon = d;
        c->message = sd_bus_message_ref(m);
        c->op = op;
        c->vm = vm ? strdup(vm) : NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error busy = SD_BUS_ERROR_NULL;
        if (m && daemon_call_enter(d, m, true, &c->ticket, &busy) < 0) {
                sd_bus_message_unref(c->message);
                free(c->vm);
                free(c);
                return sd_bus_reply_method_error(m, &busy);
        }
        int r = worker_submit(d->storage_worker, host_work, host_done, c);
        if (r < 0) {
                daemon_call_leave(d, &c->ticket);
                sd_bus_message_unref(c->message);
                free(c->vm);
                free(c);
                return m ? sd_bus_reply_method_errorf(m, WINVM_ERROR_FAILED, "winvmd is shutting down") : r;
        }
        daemon_busy_inc(d);
        return 1;
}

static void refresh_if_stale(Daemon *d) {
        HostCache *h = d->host_cache;
        if (!h || h->refreshing || (h->valid && monotonic_usec() - h->read_usec < KVMFR_CACHE_USEC))
                return;
        if (submit(d, NULL, HOST_REFRESH, NULL) > 0)
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
        return submit(d, m, HOST_KVMFR_CHECK, first_vm(d));
}

static int method_kvmfr_manage(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        const char *member = sd_bus_message_get_member(m);
        HostOp op = streq_ptr(member, "Load") ? HOST_KVMFR_LOAD : streq_ptr(member, "Unload") ? HOST_KVMFR_UNLOAD :
                    HOST_KVMFR_APPLY;
        int r = verify_manage(d, m, op == HOST_KVMFR_LOAD ? "load" : op == HOST_KVMFR_UNLOAD ? "unload" :
                              "apply-permissions", error);
        if (r <= 0)
                return r < 0 ? r : 1;
        return submit(d, m, op, NULL);
}

static int method_vfio(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        int r = verify_read(d, m, "org.winvm1.host.read", error);
        if (r <= 0)
                return r < 0 ? r : 1;
        return submit(d, m, streq_ptr(sd_bus_message_get_member(m), "Check") ? HOST_VFIO_CHECK : HOST_VFIO_DEVICES,
                      NULL);
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
        return submit(d, m, HOST_DOCTOR, name);
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
        SD_BUS_METHOD("Load", NULL, NULL, method_kvmfr_manage, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Unload", NULL, NULL, method_kvmfr_manage, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ApplyPermissions", SD_BUS_NO_ARGS, SD_BUS_RESULT("as", files, "s", result),
                                method_kvmfr_manage, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

const sd_bus_vtable vfio_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("GetDevices", SD_BUS_NO_ARGS, SD_BUS_RESULT("aa{sv}", devices), method_vfio,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Check", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(ssss)", checks), method_vfio,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};
