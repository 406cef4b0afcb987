#!/usr/bin/env bash
# Hostile arguments on every method and property (tests/tools/bus-fuzz): thousands of calls as
# mallory, with the guest off and running, then as jarrett. winvmd must never crash (the same
# process keeps org.winvm1), never hang (every call answered within the timeout) and answer
# only with named errors a client can act on; mallory's calls must change nothing: libvirt's
# definition and state of the guest, the image folder and the state folder are compared before
# and after. The replies are counted per error name and printed. jarrett's Define calls read a
# definition file bus-fuzz rewrites with allowlisted edits and host references alike; after
# them, libvirt's definition may name no host path it did not name before but images in the
# image folder (the snapshots' overlays).
#
# WINVM_FUZZ_SEED (default 1) and WINVM_FUZZ_CALLS (mallory's calls per pass, default 20000)
# change the run; a failure names the seed and the call number, and
#   bus-fuzz --seed S --count N --only K
# sends that one call again (and dumps it).
set -uo pipefail
# shellcheck source=tests/sandbox/sandbox-lib.sh
. "$WINVM_SRC/tests/sandbox/sandbox-lib.sh"
# shellcheck source=tests/integration/lib.sh
. "$WINVM_SRC/tests/integration/lib.sh"

FUZZ=$WINVM_BUILD/tests/tools/bus-fuzz
SEED=${WINVM_FUZZ_SEED:-1}
MALLORY_CALLS=${WINVM_FUZZ_CALLS:-20000}
JARRETT_CALLS=5000
LOGS=$WINVM_SANDBOX/fuzz
# jarrett's pass may only make this many well-typed calls of the methods that leave files
# behind: each snapshot (and each revert that keeps the current state as one) adds an overlay
# image and copies of the NVRAM and TPM state. Bounded calls, bounded disk.
SNAPSHOT_LIMITS=CreateSnapshot=12,RevertSnapshot=12
DISK_BOUND_KIB=$((64 * 1024))
# Never called by jarrett: what acts on the host itself, which the sandbox shares (the kernel,
# /dev): loading and unloading kvmfr, permissions on its device node; all of /org/winvm1/host,
# so that a method added there later is not run against this machine. mallory calls them all
# (polkit refuses), and jarrett still reads their properties nowhere else. Also the doctor's
# repairs (Manager.Repair): every repair at once writes the IVSHMEM device on /dev/kvmfr0, a
# host device, into the guest (test-doctor-fix checks them).
JARRETT_SKIP=/org/winvm1/host,org.winvm1.Manager.Repair

# fuzz_world: what mallory must not change.
fuzz_world() {
    echo "== virsh domstate"
    virsh -q -c "$SB_URI" domstate "$GUEST"
    echo "== virsh dumpxml --inactive"
    virsh -c "$SB_URI" dumpxml --inactive "$GUEST"
    echo "== winvmd: State $(vm_prop State), Snapshots $(vm_prop Snapshots), CurrentSnapshot $(vm_prop CurrentSnapshot)"
    echo "== files in $WINVM_IMAGES"
    find "$WINVM_IMAGES" -mindepth 1 \( -type f -printf '%P %y %s %m\n' \) -o -printf '%P %y %m\n' | sort
    echo "== files in $WINVM_SANDBOX/state"
    find "$WINVM_SANDBOX/state" -mindepth 1 \( -type f -printf '%P %y %s %m\n' \) -o -printf '%P %y %m\n' | sort
}

# run_fuzz USER NAME ARGS...: bus-fuzz as USER; its output lands in $LOGS/NAME.out, one line
# per call in $LOGS/NAME.log. Passes (ok) when bus-fuzz does; prints the reply counts.
run_fuzz() {
    local user=$1 name=$2 rc lines
    shift 2
    install -o "$user" -m 0644 /dev/null "$LOGS/$name.log"
    run_as "$user" "$FUZZ" --log "$LOGS/$name.log" "$@" >"$LOGS/$name.out" 2>&1
    rc=$?
    sed -n -e 's/^\(reply\|not-sent\) /#   \1 /p' -e 's/^bus-fuzz: \(.*calls in\|slowest\|.* of at most\)/#   \1/p' "$LOGS/$name.out"
    if ((rc == 0)); then
        ok "$name: bus-fuzz $* (every call answered in time, only allowed error names)"
    else
        mapfile -t lines < <(grep -E 'FAIL|cannot|after the first hang|^bus-fuzz: [0-9]+ calls' "$LOGS/$name.out" | head -n 24)
        fail "$name: bus-fuzz $*" "exit $rc; seed $SEED; replay one call with --only N" "${lines[@]}" \
            "calls: $LOGS/$name.log (kept with --keep)"
        # a crash or hang shows in winvmd's log
        mapfile -t lines < <(tail -n 12 "$WINVM_SANDBOX/winvmd.log")
        printf '#   winvmd.log: %s\n' "${lines[@]}"
    fi
}

# assert_same BEFORE DESCRIPTION: fuzz_world is still BEFORE.
assert_same() {
    local now lines
    now=$(fuzz_world 2>&1)
    if [[ $now == "$1" ]]; then
        ok "$2"
    else
        mapfile -t lines < <(diff <(printf '%s\n' "$1") <(printf '%s\n' "$now") | head -n 20)
        fail "$2" "changed (diff before/after):" "${lines[@]}"
    fi
}

# assert_clean_exit FROM_LINE WHAT: winvmd stops on SIGTERM, and its log from line FROM_LINE on
# holds no sanitizer report (an ASan/UBSan build reports leaks and errors there at exit).
assert_clean_exit() {
    local lines
    if stop_winvmd; then
        ok "$2: winvmd stops on SIGTERM"
    else
        fail "$2: winvmd stops on SIGTERM"
    fi
    mapfile -t lines < <(tail -n "+$1" "$WINVM_SANDBOX/winvmd.log" | grep -E -A12 'Sanitizer|runtime error' | head -n 30)
    if ((${#lines[@]} == 0)); then
        ok "$2: no sanitizer report in winvmd.log"
    else
        fail "$2: no sanitizer report in winvmd.log" "${lines[@]}"
    fi
}

# host_paths: every value with a '/' in libvirt's definition, as PLACE=VALUE lines.
host_paths() {
    virsh -c "$SB_URI" dumpxml --inactive "$GUEST" | python3 -c '
import sys, xml.etree.ElementTree as E
def walk(e, place):
    place = place + "/" + e.tag
    if place in ("/domain/title", "/domain/description", "/domain/metadata"):
        return
    for k, v in sorted(e.attrib.items()):
        if "/" in v:
            print("%s@%s=%s" % (place, k, v))
    t = (e.text or "").strip()
    if "/" in t:
        print("%s=%s" % (place, t))
    for c in e:
        walk(c, place)
walk(E.fromstring(sys.stdin.read()), "")' | sort -u
}

# A short configured shutdown timeout: Shutdown(0, ...) and RevertSnapshot's "shut down first"
# wait ShutdownTimeoutSec, which must stay well below the per-call timeout of jarrett's pass.
mkdir -p "$LOGS"
chmod 0755 "$LOGS"
conf_set ShutdownTimeoutSec 2
# The definition file jarrett's pass edits through bus-fuzz, in a folder of jarrett's.
DEFS=$WINVM_SANDBOX/defs
install -d -o jarrett -m 0755 "$DEFS"
cat >>"$WINVM_CONF" <<EOT
[Definitions]
$GUEST=$DEFS/$GUEST.xml
EOT
# In the ASan build: whole allocation stacks (GLib has no frame pointers, so the fast unwinder
# stops at g_malloc0), so that tests/lsan.supp can name the libvirt frame of a leak inside
# libvirt that this test's many definition changes bring out. Slower, so only here.
if [[ -n ${ASAN_OPTIONS:-} ]]; then
    export ASAN_OPTIONS=$ASAN_OPTIONS:fast_unwind_on_malloc=0
fi
# shellcheck disable=SC2119  # no arguments for winvmd
restart_winvmd || exit 1
# winvmd owns its name before its libvirt connection and its first polkit answer: wait for
# both, so that the fuzzer's time per call measures winvmd, not a start-up under load. Each of
# mallory's changes waits for polkitd, which a CI run saw stall for over 10 s while winvmd
# itself answered Ping and cached reads at once: a hang is a call unanswered for 30 s.
libvirt_connected() { [[ $(prop root "$MANAGER_PATH" org.winvm1.Manager LibvirtConnected) == true ]]; }
wait_until 30 libvirt_connected || fail "warm-up: winvmd connects to libvirt"
call mallory "$VM_PATH" org.winvm1.VM.ForceStop
assert_call_error org.freedesktop.DBus.Error.AccessDenied "warm-up: polkit answers for mallory"
pid=$WINVMD_PID
log_from=$(($(wc -l <"$WINVM_SANDBOX/winvmd.log") + 1))

# mallory, the guest off, then running (started by root).
before=$(fuzz_world 2>&1)
run_fuzz mallory mallory-off --seed "$SEED" --count "$MALLORY_CALLS" --parallel 8 --timeout 30
assert_winvmd_alive "$pid" "winvmd survived mallory's calls (guest off): same pid, owns org.winvm1, answers"
assert_same "$before" "mallory changed nothing (guest off): libvirt definition and state, images, state folder"

ctl root start
assert_ctl 0 "root starts the guest for mallory's second pass"
wait_until 10 guest_running
before=$(fuzz_world 2>&1)
run_fuzz mallory mallory-running --seed "$((SEED + 1))" --count "$MALLORY_CALLS" --parallel 8 --timeout 30
assert_winvmd_alive "$pid" "winvmd survived mallory's calls (guest running)"
assert_same "$before" "mallory changed nothing (guest running): libvirt definition and state, images, state folder"

# jarrett may do everything: the guest is started, stopped, snapshotted and reverted. Shutdown's
# timeout is kept short (--tame); the snapshot calls are limited (see SNAPSHOT_LIMITS). Define
# reads what bus-fuzz writes into the definition file (an export to start from).
ctl jarrett export
assert_ctl 0 "jarrett exports the definition for bus-fuzz to edit"
paths_before=$(host_paths)
run_fuzz jarrett jarrett --seed "$((SEED + 2))" --count "$JARRETT_CALLS" --parallel 4 --timeout 30 \
    --tame Shutdown --limit "$SNAPSHOT_LIMITS" --skip "$JARRETT_SKIP" --definition-file "$DEFS/$GUEST.xml"
assert_winvmd_alive "$pid" "winvmd survived jarrett's calls"
# And a pass on the definition alone: Define of edited files, UndoChange, ExportDefinition. It
# starts from a fresh export: the pass before may have taken snapshots, which move the disks, and
# a file naming the old images is refused before the allowlist is asked.
ctl jarrett export
assert_ctl 0 "jarrett exports the definition again after his snapshots"
run_fuzz jarrett jarrett-define --seed "$((SEED + 3))" --count 400 --parallel 2 --timeout 30 \
    --focus Define,UndoChange,ExportDefinition --definition-file "$DEFS/$GUEST.xml"
assert_winvmd_alive "$pid" "winvmd survived jarrett's definition calls"
defines=$(cat "$LOGS/jarrett.log" "$LOGS/jarrett-define.log" | grep -c 'Definition\.Define(')
refused=$(cat "$LOGS/jarrett.log" "$LOGS/jarrett-define.log" | grep 'Definition\.Define(' | grep -c 'define-unrestricted')
admitted=$(cat "$LOGS/jarrett.log" "$LOGS/jarrett-define.log" | grep 'Definition\.Define(' | grep -c -- '-> (method return)')
printf '#   Define: %s calls, %s admitted, %s refused as needing define-unrestricted\n' "$defines" "$admitted" "$refused"
if ((refused > 0)); then
    ok "$refused of jarrett's $defines Define calls were refused as needing org.winvm1.vm.define-unrestricted"
else
    fail "some of jarrett's $defines Define calls were refused as needing org.winvm1.vm.define-unrestricted"
fi
new_paths=$(comm -13 <(printf '%s\n' "$paths_before") <(host_paths) | grep -Ev "^/domain/devices/disk(/backingStore)*/source@file=$WINVM_IMAGES/[^/]*$")
if [[ -z $new_paths ]]; then
    ok "after jarrett's $defines Define calls on edited files, the definition names no new host path but images"
else
    mapfile -t lines <<<"$new_paths"
    fail "after jarrett's Define calls, the definition names no new host path but images" "${lines[@]}"
fi
used=$(du -sk "$WINVM_IMAGES" "$WINVM_SANDBOX/state" | awk '{ s += $1 } END { print s }')
if ((used <= DISK_BOUND_KIB)); then
    ok "jarrett's calls left ${used} KiB in the image and state folders (bound ${DISK_BOUND_KIB} KiB)"
else
    fail "jarrett's calls filled ${used} KiB of the image and state folders (bound ${DISK_BOUND_KIB} KiB)" \
        "$(ls -la "$WINVM_IMAGES")"
fi
# After the calls settle, winvmd must publish what libvirt says.
# shellcheck disable=SC2016  # eval'd on each try
if wait_until 10 eval '[[ $(winvmd_state) == $(libvirt_state) ]]'; then
    ok "after jarrett's calls, winvmd's State agrees with libvirt ($(winvmd_state))"
else
    mapfile -t lines < <(grep -E 'Start|Stop|Shutdown|Reboot|Snapshot' "$LOGS/jarrett.log" | grep -v InvalidArgs | tail -n 8)
    fail "after jarrett's calls, winvmd's State agrees with libvirt" \
        "winvmd: State '$(winvmd_state)', StateReason '$(vm_prop StateReason)', LibvirtConnected $(prop root "$MANAGER_PATH" org.winvm1.Manager LibvirtConnected)" \
        "libvirt: $(virsh -q -c "$SB_URI" domstate --reason "$GUEST")" "jarrett's last state-changing calls:" "${lines[@]}"
fi
assert_snap_consistent "after jarrett's fuzzing, the snapshot metadata matches the files"
ctl jarrett status
assert_ctl 0 "jarrett: winvmctl status still works"

guest_off
assert_clean_exit "$log_from" "after the fuzzing"
summary
