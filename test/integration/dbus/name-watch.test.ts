// watchNameOwner on a real dbus-daemon (issue 11): a caller can leave the bus while alt-ostreed is
// still setting up its transaction, before the watch on its name is in place. NameOwnerChanged went
// out before the match existed, so only asking the bus tells the watcher; without that the
// transaction waited for a Start forever and every other call was answered busy.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectBus, getNameOwner, uniqueName, watchNameOwner } from '../../../src/dbus/bus.js';
import type { MessageBus } from '../../../src/dbus/peer.js';
import { startPrivateBus, type PrivateBus } from '../../helpers/dbus-daemon.js';
import { waitFor } from '../../helpers/graphd.js';

describe('watchNameOwner', () => {
  let daemon: PrivateBus;
  let watcher: MessageBus;
  beforeAll(async () => {
    daemon = await startPrivateBus();
    watcher = await connectBus({ address: daemon.address });
  });
  afterAll(async () => {
    watcher?.disconnect();
    await daemon?.stop();
  });

  /** A second connection's unique name, and a way to drop it. */
  const caller = async (): Promise<{ name: string; leave: () => Promise<void> }> => {
    const bus = await connectBus({ address: daemon.address });
    const name = uniqueName(bus)!;
    return {
      name,
      leave: async () => {
        bus.disconnect();
        await waitFor(`${name} to leave the bus`, async () => (await getNameOwner(watcher, name)) === null, 30_000);
      },
    };
  };

  it('reports a name that vanished before the watch was in place', async () => {
    const c = await caller();
    await c.leave();
    const seen: string[] = [];
    const stop = await watchNameOwner(watcher, c.name, (owner) => seen.push(owner));
    await waitFor('the vanished owner to be reported', () => seen.length > 0, 5_000).catch(() => undefined);
    stop();
    expect(seen).toEqual(['']);
  });

  it('reports a present name once, when it leaves (not at subscription)', async () => {
    const c = await caller();
    const seen: string[] = [];
    const stop = await watchNameOwner(watcher, c.name, (owner) => seen.push(owner));
    expect(seen).toEqual([]);
    await c.leave();
    await waitFor('the owner to be reported gone', () => seen.length > 0, 30_000);
    stop();
    expect(seen).toEqual(['']);
  });
});
