import { describe, expectTypeOf, it } from 'vitest';
import type { OstreePort } from '../../../src/agent/ports.js';
import type { OstreeClient } from '../../../src/ostree/client/index.js';

describe('src/ostree/client OstreeClient', () => {
  it('implements the agent OstreePort (checked by tsc)', () => {
    expectTypeOf<OstreeClient>().toExtend<OstreePort>();
  });
});
