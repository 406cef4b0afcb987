// The VMs winvmd manages, as seen on the system bus. No GNOME Shell imports: this module
// runs under plain `gjs -m`, which is how the tests drive it against the real winvmd.
//
// Everything follows signals: ObjectManager's InterfacesAdded/Removed and each object's
// PropertiesChanged (through Gio.DBusObjectManagerClient). There is no timer here.

import Gio from 'gi://Gio';
import GLib from 'gi://GLib';

export const BUS_NAME = 'org.winvm1';
// The same objects under a name the bus lets only the winvm group call, so a member's calls
// never wait behind other users' calls. Signals come from BUS_NAME.
export const MEMBERS_BUS_NAME = 'org.winvm1.Members';
export const MANAGER_PATH = '/org/winvm1';
export const VM_IFACE = 'org.winvm1.VM';

// Shutdown and CreateSnapshot reply only when done (a graceful shutdown may take minutes),
// and polkit may be asking for a password meanwhile: wait as long as it takes.
const NO_TIMEOUT = GLib.MAXINT32;

// A winvmd that dies this soon after it appeared is not brought back by the model: that
// would be a restart loop. Microseconds.
const MIN_OWNER_LIFETIME = 5 * GLib.USEC_PER_SEC;

/**
 * @typedef {object} VmInfo
 * @property {string} path      object path
 * @property {string} name      libvirt domain name
 * @property {string} state     running, shutoff, ..., or unknown
 * @property {string[]} snapshots
 * @property {boolean} [stale]  winvmd left the bus (state is the last it reported); the next
 *                              winvmd decides whether the VM stays
 */

/** A failed call, with the service's error name and its message without the GDBus prefix. */
export class WinvmCallError extends Error {
    /**
     * @param {string} remoteName  e.g. org.winvm1.Error.AlreadyRunning; empty if not remote
     * @param {string} message
     */
    constructor(remoteName, message) {
        super(message);
        this.name = 'WinvmCallError';
        this.remoteName = remoteName;
        /** The call was cancelled (the extension was disabled): nothing to tell the user. */
        this.cancelled = false;
        /** winvmd is not there and could not be started. */
        this.unavailable = false;
    }

    /**
     * @param {unknown} e  what a Gio call threw
     * @returns {WinvmCallError}
     */
    static fromGError(e) {
        if (e instanceof GLib.Error) {
            const remoteName = Gio.DBusError.get_remote_error(e) ?? '';
            Gio.DBusError.strip_remote_error(e);
            const err = new WinvmCallError(remoteName, e.message);
            err.cancelled = e.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED);
            return err;
        }
        return new WinvmCallError('', String(e));
    }
}

/**
 * @typedef {'vm-added' | 'vm-changed' | 'vm-removed' | 'error'} ModelEvent
 * vm-added, vm-changed, vm-removed: (vm: VmInfo); error: (err: WinvmCallError)
 */

export class WinvmModel {
    /**
     * @param {object} [params]
     * @param {Gio.BusType} [params.busType]  the system bus, unless a test says otherwise
     */
    constructor({busType = Gio.BusType.SYSTEM} = {}) {
        this._busType = busType;
        /** @type {Gio.DBusObjectManagerClient | null} */
        this._manager = null;
        /** @type {Map<string, VmInfo>} */
        this._vms = new Map();
        /** @type {Map<number, {event: ModelEvent, callback: Function}>} */
        this._listeners = new Map();
        this._nextListenerId = 1;
        /** @type {number[]} */
        this._managerHandlers = [];
        this._cancellable = new Gio.Cancellable();
        this._ownerSince = 0;
        /** @type {Promise<string> | null} the name calls go to, once a Ping has told */
        this._destination = null;
    }

    /**
     * @param {ModelEvent} event
     * @param {Function} callback
     * @returns {number} an id for disconnect()
     */
    connect(event, callback) {
        const id = this._nextListenerId++;
        this._listeners.set(id, {event, callback});
        return id;
    }

    /** @param {number} id */
    disconnect(id) {
        this._listeners.delete(id);
    }

    /**
     * @param {ModelEvent} event
     * @param {unknown} arg
     */
    _emit(event, arg) {
        for (const {event: e, callback} of [...this._listeners.values()]) {
            if (e !== event)
                continue;
            try {
                callback(arg);
            } catch (err) {
                console.error(`winvm: ${event} handler:`, err);
            }
        }
    }

    /** @returns {VmInfo[]} the VMs, in the order they appeared */
    get vms() {
        return [...this._vms.values()];
    }

    /** @returns {boolean} whether the model holds bus proxies (false after destroy) */
    get connected() {
        return this._manager !== null;
    }

    /** @returns {boolean} whether destroy() was called */
    get destroyed() {
        return this._cancellable.is_cancelled();
    }

    /**
     * Connects to the bus and loads the VMs. Not connecting leaves the model empty and
     * reports an 'error'; it never throws. D-Bus activation starts winvmd if needed.
     */
    async init() {
        const m = new Gio.DBusObjectManagerClient({
            busType: this._busType,
            flags: Gio.DBusObjectManagerClientFlags.NONE,
            name: BUS_NAME,
            objectPath: MANAGER_PATH,
        });
        try {
            await new Promise((resolve, reject) => {
                m.init_async(GLib.PRIORITY_DEFAULT, this._cancellable, (_o, res) => {
                    try {
                        resolve(m.init_finish(res));
                    } catch (e) {
                        reject(e);
                    }
                });
            });
        } catch (e) {
            if (!this._cancellable.is_cancelled())
                this._emit('error', WinvmCallError.fromGError(e));
            return;
        }
        if (this._cancellable.is_cancelled())
            return;
        this._manager = m;
        this._managerHandlers = [
            m.connect('object-added', (_m, obj) => this._objectAdded(obj)),
            m.connect('object-removed', (_m, obj) => this._objectRemoved(obj)),
            m.connect('interface-proxy-properties-changed',
                (_m, obj, proxy) => this._update(obj.get_object_path(), proxy)),
            m.connect('notify::name-owner', () => this._ownerChanged()),
        ];
        // Without an owner here, activation failed; a later winvmd is picked up all the same.
        if (m.name_owner) {
            this._ownerSince = GLib.get_monotonic_time();
        } else {
            const err = new WinvmCallError('', 'The winvm service is not running and could not be started');
            err.unavailable = true;
            this._emit('error', err);
        }
        for (const obj of m.get_objects())
            this._objectAdded(obj);
    }

    /** Drops every proxy and listener; pending calls are cancelled. */
    destroy() {
        this._cancellable.cancel();
        if (this._manager) {
            for (const id of this._managerHandlers)
                this._manager.disconnect(id);
            this._managerHandlers = [];
            // Its match rules and name watch go now, not whenever the GC gets to it: a
            // dropped client would still fetch every object each time winvmd appears.
            this._manager.run_dispose();
            this._manager = null;
        }
        this._vms.clear();
        this._listeners.clear();
    }

    /** @param {Gio.DBusObject} obj */
    _objectAdded(obj) {
        const proxy = obj.get_interface(VM_IFACE);
        if (proxy instanceof Gio.DBusProxy)
            this._update(obj.get_object_path(), proxy);
    }

    /** @param {Gio.DBusObject} obj */
    _objectRemoved(obj) {
        const path = obj.get_object_path();
        const vm = this._vms.get(path);
        if (!vm)
            return;
        // The client drops every object when winvmd leaves the bus (idle exit, restart).
        // Keep them with their last state, marked stale, until the next winvmd says whether
        // they still exist.
        if (!this._manager?.name_owner) {
            vm.stale = true;
            this._emit('vm-changed', vm);
            return;
        }
        this._vms.delete(path);
        this._emit('vm-removed', vm);
    }

    /**
     * @param {string} path
     * @param {Gio.DBusProxy} proxy
     */
    _update(path, proxy) {
        if (proxy.get_interface_name() !== VM_IFACE)
            return;
        const str = (/** @type {string} */ name) =>
            proxy.get_cached_property(name)?.unpack() ?? '';
        const snapshots = proxy.get_cached_property('Snapshots')?.deepUnpack() ?? [];
        let vm = this._vms.get(path);
        const isNew = !vm;
        if (!vm) {
            vm = {path, name: '', state: 'unknown', snapshots: []};
            this._vms.set(path, vm);
        }
        vm.name = String(str('Name')) || vm.name;
        vm.state = String(str('State')) || 'unknown';
        vm.snapshots = /** @type {string[]} */ (snapshots);
        delete vm.stale;
        this._emit(isNew ? 'vm-added' : 'vm-changed', vm);
    }

    _ownerChanged() {
        const m = this._manager;
        if (!m)
            return;
        if (m.name_owner) {
            // The new winvmd's objects are loaded by now: forget what it no longer has.
            this._ownerSince = GLib.get_monotonic_time();
            for (const vm of this.vms) {
                if (vm.stale) {
                    this._vms.delete(vm.path);
                    this._emit('vm-removed', vm);
                }
            }
            return;
        }
        // winvmd left. It exits on idle only while no guest runs (it stays while one does),
        // and then there is nothing to follow: the next call starts it again. Any other exit
        // (a crash, a restart) is followed by activating it again at once, unless it keeps
        // dying.
        // The same states winvmd stays for (running, paused, shutting down): any other
        // exit with them is a crash or a restart.
        if (!this.vms.some(vm => ['running', 'paused', 'shutting-down'].includes(vm.state)))
            return;
        const lived = GLib.get_monotonic_time() - this._ownerSince;
        if (this._ownerSince && lived >= MIN_OWNER_LIFETIME)
            this._activate();
        else
            this._emit('error', new WinvmCallError('', 'The winvm service stopped'));
    }

    _activate() {
        const connection = this._manager?.get_connection();
        connection?.call('org.freedesktop.DBus', '/org/freedesktop/DBus',
            'org.freedesktop.DBus', 'StartServiceByName', new GLib.Variant('(su)', [BUS_NAME, 0]),
            null, Gio.DBusCallFlags.NONE, -1, this._cancellable, (_c, res) => {
                try {
                    connection.call_finish(res);
                } catch (e) {
                    if (!this._cancellable.is_cancelled())
                        this._emit('error', WinvmCallError.fromGError(e));
                }
            });
    }

    /**
     * Calls a VM method on a well-known name (so that activation starts a winvmd that
     * has exited): the members' one where the bus admits this user. polkit may ask for a password.
     *
     * @param {string} path
     * @param {string} method
     * @param {GLib.Variant | null} args
     * @param {number} timeout  milliseconds, -1 for the default
     * @returns {Promise<GLib.Variant>}
     */
    async _call(path, method, args, timeout = -1) {
        const connection = this._manager?.get_connection();
        if (!connection)
            throw new WinvmCallError('', 'Not connected to the winvm service');
        const destination = await this._callDestination(connection);
        return new Promise((resolve, reject) => {
            connection.call(destination, path, VM_IFACE, method, args, null,
                Gio.DBusCallFlags.ALLOW_INTERACTIVE_AUTHORIZATION, timeout, this._cancellable,
                (_c, res) => {
                    try {
                        resolve(connection.call_finish(res));
                    } catch (e) {
                        reject(WinvmCallError.fromGError(e));
                    }
                });
        });
    }

    /**
     * MEMBERS_BUS_NAME when the bus lets this user call it (a Ping answers), else BUS_NAME.
     * Asked once; a Ping also starts winvmd by activation, as the call would.
     *
     * @param {Gio.DBusConnection} connection
     * @returns {Promise<string>}
     */
    _callDestination(connection) {
        this._destination ??= new Promise(resolve => {
            connection.call(MEMBERS_BUS_NAME, MANAGER_PATH, 'org.freedesktop.DBus.Peer', 'Ping', null, null,
                Gio.DBusCallFlags.NONE, -1, this._cancellable, (_c, res) => {
                    try {
                        connection.call_finish(res);
                        resolve(MEMBERS_BUS_NAME);
                    } catch {
                        resolve(BUS_NAME);
                    }
                });
        });
        return this._destination;
    }

    /** @param {string} path */
    async start(path) {
        await this._call(path, 'Start', null);
    }

    /**
     * Asks the guest to power off and resolves when it is off.
     *
     * @param {string} path
     * @param {object} [opts]
     * @param {number} [opts.timeoutSeconds]  0: the service's ShutdownTimeoutSec
     * @param {boolean} [opts.forceAfter]  force it off when the timeout passes
     */
    async shutdown(path, {timeoutSeconds = 0, forceAfter = false} = {}) {
        await this._call(path, 'Shutdown',
            new GLib.Variant('(ub)', [timeoutSeconds, forceAfter]), NO_TIMEOUT);
    }

    /** @param {string} path */
    async forceStop(path) {
        await this._call(path, 'ForceStop', null);
    }

    /**
     * @param {string} path
     * @param {string} [name]  empty: the service names it snapshot-YYYYMMDD-HHMMSS
     * @param {string} [description]
     * @returns {Promise<string>} the snapshot's name
     */
    async createSnapshot(path, name = '', description = '') {
        const reply = await this._call(path, 'CreateSnapshot',
            new GLib.Variant('(ss)', [name, description]), NO_TIMEOUT);
        return /** @type {[string]} */ (reply.deepUnpack())[0];
    }
}
