// metadata.json as GNOME Shell and extensions.gnome.org read it, and the installed files
// against what the extension imports.
//
//   gjs -m metadataTest.js UUID FILE...   UUID: the folder meson installs to;
//                                         FILE: the files it installs there

import Gio from 'gi://Gio';
import GLib from 'gi://GLib';

import {check, checkEq, run} from './testLib.js';

const [uuid, ...installed] = ARGV;
const extDir = GLib.path_get_dirname(GLib.path_get_dirname(
    /** @type {string} */ (GLib.filename_from_uri(import.meta.url)[0])));

/** @param {string} name */
function read(name) {
    const [, bytes] = GLib.file_get_contents(`${extDir}/${name}`);
    return new TextDecoder().decode(bytes);
}

run(async () => {
    /** @type {Record<string, unknown>} */
    let meta = {};
    try {
        meta = JSON.parse(read('metadata.json'));
        check(true, 'metadata.json is JSON');
    } catch (e) {
        check(false, 'metadata.json is JSON', String(e));
    }

    checkEq(uuid, meta.uuid, 'uuid is the folder meson installs to');
    check(/^[A-Za-z0-9._-]+@[A-Za-z0-9._-]+$/.test(String(meta.uuid)), 'uuid has the form name@domain');
    check(typeof meta.name === 'string' && meta.name.length > 0, 'name is a non-empty string');
    check(typeof meta.description === 'string' && meta.description.length > 0,
        'description is a non-empty string');

    const versions = meta['shell-version'];
    check(Array.isArray(versions) && versions.length > 0, 'shell-version is a non-empty list');
    const list = Array.isArray(versions) ? versions : [];
    check(list.every(v => typeof v === 'string'), 'every shell-version is a string', JSON.stringify(list));
    check(list.every(v => /^\d+$/.test(v) && Number(v) >= 45), 'every shell-version is a major release >= 45 (ES modules)',
        JSON.stringify(list));

    // The schema named in metadata.json is the one in schemas/, and it parses.
    const schemaId = String(meta['settings-schema']);
    const schemaFile = `schemas/${schemaId}.gschema.xml`;
    check(GLib.file_test(`${extDir}/${schemaFile}`, GLib.FileTest.EXISTS),
        `settings-schema ${schemaId} is in ${schemaFile}`);
    check(read(schemaFile).includes(`id="${schemaId}"`), 'the schema file defines that id');
    const tmp = GLib.dir_make_tmp('winvm-ext-schema-XXXXXX');
    const proc = Gio.Subprocess.new(['glib-compile-schemas', '--strict', `--targetdir=${tmp}`, `${extDir}/schemas`],
        Gio.SubprocessFlags.STDERR_PIPE);
    const [, , err] = proc.communicate_utf8(null, null);
    check(proc.get_successful(), 'the schema compiles with --strict', err ?? '');
    GLib.unlink(`${tmp}/gschemas.compiled`);
    GLib.rmdir(tmp);
    check(installed.includes(schemaFile), 'the schema is installed');

    // Every module the extension imports from its own folder is installed beside it.
    /** @type {string[]} */
    const pending = ['extension.js', 'prefs.js'];
    const seen = new Set();
    while (pending.length) {
        const file = /** @type {string} */ (pending.pop());
        if (seen.has(file))
            continue;
        seen.add(file);
        for (const m of read(file).matchAll(/from '\.\/([^']+)'/g))
            pending.push(m[1]);
    }
    for (const file of ['metadata.json', ...[...seen].sort()])
        check(installed.includes(file), `${file} is installed`, `installed: ${installed.join(' ')}`);
});
