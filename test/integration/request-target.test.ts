// Request targets that are not URLs (`//[`, `//%zz%`, an absolute-form target with a bad port) are
// client mistakes: both HTTP daemons, run as built processes, answer 400 with their usual
// `{kind, value}` error body, never 500. Sent over raw sockets, since HTTP clients refuse to send them.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnServer, type Spawned } from './fleetlock/spawn.js';
import { createRepo } from '../helpers/ostree-repo.js';

const TARGETS = ['//[', '//%zz%', 'http://127.0.0.1:99999/v1/graph', 'http://[::1/v1/pre-reboot'];

/** Sends one raw request line and returns the status code and the body (parsed when JSON). */
function rawRequest(port: number, method: string, target: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let data = '';
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => (data += d));
    sock.on('error', reject);
    sock.on('end', () => {
      const m = /^HTTP\/1\.1 (\d{3}) /.exec(data);
      const body = data.slice(data.indexOf('\r\n\r\n') + 4);
      let parsed: unknown = body;
      try {
        parsed = JSON.parse(body);
      } catch {
        // not JSON (e.g. /healthz text): keep the raw text
      }
      resolve({ status: m ? Number(m[1]) : 0, body: parsed });
    });
    sock.write(`${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
  });
}

let dir: string;
let fleetlockd: Spawned;
let graphd: ChildProcess;
let graphdPort: number;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'request-target-'));
  fleetlockd = await spawnServer(['--listen', '127.0.0.1:0', '--group', 'default=1', '--state-dir', join(dir, 'state')]);
  const repo = await createRepo(dir);
  await repo.commit({ ref: 'altcos/x86_64/sisyphus', version: 'sisyphus.20261101.0.0' });
  await mkdir(join(dir, 'updates'));
  const toml = join(dir, 'graphd.toml');
  await writeFile(toml, `repo = "${repo.path}"\nupdates = "${join(dir, 'updates')}"\nlisten = "127.0.0.1:0"\n`);
  graphd = spawn(process.execPath, ['dist/src/graph-server/main.js', '--config', toml], { stdio: ['ignore', 'pipe', 'pipe'] });
  graphdPort = await new Promise<number>((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = /address=127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    };
    graphd.stdout!.on('data', onData);
    graphd.stderr!.on('data', onData);
    graphd.once('exit', (code) => reject(new Error(`alt-graphd exited ${String(code)}: ${out}`)));
  });
});

afterAll(async () => {
  await fleetlockd?.stop();
  if (graphd && graphd.exitCode === null) {
    const exited = new Promise((r) => graphd.once('exit', r));
    graphd.kill('SIGTERM');
    await exited;
  }
  await rm(dir, { recursive: true, force: true });
});

describe('a request target that is not a URL', () => {
  it.each(TARGETS)('alt-fleetlockd answers %s with 400 invalid_request_target', async (target) => {
    const r = await rawRequest(Number(new URL(fleetlockd.url).port), 'POST', target);
    expect(r).toMatchObject({ status: 400, body: { kind: 'invalid_request_target', value: expect.any(String) as string } });
    // The server keeps serving.
    expect((await rawRequest(Number(new URL(fleetlockd.url).port), 'GET', '/healthz')).status).toBe(200);
  });

  it.each(TARGETS)('alt-graphd answers %s with 400 invalid_request_target', async (target) => {
    const r = await rawRequest(graphdPort, 'GET', target);
    expect(r).toMatchObject({ status: 400, body: { kind: 'invalid_request_target', value: expect.any(String) as string } });
    expect((await rawRequest(graphdPort, 'GET', '/v1/graph?basearch=x86_64')).status).toBe(400);
  });
});
