/* Fuzzes the intent journal of snapshot operations (service/lib/snapshot-intent.c): an intent that
 * parses is complete (a known operation, valid names, at least one disk with an absolute
 * image), its text parses back to the same intent, and that text is a fixed point:
 * format(parse(format(parse(x)))) == format(parse(x)). */
#include <errno.h>

#include "fuzz-common.h"
#include "names.h"
#include "snapshot-intent.h"

static void check_intent(const Intent *in) {
        fuzz_check(strcmp(in->op, "create") == 0 || strcmp(in->op, "revert") == 0 || strcmp(in->op, "delete") == 0,
                   "Op '%s'", in->op);
        fuzz_check(snapshot_name_is_valid(in->name), "Name '%s'", in->name);
        fuzz_check(!in->kept[0] || snapshot_name_is_valid(in->kept), "Kept '%s'", in->kept);
        fuzz_check(in->parent && in->description && in->guest_state && in->nvram && in->tpm, "a NULL field");
        fuzz_check(in->n_disks > 0, "no disks");
        for (size_t i = 0; i < in->n_disks; i++) {
                const IntentDisk *d = &in->disks[i];
                fuzz_check(disk_target_is_valid(d->target), "target '%s'", d->target);
                for (size_t k = 0; k < i; k++)
                        fuzz_check(strcmp(in->disks[k].target, d->target) != 0, "target %s twice", d->target);
                fuzz_check(d->image[0] == '/', "disk %s: image '%s'", d->target, d->image);
                fuzz_check(d->overlay && d->stem && d->backing && d->backing_format, "disk %s: a NULL field", d->target);
                fuzz_check(!d->overlay[0] || d->overlay[0] == '/', "disk %s: overlay '%s'", d->target, d->overlay);
                fuzz_check(!d->backing[0] || d->backing[0] == '/', "disk %s: backing '%s'", d->target, d->backing);
                fuzz_check(d->stem[0] && !strchr(d->stem, '/') && strcmp(d->stem, ".") != 0 && strcmp(d->stem, "..") != 0,
                           "disk %s: stem '%s'", d->target, d->stem);
        }
}

static void check_same(const Intent *a, const Intent *b) {
        fuzz_check(strcmp(a->op, b->op) == 0 && strcmp(a->name, b->name) == 0 && strcmp(a->kept, b->kept) == 0 &&
                   strcmp(a->parent, b->parent) == 0 && strcmp(a->description, b->description) == 0 &&
                   strcmp(a->guest_state, b->guest_state) == 0 && a->created_usec == b->created_usec &&
                   strcmp(a->nvram, b->nvram) == 0 && strcmp(a->tpm, b->tpm) == 0 && a->n_disks == b->n_disks,
                   "the intent changed through its text");
        for (size_t i = 0; i < a->n_disks; i++) {
                const IntentDisk *x = &a->disks[i], *y = &b->disks[i];
                fuzz_check(strcmp(x->target, y->target) == 0 && strcmp(x->image, y->image) == 0 &&
                           strcmp(x->overlay, y->overlay) == 0 && strcmp(x->stem, y->stem) == 0 &&
                           strcmp(x->backing, y->backing) == 0 && strcmp(x->backing_format, y->backing_format) == 0,
                           "disk %zu changed through its text", i);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *input = fuzz_strndup(data, size);
        Intent *in = NULL, *in2 = NULL;
        char *error = NULL, *text = NULL, *again = NULL;

        int r = intent_parse(input, &in, &error);
        if (r < 0) {
                fuzz_check(r == -EBADMSG && error && !in, "failed with %d, error '%s'", r, fuzz_str(error));
                goto out;
        }
        fuzz_check(in && !error, "success with error '%s'", fuzz_str(error));
        check_intent(in);

        fuzz_check(intent_format(in, &text) == 0 && text, "format failed");
        r = intent_parse(text, &in2, &error);
        fuzz_check(r == 0, "the formatted intent does not parse (%d, %s):\n%s", r, fuzz_str(error), text);
        check_intent(in2);
        check_same(in, in2);
        fuzz_check(intent_format(in2, &again) == 0 && again, "format failed");
        fuzz_check(strcmp(text, again) == 0, "not a fixed point:\n%s\n-- became --\n%s", text, again);

out:
        intent_free(in);
        intent_free(in2);
        free(error);
        free(text);
        free(again);
        free(input);
        return 0;
}
