// Stub of resource:///org/gnome/shell/ui/main.js: records what the extension hands the Shell.

/** @type {any[]} every indicator given to addExternalIndicator, in order */
export const indicators = [];
/** @type {{kind: string, msg: string, details: string}[]} */
export const notifications = [];

export const panel = {
    statusArea: {
        quickSettings: {
            /** @param {any} indicator */
            addExternalIndicator(indicator) {
                indicators.push(indicator);
            },
        },
    },
};

/**
 * @param {string} msg
 * @param {string} details
 */
export function notify(msg, details) {
    notifications.push({kind: 'notify', msg, details});
}

/**
 * @param {string} msg
 * @param {string} details
 */
export function notifyError(msg, details) {
    notifications.push({kind: 'error', msg, details});
}
