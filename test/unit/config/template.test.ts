import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/errors.js';
import { expandUrlTemplate } from '../../../src/config/template.js';

const vars = { basearch: 'x86_64', group: 'workers', platform: 'metal', stream: 'sisyphus' };

describe('config/template expandUrlTemplate', () => {
  it.each([
    ['http://u/${stream}/${basearch}', 'http://u/sisyphus/x86_64'],
    ['http://u/${group}/${group}?p=${platform}', 'http://u/workers/workers?p=metal'],
    ['http://u/${node_uuid}/${os_version}', 'http://u/${node_uuid}/${os_version}'],
    ['http://u/$stream', 'http://u/$stream'],
  ])('expands %s', (url, want) => {
    expect(expandUrlTemplate(url, vars)).toBe(want);
  });

  it.each(['a$b', 'a{b', 'a}b', '${group}'])('rejects a value containing template characters (%s)', (bad) => {
    expect(() => expandUrlTemplate('http://u/${group}', { ...vars, group: bad })).toThrow(ConfigError);
  });

  it('rejects ${platform} when the host has no platform, but not when unused', () => {
    expect(() => expandUrlTemplate('http://u/${platform}', { ...vars, platform: null })).toThrow(/no platform/);
    expect(expandUrlTemplate('http://u/${stream}', { ...vars, platform: null })).toBe('http://u/sisyphus');
  });
});
