// Test fixture: the real alt-graphd service in-process, over a real repo, on 127.0.0.1.
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock, type Clock } from '../../src/common/clock.js';
import { createLogger } from '../../src/common/logger.js';
import type { OciStreamSettings } from '../../src/graph-server/oci/config.js';
import { startGraphd, type RunningGraphd } from '../../src/graph-server/server.js';

/** Starts alt-graphd for `repoPath` and/or `ociStreams`; `policies` are written as `updates/<stream>.json`. */
export async function startTestGraphd(opts: {
  /** The ostree repo; null for a registry-only graph. */
  repoPath: string | null;
  /** `oci` streams built from registries (alt-graphd's `[[streams]]`). */
  ociStreams?: readonly OciStreamSettings[];
  policies?: Record<string, unknown>;
  implicitRollout?: boolean;
  clock?: Clock;
  pollIntervalSecs?: number;
  port?: number;
  /** Address to listen on. @default "127.0.0.1" (the real-node tests use their bridge's address) */
  host?: string;
  /** Directory of `*.gpg` keyrings: list only commits they verify. */
  verifyKeyringDir?: string;
}): Promise<RunningGraphd & { updatesDir: string; writePolicy(stream: string, policy: unknown): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'alt-graphd-'));
  const updatesDir = join(dir, 'updates');
  await mkdir(updatesDir);
  const writePolicy = (stream: string, policy: unknown): Promise<void> =>
    writeFile(join(updatesDir, `${stream}.json`), JSON.stringify(policy, null, 2));
  for (const [stream, p] of Object.entries(opts.policies ?? {})) await writePolicy(stream, p);
  const running = await startGraphd(
    {
      repo: opts.repoPath,
      updates: updatesDir,
      host: opts.host ?? '127.0.0.1',
      port: opts.port ?? 0,
      refPrefix: 'altcos',
      pollIntervalSecs: opts.pollIntervalSecs ?? 1,
      cacheDir: join(dir, 'cache'),
      implicitRollout: opts.implicitRollout ?? true,
      nowSecs: null,
      verifyKeyringDir: opts.verifyKeyringDir ?? null,
      ...(opts.ociStreams ? { ociStreams: opts.ociStreams } : {}),
    },
    { clock: opts.clock ?? systemClock(), logger: createLogger({ name: 'alt-graphd', level: 'warn', destination: process.stderr }) },
  );
  return Object.assign(running, { updatesDir, writePolicy });
}

/** Polls `cond` every 100 ms until it holds or `timeoutMs` passes (then throws with `what`). */
export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
