// enable() and disable() of extension.js under plain gjs, with the GNOME Shell modules it
// imports replaced by stubs at their resource:/// paths (tests/stubs, compiled here into a
// GResource). Everything below the import boundary is real: the model, Gio, the bus.
//
//   gjs -m enableTest.js                 no bus: enable reports the error, nothing crashes
//   gjs -m enableTest.js VM              in the sandbox, in the winvm group: VM's toggle
//                                        follows start and a confirmed force stop
//   gjs -m enableTest.js VM refused      in the sandbox, outside the group: a refused
//                                        start becomes an error notification

import Gio from 'gi://Gio';
import GLib from 'gi://GLib';

import {check, checkEq, run, until} from './testLib.js';

const [vmName = '', mode = 'allowed'] = ARGV;
const testsDir = GLib.path_get_dirname(/** @type {string} */ (GLib.filename_from_uri(import.meta.url)[0]));
const extDir = GLib.path_get_dirname(testsDir);

/**
 * @param {string[]} argv
 */
function spawn(argv) {
    const proc = Gio.Subprocess.new(argv, Gio.SubprocessFlags.STDERR_PIPE);
    const [, , stderr] = proc.communicate_utf8(null, null);
    if (!proc.get_successful())
        throw new Error(`${argv.join(' ')} failed: ${stderr}`);
}

run(async () => {
    const tmp = GLib.dir_make_tmp('winvm-ext-test-XXXXXX');
    spawn(['glib-compile-resources', `--sourcedir=${testsDir}/stubs`, `--target=${tmp}/stubs.gresource`,
        `${testsDir}/stubs/stubs.gresource.xml`]);
    spawn(['glib-compile-schemas', `--targetdir=${tmp}`, `${extDir}/schemas`]);
    Gio.Resource.load(`${tmp}/stubs.gresource`)._register();

    // Only now can the Shell's paths be imported.
    // Typed as the stubs they are, not as the Shell's modules.
    const Main = /** @type {import('./stubs/ui/main.js')} */ (/** @type {unknown} */ (
        await import('resource:///org/gnome/shell/ui/main.js')));
    const ModalDialog = /** @type {import('./stubs/ui/modalDialog.js')} */ (/** @type {unknown} */ (
        await import('resource:///org/gnome/shell/ui/modalDialog.js')));
    const {Extension} = /** @type {import('./stubs/extensions/extension.js')} */ (/** @type {unknown} */ (
        await import('resource:///org/gnome/shell/extensions/extension.js')));
    const {default: WinvmExtension} = await import('../extension.js');
    Extension.schemaDir = tmp;

    const [, bytes] = GLib.file_get_contents(`${extDir}/metadata.json`);
    const metadata = JSON.parse(new TextDecoder().decode(bytes));
    const ext = new WinvmExtension({...metadata, path: extDir});

    ext.enable();
    checkEq(1, Main.indicators.length, 'enable adds one Quick Settings indicator');
    const model = /** @type {any} */ (ext)._model;
    check(model !== null, 'enable makes a model');

    /** @returns {any} the indicator the Shell shows now */
    const current = () => Main.indicators.at(-1);
    /** @returns {any} the VM's toggle, if shown */
    const toggle = () => current()?.quickSettingsItems.find((/** @type {any} */ t) => t.title === vmName);
    /** @param {string} label */
    const menuItem = label => toggle()?.menu.items.find((/** @type {any} */ i) => i.label === label);
    const panelIconShown = () => current()?.icons.some((/** @type {any} */ i) => i.visible) ?? false;

    if (!vmName) {
        check(await until(() => Main.notifications.some(n => n.kind === 'error'), 30),
            'without a bus, enable reports the error as a notification',
            JSON.stringify(Main.notifications));
        checkEq(0, current().quickSettingsItems.length, 'no toggles without the service');
    } else {
        check(await until(() => toggle() !== undefined, 30), `a toggle titled ${vmName} appears`,
            `titles: ${current()?.quickSettingsItems.map((/** @type {any} */ t) => t.title)}`);
        checkEq('Off', toggle()?.subtitle, 'its subtitle is the state, Off');
        checkEq(false, toggle()?.checked, 'it is not checked while the VM is off');
        checkEq(false, panelIconShown(), 'no panel icon while no VM runs');
        checkEq('Windows11', toggle()?.menu.header?.title, 'the menu header names the VM');
        checkEq('Start,Shut down,Force stop…,Take snapshot,Open Looking Glass',
            toggle()?.menu.items.filter((/** @type {any} */ i) => i.label).map((/** @type {any} */ i) => i.label).join(','),
            'the menu has the five actions');

        toggle().emit('clicked');
        if (mode === 'refused') {
            check(await until(() => Main.notifications.length > 0, 60), 'a refused start is notified');
            const n = Main.notifications[0];
            checkEq(`${vmName}: Start failed`, n?.msg, 'the notification says what failed');
            check(Boolean(n?.details.includes('org.winvm1.vm.start')), "it carries the service's message",
                n?.details);
            check(!n?.details.includes('GDBus.Error'), 'without the GDBus.Error prefix', n?.details);
            checkEq(false, toggle()?.checked, 'the toggle stays off');
        } else {
            check(await until(() => toggle()?.checked === true, 60), 'clicking starts the VM: the toggle turns on',
                JSON.stringify(Main.notifications));
            checkEq('Running', toggle()?.subtitle, 'its subtitle says Running');
            checkEq(true, panelIconShown(), 'the panel icon shows while it runs');
            checkEq(false, menuItem('Start')?.sensitive, 'Start is greyed out while it runs');

            // Force stop asks first: cancelling does nothing...
            menuItem('Force stop…').activate();
            checkEq(1, ModalDialog.openDialogs.length, 'Force stop opens a confirmation dialog');
            ModalDialog.openDialogs[0]?.press('Cancel');
            await until(() => false, 1);
            checkEq('Running', toggle()?.subtitle, 'cancelled: the VM still runs');
            // ...confirming stops the VM.
            menuItem('Force stop…').activate();
            ModalDialog.openDialogs[0]?.press('Force Stop');
            check(await until(() => toggle()?.subtitle === 'Off', 60), 'confirmed: the subtitle turns to Off',
                JSON.stringify(Main.notifications));
            checkEq(false, toggle()?.checked, 'the toggle turns off');
            checkEq(false, panelIconShown(), 'the panel icon hides');
            checkEq(0, Main.notifications.filter(n => n.kind === 'error').length, 'no error was notified');
        }
    }

    // A confirmation still on screen when the extension is disabled goes with it.
    if (vmName && mode !== 'refused') {
        menuItem('Force stop…').activate();
        checkEq(1, ModalDialog.openDialogs.length, 'a Force stop confirmation is open before disable');
    }
    const shown = [...Main.indicators];
    const toggles = shown.flatMap(i => i.quickSettingsItems);
    ext.disable();
    checkEq(0, ModalDialog.openDialogs.length, 'disable closes a confirmation left open');
    check(shown.every(i => i.destroyed), 'disable destroys every indicator it added');
    check(toggles.every(t => t.destroyed), 'and every toggle');
    check(model.destroyed && !model.connected && model.vms.length === 0,
        'disable destroys the model: bus proxies and VMs dropped');
    checkEq(null, /** @type {any} */ (ext)._model, 'the extension lets go of its model');

    // enable again after disable works (the Shell does this on every lock/unlock).
    ext.enable();
    checkEq(shown.length + 1, Main.indicators.length, 'a second enable adds a new indicator');
    ext.disable();
    check(Main.indicators.every(i => i.destroyed), 'and the second disable removes it');

    for (const f of ['stubs.gresource', 'gschemas.compiled'])
        GLib.unlink(`${tmp}/${f}`);
    GLib.rmdir(tmp);
});
