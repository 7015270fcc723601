// fakeRpmOstreedForTest: a small rpm-ostree-like service for the client tests, on a private bus.
// Objects and types come from the vendored XML (via src/dbus/xml-interface); deployments are an
// in-memory model; each transaction gets a real peer socket (src/dbus/peer). Behaviour of the next
// transactions is scripted, so tests can make the backend busy, fail, hang or vanish.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dbus from 'dbus-next';
import { connectBus } from '../../src/dbus/bus.js';
import { DBusMethodError } from '../../src/dbus/errors.js';
import { listenPeer, type MessageBus, type PeerServer } from '../../src/dbus/peer.js';
import { interfaceFromXml, type XmlInterface } from '../../src/dbus/xml-interface.js';
import { RPMOSTREE_XML } from './glib-peer.js';

const { Variant } = dbus;
const NAME = 'org.projectatomic.rpmostree1';
const SYSROOT_PATH = '/org/projectatomic/rpmostree1/Sysroot';
const BUSY = 'org.gtk.GDBus.UnmappedGError.Quark._g_2dio_2derror_2dquark.Code26';

/** One deployment of the fake's model. */
export interface FakeDeployment {
  checksum: string;
  version: string | null;
  origin: string;
  timestampSecs: bigint;
  serial: number;
  booted: boolean;
  staged: boolean;
  locked: boolean;
}

/** How the next transaction behaves after Start. */
export type FakeTxBehaviour = 'success' | 'fail' | 'never' | 'die_peer' | 'leave_bus';

/** A recorded method call. */
export interface FakeCall {
  readonly member: string;
  readonly args: unknown[];
}

/** The running fake. */
export interface FakeRpmOstreed {
  readonly calls: FakeCall[];
  readonly deployments: FakeDeployment[];
  /** Commits the fake can "pull": checksum -> metadata. */
  readonly commits: Map<string, { version: string; origin?: string }>;
  /** Next transactions' behaviours (shifted per transaction; default success). */
  readonly script: FakeTxBehaviour[];
  /** Number of upcoming transaction calls answered with the busy error. */
  busy: number;
  /** Methods answered with AccessDenied. */
  readonly denied: Set<string>;
  /** Resolves when a call to `member` has been recorded. */
  waitForCall(member: string): Promise<void>;
  /** Disconnects its bus connection (the name is lost) and closes transactions. */
  stop(): Promise<void>;
}

const OSNAME = 'altcos';

function dict(d: FakeDeployment): Record<string, dbus.Variant> {
  const out: Record<string, dbus.Variant> = {
    id: new Variant('s', `${OSNAME}-${d.checksum}.${d.serial}`),
    osname: new Variant('s', OSNAME),
    checksum: new Variant('s', d.checksum),
    serial: new Variant('i', d.serial),
    booted: new Variant('b', d.booted),
    staged: new Variant('b', d.staged),
    pinned: new Variant('b', false),
    unlocked: new Variant('s', 'none'),
    origin: new Variant('s', d.origin),
    timestamp: new Variant('t', d.timestampSecs),
    'base-commit-meta': new Variant('a{sv}', {}),
  };
  if (d.version !== null) out['version'] = new Variant('s', d.version);
  if (d.staged && d.locked) out['finalization-locked'] = new Variant('b', true);
  return out;
}

/** Starts the fake on `busAddress` with `initial` deployments (boot order). */
export async function fakeRpmOstreedForTest(busAddress: string, initial: FakeDeployment[]): Promise<FakeRpmOstreed> {
  const xml = await readFile(RPMOSTREE_XML, 'utf8');
  const dir = await mkdtemp(join(tmpdir(), 'fake-rpmostreed-'));
  const bus: MessageBus = await connectBus({ address: busAddress });
  const calls: FakeCall[] = [];
  const waiters: { member: string; resolve: () => void }[] = [];
  const servers: PeerServer[] = [];
  let txCount = 0;
  const state = {
    deployments: initial,
    commits: new Map<string, { version: string; origin?: string }>(),
    script: [] as FakeTxBehaviour[],
    busy: 0,
    denied: new Set<string>(),
  };
  const record = (member: string, args: unknown[]): void => {
    calls.push({ member, args });
    for (const w of waiters.filter((x) => x.member === member)) w.resolve();
  };
  const guard = (member: string): void => {
    if (state.denied.has(member)) throw new DBusMethodError('org.freedesktop.DBus.Error.AccessDenied', `${member} is not allowed`);
  };

  /** Starts a peer transaction whose successful work is `apply`; returns its address. */
  async function transaction(title: string, apply: () => string | null): Promise<string> {
    if (state.busy > 0) {
      state.busy--;
      throw new DBusMethodError(BUSY, 'Transaction in progress: deploy\n You can cancel the current transaction with `rpm-ostree cancel`');
    }
    const behaviour = state.script.shift() ?? 'success';
    let finished: [boolean, string] | null = null;
    let iface: XmlInterface | undefined = undefined;
    const finish = (ok: boolean, msg: string): void => {
      finished = [ok, msg];
      iface!.emitSignal('Finished', ok, msg);
    };
    iface = interfaceFromXml(xml, 'org.projectatomic.rpmostree1.Transaction', {
      methods: {
        Start: () => {
          record('Start', []);
          if (finished !== null) {
            const f = finished;
            setImmediate(() => iface!.emitSignal('Finished', ...f));
            return false;
          }
          setImmediate(() => {
            iface!.emitSignal('TaskBegin', title);
            iface!.emitSignal('Message', `${title}: working`);
            iface!.emitSignal('PercentProgress', 'Receiving objects', 100);
            iface!.emitSignal('ProgressEnd');
            iface!.emitSignal('TaskEnd', title);
            if (behaviour === 'success') {
              const err = apply();
              finish(err === null, err ?? '');
            } else if (behaviour === 'fail') {
              finish(false, 'simulated failure');
            } else if (behaviour === 'die_peer') {
              void server.close();
            } else if (behaviour === 'leave_bus') {
              bus.disconnect();
            }
          });
          return true;
        },
        Cancel: () => {
          record('Cancel', []);
          if (finished === null) finish(false, 'Operation was cancelled');
        },
      },
      getProperty: (n) => (n === 'Title' ? title : n === 'InitiatingClientDescription' ? 'test' : undefined),
    });
    const server = await listenPeer({ path: join(dir, `tx${++txCount}.sock`), onConnection: (b) => iface.exportOn(b, '/') });
    servers.push(server);
    return server.address;
  }

  const deployOf = (revision: string, options: Record<string, { value: unknown }>): (() => string | null) => {
    return () => {
      const driver = options['register-driver']?.value;
      if (revision === '' && typeof driver === 'string') return null;
      const checksum = revision.replace(/^revision=/i, '');
      const commit = state.commits.get(checksum);
      if (commit === undefined) return `Checksum ${checksum} not found`;
      const booted = state.deployments.find((d) => d.booted)!;
      const kept = state.deployments.filter((d) => !d.staged);
      state.deployments.splice(0, state.deployments.length, {
        checksum,
        version: commit.version,
        origin: commit.origin ?? booted.origin,
        timestampSecs: 1_800_000_000n,
        serial: 0,
        booted: false,
        staged: true,
        locked: options['lock-finalization']?.value === true,
      }, ...kept);
      return null;
    };
  };

  const os = interfaceFromXml(xml, 'org.projectatomic.rpmostree1.OS', {
    methods: {
      Deploy: async ([revision, options]) => {
        record('Deploy', [revision, options]);
        guard('Deploy');
        return transaction('deploy', deployOf(String(revision), options as Record<string, { value: unknown }>));
      },
      FinalizeDeployment: async ([options]) => {
        record('FinalizeDeployment', [options]);
        guard('FinalizeDeployment');
        const want = (options as Record<string, { value: unknown }>)['checksum']?.value;
        return transaction('finalize-deployment', () => {
          const st = state.deployments.find((d) => d.staged);
          if (st === undefined) return 'No pending staged deployment found';
          if (st.checksum !== want) return `Expected staged base checksum ${String(want)}, but found ${st.checksum}`;
          st.locked = false;
          return null;
        });
      },
      Cleanup: async ([elements]) => {
        record('Cleanup', [elements]);
        return transaction('cleanup', () => {
          const i = state.deployments.findIndex((d) => d.staged);
          if (i >= 0) state.deployments.splice(i, 1);
          return null;
        });
      },
    },
    getProperty: (n) => {
      const booted = state.deployments.find((d) => d.booted);
      switch (n) {
        case 'Name': return OSNAME;
        case 'BootedDeployment': return booted ? dict(booted) : {};
        case 'DefaultDeployment': return dict(state.deployments[0]!);
        case 'RollbackDeployment': return {};
        case 'CachedUpdate': return {};
        case 'HasCachedUpdateRpmDiff': return false;
        default: return undefined;
      }
    },
  });

  const sysroot = interfaceFromXml(xml, 'org.projectatomic.rpmostree1.Sysroot', {
    methods: {
      RegisterClient: ([opts], call) => void record('RegisterClient', [opts, call.sender]),
      UnregisterClient: () => void record('UnregisterClient', []),
      Reload: () => void record('Reload', []),
      GetOS: ([name]) => {
        record('GetOS', [name]);
        if (name !== '' && name !== OSNAME) throw new DBusMethodError('org.gtk.GDBus.UnmappedGError.Quark._g_2dio_2derror_2dquark.Code1', `OS name "${String(name)}" not found`);
        return `/org/projectatomic/rpmostree1/${OSNAME}`;
      },
    },
    getProperty: (n) => {
      switch (n) {
        case 'Booted': return `/org/projectatomic/rpmostree1/${OSNAME}`;
        case 'Path': return '/';
        case 'ActiveTransaction': return ['', '', ''];
        case 'ActiveTransactionPath': return '';
        case 'AutomaticUpdatePolicy': return 'none';
        case 'Deployments': return state.deployments.map(dict);
        default: return undefined;
      }
    },
  });
  sysroot.exportOn(bus, SYSROOT_PATH);
  os.exportOn(bus, `/org/projectatomic/rpmostree1/${OSNAME}`);
  await bus.requestName(NAME, 0);

  return Object.assign(state, {
    calls,
    waitForCall: (member: string) =>
      calls.some((c) => c.member === member) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ member, resolve })),
    stop: async () => {
      bus.disconnect();
      for (const s of servers) await s.close();
      await rm(dir, { recursive: true, force: true });
    },
  });
}
