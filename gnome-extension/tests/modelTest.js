// winvmModel.js against the real winvmd (run in the sandbox by
// tests/integration/test-gnome-extension.sh):
//
//   gjs -m modelTest.js lifecycle VM   as a member of the winvm group: list, start, stop,
//                                      snapshot, named errors, all followed through signals
//   gjs -m modelTest.js refused VM     as a user outside it: Start is refused
//   gjs -m modelTest.js restart VM     prints "# ready", then expects the caller to stop
//                                      winvmd and start it again: the VM stays listed
//
// Prints "# bus-name :1.N" first, so the caller can count what this connection sent.

import Gio from 'gi://Gio';

import {WinvmCallError, WinvmModel} from '../winvmModel.js';
import {check, checkEq, run, settle, until} from './testLib.js';

const [mode, vmName] = ARGV;
const model = new WinvmModel();

/** @type {{event: string, name: string, state: string}[]} every event, in order */
const events = [];
for (const event of /** @type {const} */ (['vm-added', 'vm-changed', 'vm-removed'])) {
    model.connect(event, (/** @type {import('../winvmModel.js').VmInfo} */ vm) =>
        events.push({event, name: vm.name, state: vm.state}));
}
/** @type {unknown[]} */
const errors = [];
model.connect('error', (/** @type {unknown} */ e) => errors.push(e));

/** @returns {import('../winvmModel.js').VmInfo | undefined} */
const vm = () => model.vms.find(v => v.name === vmName);

/**
 * Waits for a vm-changed event that reports `state`, from event number `from` on.
 *
 * @param {string} state
 * @param {number} from
 * @returns {Promise<boolean>}
 */
function stateEvent(state, from) {
    return until(() => events.slice(from).some(e => e.event === 'vm-changed' && e.state === state), 60);
}

run(async () => {
    print(`# bus-name ${Gio.bus_get_sync(Gio.BusType.SYSTEM, null).get_unique_name()}`);

    await settle(model.init(), 30);
    checkEq(0, errors.length, `the model connects without an error ${errors.map(String).join('; ')}`);
    check(model.connected, 'the model holds its bus proxies');
    check(vm() !== undefined, `the model lists ${vmName}`, `VMs: ${model.vms.map(v => v.name).join(', ')}`);
    checkEq('shutoff', vm()?.state, `${vmName} is shut off at first`);
    check(events.some(e => e.event === 'vm-added' && e.name === vmName), `vm-added announced ${vmName}`);

    const path = vm()?.path ?? '';

    if (mode === 'lifecycle') {
        // Start through the model; the state arrives as a PropertiesChanged signal.
        let from = events.length;
        const started = await settle(model.start(path), 60);
        check(started.done && !started.error, 'Start through the model succeeds', String(started.error));
        check(await stateEvent('running', from), 'vm-changed reports running');

        // A second Start is a named error from the service.
        const again = await settle(model.start(path), 30);
        check(again.error instanceof WinvmCallError, 'a second Start is rejected with a WinvmCallError');
        checkEq('org.winvm1.Error.AlreadyRunning', again.error?.remoteName, 'its error name is AlreadyRunning');
        check(String(again.error?.message).includes(vmName), 'its message names the VM', again.error?.message);
        check(!String(again.error?.message).startsWith('GDBus.Error'), 'the message has no GDBus.Error prefix',
            again.error?.message);

        from = events.length;
        const stopped = await settle(model.forceStop(path), 60);
        check(stopped.done && !stopped.error, 'ForceStop through the model succeeds', String(stopped.error));
        check(await stateEvent('shutoff', from), 'vm-changed reports shutoff');

        const notRunning = await settle(model.shutdown(path, {timeoutSeconds: 5}), 30);
        checkEq('org.winvm1.Error.NotRunning', notRunning.error?.remoteName, 'Shutdown when off: NotRunning');

        // A snapshot: its name comes back, and the Snapshots property follows.
        const snap = await settle(model.createSnapshot(path, 'from-gjs', 'taken by the model test'), 120);
        checkEq('from-gjs', snap.value, 'CreateSnapshot returns the name');
        check(await until(() => vm()?.snapshots.includes('from-gjs') ?? false, 30),
            'the Snapshots property change reaches the model', `snapshots: ${vm()?.snapshots}`);
    } else if (mode === 'refused') {
        const refused = await settle(model.start(path), 60);
        check(refused.error instanceof WinvmCallError, 'Start is rejected with a WinvmCallError', String(refused.error));
        checkEq('org.freedesktop.DBus.Error.AccessDenied', refused.error?.remoteName, 'the error name is AccessDenied');
        check(String(refused.error?.message).includes('org.winvm1.vm.start'),
            'the message names the polkit action', refused.error?.message);
        check(!String(refused.error?.message).startsWith('GDBus.Error'), 'the message has no GDBus.Error prefix',
            refused.error?.message);
        checkEq('shutoff', vm()?.state, `${vmName} is still shut off`);
    } else if (mode === 'restart') {
        const from = events.length;
        print('# ready');
        check(await until(() => vm()?.stale === true, 30), 'winvmd gone: the VM is marked stale',
            `stale: ${vm()?.stale}`);
        checkEq('shutoff', vm()?.state, 'it keeps its last state (an idle exit with the guest off)');
        check(await until(() => vm()?.stale === undefined && vm()?.state === 'shutoff', 60),
            'winvmd back: the VM reads shutoff and is current again', `state: ${vm()?.state}, stale: ${vm()?.stale}`);
        check(!events.slice(from).some(e => e.event !== 'vm-changed'),
            'the VM was kept, not removed and added again', JSON.stringify(events.slice(from)));
        checkEq(path, vm()?.path, 'under the same object path');
    } else {
        check(false, `unknown mode ${mode}`);
    }

    model.destroy();
    check(!model.connected && model.vms.length === 0, 'destroy drops the proxies and the VMs');
});
