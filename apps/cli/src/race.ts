import { clipGradNorm, createSpec, definitions, distanceToMinimum, testFunctions, type TestFunction, withTransforms } from '@descent/core';
import { referenceBackend, type ReplayBackend } from './backends.js';
import { InputError } from './errors.js';
import { RACE_CLIP, RACE_STEPS, raceOptions, raceShape } from './race-config.js';

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
  /**
   * Clip the gradient's norm to this before every step (core's `clipGradNorm`); `false` for no clipping. Default
   * {@link RACE_CLIP} (1, as the seeds' pictures).
   */
  readonly clip?: number | false | undefined;
  /** The backend the optimizers run on. Default the Float64 reference. */
  readonly backend?: ReplayBackend | undefined;
  /** Record every iterate (for figures): fills {@link RaceResult.trace}. */
  readonly record?: boolean | undefined;
  /** Called after each run with the number done, the total and "fn optimizer". */
  readonly onRun?: ((done: number, total: number, label: string) => void) | undefined;
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
  /** The backend to run on. Default the Float64 reference. */
  readonly backend?: ReplayBackend | undefined;
  /** Record every iterate, f and the distance to the nearest minimum: fills {@link RaceResult.trace}. */
  readonly record?: boolean | undefined;
}

/** Every iterate of a run, from the start (index 0) to the last step (or the last finite iterate of a diverged run). */
export interface RaceTrace {
  readonly points: ReadonlyArray<readonly [number, number]>;
  /** f at each point. */
  readonly values: readonly number[];
  /** Distance to the nearest global minimum at each point. */
  readonly distances: readonly number[];
}

export const DEFAULT_STEPS = RACE_STEPS;
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
  /** The backend it ran on, e.g. "reference", "tfjs:cpu". */
  readonly backend: string;
  /** Every iterate, when the run was recorded. */
  readonly trace?: RaceTrace;
}

/**
 * One run: `optimizer` with `options` on `fn` for `steps` steps, through `step(closure)` (so NAG's gradient is
 * taken at its look-ahead point), with the parameter shape, clipping, backend and recording of `run`.
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
  const backend = run.backend ?? referenceBackend;
  // A backend may name the mode it picked only once a session is open (gpu.js's `auto`): `base` is refreshed then.
  let base = { fn: fn.name, optimizer, options, shape, backend: backend.name };
  const grad = new Float64Array(fn.dimension);
  const gradient = (point: readonly Float64Array[]): Float64Array[] => [fn.gradient(point[0] as Float64Array, grad)];
  const points: Array<readonly [number, number]> = [];
  const values: number[] = [];
  const distances: number[] = [];
  const note = (x: Float64Array, d: number): void => {
    if (!run.record) return;
    points.push([x[0] as number, x[1] as number]);
    values.push(fn.value(x));
    distances.push(d);
  };
  const trace = (): { trace?: RaceTrace } => (run.record ? { trace: { points, values, distances } } : {});
  let lastOutside = 0;
  let tailDistance = 0;
  const tailFrom = steps - Math.ceil(steps / 10) + 1;
  const failed = { final: [NaN, NaN], value: NaN, distance: NaN, tailDistance: NaN, stepsToTol: null };
  let session;
  try {
    if (fn.dimension !== shape.reduce((p, d) => p * d, 1)) throw new InputError(`race: shape [${shape.join(', ')}] does not hold the ${fn.dimension} coordinates of ${fn.name}`);
    const spec = createSpec(optimizer, options);
    session = backend.open(run.clip === undefined ? spec : withTransforms(spec, clipGradNorm({ maxNorm: run.clip })), [{ name: 'xy', shape, data: Float64Array.from(fn.start) }], undefined);
    base = { ...base, backend: backend.name };
    let x: Float64Array = Float64Array.from(fn.start);
    note(x, distanceToMinimum(fn, x));
    for (let t = 1; t <= steps; t++) {
      session.stepAt(gradient);
      x = session.read()[0] as Float64Array;
      if (!Number.isFinite(x[0]) || !Number.isFinite(x[1])) {
        return { ...base, ...failed, final: [...x], divergedAt: t, ...trace() };
      }
      const d = distanceToMinimum(fn, x);
      note(x, d);
      if (d > tol) lastOutside = t;
      if (t >= tailFrom && d > tailDistance) tailDistance = d;
    }
    const value = fn.value(x);
    const distance = distanceToMinimum(fn, x);
    return { ...base, final: [...x], value, distance, tailDistance, stepsToTol: lastOutside < steps ? lastOutside + 1 : null, ...trace() };
  } catch (err) {
    return { ...base, ...failed, error: err instanceof Error ? err.message : String(err) };
  } finally {
    session?.dispose();
  }
}

/** The names asked for, each checked against `known` (all of them when none are given). */
export function pick<T>(given: readonly string[] | undefined, known: ReadonlyMap<string, T>, what: string): string[] {
  if (given === undefined) return [...known.keys()];
  if (given.length === 0) throw new InputError(`race: no ${what}s given; known ${what}s: ${[...known.keys()].join(', ')}`);
  for (const name of given) {
    if (!known.has(name)) throw new InputError(`race: unknown ${what} ${JSON.stringify(name)}; known ${what}s: ${[...known.keys()].join(', ')}`);
  }
  return [...new Set(given)];
}

/** A race's settings checked and filled with the defaults; unknown names and bad numbers are refused. */
export function resolveRace(settings: RaceSettings = {}): { fns: string[]; optimizers: string[]; steps: number; tol: number; clip: number | undefined } {
  const fns = pick(settings.functions, testFunctions, 'function');
  const optimizers = pick(settings.optimizers, definitions, 'optimizer');
  const steps = settings.steps ?? DEFAULT_STEPS;
  const tol = settings.tol ?? DEFAULT_TOL;
  if (!Number.isSafeInteger(steps) || steps < 1) throw new InputError(`race: steps must be a positive integer, got ${steps}`);
  if (!(tol > 0) || !Number.isFinite(tol)) throw new InputError(`race: tol must be a positive number, got ${tol}`);
  const clip = settings.clip === false ? undefined : (settings.clip ?? RACE_CLIP);
  if (clip !== undefined && !(clip > 0 && Number.isFinite(clip))) throw new InputError(`race: clip must be a positive number, got ${clip}`);
  return { fns, optimizers, steps, tol, clip };
}

/** Runs every selected optimizer on every selected function. Unknown names are refused before anything runs. */
export function race(settings: RaceSettings = {}): RaceResult[] {
  const { fns, optimizers, steps, tol, clip } = resolveRace(settings);
  const out: RaceResult[] = [];
  for (const f of fns) {
    const fn = testFunctions.get(f) as TestFunction;
    for (const name of optimizers) {
      const { options, tuned } = raceOptions(name, f);
      out.push({ ...runOne(fn, name, options, steps, tol, { shape: raceShape(name, fn.dimension), clip, backend: settings.backend, record: settings.record }), tuned });
      settings.onRun?.(out.length, fns.length * optimizers.length, `${f} ${name}`);
    }
  }
  return out;
}
