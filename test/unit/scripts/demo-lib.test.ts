import { describe, expect, it } from 'vitest';
import { rolledBackNodes, summarise, type TimelineEntry } from '../../../scripts/demo-lib.js';

const e = (t: number, node: string, event: string, release: string | null = null): TimelineEntry => ({ t, node, event, release });

describe('scripts/demo-lib summary', () => {
  it('counts each node that rolled back once, from its health run records', () => {
    const timeline = [e(1, 'node1/health', 'health_rolled_back'), e(2, 'node1/health', 'health_rolled_back'), e(3, 'node2', 'steady_reported'), e(4, 'node3/health', 'health_rolled_back')];
    expect(rolledBackNodes(timeline)).toEqual(['node1', 'node3']);
  });

  it('reports rolled_back, halted_groups and the final version of every node', () => {
    const timeline = [e(1, 'node1', 'update_finalizing'), e(2, 'node1/health', 'health_rolled_back'), e(3, 'node1', 'steady_reported')];
    const s = summarise({ nodes: ['node1', 'node2'], timeline, newest: 'V3', finals: ['V3', 'V3'], reboots: [3, 1], durationMs: 12_340, haltedGroups: ['default', 'default'] });
    expect(s.json).toEqual({ nodes: 2, arrived: 2, max_concurrent_reboots: 1, rolled_back: 1, halted_groups: ['default'], final_versions: ['V3', 'V3'], duration_s: 12.3, payload: 'ostree' });
    expect(s.lines.at(-1)).toBe('rolled back: node1; groups halted: default');
  });

  it('has no rollbacks or halts to show in a run without a bad release', () => {
    const s = summarise({ nodes: ['node1'], timeline: [], newest: 'V3', finals: ['V2'], reboots: [0], durationMs: 1000 });
    expect(s.json).toMatchObject({ arrived: 0, rolled_back: 0, halted_groups: [], final_versions: ['V2'] });
    expect(s.lines.some((l) => l.startsWith('rolled back'))).toBe(false);
  });

  it('names the payload kind of an image run (--payload oci) in the summary and its JSON', () => {
    const s = summarise({ nodes: ['node1'], timeline: [], newest: 'V3', finals: ['V3'], reboots: [2], durationMs: 1000, payload: 'oci' });
    expect(s.json.payload).toBe('oci');
    expect(s.lines.at(-1)).toMatch(/; payload oci$/);
  });
});
