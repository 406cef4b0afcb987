#!/usr/bin/env bash
# winvmctl's output as winvmctl(1) promises it, as jarrett sees it. Piped: plain words, ASCII,
# not one escape sequence, no progress notes on a piped stderr. On a terminal (a pty from
# script(1)): colour and check marks with a UTF-8 locale, box-drawing in snapshot list
# --tree; the marks without colour under NO_COLOR=1 (an empty NO_COLOR does not count) and
# TERM=dumb; the words, still coloured, in the C locale. --json: one JSON document on
# stdout, with the members the page documents, for every read it lists.
set -uo pipefail
# shellcheck source=tests/sandbox/sandbox-lib.sh
. "$WINVM_SRC/tests/sandbox/sandbox-lib.sh"
# shellcheck source=tests/integration/lib.sh
. "$WINVM_SRC/tests/integration/lib.sh"

ESC=$'\033'
SGR0="${ESC}[0m"  # the end of a coloured mark
UTF8=C.UTF-8

# on_tty USER ENV... -- ARGS...: winvmctl ARGS as USER on a pseudo-terminal, with the
# environment ENV (NAME=VALUE words) added; prints what the terminal showed, \r\n made \n.
on_tty() {
    local user=$1
    shift
    local -a env=()
    while (($#)) && [[ $1 != -- ]]; do
        env+=("$1")
        shift
    done
    shift
    local cmd
    printf -v cmd '%q ' winvmctl "$@"
    run_as "$user" env TERM=xterm "${env[@]}" script -qec "$cmd" /dev/null 2>&1 | tr -d '\r'
}

# assert_no_escape TEXT DESCRIPTION
assert_no_escape() {
    if [[ $1 == *"$ESC"* ]]; then
        fail "$2" "an escape sequence in: $(head -c 200 <<<"$1" | od -c | head -n 3)"
    else
        ok "$2"
    fi
}

assert_has_escape() {
    if [[ $1 == *"${ESC}["*m* ]]; then ok "$2"; else fail "$2" "no colour in: $(head -n 2 <<<"$1")"; fi
}

# json_keys JSON PYEXPR: the sorted keys of the object PYEXPR picks from the document d.
json_keys() { json_field "$1" "' '.join(sorted($2))"; }

# The id of a check that fails (the stand-in host's and the demo guest's), set by test_setup.
FAILING=''

test_setup() {
    # A stand-in host tree, so that what the checks find does not depend on this machine.
    cp -a "$WINVM_SRC/tests/fixtures/hosts/intel-seed" "$WINVM_SANDBOX/host-root"
    chmod 755 "$WINVM_SANDBOX/host-root"
    printf '[Host]\nRoot=%s\n' "$WINVM_SANDBOX/host-root" >>"$WINVM_CONF"
    # shellcheck disable=SC2119  # no arguments for winvmd
    restart_winvmd
    ctl jarrett --json doctor
    FAILING=$(json_field "$CTL_OUT" '[c["id"] for c in d["checks"] if c["status"] == "fail"][0]')
    if [[ $FAILING =~ ^[a-z][a-z0-9.:_-]*$ ]]; then
        ok "a check fails on the stand-in host: $FAILING"
    else
        fail "a check fails on the stand-in host" "$FAILING"
    fi
    snap_create jarrett first "the first"
    assert_call_ok "jarrett creates snapshot first"
    snap_create jarrett second "the second"
    assert_call_ok "jarrett creates snapshot second"
}

test_piped() {
    ctl jarrett doctor
    assert_no_escape "$CTL_OUT" "doctor piped: no escape sequences"
    assert_contains "$CTL_OUT" "FAIL $FAILING" "doctor piped: the words (FAIL), not marks"
    if [[ $CTL_OUT == *"✗"* || $CTL_OUT == *"✓"* ]]; then
        fail "doctor piped: no check marks" "$CTL_OUT"
    else
        ok "doctor piped: no check marks"
    fi
    ctl jarrett snapshot list --tree
    assert_no_escape "$CTL_OUT" "snapshot list --tree piped: no escape sequences"
    assert_contains "$CTL_OUT" '`-- first' "snapshot list --tree piped: ASCII branches"
    if LC_ALL=C grep -q '[^ -~]' <<<"$CTL_OUT"; then
        fail "snapshot list --tree piped: only ASCII" "$CTL_OUT"
    else
        ok "snapshot list --tree piped: only ASCII"
    fi
    ctl jarrett status
    assert_no_escape "$CTL_OUT$CTL_ERR" "status piped: no escape sequences"
    ctl jarrett vfio
    assert_no_escape "$CTL_OUT" "vfio piped: no escape sequences"
}

test_terminal() {
    local out
    out=$(on_tty jarrett LANG=$UTF8 -- doctor)
    assert_has_escape "$out" "doctor on a terminal: colour"
    assert_contains "$out" "✗$SGR0 $FAILING" "doctor on a UTF-8 terminal: the check marks"

    out=$(on_tty jarrett LANG=$UTF8 NO_COLOR=1 -- doctor)
    assert_no_escape "$out" "doctor on a terminal with NO_COLOR=1: no colour"
    assert_contains "$out" "✗ $FAILING" "doctor with NO_COLOR=1: still the marks"

    out=$(on_tty jarrett LANG=$UTF8 NO_COLOR= -- doctor)
    assert_has_escape "$out" "doctor on a terminal with an empty NO_COLOR: colour (an empty value does not count)"

    out=$(on_tty jarrett LANG=$UTF8 TERM=dumb -- doctor)
    assert_no_escape "$out" "doctor on a terminal with TERM=dumb: no colour"

    out=$(on_tty jarrett LANG=C LC_ALL=C -- doctor)
    assert_contains "$out" "FAIL$SGR0 $FAILING" "doctor on a terminal in the C locale: the words"
    assert_has_escape "$out" "doctor on a terminal in the C locale: colour"

    out=$(on_tty jarrett LANG=$UTF8 -- snapshot list --tree)
    assert_contains "$out" "└── first" "snapshot list --tree on a UTF-8 terminal: box-drawing"
    out=$(on_tty jarrett LANG=$UTF8 NO_COLOR=1 -- status)
    assert_no_escape "$out" "status on a terminal: no escape sequences"
}

test_stderr_notes() {
    ctl jarrett snapshot delete second
    assert_ctl 0 "snapshot delete second"
    assert_eq "" "$CTL_ERR" "snapshot delete with a piped stderr: no progress note"
    assert_eq "Deleted snapshot second of $GUEST." "$CTL_OUT" "snapshot delete: the result on stdout"
}

# json_check ARGS -- EXPR KEYS DESCRIPTION: winvmctl --json ARGS prints one JSON document whose
# EXPR (python, on d) has exactly the members KEYS; stderr empty unless the exit status says.
json_check() {
    local -a args=()
    while [[ $1 != -- ]]; do
        args+=("$1")
        shift
    done
    shift
    ctl jarrett --json "${args[@]}"
    if [[ $(json_field "$CTL_OUT" 'True') != True ]]; then
        fail "$3" "not one JSON document: $(head -c 300 <<<"$CTL_OUT")" "stderr: $CTL_ERR"
        return
    fi
    assert_eq "$2" "$(json_keys "$CTL_OUT" "$1")" "$3"
}

test_json() {
    json_check status -- 'd' "libvirt_connected vms" "--json status: libvirt_connected, vms"
    json_check status -- 'd["vms"][0]' "autostart memory_mib name object_path reason state uuid vcpus" \
        "--json status: each VM's members"
    json_check jobs -- '{"array": 1} if isinstance(d, list) else d' "array" "--json jobs: an array"
    json_check storage -- 'd[0]' \
        "btrfs error free_bytes is_subvolume mount_point name size_bytes subvolume_id used_bytes" \
        "--json storage: GetFacts' members"
    json_check scrub status -- 'd' "filesystem last running_job" "--json scrub status: filesystem, running_job, last"
    json_check snapshot list -- 'd[0]' \
        "BytesOnDisk CreationTime Current Description Disks Files GuestState Name Parent Quiesced" \
        "--json snapshot list: the service's members"
    json_check doctor -- 'd' "checks summary" "--json doctor: checks, summary"
    json_check doctor -- 'd["checks"][0]' "id message remedy status" "--json doctor: each check's members"
    json_check doctor -- 'd["summary"]' "fail ok skipped warn" "--json doctor: the summary's members"
    assert_ctl 1 "--json doctor: exit status 1 with a failed check, as without --json"
    json_check kvmfr -- 'd' "checks devices loaded required_size_mib static_sizes_mib summary" \
        "--json kvmfr: its members"
    json_check vfio -- 'd' "checks devices host summary" "--json vfio: its members"
    json_check vfio -- 'd["host"]' "cmdline cpu_vendor groups iommu_active" "--json vfio: the host's members"
    json_check vfio -- 'd["devices"][0]' "address driver iommu_group members pci_id" \
        "--json vfio: each device's members"
    json_check list snapshots -- '{"array": 1} if isinstance(d, list) else d' "array" "--json list: an array"
}

test_setup
test_piped
test_terminal
test_stderr_notes
test_json
summary
