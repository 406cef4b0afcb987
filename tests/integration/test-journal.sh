#!/usr/bin/env bash
# winvmd's journal entries, as journald would receive them: a listener bound at the journal's
# socket in the sandbox's private /run decodes the native protocol (KEY=VALUE lines, the
# binary form for values with newlines, a memfd for big entries), and the test checks the
# MESSAGE_ID and the WINVM_* fields of each event: VM started and stopped (by a call, and by
# something else), a failed call, snapshot create/revert/delete, a scrub; then that the
# readable line goes to stderr unless JOURNAL_STREAM says stderr is the journal, and that
# every MESSAGE_ID is explained in systemd/winvm.catalog.
set -uo pipefail
# shellcheck source=tests/sandbox/sandbox-lib.sh
. "$WINVM_SRC/tests/sandbox/sandbox-lib.sh"
# shellcheck source=tests/integration/lib.sh
. "$WINVM_SRC/tests/integration/lib.sh"

JOURNAL_DIR=/run/systemd/journal
CAPTURE=$WINVM_SANDBOX/journal.jsonl
IDS_HEADER=$WINVM_SRC/service/runtime/message-ids.h
CATALOG=$WINVM_SRC/systemd/winvm.catalog
JARRETT_UID=$(id -u jarrett)
JOURNAL_MARK=0
CAPTURE_PID=

# message_id NAME: the id of WINVM_MESSAGE_<NAME> in service/runtime/message-ids.h.
message_id() { sed -n "s/^#define WINVM_MESSAGE_$1 *\"\([0-9a-f]*\)\".*/\1/p" "$IDS_HEADER"; }

VM_STARTED=$(message_id VM_STARTED)
VM_STOPPED=$(message_id VM_STOPPED)
SNAPSHOT_CREATED=$(message_id SNAPSHOT_CREATED)
SNAPSHOT_REVERTED=$(message_id SNAPSHOT_REVERTED)
SNAPSHOT_DELETED=$(message_id SNAPSHOT_DELETED)
SCRUB_FINISHED=$(message_id SCRUB_FINISHED)
OPERATION_FAILED=$(message_id OPERATION_FAILED)
DEFINITION_CHANGED=$(message_id DEFINITION_CHANGED)

# start_capture: a private tmpfs on /run/systemd/journal with our listener at its socket. Each
# datagram becomes one JSON line in $CAPTURE: {"KEY": ["value", ...], ...}.
start_capture() {
    mkdir -p "$JOURNAL_DIR"
    mount -t tmpfs -o mode=0755 tmpfs "$JOURNAL_DIR" || return
    python3 - "$JOURNAL_DIR/socket" "$CAPTURE" <<'PY' &
import array, json, os, socket, struct, sys

path, out = sys.argv[1:3]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
s.bind(path)
os.chmod(path, 0o666)

def parse(data):
    """journald's native protocol: KEY=VALUE\n, or KEY\n<le64 size><size bytes>\n."""
    fields = {}
    while data:
        nl = data.find(b"\n")
        if nl < 0:
            raise ValueError("field without a newline: %r" % data[:60])
        line = data[:nl]
        if b"=" in line:
            key, value = line.split(b"=", 1)
            data = data[nl + 1:]
        else:
            key = line
            if len(data) < nl + 9:
                raise ValueError("binary field %r without its size" % key)
            (size,) = struct.unpack("<Q", data[nl + 1:nl + 9])
            value = data[nl + 9:nl + 9 + size]
            if len(value) != size or data[nl + 9 + size:nl + 10 + size] != b"\n":
                raise ValueError("binary field %r is truncated or not closed by a newline" % key)
            data = data[nl + 10 + size:]
        if not key or not all(c in b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_" for c in key) or key[:1] == b"_":
            raise ValueError("invalid field name %r" % key)
        fields.setdefault(key.decode(), []).append(value.decode("utf-8", "replace"))
    return fields

fd_size = struct.calcsize("i")
with open(out, "a") as f:
    while True:
        data, ancillary, _, _ = s.recvmsg(1 << 20, socket.CMSG_SPACE(4 * fd_size))
        fds = array.array("i")
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(payload[:len(payload) - len(payload) % fd_size])
        # A big entry comes as a sealed memfd with an empty datagram.
        for fd in fds:
            with os.fdopen(fd, "rb") as m:
                m.seek(0)
                data = m.read()
        try:
            entry = parse(data)
            entry["_TRANSPORT"] = ["memfd" if fds else "datagram"]
        except (ValueError, UnicodeDecodeError) as e:
            entry = {"_PARSE_ERROR": [str(e)]}
        f.write(json.dumps(entry) + "\n")
        f.flush()
PY
    CAPTURE_PID=$!
    wait_until 5 test -S "$JOURNAL_DIR/socket" || return
    # The listener's own check: a value in the binary form, and an entry passed as a memfd
    # (as sd_journal_sendv() does for entries too big for a datagram), decode.
    python3 - "$JOURNAL_DIR/socket" <<'PY'
import array, os, socket, struct, sys
value = b"two\nlines"
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(b"MESSAGE=listener check\nWINVM_CHECK\n" + struct.pack("<Q", len(value)) + value + b"\n", sys.argv[1])
fd = os.memfd_create("journal-entry")
os.write(fd, b"MESSAGE=listener memfd check\n")
s.sendmsg([], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))], 0, sys.argv[1])
PY
    if wait_until 5 journal_match "MESSAGE=listener check" "WINVM_CHECK=two"$'\n'"lines" &&
        wait_until 5 journal_match "MESSAGE=listener memfd check" _TRANSPORT=memfd; then
        ok "the listener decodes the journal's native protocol, binary form and memfd included"
    else
        fail "the listener decodes the journal's native protocol" "$(cat "$CAPTURE")"
    fi
    : >"$CAPTURE" # appended to from the start again
}

stop_capture() {
    [[ -n $CAPTURE_PID ]] && kill "$CAPTURE_PID" 2>/dev/null && wait "$CAPTURE_PID" 2>/dev/null
    umount "$JOURNAL_DIR"
}

# mark: later expectations look only at entries captured from now on.
mark() { JOURNAL_MARK=$(wc -l <"$CAPTURE"); }

# journal_match [KEY=VALUE | KEY~REGEX | !KEY]...: print the first entry after the mark with
# every KEY=VALUE (the field's only value), a value matching REGEX, and no field KEY.
journal_match() {
    python3 - "$CAPTURE" "$JOURNAL_MARK" "$@" <<'PY'
import json, re, sys
path, start, conds = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
def ok(e, c):
    if c.startswith("!"):
        return c[1:] not in e
    m = re.match(r"([A-Z0-9_]+)([=~])(.*)", c, re.S)
    key, op, want = m.groups()
    if len(e.get(key, [])) != 1:
        return False
    return e[key][0] == want if op == "=" else re.search(want, e[key][0]) is not None
found = [json.loads(l) for l in open(path).readlines()[start:]]
found = [e for e in found if all(ok(e, c) for c in conds)]
if found:
    print(json.dumps(found[0], sort_keys=True))
sys.exit(0 if found else 1)
PY
}

# journal_count CONDITION...: how many entries after the mark match (as journal_match).
journal_count() {
    python3 - "$CAPTURE" "$JOURNAL_MARK" "$@" <<'PY'
import json, sys
path, start, conds = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
def ok(e, c):
    k, _, v = c.partition("=")
    return e.get(k) == [v]
print(sum(all(ok(json.loads(l), c) for c in conds) for l in open(path).readlines()[start:]))
PY
}

# expect_entry DESCRIPTION CONDITION...: an entry matching every CONDITION (as journal_match)
# arrives within 10 s; ENTRY is set to it (JSON).
expect_entry() {
    local what=$1
    shift
    if wait_until 10 journal_match "$@"; then
        ENTRY=$(journal_match "$@")
        ok "$what"
        return 0
    fi
    ENTRY=
    local seen
    mapfile -t seen < <(tail -n "+$((JOURNAL_MARK + 1))" "$CAPTURE" | tail -n 6)
    fail "$what" "no entry with: $*" "entries since the mark (last 6):" "${seen[@]}"
}

# entry_field KEY: a field of ENTRY.
entry_field() { json_field "$ENTRY" "d.get('$1', [''])[0]"; }

test_start() {
    mark
    guest_start jarrett
    expect_entry "VM started: an entry with the start's fields and jarrett's uid" \
        "MESSAGE_ID=$VM_STARTED" "WINVM_VM=$GUEST" WINVM_OPERATION=start "WINVM_CALLER_UID=$JARRETT_UID" \
        PRIORITY=6 WINVM_STATE_REASON=booted SYSLOG_IDENTIFIER=winvmd '!WINVM_JOB' "MESSAGE~^VM $GUEST started"
    assert_eq 1 "$(journal_count "MESSAGE_ID=$VM_STARTED")" "one 'started' entry for one start"
}

test_force_stop() {
    mark
    ctl jarrett force-stop
    assert_ctl 0 "winvmctl force-stop exits 0"
    expect_state shutoff "State 'shutoff' signalled after force-stop"
    expect_entry "VM stopped: forced, by force-stop, with jarrett's uid" \
        "MESSAGE_ID=$VM_STOPPED" "WINVM_VM=$GUEST" WINVM_OPERATION=force-stop WINVM_STOP=forced \
        WINVM_STATE_REASON=destroyed "WINVM_CALLER_UID=$JARRETT_UID" PRIORITY=6
    assert_eq 1 "$(journal_count "MESSAGE_ID=$VM_STOPPED")" "one 'stopped' entry for one force-stop"
}

test_failed_call() {
    mark
    ctl jarrett force-stop
    assert_ctl 5 "winvmctl force-stop when off exits 5"
    expect_entry "a refused call (NotRunning) is an operation-failed entry with priority notice" \
        "MESSAGE_ID=$OPERATION_FAILED" "WINVM_VM=$GUEST" WINVM_OPERATION=force-stop \
        WINVM_ERROR=org.winvm1.Error.NotRunning "WINVM_CALLER_UID=$JARRETT_UID" PRIORITY=5 \
        "MESSAGE~is not running"
}

# A change polkit refuses is journalled (notice, with the action and the caller); a refused
# read is not.
test_refusal() {
    mark
    ctl mallory start
    assert_ctl 3 "winvmctl start as mallory is refused (exit 3)"
    expect_entry "a refused change is journalled with the action, the VM and the caller" \
        "WINVM_POLKIT_ACTION=org.winvm1.vm.start" "WINVM_VM=$GUEST" "WINVM_CALLER_UID=$(id -u mallory)" \
        PRIORITY=5 "MESSAGE~Refused org.winvm1.vm.start"
    ctl mallory status
    sleep 1
    if journal_match "WINVM_CALLER_UID=$(id -u mallory)" "MESSAGE~Refused org[.]winvm1[.][a-z]+[.]read" >/dev/null; then
        fail "a refused read is not journalled" "$(journal_match "WINVM_CALLER_UID=$(id -u mallory)" "MESSAGE~Refused")"
    else
        ok "a refused read is not journalled"
    fi
}

# A journal that stops reading (a hung journald) must not stall winvmd: its log thread waits
# for the socket, the event loop does not. The listener is stopped; the socket's queue (10
# datagrams in a fresh network namespace) fills after a few entries, and every call after
# that must still be answered at once. The entries arrive once the listener reads again.
test_stalled_journal() {
    local i answered=0 n out
    mark
    kill -STOP "$CAPTURE_PID"
    for ((i = 0; i < 40; i++)); do
        out=$(run_as jarrett timeout 5 gdbus call --system --timeout 3 --dest org.winvm1 --object-path "$VM_PATH" \
            --method org.winvm1.VM.ForceStop 2>&1)
        [[ $out == *org.winvm1.Error.NotRunning* ]] && answered=$((answered + 1))
    done
    kill -CONT "$CAPTURE_PID"
    assert_eq 40 "$answered" "40 calls answered (NotRunning) while the journal did not read"
    count_force_stop_failures() {
        n=$(journal_count "MESSAGE_ID=$OPERATION_FAILED" WINVM_OPERATION=force-stop)
        ((n >= 40))
    }
    if wait_until 10 count_force_stop_failures; then
        ok "all 40 entries reach the journal once it reads again"
    else
        fail "all 40 entries reach the journal once it reads again" "got $n"
    fi
}

test_shutdown_job() {
    guest_start jarrett
    mark
    ctl jarrett shutdown --timeout 1 --force
    assert_ctl 0 "winvmctl shutdown --timeout 1 --force exits 0"
    expect_state shutoff "State 'shutoff' signalled after the forced shutdown"
    expect_entry "the shutdown request is logged with its job" \
        '!MESSAGE_ID' "WINVM_VM=$GUEST" WINVM_OPERATION=shutdown 'WINVM_JOB~^/org/winvm1/job/[0-9]+$' \
        "WINVM_CALLER_UID=$JARRETT_UID" PRIORITY=6
    local job
    job=$(entry_field WINVM_JOB)
    expect_entry "VM stopped: forced after the shutdown timed out, with the same job" \
        "MESSAGE_ID=$VM_STOPPED" "WINVM_VM=$GUEST" WINVM_OPERATION=shutdown WINVM_STOP=forced \
        "WINVM_JOB=$job" "WINVM_CALLER_UID=$JARRETT_UID"
}

# A stop that no winvm call asked for carries no operation and no caller.
test_external_stop() {
    guest_start jarrett
    mark
    virsh -q -c "$SB_URI" destroy "$GUEST" >/dev/null
    expect_state shutoff "State 'shutoff' signalled after virsh destroy"
    expect_entry "VM stopped by virsh: forced, without WINVM_OPERATION or WINVM_CALLER_UID" \
        "MESSAGE_ID=$VM_STOPPED" "WINVM_VM=$GUEST" WINVM_STOP=forced '!WINVM_OPERATION' '!WINVM_CALLER_UID' \
        '!WINVM_JOB'
}

test_snapshots() {
    mark
    snap_create jarrett jt1 "journal test"
    assert_call_ok "jarrett creates snapshot jt1"
    expect_entry "snapshot created: name, operation and jarrett's uid" \
        "MESSAGE_ID=$SNAPSHOT_CREATED" "WINVM_VM=$GUEST" WINVM_OPERATION=snapshot-create WINVM_SNAPSHOT=jt1 \
        "WINVM_CALLER_UID=$JARRETT_UID" PRIORITY=6

    mark
    snap_create jarrett jt1
    assert_call_error org.winvm1.Error.Exists "a second jt1 is refused with Exists"
    expect_entry "the refused create is an operation-failed entry" \
        "MESSAGE_ID=$OPERATION_FAILED" "WINVM_VM=$GUEST" WINVM_OPERATION=snapshot-create \
        WINVM_ERROR=org.winvm1.Error.Exists "WINVM_CALLER_UID=$JARRETT_UID" PRIORITY=5

    mark
    snap_revert jarrett jt1 0
    assert_call_ok "jarrett reverts to jt1"
    local kept=$SNAP_RESULT
    expect_entry "snapshot reverted: name, operation, jarrett's uid" \
        "MESSAGE_ID=$SNAPSHOT_REVERTED" "WINVM_VM=$GUEST" WINVM_OPERATION=snapshot-revert WINVM_SNAPSHOT=jt1 \
        "WINVM_CALLER_UID=$JARRETT_UID" PRIORITY=6
    if [[ -n $kept ]]; then
        assert_eq "$kept" "$(entry_field WINVM_SNAPSHOT_KEPT)" "WINVM_SNAPSHOT_KEPT names the kept state"
    fi

    mark
    snap_delete jarrett jt1
    assert_call_ok "jarrett deletes jt1"
    expect_entry "snapshot deleted: name, operation, jarrett's uid" \
        "MESSAGE_ID=$SNAPSHOT_DELETED" "WINVM_VM=$GUEST" WINVM_OPERATION=snapshot-delete WINVM_SNAPSHOT=jt1 \
        "WINVM_CALLER_UID=$JARRETT_UID" PRIORITY=6
}

# A scrub of a small loop-mounted btrfs (as test-scrub.sh, without the throttling).
test_scrub() {
    local img=$WINVM_SANDBOX/journal-btrfs.img store=$WINVM_SANDBOX/journal-store out rc
    truncate -s 256M "$img"
    if ! mkfs.btrfs -q "$img" >/dev/null 2>&1; then
        fail "mkfs.btrfs makes the filesystem to scrub"
        return
    fi
    mkdir -p "$store"
    mount -o loop "$img" "$store" || { fail "mount the btrfs to scrub"; return; }
    head -c 8M /dev/urandom >"$store/data"
    sync
    printf '\n[Storage]\nFilesystems=images:%s\n' "$store" >>"$WINVM_CONF"
    # shellcheck disable=SC2119  # no arguments for winvmd
    restart_winvmd

    mark
    out=$(as_user jarrett winvmctl scrub start images --wait 2>&1)
    rc=$?
    if ((rc == 0)); then ok "jarrett's scrub succeeds"; else fail "jarrett's scrub succeeds" "exit $rc: $out"; fi
    expect_entry "scrub finished: outcome, counters, job and jarrett's uid" \
        "MESSAGE_ID=$SCRUB_FINISHED" WINVM_OPERATION=scrub 'WINVM_JOB~^/org/winvm1/job/[0-9]+$' \
        WINVM_FILESYSTEM=images "WINVM_MOUNT_POINT=$store" WINVM_SCRUB_OUTCOME=finished WINVM_SCRUB_ERRORS=0 \
        WINVM_SCRUB_CORRECTED=0 WINVM_SCRUB_UNCORRECTABLE=0 'WINVM_SCRUB_BYTES~^[1-9][0-9]*$' \
        WINVM_SCRUB_READONLY=no "WINVM_CALLER_UID=$JARRETT_UID" PRIORITY=6 '!WINVM_VM'

    # jarrett's scrub, slowed down, cancelled by root: the entry names both.
    local uuid job
    uuid=$(findmnt -no UUID "$store")
    if ! echo $((1024 * 1024)) >"/sys/fs/btrfs/$uuid/devinfo/1/scrub_speed_max" 2>/dev/null; then
        ok "# SKIP cancel by another user: this kernel cannot throttle a scrub"
        return
    fi
    mark
    out=$(as_user jarrett busctl --system call org.winvm1 /org/winvm1/storage org.winvm1.Storage StartScrub st images 0 2>&1)
    job=$(sed -n 's/^o "\(.*\)"$/\1/p' <<<"$out")
    if as_user mallory busctl --system call org.winvm1 "$job" org.winvm1.Job Cancel >/dev/null 2>&1; then
        fail "mallory may not cancel jarrett's scrub"
    else
        expect_entry "mallory's refused Cancel is journalled" \
            WINVM_POLKIT_ACTION=org.winvm1.job.cancel "WINVM_CALLER_UID=$(id -u mallory)" PRIORITY=5
    fi
    if [[ -n $job ]] && busctl --system call org.winvm1 "$job" org.winvm1.Job Cancel >/dev/null 2>&1; then
        ok "root cancels jarrett's running scrub"
    else
        fail "root cancels jarrett's running scrub" "$out"
    fi
    expect_entry "a scrub cancelled by someone else: the starter as the caller, the canceller beside" \
        "MESSAGE_ID=$SCRUB_FINISHED" WINVM_SCRUB_OUTCOME=cancelled "WINVM_JOB=$job" \
        "WINVM_CALLER_UID=$JARRETT_UID" WINVM_CANCELLED_BY_UID=0 "MESSAGE~cancelled by uid 0"
    echo 0 >"/sys/fs/btrfs/$uuid/devinfo/1/scrub_speed_max"
}

# Changes of the VM's definition: define from the file, undo, and a refused define.
test_definition() {
    local file=$WINVM_SANDBOX/defs/$GUEST.xml
    mkdir -p "${file%/*}"
    printf '\n[Definitions]\n%s=%s\n' "$GUEST" "$file" >>"$WINVM_CONF"
    # shellcheck disable=SC2119  # no arguments for winvmd
    restart_winvmd
    ctl jarrett export
    assert_ctl 0 "jarrett exports the definition"
    mark
    ctl jarrett define
    assert_ctl 0 "jarrett defines the VM from its file"
    expect_entry "definition changed: define, with jarrett's uid" \
        "MESSAGE_ID=$DEFINITION_CHANGED" "WINVM_VM=$GUEST" WINVM_OPERATION=define "WINVM_CALLER_UID=$JARRETT_UID" \
        PRIORITY=6
    mark
    ctl jarrett undo
    assert_ctl 0 "jarrett undoes it"
    expect_entry "definition changed: undo" \
        "MESSAGE_ID=$DEFINITION_CHANGED" "WINVM_VM=$GUEST" WINVM_OPERATION=undo "WINVM_CALLER_UID=$JARRETT_UID"
    # A change outside the allowlist: refused to jarrett, journalled like any refused change.
    mark
    sed -i 's|</devices>|<serial type="file"><source path="/etc/shadow"/><target port="1"/></serial></devices>|' "$file"
    ctl jarrett define
    assert_ctl 3 "a change outside the allowlist is refused to jarrett (AccessDenied)"
    expect_entry "the refusal is journalled with the action an administrator would grant" \
        "WINVM_POLKIT_ACTION=org.winvm1.vm.define-unrestricted" "WINVM_VM=$GUEST" "WINVM_CALLER_UID=$JARRETT_UID" \
        PRIORITY=5
    mark
    printf '<domain>' >"$file"
    ctl jarrett define
    assert_ctl 2 "a broken file is refused (InvalidArgument)"
    expect_entry "the refused define is an operation-failed entry" \
        "MESSAGE_ID=$OPERATION_FAILED" "WINVM_VM=$GUEST" WINVM_OPERATION=define \
        WINVM_ERROR=org.winvm1.Error.InvalidArgument "WINVM_CALLER_UID=$JARRETT_UID"
}

# Without JOURNAL_STREAM, stderr (winvmd.log here) has the readable line as well.
test_stderr_lines() {
    local log
    log=$(<"$WINVM_SANDBOX/winvmd.log")
    assert_contains "$log" "VM $GUEST started (start by uid $JARRETT_UID)" \
        "winvmd.log has the readable line of the start"
    assert_contains "$log" "VM $GUEST: force-stop failed (caller uid $JARRETT_UID): VM $GUEST is not running" \
        "winvmd.log has the readable line of the failed call"
}

# When JOURNAL_STREAM names winvmd's stderr, the entry goes to the journal only.
test_journal_stream() {
    local err=$WINVM_SANDBOX/stream.err pid stream
    # shellcheck disable=SC2119  # the default signal
    stop_winvmd
    : >"$err"
    stream=$(stat -c '%d:%i' "$err")
    JOURNAL_STREAM=$stream "$WINVM_BUILD/service/winvmd" --config "$WINVM_CONF" </dev/null >>"$err" 2>&1 &
    pid=$!
    wait_until 10 sb_name_has_owner org.winvm1
    mark
    ctl jarrett force-stop
    assert_ctl 5 "winvmctl force-stop when off exits 5 (winvmd with JOURNAL_STREAM)"
    expect_entry "with stderr as the journal, the entry still reaches the journal" \
        "MESSAGE_ID=$OPERATION_FAILED" WINVM_OPERATION=force-stop "WINVM_CALLER_UID=$JARRETT_UID"
    if grep -q "force-stop failed" "$err"; then
        fail "with stderr as the journal, no duplicate line on stderr" "$(cat "$err")"
    else
        ok "with stderr as the journal, no duplicate line on stderr"
    fi
    sb_stop_pid "$pid" winvmd
}

# Every entry is complete; every MESSAGE_ID is in the catalog, which journalctl accepts.
test_entries_and_catalog() {
    local problems
    problems=$(python3 - "$CAPTURE" "$IDS_HEADER" "$CATALOG" <<'PY'
import json, re, sys
capture, header, catalog = sys.argv[1:4]
ids = set(re.findall(r'^#define WINVM_MESSAGE_\w+\s+"([0-9a-f]{32})"', open(header).read(), re.M))
cat = set(re.findall(r"^-- ([0-9a-f]{32})$", open(catalog).read(), re.M))
if ids != cat:
    print("message-ids.h and winvm.catalog differ: only in the header %s, only in the catalog %s"
          % (sorted(ids - cat), sorted(cat - ids)))
n = 0
for line in open(capture):
    e = json.loads(line)
    n += 1
    if "_PARSE_ERROR" in e:
        print("entry %d does not parse: %s" % (n, e["_PARSE_ERROR"][0]))
        continue
    for k in ("MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER", "CODE_FILE", "CODE_LINE", "CODE_FUNC"):
        if len(e.get(k, [])) != 1:
            print("entry %d has %d %s fields: %s" % (n, len(e.get(k, [])), k, line.strip()))
    if e.get("PRIORITY", ["x"])[0] not in list("01234567"):
        print("entry %d: PRIORITY %s" % (n, e.get("PRIORITY")))
    for mid in e.get("MESSAGE_ID", []):
        if mid not in cat:
            print("entry %d: MESSAGE_ID %s is not in the catalog" % (n, mid))
if n < 10:
    print("only %d entries captured" % n)
PY
)
    if [[ -z $problems ]]; then
        ok "every captured entry has MESSAGE, PRIORITY, SYSLOG_IDENTIFIER and CODE_*; its MESSAGE_ID is in the catalog"
    else
        local lines
        mapfile -t lines <<<"$problems"
        fail "captured entries and the catalog are consistent" "${lines[@]}"
    fi

    local root=$WINVM_SANDBOX/catalog-root listed id ids missing=()
    mkdir -p "$root/usr/lib/systemd/catalog"
    cp "$CATALOG" "$root/usr/lib/systemd/catalog/"
    if journalctl --root="$root" --update-catalog 2>"$WINVM_SANDBOX/catalog.err" &&
        listed=$(journalctl --root="$root" --list-catalog 2>&1); then
        mapfile -t ids < <(sed -n 's/^#define WINVM_MESSAGE_\w* *"\([0-9a-f]*\)".*/\1/p' "$IDS_HEADER")
        for id in "${ids[@]}"; do
            [[ $listed == *"$id winvm: "* ]] || missing+=("$id")
        done
        if ((${#missing[@]} == 0)); then
            ok "journalctl --update-catalog accepts winvm.catalog with every id"
        else
            fail "journalctl lists every id of winvm.catalog" "missing: ${missing[*]}" "$listed"
        fi
    else
        fail "journalctl --update-catalog accepts winvm.catalog" "$(cat "$WINVM_SANDBOX/catalog.err")"
    fi
}

start_capture || { fail "journal socket set up"; summary; exit 1; }
monitor_start || exit 1
test_start
test_force_stop
test_failed_call
test_refusal
test_stalled_journal
test_shutdown_job
test_external_stop
test_snapshots
test_stderr_lines
test_scrub
test_definition
test_journal_stream
test_entries_and_catalog
monitor_stop
stop_capture
summary
