# shellcheck shell=bash
# TAP and helpers for the system test's scenario, which runs as root inside the booted guest.
# Results go to the host's share: $RESULTS/scenario.tap, one line per assertion.

SHARE=/mnt/winvm-test
RESULTS=$SHARE/results
TAP=$RESULTS/scenario.tap
STATE=/var/lib/winvm-system-test
VM=Windows11
export IMAGES=/vm-storage/images
# Under TCG every wait is longer.
SLOW=1
[[ $(cat "$SHARE/accel" 2>/dev/null) == tcg ]] && SLOW=4

mkdir -p "$STATE"
count=$(cat "$STATE/count" 2>/dev/null || echo 0)

log() { printf '# %s\n' "$*" | tee -a "$TAP" >&2; }

_tap() {
    count=$((count + 1))
    echo "$count" >"$STATE/count"
    printf '%s %d - %s\n' "$1" "$count" "$2" | tee -a "$TAP" >&2
}
ok() { _tap ok "$1"; }
not_ok() {
    _tap "not ok" "$1"
    shift
    local line
    for line in "$@"; do printf '#   %s\n' "$line" | tee -a "$TAP" >&2; done
}

# check DESCRIPTION CMD...: ok when CMD succeeds; otherwise not ok with its output.
check() {
    local what=$1 out
    shift
    if out=$("$@" 2>&1); then
        ok "$what"
    else
        not_ok "$what" "exit $?: $*" "${out:0:1500}"
    fi
}

# check_status DESCRIPTION STATUS CMD...: ok when CMD exits with STATUS (not 0).
check_status() {
    local what=$1 want=$2 out rc=0
    shift 2
    out=$("$@" 2>&1) || rc=$?
    if [[ $rc == "$want" ]]; then
        ok "$what"
    else
        not_ok "$what" "exit $rc, wanted $want: $*" "${out:0:1500}"
    fi
}

# check_output DESCRIPTION REGEX CMD...: ok when CMD succeeds and its output matches REGEX.
check_output() { check_says "$1" success "$2" "${@:3}"; }

# check_says DESCRIPTION success|failure REGEX CMD...: CMD ends that way and says REGEX.
check_says() {
    local what=$1 want=$2 re=$3 out rc=0 ended=success
    shift 3
    out=$("$@" 2>&1) || rc=$?
    [[ $rc == 0 ]] || ended=failure
    if [[ $ended == "$want" ]] && grep -Eq -- "$re" <<<"$out"; then
        ok "$what"
    else
        not_ok "$what" "exit $rc, wanted $want with output matching /$re/: $*" "${out:0:1500}"
    fi
}

# as USER CMD...: run CMD as USER in a login session of their own (pam_systemd makes it a
# logind session, as a desktop terminal would be), without a password prompt.
as() {
    local user=$1
    shift
    su -l "$user" -s /bin/bash -c "$(printf '%q ' "$@")"
}

# wait_for SECONDS CMD...: poll CMD until it succeeds, for SECONDS of the clock (stretched
# under TCG) however long CMD takes.
wait_for() {
    local end=$((SECONDS + $1 * SLOW))
    shift
    while ((SECONDS < end)); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    "$@" >/dev/null 2>&1
}

unit_prop() { systemctl show -P "$2" "$1"; }
vm_state() { virsh -q domstate "$VM" 2>/dev/null; }

# unit_is UNIT STATE: the unit's ActiveState is STATE (for wait_for).
unit_is() { [[ $(systemctl show -P ActiveState "$1") == "$2" ]]; }
# unit_down UNIT: not active (inactive, or failed as a killed service is).
unit_down() { ! systemctl is-active -q "$1"; }

# winvmctl as jarrett, the desktop user in winvm's group: never a password. Outside a login
# session (the group's rule needs none; 30-polkit.sh checks the sessions), which spares a PAM
# round per call under TCG.
wctl() { setpriv --reuid=jarrett --regid=jarrett --init-groups --reset-env winvmctl --no-ask-password "$@"; }
qemu_pid() { pgrep -f "guest=$VM," | head -n1; }
qemu_maps_kvmfr() { grep -q /dev/kvmfr0 "/proc/$(qemu_pid)/maps"; }
# snapshots_lack REGEX: winvmctl lists the snapshots, and none matches REGEX.
snapshots_lack() { local out; out=$(wctl snapshot list) && ! grep -Eq -- "$1" <<<"$out"; }
vm_is() { [[ $(vm_state) == "$1" ]]; }

# The file the VM's disk points at now, and the bytes it reads through its chain.
current_disk() { virsh -q domblklist "$VM" | awk '$1 == "vda" {print $2}'; }
disk_write() { qemu-io -f qcow2 -c "write -q -P $1 ${2:-0} ${3:-1M}" "$(current_disk)"; }
disk_reads() {
    local out
    out=$(qemu-io -f qcow2 -r -c "read -q -P $1 0 1M" "$(current_disk)" 2>&1) && [[ -z $out ]]
}
unit_started() { [[ $(systemctl show -P ExecMainStartTimestampMonotonic "$1") != 0 ]]; }

# check_refused DESCRIPTION REGEX CMD...: ok when CMD fails and says REGEX.
check_refused() { check_says "$1" failure "$2" "${@:3}"; }
