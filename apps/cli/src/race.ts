import {
  clipGradNorm,
  createSpec,
  createReference,
  definitions,
  distanceToMinimum,
  testFunctions,
  type GradientClosure,
  type Tensor,
  type TestFunction,
  withTransforms,
} from '@descent/core';
import { InputError } from './errors.js';
import { raceOptions, raceShape } from './race-config.js';

/**
 * `descent race`: every optimizer on every test function, from the function's usual starting point, with the
 * learning rates and parameter shapes of race-config.ts, optionally with gradient-norm clipping (the seeds'
 * pictures come from pytorch-optimizer's `examples/viz_optimizers.py`, which calls
 * `torch.nn.utils.clip_grad_norm_(x, 1.0)` before every step: `--clip 1`).
 *
 * @packageDocumentation
 */

/** Settings of a race. */
export interface RaceSettings {
  /** Test function names; default all of core's `testFunctions`. */
  readonly functions?: readonly string[] | undefined;
  /** Optimizer names; default every optimizer registered in core. */
  readonly optimizers?: readonly string[] | undefined;
  /** Steps per run. Default {@link DEFAULT_STEPS}. */
  readonly steps?: number;
  /** Distance to the nearest minimum that counts as arrived. Default {@link DEFAULT_TOL}. */
  readonly tol?: number;
  /** Clip the gradient's norm to this before every step (core's `clipGradNorm`); no clipping when absent. */
  readonly clip?: number | undefined;
}

/** How one run is set up besides the optimizer and its options. */
export interface RunSettings {
  /**
   * The parameter's shape: the function's coordinates in row-major order, e.g. [1, 2] for an optimizer that
   * needs a matrix. Default [dimension].
   */
  readonly shape?: readonly number[] | undefined;
  /** `maxNorm` of a `clipGradNorm` transform added to the spec; none when absent. */
  readonly clip?: number | undefined;
}

export const DEFAULT_STEPS = 500;
export const DEFAULT_TOL = 1e-3;

/** One optimizer on one function. */
export interface RaceResult {
  readonly fn: string;
  readonly optimizer: string;
  /** The options it ran with (the learning rate of race-config.ts, or none: the optimizer's defaults). */
  readonly options: Readonly<Record<string, unknown>>;
  /** The shape of the parameter holding the coordinates (race-config.ts's RACE_SHAPES, else [dimension]). */
  readonly shape: readonly number[];
  /** False when race-config.ts has no entry and the fallback was used. */
  readonly tuned: boolean;
  /** Where it ended (NaN after an error). */
  readonly final: readonly number[];
  /** f at the end. */
  readonly value: number;
  /** Distance from the end point to the nearest global minimum. */
  readonly distance: number;
  /**
   * The first step from which the iterate stays within `tol` of a minimum up to the last step, or null if it is
   * not within `tol` at the end.
   */
  readonly stepsToTol: number | null;
  /**
   * The largest distance to a minimum over the last tenth of the steps: the radius of a final oscillation (sign
   * methods keep stepping by ±lr), where `distance` alone could catch an oscillation at a lucky moment.
   */
  readonly tailDistance: number;
  /** The step at which the parameters became non-finite, if they did (the run stops there). */
  readonly divergedAt?: number;
  /** The error raised when the optimizer could not run on this function (e.g. a parameter shape it refuses). */
  readonly error?: string;
}

/**
 * One run: `optimizer` with `options` on `fn` for `steps` steps, through `step(closure)`, with the parameter shape
 * and clipping of `run`.
 */
export function runOne(
  fn: TestFunction,
  optimizer: string,
  options: Readonly<Record<string, unknown>>,
  steps: number,
  tol: number,
  run: RunSettings = {},
): Omit<RaceResult, 'tuned'> {
  const shape = [...(run.shape ?? [fn.dimension])];
  const base = { fn: fn.name, optimizer, options, shape };
  const xy: Tensor = { shape, data: Float64Array.from(fn.start) };
  const grad = new Float64Array(fn.dimension);
  const gradTensor: Tensor = { shape, data: grad };
  const closure: GradientClosure<Tensor> = (point) => {
    fn.gradient((point.get('xy') as Tensor).data, grad);
    return { xy: gradTensor };
  };
  let lastOutside = 0;
  let tailDistance = 0;
  const tailFrom = steps - Math.ceil(steps / 10) + 1;
  const failed = { final: [NaN, NaN], value: NaN, distance: NaN, tailDistance: NaN, stepsToTol: null };
  try {
    if (xy.data.length !== shape.reduce((p, d) => p * d, 1)) throw new InputError(`race: shape [${shape.join(', ')}] does not hold the ${fn.dimension} coordinates of ${fn.name}`);
    const spec = createSpec(optimizer, options);
    const opt = createReference(run.clip === undefined ? spec : withTransforms(spec, clipGradNorm({ maxNorm: run.clip })), { xy });
    const x = xy.data;
    for (let t = 1; t <= steps; t++) {
      opt.step(closure);
      if (!Number.isFinite(x[0]) || !Number.isFinite(x[1])) {
        return { ...base, ...failed, final: [...x], divergedAt: t };
      }
      const d = distanceToMinimum(fn, x);
      if (d > tol) lastOutside = t;
      if (t >= tailFrom && d > tailDistance) tailDistance = d;
    }
    const value = fn.value(x);
    const distance = distanceToMinimum(fn, x);
    return { ...base, final: [...x], value, distance, tailDistance, stepsToTol: lastOutside < steps ? lastOutside + 1 : null };
  } catch (err) {
    return { ...base, ...failed, error: err instanceof Error ? err.message : String(err) };
  }
}

function pick<T>(given: readonly string[] | undefined, known: ReadonlyMap<string, T>, what: string): string[] {
  if (given === undefined) return [...known.keys()];
  if (given.length === 0) throw new InputError(`race: no ${what}s given; known ${what}s: ${[...known.keys()].join(', ')}`);
  for (const name of given) {
    if (!known.has(name)) throw new InputError(`race: unknown ${what} ${JSON.stringify(name)}; known ${what}s: ${[...known.keys()].join(', ')}`);
  }
  return [...new Set(given)];
}

/** Runs every selected optimizer on every selected function. Unknown names are refused before anything runs. */
export function race(settings: RaceSettings = {}): RaceResult[] {
  const fns = pick(settings.functions, testFunctions, 'function');
  const opts = pick(settings.optimizers, definitions, 'optimizer');
  const steps = settings.steps ?? DEFAULT_STEPS;
  const tol = settings.tol ?? DEFAULT_TOL;
  if (!Number.isSafeInteger(steps) || steps < 1) throw new InputError(`race: steps must be a positive integer, got ${steps}`);
  if (!(tol > 0) || !Number.isFinite(tol)) throw new InputError(`race: tol must be a positive number, got ${tol}`);
  const clip = settings.clip;
  if (clip !== undefined && !(clip > 0 && Number.isFinite(clip))) throw new InputError(`race: clip must be a positive number, got ${clip}`);
  const out: RaceResult[] = [];
  for (const f of fns) {
    const fn = testFunctions.get(f) as TestFunction;
    for (const name of opts) {
      const { options, tuned } = raceOptions(name, f);
      out.push({ ...runOne(fn, name, options, steps, tol, { shape: raceShape(name, fn.dimension), clip }), tuned });
    }
  }
  return out;
}
