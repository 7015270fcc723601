// Corpus config fragments that the loader rejects, given to the real agent process: each start must
// end in one `config_invalid` record naming the fragment and exit code 1 -- no stack trace, no other
// output, no hang (systemd's Restart=on-failure then shows the operator the message).
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/errors.js';
import { parseFragment } from '../../../src/config/fragments.js';
import { settingsFromFragments } from '../../../src/config/load.js';
import { ALT_UPDATED, ALT_UPDATED_NODE_ARGS } from '../../helpers/testbed-node.js';
import { generateConfigCases } from '../../unit/corpus/gen-config.js';

const SEED = 9119;
const CASES = 24;
const FRAGMENT = 'etc/alt-updated/config.d/50-corpus.toml';

function runAgent(root: string): Promise<{ code: number | null; lines: string[] }> {
  const child = spawn(process.execPath, [...ALT_UPDATED_NODE_ARGS, ALT_UPDATED, '--root', root, '--log-format', 'json', '--bus-address', 'unix:path=/nonexistent/bus'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NOTIFY_SOCKET: '' },
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, lines: out.split('\n').filter((l) => l.trim() !== '') })));
}

describe('real agent started with malformed config fragments from the corpus', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'alt-faults-config-'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it(`exits 1 with one config_invalid record naming the fragment, for ${CASES} rejected fragments`, async () => {
    // Only fragments the loader rejects without --strict (the agent is not strict by default).
    const rejected = generateConfigCases(SEED, 400)
      .filter((c) => {
        try {
          settingsFromFragments([parseFragment('/x.toml', c.text)]);
          return false;
        } catch (err: unknown) {
          if (!(err instanceof ConfigError)) throw err;
          return true;
        }
      })
      .slice(0, CASES);
    expect(rejected).toHaveLength(CASES);
    const results: { code: number | null; lines: string[] }[] = [];
    // Four at a time: the machine has two cores shared with other suites.
    for (let i = 0; i < rejected.length; i += 4) {
      results.push(
        ...(await Promise.all(
          rejected.slice(i, i + 4).map(async (c, j) => {
            const root = join(dir, `r${i + j}`);
            await mkdir(join(root, 'etc/alt-updated/config.d'), { recursive: true });
            await writeFile(join(root, FRAGMENT), c.text);
            return runAgent(root);
          }),
        )),
      );
    }
    for (const [i, r] of results.entries()) {
      const where = `case ${i} (${rejected[i]!.family}, seed ${SEED})`;
      expect(r.code, where).toBe(1);
      const records = r.lines.map((l) => JSON.parse(l) as { event?: string; msg: string; level: number });
      expect(records.map((rec) => rec.event), where).toEqual(['config_invalid']);
      expect(records[0]!.msg, where).toContain(join(dir, `r${i}`, FRAGMENT));
    }
  });
});
