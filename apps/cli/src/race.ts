import {
  createSpec,
  createReference,
  definitions,
  distanceToMinimum,
  testFunctions,
  type GradientClosure,
  type Tensor,
  type TestFunction,
} from '@descent/core';
import { InputError } from './errors.js';
import { raceOptions } from './race-config.js';

/**
 * `descent race`: every optimizer on every test function, from the function's usual starting point, with the
 * learning rates of race-config.ts.
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
}

export const DEFAULT_STEPS = 500;
export const DEFAULT_TOL = 1e-3;

/** One optimizer on one function. */
export interface RaceResult {
  readonly fn: string;
  readonly optimizer: string;
  /** The options it ran with (the learning rate of race-config.ts, or none: the optimizer's defaults). */
  readonly options: Readonly<Record<string, unknown>>;
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

/** One run: `optimizer` with `options` on `fn` for `steps` steps, through `step(closure)`. */
export function runOne(fn: TestFunction, optimizer: string, options: Readonly<Record<string, unknown>>, steps: number, tol: number): Omit<RaceResult, 'tuned'> {
  const base = { fn: fn.name, optimizer, options };
  const xy: Tensor = { shape: [fn.dimension], data: Float64Array.from(fn.start) };
  const grad = new Float64Array(fn.dimension);
  const gradTensor: Tensor = { shape: [fn.dimension], data: grad };
  const closure: GradientClosure<Tensor> = (point) => {
    fn.gradient((point.get('xy') as Tensor).data, grad);
    return { xy: gradTensor };
  };
  let lastOutside = 0;
  let tailDistance = 0;
  const tailFrom = steps - Math.ceil(steps / 10) + 1;
  const failed = { final: [NaN, NaN], value: NaN, distance: NaN, tailDistance: NaN, stepsToTol: null };
  try {
    const opt = createReference(createSpec(optimizer, options), { xy });
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
  const out: RaceResult[] = [];
  for (const f of fns) {
    const fn = testFunctions.get(f) as TestFunction;
    for (const name of opts) {
      const { options, tuned } = raceOptions(name, f);
      out.push({ ...runOne(fn, name, options, steps, tol), tuned });
    }
  }
  return out;
}
