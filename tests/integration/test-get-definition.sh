#!/usr/bin/env bash
# VM.GetDefinition: the definition the guest runs with, as libvirt gives it without secrets.
#   - jarrett (org.winvm1.vm.define) reads the guest's definition: its name and uuid are
#     libvirt's, its VNC <graphics> is there but without the password libvirt holds;
#   - while the guest runs the answer is the live definition (libvirt's domain id in it);
#   - mallory is refused, naming org.winvm1.vm.define;
#   - with libvirtd gone the call says Disconnected, and works again once it is back.
set -uo pipefail
# shellcheck source=tests/sandbox/sandbox-lib.sh
. "$WINVM_SRC/tests/sandbox/sandbox-lib.sh"
# shellcheck source=tests/integration/lib.sh
. "$WINVM_SRC/tests/integration/lib.sh"

SECRET=s3cr3tpw

# get_definition USER: the XML GetDefinition returns to USER (busctl's JSON, decoded).
get_definition() {
    run_as "$1" busctl --system --json=short call org.winvm1 "$VM_PATH" org.winvm1.VM GetDefinition |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["data"][0])'
}

secure() { virsh -c "$SB_URI" dumpxml --inactive --security-info "$GUEST"; }

test_password_left_out() {
    local f=$WINVM_SANDBOX/with-vnc.xml xml
    secure | sed "s|</devices>|  <graphics type='vnc' port='-1' autoport='yes' passwd='$SECRET'/>\n  </devices>|" >"$f"
    if virsh -q -c "$SB_URI" define "$f" >/dev/null 2>&1 && [[ $(secure) == *"passwd='$SECRET'"* ]]; then
        ok "(the guest has a VNC password)"
    else
        fail "(the guest has a VNC password)" "$(secure | grep graphics)"
        return
    fi
    xml=$(get_definition jarrett)
    assert_eq 0 "$?" "jarrett may call GetDefinition"
    assert_contains "$xml" "<name>$GUEST</name>" "the definition names the guest"
    assert_contains "$xml" "<uuid>$(virsh -q -c "$SB_URI" domuuid "$GUEST")</uuid>" "with libvirt's uuid"
    assert_contains "$xml" "<graphics type='vnc'" "the VNC graphics are in it"
    assert_not_contains "$xml" "$SECRET" "but not their password"
    if python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parseString(sys.stdin.read())' <<<"$xml"; then
        ok "the answer is well-formed XML"
    else
        fail "the answer is well-formed XML" "$xml"
    fi
}

test_live_definition() {
    local xml id
    guest_start jarrett
    id=$(virsh -q -c "$SB_URI" domid "$GUEST")
    xml=$(get_definition jarrett)
    assert_eq "$id" "$(python3 -c 'import sys, xml.dom.minidom as d; print(d.parseString(sys.stdin.read()).documentElement.getAttribute("id"))' <<<"$xml")" \
        "while the guest runs, the live definition (libvirt's domain id $id on <domain>)"
    assert_not_contains "$xml" "$SECRET" "the live definition has no password either"
    guest_off
}

test_refused() {
    call mallory "$VM_PATH" org.winvm1.VM.GetDefinition
    assert_call_error org.freedesktop.DBus.Error.AccessDenied "mallory is refused GetDefinition"
    assert_contains "$CALL_MSG" "org.winvm1.vm.define" "the refusal names org.winvm1.vm.define"
}

test_disconnected() {
    kill_libvirtd
    wait_connected false 30 || fail "(LibvirtConnected false signalled)"
    call jarrett "$VM_PATH" org.winvm1.VM.GetDefinition
    assert_call_error org.winvm1.Error.Disconnected "GetDefinition without libvirtd says Disconnected"
    start_libvirtd
    wait_connected true 60 || fail "(LibvirtConnected true signalled)"
    call jarrett "$VM_PATH" org.winvm1.VM.GetDefinition
    assert_call_ok "GetDefinition works again once libvirtd is back"
}

monitor_start || exit 1
test_password_left_out
test_live_definition
test_refused
test_disconnected
monitor_stop
summary
