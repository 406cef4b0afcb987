// A yes/no question in a Shell modal dialog.

import * as Dialog from 'resource:///org/gnome/shell/ui/dialog.js';
import * as ModalDialog from 'resource:///org/gnome/shell/ui/modalDialog.js';

// Clutter.KEY_Escape. Not imported from gi://Clutter, which plain gjs (the tests) lacks.
const KEY_ESCAPE = 0xff1b;

/**
 * @typedef {object} Question
 * @property {Promise<boolean>} answer  true when confirmed; false when cancelled, closed or withdrawn
 * @property {() => void} withdraw  closes the dialog unanswered (its asker is going away)
 */

/**
 * @param {object} params
 * @param {string} params.title
 * @param {string} params.description
 * @param {string} params.confirmLabel  the button that says yes
 * @returns {Question}
 */
export function confirm({title, description, confirmLabel}) {
    /** @type {() => void} */
    let withdraw = () => {};
    /** @type {Promise<boolean>} */
    const reply = new Promise(resolve => {
        const dialog = new ModalDialog.ModalDialog({destroyOnClose: true});
        dialog.contentLayout.add_child(new Dialog.MessageDialogContent({title, description}));
        let answered = false;
        const answer = (/** @type {boolean} */ yes) => {
            if (answered)
                return;
            answered = true;
            resolve(yes);
            dialog.close();
        };
        dialog.addButton({label: 'Cancel', action: () => answer(false), key: KEY_ESCAPE});
        dialog.addButton({label: confirmLabel, action: () => answer(true)});
        dialog.connect('closed', () => answer(false));
        withdraw = () => answer(false);
        dialog.open();
    });
    return {answer: reply, withdraw};
}
