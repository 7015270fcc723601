import { describe, expect, it } from 'vitest';
import {
  cleanupRequest,
  deployRequest,
  finalizeRequest,
  transactionTitle,
  updateDeploymentRequest,
  type Options,
} from '../../../src/ostree/backend/requests.js';

const b = (value: boolean) => ({ signature: 'b', value });
const s = (value: string) => ({ signature: 's', value });

describe('deploy requests (rpm-ostree defaults)', () => {
  it('Deploy sets the revision and allows downgrades unless told otherwise', () => {
    expect(deployRequest('1.0', {})).toMatchObject({ revision: '1.0', allowDowngrade: true, lockFinalization: false });
    expect(deployRequest('1.0', { 'allow-downgrade': b(false) }).allowDowngrade).toBe(false);
  });

  it('UpdateDeployment defaults allow-downgrade to false even with set-revision (rpm-ostree quirk)', () => {
    expect(updateDeploymentRequest({ 'set-revision': s('1.0') }, {}).allowDowngrade).toBe(false);
    expect(updateDeploymentRequest({ 'set-refspec': s('r:x') }, {}).allowDowngrade).toBe(true);
  });

  it('looks options up by exact type: a string "true" is not a boolean', () => {
    const o: Options = { 'lock-finalization': s('true'), 'skip-branch-check': b(true) };
    expect(deployRequest('1.0', o)).toMatchObject({ lockFinalization: false, skipBranchCheck: true });
  });

  it('refuses package layering as unsupported and no-pull-base with a revision as invalid', () => {
    expect(() => updateDeploymentRequest({ 'install-packages': { signature: 'as', value: ['vim'] } }, {})).toThrow(/not supported/);
    expect(() => deployRequest('1.0', { 'no-pull-base': b(true) })).toThrow(/no-pull-base/);
  });
});

describe('finalize, cleanup and titles', () => {
  it('FinalizeDeployment reads checksum and the allow flags', () => {
    expect(finalizeRequest({ checksum: s('abc') })).toEqual({ kind: 'finalize', checksum: 'abc', allowMissingChecksum: false, allowUnlocked: false });
  });

  it('Cleanup rejects unknown elements with rpm-ostree text', () => {
    expect(cleanupRequest(['pending-deploy', 'base']).elements).toEqual(['pending-deploy', 'base']);
    expect(() => cleanupRequest(['all'])).toThrow('Invalid cleanup type: all');
  });

  it('uses initiating-command-line as the title, else the method title', () => {
    expect(transactionTitle('Deploy', { 'initiating-command-line': s('rpm-ostree deploy 1.0') })).toBe('rpm-ostree deploy 1.0');
    expect(transactionTitle('FinalizeDeployment', {})).toBe('finalize-deployment');
  });
});
