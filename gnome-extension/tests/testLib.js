// TAP-style assertions and event waits for the gjs tests (plain gjs, no Shell).

import GLib from 'gi://GLib';
import System from 'system';

let count = 0, failed = 0;

/**
 * @param {boolean} cond
 * @param {string} what
 * @param {...string} details  printed as '#' lines on failure
 * @returns {boolean} cond
 */
export function check(cond, what, ...details) {
    count++;
    if (cond) {
        print(`ok ${count} - ${what}`);
    } else {
        failed++;
        print(`not ok ${count} - ${what}`);
        for (const d of details)
            print(`#   ${d}`);
    }
    return cond;
}

/**
 * @param {unknown} expected
 * @param {unknown} actual
 * @param {string} what
 */
export function checkEq(expected, actual, what) {
    return check(expected === actual, what, `expected: ${JSON.stringify(expected)}`,
        `actual:   ${JSON.stringify(actual)}`);
}

/**
 * Resolves when cond() holds (true) or after `seconds` (false). The model under test is
 * driven by bus signals; this only looks at what it recorded, every 20 ms.
 *
 * @param {() => boolean} cond
 * @param {number} seconds
 * @returns {Promise<boolean>}
 */
export function until(cond, seconds) {
    return new Promise(resolve => {
        const deadline = GLib.get_monotonic_time() + seconds * GLib.USEC_PER_SEC;
        const test = () => {
            if (cond() || GLib.get_monotonic_time() > deadline) {
                resolve(cond());
                return GLib.SOURCE_REMOVE;
            }
            return GLib.SOURCE_CONTINUE;
        };
        if (test() === GLib.SOURCE_CONTINUE)
            GLib.timeout_add(GLib.PRIORITY_DEFAULT, 20, test);
    });
}

/**
 * Waits for a promise, at most `seconds`.
 *
 * @template T
 * @param {Promise<T>} promise
 * @param {number} seconds
 * @returns {Promise<{done: boolean, value?: T, error?: any}>}
 */
export async function settle(promise, seconds) {
    /** @type {{done: boolean, value?: T, error?: any}} */
    const r = {done: false};
    promise.then(v => {
        r.done = true;
        r.value = v;
    }, e => {
        r.done = true;
        r.error = e;
    });
    await until(() => r.done, seconds);
    return r;
}

/**
 * Runs the async test body in a main loop, then prints the count and exits 1 when
 * anything failed. Called from a module's top level (no top-level await before it: the
 * loop must not run inside a promise job, or no other job would run).
 *
 * @param {() => Promise<void>} body
 */
export function run(body) {
    const loop = new GLib.MainLoop(null, false);
    body().catch(e => check(false, 'the test body threw', String(e), e?.stack ?? ''))
        .finally(() => loop.quit());
    loop.run();
    finish();
}

/** Prints the count and exits 1 when anything failed. */
function finish() {
    print(`${count - failed} passed, ${failed} failed`);
    System.exit(failed === 0 && count > 0 ? 0 : 1);
}
