#!/usr/bin/env bash
# The USB hotplug path without udev: 90-winvm-usb.rules starts winvm-usb-attach@ID for every
# USB device, so the unit's call (Usb.Attach with flags 2|4: only with the guest running, only
# for a configured id) must do nothing, at once and without polkit, for an id not in [Usb]
# Devices, and must follow winvm.conf: a device added there is attached, with no rules file
# edited. (tests/system/scenario/parts/70-usb.sh plugs real gadgets through real udev.)
set -uo pipefail
. "$WINVM_SRC/tests/sandbox/sandbox-lib.sh"
. "$WINVM_SRC/tests/integration/lib.sh"

RULES=$WINVM_SRC/systemd/90-winvm-usb.rules
UNIT_CMD=(--no-ask-password --if-running --if-configured --live usb attach)

test_rule_names_no_ids() {
    local rule
    rule=$(grep -v '^#' "$RULES" | grep -v '^$')
    assert_eq 1 "$(wc -l <<<"$rule")" "the rules file has one rule"
    assert_not_contains "$rule" '256c' "it names no configured id"
    assert_contains "$rule" 'winvm-usb-attach@$attr{idVendor}:$attr{idProduct}.service' \
        "it starts the unit for the plugged-in device's own ids"
    assert_contains "$(grep ExecStart "$WINVM_BUILD/systemd/winvm-usb-attach@.service")" "--if-configured" \
        "the unit passes --if-configured"
}

test_unconfigured_id() {
    # What the unit runs, as root, for a device winvm.conf does not name (a keyboard, say).
    ctl root "${UNIT_CMD[@]}" 046d:c31c
    assert_ctl 0 "the unit's command exits 0 for an unconfigured id"
    assert_contains "$CTL_OUT" "not in [Usb] Devices" "saying the id is not configured"
    # The same answer for anyone, before polkit: it tells no more than ConfiguredDevices.
    call mallory "$VM_PATH" org.winvm1.Usb.Attach 046d:c31c 6
    assert_call_ok "Attach(unconfigured, 2|4) as mallory: nothing to do, no polkit"
    assert_contains "$CALL_OUT" "nothing to do" "the reply says nothing was done"
    # Without flag 4 the refusal stays.
    call jarrett "$VM_PATH" org.winvm1.Usb.Attach 046d:c31c 2
    assert_call_error org.winvm1.Error.NotConfigured "Attach(unconfigured, 2) is still NotConfigured"
    call jarrett "$VM_PATH" org.winvm1.Usb.Attach 046d:c31c 8
    assert_call_error org.winvm1.Error.InvalidArgument "an unknown flag (8) is InvalidArgument"
    # A configured id still needs polkit.
    call mallory "$VM_PATH" org.winvm1.Usb.Attach 256c:006d 6
    assert_call_error org.freedesktop.DBus.Error.AccessDenied "Attach(configured, 2|4) as mallory is refused"
    assert_eq "" "$(virsh -q dumpxml "$GUEST" | grep -o "vendor id='0x046d'")" "the definition did not change"
}

test_added_id_takes_effect() {
    # Guest off: a configured id is accepted and nothing is attached (--if-running).
    ctl root "${UNIT_CMD[@]}" 256c:006d
    assert_ctl 0 "the unit's command for a configured id with the guest off exits 0"
    assert_contains "$CTL_OUT" "not running" "saying the guest is not running"

    # Add a new id to [Usb] Devices: winvmd (restarted, as NixOS's restartTriggers and a
    # package's config change do) takes it; no rules file is touched.
    local rules_sum
    rules_sum=$(sha256sum <"$RULES")
    printf '\n[Usb]\nDevices=256c:006d 256f:c635 046d:c31c\n' >>"$WINVM_CONF"
    restart_winvmd
    ctl root "${UNIT_CMD[@]}" 046d:c31c
    assert_ctl 0 "after adding 046d:c31c to [Usb] Devices, the unit's command exits 0"
    assert_contains "$CTL_OUT" "not running" "and now treats it as configured (the guest is off)"
    assert_not_contains "$CTL_OUT" "not in [Usb] Devices" "no longer 'not configured'"
    call mallory "$VM_PATH" org.winvm1.Usb.Attach 046d:c31c 6
    assert_call_error org.freedesktop.DBus.Error.AccessDenied "the added id now goes through polkit"
    assert_eq "$rules_sum" "$(sha256sum <"$RULES")" "the rules file is unchanged"
}

test_rule_names_no_ids
test_unconfigured_id
test_added_id_takes_effect
summary
