import { adam, createReference, type Tensor } from '@descent/core';
import { InputError } from './errors.js';
import { formatNumber } from './table.js';

/**
 * `descent ns-coeffs`: fits the coefficients (a, b, c) of Muon's quintic Newton–Schulz step as seed 001 does.
 *
 * Newton–Schulz maps every singular value σ ∈ (0, 1] of the normalised momentum through
 * f(σ) = aσ + bσ³ + cσ⁵, k times, and the result approximates msign(M) as well as f^(k) is close to 1. Seed 001
 * turns that into a three-parameter least-squares problem,
 *
 * $$
 * \mathcal L(a, b, c) = \mathbb E_{x \sim U(0, 1]}\big[(1 - f^{(k)}(x))^2\big],
 * $$
 *
 * estimated on a fresh mini-batch of x each step and minimised with Adam (lr 5e-5, batch 2048, 100 000 steps,
 * from (1, −1, 1)): its PyTorch run ends at (3.1010, −3.4236, 1.3181) with a last mini-batch loss of 1.37e-3.
 *
 * Here the optimizer is descent's own Adam (the Float64 reference, the three coefficients one parameter of
 * shape [3]) and the gradient is exact, by forward-mode differentiation through the k compositions: with
 * y₀ = x, y_{j+1} = f(y_j) and p_j = ∂y_j/∂(a, b, c),
 *
 * $$
 * p_0 = 0, \qquad p_{j+1} = (y_j,\ y_j^3,\ y_j^5) + f'(y_j)\, p_j, \qquad f'(y) = a + 3b y^2 + 5c y^4,
 * \qquad \nabla \mathcal L = \frac{2}{n}\sum_i \big(f^{(k)}(x_i) - 1\big)\, p_k(x_i).
 * $$
 *
 * The reported MSE is measured on a fixed grid, the midpoints x_i = (i − ½)/n of n = {@link EVAL_POINTS} equal
 * cells of (0, 1] (the midpoint rule for the integral above, so a deterministic value of the seed's expected
 * loss), next to the seed's own measure, the loss of the last mini-batch (noisy: its standard error at batch
 * 2048 is a few percent of the value).
 *
 * @packageDocumentation
 */

/** Keller Jordan's coefficients, Muon's default (chosen for a steep slope f′(0) = a, not for the MSE). */
export const KELLER_COEFFICIENTS: Coefficients = [3.4445, -4.775, 2.0315];

/** The result seed 001 reports for k = 5 from (1, −1, 1), to four decimals. */
export const SEED_001_COEFFICIENTS: Coefficients = [3.101, -3.4236, 1.3181];

/** Points of the evaluation grid: the midpoints of this many equal cells of (0, 1]. */
export const EVAL_POINTS = 1_000_000;

/** (a, b, c) of f(x) = a·x + b·x³ + c·x⁵. */
export type Coefficients = readonly [number, number, number];

/** Settings of a fit; every field has seed 001's value as default. */
export interface NsCoeffsSettings {
  /** Iterations k of f. Default 5. */
  readonly k?: number;
  /** Adam steps. Default 100 000. */
  readonly steps?: number;
  /** Adam's learning rate. Default 5e-5. */
  readonly lr?: number;
  /** Samples of x per step. Default 2048. */
  readonly batch?: number;
  /** Seed of the sampler of x (an integer in [0, 2³²)). Default 0. */
  readonly seed?: number;
  /** Starting coefficients. Default (1, −1, 1). */
  readonly init?: Coefficients;
  /** Called every `logEvery` steps (and after the last) with the step count, the mini-batch loss and (a, b, c). */
  readonly onLog?: (step: number, loss: number, coefficients: Coefficients) => void;
  /** Interval of `onLog` calls. Default 0: never. */
  readonly logEvery?: number;
}

export const NS_COEFFS_DEFAULTS = { k: 5, steps: 100_000, lr: 5e-5, batch: 2048, seed: 0, init: [1, -1, 1] as Coefficients } as const;

/** What a fit found, and the measures it is compared by. */
export interface NsCoeffsResult {
  readonly k: number;
  readonly steps: number;
  readonly lr: number;
  readonly batch: number;
  readonly seed: number;
  readonly init: Coefficients;
  /** The fitted (a, b, c). */
  readonly coefficients: Coefficients;
  /** MSE of the fitted coefficients on the evaluation grid. */
  readonly mse: number;
  /** The loss of the last mini-batch, before the last Adam step (the number seed 001 prints). */
  readonly lastBatchLoss: number;
  /** MSE of the starting coefficients on the grid. */
  readonly initialMse: number;
  /** Grid MSE of Keller Jordan's coefficients with the same k. */
  readonly kellerMse: number;
  /** Grid MSE of seed 001's reported coefficients with the same k. */
  readonly seedMse: number;
  /** Points of the evaluation grid. */
  readonly evalPoints: number;
  /**
   * The step whose mini-batch loss was not finite (f^(k) overflowed: the coefficients left the region where the
   * iteration stays bounded), where the fit stopped; absent when it ran to the end.
   */
  readonly divergedAt?: number;
  /** Wall-clock seconds of the Adam loop. */
  readonly seconds: number;
}

/**
 * Uniform numbers in (0, 1] from xoshiro128** (Blackman & Vigna), seeded through splitmix32, 32 bits each:
 * deterministic across platforms for a given seed.
 */
export class UniformSampler {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    let z = seed >>> 0;
    const next = (): number => {
      z = (z + 0x9e3779b9) | 0;
      let t = z ^ (z >>> 16);
      t = Math.imul(t, 0x21f0aaad);
      t ^= t >>> 15;
      t = Math.imul(t, 0x735a2d97);
      return (t ^ (t >>> 15)) | 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
  }

  /** One value of {@link UniformSampler.fill}: uniform in (0, 1]. */
  next(): number {
    return this.fill(this.one)[0] as number;
  }

  private readonly one = new Float64Array(1);

  /** Fills `out` with 1 − u, u uniform on {0, 2⁻³², …, 1 − 2⁻³²}: values in (0, 1]. */
  fill(out: Float64Array): Float64Array {
    let { s0, s1, s2, s3 } = this;
    for (let i = 0; i < out.length; i++) {
      const m = Math.imul(s1, 5);
      const r = Math.imul((m << 7) | (m >>> 25), 9);
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      out[i] = 1 - (r >>> 0) / 4294967296;
    }
    this.s0 = s0;
    this.s1 = s1;
    this.s2 = s2;
    this.s3 = s3;
    return out;
  }
}

/** f^(k)(x) for f(y) = a·y + b·y³ + c·y⁵. */
export function composed([a, b, c]: Coefficients, k: number, x: number): number {
  let y = x;
  for (let j = 0; j < k; j++) {
    const y3 = y * y * y;
    y = a * y + b * y3 + c * y3 * y * y;
  }
  return y;
}

/**
 * The mean of (1 − f^(k)(x))² over `xs`, and (when `grad` is given) its exact gradient with respect to (a, b, c),
 * written into `grad`, by the forward-mode recursion of the module comment.
 */
export function mseAndGradient(coefficients: Coefficients, k: number, xs: Float64Array, grad?: Float64Array): number {
  const [a, b, c] = coefficients;
  const b3 = 3 * b;
  const c5 = 5 * c;
  let loss = 0;
  let ga = 0;
  let gb = 0;
  let gc = 0;
  for (let i = 0; i < xs.length; i++) {
    let y = xs[i] as number;
    let pa = 0; // ∂y_j/∂a
    let pb = 0; // ∂y_j/∂b
    let pc = 0; // ∂y_j/∂c
    for (let j = 0; j < k; j++) {
      const y2 = y * y;
      const y3 = y2 * y;
      const y5 = y3 * y2;
      const slope = a + y2 * (b3 + c5 * y2); // f′(y_j)
      pa = y + slope * pa;
      pb = y3 + slope * pb;
      pc = y5 + slope * pc;
      y = a * y + b * y3 + c * y5;
    }
    const r = y - 1;
    loss += r * r;
    ga += r * pa;
    gb += r * pb;
    gc += r * pc;
  }
  const n = xs.length;
  if (grad) {
    grad[0] = (2 * ga) / n;
    grad[1] = (2 * gb) / n;
    grad[2] = (2 * gc) / n;
  }
  return loss / n;
}

let gridCache: Float64Array | undefined;

/** The evaluation grid: the midpoints (i − ½)/n, i = 1 … n, of n = {@link EVAL_POINTS} cells of (0, 1]. */
export function evaluationGrid(): Float64Array {
  if (!gridCache) {
    gridCache = new Float64Array(EVAL_POINTS);
    for (let i = 0; i < EVAL_POINTS; i++) gridCache[i] = (i + 0.5) / EVAL_POINTS;
  }
  return gridCache;
}

/** MSE of (1 − f^(k)(x))² on the evaluation grid: the midpoint rule for ∫₀¹ (1 − f^(k)(x))² dx. */
export function gridMse(coefficients: Coefficients, k: number): number {
  return mseAndGradient(coefficients, k, evaluationGrid());
}

function check(condition: boolean, message: string): void {
  if (!condition) throw new InputError(`ns-coeffs: ${message}`);
}

/** Runs seed 001's coefficient search with descent's Adam; see the module comment. */
export function fitNsCoeffs(settings: NsCoeffsSettings = {}): NsCoeffsResult {
  const d = NS_COEFFS_DEFAULTS;
  const k = settings.k ?? d.k;
  const steps = settings.steps ?? d.steps;
  const lr = settings.lr ?? d.lr;
  const batch = settings.batch ?? d.batch;
  const seed = settings.seed ?? d.seed;
  const init = settings.init ?? d.init;
  const logEvery = settings.logEvery ?? 0;
  check(Number.isSafeInteger(k) && k >= 1, `k must be a positive integer, got ${k}`);
  check(Number.isSafeInteger(steps) && steps >= 0, `steps must be a non-negative integer, got ${steps}`);
  check(Number.isSafeInteger(batch) && batch >= 1, `batch must be a positive integer, got ${batch}`);
  check(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32, `seed must be an integer in [0, 2^32), got ${seed}`);
  check(init.length === 3 && init.every((v) => Number.isFinite(v)), `init must be three finite numbers a,b,c, got ${init.join(',')}`);

  const abc: Tensor = { shape: [3], data: Float64Array.from(init) };
  const grad = new Float64Array(3);
  const opt = createReference(adam({ lr }), { abc });
  const sampler = new UniformSampler(seed);
  const xs = new Float64Array(batch);
  const current = (): Coefficients => [abc.data[0] as number, abc.data[1] as number, abc.data[2] as number];
  let lastBatchLoss = NaN;
  let divergedAt: number | undefined;
  const started = performance.now();
  for (let t = 1; t <= steps; t++) {
    lastBatchLoss = mseAndGradient(current(), k, sampler.fill(xs), grad);
    if (!Number.isFinite(lastBatchLoss)) {
      divergedAt = t;
      break;
    }
    opt.step({ abc: { shape: [3], data: grad } });
    if (settings.onLog && logEvery > 0 && (t % logEvery === 0 || t === steps)) settings.onLog(t, lastBatchLoss, current());
  }
  const seconds = (performance.now() - started) / 1000;
  const coefficients = current();
  return {
    k,
    steps,
    lr,
    batch,
    seed,
    init: [...init] as unknown as Coefficients,
    coefficients,
    mse: gridMse(coefficients, k),
    lastBatchLoss,
    initialMse: gridMse(init, k),
    kellerMse: gridMse(KELLER_COEFFICIENTS, k),
    seedMse: gridMse(SEED_001_COEFFICIENTS, k),
    evalPoints: EVAL_POINTS,
    ...(divergedAt !== undefined ? { divergedAt } : {}),
    seconds,
  };
}

const fixed = (v: number): string => (v >= 0 ? ' ' : '') + v.toFixed(4);

/** The result as text. */
export function formatNsCoeffs(r: NsCoeffsResult): string {
  const rows: Array<[string, Coefficients, number, string]> = [
    ['start', r.init, r.initialMse, ''],
    ['fitted', r.coefficients, r.mse, `last mini-batch loss ${formatNumber(r.lastBatchLoss)}`],
    ['seed 001 (reported)', SEED_001_COEFFICIENTS, r.seedMse, 'seed 001 printed last mini-batch loss 1.37e-3 (k = 5)'],
    ['Keller Jordan (Muon)', KELLER_COEFFICIENTS, r.kellerMse, ''],
  ];
  const width = Math.max(...rows.map((x) => x[0].length));
  const lines = [
    `descent ns-coeffs: k = ${r.k}, Adam lr ${r.lr}, ${r.steps} steps, batch ${r.batch}, seed ${r.seed} (${r.seconds.toFixed(1)} s)`,
    `MSE = mean of (1 - f^(${r.k})(x))^2, f(x) = a x + b x^3 + c x^5, on the ${r.evalPoints} midpoints of (0, 1]`,
    ...(r.divergedAt !== undefined ? [`Stopped at step ${r.divergedAt}: the mini-batch loss was not finite (f^(${r.k}) overflowed); "fitted" is where it stopped.`] : []),
    '',
    `  ${''.padEnd(width)}  ${'a'.padStart(8)}  ${'b'.padStart(8)}  ${'c'.padStart(8)}        MSE  a+b+c`,
    ...rows.map(
      ([name, c, mse, note]) =>
        `  ${name.padEnd(width)}  ${c.map((v) => fixed(v).padStart(8)).join('  ')}  ${formatNumber(mse).padStart(9)}  ${(c[0] + c[1] + c[2]).toFixed(4)}${note ? `  ${note}` : ''}`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}
