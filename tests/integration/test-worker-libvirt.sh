#!/usr/bin/env bash
# One libvirt connection per worker, never one per call, seen from libvirtd's side (virt-admin
# lists its clients):
#   - the configuration calls (definition worker) use one connection, kept between calls: more
#     calls add no client;
#   - Manager.Doctor (host worker) opens one of its own on its first call and keeps it;
#   - after libvirtd restarts, the next call opens the worker's connection anew and succeeds.
set -uo pipefail
# shellcheck source=tests/sandbox/sandbox-lib.sh
. "$WINVM_SRC/tests/sandbox/sandbox-lib.sh"
# shellcheck source=tests/integration/lib.sh
. "$WINVM_SRC/tests/integration/lib.sh"

# client_ids: the ids of libvirtd's clients, one a line, sorted.
client_ids() { virt-admin -c libvirtd:///system client-list libvirtd | awk '$1 ~ /^[0-9]+$/ { print $1 }' | sort; }
new_clients() { comm -13 <(printf '%s\n' "$1") <(printf '%s\n' "$2") | grep -c .; }

shares() { call root "$VM_PATH" org.winvm1.Shares.GetShares; }
doctor() { call root "$MANAGER_PATH" org.winvm1.Manager.Doctor "$GUEST"; }

if ! client_ids >/dev/null 2>&1 || [[ -z $(client_ids) ]]; then
    ok "# SKIP virt-admin cannot list libvirtd's clients here"
    summary
    exit 0
fi

test_shares_kept() {
    local after1 after2
    shares
    assert_call_ok "Shares.GetShares: the first call"
    after1=$(client_ids)
    # The libvirt worker's connection and the definition worker's (which the snapshot list read
    # at start-up may already have opened) stay; a per-call connection would be gone by now.
    if (($(grep -c . <<<"$after1") >= 2)); then
        ok "after GetShares, libvirtd still has the definition worker's client beside the libvirt worker's"
    else
        fail "after GetShares, libvirtd still has the definition worker's client beside the libvirt worker's" "$after1"
    fi
    for _ in 1 2 3 4 5; do shares; done
    assert_call_ok "Shares.GetShares: five more calls"
    after2=$(client_ids)
    assert_eq "$after1" "$after2" "five more GetShares open no connection"
}

test_doctor_kept() {
    local before after1 after2
    before=$(client_ids)
    doctor
    assert_call_ok "Manager.Doctor: the first call"
    after1=$(client_ids)
    assert_eq 1 "$(new_clients "$before" "$after1")" "Manager.Doctor: the host worker's connection is opened and kept"
    for _ in 1 2 3 4 5; do doctor; done
    assert_call_ok "Manager.Doctor: five more calls"
    after2=$(client_ids)
    assert_eq "$after1" "$after2" "five more Doctor calls open no connection"
}

test_shares_kept
test_doctor_kept

monitor_start || exit 1
kill_libvirtd
wait_connected false 30 || fail "(LibvirtConnected false signalled)"
start_libvirtd
wait_connected true 60 || fail "(LibvirtConnected true signalled)"
monitor_stop
shares
assert_call_ok "after libvirtd restarted, the definition worker opens its connection anew"
assert_eq "" "$CALL_ERROR" "GetShares answers without an error"
summary
