import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAdminStatus, parseLog, parseShow, type StatusEntry } from '../../../src/ostree/backend/status-parse.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

// Recorded from ostree 2022.7 inside the fake-booted test sysroot.
const RECORDED = `  altcos ${B}.1 (staged)
    Version: 1.1
    origin refspec: altcos:altcos/x86_64/s
* altcos ${A}.0
    Version: 1.0
    origin refspec: altcos:altcos/x86_64/s
  altcos ${A}.1 (rollback)
    Unlocked: development
    origin refspec: altcos:altcos/x86_64/s
    Pinned: yes
`;

describe('parseAdminStatus', () => {
  it('reads boot order, markers, version, origin, pin and unlock state', () => {
    const [staged, booted, rollback] = parseAdminStatus(RECORDED);
    expect(staged).toMatchObject({ checksum: B, serial: 1, staged: true, booted: false, version: '1.1', origin: 'altcos:altcos/x86_64/s' });
    expect(booted).toMatchObject({ checksum: A, serial: 0, booted: true, staged: false, rollback: false });
    expect(rollback).toMatchObject({ rollback: true, pinned: true, unlocked: 'development', version: null });
  });

  it('reads "No deployments." as an empty list and rejects stray lines', () => {
    expect(parseAdminStatus('No deployments.\n')).toEqual([]);
    expect(() => parseAdminStatus('garbage\n')).toThrow(/cannot parse ostree admin status/);
  });

  it('round-trips any rendered status (property)', () => {
    const entry = fc.record({
      osname: fc.stringMatching(/^[a-z][a-z0-9-]{0,12}$/),
      checksum: fc.stringMatching(/^[0-9a-f]{64}$/),
      serial: fc.nat(20),
      booted: fc.boolean(),
      staged: fc.boolean(),
      pending: fc.boolean(),
      rollback: fc.boolean(),
      lockedByOstree: fc.constant(false),
      pinned: fc.boolean(),
      unlocked: fc.constantFrom('none', 'development', 'hotfix'),
      version: fc.option(fc.stringMatching(/^[0-9][0-9A-Za-z.+~-]{0,15}$/), { nil: null }),
      origin: fc.option(fc.stringMatching(/^[a-z]+:[a-z0-9/_-]{1,30}$/), { nil: null }),
    });
    const render = (e: StatusEntry): string => {
      const flags = [e.pending && 'pending', e.rollback && 'rollback', e.staged && 'staged'].filter(Boolean).map((f) => ` (${f as string})`);
      const lines = [`${e.booted ? '*' : ' '} ${e.osname} ${e.checksum}.${e.serial}${flags.join('')}`];
      if (e.version !== null) lines.push(`    Version: ${e.version}`);
      if (e.unlocked !== 'none') lines.push(`    Unlocked: ${e.unlocked}`);
      lines.push(e.origin !== null ? `    origin refspec: ${e.origin}` : '    origin: none');
      if (e.pinned) lines.push('    Pinned: yes');
      return lines.join('\n');
    };
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 5 }), (entries) => {
        expect(parseAdminStatus(`${entries.map(render).join('\n')}\n`)).toEqual(entries);
      }),
    );
  });
});

describe('parseShow and parseLog', () => {
  const show = `commit ${B}\nParent:  ${A}\nContentChecksum:  ${'c'.repeat(64)}\nDate:  2024-02-01 00:00:00 +0000\nVersion: 1.1\n\n    ALT 1.1\n`;

  it('reads parent, UTC date and version of a commit', () => {
    expect(parseShow(show)).toEqual({ checksum: B, parent: A, timestampSecs: Date.UTC(2024, 1, 1) / 1000, version: '1.1' });
  });

  it('ignores a "Version:" inside the subject and splits a log into commits newest first', () => {
    const older = `commit ${A}\nContentChecksum:  ${'d'.repeat(64)}\nDate:  2024-01-01 00:00:00 +0000\n\n    Version: not-metadata\n`;
    const log = parseLog(`${show}\n${older}`);
    expect(log.map((c) => [c.checksum, c.version])).toEqual([
      [B, '1.1'],
      [A, null],
    ]);
  });

  it('rejects a commit without a date', () => {
    expect(() => parseShow(`commit ${A}\n`)).toThrow(/no Date line/);
  });
});
