import { describe, expect, it } from 'vitest';
import { expandUrlTemplate } from '../../../src/config/template.js';
import { identityTemplateVars } from '../../../src/identity/template-vars.js';

describe('identity/template-vars identityTemplateVars', () => {
  it('expands a base URL from a resolved identity', () => {
    const f = <T>(value: T) => ({ value, source: 'default' as const, detail: null });
    const id = {
      nodeUuid: f('074c268827d74fb59ed758e8940cd667' as never),
      group: f('workers'),
      basearch: f('aarch64'),
      platform: f(null),
      stream: f('p11'),
      rolloutWariness: f(null),
    };
    expect(expandUrlTemplate('http://u/${stream}/${basearch}/${group}', identityTemplateVars(id))).toBe('http://u/p11/aarch64/workers');
  });
});
