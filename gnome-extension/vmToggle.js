// The Quick Settings toggle of one VM: on while it runs, a click starts it or shuts it
// down gracefully, and its menu has the other actions.

import GLib from 'gi://GLib';
import GObject from 'gi://GObject';
import Gio from 'gi://Gio';

import * as Main from 'resource:///org/gnome/shell/ui/main.js';
import * as PopupMenu from 'resource:///org/gnome/shell/ui/popupMenu.js';
import * as QuickSettings from 'resource:///org/gnome/shell/ui/quickSettings.js';

import {confirm} from './confirmDialog.js';
import {WinvmCallError} from './winvmModel.js';

export const ICON_NAME = 'computer-symbolic';

/** @type {Record<string, string>} winvmd's State words, as the subtitle shows them */
const STATE_LABELS = {
    'running': 'Running',
    'shutoff': 'Off',
    'paused': 'Paused',
    'crashed': 'Crashed',
    'pmsuspended': 'Suspended',
    'shutting-down': 'Shutting down',
    'undefined': 'Not defined',
    'unknown': 'Unknown',
};

/**
 * @param {string} state
 * @returns {string}
 */
export function stateLabel(state) {
    return STATE_LABELS[state] ?? state;
}

export const VmToggle = GObject.registerClass(
class VmToggle extends QuickSettings.QuickMenuToggle {
    /**
     * @param {import('./winvmModel.js').WinvmModel} model
     * @param {import('./winvmModel.js').VmInfo} vm
     * @param {Gio.Settings} settings  for the Looking Glass command
     */
    constructor(model, vm, settings) {
        super({title: vm.name, iconName: ICON_NAME, toggleMode: false});
        this._model = model;
        this._vm = vm;
        this._settings = settings;
        /** @type {import('./confirmDialog.js').Question | null} the question on screen, if any */
        this._question = null;

        this._items = {
            start: this._addAction('Start', () => this._start()),
            shutdown: this._addAction('Shut down', () => this._shutdown()),
            forceStop: this._addAction('Force stop…', () => this._forceStop()),
            snapshot: this._addAction('Take snapshot', () => this._snapshot()),
        };
        this.menu.addMenuItem(new PopupMenu.PopupSeparatorMenuItem());
        this._lookingGlassItem = this._addAction('Open Looking Glass', () => this._lookingGlass());

        this.connect('clicked', () => {
            if (this._vm.state === 'running')
                this._shutdown();
            else
                this._start();
        });
        // A question left open must not outlive the toggle (the extension disabled, the
        // screen locked): answering it would act for a toggle that is gone.
        this.connect('destroy', () => this._question?.withdraw());
        this.update(vm);
    }

    /**
     * @param {string} label
     * @param {() => void} callback
     * @returns {PopupMenu.PopupMenuItem}
     */
    _addAction(label, callback) {
        const item = new PopupMenu.PopupMenuItem(label);
        item.connect('activate', callback);
        this.menu.addMenuItem(item);
        return item;
    }

    /** @param {import('./winvmModel.js').VmInfo} vm  the VM's new properties */
    update(vm) {
        this._vm = vm;
        const running = vm.state === 'running';
        this.title = vm.name;
        this.subtitle = stateLabel(vm.state);
        this.checked = running;
        this.menu.setHeader(ICON_NAME, vm.name, this.subtitle);
        this._items.start.setSensitive(!running && vm.state !== 'undefined');
        this._items.shutdown.setSensitive(running);
        this._items.forceStop.setSensitive(running || vm.state === 'paused');
        this._items.snapshot.setSensitive(vm.state !== 'undefined');
        this._lookingGlassItem.setSensitive(running);
    }

    /**
     * Runs a call and reports its failure as a notification with the service's message.
     *
     * @param {string} what  e.g. "Start"
     * @param {Promise<unknown>} call
     * @returns {Promise<boolean>} whether it succeeded
     */
    async _report(what, call) {
        try {
            await call;
            return true;
        } catch (e) {
            // Disabling the extension cancels what is pending; the guest is not told to stop.
            if (e instanceof WinvmCallError && e.cancelled)
                return false;
            Main.notifyError(`${this._vm.name}: ${what} failed`,
                e instanceof Error ? e.message : String(e));
            return false;
        }
    }

    _start() {
        this._report('Start', this._model.start(this._vm.path));
    }

    _shutdown() {
        this._report('Shut down', this._model.shutdown(this._vm.path));
    }

    async _forceStop() {
        this._question?.withdraw();
        const question = confirm({
            title: `Force stop ${this._vm.name}?`,
            description: 'The guest is powered off at once, like pulling the plug: unsaved work in it is lost.',
            confirmLabel: 'Force Stop',
        });
        this._question = question;
        const yes = await question.answer;
        if (this._question === question)
            this._question = null;
        if (yes)
            await this._report('Force stop', this._model.forceStop(this._vm.path));
    }

    async _snapshot() {
        /** @type {string} */
        let name = '';
        const done = await this._report('Snapshot',
            this._model.createSnapshot(this._vm.path, '', 'Taken from GNOME Quick Settings')
                .then(n => {
                    name = n;
                }));
        if (done)
            Main.notify(`${this._vm.name}: snapshot taken`, name);
    }

    _lookingGlass() {
        const command = this._settings.get_string('looking-glass-command');
        try {
            // Split like a shell, run without one.
            const [, argv] = GLib.shell_parse_argv(command);
            Gio.Subprocess.new(argv ?? [], Gio.SubprocessFlags.NONE);
        } catch (e) {
            Main.notifyError(`Cannot run “${command}”`, e instanceof Error ? e.message : String(e));
        }
    }
});
