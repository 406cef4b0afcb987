# shellcheck shell=bash
# shellcheck disable=SC2034  # CALL_*, CTL_*, SIGNAL_LINE, NEXT_STATE are results for the caller
# Helpers shared by tests/integration/test-*.sh. Source after sandbox-lib.sh:
#
#   . "$WINVM_SRC/tests/sandbox/sandbox-lib.sh"
#   . "$WINVM_SRC/tests/integration/lib.sh"
#
# Everything here waits for events (bus signals, process exits), never for fixed times.

GUEST=Windows11
MANAGER_PATH=/org/winvm1
VM_PATH=/org/winvm1/vm/$GUEST

# --- calling the service --------------------------------------------------------------

# run_as USER CMD...: CMD as USER, or directly for root (so "root" means uid 0 for real).
run_as() {
    local user=$1
    shift
    if [[ $user == root ]]; then "$@"; else as_user "$user" "$@"; fi
}

# ctl USER ARGS...: winvmctl ARGS as USER. Sets CTL_RC, CTL_OUT (stdout), CTL_ERR (stderr).
ctl() {
    local user=$1 errfile=$WINVM_SANDBOX/ctl.err
    shift
    CTL_OUT=$(run_as "$user" winvmctl "$@" 2>"$errfile")
    CTL_RC=$?
    CTL_ERR=$(<"$errfile")
}

# call USER PATH IFACE.METHOD [ARGS...]: a method call through gdbus, which prints the error
# *name* on failure ("GDBus.Error:NAME: message"). Sets CALL_RC, CALL_OUT (reply or error
# text), CALL_ERROR (the error name, empty on success) and CALL_MSG (the error message).
# CALL_DEST picks the bus name (default org.winvm1).
call() {
    local user=$1 path=$2 method=$3
    shift 3
    CALL_OUT=$(run_as "$user" gdbus call --system --dest "${CALL_DEST:-org.winvm1}" --object-path "$path" \
        --method "$method" "$@" 2>&1)
    CALL_RC=$?
    CALL_ERROR='' CALL_MSG=''
    if [[ $CALL_OUT =~ GDBus\.Error:([A-Za-z0-9_.]+):\ (.*) ]]; then
        CALL_ERROR=${BASH_REMATCH[1]} CALL_MSG=${BASH_REMATCH[2]}
    fi
}

# vm_call USER METHOD [ARGS...]: call on the guest's object, org.winvm1.VM interface.
vm_call() {
    local user=$1 method=$2
    shift 2
    call "$user" "$VM_PATH" "org.winvm1.VM.$method" "$@"
}

# raw_call USER PATH IFACE.METHOD [TYPE:VALUE...]: dbus-send, which lets the caller pick the
# argument types freely (gdbus insists on the introspected ones). Same variables as call().
raw_call() {
    local user=$1 path=$2 method=$3
    shift 3
    CALL_OUT=$(run_as "$user" dbus-send --system --print-reply --dest=org.winvm1 "$path" "$method" "$@" 2>&1)
    CALL_RC=$?
    CALL_ERROR='' CALL_MSG=''
    if [[ $CALL_OUT =~ ^Error\ ([A-Za-z0-9_.]+):\ (.*) ]]; then
        CALL_ERROR=${BASH_REMATCH[1]} CALL_MSG=${BASH_REMATCH[2]}
    fi
}

# assert_call_ok DESCRIPTION: the last call()/vm_call() succeeded.
assert_call_ok() {
    if ((CALL_RC == 0)); then ok "$1"; else fail "$1" "call failed: $CALL_OUT"; fi
}

# assert_call_error NAME DESCRIPTION: the last call failed with the error NAME.
assert_call_error() {
    if ((CALL_RC != 0)) && [[ $CALL_ERROR == "$1" ]]; then
        ok "$2"
    else
        fail "$2" "expected error: $1" "rc=$CALL_RC output: $CALL_OUT"
    fi
}

# assert_ctl RC DESCRIPTION: the last ctl() exited with RC.
assert_ctl() {
    if [[ $CTL_RC == "$1" ]]; then
        ok "$2"
    else
        fail "$2" "expected exit $1, got $CTL_RC" "stdout: $CTL_OUT" "stderr: $CTL_ERR"
    fi
}

# prop USER PATH IFACE NAME: print a property's value as busctl shows it, without the type
# (strings unquoted). Fails like busctl does.
prop() {
    local out
    out=$(run_as "$1" busctl --system get-property org.winvm1 "$2" "$3" "$4") || return
    out=${out#* }
    out=${out#\"}
    printf '%s\n' "${out%\"}"
}

# vm_prop NAME [USER]: a property of the guest's object (default user root).
vm_prop() { prop "${2:-root}" "$VM_PATH" org.winvm1.VM "$1"; }

# winvmd_state: the guest's State as winvmd publishes it.
winvmd_state() { vm_prop State; }

# libvirt_state: the guest's state in winvmd's words, computed from `virsh domstate`, so it
# can be compared with winvmd_state ("shut off" -> shutoff, "in shutdown" -> shutting-down).
libvirt_state() {
    local s
    s=$(virsh_state "$GUEST") || return
    case $s in
    "shut off") echo shutoff ;;
    "in shutdown") echo shutting-down ;;
    "pmsuspended") echo pmsuspended ;;
    *) echo "$s" ;;
    esac
}

# assert_libvirt STATE DESCRIPTION: libvirt's own word (`virsh domstate`) is STATE ("running",
# "shut off").
assert_libvirt() {
    local s
    s=$(virsh_state "$GUEST" 2>&1)
    assert_eq "$1" "$s" "$2 (virsh domstate: $1)"
}

# assert_winvmd_alive PID DESCRIPTION: the same winvmd process still runs and answers.
assert_winvmd_alive() {
    local pid=$1 owner_pid
    if ! sb_pid_alive "$pid"; then
        local log
        mapfile -t log < <(tail -n 5 "$WINVM_SANDBOX/winvmd.log")
        fail "$2" "winvmd (pid $pid) is gone; last lines of winvmd.log:" "${log[@]}"
        return
    fi
    owner_pid=$(busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
        GetConnectionUnixProcessID s org.winvm1 2>&1)
    owner_pid=${owner_pid#u }
    if [[ $owner_pid != "$pid" ]]; then
        fail "$2" "org.winvm1 is owned by pid '$owner_pid', not $pid"
        return
    fi
    if prop root "$MANAGER_PATH" org.winvm1.Manager Version >/dev/null; then
        ok "$2"
    else
        fail "$2" "pid $pid owns org.winvm1 but does not answer a property read"
    fi
}

# json_field JSON PYEXPR: evaluate PYEXPR on the parsed JSON document `d` (python3).
json_field() {
    python3 -c 'import json, sys; d = json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2" 2>&1
}

# --- waiting for signals --------------------------------------------------------------
#
# One `gdbus monitor` on every object of org.winvm1, read through a FIFO. Lines stay in the
# pipe until read, so a signal emitted before wait_signal is called is not lost: start the
# monitor before the action, then wait. wait_signal consumes the lines it reads, up to and
# including the match; every line read is also appended to $MONITOR_LOG for post-mortems.

MONITOR_PID='' MONITOR_FD='' MONITOR_LOG=''
SIGNAL_LINE=

# monitor_start: start the monitor and return once its match rule is active on the bus.
monitor_start() {
    local fifo=$WINVM_SANDBOX/monitor.fifo line owner=
    MONITOR_LOG=$WINVM_SANDBOX/monitor.log
    rm -f "$fifo"
    mkfifo "$fifo"
    gdbus monitor --system --dest org.winvm1 >"$fifo" 2>&1 &
    MONITOR_PID=$!
    exec {MONITOR_FD}<"$fifo"
    # "The name org.winvm1 is owned by :1.N" comes first...
    while IFS= read -r -t 10 -u "$MONITOR_FD" line; do
        printf '%s\n' "$line" >>"$MONITOR_LOG"
        if [[ $line =~ is\ owned\ by\ (:[0-9.]+) ]]; then
            owner=${BASH_REMATCH[1]}
            break
        fi
    done
    if [[ -z $owner ]]; then
        sb_error "gdbus monitor did not start"
        return 1
    fi
    # ...but gdbus subscribes only after printing it: wait until the bus has the rule.
    wait_until 10 monitor_rule_active "$owner" || {
        sb_error "gdbus monitor's match rule never showed up"
        return 1
    }
}

# monitor_rule_active OWNER: the bus holds gdbus monitor's rule for signals from OWNER. Asks
# dbus-daemon's Debug.Stats interface; where the bus lacks it, there is nothing to wait for.
monitor_rule_active() {
    local rules
    rules=$(busctl --system call org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus.Debug.Stats GetAllMatchRules 2>/dev/null) || return 0
    [[ $rules == *"\"type=\\'signal\\',sender=\\'$1\\'\""* ]]
}

monitor_stop() {
    [[ -n $MONITOR_PID ]] || return 0
    kill "$MONITOR_PID" 2>/dev/null
    wait "$MONITOR_PID" 2>/dev/null
    exec {MONITOR_FD}<&-
    MONITOR_PID=
}

# wait_signal SECONDS PATH REGEX: read monitor lines until a signal from object PATH matches
# the bash REGEX (matched against the signal's arguments); the line lands in SIGNAL_LINE.
# 1 after SECONDS without one.
wait_signal() {
    local secs=$1 path=$2 re=$3 line now deadline left frac
    sb_now_ms now
    deadline=$((now + secs * 1000))
    SIGNAL_LINE=
    while :; do
        sb_now_ms now
        left=$((deadline - now))
        ((left > 0)) || return 1
        printf -v frac '%03d' $((left % 1000))
        IFS= read -r -t "$((left / 1000)).$frac" -u "$MONITOR_FD" line || return 1
        printf '%s\n' "$line" >>"$MONITOR_LOG"
        if [[ $line == "$path: "* && ${line#"$path: "} =~ $re ]]; then
            SIGNAL_LINE=$line
            return 0
        fi
    done
}

# wait_state STATE [SECONDS]: wait for the guest's PropertiesChanged with State STATE.
wait_state() {
    wait_signal "${2:-30}" "$VM_PATH" "PropertiesChanged .*'State': <'$1'>"
}

# expect_state STATE DESCRIPTION [SECONDS]: wait_state as an assertion.
expect_state() {
    if wait_state "$1" "${3:-30}"; then
        ok "$2"
    else
        local seen
        mapfile -t seen < <(tail -n 6 "$MONITOR_LOG")
        fail "$2" "no PropertiesChanged with State '$1' within ${3:-30}s" \
            "last lines from the monitor ($MONITOR_LOG):" "${seen[@]}"
    fi
}

# wait_connected true|false [SECONDS]: wait for LibvirtConnected to change to the value.
wait_connected() {
    wait_signal "${2:-30}" "$MANAGER_PATH" "PropertiesChanged .*'LibvirtConnected': <$1>"
}

# next_state [SECONDS]: wait for the guest's next State change; the new State lands in
# NEXT_STATE (empty after SECONDS without one). Not in $(...): the monitor is read here.
next_state() {
    NEXT_STATE=
    wait_signal "${1:-30}" "$VM_PATH" "PropertiesChanged .*'State': <'([a-z-]+)'>" || return 1
    NEXT_STATE=${BASH_REMATCH[1]}
}

# --- guest set-up and clean-up --------------------------------------------------------

# guest_start USER: start the guest as USER and wait for State "running" (monitor needed).
guest_start() {
    ctl "$1" start
    assert_ctl 0 "$1: winvmctl start exits 0"
    expect_state running "State 'running' signalled after start"
    assert_libvirt running "guest started by $1"
}

# guest_off: make sure the guest is off (force-stop as root when it runs), for clean-up.
guest_off() {
    if [[ $(virsh_state "$GUEST") != "shut off" ]]; then
        virsh -q -c "$SB_URI" destroy "$GUEST" >/dev/null 2>&1
    fi
    assert_libvirt "shut off" "clean-up: guest left off"
}

# --- snapshots ------------------------------------------------------------------------
#
# For tests/integration/test-snapshot-*.sh and bench/snapshot-bench. Disk content is the
# proof that a snapshot, revert or delete did the right thing, so it is written and read
# with qemu-io, the guest off (or, while it runs, through its own block layer over QEMU's
# monitor). Stage K writes its own pattern at offset K MiB and over offset 0: a disk state is
# then the list of stages that built it, and reading it back checks the layering (each
# offset K holds stage K's bytes or zeros) and the order (offset 0 holds the last stage).

SNAP_TARGET=vda
STAGE_MAX=0
SNAP_RESULT='' IMAGE_MISMATCH=''

# conf_value KEY: the value of KEY in $WINVM_CONF (the last one when repeated).
conf_value() { sed -n "s/^$1=//p" "$WINVM_CONF" | tail -n 1; }

# conf_set KEY VALUE: set KEY=VALUE in [Service] of $WINVM_CONF (restart winvmd to apply).
conf_set() {
    local tmp=$WINVM_CONF.new
    if grep -q "^$1=" "$WINVM_CONF"; then
        awk -v k="$1" -v v="$2" 'index($0, k "=") == 1 { $0 = k "=" v } 1' "$WINVM_CONF" >"$tmp"
    else
        awk -v kv="$1=$2" '1; /^\[Service\]$/ { print kv }' "$WINVM_CONF" >"$tmp"
    fi
    mv "$tmp" "$WINVM_CONF"
}

# snap_state_dir: where winvmd keeps the guest's snapshot metadata.
snap_state_dir() { printf '%s/snapshots/%s\n' "$(conf_value StateDirectory)" "$GUEST"; }

# gvs STRING: STRING as a GVariant text literal, so that gdbus passes it as it is (a leading
# '-', quotes, spaces or an empty string included).
gvs() {
    local s=${1//\\/\\\\}
    s=${s//\'/\\\'}
    printf "'%s'" "$s"
}

# reply_string: the one string of the last call's reply ("('name',)"), or nothing.
reply_string() {
    if ((CALL_RC == 0)) && [[ $CALL_OUT =~ ^\(\'(.*)\',\)$ ]]; then
        printf '%s\n' "${BASH_REMATCH[1]}"
    fi
}

# snap_create USER NAME [DESCRIPTION], snap_revert USER NAME FLAGS, snap_delete USER NAME:
# the calls, as vm_call sets CALL_*; SNAP_RESULT is the returned name (created or kept).
snap_create() {
    vm_call "$1" CreateSnapshot "$(gvs "$2")" "$(gvs "${3:-}")"
    SNAP_RESULT=$(reply_string)
}
snap_revert() {
    vm_call "$1" RevertSnapshot "$(gvs "$2")" "$3"
    SNAP_RESULT=$(reply_string)
}
snap_delete() {
    vm_call "$1" DeleteSnapshot "$(gvs "$2")"
    SNAP_RESULT=
}

# snap_list [USER]: ListSnapshots as a JSON array of plain dictionaries (busctl's types
# dropped): [{"Name": "s1", "Disks": {"vda": "/..."}, ...}, ...].
snap_list() {
    local out
    out=$(run_as "${1:-root}" busctl --system --json=short call org.winvm1 "$VM_PATH" \
        org.winvm1.VM ListSnapshots 2>&1) || { printf '%s\n' "$out" >&2; return 1; }
    python3 -c '
import json, sys
d = json.loads(sys.argv[1])["data"][0]
print(json.dumps([{k: v["data"] for k, v in s.items()} for s in d], sort_keys=True))' "$out"
}

# snap_eval PYEXPR [USER]: evaluate PYEXPR on ListSnapshots, with L the list and S the
# snapshots by name; a list prints space-separated.
snap_eval() {
    local json
    json=$(snap_list "${2:-root}") || { echo "(ListSnapshots failed)"; return 1; }
    python3 -c '
import json, sys
L = json.loads(sys.argv[1]); S = {s["Name"]: s for s in L}
try:
    r = eval(sys.argv[2])
except Exception as e:
    print("(%s: %s)" % (type(e).__name__, e)); sys.exit(1)
print(" ".join(map(str, r)) if isinstance(r, (list, tuple)) else r)' "$json" "$1"
}

# snap_names: the names ListSnapshots gives, oldest first, space-separated.
snap_names() { snap_eval '[s["Name"] for s in L]'; }

# snap_image NAME: the frozen image holding snapshot NAME's content (its Disks entry).
snap_image() { snap_eval "S['$1']['Disks']['$SNAP_TARGET']"; }

# snap_prop USER: the Snapshots property, space-separated.
snap_prop() {
    local out
    out=$(run_as "$1" busctl --system --json=short get-property org.winvm1 "$VM_PATH" \
        org.winvm1.VM Snapshots 2>&1) || { echo "(get-property failed: $out)"; return 1; }
    python3 -c 'import json, sys; print(" ".join(json.loads(sys.argv[1])["data"]))' "$out"
}

# current_disk: the disk's source in the guest's persistent definition; live_disk: in the
# running guest (the persistent one while it is off).
current_disk() {
    virsh -q -c "$SB_URI" domblklist --inactive "$GUEST" | awk -v t="$SNAP_TARGET" '$1 == t { print $2 }'
}
live_disk() {
    virsh -q -c "$SB_URI" domblklist "$GUEST" | awk -v t="$SNAP_TARGET" '$1 == t { print $2 }'
}

# backing_chain FILE: FILE and every image below it, one absolute path a line (qemu-img
# resolves relative backing names).
backing_chain() {
    local out
    out=$(qemu-img info -U --backing-chain --output=json "$1" 2>&1) || { printf '%s\n' "$out" >&2; return 1; }
    python3 -c '
import json, os, sys
d = json.loads(sys.argv[1])
for i in (d if isinstance(d, list) else [d]):
    print(os.path.realpath(i["filename"]))' "$out"
}

# backing_of FILE: the image directly below FILE, empty when none.
backing_of() { backing_chain "$1" | sed -n 2p; }

# domain_edit PYCODE [ARGS...]: redefine the guest from its persistent XML after PYCODE has
# edited the ElementTree root `root` (ARGS in `args`).
domain_edit() {
    local code=$1 xml
    shift
    xml=$(virsh -c "$SB_URI" dumpxml --inactive "$GUEST" | python3 -c '
import sys, xml.etree.ElementTree as ET
root = ET.fromstring(sys.stdin.read()); args = sys.argv[2:]
exec(sys.argv[1])
print(ET.tostring(root, encoding="unicode"))' "$code" "$@") || return 1
    virsh -q -c "$SB_URI" define /dev/stdin <<<"$xml" >/dev/null
}

# guest_set_disk FILE: point the guest's disk at FILE (a qcow2 image).
guest_set_disk() {
    domain_edit '
for d in root.iter("disk"):
    if d.find("target").get("dev") == args[1]:
        d.find("source").set("file", args[0])' "$1" "$SNAP_TARGET"
}

# guest_use_uefi NVRAM: boot the guest with OVMF (read-only pflash code) and a variable
# store at NVRAM, made here as a copy of OVMF's template, readable by libvirt-qemu. The
# domain type becomes qemu (TCG): under nested KVM OVMF stops at once on a KVM internal
# error (the guest shows "paused"), while TCG runs it.
guest_use_uefi() {
    mkdir -p "${1%/*}"
    chmod 0755 "${1%/*}"
    install -m 0644 /usr/share/OVMF/OVMF_VARS_4M.fd "$1"
    domain_edit '
import xml.etree.ElementTree as ET
os_ = root.find("os")
for old in os_.findall("loader") + os_.findall("nvram"):
    os_.remove(old)
loader = ET.SubElement(os_, "loader", readonly="yes", type="pflash")
loader.text = "/usr/share/OVMF/OVMF_CODE_4M.fd"
ET.SubElement(os_, "nvram").text = args[0]
root.set("type", "qemu")' "$1"
}

# guest_nvram: the guest's NVRAM file, empty when it has none.
guest_nvram() { virsh -q -c "$SB_URI" dumpxml --inactive --xpath '//os/nvram/text()' "$GUEST" 2>/dev/null; }

# nvram_mark TAG: write TAG into the guest's NVRAM file (guest off), at an offset OVMF keeps
# as spare space, so every state of the file can be told apart.
nvram_mark() {
    printf 'winvm-test-mark:%-32s' "$1" |
        dd of="$(guest_nvram)" bs=1 seek=$((0x80000)) conv=notrunc status=none
}

# stage_byte K: the pattern of stage K.
stage_byte() { printf '0x%02x' $((0x10 + $1)); }

# stage_write K [FILE]: write stage K into FILE (default: the guest's current disk), guest
# off. A failed write is a failed assertion.
stage_write() {
    local k=$1 file=${2:-} b out
    [[ -n $file ]] || file=$(current_disk)
    b=$(stage_byte "$k")
    ((k > STAGE_MAX)) && STAGE_MAX=$k
    if ! out=$(qemu-io -f qcow2 -c "write -P $b 0 1M" -c "write -P $b ${k}M 1M" "$file" 2>&1) ||
        [[ $out == *[Ff]ailed* || $out == *rror* ]]; then
        fail "write stage $k into $file" "$out"
    fi
}

# guest_stage_write K: write stage K through the running guest's own disk (QEMU's block
# layer, over the monitor), and flush it.
guest_stage_write() {
    local k=$1 b out dev=virtio-disk0/virtio-backend
    b=$(stage_byte "$k")
    ((k > STAGE_MAX)) && STAGE_MAX=$k
    out=$(virsh -q -c "$SB_URI" qemu-monitor-command "$GUEST" --hmp \
        "qemu-io -d $dev \"write -P $b 0 1M\"" 2>&1
        virsh -q -c "$SB_URI" qemu-monitor-command "$GUEST" --hmp \
            "qemu-io -d $dev \"write -P $b ${k}M 1M\"" 2>&1
        virsh -q -c "$SB_URI" qemu-monitor-command "$GUEST" --hmp "qemu-io -d $dev flush" 2>&1)
    if [[ -n ${out//[[:space:]]/} ]]; then
        fail "write stage $k through the running guest" "$out"
    fi
}

# image_reads FILE STAGES: FILE (with its backing chain) holds exactly STAGES, a
# space-separated list in the order they were written: offset 0 holds the last one's pattern
# (zeros for none), offset K MiB stage K's pattern for each listed K and zeros for every
# other K up to STAGE_MAX. qemu-io exits 1 and says "Pattern verification failed" on a
# mismatch; IMAGE_MISMATCH keeps those lines.
image_reads() {
    local file=$1 k b last=0 out rc=0
    local -a stages args
    local -A want=()
    read -ra stages <<<"$2"
    for k in "${stages[@]}"; do want[$k]=1 last=$k; done
    b=0
    ((last)) && b=$(stage_byte "$last")
    args=(-c "read -P $b 0 1M")
    for ((k = 1; k <= STAGE_MAX; k++)); do
        b=0
        [[ -n ${want[$k]:-} ]] && b=$(stage_byte "$k")
        args+=(-c "read -P $b ${k}M 1M")
    done
    out=$(qemu-io -f qcow2 -r -U "${args[@]}" "$file" 2>&1) || rc=$?
    IMAGE_MISMATCH=$(grep -v -e '^read [0-9]*/[0-9]* bytes at offset' -e ' ops; ' <<<"$out")
    ((rc == 0)) && [[ -z $IMAGE_MISMATCH ]]
}

# assert_image_reads FILE STAGES DESCRIPTION
assert_image_reads() {
    if [[ -z $1 ]]; then
        fail "$3" "no image file given"
    elif image_reads "$1" "$2"; then
        ok "$3"
    else
        local lines
        mapfile -t lines <<<"$IMAGE_MISMATCH"
        fail "$3" "$1 should hold stages '$2' (of 1..$STAGE_MAX)" "${lines[@]:0:8}"
    fi
}

# assert_img_check FILE DESCRIPTION: qemu-img check finds nothing wrong (guest off).
assert_img_check() {
    local out
    if out=$(qemu-img check -q "$1" 2>&1); then
        ok "$2"
    else
        fail "$2" "qemu-img check $1:" "$out"
    fi
}

# snap_problems: every disagreement between ListSnapshots, CurrentSnapshot, the guest's
# definition, the image files and the state folder, one line each (none: consistent).
#  - each snapshot's Files and Disks exist; its Disks are among its Files;
#  - a snapshot's frozen image is backed by its parent's (none for a first snapshot), and
#    the current disk by the Current snapshot's (none when there is none);
#  - exactly the snapshot named by CurrentSnapshot has Current true;
#  - every <stem>.* file beside the current disk (and in $WINVM_IMAGES) is the current disk
#    or one a snapshot lists; every image in the current disk's chain is one of those;
#  - every folder in the state folder is a listed snapshot's; intent.ini is gone.
snap_problems() {
    local json current cur_snap
    json=$(snap_list) || { echo "ListSnapshots failed"; return; }
    current=$(current_disk)
    cur_snap=$(vm_prop CurrentSnapshot) || cur_snap='(unreadable)'
    python3 - "$json" "$current" "$cur_snap" "$WINVM_IMAGES" "$(snap_state_dir)" "$SNAP_TARGET" <<'PY'
import glob, json, os, subprocess, sys

snaps = json.loads(sys.argv[1])
current, cur_snap, images, state, target = sys.argv[2:7]
by_name = {s["Name"]: s for s in snaps}
real = os.path.realpath

def backing(f):
    try:
        out = subprocess.run(["qemu-img", "info", "-U", "--output=json", f], check=True,
                             capture_output=True, text=True).stdout
    except subprocess.CalledProcessError as e:
        print("qemu-img info %s failed: %s" % (f, e.stderr.strip()))
        return None
    d = json.loads(out)
    b = d.get("full-backing-filename") or d.get("backing-filename")
    return real(b) if b else ""

known = {real(current)} if current else set()
for s in snaps:
    files = [real(f) for f in s.get("Files", [])]
    disks = {t: real(f) for t, f in s.get("Disks", {}).items()}
    for f in files + list(disks.values()):
        if not os.path.exists(f):
            print("snapshot %s lists %s, which does not exist" % (s["Name"], f))
    for t, f in disks.items():
        if f not in files:
            print("snapshot %s: disk %s image %s is not among its Files" % (s["Name"], t, f))
    known.update(files, disks.values())
    parent = s.get("Parent", "")
    if parent and parent not in by_name:
        print("snapshot %s: parent %s is not listed" % (s["Name"], parent))
    elif target in disks and os.path.exists(disks[target]):
        want = real(by_name[parent]["Disks"].get(target, "?")) if parent else ""
        got = backing(disks[target])
        if got is not None and got != want:
            print("snapshot %s: image %s is backed by '%s', expected its parent's '%s'"
                  % (s["Name"], disks[target], got, want))

currents = [s["Name"] for s in snaps if s.get("Current")]
if currents != ([cur_snap] if cur_snap else []):
    print("Current is true for %s, but CurrentSnapshot is '%s'" % (currents, cur_snap))
if current and cur_snap in by_name:
    want = real(by_name[cur_snap]["Disks"].get(target, "?"))
elif current and not cur_snap:
    want = ""
else:
    want = None
if current and want is not None:
    got = backing(current)
    if got is not None and got != want:
        print("current disk %s is backed by '%s', expected '%s'" % (current, got, want))

if current:
    stem = os.path.basename(current).split(".")[0]
    for d in {os.path.dirname(real(current)), real(images)}:
        for f in sorted(glob.glob(os.path.join(d, stem + ".*"))):
            if real(f) not in known:
                print("stray file %s: neither the current disk nor any snapshot's" % f)
    chain = subprocess.run(["qemu-img", "info", "-U", "--backing-chain", "--output=json", current],
                           capture_output=True, text=True)
    if chain.returncode == 0:
        for i in json.loads(chain.stdout):
            if real(i["filename"]) not in known:
                print("image %s in the current disk's chain belongs to no snapshot" % i["filename"])
    else:
        print("qemu-img info --backing-chain %s failed: %s" % (current, chain.stderr.strip()))

if os.path.isdir(state):
    for e in sorted(os.listdir(state)):
        if os.path.isdir(os.path.join(state, e)) and e not in by_name:
            print("stray folder %s in the state folder" % os.path.join(state, e))
if os.path.exists(os.path.join(state, "intent.ini")):
    print("%s still exists" % os.path.join(state, "intent.ini"))
PY
}

# assert_snap_consistent DESCRIPTION: snap_problems finds nothing.
assert_snap_consistent() {
    local problems
    problems=$(snap_problems 2>&1)
    if [[ -z $problems ]]; then
        ok "$1"
    else
        local lines
        mapfile -t lines <<<"$problems"
        fail "$1" "${lines[@]}"
    fi
}

# world_state: everything a refused or failed snapshot call must leave as it was: the
# snapshot list and properties, the guest's definitions (persistent and live), the image
# folders (names, types and file sizes; no sizes when the caller sets WORLD_SIZES=0) and what
# the VM's state folder holds.
world_state() {
    local d cur dirs_done=''
    echo "== ListSnapshots"
    snap_list
    echo "== Snapshots: $(snap_prop root)"
    echo "== CurrentSnapshot: $(vm_prop CurrentSnapshot)"
    echo "== definition"
    virsh -c "$SB_URI" dumpxml --inactive "$GUEST"
    echo "== live disk: $(live_disk)"
    cur=$(current_disk)
    for d in "$WINVM_IMAGES" ${cur:+"${cur%/*}"}; do
        [[ $dirs_done == *"|$d|"* ]] && continue
        dirs_done+="|$d|"
        echo "== files in $d"
        if [[ ${WORLD_SIZES:-1} == 1 ]]; then
            find "$d" -mindepth 1 -maxdepth 1 \( -type f -printf '%f %y %s\n' \) -o -printf '%f %y\n' | sort
        else
            find "$d" -mindepth 1 -maxdepth 1 -printf '%f %y\n' | sort
        fi
    done
    echo "== state folder"
    find "$(snap_state_dir)" -mindepth 1 \( -type f -printf '%P %y %s\n' \) -o -printf '%P %y\n' 2>/dev/null | sort
    md5sum "$(snap_state_dir)/snapshots.ini" 2>/dev/null
}

# assert_unchanged BEFORE DESCRIPTION: world_state is still BEFORE.
assert_unchanged() {
    local now lines
    now=$(world_state 2>&1)
    if [[ $now == "$1" ]]; then
        ok "$2"
    else
        mapfile -t lines < <(diff <(printf '%s\n' "$1") <(printf '%s\n' "$now") | head -n 16)
        fail "$2" "changed (diff before/after):" "${lines[@]}"
    fi
}

# winvmd_dead: the winvmd started last is gone (or a zombie).
winvmd_dead() { ! sb_pid_alive "$WINVMD_PID"; }

# winvmd_arm_crash OP:STEP: restart winvmd so that it kills itself when it reaches STEP.
# Started from a subshell, so that it is not this shell's child (bash would print a "Killed"
# report for it); WINVMD_PID comes from the pid file start_winvmd writes.
winvmd_arm_crash() {
    # shellcheck disable=SC2119  # no arguments for winvmd
    stop_winvmd || return
    (WINVMD_TEST_CRASH_AT=$1 start_winvmd) || return
    WINVMD_PID=$(<"$WINVM_SANDBOX/winvmd.pid")
    export WINVMD_PID
}

# guest_running: libvirt says the guest runs.
guest_running() { [[ $(virsh_state "$GUEST") == running ]]; }

# guest_destroy: force the guest off if it runs (no assertion).
guest_destroy() {
    guest_running && virsh -q -c "$SB_URI" destroy "$GUEST" >/dev/null 2>&1
    wait_until 10 eval '! guest_running'
}

# assert_guest_boots DESCRIPTION: the guest starts from its current definition; it is
# forced off again afterwards.
assert_guest_boots() {
    local out
    if out=$(virsh -q -c "$SB_URI" start "$GUEST" 2>&1) && wait_until 10 guest_running; then
        ok "$1"
    else
        fail "$1" "virsh start: $out"
    fi
    guest_destroy
}
