import type { Landscape } from './landscape.js';
import type { Context2D, Point } from './types.js';
import { toPixel, type View } from './view.js';

/**
 * Drawing primitives on any {@link Context2D}. Each call saves and restores the context's state, so they can be
 * combined in any order, by the figures of this package or by a page (the playground draws live frames with them).
 *
 * @packageDocumentation
 */

// Canvas implementations misbehave on coordinates far outside the surface (a diverged run reaches 1e300):
// clamp to a margin that is still well outside any view.
const LIMIT = 1e5;
const clampPx = (v: number): number => (v > LIMIT ? LIMIT : v < -LIMIT ? -LIMIT : v);

function clipTo(ctx: Context2D, view: View): void {
  ctx.beginPath();
  ctx.rect(view.left, view.top, view.width, view.height);
  ctx.clip();
}

/** Fills the view with the landscape's contour bands (lowest first) and draws a thin frame around it. */
export function drawLandscape(ctx: Context2D, view: View, landscape: Landscape): void {
  ctx.save();
  clipTo(ctx, view);
  ctx.fillStyle = landscape.floor;
  ctx.fillRect(view.left, view.top, view.width, view.height);
  for (const band of landscape.bands) {
    ctx.fillStyle = band.color;
    ctx.beginPath();
    for (const polygon of band.polygons) {
      for (const ring of polygon) {
        ring.forEach((p, k) => {
          const [x, y] = toPixel(view, p);
          if (k === 0) ctx.moveTo(x, y);
          else ctx.lineTo(x, y);
        });
        ctx.closePath();
      }
    }
    // Holes of a band are its inner rings: even-odd filling leaves them to the bands above.
    ctx.fill('evenodd');
  }
  ctx.restore();
  ctx.save();
  ctx.strokeStyle = 'rgba(0, 0, 0, 0.6)';
  ctx.lineWidth = 1;
  ctx.strokeRect(view.left + 0.5, view.top + 0.5, view.width - 1, view.height - 1);
  ctx.restore();
}

/** Marks each minimum with a diamond (green with a white edge, as the seeds' pictures mark theirs). */
export function drawMinima(ctx: Context2D, view: View, minima: readonly Point[], size = 5): void {
  ctx.save();
  clipTo(ctx, view);
  ctx.fillStyle = '#2ecc40';
  ctx.strokeStyle = '#ffffff';
  ctx.lineWidth = 1.25;
  for (const m of minima) {
    const [x, y] = toPixel(view, m);
    ctx.beginPath();
    ctx.moveTo(x, y - size);
    ctx.lineTo(x + size, y);
    ctx.lineTo(x, y + size);
    ctx.lineTo(x - size, y);
    ctx.closePath();
    ctx.fill();
    ctx.stroke();
  }
  ctx.restore();
}

/** How a path is drawn. */
export interface PathStyle {
  readonly color: string;
  /** Line width in pixels. Default 1.75. */
  readonly width?: number;
  /** A darker edge under the line so it shows on light and dark bands alike. Default true. */
  readonly halo?: boolean;
  /** A dot at every iterate when at most this many are drawn. Default 120. */
  readonly dotsUpTo?: number;
  /** Circle the last drawn iterate. Default true. */
  readonly head?: boolean;
}

/** A filled circle with an edge. */
function disc(ctx: Context2D, x: number, y: number, r: number, fill: string, edge: string, edgeWidth: number): void {
  ctx.fillStyle = fill;
  ctx.strokeStyle = edge;
  ctx.lineWidth = edgeWidth;
  ctx.beginPath();
  ctx.arc(x, y, r, 0, 2 * Math.PI);
  ctx.fill();
  ctx.stroke();
}

/** Draws iterates `points[0 … count − 1]` as a polyline, clipped to the view: the start as a white dot, the last as a ring. */
export function drawPath(ctx: Context2D, view: View, points: readonly Point[], count: number, style: PathStyle): void {
  const n = Math.max(0, Math.min(count, points.length));
  if (n === 0) return;
  const px = points.slice(0, n).map((p) => toPixel(view, p).map(clampPx) as [number, number]);
  const width = style.width ?? 1.75;
  ctx.save();
  clipTo(ctx, view);
  ctx.lineJoin = 'round';
  ctx.lineCap = 'round';
  const line = (color: string, w: number): void => {
    ctx.strokeStyle = color;
    ctx.lineWidth = w;
    ctx.beginPath();
    px.forEach(([x, y], k) => (k === 0 ? ctx.moveTo(x, y) : ctx.lineTo(x, y)));
    ctx.stroke();
  };
  if (n > 1) {
    if (style.halo ?? true) line('rgba(0, 0, 0, 0.55)', width + 1.5);
    line(style.color, width);
  }
  if (n <= (style.dotsUpTo ?? 120)) {
    ctx.fillStyle = style.color;
    for (const [x, y] of px) {
      ctx.beginPath();
      ctx.arc(x, y, width * 0.9, 0, 2 * Math.PI);
      ctx.fill();
    }
  }
  const [sx, sy] = px[0]!;
  disc(ctx, sx, sy, 3.5, '#ffffff', '#000000', 1);
  if ((style.head ?? true) && n > 1) {
    const [hx, hy] = px[n - 1]!;
    disc(ctx, hx, hy, 4, style.color, '#ffffff', 1.5);
  }
  ctx.restore();
}

/** Lines of text on a dark band (x, y, width, height): `left` lines start at the left edge, `right` ones end at the right. */
export function drawCaption(
  ctx: Context2D,
  box: { x: number; y: number; width: number; height: number },
  lines: ReadonlyArray<{ left?: string; right?: string; bold?: boolean }>,
  fontSize = 12,
): void {
  ctx.save();
  ctx.fillStyle = '#15171c';
  ctx.fillRect(box.x, box.y, box.width, box.height);
  ctx.textBaseline = 'middle';
  const lineHeight = box.height / Math.max(1, lines.length);
  lines.forEach((l, k) => {
    const y = box.y + lineHeight * (k + 0.5);
    ctx.font = `${l.bold ? 'bold ' : ''}${fontSize}px "DejaVu Sans", sans-serif`;
    ctx.fillStyle = l.bold ? '#ffffff' : '#d7dae0';
    if (l.left !== undefined) {
      ctx.textAlign = 'left';
      ctx.fillText(l.left, box.x + 8, y);
    }
    if (l.right !== undefined) {
      ctx.textAlign = 'right';
      ctx.fillText(l.right, box.x + box.width - 8, y);
    }
  });
  ctx.restore();
}

/** A legend: one row per entry, a short line in its colour and its label, from (x, y) downwards. */
export function drawLegend(ctx: Context2D, x: number, y: number, entries: ReadonlyArray<{ label: string; color: string }>, fontSize = 12): void {
  ctx.save();
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'left';
  ctx.font = `${fontSize}px "DejaVu Sans", sans-serif`;
  const row = Math.round(fontSize * 1.55);
  entries.forEach((e, k) => {
    const cy = y + row * (k + 0.5);
    ctx.strokeStyle = e.color;
    ctx.lineWidth = 3;
    ctx.beginPath();
    ctx.moveTo(x, cy);
    ctx.lineTo(x + 22, cy);
    ctx.stroke();
    ctx.fillStyle = '#20232a';
    ctx.fillText(e.label, x + 30, cy);
  });
  ctx.restore();
}
