import { scaleLinear, scaleLog } from 'd3-scale';
import { line } from 'd3-shape';

/**
 * A line chart of several series on a canvas (d3-scale for the axes, d3-shape's line generator drawing straight
 * into the 2-D context): loss against step, one colour per optimizer.
 *
 * @packageDocumentation
 */

/** One line of the chart. */
export interface Series {
  readonly label: string;
  readonly color: string;
  readonly values: readonly number[];
}

/** Draws `series` (y on a log scale when `log`) with axes, ticks and a title. */
export function drawChart(canvas: HTMLCanvasElement, series: readonly Series[], options: { title: string; log?: boolean; xLabel?: string }): void {
  const ctx = canvas.getContext('2d')!;
  const { width, height } = canvas;
  const margin = { left: 56, right: 12, top: 26, bottom: 30 };
  ctx.clearRect(0, 0, width, height);
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, width, height);
  ctx.fillStyle = '#20232a';
  ctx.font = 'bold 13px system-ui, sans-serif';
  ctx.textAlign = 'left';
  ctx.textBaseline = 'alphabetic';
  ctx.fillText(options.title, margin.left, 17);
  const n = Math.max(2, ...series.map((s) => s.values.length));
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
  const x = scaleLinear().domain([0, n - 1]).range([margin.left, width - margin.right]);
  const y = (options.log ? scaleLog() : scaleLinear()).domain([lo, hi]).range([height - margin.bottom, margin.top]).nice();
  ctx.strokeStyle = '#c9ccd1';
  ctx.lineWidth = 1;
  ctx.font = '11px system-ui, sans-serif';
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
  const draw = line<number>()
    .defined((v) => Number.isFinite(v) && (!options.log || v > 0))
    .x((_, i) => x(i))
    .y((v) => y(Math.max(v, lo)))
    .context(ctx);
  ctx.lineWidth = 1.75;
  for (const s of series) {
    ctx.strokeStyle = s.color;
    ctx.beginPath();
    draw([...s.values]);
    ctx.stroke();
  }
}
