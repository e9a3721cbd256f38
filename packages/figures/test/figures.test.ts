import { GifReader } from 'omggif';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import {
  PATH_COLOR,
  computeLandscape,
  formatValue,
  frameSteps,
  overviewGreys,
  trajectoryLayout,
  type Point,
  type Surface,
  type Trajectory,
} from '../src/index.js';
import { overviewPng, trajectoryGif, trajectoryPng } from '../src/node/index.js';

const rosenbrock: Surface = {
  title: 'Rosenbrock',
  value: (x, y) => (1 - x) ** 2 + 100 * (y - x * x) ** 2,
  domain: [
    [-2, 2],
    [-1, 3],
  ],
  minima: [[1, 1]],
  minValue: 0,
};

/** A straight walk from (−1.5, 2.5) to the minimum (1, 1) in `steps` steps. */
function walk(steps: number): Trajectory {
  const points: Point[] = [];
  for (let t = 0; t <= steps; t++) {
    const s = t / steps;
    points.push([-1.5 + 2.5 * s, 2.5 - 1.5 * s]);
  }
  return { label: 'walk', detail: 'lr 0.1', points, values: points.map(([x, y]) => rosenbrock.value(x, y)) };
}

/** Every frame of a GIF composited in order, as RGBA (transparent pixels of a frame leave the previous frame's). */
function gifFrames(bytes: Uint8Array): { width: number; height: number; frames: Uint8Array[]; delays: number[]; loops: number | null } {
  const reader = new GifReader(Buffer.from(bytes));
  const canvas = new Uint8Array(reader.width * reader.height * 4);
  const frames: Uint8Array[] = [];
  const delays: number[] = [];
  for (let i = 0; i < reader.numFrames(); i++) {
    reader.decodeAndBlitFrameRGBA(i, canvas);
    frames.push(Uint8Array.from(canvas));
    delays.push(reader.frameInfo(i).delay);
  }
  return { width: reader.width, height: reader.height, frames, delays, loops: reader.loopCount() };
}

const landscape = computeLandscape(rosenbrock);

describe('landscape', () => {
  it('cuts f − f* into increasing log-spaced bands with colours, from the floor to the largest sample', () => {
    const [lo, hi] = landscape.range;
    expect(lo).toBeGreaterThan(0);
    expect(hi).toBeGreaterThan(2000); // Rosenbrock's corner (−2, −1): 9 + 100·25 = 2509, sampled slightly inside
    expect(landscape.bands.length).toBe(28);
    const t = landscape.bands.map((b) => b.threshold);
    for (let k = 1; k < t.length; k++) expect(t[k]! / t[k - 1]!).toBeCloseTo((hi / lo) ** (1 / 28), 9);
    expect(new Set(landscape.bands.map((b) => b.color)).size).toBeGreaterThan(20);
    // Every band's polygons lie in the domain.
    for (const b of landscape.bands) {
      for (const poly of b.polygons) for (const ring of poly) for (const [x, y] of ring) {
        expect(x).toBeGreaterThanOrEqual(-2 - 1e-9);
        expect(x).toBeLessThanOrEqual(2 + 1e-9);
        expect(y).toBeGreaterThanOrEqual(-1 - 1e-9);
        expect(y).toBeLessThanOrEqual(3 + 1e-9);
      }
    }
  });

  it('refuses a bad resolution or level count by name', () => {
    expect(() => computeLandscape(rosenbrock, { resolution: 1 })).toThrow('computeLandscape: resolution must be an integer ≥ 2, got 1');
    expect(() => computeLandscape(rosenbrock, { levels: 0 })).toThrow('computeLandscape: levels must be a positive integer, got 0');
  });
});

describe('frame steps and numbers', () => {
  it('frameSteps: 0 and the last step, increasing, denser early, never more than asked', () => {
    const s = frameSteps(500, 60);
    expect(s[0]).toBe(0);
    expect(s[s.length - 1]).toBe(500);
    expect(s.length).toBeLessThanOrEqual(60);
    for (let k = 1; k < s.length; k++) expect(s[k]!).toBeGreaterThan(s[k - 1]!);
    expect(s[10]! - s[9]!).toBeLessThan(s[s.length - 1]! - s[s.length - 2]!);
    expect(frameSteps(3, 60)).toEqual([0, 1, 2, 3]);
    expect(frameSteps(0, 10)).toEqual([0]);
    expect(() => frameSteps(10, 0)).toThrow('frameSteps: frames must be a positive integer, got 0');
  });

  it('formatValue: three significant digits, exponents outside [1e-3, 1e4)', () => {
    expect(formatValue(0.0562)).toBe('0.0562');
    expect(formatValue(1.23456e-7)).toBe('1.23e-7');
    expect(formatValue(1.2e-7)).toBe('1.20e-7');
    expect(formatValue(2509.4)).toBe('2510');
    expect(formatValue(25094)).toBe('2.51e4');
    expect(formatValue(0)).toBe('0');
    expect(formatValue(NaN)).toBe('NaN');
    expect(formatValue(-Infinity)).toBe('-inf');
  });
});

describe('encoded figures', () => {
  const t = walk(200);
  const layout = trajectoryLayout(landscape, 300);
  const gif = trajectoryGif(landscape, t, { frames: 40 });
  const png = PNG.sync.read(trajectoryPng(landscape, t));

  it('the GIF decodes: its size, one frame per shown step, a loop, the last frame held', () => {
    const g = gifFrames(gif);
    expect([g.width, g.height]).toEqual([layout.width, layout.height]);
    expect(g.frames.length).toBe(frameSteps(200, 40).length);
    expect(g.loops).toBe(0); // 0 = forever
    expect(g.delays[g.delays.length - 1]).toBe(200); // 2000 ms, in hundredths of a second
    expect(g.delays[0]).toBe(7);
    expect(gif.byteLength).toBeLessThan(1_000_000);
  });

  it('the path is drawn point by point: each frame adds pixels, and the path is red where it passes', () => {
    const g = gifFrames(gif);
    const changed = (a: Uint8Array, b: Uint8Array): number => {
      let n = 0;
      for (let i = 0; i < a.length; i += 4) if (a[i] !== b[i] || a[i + 1] !== b[i + 1] || a[i + 2] !== b[i + 2]) n++;
      return n;
    };
    const first = g.frames[0]!;
    const last = g.frames[g.frames.length - 1]!;
    expect(changed(first, last)).toBeGreaterThan(1500);
    expect(changed(first, g.frames[Math.floor(g.frames.length / 2)]!)).toBeLessThan(changed(first, last));
    // Halfway along the walk, (−0.25, 1.75): the first frame shows the landscape there, the last the path's colour.
    const px = Math.round(layout.view.x(-0.25));
    const py = Math.round(layout.view.y(1.75));
    const at = (rgba: Uint8Array): number[] => [...rgba.subarray((py * g.width + px) * 4, (py * g.width + px) * 4 + 3)];
    const red = [parseInt(PATH_COLOR.slice(1, 3), 16), parseInt(PATH_COLOR.slice(3, 5), 16), parseInt(PATH_COLOR.slice(5, 7), 16)];
    const distance = (a: number[], b: number[]): number => Math.hypot(...a.map((v, k) => v - b[k]!));
    expect(distance(at(last), red)).toBeLessThan(40);
    expect(distance(at(first), red)).toBeGreaterThan(100);
  });

  it('the PNG is the last frame of the GIF (up to the GIF palette)', () => {
    const g = gifFrames(gif);
    expect([png.width, png.height]).toEqual([g.width, g.height]);
    const last = g.frames[g.frames.length - 1]!;
    let sum = 0;
    for (let i = 0; i < last.length; i += 4) for (let c = 0; c < 3; c++) sum += Math.abs(last[i + c]! - png.data[i + c]!);
    expect(sum / ((last.length / 4) * 3)).toBeLessThan(4); // mean error per channel of a 255-colour palette
  });

  it('the overview holds every path in its own colour, with the plot size asked for', () => {
    const greys = computeLandscape(rosenbrock, { colors: overviewGreys });
    const other: Trajectory = { ...t, label: 'other', points: t.points.map(([x, y]) => [x, y - 0.5] as Point) };
    const img = PNG.sync.read(overviewPng(greys, [t, other], 'two walks', 400));
    expect(img.width).toBe(400 + 190);
    expect(img.height).toBe(30 + 400);
    // Greys have r = g = b; the paths and the legend do not.
    let coloured = 0;
    for (let i = 0; i < img.data.length; i += 4) if (Math.abs(img.data[i]! - img.data[i + 2]!) > 60) coloured++;
    expect(coloured).toBeGreaterThan(800);
  });
});
