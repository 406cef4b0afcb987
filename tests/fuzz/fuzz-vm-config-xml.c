/* Fuzzes the domain XML readers and edits of the VM's configuration: USB <hostdev>s
 * (service/lib/usb-devices.c), virtiofs shares (service/lib/virtiofs-shares.c) and the normalising
 * that DefinitionDrift compares with (service/lib/xml-doc.c).
 *
 * Input: a first line "VENDOR:PRODUCT|BINARY" (an invalid id or binary gets a realistic
 * default), then the domain XML.
 *
 * Checks: the readers agree on whether the XML parses; removing a device the XML has leaves
 * XML without it, and removing one it lacks is -ENOENT; pointing the shares at a binary leaves
 * every share with that binary and the same sources and tags; normalising is idempotent; the
 * definition guard lets any definition through against itself and against its normalised
 * form (layout is no change). fuzz-definition-guard checks what it admits. */
#include <errno.h>
#include <glib.h>

#include "definition-guard.h"
#include "fuzz-common.h"
#include "usb-devices.h"
#include "util.h"
#include "virtiofs-shares.h"
#include "xml-doc.h"

static bool binary_ok(const char *s) {
        /* Text an attribute can hold and an allow-list would: a printable absolute path. */
        if (s[0] != '/' || strlen(s) > 256)
                return false;
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                if (*p < 0x20 || *p >= 0x7f)
                        return false;
        return true;
}

static void check_usb(const char *xml, UsbId id) {
        int has = usb_domain_has(xml, id);
        char *out = NULL;
        int r = usb_domain_remove(xml, id, &out);
        if (has < 0) {
                fuzz_check(r == -EINVAL, "remove on unparsable XML gave %d", r);
                return;
        }
        if (has == 0) {
                fuzz_check(r == -ENOENT, "remove of an absent device gave %d", r);
                return;
        }
        fuzz_check(r == 0, "remove of a present device gave %d", r);
        fuzz_check(usb_domain_has(out, id) == 0, "the device is still there after remove:\n%s", out);
        free(out);
}

static void check_virtiofs(const char *xml, const char *binary) {
        VirtiofsShares s;
        int r = virtiofs_shares_from_xml(xml, &s);
        char *out = NULL;
        int e = virtiofs_set_binary(xml, binary, &out);
        if (r < 0) {
                fuzz_check(e == -EINVAL, "set_binary on unparsable XML gave %d", e);
                return;
        }
        if (s.n == 0)
                fuzz_check(e == -ENOENT, "set_binary without shares gave %d", e);
        else {
                fuzz_check(e == 0, "set_binary gave %d", e);
                VirtiofsShares t;
                fuzz_check(virtiofs_shares_from_xml(out, &t) == 0, "the edited XML does not parse:\n%s", out);
                fuzz_check(t.n == s.n, "%zu shares became %zu", s.n, t.n);
                for (size_t i = 0; i < t.n; i++) {
                        fuzz_check(streq_ptr(t.items[i].binary, binary), "share %zu has binary %s", i,
                                   fuzz_str(t.items[i].binary));
                        fuzz_check(streq_ptr(t.items[i].source, s.items[i].source), "share %zu source changed", i);
                        fuzz_check(streq_ptr(t.items[i].tag, s.items[i].tag), "share %zu tag changed", i);
                }
                fuzz_check(t.shared_memory == s.shared_memory, "memory backing changed");
                virtiofs_shares_clear(&t);
                free(out);
        }
        CheckList l = CHECK_LIST_INIT;
        char *allowed[] = { (char *) binary, NULL };
        fuzz_check(virtiofs_checks(FUZZ_HOST_ROOT, &s, allowed, &l) == 0, "virtiofs_checks failed");
        check_list_clear(&l);
        virtiofs_shares_clear(&s);
}

static void check_guard(const char *xml, const char *normalized) {
        char *allowed[] = { (char *) "/run/current-system/sw/bin/virtiofsd", NULL };
        char *usb[] = { (char *) "256c:006d", NULL };
        DefinitionPolicy p = { .virtiofsd_allowed = allowed, .usb_ids = usb };
        char *what = NULL;
        int r = definition_guard_check(xml, xml, &p, &what);
        /* Only a <domain> is a definition; anything else does not parse as one. */
        bool domain = r != -EINVAL;
        fuzz_check(r == 0 || r == -EINVAL, "a definition changes %s against itself", fuzz_str(what));
        r = definition_guard_check(xml, normalized, &p, &what);
        fuzz_check(r == 0 || (!domain && r == -EINVAL), "its normalised form changes %s", fuzz_str(what));
        free(what);
        what = NULL;
        r = definition_guard_check("<domain/>", xml, &p, &what);
        fuzz_check(r == 0 || r == -EPERM || (!domain && r == -EINVAL), "against an empty domain: %d", r);
        free(what);
}

static void check_normalize(const char *xml) {
        char *a = NULL, *b = NULL;
        if (xml_normalize(xml, &a) < 0)
                return;
        check_guard(xml, a);
        fuzz_check(xml_normalize(a, &b) == 0, "normalised XML does not parse:\n%s", a);
        fuzz_check(strcmp(a, b) == 0, "normalising twice changed it:\n%s\n---\n%s", a, b);
        free(a);
        free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *input = fuzz_strndup(data, size);
        char *nl = strchr(input, '\n');
        const char *xml = nl ? nl + 1 : input;
        if (nl)
                *nl = '\0';
        char *bar = nl ? strchr(input, '|') : NULL;
        if (bar)
                *bar = '\0';
        UsbId id;
        if (!nl || usb_id_parse(input, &id) < 0)
                id = (UsbId) { 0x256c, 0x006d };
        const char *binary = bar && binary_ok(bar + 1) ? bar + 1 : "/run/current-system/sw/bin/virtiofsd";

        check_usb(xml, id);
        check_virtiofs(xml, binary);
        check_normalize(xml);
        free(input);
        return 0;
}
