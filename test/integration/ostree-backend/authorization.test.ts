// Authorisation: uid 0 is always allowed; another uid only for the users and methods in the
// config, checked with the bus's GetConnectionUnixUser; refusals are AccessDenied.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type RunningBackend } from '../../helpers/alt-ostreed.js';
import { SYSTEM_BUS_DEFAULT_POLICY, startPrivateBus, type PrivateBus } from '../../helpers/dbus-daemon.js';
import { BACKEND_REF, startBackendWorld, type BackendWorld } from '../../helpers/backend-world.js';
import { createRepo, type FixtureCommit } from '../../helpers/ostree-repo.js';
import type { TestSysroot } from '../../helpers/sysroot.js';
import { asNobody, NOBODY } from './rpmostree-client.js';

const REF = BACKEND_REF;
const POLICY = fileURLToPath(new URL('../../../systemd/dbus-1/system.d/org.projectatomic.rpmostree1.conf', import.meta.url));


describe('alt-ostreed authorisation', () => {
  let bus: PrivateBus;
  let sysroot: TestSysroot;
  let world: BackendWorld | undefined;
  let daemon: RunningBackend | null = null;
  const c: FixtureCommit[] = [];

  beforeAll(async () => {
    const repo = await createRepo();
    c.push(await repo.commit({ ref: REF, version: '1.0', timestamp: '2024-01-01 00:00:00' }));
    c.push(await repo.commit({ ref: REF, version: '1.1', timestamp: '2024-02-01 00:00:00' }));
    ({ sysroot, bus } = world = await startBackendWorld(repo, c[0]!.checksum));
  });

  afterEach(async () => {
    await daemon?.stop();
    daemon = null;
  });

  afterAll(async () => {
    await world?.close();
  });

  it('refuses every method to a uid that is not configured, but lets it read properties', async () => {
    daemon = await startBackend({ busAddress: bus.address, sysroot });
    expect((await asNobody(bus, 'getos')).error?.name).toBe('org.freedesktop.DBus.Error.AccessDenied');
    const deploy = await asNobody(bus, 'deploy', c[1]!.checksum);
    expect(deploy.error).toEqual({ name: 'org.freedesktop.DBus.Error.AccessDenied', text: `Deploy is not allowed for uid ${NOBODY}` });
    expect((await asNobody(bus, 'deployments')).result).toBe(1);
  });

  it('allows a configured user exactly the configured methods', async () => {
    daemon = await startBackend({ busAddress: bus.address, sysroot, users: ['nobody'], methods: ['GetOS'] });
    expect((await asNobody(bus, 'getos')).result).toBe('/org/projectatomic/rpmostree1/altcos');
    expect((await asNobody(bus, 'register')).error?.name).toBe('org.freedesktop.DBus.Error.AccessDenied');
    expect((await asNobody(bus, 'deploy', c[1]!.checksum)).error?.name).toBe('org.freedesktop.DBus.Error.AccessDenied');
  });

  it('lets a configured non-root agent stage through the peer-to-peer transaction', async () => {
    daemon = await startBackend({ busAddress: bus.address, sysroot, users: [String(NOBODY)], methods: ['GetOS', 'Deploy'] });
    expect(await asNobody(bus, 'deploy', c[1]!.checksum)).toEqual({ result: { success: true, error: '' } });
    const status = await sysroot.exec(['ostree', 'admin', 'status']);
    expect(status.stdout).toContain(`${c[1]!.checksum}.0 (staged)`);
  });

  it('ships a bus policy that lets others introspect and read but only root and the agent user call', async () => {
    // The shipped policy with the agent user swapped for nobody (no alt-updated user exists here).
    const policy = join(sysroot.stateDir, 'policy.conf');
    await writeFile(policy, (await readFile(POLICY, 'utf8')).replace('user="alt-updated"', 'user="nobody"'));
    const strictBus = await startPrivateBus({ permissive: false, extraConfig: `${SYSTEM_BUS_DEFAULT_POLICY}<include>${policy}</include>` });
    try {
      daemon = await startBackend({ busAddress: strictBus.address, sysroot, users: ['nobody'], methods: ['GetOS'] });
      expect((await asNobody(strictBus, 'getos')).result).toBe('/org/projectatomic/rpmostree1/altcos');
      expect((await asNobody(strictBus, 'deployments')).result).toBeGreaterThan(0);
      await writeFile(policy, (await readFile(POLICY, 'utf8')).replace('user="alt-updated"', 'user="alt-updated-absent"'));
      await daemon.stop();
      await strictBus.stop();
    } finally {
      await strictBus.stop().catch(() => undefined);
    }
    const denyBus = await startPrivateBus({ permissive: false, extraConfig: `${SYSTEM_BUS_DEFAULT_POLICY}<include>${policy}</include>` });
    try {
      daemon = await startBackend({ busAddress: denyBus.address, sysroot, users: ['nobody'], methods: ['GetOS'] });
      // Refused by the bus itself now, before alt-ostreed sees the call; reading is still allowed.
      expect((await asNobody(denyBus, 'getos')).error?.name).toBe('org.freedesktop.DBus.Error.AccessDenied');
      expect((await asNobody(denyBus, 'deployments')).result).toBeGreaterThan(0);
      await daemon.stop();
    } finally {
      await denyBus.stop();
    }
  });
});
