// winvm's GNOME Shell extension: Quick Settings toggles for the VMs winvmd manages.
// The bus logic is in winvmModel.js (no Shell imports); this file wires it to the Shell.

import * as Main from 'resource:///org/gnome/shell/ui/main.js';
import {Extension} from 'resource:///org/gnome/shell/extensions/extension.js';

import {WinvmIndicator} from './indicator.js';
import {WinvmModel} from './winvmModel.js';

// Module state lives as long as the Shell: enable() runs again at each unlock.
let unavailableReported = false;

export default class WinvmExtension extends Extension {
    enable() {
        this._settings = this.getSettings();
        this._model = new WinvmModel();
        // A VM that comes or goes needs a new indicator (the Shell places an indicator's
        // toggles once, when it is added); state changes go to the existing toggles.
        for (const event of /** @type {const} */ (['vm-added', 'vm-removed']))
            this._model.connect(event, () => this._rebuild());
        this._model.connect('error', (/** @type {any} */ e) => {
            // A missing service is said once per Shell session, not at every unlock.
            if (e?.unavailable) {
                if (unavailableReported)
                    return;
                unavailableReported = true;
            }
            Main.notifyError('winvm', e instanceof Error ? e.message : String(e));
        });
        this._rebuild();
        this._model.init();
    }

    disable() {
        this._indicator?.destroy();
        this._indicator = null;
        this._model?.destroy();
        this._model = null;
        this._settings = null;
    }

    _rebuild() {
        if (!this._model || !this._settings)
            return;
        this._indicator?.destroy();
        this._indicator = new WinvmIndicator(this._model, this._settings);
        // The definitions type the parameter as PanelMenu.Button; the Shell takes a
        // QuickSettings.SystemIndicator, as its own documentation shows.
        Main.panel.statusArea.quickSettings.addExternalIndicator(/** @type {any} */ (this._indicator));
    }
}
