# shellcheck shell=bash
# journal_checks WHEN: the journal of this boot has no seccomp kill, no core dump and no
# permission failure caused by the unit's sandboxing, for winvmd and the units it starts.
journal_checks() {
    local when=$1 units=(-u winvmd.service -u 'winvm-usb-attach@*')
    journalctl -b --no-pager "${units[@]}" >>"$RESULTS/journal.txt" 2>&1
    check "$when: no seccomp kill of winvmd" bash -c "! journalctl -b --no-pager -k -u winvmd.service | grep -Eq 'status=31/SYS|type=1326|SECCOMP'"
    check "$when: no core dump" bash -c "! journalctl -b --no-pager -u winvmd.service | grep -Eq 'code=dumped|core dump'"
    check "$when: no EPERM or EACCES in winvmd's messages" \
        bash -c "! journalctl -b --no-pager -o cat ${units[*]} | grep -Eiq 'Operation not permitted|Permission denied|Read-only file system'"
}
