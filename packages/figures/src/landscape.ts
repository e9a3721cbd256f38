import { contours } from 'd3-contour';
import { scaleSequentialLog } from 'd3-scale';
import { interpolateViridis } from 'd3-scale-chromatic';
import type { Domain, Surface } from './types.js';

/**
 * A surface sampled on a grid and cut into filled contour bands on a logarithmic scale of f − f*, the way
 * optimizer pictures are usually drawn (the interesting part of Rosenbrock's valley is five decades below its
 * walls). Sampling is the only costly part; a landscape is computed once per function and drawn under every
 * trajectory.
 *
 * @packageDocumentation
 */

/** One filled band: the region where f − f* ≥ `threshold`, as polygons in data coordinates. */
export interface Band {
  readonly threshold: number;
  readonly color: string;
  /** MultiPolygon: polygons → rings → points `[x, y]`. */
  readonly polygons: ReadonlyArray<ReadonlyArray<ReadonlyArray<readonly [number, number]>>>;
}

/** A sampled surface ready to draw. */
export interface Landscape {
  readonly surface: Surface;
  readonly domain: Domain;
  /** The colour of the region below the lowest band (the floor around the minima). */
  readonly floor: string;
  /** Bands from the lowest threshold up: painting them in order leaves each point the colour of its band. */
  readonly bands: readonly Band[];
  /** The smallest and largest f − f* of the colour scale. */
  readonly range: readonly [number, number];
}

/** How a surface is sampled. */
export interface LandscapeOptions {
  /** Grid points per side. Default 160: smooth at the figures' default 300-pixel size. */
  readonly resolution?: number;
  /** Number of contour bands (geometrically spaced). Default 28. */
  readonly levels?: number;
  /** Maps t ∈ [0, 1] (low → high f) to a CSS colour. Default d3's viridis. */
  readonly colors?: (t: number) => string;
  /** The lowest band's f − f* as a fraction of the largest sampled value, when the samples go lower. Default 1e-6. */
  readonly floorRatio?: number;
}

/** Samples `surface` on its domain and returns its contour bands (see {@link LandscapeOptions}). */
export function computeLandscape(surface: Surface, options: LandscapeOptions = {}): Landscape {
  const n = options.resolution ?? 160;
  const levels = options.levels ?? 28;
  const floorRatio = options.floorRatio ?? 1e-6;
  if (!Number.isInteger(n) || n < 2) throw new RangeError(`computeLandscape: resolution must be an integer ≥ 2, got ${n}`);
  if (!Number.isInteger(levels) || levels < 1) throw new RangeError(`computeLandscape: levels must be a positive integer, got ${levels}`);
  const [[x0, x1], [y0, y1]] = surface.domain;
  // Sample i, j sits at the centre of grid cell (i, j): d3-contour's coordinates run over [0, n] per side.
  const values = new Array<number>(n * n);
  let hi = 0;
  let loPositive = Infinity;
  for (let j = 0; j < n; j++) {
    const y = y1 - ((j + 0.5) / n) * (y1 - y0); // row 0 is the top of the picture
    for (let i = 0; i < n; i++) {
      const x = x0 + ((i + 0.5) / n) * (x1 - x0);
      const d = surface.value(x, y) - surface.minValue;
      const v = Number.isFinite(d) ? Math.max(d, 0) : Number.MAX_VALUE;
      values[j * n + i] = v;
      if (v > hi && v < Number.MAX_VALUE) hi = v;
      if (v > 0 && v < loPositive) loPositive = v;
    }
  }
  if (!(hi > 0)) hi = 1;
  const lo = Math.max(Number.isFinite(loPositive) ? loPositive : hi * floorRatio, hi * floorRatio);
  const thresholds: number[] = [];
  for (let k = 0; k < levels; k++) thresholds.push(lo * (hi / lo) ** (k / levels));
  const scale = scaleSequentialLog(options.colors ?? interpolateViridis).domain([lo, hi]);
  const toData = (gx: number, gy: number): readonly [number, number] => [x0 + (gx / n) * (x1 - x0), y1 - (gy / n) * (y1 - y0)];
  const bands = contours()
    .size([n, n])
    .thresholds(thresholds)(values)
    .map((c) => ({
      threshold: c.value,
      color: scale(c.value),
      polygons: c.coordinates.map((poly) => poly.map((ring) => ring.map(([gx, gy]) => toData(gx as number, gy as number)))),
    }));
  return { surface, domain: surface.domain, floor: scale(lo), bands, range: [lo, hi] };
}
