// Stub of resource:///org/gnome/shell/ui/popupMenu.js: menu items that can be activated.

import GObject from 'gi://GObject';

export const PopupMenuItem = GObject.registerClass({
    Signals: {'activate': {}},
}, class PopupMenuItem extends GObject.Object {
    /** @param {string} label */
    constructor(label) {
        super();
        this.label = label;
        this.sensitive = true;
    }

    /** @param {boolean} sensitive */
    setSensitive(sensitive) {
        this.sensitive = sensitive;
    }

    activate() {
        this.emit('activate');
    }
});

export const PopupSeparatorMenuItem = GObject.registerClass(
class PopupSeparatorMenuItem extends GObject.Object {});
