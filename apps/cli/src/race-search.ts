import { readFile, writeFile } from 'node:fs/promises';
import { definitions, testFunctions, type TestFunction } from '@descent/core';
import { InputError } from './errors.js';
import { RACE_RATES, raceShape, rateOption, type RaceSearch } from './race-config.js';
import { pick, runOne, type RaceTrace } from './race.js';
import { tpeSearch, type Trial } from './search.js';

/**
 * `descent race --search`: a learning rate per optimizer and test function, found by a seeded Tree-structured
 * Parzen Estimator (search.ts) on a log scale, scored by {@link raceObjective}; `--write-config` writes the rates
 * into race-config.ts so the default race and the gallery use them.
 *
 * @packageDocumentation
 */

/** Largest contribution of one step to {@link raceObjective}: a distance 10¹⁰ times the tolerance, or a diverged step. */
export const OBJECTIVE_CAP = 10;

/**
 * The score of a run, lower is better: the mean over steps t = 1 … T of log₁₀(max(Dₜ, tol)/tol), where
 * Dₜ = max_{s ≥ t} dₛ is the largest distance to the nearest global minimum from step t to the end (so Dₜ ≤ tol
 * exactly from the step the run settles, the race's "settled" column), each term capped at
 * {@link OBJECTIVE_CAP}; a run that diverges scores the cap at every step. It is 0 exactly when the run is within
 * `tol` from the first step on, and it counts every step before the run stays near the minimum, so it rewards
 * arriving early and staying, not only ending there: a path that only passes near the minimum, or oscillates
 * around it, is charged for the radius it keeps to the end. (pytorch-optimizer's script, which drew the seeds'
 * pictures, scores the squared distance after 100 steps only.)
 */
export function raceObjective(trace: RaceTrace, steps: number, tol: number): number {
  // distances[0] is the start, before any step; a diverged run stops before `steps`.
  if (trace.distances.length < steps + 1) return OBJECTIVE_CAP;
  let sum = 0;
  let suffixMax = 0;
  for (let t = steps; t >= 1; t--) {
    suffixMax = Math.max(suffixMax, trace.distances[t] as number);
    sum += Math.min(OBJECTIVE_CAP, Math.log10(Math.max(suffixMax, tol) / tol));
  }
  return sum / steps;
}

/** Settings of {@link searchRates}. */
export interface RateSearchSettings {
  readonly functions?: readonly string[] | undefined;
  readonly optimizers?: readonly string[] | undefined;
  readonly steps: number;
  readonly tol: number;
  /** maxNorm of the clipping during the search; undefined for none. */
  readonly clip: number | undefined;
  /** TPE evaluations per optimizer and function. */
  readonly trials: number;
  readonly seed: number;
  /** The learning-rate range searched (log-uniform). Default [1e-5, 10]. */
  readonly range?: readonly [number, number];
  /** Called after each optimizer × function search. */
  readonly onSearch?: (done: number, total: number, found: FoundRate) => void;
}

/** The rate found for one optimizer on one function. */
export interface FoundRate {
  readonly optimizer: string;
  readonly fn: string;
  /** The rate option searched (`lr`, or `adamLr` for muonWithAuxAdam). */
  readonly option: string;
  /** The best rate, or null when the optimizer cannot run on this function (then `error` says why). */
  readonly rate: number | null;
  readonly objective: number;
  /** The best run's settle step, or null. */
  readonly stepsToTol: number | null;
  readonly distance: number;
  readonly trials: readonly Trial[];
  readonly error?: string;
}

/** Searches a rate for every selected optimizer on every selected function. Unknown names are refused first. */
export function searchRates(settings: RateSearchSettings): FoundRate[] {
  const fns = pick(settings.functions, testFunctions, 'function');
  const names = pick(settings.optimizers, definitions, 'optimizer');
  for (const name of names) {
    const key = rateOption(name);
    if (definitions.get(name)!.schema[key]?.type !== 'number') throw new InputError(`race --search: ${name} has no numeric "${key}" option to search`);
  }
  const total = fns.length * names.length;
  const out: FoundRate[] = [];
  for (const name of names) {
    const option = rateOption(name);
    for (const f of fns) {
      const fn = testFunctions.get(f) as TestFunction;
      const run = (rate: number) =>
        runOne(fn, name, { [option]: rate }, settings.steps, settings.tol, { shape: raceShape(name, fn.dimension), clip: settings.clip, record: true });
      let error: string | undefined;
      const result = tpeSearch(
        (rate) => {
          const r = run(rate);
          if (r.error !== undefined) {
            error = r.error;
            return Infinity;
          }
          return raceObjective(r.trace as RaceTrace, settings.steps, settings.tol);
        },
        { trials: settings.trials, seed: settings.seed, ...(settings.range ? { range: settings.range } : {}) },
      );
      // A rate option that changes nothing (a shape the optimizer sends to another branch) would "find" any rate.
      if (result.trials.every((t) => t.value === result.trials[0]!.value) && Number.isFinite(result.best.value)) {
        throw new InputError(`race --search: option "${option}" of ${name} has no effect on ${f} (every trial scores ${result.best.value}); set RATE_OPTION or RACE_SHAPES in race-config.ts`);
      }
      const ok = Number.isFinite(result.best.value);
      const best = ok ? run(result.best.x) : undefined;
      const found: FoundRate = {
        optimizer: name,
        fn: f,
        option,
        rate: ok ? result.best.x : null,
        objective: result.best.value,
        stepsToTol: best?.stepsToTol ?? null,
        distance: best?.distance ?? NaN,
        trials: result.trials,
        ...(ok || error === undefined ? {} : { error }),
      };
      out.push(found);
      settings.onSearch?.(out.length, total, found);
    }
  }
  return out;
}

/** The entries of race-config.ts's table after a search: the found rates over the current ones (others kept). */
export function mergedRates(found: readonly FoundRate[], current: typeof RACE_RATES = RACE_RATES): Record<string, Record<string, number>> {
  const table: Record<string, Record<string, number>> = {};
  for (const [name, rates] of Object.entries(current)) table[name] = { ...rates };
  for (const f of found) {
    if (f.rate === null) continue;
    table[f.optimizer] = { ...(table[f.optimizer] ?? {}), [f.fn]: f.rate };
  }
  return table;
}

/** The lines that go between race-config.ts's BEGIN/END markers: optimizers in registry order, functions in race order. */
export function formatRateTable(table: Readonly<Record<string, Readonly<Record<string, number>>>>): string {
  const order = [...definitions.keys(), ...Object.keys(table).filter((n) => !definitions.has(n))];
  const fnOrder = [...testFunctions.keys()];
  const lines: string[] = [];
  for (const name of order) {
    const rates = table[name];
    if (!rates) continue;
    const entries = [...fnOrder.filter((f) => f in rates), ...Object.keys(rates).filter((f) => !fnOrder.includes(f))].map((f) => `${f}: ${rates[f]}`);
    lines.push(`  ${name}: { ${entries.join(', ')} },`);
  }
  return lines.join('\n');
}

const BEGIN = '  // BEGIN SEARCHED (generated by `descent race --search --write-config`)';
const END = '  // END SEARCHED';
const SETTINGS_RE = /export const RACE_SEARCH: RaceSearch = \{[^}]*\};/;

/** The race-config.ts source with `table` between the markers and `RACE_SEARCH` describing the search that made it. */
export function rewriteRaceConfig(source: string, table: string, search: RaceSearch): string {
  const a = source.indexOf(BEGIN);
  const b = source.indexOf(END);
  if (a < 0 || b < a) throw new InputError('race --write-config: race-config.ts has no BEGIN SEARCHED / END SEARCHED markers');
  if (!SETTINGS_RE.test(source)) throw new InputError('race --write-config: race-config.ts has no RACE_SEARCH declaration');
  const settings = `export const RACE_SEARCH: RaceSearch = { trials: ${search.trials}, seed: ${search.seed}, steps: ${search.steps}, clip: ${search.clip}, tol: ${search.tol} };`;
  return `${source.slice(0, a + BEGIN.length)}\n${table}\n${source.slice(b)}`.replace(SETTINGS_RE, settings);
}

/** The path of race-config.ts in this checkout (the CLI runs from its sources). */
export const RACE_CONFIG_PATH = new URL('./race-config.ts', import.meta.url);

/** Rewrites race-config.ts with the rates of a search (merged over the current table). */
export async function writeRaceConfig(found: readonly FoundRate[], search: RaceSearch, path: URL | string = RACE_CONFIG_PATH): Promise<void> {
  let source: string;
  try {
    source = await readFile(path, 'utf8');
  } catch (err) {
    throw new InputError(`race --write-config: cannot read ${String(path)} (run the CLI from the repository's sources): ${(err as Error).message}`);
  }
  await writeFile(path, rewriteRaceConfig(source, formatRateTable(mergedRates(found)), search));
}
