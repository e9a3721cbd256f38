import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { GlobalFonts, createCanvas, type Canvas, type SKRSContext2D } from '@napi-rs/canvas';
import {
  drawOverview,
  drawTrajectoryBackground,
  drawTrajectoryOverlay,
  frameSteps,
  overviewLayout,
  trajectoryLayout,
} from '../figure.js';
import { drawLineChart, type ChartOptions, type Series } from '../chart.js';
import type { Landscape } from '../landscape.js';
import type { Context2D, Trajectory } from '../types.js';
import type { Gifenc } from './gifenc.js';

/**
 * `@descent/figures/node`: the figures encoded as files in Node — PNG through @napi-rs/canvas (Skia) and
 * animated GIF through gifenc — with the DejaVu Sans font from the `dejavu-fonts-ttf` package, so captions
 * render the same on a machine without system fonts.
 *
 * @packageDocumentation
 */

const require = createRequire(import.meta.url);
// gifenc 1.0.3 is CommonJS without type declarations: loaded through require, typed by ./gifenc.ts.
const { GIFEncoder, quantize, applyPalette } = require('gifenc') as Gifenc;

let fontsRegistered = false;

/** Registers DejaVu Sans (regular and bold) with the canvas under the family name the figures ask for. Idempotent. */
export function registerFonts(): void {
  if (fontsRegistered) return;
  const dir = join(dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
  for (const file of ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf']) {
    if (!GlobalFonts.registerFromPath(join(dir, file), 'DejaVu Sans')) throw new Error(`@descent/figures: could not load the font ${join(dir, file)}`);
  }
  fontsRegistered = true;
}

function canvas(width: number, height: number): { canvas: Canvas; ctx: SKRSContext2D & Context2D } {
  registerFonts();
  const c = createCanvas(width, height);
  return { canvas: c, ctx: c.getContext('2d') as SKRSContext2D & Context2D };
}

/** Options of {@link trajectoryGif} and {@link trajectoryPng}. */
export interface TrajectoryImageOptions {
  /** Side of the square plot in pixels. Default 300. */
  readonly size?: number;
  /** Animation frames (steps shown, denser early; see `frameSteps`). Default 60. */
  readonly frames?: number;
  /** Milliseconds per frame. Default 70. */
  readonly delayMs?: number;
  /** Milliseconds the last frame stays before the loop restarts. Default 2000. */
  readonly holdMs?: number;
}

/** The last frame of a trajectory figure (the whole path), as a PNG. */
export function trajectoryPng(landscape: Landscape, trajectory: Trajectory, options: TrajectoryImageOptions = {}): Buffer {
  const layout = trajectoryLayout(landscape, options.size);
  const { canvas: c, ctx } = canvas(layout.width, layout.height);
  drawTrajectoryBackground(ctx, layout, landscape);
  drawTrajectoryOverlay(ctx, layout, landscape, trajectory, trajectory.points.length - 1);
  return c.toBuffer('image/png');
}

/**
 * The trajectory drawn point by point, as a looping GIF. One palette (quantized from the last frame, which holds
 * every colour the animation uses) serves all frames; after the first, pixels unchanged since the previous frame
 * are written transparent, so a frame costs only the few pixels the path and the caption changed.
 */
export function trajectoryGif(landscape: Landscape, trajectory: Trajectory, options: TrajectoryImageOptions = {}): Uint8Array {
  const layout = trajectoryLayout(landscape, options.size);
  const { width, height } = layout;
  const { ctx } = canvas(width, height);
  drawTrajectoryBackground(ctx, layout, landscape);
  const background = ctx.getImageData(0, 0, width, height);
  const render = (step: number): Uint8ClampedArray => {
    ctx.putImageData(background, 0, 0);
    drawTrajectoryOverlay(ctx, layout, landscape, trajectory, step);
    return ctx.getImageData(0, 0, width, height).data;
  };
  const last = trajectory.points.length - 1;
  const steps = frameSteps(last, options.frames ?? 60);
  // 255 colours for the picture; index 255 is kept for "unchanged" (transparent), so no pixel maps to it.
  const palette = quantize(render(last), 255);
  const clear = palette.length;
  const gifPalette = [...palette, [0, 0, 0]];
  while (gifPalette.length < 256 && (gifPalette.length & (gifPalette.length - 1)) !== 0) gifPalette.push([0, 0, 0]);
  const gif = GIFEncoder();
  let previous: Uint8Array | undefined;
  steps.forEach((step, k) => {
    const index = applyPalette(render(step), palette);
    const delay = k === steps.length - 1 ? (options.holdMs ?? 2000) : (options.delayMs ?? 70);
    if (previous === undefined) {
      gif.writeFrame(index, width, height, { palette: gifPalette, delay, repeat: 0 });
    } else {
      const diff = new Uint8Array(index.length);
      for (let i = 0; i < index.length; i++) diff[i] = index[i] === previous[i] ? clear : (index[i] as number);
      // Disposal 1 ("do not dispose"): each frame is drawn over the previous one, its transparent pixels show it.
      gif.writeFrame(diff, width, height, { delay, transparent: true, transparentIndex: clear, dispose: 1 });
    }
    previous = index;
  });
  gif.finish();
  return gif.bytes();
}

/** Every trajectory on one grey landscape with a legend and a title, as a PNG (see `drawOverview`). */
export function overviewPng(landscape: Landscape, trajectories: readonly Trajectory[], title: string, size?: number): Buffer {
  const layout = overviewLayout(landscape, trajectories.length, size);
  const { canvas: c, ctx } = canvas(layout.width, layout.height);
  drawOverview(ctx, layout, landscape, trajectories, title);
  return c.toBuffer('image/png');
}

/** A line chart (see `drawLineChart`) as a PNG. */
export function lineChartPng(series: readonly Series[], options: ChartOptions, width = 640, height = 360): Buffer {
  const { canvas: c, ctx } = canvas(width, height);
  drawLineChart(ctx, width, height, series, options);
  return c.toBuffer('image/png');
}
