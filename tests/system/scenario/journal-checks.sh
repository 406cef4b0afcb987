# shellcheck shell=bash
# journal_checks WHEN: the journal of this boot has no seccomp kill, no core dump and no
# permission failure caused by the unit's sandboxing, for winvmd and the units it starts.
journal_checks() {
    local when=$1
    local -a units=(-u winvmd.service -u 'winvm-usb-attach@*')
    journalctl -b --no-pager "${units[@]}" >>"$RESULTS/journal.txt" 2>&1
    # PID 1 says how the unit's process ended; the audit record names the process.
    check "$when: winvmd never killed by SIGSYS" journal_lacks 'status=31/SYS' -u winvmd.service
    check "$when: no seccomp audit record of winvmd" journal_lacks 'type=1326.*comm="winvmd"'
    check "$when: no core dump" journal_lacks 'code=dumped|dumped core' -u winvmd.service
    check "$when: no EPERM or EACCES in winvmd's messages" \
        journal_lacks 'Operation not permitted|Permission denied|Read-only file system' -o cat "${units[@]}"
}

# journal_lacks REGEX [JOURNALCTL-ARGS...]: this boot's journal (with those arguments) has no
# line matching REGEX; fails too when journalctl itself fails.
journal_lacks() {
    local re=$1 out
    shift
    out=$(journalctl -b --no-pager "$@") || return 1
    [[ -n $out ]] || return 1
    ! grep -Eq -- "$re" <<<"$out"
}

# journal_has REGEX [JOURNALCTL-ARGS...]: a line of this boot's journal matches REGEX.
journal_has() {
    local re=$1
    shift
    journalctl -b --no-pager "$@" | grep -Eq -- "$re"
}
