// The test PNG decoder (test/helpers/png.ts): every scanline filter, RGB and RGBA, against pixels
// encoded here by the PNG rules, and a clear refusal of what it does not decode.
import { deflateSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodePng } from '../../helpers/png.js';

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, data, Buffer.alloc(4)]); // the decoder does not check CRCs
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Encodes `pixels` (`channels` bytes each) with filter `filters[y % 5]` on row y. */
function encode(width: number, height: number, channels: 3 | 4, pixels: number[], filters: number[], depth = 8): Buffer {
  const stride = width * channels;
  const rows: number[] = [];
  for (let y = 0; y < height; y++) {
    const f = filters[y % filters.length]!;
    rows.push(f);
    for (let i = 0; i < stride; i++) {
      const v = pixels[y * stride + i]!;
      const a = i >= channels ? pixels[y * stride + i - channels]! : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + i]! : 0;
      const c = y > 0 && i >= channels ? pixels[(y - 1) * stride + i - channels]! : 0;
      const pred = [0, a, b, (a + b) >> 1, paeth(a, b, c)][f]!;
      rows.push((v - pred) & 0xff);
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = depth;
  ihdr[9] = channels === 4 ? 6 : 2;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.from(rows))), chunk('IEND', Buffer.alloc(0))]);
}

describe('decodePng', () => {
  it('decodes any 8-bit RGB or RGBA picture under every scanline filter', () => {
    const picture = fc.record({ w: fc.integer({ min: 1, max: 9 }), h: fc.integer({ min: 1, max: 7 }), channels: fc.constantFrom(3 as const, 4 as const) }).chain(({ w, h, channels }) =>
      fc.record({
        w: fc.constant(w),
        h: fc.constant(h),
        channels: fc.constant(channels),
        pixels: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: w * h * channels, maxLength: w * h * channels }),
        filters: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 5 }),
      }),
    );
    fc.assert(
      fc.property(picture, ({ w, h, channels, pixels, filters }) => {
        const d = decodePng(encode(w, h, channels, pixels, filters));
        expect([d.width, d.height]).toEqual([w, h]);
        const expected: number[] = [];
        for (let p = 0; p < w * h; p++) expected.push(pixels[p * channels]!, pixels[p * channels + 1]!, pixels[p * channels + 2]!, channels === 4 ? pixels[p * channels + 3]! : 255);
        expect([...d.rgba]).toEqual(expected);
      }),
    );
  });

  it('refuses what is not an 8-bit RGB/RGBA PNG, by name', () => {
    expect(() => decodePng(Buffer.from('GIF89a....'))).toThrow(/not a PNG/);
    expect(() => decodePng(encode(1, 1, 3, [1, 2, 3], [0], 16))).toThrow(/bit depth 16/);
  });
});
