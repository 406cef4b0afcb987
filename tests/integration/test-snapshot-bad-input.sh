#!/usr/bin/env bash
# Bad input to the snapshot methods: malformed names, an over-long description, unknown
# snapshots, unknown flag bits, a name (or overlay file) that exists, wrong argument types,
# and mallory (not in group winvm) trying to change anything. Each gets its named error and
# changes nothing: the snapshot list and properties, the image folder, the guest's definition
# and the state folder read the same before and after, and the same winvmd keeps serving.
# mallory may still list the snapshots. The limits themselves (64 characters, 1024 bytes)
# are accepted.
set -uo pipefail
# shellcheck source=tests/sandbox/sandbox-lib.sh
. "$WINVM_SRC/tests/sandbox/sandbox-lib.sh"
# shellcheck source=tests/integration/lib.sh
. "$WINVM_SRC/tests/integration/lib.sh"

PID=$WINVMD_PID
IMAGES=$WINVM_IMAGES
BEFORE=''

# refused ERROR DESCRIPTION: the last call failed with ERROR and nothing changed.
refused() {
    assert_call_error "$1" "$2: ${1##*.}"
    assert_unchanged "$BEFORE" "$2: nothing changed"
}

test_setup() {
    stage_write 1
    snap_create jarrett good "a good one"
    assert_call_ok "CreateSnapshot(good)"
    stage_write 2
    assert_eq good "$(snap_prop root)" "one snapshot, good"
    BEFORE=$(world_state 2>&1)
}

test_bad_names() {
    local name
    # shellcheck disable=SC2016  # the $(...) and `...` are the names
    local -a names=(.x -x . .. a/b ../x /etc/passwd "a b" "$(printf 'a%.0s' {1..65})" é "naïve"
        '$(id)' '`id`' 'x;y' "a'b" 'a"b' 'a\b' 'a*' $'a\nb' $'a\tb')
    for name in "${names[@]}"; do
        snap_create jarrett "$name" ""
        refused org.winvm1.Error.InvalidArgument "CreateSnapshot(name $(printf '%q' "$name"))"
    done
    for name in ../x a/b "a b" -x; do
        snap_revert jarrett "$name" 0
        refused org.winvm1.Error.InvalidArgument "RevertSnapshot(name $(printf '%q' "$name"))"
        snap_delete jarrett "$name"
        refused org.winvm1.Error.InvalidArgument "DeleteSnapshot(name $(printf '%q' "$name"))"
    done
    # Nothing may have been made from a bad name anywhere below the images or the state.
    assert_eq "" "$(find "$IMAGES" "$(conf_value StateDirectory)" -name x -o -name b -o -name passwd)" \
        "no file named after a bad name exists below the images or the state folder"
}

test_bad_description() {
    local long multi
    long=$(printf 'd%.0s' {1..1025})
    snap_create jarrett d1025 "$long"
    refused org.winvm1.Error.InvalidArgument "CreateSnapshot(description of 1025 bytes)"
    # 513 characters but 1025 bytes: the limit is in bytes.
    multi=$(printf 'é%.0s' {1..512})a
    snap_create jarrett dmulti "$multi"
    refused org.winvm1.Error.InvalidArgument "CreateSnapshot(description of 513 characters, 1025 bytes)"
}

test_unknown_snapshot() {
    snap_revert jarrett nope 0
    refused org.winvm1.Error.NoSuchSnapshot "RevertSnapshot(nope)"
    assert_contains "$CALL_MSG" nope "NoSuchSnapshot names the snapshot"
    snap_revert jarrett nope 2
    refused org.winvm1.Error.NoSuchSnapshot "RevertSnapshot(nope, discard)"
    snap_delete jarrett nope
    refused org.winvm1.Error.NoSuchSnapshot "DeleteSnapshot(nope)"
    snap_delete jarrett Good
    refused org.winvm1.Error.NoSuchSnapshot "DeleteSnapshot(Good): names are case-sensitive"
}

test_bad_flags() {
    local flags
    for flags in 8 9 10 16 256 9223372036854775808 18446744073709551615; do
        snap_revert jarrett good "$flags"
        refused org.winvm1.Error.InvalidArgument "RevertSnapshot(good, flags $flags)"
    done
}

test_exists() {
    snap_create jarrett good "again"
    refused org.winvm1.Error.Exists "CreateSnapshot(good) again"
    # A file in the way of the overlay counts too, and is left alone.
    printf 'not an image\n' >"$IMAGES/windows11.squatter"
    BEFORE=$(world_state 2>&1)
    snap_create jarrett squatter ""
    refused org.winvm1.Error.Exists "CreateSnapshot(squatter) with windows11.squatter in the way"
    assert_eq "not an image" "$(cat "$IMAGES/windows11.squatter")" "the file in the way is untouched"
    rm -f "$IMAGES/windows11.squatter"
    BEFORE=$(world_state 2>&1)
}

test_wrong_types() {
    raw_call jarrett "$VM_PATH" org.winvm1.VM.CreateSnapshot string:x
    refused org.freedesktop.DBus.Error.InvalidArgs "CreateSnapshot with one argument"
    raw_call jarrett "$VM_PATH" org.winvm1.VM.RevertSnapshot string:good int32:1
    refused org.freedesktop.DBus.Error.InvalidArgs "RevertSnapshot with flags of type i"
    raw_call jarrett "$VM_PATH" org.winvm1.VM.DeleteSnapshot uint32:1
    refused org.freedesktop.DBus.Error.InvalidArgs "DeleteSnapshot with a number"
}

test_mallory() {
    snap_create mallory m1 "by mallory"
    refused org.freedesktop.DBus.Error.AccessDenied "mallory CreateSnapshot"
    assert_contains "$CALL_MSG" org.winvm1.snapshot.create "the refusal names org.winvm1.snapshot.create"
    snap_revert mallory good 2
    refused org.freedesktop.DBus.Error.AccessDenied "mallory RevertSnapshot"
    assert_contains "$CALL_MSG" org.winvm1.snapshot.revert "the refusal names org.winvm1.snapshot.revert"
    snap_delete mallory good
    refused org.freedesktop.DBus.Error.AccessDenied "mallory DeleteSnapshot"
    assert_contains "$CALL_MSG" org.winvm1.snapshot.delete "the refusal names org.winvm1.snapshot.delete"

    vm_call mallory ListSnapshots
    assert_call_ok "mallory may call ListSnapshots"
    assert_eq good "$(snap_eval '[s["Name"] for s in L]' mallory)" "mallory's list has good"
    assert_eq "a good one" "$(snap_eval 'S["good"]["Description"]' mallory)" "with its description"
    assert_eq good "$(snap_prop mallory)" "mallory reads the Snapshots property"
    assert_eq good "$(vm_prop CurrentSnapshot mallory)" "mallory reads CurrentSnapshot"
    assert_unchanged "$BEFORE" "nothing changed after mallory's calls"
}

# The limits are inclusive: a 64-character name and a 1024-byte description are fine.
test_limits_accepted() {
    local name desc
    name=$(printf 'n%.0s' {1..63})Z
    desc=$(printf 'é%.0s' {1..512})
    snap_create jarrett "$name" "$desc"
    assert_call_ok "CreateSnapshot(64-character name, 1024-byte description)"
    assert_eq "$name" "$SNAP_RESULT" "it returns the 64-character name"
    assert_eq "$desc" "$(snap_eval "S['$name']['Description']")" "the 1024-byte description reads back"
    assert_eq "good $name" "$(snap_prop root)" "Snapshots: good and the new one"
    assert_snap_consistent "metadata, definition and files agree"
}

test_setup
test_bad_names
test_bad_description
test_unknown_snapshot
test_bad_flags
test_exists
test_wrong_types
test_mallory
test_limits_accepted
assert_winvmd_alive "$PID" "the same winvmd still serves"
summary
