import { jacobiEigen } from '@descent/core';

/**
 * The loss landscape around the end of a training run, as the seeds draw it (`*_landscape_pca.png`, after Li et
 * al. 2018, "Visualizing the Loss Landscape of Neural Nets", §7): the weight snapshots w₀ … w_T recorded during
 * the run are taken relative to the final point, X = [w_i − w_T]; the first two principal directions of X span a
 * plane through w_T; the loss is sampled on a grid of that plane and the trajectory projected onto it.
 *
 * PCA without a d × d matrix: with n snapshots of d weights (n ≈ 60, d ≈ 420k), the eigenvectors of the n × n Gram
 * matrix XXᵀ = VΛVᵀ give the principal directions u_k = Xᵀv_k/√λ_k (unit length), the trajectory's coordinates
 * X·u_k = √λ_k·v_k, and the share of the trajectory's variance each direction explains, λ_k/Σλ.
 *
 * @packageDocumentation
 */

/** The plane of the first two principal directions of a trajectory, through its last point. */
export interface PcaPlane {
  /** Unit directions u₁, u₂ in weight space. */
  readonly directions: readonly [Float64Array, Float64Array];
  /** Coordinates of every snapshot on the plane (the last is (0, 0)). */
  readonly coords: ReadonlyArray<readonly [number, number]>;
  /** λ_k/Σλ for the two directions. */
  readonly explained: readonly [number, number];
}

/**
 * The PCA plane of `snapshots` (each a flat weight vector, the last one the final point). Needs at least three
 * snapshots that do not all lie on a line.
 */
export function pcaPlane(snapshots: readonly Float32Array[]): PcaPlane {
  const n = snapshots.length;
  const final = snapshots[n - 1];
  if (n < 3 || !final) throw new RangeError(`pcaPlane: needs at least 3 snapshots, got ${n}`);
  const d = final.length;
  const rows = snapshots.map((w) => {
    if (w.length !== d) throw new RangeError(`pcaPlane: snapshots of ${w.length} and ${d} weights`);
    const r = new Float64Array(d);
    for (let j = 0; j < d; j++) r[j] = (w[j] as number) - (final[j] as number);
    return r;
  });
  const gram = new Float64Array(n * n);
  for (let a = 0; a < n; a++) {
    for (let b = a; b < n; b++) {
      const ra = rows[a] as Float64Array;
      const rb = rows[b] as Float64Array;
      let s = 0;
      for (let j = 0; j < d; j++) s += (ra[j] as number) * (rb[j] as number);
      gram[a * n + b] = s;
      gram[b * n + a] = s;
    }
  }
  const { values, vectors } = jacobiEigen(gram, n);
  let total = 0;
  for (const v of values) total += Math.max(v, 0);
  // Eigenvalues ascend: the two largest are the last two columns.
  const pick = (k: number) => {
    const lambda = values[k] as number;
    if (!(lambda > 0)) throw new RangeError('pcaPlane: the trajectory does not span two directions');
    const u = new Float64Array(d);
    for (let a = 0; a < n; a++) {
      const coef = (vectors[a * n + k] as number) / Math.sqrt(lambda);
      const r = rows[a] as Float64Array;
      for (let j = 0; j < d; j++) u[j] = (u[j] as number) + coef * (r[j] as number);
    }
    // Eigenvectors have no sign: point u along the start (w₀ − w_T), so pictures of different runs read alike.
    let dot = 0;
    for (let j = 0; j < d; j++) dot += (u[j] as number) * ((rows[0] as Float64Array)[j] as number);
    if (dot < 0) for (let j = 0; j < d; j++) u[j] = -(u[j] as number);
    return u;
  };
  const u1 = pick(n - 1);
  const u2 = pick(n - 2);
  const coords = rows.map((r): readonly [number, number] => {
    let x = 0;
    let y = 0;
    for (let j = 0; j < d; j++) {
      x += (r[j] as number) * (u1[j] as number);
      y += (r[j] as number) * (u2[j] as number);
    }
    return [x, y];
  });
  return { directions: [u1, u2], coords, explained: [(values[n - 1] as number) / total, (values[n - 2] as number) / total] };
}

/** A loss sampled on a grid of the plane, with the trajectory on it: what the landscape picture is drawn from. */
export interface LandscapeGrid {
  /** Grid coordinates along u₁ (x) and u₂ (y), ascending. */
  readonly xs: readonly number[];
  readonly ys: readonly number[];
  /** Loss at (xs[i], ys[j]) in `values[j * xs.length + i]`. */
  readonly values: readonly number[];
  /** The trajectory's coordinates and the loss at each snapshot (same images). */
  readonly path: ReadonlyArray<readonly [number, number]>;
  readonly pathLoss: readonly number[];
  readonly explained: readonly [number, number];
  /** Training images the loss is averaged over. */
  readonly images: number;
}

/** `points` evenly spaced values from lo to hi. */
export function linspace(lo: number, hi: number, points: number): number[] {
  return Array.from({ length: points }, (_, i) => (points === 1 ? (lo + hi) / 2 : lo + ((hi - lo) * i) / (points - 1)));
}

/**
 * The grid around a trajectory: its bounding box on the plane widened by `margin` of its extent on each side
 * (and made at least a tenth as tall as wide, so a nearly straight path still gets a readable picture).
 */
export function gridAround(coords: ReadonlyArray<readonly [number, number]>, points: number, margin = 0.25): { xs: number[]; ys: number[] } {
  const xs = coords.map((c) => c[0]);
  const ys = coords.map((c) => c[1]);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  const w = x1 - x0;
  const minH = w / 10;
  if (y1 - y0 < minH) {
    const c = (y0 + y1) / 2;
    [y0, y1] = [c - minH / 2, c + minH / 2];
  }
  const h = y1 - y0;
  return { xs: linspace(x0 - margin * w, x1 + margin * w, points), ys: linspace(y0 - margin * h, y1 + margin * h, points) };
}

/**
 * Bilinear interpolation of a grid (clamped at its edges): the surface a contour picture is drawn from. The values
 * are interpolated in log space, as the picture's colour scale is logarithmic.
 */
export function interpolateGrid(grid: Pick<LandscapeGrid, 'xs' | 'ys' | 'values'>): (x: number, y: number) => number {
  const { xs, ys, values } = grid;
  const nx = xs.length;
  const ny = ys.length;
  const logs = values.map((v) => Math.log(Math.max(v, 1e-300)));
  const locate = (axis: readonly number[], v: number): [number, number] => {
    const n = axis.length;
    const lo = axis[0] as number;
    const hi = axis[n - 1] as number;
    if (n === 1 || hi === lo) return [0, 0];
    const t = Math.min(Math.max((v - lo) / (hi - lo), 0), 1) * (n - 1);
    const i = Math.min(Math.floor(t), n - 2);
    return [i, t - i];
  };
  return (x, y) => {
    const [i, fx] = locate(xs, x);
    const [j, fy] = locate(ys, y);
    const at = (a: number, b: number) => logs[Math.min(b, ny - 1) * nx + Math.min(a, nx - 1)] as number;
    const top = at(i, j) * (1 - fx) + at(i + 1, j) * fx;
    const bottom = at(i, j + 1) * (1 - fx) + at(i + 1, j + 1) * fx;
    return Math.exp(top * (1 - fy) + bottom * fy);
  };
}
