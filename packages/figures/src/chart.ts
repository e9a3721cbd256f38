import { scaleLinear, scaleLog } from 'd3-scale';
import { line } from 'd3-shape';
import { drawLegend } from './draw.js';
import type { Context2D } from './types.js';

/**
 * A line chart of several series on a {@link Context2D} (d3-scale for the axes, d3-shape's line generator drawing
 * straight into the context): loss against step, one colour per optimizer. The playground draws it live; the CLI
 * writes it as PNG (`lineChartPng` in `@descent/figures/node`).
 *
 * @packageDocumentation
 */

/** One line of the chart. */
export interface Series {
  readonly label: string;
  readonly color: string;
  readonly values: readonly number[];
}

/** How a chart is drawn. */
export interface ChartOptions {
  readonly title: string;
  /** y on a logarithmic scale (non-positive values are left out). */
  readonly log?: boolean;
  readonly xLabel?: string;
  /** x of each value: `values[i]` is drawn at `x[i]`; default its index. */
  readonly x?: readonly number[];
  /** Draw the series' names in a corner. Default: when there is more than one series. */
  readonly legend?: boolean;
}

/** Draws `series` on a `width` × `height` chart at the context's origin, with axes, ticks and a title. */
export function drawLineChart(ctx: Context2D, width: number, height: number, series: readonly Series[], options: ChartOptions): void {
  const margin = { left: 56, right: 12, top: 26, bottom: 30 };
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, width, height);
  ctx.fillStyle = '#20232a';
  ctx.font = 'bold 13px "DejaVu Sans", system-ui, sans-serif';
  ctx.textAlign = 'left';
  ctx.textBaseline = 'alphabetic';
  ctx.fillText(options.title, margin.left, 17);
  const n = Math.max(2, ...series.map((s) => s.values.length));
  const xs = options.x ?? Array.from({ length: n }, (_, i) => i);
  const finite = series.flatMap((s) => s.values.filter((v) => Number.isFinite(v) && (!options.log || v > 0)));
  if (finite.length === 0) return;
  let lo = Math.min(...finite);
  let hi = Math.max(...finite);
  if (options.log) {
    lo = Math.max(lo, hi * 1e-12);
    if (lo === hi) lo = hi / 10;
  } else if (lo === hi) {
    lo -= 1;
    hi += 1;
  }
  const x = scaleLinear().domain([xs[0] ?? 0, xs[xs.length - 1] ?? n - 1]).range([margin.left, width - margin.right]);
  const y = (options.log ? scaleLog() : scaleLinear()).domain([lo, hi]).range([height - margin.bottom, margin.top]).nice();
  ctx.strokeStyle = '#c9ccd1';
  ctx.lineWidth = 1;
  ctx.font = '11px "DejaVu Sans", system-ui, sans-serif';
  ctx.fillStyle = '#555a63';
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  const yTicks = options.log ? y.ticks(4).filter((_, i, a) => a.length <= 6 || i % Math.ceil(a.length / 6) === 0) : y.ticks(5);
  for (const t of yTicks) {
    const py = Math.round(y(t)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(margin.left, py);
    ctx.lineTo(width - margin.right, py);
    ctx.stroke();
    ctx.fillText(options.log ? t.toExponential(0) : String(Number(t.toPrecision(3))), margin.left - 6, py);
  }
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (const t of x.ticks(5)) ctx.fillText(String(t), x(t), height - margin.bottom + 6);
  if (options.xLabel) ctx.fillText(options.xLabel, (margin.left + width - margin.right) / 2, height - 14);
  const lineOf = line<number>();
  // d3-shape draws into anything with moveTo/lineTo (its type names the DOM's context).
  const draw = lineOf
    .defined((v) => Number.isFinite(v) && (!options.log || v > 0))
    .x((_, i) => x(xs[i] ?? i))
    .y((v) => y(Math.max(v, lo)))
    .context(ctx as unknown as Parameters<typeof lineOf.context>[0]);
  ctx.lineWidth = 1.75;
  for (const s of series) {
    ctx.strokeStyle = s.color;
    ctx.beginPath();
    draw([...s.values]);
    ctx.stroke();
  }
  // Several series need their names: a legend in the top right corner, on a light box so the lines stay readable.
  if (options.legend ?? series.length > 1) {
    const fontSize = 11;
    const rows = Math.round(fontSize * 1.55) * series.length;
    const longest = Math.max(...series.map((s) => s.label.length));
    const boxWidth = 38 + longest * fontSize * 0.62;
    const left = width - margin.right - boxWidth - 6;
    // The right-hand corner (top or bottom) that covers fewer points of the lines.
    const covered = (top: number) =>
      series.reduce((count, s) => count + s.values.filter((v, i) => {
        const px = x(xs[i] ?? i);
        const py = y(Math.max(v, lo));
        return px >= left - 6 && py >= top && py <= top + rows + 6;
      }).length, 0);
    const top = covered(margin.top + 2) <= covered(height - margin.bottom - rows - 8) ? margin.top + 2 : height - margin.bottom - rows - 8;
    ctx.save();
    ctx.globalAlpha = 0.85;
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(left - 6, top, boxWidth + 6, rows + 6);
    ctx.restore();
    drawLegend(ctx, left, top + 3, series, fontSize);
  }
}
