// `--plot FILE.svg` (src/simulator/plot.ts): a self-contained SVG whose curves follow the timeline.
import { describe, expect, it } from 'vitest';
import { renderPlot, tickStep } from '../../../src/simulator/plot.js';
import type { SimulationResult, TimelineRow } from '../../../src/simulator/simulate.js';

const V1 = '20261201.0.0';
const V2 = '20261202.0.0';

function result(rows: TimelineRow[]): SimulationResult {
  return {
    timeline: rows,
    newest: V2,
    previous: V1,
    client: { graphRequests: 0, lockRequests: 0 },
    summary: {
      nodes: 10, strategy: 'fleet_lock', slots: 2, lock_store: 'embedded', arrived: 10, rolled_back: 0, max_concurrent_reboots: 2,
      duration_virtual_s: 1200, duration_wall_s: 1, lock_requests: 20, lock_latency_ms_p50: 1, lock_latency_ms_p99: 2, graph_requests: 30,
      graph_errors: 0, lock_errors: 0, graph_server_rss_mib: 60, lock_server_rss_mib: 60, etcd_member_rss_mib: null, faults: [],
      halt_after: null, halted: false, halted_at_s: null, halt_reason: null, held: 0,
      finished: true, invariants_ok: true, violations: [],
    },
  };
}

const rows: TimelineRow[] = [
  { t: 0, releases: { [V1]: 10 }, staged: 0, rebooting: 0, lockHolders: 0 },
  { t: 600, releases: { [V1]: 4, [V2]: 4 }, staged: 4, rebooting: 2, lockHolders: 2 },
  { t: 1200, releases: { [V2]: 10 }, staged: 0, rebooting: 0, lockHolders: 0 },
];

describe('renderPlot', () => {
  it('draws one step curve per series, inside the picture, with the slot limit and a legend', () => {
    const svg = renderPlot(result(rows));
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    const lines = [...svg.matchAll(/<polyline [^>]*points="([^"]+)"/g)].map((m) => m[1]!.split(' ').map((p) => p.split(',').map(Number)));
    // previous, newest, rebooting, slots held; a step curve has 2 points per row after the first.
    expect(lines).toHaveLength(4);
    for (const pts of lines) {
      expect(pts).toHaveLength(2 * rows.length - 1);
      for (const [px, py] of pts) {
        expect(px).toBeGreaterThanOrEqual(0);
        expect(px).toBeLessThanOrEqual(900);
        expect(py).toBeGreaterThanOrEqual(0);
        expect(py).toBeLessThanOrEqual(520);
      }
    }
    // The newest release's curve rises: its last point is higher on the page (smaller y) than its first.
    const newest = lines[1]!;
    expect(newest.at(-1)![1]).toBeLessThan(newest[0]![1]!);
    expect(svg).toContain('stroke-dasharray');
    expect(svg).toContain(`>${V2}</text>`);
    expect(svg).toContain('minutes');
  });

  it('switches to hours for long runs and escapes text', () => {
    const long = rows.map((r) => ({ ...r, t: r.t * 100 }));
    const res = result(long);
    const svg = renderPlot({ ...res, newest: 'v<2>&' , summary: { ...res.summary, duration_virtual_s: 120_000 } });
    expect(svg).toContain('virtual time (hours)');
    expect(svg).toContain('v&lt;2&gt;&amp;');
    expect(svg).not.toContain('v<2>');
  });

  it('marks the moment a halt policy stopped the group, and nothing without a halt', () => {
    const res = result(rows);
    expect(renderPlot(res)).not.toContain('group halted');
    const svg = renderPlot({ ...res, summary: { ...res.summary, halt_after: 3, halted: true, halted_at_s: 600, halt_reason: 'r', held: 4 } });
    // t=600 of 1200 s: halfway between x=70 and x=870.
    expect(svg).toContain('<line x1="470" y1="50" x2="470" y2="470" stroke="#9a6700"');
    expect(svg).toContain(`>group halted: 4 held on ${V1}</text>`);
  });

  it('picks round tick steps', () => {
    expect(tickStep(37, 8)).toBe(5);
    expect(tickStep(3.6, 8)).toBe(0.5);
    expect(tickStep(240, 8)).toBe(50);
  });
});
