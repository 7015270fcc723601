// Which host driver alt-ostreed takes at start-up: bootc only on a bootc host (bootc executable
// present and the booted deployment an image), as configured otherwise.
import { describe, expect, it } from 'vitest';
import type { Logger } from '../../../src/common/logger.js';
import type { CommandRunner } from '../../../src/ostree/backend/command.js';
import { DEFAULT_CONFIG, type BackendConfig } from '../../../src/ostree/backend/config.js';
import { chooseDriver } from '../../../src/ostree/backend/select-driver.js';

const booted = (image: unknown) =>
  JSON.stringify({
    apiVersion: 'org.containers.bootc/v1',
    kind: 'BootcHost',
    status: { booted: { image, incompatible: false, pinned: false, ostree: { checksum: 'a'.repeat(64), deploySerial: 0, stateroot: 'alt-atomic' } } },
  });
const IMAGE = { image: { image: 'r/alt/atomic:stable', transport: 'registry' }, imageDigest: `sha256:${'b'.repeat(64)}`, architecture: 'amd64' };
const logger = { info: () => undefined, warn: () => undefined, debug: () => undefined, error: () => undefined, child: () => logger } as unknown as Logger;

async function choose(config: Partial<BackendConfig>, status: string | null) {
  const bootcCalls: string[] = [];
  const runBootc: CommandRunner = async (argv) => {
    bootcCalls.push(argv.join(' '));
    return { stdout: status ?? '', stderr: '' };
  };
  const runOstree: CommandRunner = async () => ({ stdout: '', stderr: '' });
  const driver = await chooseDriver({ config: { ...DEFAULT_CONFIG, ...config }, sysroot: '/', runOstree, runBootc, defaultStateroot: 'x', logger });
  return { kind: driver.kind, bootcCalls };
}

describe('chooseDriver', () => {
  it('takes bootc when bootc is executable and reports a booted image', async () => {
    expect((await choose({ bootcPath: '/bin/true' }, booted(IMAGE))).kind).toBe('bootc');
  });

  it('takes ostree when bootc reports no booted image (an ostree-ref host with bootc installed)', async () => {
    expect((await choose({ bootcPath: '/bin/true' }, booted(null))).kind).toBe('ostree');
  });

  it('takes ostree without asking bootc when it is not installed, or when ostree is configured', async () => {
    expect(await choose({ bootcPath: '/nonexistent/bootc' }, booted(IMAGE))).toEqual({ kind: 'ostree', bootcCalls: [] });
    expect(await choose({ bootcPath: '/bin/true', driver: 'ostree' }, booted(IMAGE))).toEqual({ kind: 'ostree', bootcCalls: [] });
  });

  it('refuses to start with driver "bootc" on a host that is not one', async () => {
    await expect(choose({ bootcPath: '/nonexistent/bootc', driver: 'bootc' }, null)).rejects.toThrow('bootc.driver is "bootc" but /nonexistent/bootc is not an executable');
    await expect(choose({ bootcPath: '/bin/true', driver: 'bootc' }, booted(null))).rejects.toMatchObject({ code: 'OSTREED_CONFIG' });
  });

  it('fails start-up on bootc status it cannot read, naming the field', async () => {
    await expect(choose({ bootcPath: '/bin/true' }, '{"apiVersion":"org.containers.bootc/v1","kind":"BootcHost","status":{"booted":{"pinned":false}}}')).rejects.toThrow(
      'bootc status: status.booted.ostree: missing',
    );
  });
});
