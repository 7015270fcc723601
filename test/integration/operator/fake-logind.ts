// fakeLogindForTest: a stand-in for systemd-logind (which cannot run here) exporting the few
// org.freedesktop.login1 members the agent uses, on a private bus. Sessions listed in `vanished`
// appear in ListSessions but have no object, like a session that ended between the two calls.
import dbus from 'dbus-next';

/** One session as the fake reports it. */
export interface FakeSession {
  id: string;
  uid: number;
  user: string;
  tty: string;
  class: string;
  type: string;
  remote: boolean;
  state: string;
}

/** One inhibitor row: what, who, why, mode, uid, pid. */
export type FakeInhibitor = [string, string, string, string, number, number];

/** The running fake; mutate `sessions`/`inhibitors`/`vanished` between calls. */
export interface FakeLogind {
  sessions: FakeSession[];
  inhibitors: FakeInhibitor[];
  vanished: string[];
  /** Logs a session in after the start: lists it and exports its object (pushing to `sessions` only lists it). */
  addSession(s: FakeSession): void;
  stop(): void;
}

const sessionPath = (id: string): string => `/org/freedesktop/login1/session/_3${id}`;

class FakeManager extends dbus.interface.Interface {
  constructor(private readonly state: FakeLogind) {
    super('org.freedesktop.login1.Manager');
  }
  ListSessions(): [string, number, string, string, string][] {
    return [...this.state.sessions.map((s) => s.id), ...this.state.vanished].map((id) => {
      const s = this.state.sessions.find((x) => x.id === id);
      return [id, s?.uid ?? 1000, s?.user ?? 'gone', 'seat0', sessionPath(id)];
    });
  }
  ListInhibitors(): FakeInhibitor[] {
    return this.state.inhibitors;
  }
}
FakeManager.configureMembers({
  methods: { ListSessions: { outSignature: 'a(susso)' }, ListInhibitors: { outSignature: 'a(ssssuu)' } },
});

class FakeSessionIface extends dbus.interface.Interface {
  constructor(private readonly s: FakeSession) {
    super('org.freedesktop.login1.Session');
  }
  get Id(): string { return this.s.id; }
  get Name(): string { return this.s.user; }
  get TTY(): string { return this.s.tty; }
  get Class(): string { return this.s.class; }
  get Type(): string { return this.s.type; }
  get Remote(): boolean { return this.s.remote; }
  get State(): string { return this.s.state; }
}
FakeSessionIface.configureMembers({
  properties: {
    Id: { signature: 's', access: 'read' },
    Name: { signature: 's', access: 'read' },
    TTY: { signature: 's', access: 'read' },
    Class: { signature: 's', access: 'read' },
    Type: { signature: 's', access: 'read' },
    Remote: { signature: 'b', access: 'read' },
    State: { signature: 's', access: 'read' },
  },
});

/** Exports the fake on `busAddress` as org.freedesktop.login1. */
export async function fakeLogindForTest(busAddress: string, sessions: FakeSession[], inhibitors: FakeInhibitor[] = []): Promise<FakeLogind> {
  const bus = dbus.sessionBus({ busAddress });
  const state: FakeLogind = {
    sessions,
    inhibitors,
    vanished: [],
    addSession: (s) => {
      state.sessions.push(s);
      bus.export(sessionPath(s.id), new FakeSessionIface(s));
    },
    stop: () => bus.disconnect(),
  };
  // Like sd-bus in the real logind: an object that is gone answers UnknownObject.
  bus.addMethodHandler((msg: InstanceType<typeof dbus.Message>) => {
    if (!state.vanished.some((id) => sessionPath(id) === msg.path)) return false;
    // dbus-next's types declare the first argument as string; it is the Message being answered.
    bus.send(dbus.Message.newError(msg as unknown as string, 'org.freedesktop.DBus.Error.UnknownObject', `Unknown object '${msg.path}'.`));
    return true;
  });
  bus.export('/org/freedesktop/login1', new FakeManager(state));
  for (const s of sessions) bus.export(sessionPath(s.id), new FakeSessionIface(s));
  await bus.requestName('org.freedesktop.login1', dbus.NameFlag.DO_NOT_QUEUE);
  return state;
}
