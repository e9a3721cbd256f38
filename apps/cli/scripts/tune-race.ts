/**
 * Chooses the rates of apps/cli/src/race-config.ts by a grid search; see that file for the criterion. Prints the
 * entries to paste between its BEGIN/END TUNED markers (and a line per run on stderr). Each optimizer runs on the
 * parameter shape the race gives it (RACE_SHAPES), without gradient clipping.
 *
 *   pnpm exec tsx --conditions=@descent/source apps/cli/scripts/tune-race.ts [optimizer ...]
 */
import { definitions, testFunctions } from '@descent/core';
import { runOne } from '../src/race.js';
import { TUNED_STEPS, TUNED_TOL, raceShape, rateOption } from '../src/race-config.js';

/** 10^((k + ½)/6) to three digits, k = −30 … 5. */
const grid: number[] = [];
for (let k = -30; k <= 5; k++) grid.push(Number((10 ** ((k + 0.5) / 6)).toPrecision(3)));

interface Score {
  readonly rate: number;
  /** Steps to settle within the tolerance, counted only if it stayed there for the last tenth of the run. */
  readonly steps: number;
  /** Largest distance to a minimum over the last tenth of the run. */
  readonly tail: number;
}

const better = (a: Score, b: Score): boolean => (a.steps !== b.steps ? a.steps < b.steps : a.steps === Infinity && a.tail < b.tail);

const wanted = process.argv.slice(2);
const names = wanted.length > 0 ? wanted : [...definitions.keys()];
const lines: string[] = [];
for (const name of names) {
  const def = definitions.get(name);
  if (!def) throw new Error(`unknown optimizer ${name}`);
  const key = rateOption(name);
  if (def.schema[key]?.type !== 'number') {
    lines.push(`  // ${name}: no numeric "${key}" option; runs with its defaults (set RATE_OPTION)`);
    continue;
  }
  const row: string[] = [];
  let error: string | undefined;
  for (const fn of testFunctions.values()) {
    let best: Score | undefined;
    const seen = new Set<string>();
    for (const rate of grid) {
      const r = runOne(fn, name, { [key]: rate }, TUNED_STEPS, TUNED_TOL, { shape: raceShape(name, fn.dimension) });
      if (r.error !== undefined) {
        error = r.error;
        break;
      }
      seen.add(r.final.join(','));
      const settled = r.stepsToTol !== null && r.stepsToTol <= TUNED_STEPS - Math.ceil(TUNED_STEPS / 10) + 1;
      const score: Score = { rate, steps: settled ? (r.stepsToTol as number) : Infinity, tail: Number.isFinite(r.tailDistance) ? r.tailDistance : Infinity };
      if (!best || better(score, best)) best = score;
    }
    if (error !== undefined) break;
    if (seen.size === 1) throw new Error(`${name}: option "${key}" has no effect on ${fn.name}; set RATE_OPTION in race-config.ts`);
    row.push(`${fn.name}: ${best!.rate}`);
    console.error(`${name} on ${fn.name}: ${key} ${best!.rate}, settles at ${best!.steps}, tail distance ${best!.tail.toExponential(2)}`);
  }
  lines.push(error !== undefined ? `  // ${name}: cannot race on shape [${raceShape(name, 2).join(', ')}] (${error.slice(0, 60)}…)` : `  ${name}: { ${row.join(', ')} },`);
}
console.log(lines.join('\n'));
