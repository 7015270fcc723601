import { describe, expect, it } from 'vitest';
import { createRepo, ostree, serveDir } from '../helpers/ostree-repo.js';

describe('test/helpers/ostree-repo', () => {
  it('builds a real archive repo whose commits carry version metadata and pull over loopback HTTP', async () => {
    const repo = await createRepo();
    const a = await repo.commit({ ref: 'altcos/x86_64/sisyphus', version: '20261101.0.0', timestamp: '2026-11-01 00:00:00' });
    const b = await repo.commit({ ref: 'altcos/x86_64/sisyphus', version: '20261115.0.0' });
    expect(a.checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(await ostree([`--repo=${repo.path}`, 'rev-parse', 'altcos/x86_64/sisyphus^'])).toBe(a.checksum);
    expect(await ostree([`--repo=${repo.path}`, 'show', '--print-metadata-key=version', b.checksum])).toBe("'20261115.0.0'");
    const srv = await serveDir(repo.path);
    try {
      const res = await fetch(`${srv.url}/config`);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('mode=archive');
    } finally {
      await srv.close();
    }
  });
});
