// Stub of resource:///org/gnome/shell/ui/dialog.js.

export class MessageDialogContent {
    /** @param {{title?: string, description?: string}} params */
    constructor({title = '', description = ''} = {}) {
        this.title = title;
        this.description = description;
    }
}
