import fc from 'fast-check';
import { definitions, getDefinition, makeSpec, transformDefinitions, type OptimizerDefinition, type OptimizerSpec } from '@descent/core';
import { defaultTolerance, type ConformanceBackend, type Tolerance } from './adapter.js';
import { boundFunctions, phaseBoundFunctions } from './bounds/index.js';
import { emptyStats, type AgreementStats } from './compare.js';
import { mix } from './random.js';
import { driftProperty } from './properties/drift.js';
import { missingGradientProperty } from './properties/missing-gradient.js';
import { nonFiniteProperty } from './properties/non-finite.js';
import { oneStepProperty } from './properties/one-step.js';
import { stateTransferProperty } from './properties/state-transfer.js';
import { propertyNames, type PropertyContext, type PropertyDefinition, type PropertyName } from './properties/types.js';
import { robustnessChecks } from './robustness.js';
import { checkRow, optimizerRows, validationRows } from './validation.js';

/**
 * The plan of a conformance run: one check per (optimizer, property), plus the validation rows, each either
 * runnable or a gap with its reason. `describeConformance` turns it into vitest blocks, `checkConformance` runs
 * it and returns the results.
 *
 * @packageDocumentation
 */

/** Options of a conformance run. */
export interface ConformanceOptions {
  /**
   * Runs per property. Default: the environment variable `DESCENT_CONFORMANCE_RUNS`, else 100. The long mode is
   * `DESCENT_CONFORMANCE_RUNS=1000`.
   */
  readonly numRuns?: number;
  /**
   * Base seed; each check derives its own from it and its name. Default: `DESCENT_CONFORMANCE_SEED`, else a fixed
   * seed (so CI runs are reproducible; set the variable to explore other cases).
   */
  readonly seed?: number;
  /** Steps of the drift property. Default 50. */
  readonly driftSteps?: number;
  /** Only these optimizers (default: every optimizer of core's registry). */
  readonly optimizers?: readonly string[];
  /** Only these properties (default: all). */
  readonly properties?: readonly PropertyName[];
  /** Whether to run the validation rows. Default true. */
  readonly validation?: boolean;
  /**
   * Whether to run the robustness checks (`robustness/…`: calls from inside a gradient closure, parameter names
   * such as `__proto__`, gradients aliasing parameters). Default: as `validation`.
   */
  readonly robustness?: boolean;
  /** Shrink counterexamples (slower on failure, simpler reports). Default true. */
  readonly shrink?: boolean;
  /**
   * Replays one failure: the check id (`"adam/one step"`) with the seed and path a report printed. Default: the
   * environment variable `DESCENT_CONFORMANCE_REPLAY="adam/one step@<seed>@<path>"`.
   */
  readonly replay?: { readonly id: string; readonly seed: number; readonly path: string };
}

/** The outcome of one check. */
export interface CheckResult {
  /** `"<optimizer>/<property>"`, `"validation/<case>"` or `"robustness/<case>"`. */
  readonly id: string;
  readonly optimizer: string | null;
  readonly property: string;
  readonly status: 'passed' | 'failed' | 'gap';
  /** Why it is a gap. */
  readonly reason?: string;
  /** The failure report (with seed and path). */
  readonly message?: string;
  readonly seed?: number;
  readonly path?: string;
  readonly numRuns?: number;
  readonly stats?: AgreementStats;
  readonly durationMs: number;
}

/** One planned check. */
export interface PlannedCheck {
  readonly id: string;
  readonly optimizer: string | null;
  readonly property: string;
  /** Set when the check is a gap: the reason. */
  readonly gap?: string;
  /** Runs the check (a gap resolves at once with status `gap`). */
  run(): Promise<CheckResult>;
}

const env = (name: string): string | undefined => (typeof process !== 'undefined' ? process.env?.[name] : undefined);

const DEFAULT_SEED = 0x5eed;

const properties: Readonly<Record<PropertyName, PropertyDefinition<never>>> = {
  'one step': oneStepProperty as PropertyDefinition<never>,
  drift: driftProperty as PropertyDefinition<never>,
  'missing gradient': missingGradientProperty as PropertyDefinition<never>,
  'state transfer': stateTransferProperty as PropertyDefinition<never>,
  'non-finite': nonFiniteProperty as PropertyDefinition<never>,
};

/** One-line summaries of the properties, by name. */
export const propertySummaries: Readonly<Record<PropertyName, string>> = Object.fromEntries(propertyNames.map((p) => [p, properties[p].summary])) as Record<PropertyName, string>;

interface Resolved {
  readonly numRuns: number;
  readonly seed: number;
  readonly driftSteps: number;
  readonly shrink: boolean;
  readonly tolerance: Tolerance;
  readonly replay?: { readonly id: string; readonly seed: number; readonly path: string };
}

function resolve(backend: ConformanceBackend, options: ConformanceOptions): Resolved {
  const runsEnv = Number(env('DESCENT_CONFORMANCE_RUNS'));
  const seedEnv = Number(env('DESCENT_CONFORMANCE_SEED'));
  const replayEnv = env('DESCENT_CONFORMANCE_REPLAY');
  let replay = options.replay;
  if (!replay && replayEnv) {
    const [id, seed, path] = replayEnv.split('@');
    if (id && seed && path !== undefined) replay = { id, seed: Number(seed), path };
  }
  const r: Resolved = {
    numRuns: options.numRuns ?? (Number.isInteger(runsEnv) && runsEnv > 0 ? runsEnv : 100),
    seed: options.seed ?? (Number.isInteger(seedEnv) ? seedEnv : DEFAULT_SEED),
    driftSteps: options.driftSteps ?? 50,
    shrink: options.shrink ?? true,
    tolerance: { ...defaultTolerance, ...backend.tolerance },
  };
  return replay ? { ...r, replay } : r;
}

function errorText(e: unknown): string {
  if (e instanceof Error) return e.name === 'ConformanceFailure' ? e.message : `${e.name}: ${e.message}${e.stack ? `\n${e.stack.split('\n').slice(1, 6).join('\n')}` : ''}`;
  return String(e);
}

/** A macrotask turn (setImmediate where it exists, else setTimeout 0). */
function yieldToEventLoop(): Promise<void> {
  const immediate = (globalThis as { setImmediate?: (f: () => void) => unknown }).setImmediate;
  return new Promise((resolve) => (immediate ? immediate(resolve) : setTimeout(resolve, 0)));
}

function transformsOf(backend: ConformanceBackend): string[] {
  const all = [...transformDefinitions.keys()];
  if (!backend.supportedTransforms) return all;
  const supported = new Set(backend.supportedTransforms());
  return all.filter((t) => supported.has(t));
}

async function runProperty(backend: ConformanceBackend, optimizer: string, name: PropertyName, r: Resolved): Promise<CheckResult> {
  const prop = properties[name];
  const id = `${optimizer}/${name}`;
  const stats = emptyStats();
  const ctx: PropertyContext = { backend, tolerance: r.tolerance, driftSteps: r.driftSteps, stats, transforms: transformsOf(backend) };
  const replaying = r.replay?.id === id ? r.replay : undefined;
  const seed = replaying ? replaying.seed : mix(r.seed, id) & 0x7fffffff;
  const started = Date.now();
  let yielded = Date.now();
  const property = fc.asyncProperty(prop.arbitrary(optimizer, ctx), async (input) => {
    // Let the event loop breathe every few dozen milliseconds (a test runner's worker must answer its RPCs).
    if (Date.now() - yielded > 50) {
      await yieldToEventLoop();
      yielded = Date.now();
    }
    await prop.check(ctx, input);
  });
  const details = await fc.check(property, {
    numRuns: r.numRuns,
    seed,
    ...(replaying ? { path: replaying.path } : {}),
    endOnFailure: !r.shrink,
  });
  const durationMs = Date.now() - started;
  const base = { id, optimizer, property: name, seed, numRuns: details.numRuns, stats, durationMs };
  if (!details.failed) return { ...base, status: 'passed' };
  const path = details.counterexamplePath ?? '';
  const input = details.counterexample?.[0] as never;
  const message = [
    `${optimizer} › ${name}: the backend "${backend.name}" does not conform (failed after ${details.numRuns} run(s), ${details.numShrinks} shrink(s)).`,
    `  ${errorText(details.errorInstance)}`,
    `  case:\n  ${input === undefined ? '(none)' : prop.describe(input)}`,
    `  reproduce: seed ${seed}, path "${path}": DESCENT_CONFORMANCE_REPLAY='${id}@${seed}@${path}', or checkConformance(backend, { replay: { id: '${id}', seed: ${seed}, path: '${path}' } })`,
  ].join('\n');
  return { ...base, status: 'failed', path, message };
}

function supportedSet(backend: ConformanceBackend): Set<string> {
  return new Set(backend.supportedOptimizers ? [...backend.supportedOptimizers()] : definitions.keys());
}

/** A check that an optimizer the backend lacks is refused with an error naming it. */
async function refusesByName(backend: ConformanceBackend, name: string): Promise<void> {
  const def = getDefinition(name) as OptimizerDefinition<never>;
  const spec = makeSpec(def) as OptimizerSpec;
  const shape = def.kind === 'matrix' ? [2, 2] : [2];
  let message: string | undefined;
  try {
    const opt = await backend.create(spec, [{ name: 'w', shape, data: new Float32Array(4).subarray(0, shape.length === 2 ? 4 : 2) }], {});
    await opt.dispose();
  } catch (e) {
    message = e instanceof Error ? e.message : String(e);
  }
  if (message === undefined) throw new Error(`the backend does not list "${name}" as supported, but creates it without an error`);
  if (!message.includes(name)) throw new Error(`the backend refuses "${name}" with a message that does not name it: "${message}"`);
}

async function timed(id: string, optimizer: string | null, property: string, f: () => Promise<void>): Promise<CheckResult> {
  const started = Date.now();
  try {
    await f();
    return { id, optimizer, property, status: 'passed', durationMs: Date.now() - started };
  } catch (e) {
    return { id, optimizer, property, status: 'failed', message: `${id}: ${errorText(e)}`, durationMs: Date.now() - started };
  }
}

/** The checks of a conformance run of `backend`, in order; gaps included, with their reasons. */
export function planConformance(backend: ConformanceBackend, options: ConformanceOptions = {}): PlannedCheck[] {
  const r = resolve(backend, options);
  const supported = supportedSet(backend);
  const gaps = backend.knownGaps ?? {};
  const names = options.optimizers ?? [...definitions.keys()];
  const props = options.properties ?? propertyNames;
  const plan: PlannedCheck[] = [];
  const gap = (id: string, optimizer: string | null, property: string, reason: string): PlannedCheck => ({
    id,
    optimizer,
    property,
    gap: reason,
    run: async () => ({ id, optimizer, property, status: 'gap', reason, durationMs: 0 }),
  });
  for (const name of names) {
    getDefinition(name);
    const lacking = !supported.has(name);
    const whole = gaps[name];
    for (const p of props) {
      const id = `${name}/${p}`;
      const reason = lacking
        ? `not implemented by the ${backend.name} backend${whole ? `: ${whole}` : ''}`
        : (whole ?? gaps[id] ?? (boundFunctions[name] || phaseBoundFunctions[name] ? undefined : 'the conformance kit has no error model for this optimizer yet'));
      plan.push(reason ? gap(id, name, p, reason) : { id, optimizer: name, property: p, run: () => runProperty(backend, name, p, r) });
    }
    if (lacking) {
      const id = `${name}/refused by name`;
      plan.push({ id, optimizer: name, property: 'refused by name', run: () => timed(id, name, 'refused by name', () => refusesByName(backend, name)) });
    } else if (options.validation !== false) {
      for (const row of optimizerRows(name)) {
        const id = `${name}/bad input: ${row.case}`;
        const reason = whole ?? gaps[id];
        plan.push(reason ? gap(id, name, `bad input: ${row.case}`, reason) : { id, optimizer: name, property: `bad input: ${row.case}`, run: () => timed(id, name, `bad input: ${row.case}`, () => checkRow(backend, row)) });
      }
    }
  }
  const transforms = new Set(transformsOf(backend));
  for (const t of transformDefinitions.keys()) {
    if (!transforms.has(t)) plan.push(gap(`transforms/${t}`, null, `transform ${t}`, gaps[`transforms/${t}`] ?? `not implemented by the ${backend.name} backend`));
  }
  if (options.validation !== false) {
    for (const row of validationRows) {
      const id = `validation/${row.case}`;
      const reason = !supported.has(row.optimizer) ? `needs ${row.optimizer}, not implemented by the ${backend.name} backend` : (gaps[id] ?? gaps[row.optimizer]);
      plan.push(reason ? gap(id, null, row.case, reason) : { id, optimizer: null, property: row.case, run: () => timed(id, null, row.case, () => checkRow(backend, row)) });
    }
  }
  if (options.robustness ?? options.validation !== false) {
    for (const check of robustnessChecks) {
      const id = `robustness/${check.case}`;
      const reason = !supported.has(check.optimizer) ? `needs ${check.optimizer}, not implemented by the ${backend.name} backend` : (gaps[id] ?? gaps[check.optimizer]);
      plan.push(reason ? gap(id, null, check.case, reason) : { id, optimizer: null, property: check.case, run: () => timed(id, null, check.case, () => check.run(backend)) });
    }
  }
  if (r.replay) return plan.filter((c) => c.id === r.replay!.id);
  return plan;
}

