// `npm run simulate -- --plot FILE.svg` (issue 16): the SVG a browser shows is a real picture. A small
// run writes the plot; headless Chromium (Debian's `chromium`, installed by scripts/setup.sh) renders it
// to a PNG; the decoded pixels must hold the release curves in the top panel and the reboot / slot
// curves in the bottom one. A blank SVG rendered the same way fails the same checks, so they can fail.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodePng, type DecodedPng } from '../../helpers/png.js';

const SIMULATE = new URL('../../../scripts/simulate.mjs', import.meta.url).pathname;
// The plot's layout (src/simulator/plot.ts): 900x520, top panel y 50..310, bottom panel y 360..470, x 70..870.
const W = 900;
const H = 520;
const TOP_PANEL = { x0: 72, x1: 868, y0: 52, y1: 308 };
const BOTTOM_PANEL = { x0: 72, x1: 868, y0: 362, y1: 468 };
const COLOURS = { previous: [0x8a, 0x8f, 0x98], newest: [0x1a, 0x7f, 0x37], rebooting: [0xcf, 0x22, 0x2e], held: [0x09, 0x69, 0xda] } as const;
// Slots held are drawn at 60% opacity over the reboots in flight: where both lines lie, this colour shows.
const HELD_OVER_REBOOTING = COLOURS.held.map((c, i) => Math.round(0.6 * c + 0.4 * COLOURS.rebooting[i]!));

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 180_000, maxBuffer: 16 << 20, env }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new Error(`${cmd} not found on PATH: the plot render check needs Debian's chromium (bash scripts/setup.sh installs it)`));
        return;
      }
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

/** Renders `svg` in headless Chromium at the plot's size and decodes the screenshot. */
async function render(dir: string, svg: string): Promise<DecodedPng> {
  const png = join(dir, 'shot.png');
  // Root in CI containers needs --no-sandbox; a private profile keeps runs apart; no session bus to ask.
  const env = { ...process.env, DBUS_SESSION_BUS_ADDRESS: 'disabled:' };
  const r = await run(
    'chromium',
    ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--hide-scrollbars', `--user-data-dir=${join(dir, 'profile')}`, `--window-size=${W},${H}`, `--screenshot=${png}`, `file://${svg}`],
    env,
  );
  expect(r.code, `chromium failed:\n${r.stderr}`).toBe(0);
  return decodePng(await readFile(png));
}

type Box = { x0: number; x1: number; y0: number; y1: number };

/** Pixels in `box` within `tol` of `rgb` on every channel (anti-aliased edges count when close). */
function near(p: DecodedPng, box: Box, rgb: readonly number[], tol = 40): number {
  let n = 0;
  for (let y = box.y0; y < box.y1; y++) {
    for (let x = box.x0; x < box.x1; x++) {
      const o = (y * p.width + x) * 4;
      if (Math.abs(p.rgba[o]! - rgb[0]!) <= tol && Math.abs(p.rgba[o + 1]! - rgb[1]!) <= tol && Math.abs(p.rgba[o + 2]! - rgb[2]!) <= tol) n++;
    }
  }
  return n;
}

/** Pixels that are not the white background (or the light grid). */
function inked(p: DecodedPng): number {
  let n = 0;
  for (let o = 0; o < p.rgba.length; o += 4) if (p.rgba[o]! < 200 || p.rgba[o + 1]! < 200 || p.rgba[o + 2]! < 200) n++;
  return n;
}

function measure(p: DecodedPng) {
  return {
    inked: inked(p),
    previous: near(p, TOP_PANEL, COLOURS.previous),
    newest: near(p, TOP_PANEL, COLOURS.newest),
    reboots: near(p, BOTTOM_PANEL, COLOURS.rebooting) + near(p, BOTTOM_PANEL, COLOURS.held) + near(p, BOTTOM_PANEL, HELD_OVER_REBOOTING),
  };
}

describe('simulate --plot renders in headless Chromium', () => {
  it('shows both release curves and the reboots in flight; a blank SVG does not pass', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'alt-plot-'));
    dirs.push(dir);
    const svg = join(dir, 'plot.svg');
    const sim = await run(process.execPath, [SIMULATE, '--nodes', '30', '--slots', '3', '--fail-rate', '0.1', '--plot', svg, '--json']);
    expect(sim.code, sim.stderr).toBe(0);
    expect(JSON.parse(sim.stdout)).toMatchObject({ nodes: 30, finished: true, invariants_ok: true });

    const shot = await render(dir, svg);
    expect([shot.width, shot.height]).toEqual([W, H]);
    const m = measure(shot);
    // Each curve is a 2 px polyline over part of the ~800 px wide panel (on the panel frame it is not counted): hundreds of pixels at the least.
    expect(m.inked).toBeGreaterThan(5000);
    expect(m.previous).toBeGreaterThan(400);
    expect(m.newest).toBeGreaterThan(400);
    expect(m.reboots).toBeGreaterThan(200);

    // The same checks on a picture with nothing drawn: they fail, so they test the drawing.
    const blank = join(dir, 'blank.svg');
    await writeFile(blank, `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}"><rect width="${W}" height="${H}" fill="#ffffff"/></svg>\n`);
    const empty = measure(await render(dir, blank));
    expect(empty).toEqual({ inked: 0, previous: 0, newest: 0, reboots: 0 });
  });
});
