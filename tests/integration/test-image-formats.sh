#!/usr/bin/env bash
# A raw image stays raw whatever its bytes say. The guest's disk is a raw image whose first
# bytes (the guest's to write) are a qcow2 header naming a backing file, the canary. Snapshots
# are taken, reverted to, deleted around, and the definition exported, while strace watches
# every open of winvmd, its children (qemu-img) and libvirtd: nobody opens the canary. Each
# qemu-img winvmd runs names the image's format (-f) and a backing file's (-F), and runs with
# only the capabilities for file access and no_new_privs.
set -uo pipefail
# shellcheck source=tests/sandbox/sandbox-lib.sh
. "$WINVM_SRC/tests/sandbox/sandbox-lib.sh"
# shellcheck source=tests/integration/lib.sh
. "$WINVM_SRC/tests/integration/lib.sh"

SNAP_TARGET=vda
OUT=$WINVM_SANDBOX/formats
DATA=$WINVM_IMAGES/data.raw
CANARY=$WINVM_SANDBOX/canary-backing
QEMU_IMG_LOG=$OUT/qemu-img.log
DEFS=$WINVM_SANDBOX/config-repo
# CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH and CAP_FOWNER.
FILE_CAPS=000000000000000e
mkdir -p "$OUT" "$DEFS"
echo "nobody may open this" >"$CANARY"

# The raw disk with a guest-written qcow2 header pointing at the canary.
truncate -s 64M "$DATA"
qemu-img create -q -f qcow2 -b "$CANARY" -F raw "$OUT/header.qcow2" 64M
dd if="$OUT/header.qcow2" of="$DATA" bs=64k count=1 conv=notrunc status=none
chmod 0644 "$DATA"
domain_edit '
for d in root.iter("disk"):
    if d.find("target").get("dev") == args[1]:
        d.find("source").set("file", args[0])
        d.find("driver").set("type", "raw")
        for b in d.findall("backingStore"):
            d.remove(b)' "$DATA" "$SNAP_TARGET" || exit 1
assert_eq "$DATA" "$(current_disk)" "the guest's disk is the raw image"

# qemu-img as winvmd runs it: its arguments and capabilities logged, then the real one.
cat >"$OUT/qemu-img" <<EOT
#!/bin/sh
{ printf 'argv: %s\n' "\$*"; grep -E '^(CapBnd|CapEff|NoNewPrivs):' /proc/self/status; } >>"$QEMU_IMG_LOG"
exec qemu-img "\$@"
EOT
chmod 0755 "$OUT/qemu-img"
cat >>"$WINVM_CONF" <<EOT
[Definitions]
$GUEST=$DEFS/$GUEST.xml
EOT
stop_winvmd || exit 1
WINVM_QEMU_IMG=$OUT/qemu-img start_winvmd || exit 1

# strace_all PID...: follow every thread of each PID and their children; opens to OUT/strace.*.
strace_pids=()
strace_all() {
    local pid t args=()
    for pid in "$@"; do
        for t in /proc/"$pid"/task/*; do args+=(-p "${t##*/}"); done
    done
    strace -f -qq -e trace=open,openat,openat2 -o "$OUT/strace" -ff "${args[@]}" 2>>"$OUT/strace.err" &
    strace_pids+=($!)
}
strace_all "$WINVMD_PID" "$(pgrep -x libvirtd | head -n 1)"
wait_until 10 sh -c "ls '$OUT'/strace.* >/dev/null 2>&1"

snap_create root s1
assert_call_ok "snapshot s1 of the raw disk"
snap_create root s2
assert_call_ok "snapshot s2 on top"
snap_revert root s1 0
assert_call_ok "revert to s1"
kept=$SNAP_RESULT
top=$(current_disk)
fmt=$(qemu-img info -U -f qcow2 --output=json "$top" |
    python3 -c 'import json, sys; print(json.load(sys.stdin).get("backing-filename-format", ""))')
assert_eq raw "$fmt" "the new overlay names its backing file's format: raw, from the records"
snap_delete root s2
assert_call_ok "delete s2 (merged into what depends on it)"
snap_create root s3
assert_call_ok "snapshot s3 after the revert"
snap_delete root s1
assert_call_ok "delete s1, the raw image's snapshot (its data merged into the overlays above)"
snap_delete root "$kept"
assert_call_ok "delete the pre-revert snapshot $kept"
call root "$VM_PATH" org.winvm1.Definition.ExportDefinition
assert_call_ok "export the definition"

kill "${strace_pids[@]}" 2>/dev/null
wait "${strace_pids[@]}" 2>/dev/null
opened=$(grep -l -F "$CANARY" "$OUT"/strace.* 2>/dev/null)
nopens=$(cat "$OUT"/strace.* | grep -c 'open')
if [[ -z $opened ]] && ((nopens > 0)); then
    ok "no process opened the canary backing file ($nopens opens traced)"
else
    fail "no process opens the backing file the raw image's bytes name" "$nopens opens traced" \
        "$(grep -h -F "$CANARY" "$OUT"/strace.* | head -n 5)"
fi

# Every qemu-img call names its formats, with file access only.
calls=$(grep -c '^argv:' "$QEMU_IMG_LOG")
unnamed=$(grep '^argv:' "$QEMU_IMG_LOG" | grep -Ev -- ' -f (raw|qcow2) ' || true)
assert_eq "" "$unnamed" "each of the $calls qemu-img calls names the image's format"
unbacked=$(grep '^argv:' "$QEMU_IMG_LOG" | grep -E -- ' -b [^ ]' | grep -Ev -- ' -F (raw|qcow2) ' || true)
assert_eq "" "$unbacked" "each qemu-img call with a backing file names its format"
if ((calls > 0)); then
    assert_eq "$FILE_CAPS" "$(sed -n 's/^CapBnd:\t*//p' "$QEMU_IMG_LOG" | sort -u)" \
        "qemu-img's bounding set holds only the file-access capabilities"
    assert_eq "$FILE_CAPS" "$(sed -n 's/^CapEff:\t*//p' "$QEMU_IMG_LOG" | sort -u)" \
        "and so does its effective set"
    assert_eq 1 "$(sed -n 's/^NoNewPrivs:\t*//p' "$QEMU_IMG_LOG" | sort -u)" "and it may gain no privileges"
else
    fail "winvmd ran qemu-img" "no call logged"
fi
assert_winvmd_alive "$WINVMD_PID" "winvmd survived"
summary
