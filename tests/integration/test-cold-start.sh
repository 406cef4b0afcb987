#!/usr/bin/env bash
# Manager.StartupPhases tells when winvmd reached each step of its start: every step is
# listed once reached, in the order the steps depend on each other, and a read that came
# before the VM's state was known was answered only after it (the start-up hold) and after
# polkit's verdict.
set -uo pipefail
. "$WINVM_SRC/tests/sandbox/sandbox-lib.sh"
# shellcheck source=tests/integration/lib.sh
. "$WINVM_SRC/tests/integration/lib.sh"

phases() { as_user jarrett busctl --system get-property org.winvm1 /org/winvm1 org.winvm1.Manager StartupPhases; }

# A fresh winvmd whose first call is a read of the VM (the sandbox waits for the name with
# the bus daemon, not with a call to winvmd).
# shellcheck disable=SC2119  # no arguments for winvmd
restart_winvmd
state=$(as_user jarrett busctl --system get-property org.winvm1 "$VM_PATH" org.winvm1.VM State)
assert_contains "$state" '"shutoff"' "the first read says the guest's state, not unknown ($state)"

first=$(phases)
# busctl prints: a(st) N "name" usec "name" usec ...
out=$(python3 - "$first" <<'PY'
import shlex, sys
words = shlex.split(sys.argv[1])
if words[:1] != ["a(st)"]:
    sys.exit("not an a(st): " + sys.argv[1])
n = int(words[1])
pairs = list(zip(words[2::2], map(int, words[3::2])))
t = dict(pairs)
problems = []
if len(pairs) != n or len(t) != n:
    problems.append("each phase once")
expected = ["main", "config", "bus-name", "libvirt-connected", "states-known", "first-call",
            "first-verdict", "first-reply"]
if [p for p, _ in pairs] != expected:
    problems.append("phases %s, expected %s" % ([p for p, _ in pairs], expected))
else:
    for a, b in [("main", "config"), ("config", "bus-name"), ("bus-name", "first-call"),
                 ("first-call", "first-verdict"), ("first-verdict", "first-reply"),
                 ("libvirt-connected", "states-known"), ("states-known", "first-reply")]:
        if not 0 < t[a] <= t[b]:
            problems.append("%s (%d) after %s (%d)" % (a, t[a], b, t[b]))
print("; ".join(problems) or "ok")
PY
)
assert_eq ok "$out" "StartupPhases lists every phase once, in order, the first reply after the state was known"

# Each phase keeps the first time it was reached: later calls change nothing.
as_user jarrett busctl --system get-property org.winvm1 "$VM_PATH" org.winvm1.VM State >/dev/null
assert_eq "$first" "$(phases)" "StartupPhases does not change after the start"

# A new winvmd has a new start: its phases are later than the old one's first reply.
old_reply=$(python3 -c 'import shlex,sys; w=shlex.split(sys.argv[1]); print(dict(zip(w[2::2], w[3::2]))["first-reply"])' "$first")
# shellcheck disable=SC2119  # no arguments for winvmd
restart_winvmd
new_main=$(python3 -c 'import shlex,sys; w=shlex.split(sys.argv[1]); print(dict(zip(w[2::2], w[3::2]))["main"])' "$(phases)")
if python3 -c "import sys; sys.exit(0 if $new_main > $old_reply else 1)"; then
    ok "a restarted winvmd records its own start"
else
    fail "a restarted winvmd records its own start" "main $new_main, the old first reply $old_reply"
fi

summary
