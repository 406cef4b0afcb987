// The extension's Quick Settings indicator: one toggle per VM, and a panel icon shown
// while any VM runs.

import GObject from 'gi://GObject';

import * as QuickSettings from 'resource:///org/gnome/shell/ui/quickSettings.js';

import {ICON_NAME, VmToggle} from './vmToggle.js';

export const WinvmIndicator = GObject.registerClass(
class WinvmIndicator extends QuickSettings.SystemIndicator {
    /**
     * The toggles are made here, once: the Shell places an indicator's items when it is
     * added, so a new set of VMs needs a new indicator (see extension.js).
     *
     * @param {import('./winvmModel.js').WinvmModel} model
     * @param {import('gi://Gio').default.Settings} settings
     */
    constructor(model, settings) {
        super();
        this._panelIcon = this._addIndicator();
        this._panelIcon.icon_name = ICON_NAME;

        /** @type {Map<string, InstanceType<typeof VmToggle>>} */
        this._toggles = new Map();
        for (const vm of model.vms) {
            const toggle = new VmToggle(model, vm, settings);
            this._toggles.set(vm.path, toggle);
            this.quickSettingsItems.push(toggle);
        }
        this._model = model;
        this._changedId = model.connect('vm-changed', (/** @type {any} */ vm) => this._vmChanged(vm));
        this._syncPanelIcon();
    }

    /** @param {import('./winvmModel.js').VmInfo} vm */
    _vmChanged(vm) {
        this._toggles.get(vm.path)?.update(vm);
        this._syncPanelIcon();
    }

    _syncPanelIcon() {
        this._panelIcon.visible = this._model.vms.some(vm => vm.state === 'running');
    }

    destroy() {
        this._model.disconnect(this._changedId);
        for (const toggle of this.quickSettingsItems)
            toggle.destroy();
        this.quickSettingsItems = [];
        this._toggles.clear();
        super.destroy();
    }
});
