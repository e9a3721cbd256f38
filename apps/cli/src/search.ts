import { UniformSampler } from './ns-coeffs.js';

/**
 * A Tree-structured Parzen Estimator (Bergstra et al. 2011, the algorithm of hyperopt's `tpe.suggest`, which the
 * seeds used to pick their learning rates) for one parameter searched on a log scale, seeded so that a search is
 * reproducible.
 *
 * The first `startup` trials are drawn uniformly in u = log₁₀(x). After that, the trials so far are split into the
 * best ⌈γ·√n⌉ (hyperopt's split) and the rest; each part becomes a density on u — a Gaussian at every trial, with
 * a bandwidth equal to the larger gap to its neighbours, plus a wide prior over the whole range, each truncated
 * to the range — ℓ(u) for the good trials and g(u) for the others. `candidates` values are drawn from ℓ and the
 * one with the largest ℓ(u)/g(u) (the expected-improvement criterion of the paper) is evaluated next.
 *
 * @packageDocumentation
 */

/** Settings of {@link tpeSearch}. */
export interface TpeSettings {
  /** Evaluations in total. Default 200 (the max_evals of the seeds' hyperopt search). */
  readonly trials?: number;
  /** Seed of the sampler. Default 1. */
  readonly seed?: number;
  /** The search range of x, searched uniformly in log₁₀ x. Default [1e-5, 10]. */
  readonly range?: readonly [number, number];
  /** Random trials before the estimator takes over. Default 10. */
  readonly startup?: number;
  /** Share of trials counted as good, as γ·√n. Default 0.25 (hyperopt's). */
  readonly gamma?: number;
  /** Candidates drawn from ℓ per trial. Default 24 (hyperopt's). */
  readonly candidates?: number;
}

/** One evaluation. */
export interface Trial {
  readonly x: number;
  readonly value: number;
}

/** A search's trials in order, and the best (the first of the lowest values). */
export interface TpeResult {
  readonly trials: readonly Trial[];
  readonly best: Trial;
}

const SQRT2PI = Math.sqrt(2 * Math.PI);

/** Standard normal CDF (Abramowitz–Stegun 7.1.26 erf, |error| < 1.5e-7: enough to weigh truncated kernels). */
function normalCdf(z: number): number {
  const t = 1 / (1 + 0.3275911 * (Math.abs(z) / Math.SQRT2));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-(z * z) / 2);
  return z >= 0 ? 0.5 * (1 + y) : 0.5 * (1 - y);
}

/** A mixture of equally weighted Gaussians truncated to [lo, hi]. */
interface Parzen {
  readonly mus: readonly number[];
  readonly sigmas: readonly number[];
}

/**
 * hyperopt's adaptive Parzen estimator: a kernel at every observation and a prior kernel at the range's midpoint
 * as wide as the range; each observation's width is the larger gap to its neighbours in sorted order (the one gap
 * at either end), clipped to [range/min(100, n + 1), range].
 */
function parzen(observations: readonly number[], lo: number, hi: number): Parzen {
  const width = hi - lo;
  const points = [...observations.map((mu) => ({ mu, prior: false })), { mu: (lo + hi) / 2, prior: true }].sort((a, b) => a.mu - b.mu);
  const minSigma = width / Math.min(100, points.length + 1);
  const sigmas = points.map(({ mu, prior }, k) => {
    if (prior) return width;
    const left = k > 0 ? mu - points[k - 1]!.mu : 0;
    const right = k < points.length - 1 ? points[k + 1]!.mu - mu : 0;
    return Math.min(width, Math.max(minSigma, left, right));
  });
  return { mus: points.map((p) => p.mu), sigmas };
}

function density(p: Parzen, u: number, lo: number, hi: number): number {
  let sum = 0;
  for (let k = 0; k < p.mus.length; k++) {
    const mu = p.mus[k] as number;
    const s = p.sigmas[k] as number;
    const mass = normalCdf((hi - mu) / s) - normalCdf((lo - mu) / s);
    sum += Math.exp(-0.5 * ((u - mu) / s) ** 2) / (s * SQRT2PI * Math.max(mass, 1e-12));
  }
  return sum / p.mus.length;
}

/** Minimizes `objective` over x in `range` (log scale); see the module comment for the algorithm. */
export function tpeSearch(objective: (x: number) => number, settings: TpeSettings = {}): TpeResult {
  const search = tpeTrials(settings);
  let next = search.next();
  while (!next.done) next = search.next(objective(next.value));
  return next.value;
}

/** {@link tpeSearch} for an objective that answers asynchronously (a training run); the same trials for the same seed. */
export async function tpeSearchAsync(objective: (x: number) => Promise<number>, settings: TpeSettings = {}): Promise<TpeResult> {
  const search = tpeTrials(settings);
  let next = search.next();
  while (!next.done) next = search.next(await objective(next.value));
  return next.value;
}

/** The search as a generator: it yields each x to evaluate and is sent back the objective's value. */
function* tpeTrials(settings: TpeSettings): Generator<number, TpeResult, number> {
  const trials = settings.trials ?? 200;
  const [xLo, xHi] = settings.range ?? [1e-5, 10];
  const startup = settings.startup ?? 10;
  const gamma = settings.gamma ?? 0.25;
  const candidates = settings.candidates ?? 24;
  if (!Number.isSafeInteger(trials) || trials < 1) throw new RangeError(`search: trials must be a positive integer, got ${trials}`);
  if (!(xLo > 0 && xHi > xLo && Number.isFinite(xHi))) throw new RangeError(`search: range must be 0 < low < high, got [${xLo}, ${xHi}]`);
  const lo = Math.log10(xLo);
  const hi = Math.log10(xHi);
  const rng = new UniformSampler(settings.seed ?? 1);
  const uniform = (): number => lo + (1 - rng.next()) * (hi - lo);
  const gaussian = (): number => Math.sqrt(-2 * Math.log(rng.next())) * Math.cos(2 * Math.PI * rng.next());
  const history: Trial[] = [];
  for (let n = 0; n < trials; n++) {
    let u: number;
    if (n < startup) {
      u = uniform();
    } else {
      const ranked = [...history].sort((a, b) => a.value - b.value).map((t) => Math.log10(t.x));
      const nGood = Math.max(1, Math.ceil(gamma * Math.sqrt(history.length)));
      const good = parzen(ranked.slice(0, nGood), lo, hi);
      const bad = parzen(ranked.slice(nGood), lo, hi);
      u = lo;
      let bestScore = -Infinity;
      for (let c = 0; c < candidates; c++) {
        const k = Math.min(good.mus.length - 1, Math.floor((1 - rng.next()) * good.mus.length));
        let v: number;
        let tries = 0;
        do v = good.mus[k]! + good.sigmas[k]! * gaussian();
        while ((v < lo || v > hi) && ++tries < 64);
        v = Math.min(hi, Math.max(lo, v));
        const score = Math.log(density(good, v, lo, hi)) - Math.log(density(bad, v, lo, hi));
        if (score > bestScore) {
          bestScore = score;
          u = v;
        }
      }
    }
    // Three significant digits: the rates go into a table people read, and a search replays exactly from its seed.
    const x = Number((10 ** u).toPrecision(3));
    const value = yield x;
    history.push({ x, value: Number.isNaN(value) ? Infinity : value });
  }
  let best = history[0]!;
  for (const t of history) if (t.value < best.value) best = t;
  return { trials: history, best };
}
