import { describe, expect, it } from 'vitest';
import { appSpecificId, parseMachineId, ZINCATI_APP_ID } from '../../../src/identity/node-id.js';
import { IdentityError } from '../../../src/identity/errors.js';

describe('identity/node-id appSpecificId', () => {
  // Vectors from the reference notes (zincati-behaviour.md §4).
  it.each([
    ['2e074e9b299c41a59923c51ae16f279b', '033b1b9b264441fcaa173e9e5bf35c5a', '4d4a86c9c6644a479560ded5d19a30c5'],
    ['2e074e9b299c41a59923c51ae16f279b', ZINCATI_APP_ID, '074c268827d74fb59ed758e8940cd667'],
    ['2E074E9B299C41A59923C51AE16F279B', ZINCATI_APP_ID, '074c268827d74fb59ed758e8940cd667'],
  ])('machine-id %s with app %s gives %s', (machine, app, want) => {
    expect(appSpecificId(machine, app)).toBe(want);
  });

  it("defaults to Zincati's application id", () => {
    expect(ZINCATI_APP_ID).toBe('de35106b6ec24688b63afddaa156679b');
    expect(appSpecificId('2e074e9b299c41a59923c51ae16f279b')).toBe('074c268827d74fb59ed758e8940cd667');
  });

  it('marks the result as a UUID v4 with the RFC 4122 variant', () => {
    for (const m of ['00000000000000000000000000000001', 'ffffffffffffffffffffffffffffffff', '0123456789abcdef0123456789abcdef']) {
      const id = appSpecificId(m);
      expect(id).toMatch(/^[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}$/);
    }
  });
});

describe('identity/node-id parseMachineId', () => {
  it('trims whitespace and lowercases', () => {
    expect(parseMachineId('  2E074E9B299C41A59923C51AE16F279B\n')).toBe('2e074e9b299c41a59923c51ae16f279b');
  });
  it.each(['', 'uninitialized\n', '2e074e9b299c41a59923c51ae16f279', '2e074e9b-299c-41a5-9923-c51ae16f279b', '00000000000000000000000000000000'])(
    'rejects %j with IDENTITY_MACHINE_ID naming the file',
    (text) => {
      let err: unknown;
      try {
        parseMachineId(text, '/r/etc/machine-id');
      } catch (e: unknown) {
        err = e;
      }
      expect(err).toBeInstanceOf(IdentityError);
      expect((err as IdentityError).code).toBe('IDENTITY_MACHINE_ID');
      expect((err as IdentityError).message).toMatch(/^\/r\/etc\/machine-id: /);
    },
  );
});
