import { afterAll, describe, expect, it } from 'vitest';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { loadSettings } from '../../../src/config/load.js';
import { DEFAULT_SETTINGS } from '../../../src/config/settings.js';
import { tempRoot, USR } from './fs-tree.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups) await c();
});

describe('systemd/config.d shipped fragments', () => {
  it('install into /usr/lib and load without warnings into the code defaults', async () => {
    const { root, cleanup } = await tempRoot();
    cleanups.push(cleanup);
    await cp(new URL('../../../systemd/config.d', import.meta.url).pathname, join(root, USR), { recursive: true });
    const loaded = await loadSettings({ root, strict: true });
    expect(loaded.warnings).toEqual([]);
    expect(loaded.fragments.map((f) => f.slice(root.length + USR.length + 2))).toEqual([
      '10-agent.toml',
      '10-auto-updates.toml',
      '10-identity.toml',
      '30-updates-strategy.toml',
      '50-altcos-cincinnati.toml',
    ]);
    expect(loaded.settings).toEqual(DEFAULT_SETTINGS);
  });
});
