// Stub of resource:///org/gnome/shell/ui/quickSettings.js: the toggle and indicator base
// classes, as GObject classes (the extension subclasses them with GObject.registerClass),
// keeping what the extension sets so the test can read it.

import GObject from 'gi://GObject';

class StubMenu {
    constructor() {
        /** @type {any[]} */
        this.items = [];
        /** @type {{icon: string, title: string, subtitle: string} | null} */
        this.header = null;
    }

    /** @param {any} item */
    addMenuItem(item) {
        this.items.push(item);
    }

    /**
     * @param {string} icon
     * @param {string} title
     * @param {string} subtitle
     */
    setHeader(icon, title, subtitle) {
        this.header = {icon, title, subtitle};
    }
}

export const QuickMenuToggle = GObject.registerClass({
    Signals: {'clicked': {}, 'destroy': {}},
}, class QuickMenuToggle extends GObject.Object {
    /** @param {Record<string, unknown>} params  title, subtitle, iconName, toggleMode, ... */
    constructor(params = {}) {
        super();
        Object.assign(this, params);
        this.menu = new StubMenu();
        this.destroyed = false;
    }

    destroy() {
        this.destroyed = true;
        this.emit('destroy'); // as a Clutter actor does
    }
});

export const SystemIndicator = GObject.registerClass(
class SystemIndicator extends GObject.Object {
    constructor() {
        super();
        /** @type {any[]} */
        this.quickSettingsItems = [];
        /** @type {{icon_name: string, visible: boolean}[]} panel icons */
        this.icons = [];
        this.destroyed = false;
    }

    _addIndicator() {
        const icon = {icon_name: '', visible: true};
        this.icons.push(icon);
        return icon;
    }

    destroy() {
        this.destroyed = true;
    }
});
