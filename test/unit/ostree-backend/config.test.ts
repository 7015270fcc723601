import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, parseBackendConfig, resolveUids } from '../../../src/ostree/backend/config.js';

describe('parseBackendConfig', () => {
  it('gives the defaults for an empty file', () => {
    expect(parseBackendConfig({}, 'x.toml')).toEqual(DEFAULT_CONFIG);
  });

  it('reads every section', () => {
    const c = parseBackendConfig(
      {
        ostree: { remote: 'altcos', 'command-prefix': ['/w', 's'], 'reboot-command': ['true'], 'automatic-update-policy': 'stage' },
        transaction: { socket: '/tmp/t.sock', 'force-close-timeout-secs': 1 },
        authorization: { users: ['alt-updated'], methods: ['Deploy', 'FinalizeDeployment'] },
      },
      'x.toml',
    );
    expect(c).toMatchObject({ remote: 'altcos', commandPrefix: ['/w', 's'], rebootCommand: ['true'], transactionSocket: '/tmp/t.sock' });
    expect(c.methods).toEqual(['Deploy', 'FinalizeDeployment']);
  });

  it.each([
    [{ nope: {} }, 'x.toml: unknown section [nope]'],
    [{ authorization: { users: 'root' } }, 'x.toml: authorization.users: expected an array of strings'],
    [{ authorization: { methods: ['Upgrade'] } }, "x.toml: authorization.methods: unknown method 'Upgrade'"],
    [{ ostree: { 'reboot-command': [] } }, 'x.toml: ostree.reboot-command: must not be empty'],
    [{ bootc: { driver: 'rpm-ostree' } }, 'x.toml: bootc.driver: expected auto, ostree or bootc'],
    [{ bootc: { binary: '/usr/bin/bootc' } }, 'x.toml: bootc.binary: unknown key'],
    [{ bootc: { path: '' } }, 'x.toml: bootc.path: expected a non-empty string'],
  ])('names the file and key of a bad value: %j', (doc, message) => {
    expect(() => parseBackendConfig(doc, 'x.toml')).toThrow(message);
  });
});

describe('the [bootc] section', () => {
  it('probes by default, bootc at /usr/bin/bootc, naming the host policy', () => {
    expect(parseBackendConfig({}, 'x.toml')).toMatchObject({ driver: 'auto', bootcPath: '/usr/bin/bootc', signaturePolicy: '/etc/containers/policy.json' });
  });

  it('takes a forced driver, another bootc and policy', () => {
    expect(parseBackendConfig({ bootc: { driver: 'bootc', path: '/opt/bootc', policy: '/etc/p.json' } }, 'x.toml')).toMatchObject({
      driver: 'bootc',
      bootcPath: '/opt/bootc',
      signaturePolicy: '/etc/p.json',
    });
  });
});

describe('resolveUids', () => {
  it('maps names through passwd and keeps numeric uids', () => {
    const passwd = 'root:x:0:0::/root:/bin/sh\nalt-updated:x:990:990::/:/usr/sbin/nologin\n';
    expect(resolveUids(['alt-updated', '1234', 'ghost'], passwd)).toEqual({ uids: [990, 1234], unknown: ['ghost'] });
  });
});
