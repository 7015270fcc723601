// `alt-updatectl graph next` on Zincati's docs example graph (coreos/zincati
// docs/development/cincinnati/response.json, our fixture zincati-docs-response.json), changed the
// way the issue-11 cases change it, as a user trying Zincati's data would run it.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../../src/cli/commands/graph.js';

interface Doc { nodes: { payload: string }[]; edges: number[][] }
let dir: string;
let docs: Doc;

async function next(doc: unknown, booted: string): Promise<{ code: number; json: Record<string, unknown> }> {
  const file = join(dir, `g-${String(Math.random()).slice(2)}.json`);
  await writeFile(file, JSON.stringify(doc));
  const out: string[] = [];
  const code = await run(['next', '--graph', file, '--booted', booted, '--json'], { stdout: (s) => out.push(s), stderr: () => undefined, env: {} });
  return { code, json: JSON.parse(out.join('')) as Record<string, unknown> };
}

describe('alt-updatectl graph next on Zincati data', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'graph-cli-'));
    docs = JSON.parse(await readFile(new URL('../../fixtures/graph/zincati-docs-response.json', import.meta.url), 'utf8')) as Doc;
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('still decides when a node nobody updates to is malformed', async () => {
    const doc = { ...docs, nodes: [...docs.nodes, { version: '', payload: '', metadata: {} }] };
    const r = await next(doc, docs.nodes[0]!.payload);
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ reason: 'update', target: { version: '32.20200601.1.1' } });
  });

  it('reports a negative edge index as client_failed_json_decoding, as Zincati', async () => {
    const r = await next({ ...docs, edges: [...docs.edges, [-1, 0]] }, docs.nodes[0]!.payload);
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({ error: { kind: 'client_failed_json_decoding' } });
  });
});
