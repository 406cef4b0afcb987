// Stub of resource:///org/gnome/shell/extensions/extension.js: the Extension base class,
// with getSettings() reading the schema the test compiled, into memory (no dconf).

import Gio from 'gi://Gio';

export class Extension {
    /** @type {string} folder holding gschemas.compiled; the test sets it */
    static schemaDir = '';

    /** @param {Record<string, any>} metadata */
    constructor(metadata) {
        this.metadata = metadata;
        this.uuid = metadata.uuid;
        this.path = metadata.path;
    }

    getSettings() {
        const source = Gio.SettingsSchemaSource.new_from_directory(Extension.schemaDir, null, false);
        const schema = source.lookup(this.metadata['settings-schema'], false);
        if (!schema)
            throw new Error(`schema ${this.metadata['settings-schema']} not found in ${Extension.schemaDir}`);
        return new Gio.Settings({settingsSchema: schema, backend: Gio.memory_settings_backend_new()});
    }
}
