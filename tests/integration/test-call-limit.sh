#!/usr/bin/env bash
# Work queued per user is capped (service/lib/call-limit.h): mallory, outside the group, floods
# winvmd from several connections at once with pipelined reads that run on its workers
# (Manager.Doctor, Vfio.Check, Storage.GetImages). Past the cap of her user the calls are
# answered org.winvm1.Error.Busy at once, not queued; meanwhile jarrett's Start and ForceStop
# are answered and done. Afterwards nothing is left counted: mallory's reads are served again.
# (How long jarrett's calls take during such a flood is measured in bench/flood-bench.)
set -uo pipefail
# shellcheck source=tests/sandbox/sandbox-lib.sh
. "$WINVM_SRC/tests/sandbox/sandbox-lib.sh"
# shellcheck source=tests/integration/lib.sh
. "$WINVM_SRC/tests/integration/lib.sh"

ABUSE=$WINVM_BUILD/tests/tools/bus-abuse
OUT=$WINVM_SANDBOX/call-limit
PER_USER=8 # CALL_LIMIT_PER_UID
mkdir -p "$OUT"
READS=("/org/winvm1 org.winvm1.Manager.Doctor s $GUEST" "/org/winvm1/host org.winvm1.Vfio.Check"
    "/org/winvm1/storage org.winvm1.Storage.GetImages")

# reply_count "FROM NAME" FILE...: the replies bus-abuse counted under that name.
reply_count() {
    local k=$1
    shift
    awk -v k="$k" '$1 == "reply" { n = $2; $1 = $2 = ""; sub(/^  /, ""); if ($0 == k) s += n } END { print s + 0 }' "$@"
}

call mallory /org/winvm1 org.winvm1.Manager.Doctor "$GUEST"
assert_call_ok "before the flood: mallory's Doctor call is served (reads are allowed to all)"

pids=()
for i in 1 2 3 4 5 6; do
    as_user mallory "$ABUSE" flood --calls 400 --timeout 120 \
        --call "${READS[0]}" --call "${READS[1]}" --call "${READS[2]}" >"$OUT/flood$i.out" 2>&1 &
    pids+=($!)
done
ctl jarrett start
assert_ctl 0 "during the flood: jarrett's start is answered and succeeds"
assert_libvirt running "the guest runs"
ctl jarrett force-stop
assert_ctl 0 "during the flood: jarrett's force-stop is answered and succeeds"
assert_libvirt "shut off" "the guest is off"
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
assert_eq 0 "$rc" "every one of mallory's 2400 calls got a reply"
sed -n 's/^reply /#   /p' "$OUT"/flood*.out | sort | uniq -c | sed 's/^/#/'

busy=$(reply_count "service org.winvm1.Error.Busy" "$OUT"/flood*.out)
served=$(reply_count "service (method return)" "$OUT"/flood*.out)
if ((busy > 0)); then
    ok "past the per-user cap, $busy calls were answered Busy ($served served)"
else
    fail "calls past the per-user cap are answered org.winvm1.Error.Busy" "no Busy reply; $served served"
fi
others=$(grep -h '^reply' "$OUT"/flood*.out |
    grep -Ev ' service \(method return\)$| service org\.winvm1\.Error\.Busy$| (service|bus) org\.freedesktop\.DBus\.Error\.LimitsExceeded$' || true)
assert_eq "" "$others" "no reply but a result, Busy and LimitsExceeded"

# No call is left counted against mallory: one connection sends PER_USER + 4 Doctor calls at
# once, then another read, which is served.
as_user mallory "$ABUSE" hold --calls $((PER_USER + 4)) --timeout 60 --call "${READS[0]}" \
    --then "${READS[1]}" >"$OUT/after.out" 2>&1
then=$(sed -n 's/^then //p' "$OUT/after.out")
assert_eq "(method return)" "${then%%:*}" "after the flood nothing of mallory's is left counted: her next read is served"
call mallory /org/winvm1 org.winvm1.Manager.Doctor "$GUEST"
assert_call_ok "a single Doctor call of mallory's is served"
assert_winvmd_alive "$WINVMD_PID" "winvmd survived the flood"
summary
