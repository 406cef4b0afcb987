#!/usr/bin/env bash
# The bash completion (shell-completion/bash/winvmctl) against the running service, as
# jarrett types: the commands at position 1 are those of winvmctl's verb table ('winvmctl
# --list-verbs', which --help prints too), and after each its subcommands; `winvmctl
# snapshot revert <TAB>` offers exactly the snapshots there are (two made here, then one
# after a delete), also after --vm NAME and --vm=NAME and for a prefix; --vm offers the
# managed VMs and 'scrub start' the filesystems. mallory, outside the winvm group, gets
# the same names (reads are open). With winvmd gone the completion offers nothing, says
# nothing and returns at once. --set-virtiofsd completes paths, and "--opt=VALUE" typed as one
# word (COMP_WORDBREAKS without "=") keeps its "--opt=". Also 'winvmctl list', which the
# completion asks.
set -uo pipefail
# shellcheck source=tests/sandbox/sandbox-lib.sh
. "$WINVM_SRC/tests/sandbox/sandbox-lib.sh"
# shellcheck source=tests/integration/lib.sh
. "$WINVM_SRC/tests/integration/lib.sh"

# A copy the test users can read wherever the source tree is.
COMPLETION=$WINVM_SANDBOX/winvmctl.bash-completion
install -m 0644 "$WINVM_SRC/shell-completion/bash/winvmctl" "$COMPLETION"

# complete_as USER WORD...: what the completion offers for the command line WORD... (the
# last word is the one under the cursor, "" for a fresh one), one per line, sorted. The
# completion's stderr goes to $WINVM_SANDBOX/completion.err.
complete_as() {
    local user=$1
    shift
    # shellcheck disable=SC2016  # expanded by the inner bash
    run_as "$user" bash -c '
        . "$1"
        shift
        COMP_WORDS=("$@")
        COMP_CWORD=$(($# - 1))
        COMP_LINE="$*"
        COMP_POINT=${#COMP_LINE}
        _winvmctl
        printf "%s\n" "${COMPREPLY[@]}"' bash "$COMPLETION" "$@" 2>"$WINVM_SANDBOX/completion.err" |
        sed '/^$/d' | sort
}

# complete_line USER LINE WORD...: the same with the command line as typed (COMP_LINE) and
# the words as bash splits it (COMP_WORDBREAKS: "256f:c" is "256f" ":" "c").
complete_line() {
    local user=$1 line=$2
    shift 2
    # shellcheck disable=SC2016  # expanded by the inner bash
    run_as "$user" bash -c '
        . "$1"
        COMP_LINE=$2
        shift 2
        COMP_WORDS=("$@")
        COMP_CWORD=$(($# - 1))
        COMP_POINT=${#COMP_LINE}
        _winvmctl
        printf "%s\n" "${COMPREPLY[@]}"' bash "$COMPLETION" "$line" "$@" 2>"$WINVM_SANDBOX/completion.err" |
        sed '/^$/d' | sort
}

# lines WORD...: the words one per line, sorted (what complete_as prints).
lines() { printf '%s\n' "$@" | sed '/^$/d' | sort; }

# The top-level commands of winvmctl --help: the first word of each entry of "Commands:".
help_commands() {
    winvmctl --help | awk '/^Commands:/ { on = 1; next } on && /^$/ { exit } on && /^  [a-z]/ { print $1 }' |
        sort -u
}

# The commands of winvmctl's verb table, sorted; with VERB, that verb's subcommands.
list_verbs() {
    winvmctl --list-verbs | awk -v verb="${1-}" 'verb == "" { print $1 } $1 == verb { for (i = 2; i <= NF; i++) print $i }' |
        sort
}

test_commands() {
    local want verb
    want=$(list_verbs)
    assert_eq "$(help_commands)" "$want" "winvmctl --list-verbs: the commands of winvmctl --help"
    assert_eq "$want" "$(complete_as jarrett winvmctl '')" "winvmctl <TAB>: the commands of winvmctl --list-verbs"
    assert_eq "$(lines snapshot shares shutdown start status storage scrub)" "$(complete_as jarrett winvmctl s)" \
        "winvmctl s<TAB>: the commands starting with s"
    assert_eq "$(lines adopt create delete list revert)" "$(list_verbs snapshot)" \
        "winvmctl --list-verbs: the subcommands of snapshot"
    for verb in $want; do
        assert_eq "$(list_verbs "$verb")" "$(complete_as jarrett winvmctl "$verb" '')" \
            "winvmctl $verb <TAB>: its subcommands in winvmctl --list-verbs"
    done
    assert_eq "$(lines --discard-current)" "$(complete_as jarrett winvmctl snapshot revert --disc)" \
        "winvmctl snapshot revert --disc<TAB>: the option"
}

test_setup_snapshots() {
    snap_create jarrett before-update "before the update"
    assert_call_ok "jarrett creates snapshot before-update"
    snap_create jarrett gpu-drivers "GPU drivers"
    assert_call_ok "jarrett creates snapshot gpu-drivers"
    assert_eq "before-update gpu-drivers" "$(snap_prop root)" "two snapshots exist"
}

test_list_command() {
    ctl jarrett list snapshots
    assert_ctl 0 "winvmctl list snapshots exits 0"
    assert_eq "$(printf 'before-update\ngpu-drivers')" "$CTL_OUT" "winvmctl list snapshots: the names, oldest first"
    ctl jarrett --json list snapshots
    assert_eq '["before-update", "gpu-drivers"]' "$(json_field "$CTL_OUT" 'json.dumps(d)')" \
        "winvmctl --json list snapshots: a JSON array of the names"
    ctl jarrett list vms
    assert_eq "$GUEST" "$CTL_OUT" "winvmctl list vms: the managed VM"
    ctl jarrett list
    assert_eq "$GUEST" "$CTL_OUT" "winvmctl list: the VMs"
    ctl jarrett list filesystems
    assert_eq images "$CTL_OUT" "winvmctl list filesystems: the configured filesystem"
    ctl jarrett list nonsense
    assert_ctl 2 "winvmctl list nonsense: bad usage"
    ctl jarrett --vm nope list snapshots
    assert_ctl 4 "winvmctl --vm nope list snapshots: no such VM"
}

test_snapshot_names() {
    local both
    both=$(lines before-update gpu-drivers)
    assert_eq "$both" "$(complete_as jarrett winvmctl snapshot revert '')" \
        "winvmctl snapshot revert <TAB>: exactly the existing snapshots"
    assert_eq "" "$(cat "$WINVM_SANDBOX/completion.err")" "the completion prints nothing on stderr"
    assert_eq "gpu-drivers" "$(complete_as jarrett winvmctl snapshot revert gp)" \
        "winvmctl snapshot revert gp<TAB>: gpu-drivers"
    assert_eq "$both" "$(complete_as jarrett winvmctl snapshot delete '')" \
        "winvmctl snapshot delete <TAB>: the snapshots"
    assert_eq "$both" "$(complete_as jarrett winvmctl --vm "$GUEST" snapshot revert '')" \
        "winvmctl --vm $GUEST snapshot revert <TAB>: the snapshots"
    # bash splits --vm=NAME at '=' (COMP_WORDBREAKS).
    assert_eq "$both" "$(complete_as jarrett winvmctl --vm = "$GUEST" snapshot revert '')" \
        "winvmctl --vm=$GUEST snapshot revert <TAB>: the snapshots"
    assert_eq "$both" "$(complete_as jarrett winvmctl snapshot revert --shutdown '')" \
        "winvmctl snapshot revert --shutdown <TAB>: the snapshots"
    assert_eq "" "$(complete_as jarrett winvmctl --vm nope snapshot revert '')" \
        "winvmctl --vm nope snapshot revert <TAB>: nothing for a VM that is not managed"
    assert_eq "" "$(complete_as jarrett winvmctl snapshot create '')" \
        "winvmctl snapshot create <TAB>: no existing names offered for a new one"
    assert_eq "$both" "$(complete_as mallory winvmctl snapshot revert '')" \
        "mallory: snapshot revert <TAB> offers the same names"
}

test_vm_and_fs_names() {
    assert_eq "$GUEST" "$(complete_as jarrett winvmctl --vm '')" "winvmctl --vm <TAB>: the managed VM"
    assert_eq "$GUEST" "$(complete_as jarrett winvmctl --vm W)" "winvmctl --vm W<TAB>: the managed VM"
    assert_eq "$GUEST" "$(complete_as jarrett winvmctl snapshot list --vm '')" \
        "winvmctl snapshot list --vm <TAB>: the managed VM"
    assert_eq "$GUEST" "$(complete_as jarrett winvmctl --vm = '')" "winvmctl --vm=<TAB>: the managed VM"
    # With '=' left out of COMP_WORDBREAKS, "--vm=W" is one word, and the reply replaces it.
    assert_eq "--vm=$GUEST" "$(complete_as jarrett winvmctl --vm=W)" \
        "winvmctl --vm=W<TAB> as one word: the reply keeps --vm="
    assert_eq "" "$(complete_as jarrett winvmctl --vm X)" "winvmctl --vm X<TAB>: nothing"
    assert_eq "$GUEST" "$(complete_as jarrett snapshot-win-vm --vm '')" "snapshot-win-vm --vm <TAB>: the VM"
    assert_eq images "$(complete_as jarrett winvmctl scrub start '')" "winvmctl scrub start <TAB>: the filesystem"
}

test_follows_service() {
    snap_delete jarrett before-update
    assert_call_ok "jarrett deletes before-update"
    assert_eq "gpu-drivers" "$(complete_as jarrett winvmctl snapshot revert '')" \
        "after the delete, snapshot revert <TAB> offers only gpu-drivers"
}

test_without_service() {
    local start end out
    # shellcheck disable=SC2119  # default signal
    stop_winvmd
    sb_now_ms start
    out=$(complete_as jarrett winvmctl snapshot revert '')
    sb_now_ms end
    assert_eq "" "$out" "winvmd gone: snapshot revert <TAB> offers nothing"
    assert_eq "" "$(cat "$WINVM_SANDBOX/completion.err")" "winvmd gone: and prints nothing"
    if ((end - start < 3000)); then
        ok "winvmd gone: the completion returns at once ($((end - start)) ms)"
    else
        fail "winvmd gone: the completion returns at once" "took $((end - start)) ms"
    fi
    assert_eq "$(list_verbs)" "$(complete_as jarrett winvmctl '')" "winvmd gone: the commands still complete"
    start_winvmd
}

# USB ids come from the service's [Usb] Devices (the defaults here).
test_usb_ids() {
    assert_eq "$(lines 256c:006d 256f:c635)" "$(complete_as jarrett winvmctl usb attach '')" \
        "winvmctl usb attach <TAB>: the configured USB ids"
    assert_eq "256f:c635" "$(complete_as jarrett winvmctl usb detach 256f)" "winvmctl usb detach 256f<TAB>"
    # bash splits "256f:c" at the ':'; the reply is what follows it.
    assert_eq "c635" "$(complete_line jarrett "winvmctl usb attach 256f:c" winvmctl usb attach 256f : c)" \
        "winvmctl usb attach 256f:c<TAB>: c635 (after the ':' bash split at)"
    assert_eq "$(lines 256c:006d 256f:c635)" "$(complete_as jarrett winvmctl --vm "$GUEST" usb attach '')" \
        "winvmctl --vm $GUEST usb attach <TAB>: the ids"
}

# --set-virtiofsd takes a host path: files, also after "--set-virtiofsd=" in one word.
test_virtiofsd_paths() {
    local dir=$WINVM_SANDBOX/completion-paths
    mkdir -p "$dir" && chmod 0755 "$dir" && touch "$dir/virtiofsd" "$dir/virtiofsd-old" "$dir/other"
    chmod 0755 "$dir/virtiofsd" "$dir/virtiofsd-old"
    assert_eq "$(lines "$dir/virtiofsd" "$dir/virtiofsd-old")" \
        "$(complete_as jarrett winvmctl shares --set-virtiofsd "$dir/virt")" \
        "winvmctl shares --set-virtiofsd DIR/virt<TAB>: the files"
    assert_eq "--set-virtiofsd=$dir/virtiofsd-old" \
        "$(complete_as jarrett winvmctl shares "--set-virtiofsd=$dir/virtiofsd-")" \
        "winvmctl shares --set-virtiofsd=DIR/virtiofsd-<TAB> as one word: the reply keeps the option"
    rm -rf "$dir"
}

test_commands
test_usb_ids
test_virtiofsd_paths
test_setup_snapshots
test_list_command
test_snapshot_names
test_vm_and_fs_names
test_follows_service
test_without_service
summary
