// `--plot FILE.svg`: the rollout curve as a self-contained SVG a browser shows. The top panel has the
// nodes on each release over virtual time. The bottom panel has the reboots in flight and the slots
// held, with the slot limit as a dashed line.
import type { SimulationResult, TimelineRow } from './simulate.js';

const W = 900;
const H = 520;
const LEFT = 70;
const RIGHT = 30;
const TOP = 50;
const TOP_H = 260;
const GAP = 50;
const BOTTOM_H = 110;
const COLORS = { previous: '#8a8f98', newest: '#1a7f37', rebooting: '#cf222e', held: '#0969da', halted: '#9a6700' } as const;

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const fmt = (n: number): string => (Math.round(n * 10) / 10).toString();

/** A "nice" tick step (1, 2 or 5 times a power of ten) giving about `count` ticks over `span`. */
export function tickStep(span: number, count: number): number {
  if (span <= 0) return 1;
  const raw = span / count;
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

/** Step-shaped polyline points: the fleet holds its value until the next row. */
function steps(rows: readonly TimelineRow[], value: (r: TimelineRow) => number, x: (t: number) => number, y: (v: number) => number): string {
  const pts: string[] = [];
  rows.forEach((r, i) => {
    if (i > 0) pts.push(`${fmt(x(r.t))},${fmt(y(value(rows[i - 1]!)))}`);
    pts.push(`${fmt(x(r.t))},${fmt(y(value(r)))}`);
  });
  return pts.join(' ');
}

/** Renders the run as an SVG document. */
export function renderPlot(r: SimulationResult): string {
  const rows = r.timeline;
  const s = r.summary;
  const tMax = Math.max(1, rows.at(-1)?.t ?? 1);
  const hours = tMax >= 3 * 3600;
  const unit = hours ? 3600 : 60;
  const x = (t: number): number => LEFT + (t / tMax) * (W - LEFT - RIGHT);
  const yTop = (v: number): number => TOP + TOP_H - (v / s.nodes) * TOP_H;
  const bTop = TOP + TOP_H + GAP;
  const rebootMax = Math.max(1, s.slots ?? 0, ...rows.map((row) => Math.max(row.rebooting, row.lockHolders ?? 0)));
  const yBot = (v: number): number => bTop + BOTTOM_H - (v / rebootMax) * BOTTOM_H;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`);
  const title = `${s.nodes} nodes, ${s.strategy}${s.slots === null ? '' : `, ${s.slots} slots`}: ${s.arrived} on ${r.newest}, ${s.rolled_back} rolled back, ${fmt(s.duration_virtual_s / unit)} ${hours ? 'h' : 'min'} virtual`;
  out.push(`<text x="${LEFT}" y="24" font-size="15" font-weight="bold">${esc(title)}</text>`);
  // Axes and grid.
  const step = tickStep(tMax / unit, 8);
  for (let v = 0; v <= tMax / unit + 1e-9; v += step) {
    const xv = fmt(x(v * unit));
    out.push(`<line x1="${xv}" y1="${TOP}" x2="${xv}" y2="${bTop + BOTTOM_H}" stroke="#eaeef2"/>`);
    out.push(`<text x="${xv}" y="${bTop + BOTTOM_H + 18}" text-anchor="middle">${fmt(v)}</text>`);
  }
  out.push(`<text x="${fmt((LEFT + W - RIGHT) / 2)}" y="${H - 6}" text-anchor="middle">virtual time (${hours ? 'hours' : 'minutes'})</text>`);
  for (const v of [0, Math.round(s.nodes / 2), s.nodes]) out.push(`<text x="${LEFT - 8}" y="${fmt(yTop(v) + 4)}" text-anchor="end">${v}</text>`);
  for (const v of [0, rebootMax]) out.push(`<text x="${LEFT - 8}" y="${fmt(yBot(v) + 4)}" text-anchor="end">${v}</text>`);
  out.push(`<rect x="${LEFT}" y="${TOP}" width="${W - LEFT - RIGHT}" height="${TOP_H}" fill="none" stroke="#57606a"/>`);
  out.push(`<rect x="${LEFT}" y="${bTop}" width="${W - LEFT - RIGHT}" height="${BOTTOM_H}" fill="none" stroke="#57606a"/>`);
  out.push(`<text x="${LEFT + 6}" y="${TOP - 8}">nodes on each release</text>`);
  out.push(`<text x="${LEFT + 6}" y="${bTop - 8}">reboots in flight, slots held</text>`);
  // Curves.
  const line = (pts: string, color: string, extra = ''): string => `<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts}"${extra}/>`;
  out.push(line(steps(rows, (row) => row.releases[r.previous] ?? 0, x, yTop), COLORS.previous));
  out.push(line(steps(rows, (row) => row.releases[r.newest] ?? 0, x, yTop), COLORS.newest));
  out.push(line(steps(rows, (row) => row.rebooting, x, yBot), COLORS.rebooting));
  if (rows.some((row) => row.lockHolders !== null)) out.push(line(steps(rows, (row) => row.lockHolders ?? 0, x, yBot), COLORS.held, ' stroke-opacity="0.6"'));
  if (s.slots !== null) out.push(`<line x1="${LEFT}" y1="${fmt(yBot(s.slots))}" x2="${W - RIGHT}" y2="${fmt(yBot(s.slots))}" stroke="${COLORS.rebooting}" stroke-dasharray="6 4"/>`);
  // The moment the halt policy stopped the group: where the old release's curve goes flat.
  if (s.halted && s.halted_at_s !== null) {
    const hx = fmt(x(Math.min(s.halted_at_s, tMax)));
    out.push(`<line x1="${hx}" y1="${TOP}" x2="${hx}" y2="${bTop + BOTTOM_H}" stroke="${COLORS.halted}" stroke-width="2" stroke-dasharray="2 3"/>`);
    // Label on the side with room: left of the line in the right half of the picture.
    const side = Number(hx) > W / 2 ? 'dx="-4" text-anchor="end"' : 'dx="4"';
    out.push(`<text x="${hx}" y="${TOP + 14}" ${side} fill="${COLORS.halted}">group halted: ${s.held} held on ${esc(r.previous)}</text>`);
  }
  // Legend.
  const legend: [string, string][] = [
    [r.previous, COLORS.previous],
    [r.newest, COLORS.newest],
    ['rebooting', COLORS.rebooting],
    ...(s.slots === null ? [] : ([['slots held', COLORS.held]] as [string, string][])),
  ];
  // One row above the top panel, right-aligned, so it never covers a curve.
  legend.forEach(([label, color], i) => {
    const lx = W - RIGHT - 125 * (legend.length - i);
    const ly = TOP - 8;
    out.push(`<line x1="${lx}" y1="${ly - 4}" x2="${lx + 24}" y2="${ly - 4}" stroke="${color}" stroke-width="3"/>`);
    out.push(`<text x="${lx + 30}" y="${ly}">${esc(label)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
