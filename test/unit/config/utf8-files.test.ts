// Every TOML loader refuses a file that is not valid UTF-8, naming the file and the line, instead of
// loading U+FFFD into a value (TOML documents are UTF-8 by definition).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFragment } from '../../../src/config/fragments.js';
import { loadConfigFile } from '../../../src/fleetlock/server/args.js';
import { loadGraphdConfig } from '../../../src/graph-server/config.js';
import { loadBackendConfig } from '../../../src/ostree/backend/config.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'utf8-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes `lines`, with the bytes \xff\xfe spliced into the string value on line `badLine`. */
async function fileWithBadBytes(name: string, lines: string[], badLine: number): Promise<string> {
  const path = join(dir, name);
  const parts = lines.map((l, i) => {
    if (i + 1 !== badLine) return Buffer.from(`${l}\n`);
    const cut = l.lastIndexOf('"');
    return Buffer.concat([Buffer.from(l.slice(0, cut)), Buffer.from([0xff, 0xfe]), Buffer.from(`${l.slice(cut)}\n`)]);
  });
  await writeFile(path, Buffer.concat(parts));
  return path;
}

const caught = async (p: Promise<unknown> | (() => unknown)): Promise<{ code?: string; message: string }> => {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err: unknown) {
    return err as { code?: string; message: string };
  }
  throw new Error('expected a rejection');
};

describe('TOML files that are not valid UTF-8', () => {
  it('the agent refuses a config fragment (a base_url with \\xff\\xfe), naming file and line', async () => {
    const path = await fileWithBadBytes('50-fleetlock.toml', ['[updates]', 'strategy = "fleet_lock"', '[updates.fleet_lock]', 'base_url = "http://fleetlock.example/"'], 4);
    const err = await caught(readFragment(path));
    expect(err).toMatchObject({ code: 'CONFIG_SYNTAX' });
    expect(err.message).toContain(`${path}:4:`);
    expect(err.message).toContain('UTF-8');
  });

  it('alt-ostreed refuses its config file, naming file and line', async () => {
    const path = await fileWithBadBytes('ostreed.toml', ['[ostree]', 'remote = "altcos"'], 2);
    const err = await caught(loadBackendConfig(path));
    expect(err).toMatchObject({ code: 'OSTREED_CONFIG' });
    expect(err.message).toContain(`${path}:2:`);
    expect(err.message).toContain('UTF-8');
  });

  it('alt-graphd refuses its config file, naming file and line', async () => {
    const path = await fileWithBadBytes('graphd.toml', ['repo = "/srv/repo"', 'updates = "/srv/updates"'], 2);
    const err = await caught(loadGraphdConfig(['--config', path]));
    expect(err).toMatchObject({ code: 'GRAPHD_CONFIG' });
    expect(err.message).toContain(`${path}:2:`);
    expect(err.message).toContain('UTF-8');
  });

  it('alt-fleetlockd refuses its config file, naming file and line', async () => {
    const path = await fileWithBadBytes('fleetlockd.toml', ['admin_token = "x"', '[groups.default]', 'token = "secret"'], 3);
    const err = await caught(() => loadConfigFile(path));
    expect(err).toMatchObject({ code: 'FLEETLOCKD_CONFIG_INVALID' });
    expect(err.message).toContain(`${path}:3:`);
    expect(err.message).toContain('UTF-8');
  });
});
