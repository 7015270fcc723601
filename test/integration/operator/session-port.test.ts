// The agent's session port (src/agent/adapters/sessions.ts) writing its warning to the interactive
// sessions' ttys, in a temp directory standing in for /dev. Found on a real node
// (test/e2e/logind-sessions.test.ts): the warning went out without its broadcast header and line
// ends, so on a terminal it ran on from the user's shell prompt and into their next input.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionPort } from '../../../src/agent/adapters/sessions.js';
import type { SessionProbe, UserSession } from '../../../src/agent/operator/sessions.js';
import { memoryLogger } from '../../../src/common/logger.js';

const alice: UserSession = { id: '3', user: 'alice', uid: 1000, tty: 'pts/0', class: 'user', type: 'tty', remote: false, state: 'active' };
const probe: SessionProbe = {
  interactiveSessions: () => Promise.resolve([alice, { ...alice, id: 'c1', user: 'bob', tty: null, type: 'unspecified', class: 'background' }]),
  shutdownBlockers: () => Promise.resolve([]),
  close: () => undefined,
};

describe('agent/adapters/sessions warn', () => {
  let dev = '';
  beforeAll(async () => {
    dev = await mkdtemp(join(tmpdir(), 'dev-'));
    await mkdir(join(dev, 'pts'));
    await writeFile(join(dev, 'pts', '0'), '');
  });
  afterAll(async () => rm(dev, { recursive: true, force: true }));

  it('frames the warning as a broadcast: a line end, the header with the time, the text, a line end', async () => {
    const port = sessionPort(probe, memoryLogger(), { nowMs: () => Date.UTC(2026, 10, 27, 10, 0, 0), devRoot: dev });
    const text = 'New update 20261127.0 is available and has been deployed.\nPlease log out of all active sessions.';
    await port.warn(text);
    const written = await readFile(join(dev, 'pts', '0'), 'utf8');
    expect(written).toBe(`\r\nBroadcast message from alt-updated at Fri 2026-11-27 10:00:00 UTC:\r\n${text.replace(/\n/g, '\r\n')}\r\n`);
  });
});
