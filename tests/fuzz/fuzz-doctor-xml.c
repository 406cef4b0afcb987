/* Fuzzes what the doctor reads from a domain XML (service/lib/doctor-checks.c, kvmfr-checks.c):
 * the IVSHMEM device (QEMU's JSON and key=value options in <qemu:commandline>, or <shmem>)
 * and the vm.* checks, on the seed host's fixture (tests/fixtures/hosts/intel-seed).
 *
 * Checks: the IVSHMEM device is one of the documented kinds; the vm.* checks come out in the
 * documented order whatever the XML, and every check list is well formed (fuzz-checks.h). */
#include <errno.h>
#include <libxml/parser.h>
#include <stdbool.h>

#include "doctor-checks.h"
#include "domain-xml.h"
#include "fuzz-checks.h"
#include "fuzz-common.h"
#include "kvmfr-checks.h"
#include "util.h"

#ifndef FUZZ_HOST_ROOT
#define FUZZ_HOST_ROOT "/nonexistent"
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv);

static KvmfrConfig kvmfr_config;
static KvmfrState kvmfr_state;

static void quiet(void *ctx, const char *msg, ...) {
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        xmlSetGenericErrorFunc(NULL, quiet);
        kvmfr_config_init(&kvmfr_config);
        kvmfr_config.owner = "jarrett";
        if (kvmfr_state_read(FUZZ_HOST_ROOT, &kvmfr_config, NULL, &kvmfr_state) < 0)
                abort();
        return 0;
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *xml = fuzz_strndup(data, size);

        KvmfrIvshmem iv;
        int r = kvmfr_ivshmem_from_xml(xml, &iv);
        if (r == 0) {
                fuzz_check(iv.kind == KVMFR_IVSHMEM_NONE || iv.kind == KVMFR_IVSHMEM_COMMANDLINE ||
                           iv.kind == KVMFR_IVSHMEM_SHMEM, "IVSHMEM kind %d", (int) iv.kind);
                fuzz_check(iv.kind != KVMFR_IVSHMEM_NONE || (!iv.backend_id && !iv.mem_path && iv.size == 0),
                           "no IVSHMEM device, but details");
                fuzz_check(iv.kind != KVMFR_IVSHMEM_SHMEM || !iv.mem_path, "<shmem> with a mem-path");
                kvmfr_ivshmem_clear(&iv);
        } else {
                fuzz_check(r == -EINVAL, "kvmfr_ivshmem_from_xml returned %d", r);
        }

        /* The images as winvmd passes them: one NOCOW, one unreadable, the rest not. */
        char **files = NULL;
        if (domain_xml_disk_files(xml, &files) < 0)
                files = NULL;
        size_t n_images = strv_length(files);
        DoctorImage *images = calloc(n_images + 1, sizeof(DoctorImage));
        for (size_t i = 0; i < n_images; i++)
                images[i] = (DoctorImage) { .path = files[i], .nocow = i == 1 ? 1 : i == 2 ? -EACCES : 0 };

        DoctorInput in = {
                .root = FUZZ_HOST_ROOT,
                .domain_xml = xml,
                .user = "jarrett",
                .kvmfr = &kvmfr_config,
                .images_known = true,
                .images = images,
                .n_images = n_images,
        };
        CheckList l = CHECK_LIST_INIT;
        r = doctor_vm_checks(&in, &l);
        fuzz_check(r == 0, "doctor_vm_checks returned %d", r);
        static const char *const ids[] = { "vm.memballoon", "vm.hyperv", "vm.kvm-hidden", "vm.vendor-id",
                                           "vm.cpu-pinning", "vm.virtiofsd", "vm.session-duplicate", "vm.images-nocow",
                                           "vm.input" };
        fuzz_check(l.n == ELEMENTSOF(ids), "%zu vm checks", l.n);
        for (size_t i = 0; i < l.n; i++)
                fuzz_check(strcmp(l.items[i].id, ids[i]) == 0, "check %zu is %s, expected %s", i, l.items[i].id, ids[i]);
        fuzz_check_list(&l);
        check_list_clear(&l);

        r = kvmfr_checks(FUZZ_HOST_ROOT, &kvmfr_config, &kvmfr_state, xml, &l);
        fuzz_check(r == 0, "kvmfr_checks returned %d", r);
        fuzz_check(fuzz_has_check(&l, "kvmfr.ivshmem-path") && fuzz_has_check(&l, "kvmfr.ivshmem-size"),
                   "no IVSHMEM checks with a domain XML");
        fuzz_check_list(&l);
        check_list_clear(&l);

        free(images);
        strv_free(files);
        free(xml);
        return 0;
}
