// Preferences: the command "Open Looking Glass" runs.

import Adw from 'gi://Adw';
import Gio from 'gi://Gio';

import {ExtensionPreferences} from 'resource:///org/gnome/Shell/Extensions/js/extensions/prefs.js';

export default class WinvmPreferences extends ExtensionPreferences {
    /** @param {Adw.PreferencesWindow} window */
    fillPreferencesWindow(window) {
        const settings = this.getSettings();
        const group = new Adw.PreferencesGroup({
            title: 'Looking Glass',
            description: 'Run by “Open Looking Glass” in a VM’s menu, without a shell: words are split as a shell would, but nothing is expanded.',
        });
        const row = new Adw.EntryRow({title: 'Command'});
        settings.bind('looking-glass-command', row, 'text', Gio.SettingsBindFlags.DEFAULT);
        group.add(row);
        const page = new Adw.PreferencesPage();
        page.add(group);
        window.add(page);
        return Promise.resolve();
    }
}
