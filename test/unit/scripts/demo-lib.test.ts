import { describe, expect, it } from 'vitest';
import { parseJournalMessage, rolledBackNodes, summarise, unavailableLine, type TimelineEntry } from '../../../scripts/demo-lib.js';

const e = (t: number, node: string, event: string, release: string | null = null): TimelineEntry => ({ t, node, event, release });

describe('scripts/demo-lib summary', () => {
  it('counts each node that rolled back once, from its health run records', () => {
    const timeline = [e(1, 'node1/health', 'health_rolled_back'), e(2, 'node1/health', 'health_rolled_back'), e(3, 'node2', 'steady_reported'), e(4, 'node3/health', 'health_rolled_back')];
    expect(rolledBackNodes(timeline)).toEqual(['node1', 'node3']);
  });

  it('reports rolled_back, halted_groups and the final version of every node', () => {
    const timeline = [e(1, 'node1', 'update_finalizing'), e(2, 'node1/health', 'health_rolled_back'), e(3, 'node1', 'steady_reported')];
    const s = summarise({ nodes: ['node1', 'node2'], timeline, newest: 'V3', finals: ['V3', 'V3'], reboots: [3, 1], durationMs: 12_340, haltedGroups: ['default', 'default'], nodeKind: 'fakeboot' });
    expect(s.json).toEqual({ nodes: 2, arrived: 2, max_concurrent_reboots: 1, rolled_back: 1, halted_groups: ['default'], final_versions: ['V3', 'V3'], duration_s: 12.3, payload: 'ostree', node_kind: 'fakeboot' });
    expect(s.lines.at(-1)).toBe('rolled back: node1; groups halted: default');
  });

  it('has no rollbacks or halts to show in a run without a bad release', () => {
    const s = summarise({ nodes: ['node1'], timeline: [], newest: 'V3', finals: ['V2'], reboots: [0], durationMs: 1000, nodeKind: 'nspawn' });
    expect(s.json).toMatchObject({ arrived: 0, rolled_back: 0, halted_groups: [], final_versions: ['V2'] });
    expect(s.lines.some((l) => l.startsWith('rolled back'))).toBe(false);
  });

  it('names the payload kind of an image run (--payload oci) in the summary and its JSON', () => {
    const s = summarise({ nodes: ['node1'], timeline: [], newest: 'V3', finals: ['V3'], reboots: [2], durationMs: 1000, payload: 'oci', nodeKind: 'fakeboot' });
    expect(s.json.payload).toBe('oci');
    expect(s.lines.at(-1)).toMatch(/; payload oci; nodes fakeboot$/);
  });

  it('names the node kind: real nspawn nodes by default', () => {
    const s = summarise({ nodes: ['node1'], timeline: [], newest: 'V3', finals: ['V3'], reboots: [2], durationMs: 1000, nodeKind: 'nspawn' });
    expect(s.json.node_kind).toBe('nspawn');
    expect(s.lines.at(-1)).toMatch(/; payload ostree; nodes nspawn$/);
  });
});

describe('scripts/demo-lib on real nodes', () => {
  it('reads the event, the release and the message back from an agent journal line', () => {
    const m = parseJournalMessage('staged deployment \'20261122.0.0\' available, proceeding to finalize it component=agent event=update_finalizing release=20261122.0.0');
    expect(m.msg).toBe("staged deployment '20261122.0.0' available, proceeding to finalize it");
    expect(m.fields).toEqual({ component: 'agent', event: 'update_finalizing', release: '20261122.0.0' });
    expect(parseJournalMessage('found x component=agent event=update_found release="2026 x"').fields.release).toBe('2026 x');
  });

  it('still finds the event when a trailing value cannot be split (an object with spaces)', () => {
    const m = parseJournalMessage('stage failed component=agent event=stage_failed err={"message":"no space left"}');
    expect(m.fields.event).toBe('stage_failed');
    expect(m.msg).toBe('stage failed');
  });

  it('turns the probe\'s reason into one line that says what to install', () => {
    const line = unavailableLine('real-node tests skipped: they need systemd-nspawn (apt-get install systemd-container) and debootstrap, as root; this run is not root');
    expect(line).toBe(
      'demo: cannot boot real nodes here (this run is not root); run it as root after `bash scripts/setup.sh` (or `apt-get install systemd-container debootstrap`), or add --fake-boot',
    );
    expect(line).not.toContain('\n');
  });
});
