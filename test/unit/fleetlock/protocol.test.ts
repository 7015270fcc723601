import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clientParamsBody, GROUP_PATTERN, parseClientParams, parseErrorBody } from '../../../src/fleetlock/protocol.js';

describe('src/fleetlock/protocol parseClientParams', () => {
  it.each([
    [{ client_params: { id: 'a', group: 'default' } }, 'ok'],
    [{ client_params: { id: 'a', group: 'a.b-C9' } }, 'ok'],
    [null, 'invalid_body'],
    [[], 'invalid_body'],
    ['x', 'invalid_body'],
    [{}, 'invalid_body'],
    [{ client_params: [] }, 'invalid_body'],
    [{ client_params: { group: 'default' } }, 'invalid_client_params'],
    [{ client_params: { id: '', group: 'default' } }, 'invalid_client_params'],
    [{ client_params: { id: 7, group: 'default' } }, 'invalid_client_params'],
    [{ client_params: { id: 'a\nb', group: 'default' } }, 'invalid_client_params'],
    [{ client_params: { id: 'x'.repeat(257), group: 'default' } }, 'invalid_client_params'],
    [{ client_params: { id: 'node-\u0085', group: 'default' } }, 'invalid_client_params'],
    [{ client_params: { id: 'node-\u007f', group: 'default' } }, 'invalid_client_params'],
    [{ client_params: { id: 'node-\udcff', group: 'default' } }, 'invalid_client_params'],
    [{ client_params: { id: '\ud83dnode', group: 'default' } }, 'invalid_client_params'],
    [{ client_params: { id: ' node', group: 'default' } }, 'invalid_client_params'],
    [{ client_params: { id: 'node\u00a0', group: 'default' } }, 'invalid_client_params'],
    [{ client_params: { id: 'nöde 🎉 1', group: 'default' } }, 'ok'],
    [{ client_params: { id: 'a', group: '' } }, 'invalid_client_params'],
    [{ client_params: { id: 'a', group: 'a b' } }, 'invalid_client_params'],
    [{ client_params: { id: 'a', group: 'a_b' } }, 'invalid_client_params'],
    [{ client_params: { id: 'a' } }, 'invalid_client_params'],
  ])('%j -> %s', (body, expected) => {
    const r = parseClientParams(body);
    expect(r.ok ? 'ok' : r.kind).toBe(expected);
  });

  it('accepts exactly the groups matching ^[a-zA-Z0-9.-]+$ (property)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40 }), fc.string({ minLength: 0, maxLength: 20 }), (id, grp) => {
        const r = parseClientParams({ client_params: { id, group: grp } });
        const idOk = [...id].every((ch) => ch.charCodeAt(0) >= 0x20 && ch.charCodeAt(0) !== 0x7f) && id.trim() === id;
        expect(r.ok).toBe(idOk && GROUP_PATTERN.test(grp));
      }),
    );
  });

  it('never throws on arbitrary JSON values (property)', () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => void parseClientParams(v)));
  });

  it('round-trips the body the client sends', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 30 }).filter((s) => [...s].every((ch) => ch.charCodeAt(0) >= 0x20 && ch.charCodeAt(0) !== 0x7f) && s.trim() === s), fc.stringMatching(/^[a-zA-Z0-9.-]{1,20}$/), (id, grp) => {
        const r = parseClientParams(JSON.parse(clientParamsBody({ id, group: grp })));
        expect(r).toEqual({ ok: true, params: { id, group: grp } });
      }),
    );
  });
});

describe('src/fleetlock/protocol parseErrorBody', () => {
  it.each([
    [{ kind: 'failed_lock_semaphore_full', value: 'full' }, { kind: 'failed_lock_semaphore_full', value: 'full' }],
    [{ kind: 'k' }, { kind: 'k', value: '' }],
    [{ kind: '' }, null],
    [{ value: 'v' }, null],
    ['text', null],
    [null, null],
  ])('%j -> %j', (body, expected) => {
    expect(parseErrorBody(body)).toEqual(expected);
  });
});
