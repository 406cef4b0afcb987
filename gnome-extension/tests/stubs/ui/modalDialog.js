// Stub of resource:///org/gnome/shell/ui/modalDialog.js: dialogs that stay open until the
// test presses one of their buttons.

import GObject from 'gi://GObject';

/** @type {any[]} the dialogs opened and not yet closed */
export const openDialogs = [];

export const ModalDialog = GObject.registerClass({
    Signals: {'opened': {}, 'closed': {}},
}, class ModalDialog extends GObject.Object {
    /** @param {Record<string, unknown>} params */
    constructor(params = {}) {
        super();
        this.params = params;
        /** @type {any[]} */
        this.children = [];
        this.contentLayout = {add_child: (/** @type {any} */ c) => this.children.push(c)};
        /** @type {{label: string, action: () => void, key?: number}[]} */
        this.buttons = [];
    }

    /** @param {{label: string, action: () => void, key?: number}} info */
    addButton(info) {
        this.buttons.push(info);
    }

    open() {
        openDialogs.push(this);
        this.emit('opened');
        return true;
    }

    close() {
        const i = openDialogs.indexOf(this);
        if (i >= 0) {
            openDialogs.splice(i, 1);
            this.emit('closed');
        }
    }

    /** @param {string} label  the test "clicks" the button with this label */
    press(label) {
        this.buttons.find(b => b.label === label)?.action();
    }
});
