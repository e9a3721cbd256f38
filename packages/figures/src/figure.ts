import { interpolateGreys, schemeDark2, schemeSet1, schemeTableau10 } from 'd3-scale-chromatic';
import { drawCaption, drawLandscape, drawLegend, drawMinima, drawPath } from './draw.js';
import { formatValue } from './format.js';
import type { Landscape } from './landscape.js';
import type { Context2D, Trajectory } from './types.js';
import { makeView, type View } from './view.js';

/**
 * The two figures of a trajectory gallery, as layouts plus drawing functions on a {@link Context2D}: one
 * optimizer's path on the coloured contour with a caption (a frame per shown step), and every optimizer's path on
 * one grey contour with a legend. Encoders (PNG, GIF) live in `@descent/figures/node`; a page draws the same frames
 * on its own canvas.
 *
 * @packageDocumentation
 */

/** The colour of a single trajectory on the coloured landscape: it stands out from viridis' blues, greens and yellows. */
export const PATH_COLOR = '#ff4136';

/** Greys for the overview's landscape (low f darker), so that the coloured paths stand out. */
export const overviewGreys = (t: number): string => interpolateGreys(0.7 - 0.62 * t);

/** Distinct colours for up to 25 paths on one picture (Tableau 10, then ColorBrewer's Set1 and Dark2). */
export const PATH_COLORS: readonly string[] = [...new Set([...schemeTableau10, ...schemeSet1, ...schemeDark2])];

/** Pixel layout of a single-trajectory figure: a square plot with a two-line caption under it. */
export interface TrajectoryLayout {
  readonly width: number;
  readonly height: number;
  readonly view: View;
  readonly caption: { x: number; y: number; width: number; height: number };
}

/** The layout of a trajectory figure whose plot is `size` pixels square. */
export function trajectoryLayout(landscape: Landscape, size = 300): TrajectoryLayout {
  const captionHeight = Math.round(Math.max(34, size * 0.14));
  return {
    width: size,
    height: size + captionHeight,
    view: makeView(landscape.domain, 0, 0, size, size),
    caption: { x: 0, y: size, width: size, height: captionHeight },
  };
}

/** Draws what every frame of a trajectory figure shares: the landscape and its minima. */
export function drawTrajectoryBackground(ctx: Context2D, layout: TrajectoryLayout, landscape: Landscape): void {
  drawLandscape(ctx, layout.view, landscape);
  drawMinima(ctx, layout.view, landscape.surface.minima);
}

/**
 * Draws the path up to iterate `step` (0 = the start) and the caption: optimizer and detail, the function, the
 * step and f there. Call it on top of {@link drawTrajectoryBackground}.
 */
export function drawTrajectoryOverlay(ctx: Context2D, layout: TrajectoryLayout, landscape: Landscape, trajectory: Trajectory, step: number): void {
  const last = trajectory.points.length - 1;
  const k = Math.max(0, Math.min(step, last));
  drawPath(ctx, layout.view, trajectory.points, k + 1, { color: PATH_COLOR });
  const fontSize = Math.max(10, Math.round(layout.width / 26));
  drawCaption(
    ctx,
    layout.caption,
    [
      { left: trajectory.detail === undefined ? trajectory.label : `${trajectory.label}  ${trajectory.detail}`, right: landscape.surface.title, bold: true },
      { left: `step ${trajectory.steps?.[k] ?? k} / ${trajectory.steps?.[last] ?? last}`, right: `f = ${formatValue(trajectory.values[k] ?? NaN)}` },
    ],
    fontSize,
  );
}

/**
 * The steps an animation shows: `frames` steps from 0 to `last`, denser early (step ∝ (i/(frames−1))^warp), where
 * optimizers move most; always 0 and `last`, increasing, without repeats.
 */
export function frameSteps(last: number, frames: number, warp = 1.6): number[] {
  if (!Number.isInteger(last) || last < 0) throw new RangeError(`frameSteps: last must be a non-negative integer, got ${last}`);
  if (!Number.isInteger(frames) || frames < 1) throw new RangeError(`frameSteps: frames must be a positive integer, got ${frames}`);
  if (frames === 1 || last === 0) return [last];
  const out: number[] = [];
  for (let i = 0; i < frames; i++) {
    const s = Math.round(last * (i / (frames - 1)) ** warp);
    if (out.length === 0 || s > (out[out.length - 1] as number)) out.push(s);
  }
  return out;
}

/** Pixel layout of an overview: a square plot, a title band above it, a legend to its right. */
export interface OverviewLayout {
  readonly width: number;
  readonly height: number;
  readonly view: View;
  readonly title: { x: number; y: number; width: number; height: number };
  readonly legend: { x: number; y: number };
}

/** The layout of an overview with a `size`-pixel plot and a legend of `entries` rows. */
export function overviewLayout(landscape: Landscape, entries: number, size = 560): OverviewLayout {
  const titleHeight = 30;
  const legendWidth = 190;
  const legendHeight = Math.round(12 * 1.55 * entries) + 16;
  return {
    width: size + legendWidth,
    height: titleHeight + Math.max(size, legendHeight),
    view: makeView(landscape.domain, 0, titleHeight, size, size),
    title: { x: 0, y: 0, width: size + legendWidth, height: titleHeight },
    legend: { x: size + 14, y: titleHeight + 8 },
  };
}

/** Every trajectory on one landscape (computed with {@link overviewGreys} for contrast), with a legend and a title. */
export function drawOverview(ctx: Context2D, layout: OverviewLayout, landscape: Landscape, trajectories: readonly Trajectory[], title: string): void {
  ctx.save();
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, layout.width, layout.height);
  ctx.restore();
  drawCaption(ctx, layout.title, [{ left: title, bold: true }], 13);
  drawLandscape(ctx, layout.view, landscape);
  // Thin lines without the halo: with twenty paths on one picture, edges would hide the landscape and each other.
  trajectories.forEach((t, k) => {
    drawPath(ctx, layout.view, t.points, t.points.length, { color: PATH_COLORS[k % PATH_COLORS.length] as string, width: 1.2, halo: false, dotsUpTo: 0, head: true });
  });
  drawMinima(ctx, layout.view, landscape.surface.minima);
  drawLegend(
    ctx,
    layout.legend.x,
    layout.legend.y,
    trajectories.map((t, k) => ({ label: t.label, color: PATH_COLORS[k % PATH_COLORS.length] as string })),
  );
}
