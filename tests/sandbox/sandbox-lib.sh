# shellcheck shell=bash
# Helpers for scripts that run inside tests/sandbox/winvm-sandbox.
#
#   . "$WINVM_SRC/tests/sandbox/sandbox-lib.sh"
#
# The sandbox sources this file too, so daemon (re)starts work the same way in both.
# Needs the environment the sandbox exports (WINVM_SANDBOX, WINVM_BUILD, WINVM_CONF).
# Works with or without `set -euo pipefail` in the caller. Assertions return 1 when
# they fail, so under `set -e` the first failure ends the script (non-zero status).

# --- internals (sb_ prefix) ---------------------------------------------------------

SB_BUS_NAME=org.winvm1
SB_URI=qemu:///system

sb_verbose() {
    if [[ ${WINVM_SANDBOX_VERBOSE:-0} == 1 ]]; then printf 'sandbox: %s\n' "$*" >&2; fi
    return 0
}

sb_error() { printf 'sandbox: error: %s\n' "$*" >&2; }

# Milliseconds since the epoch, into the variable named $1 (no fork: called in loops).
sb_now_ms() {
    local t=${EPOCHREALTIME/[.,]/}
    printf -v "$1" '%s' $((t / 1000))
}

# True if PID exists and is not a zombie (a killed daemon may linger as one until reaped).
sb_pid_alive() {
    local stat
    [[ -n ${1:-} ]] || return 1
    { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
    stat=${stat##*) }
    [[ ${stat%% *} != Z ]]
}

sb_show_log() {
    local log=$1
    if [[ -s $log ]]; then
        printf 'sandbox: ---- last lines of %s ----\n' "$log" >&2
        tail -n 40 "$log" >&2
        printf 'sandbox: ----\n' >&2
    else
        printf 'sandbox: (%s is empty)\n' "$log" >&2
    fi
}

# sb_wait_until SECONDS WHAT LOG PID CMD...
# Polls CMD until it succeeds. Fails early if PID (may be empty) dies, and after SECONDS;
# either way names WHAT and shows LOG. Polling instead of fixed sleeps keeps bring-up fast.
sb_wait_until() {
    local secs=$1 what=$2 log=$3 pid=$4 now deadline
    shift 4
    sb_now_ms now
    deadline=$((now + secs * 1000))
    until "$@" >/dev/null 2>&1; do
        if [[ -n $pid ]] && ! sb_pid_alive "$pid"; then
            sb_error "$what exited during start-up"
            sb_show_log "$log"
            return 1
        fi
        sb_now_ms now
        if ((now > deadline)); then
            sb_error "$what not ready after ${secs}s"
            sb_show_log "$log"
            return 1
        fi
        sleep 0.02
    done
    sb_verbose "$what ${SB_DONE_WORD:-up}"
}

# sb_stop_pid PID WHAT [SIGNAL]: signal PID (default TERM), wait for it to go, SIGKILL
# after 10 s.
sb_stop_pid() {
    local pid=$1 what=$2 sig=${3:-TERM} i
    sb_pid_alive "$pid" || return 0
    kill "-$sig" "$pid" 2>/dev/null || true
    for ((i = 0; i < 500; i++)); do
        sb_pid_alive "$pid" || return 0
        sleep 0.02
    done
    sb_error "$what (pid $pid) ignored SIG$sig for 10 s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 250; i++)); do
        sb_pid_alive "$pid" || return 0
        sleep 0.02
    done
    sb_error "$what (pid $pid) does not die"
    return 1
}

sb_name_has_owner() {
    [[ $(busctl --system call org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus NameHasOwner s "$1" 2>/dev/null) == "b true" ]]
}

sb_name_gone() { ! sb_name_has_owner "$1"; }

# --- daemons --------------------------------------------------------------------------

# start_libvirtd: start libvirtd (foreground process in the background, so we know its
# pid and catch its stderr in $WINVM_SANDBOX/logs/libvirtd.log) and wait until it serves
# qemu:///system.
start_libvirtd() {
    local log=$WINVM_SANDBOX/logs/libvirtd.log pid
    libvirtd </dev/null >>"$log" 2>&1 &
    pid=$!
    sb_wait_until 60 libvirtd "$log" "$pid" virsh -c "$SB_URI" version
}

# kill_libvirtd [SIGNAL]: stop libvirtd (default SIGTERM; KILL simulates a crash).
# Running guests survive, as on a real host; start_libvirtd reconnects to them.
kill_libvirtd() {
    local pid=
    pid=$(cat /run/libvirtd.pid 2>/dev/null) || true
    sb_pid_alive "$pid" || pid=$(pgrep -x libvirtd | head -n 1) || true
    [[ -n $pid ]] || return 0
    sb_stop_pid "$pid" libvirtd "${1:-TERM}"
}

# start_winvmd [ARGS...]: start $WINVM_BUILD/service/winvmd --config $WINVM_CONF [ARGS...]
# with output appended to $WINVM_SANDBOX/winvmd.log; wait until it owns org.winvm1.
# Sets and exports WINVMD_PID (also kept in $WINVM_SANDBOX/winvmd.pid).
# WINVMD_WRAPPER (words, e.g. "valgrind --error-exitcode=99") runs winvmd under a tool,
# and WINVMD_START_TIMEOUT (seconds, default 10) says how long to wait for it then.
start_winvmd() {
    local bin=$WINVM_BUILD/service/winvmd log=$WINVM_SANDBOX/winvmd.log
    local -a wrapper=()
    if [[ ! -x $bin ]]; then
        sb_error "no winvmd at $bin (build it first, or use --no-winvmd)"
        return 1
    fi
    read -ra wrapper <<<"${WINVMD_WRAPPER:-}"
    printf -- '---- %s: starting winvmd\n' "$(date '+%T.%N')" >>"$log"
    "${wrapper[@]}" "$bin" --config "$WINVM_CONF" "$@" </dev/null >>"$log" 2>&1 &
    WINVMD_PID=$!
    export WINVMD_PID
    echo "$WINVMD_PID" >"$WINVM_SANDBOX/winvmd.pid"
    sb_wait_until "${WINVMD_START_TIMEOUT:-10}" "winvmd ($SB_BUS_NAME)" "$log" "$WINVMD_PID" \
        sb_name_has_owner "$SB_BUS_NAME"
}

# stop_winvmd [SIGNAL]: stop winvmd (default SIGTERM) and wait until its bus name is
# released, so a following start cannot mistake the old instance for the new one.
# shellcheck disable=SC2120  # the signal argument is for callers
stop_winvmd() {
    local pid=
    pid=$(cat "$WINVM_SANDBOX/winvmd.pid" 2>/dev/null) || pid=${WINVMD_PID:-}
    if [[ -n $pid ]]; then
        sb_stop_pid "$pid" winvmd "${1:-TERM}" || return 1
    fi
    local SB_DONE_WORD=down  # for sb_wait_until's progress line
    sb_wait_until 5 "winvmd ($SB_BUS_NAME)" "$WINVM_SANDBOX/winvmd.log" "" \
        sb_name_gone "$SB_BUS_NAME"
}

# restart_winvmd [ARGS...]: stop winvmd if it runs, start it again (ARGS go to winvmd).
restart_winvmd() {
    # shellcheck disable=SC2119  # ARGS are for winvmd, not for stopping it
    stop_winvmd && start_winvmd "$@"
}

# --- running things -------------------------------------------------------------------

# Primary gids as_user() has looked up, by user: the sandbox's users do not change, and a
# lookup is a process (getent), which a caller timing the command must not pay for.
declare -gA SB_USER_GID=()

# sb_user_gid USER: USER's primary gid into SB_USER_GID (once). Called in the caller's own
# shell, so that as_user() in a $(...) later finds it.
sb_user_gid() {
    local entry gid
    [[ -n ${SB_USER_GID[$1]:-} ]] && return 0
    entry=$(getent passwd "$1") || { sb_error "as_user: no user $1"; return 1; }
    IFS=: read -r _ _ _ gid _ <<<"$entry"
    SB_USER_GID[$1]=$gid
}

# as_user USER CMD...: run CMD as USER with that user's uid, primary gid and
# supplementary groups (from the sandbox's private /etc/group) and a clean environment
# that keeps PATH, the bus address, LIBVIRT_DEFAULT_URI and the WINVM_* variables.
as_user() {
    local user=$1 v
    shift
    sb_user_gid "$user" || return 1
    local gid=${SB_USER_GID[$user]}
    local -a keep=("PATH=$PATH"
        "DBUS_SYSTEM_BUS_ADDRESS=${DBUS_SYSTEM_BUS_ADDRESS:-unix:path=/run/dbus/system_bus_socket}")
    for v in $(compgen -e); do
        case $v in WINVM* | LIBVIRT_DEFAULT_URI | LANG | LC_*) keep+=("$v=${!v}") ;; esac
    done
    setpriv --reuid="$user" --regid="$gid" --init-groups --reset-env -- env "${keep[@]}" "$@"
}

# virsh_state NAME: print the guest's state as `virsh domstate` says it ("running", ...).
virsh_state() {
    local s
    s=$(virsh -q -c "$SB_URI" domstate "$1") || return
    printf '%s\n' "$s"
}

# wait_until SECONDS CMD...: poll CMD (quietly) until it succeeds; 1 on timeout.
wait_until() {
    local secs=$1 now deadline
    shift
    sb_now_ms now
    deadline=$((now + secs * 1000))
    until "$@" >/dev/null 2>&1; do
        sb_now_ms now
        ((now <= deadline)) || return 1
        sleep 0.02
    done
}

# --- TAP-ish assertions ---------------------------------------------------------------

SB_TESTS=0
SB_PASSED=0
SB_FAILED=0

# ok DESCRIPTION: record a pass.
ok() {
    SB_TESTS=$((SB_TESTS + 1)) SB_PASSED=$((SB_PASSED + 1))
    printf 'ok %d - %s\n' "$SB_TESTS" "$*"
}

# fail DESCRIPTION [DETAIL...]: record a failure; each DETAIL becomes a "#" line. Returns 1.
fail() {
    local d
    SB_TESTS=$((SB_TESTS + 1)) SB_FAILED=$((SB_FAILED + 1))
    printf 'not ok %d - %s\n' "$SB_TESTS" "${1:-}"
    shift || true
    for d in "$@"; do printf '#   %s\n' "$d"; done
    return 1
}

# assert_eq EXPECTED ACTUAL DESCRIPTION
assert_eq() {
    if [[ $2 == "$1" ]]; then
        ok "$3"
    else
        fail "$3" "expected: '$1'" "actual:   '$2'"
    fi
}

# assert_contains HAYSTACK NEEDLE DESCRIPTION
assert_contains() {
    if [[ $1 == *"$2"* ]]; then
        ok "$3"
    else
        fail "$3" "expected to contain: '$2'" "actual: '$1'"
    fi
}

# assert_not_contains HAYSTACK NEEDLE DESCRIPTION
assert_not_contains() {
    if [[ $1 != *"$2"* ]]; then
        ok "$3"
    else
        fail "$3" "expected not to contain: '$2'" "actual: '$1'"
    fi
}

# summary: print "N passed, N failed"; non-zero when anything failed.
summary() {
    printf '%d passed, %d failed\n' "$SB_PASSED" "$SB_FAILED"
    ((SB_FAILED == 0))
}
