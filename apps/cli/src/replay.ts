import {
  emaWeights,
  normalizeSpec,
  decodeNumber,
  encodeArray,
  isShape,
  show,
  showShape,
  sizeOf,
  type GroupConfig,
  type JsonNumber,
  type OptimizerSpec,
} from '@descent/core';
import { findBackend, type BackendSettings, type ReplayParam } from './backends.js';
import { InputError } from './errors.js';

/**
 * `descent replay`: runs an optimizer on recorded gradients and reports every parameter after every step, so a
 * trajectory recorded elsewhere (PyTorch golden files) can be reproduced number for number.
 *
 * @packageDocumentation
 */

/** The replay file's keys that drive the run. */
const INPUT_KEYS = ['optimizer', 'options', 'transforms', 'schedule', 'lookahead', 'ema', 'cautious', 'groups', 'params', 'grads'] as const;
/** Keys carried by golden fixtures for people and tests; replay ignores them. */
const METADATA_KEYS = ['description', 'generator', 'expected'] as const;
const PARAM_KEYS = ['name', 'shape', 'data'] as const;

const NUMBER_FORMS = 'a number or one of "NaN", "Infinity", "-Infinity", "-0"';

/** What `descent replay` prints. */
export interface ReplayOutput {
  readonly optimizer: string;
  readonly backend: string;
  /**
   * Every parameter after every step, in input order; non-finite values and -0 as strings. With the `ema` wrapper
   * also the weight average (the `emaParam` slot, what to evaluate with) after every step, in the same order.
   */
  readonly steps: Array<{ readonly params: JsonNumber[][]; readonly ema?: JsonNumber[][] }>;
}

/** A fully validated replay. */
export interface ReplayPlan {
  readonly spec: OptimizerSpec;
  readonly groups: ReadonlyArray<GroupConfig> | undefined;
  readonly params: readonly ReplayParam[];
  /** One entry per step; `null` skips that parameter at that step. */
  readonly grads: ReadonlyArray<ReadonlyArray<Float64Array | null>>;
}

const fail = (message: string): never => {
  throw new InputError(`replay: ${message}`);
};

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Decodes a list of JSON numbers (or their string forms) of a known length. */
function decodeValues(values: unknown, length: number, at: string, what: string): Float64Array {
  if (!Array.isArray(values)) return fail(`${at} must be a list of ${length} numbers${what}, got ${show(values)}`);
  if (values.length !== length) return fail(`${at} has ${values.length} values, expected ${length}${what}`);
  const out = new Float64Array(length);
  for (let i = 0; i < length; i++) {
    const x = decodeNumber(values[i]);
    if (x === undefined) fail(`${at}[${i}] must be ${NUMBER_FORMS}, got ${show(values[i])}`);
    out[i] = x as number;
  }
  return out;
}

function parseParams(value: unknown): ReplayParam[] {
  if (!Array.isArray(value) || value.length === 0) return fail(`"params" must be a non-empty list of { name, shape, data }, got ${show(value)}`);
  const seen = new Map<string, number>();
  return value.map((p: unknown, i) => {
    const at = `params[${i}]`;
    if (!isObject(p)) return fail(`${at} must be an object { name, shape, data }, got ${show(p)}`);
    for (const key of Object.keys(p)) {
      if (!(PARAM_KEYS as readonly string[]).includes(key)) fail(`${at}: unknown key ${show(key)}; a parameter has name, shape and data`);
    }
    const { name, shape, data } = p;
    if (typeof name !== 'string' || name.length === 0) return fail(`${at}.name must be a non-empty string, got ${show(name)}`);
    const first = seen.get(name);
    if (first !== undefined) fail(`${at}.name ${show(name)} is already the name of params[${first}]`);
    seen.set(name, i);
    if (!isShape(shape)) return fail(`${at}.shape must be a list of non-negative integers, got ${show(shape)}`);
    const size = sizeOf(shape);
    const values = decodeValues(data, size, `${at}.data`, ` (shape ${showShape(shape)})`);
    return { name, shape: Object.freeze([...shape]), data: values };
  });
}

function parseGrads(value: unknown, params: readonly ReplayParam[]): Array<Array<Float64Array | null>> {
  const n = params.length;
  if (!Array.isArray(value)) return fail(`"grads" must be a list with one entry per step, got ${show(value)}`);
  return value.map((step: unknown, t) => {
    const at = `grads[${t}]`;
    if (!Array.isArray(step)) return fail(`${at} must be a list of ${n} gradients (one per parameter, null for none), got ${show(step)}`);
    if (step.length !== n) return fail(`${at} has ${step.length} entries, expected ${n} (one per parameter, null for none)`);
    return step.map((g: unknown, i) => {
      if (g === null) return null;
      const p = params[i] as ReplayParam;
      return decodeValues(g, p.data.length, `${at}[${i}]`, ` (gradient of ${show(p.name)}, shape ${showShape(p.shape)})`);
    });
  });
}

function parseGroups(value: unknown): GroupConfig[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) return fail(`"groups" must be a list of { params, options }, got ${show(value)}`);
  // Names, options and overlaps are checked by the optimizer itself, with the library's messages.
  return value as GroupConfig[];
}

/**
 * Validates a parsed replay file completely, without running anything: unknown keys, the optimizer and its
 * options, parameters, gradients (the groups are checked when the backend binds the optimizer, still before any step).
 */
export function parseReplay(input: unknown): ReplayPlan {
  if (!isObject(input)) return fail(`the input must be a JSON object { optimizer, options, params, grads }, got ${show(input)}`);
  const known: readonly string[] = [...INPUT_KEYS, ...METADATA_KEYS];
  for (const key of Object.keys(input)) {
    if (!known.includes(key)) fail(`unknown key ${show(key)}; known keys: ${INPUT_KEYS.join(', ')} (and ${METADATA_KEYS.join(', ')}, which are ignored)`);
  }
  for (const key of ['optimizer', 'params', 'grads']) {
    if (input[key] === undefined) fail(`missing key "${key}"`);
  }
  if (typeof input.optimizer !== 'string') fail(`"optimizer" must be an optimizer name, got ${show(input.optimizer)}`);
  // The optional composition keys are those of a spec (see core's normalizeSpec); absent ones stay absent.
  const composed = Object.fromEntries(
    (['transforms', 'schedule', 'lookahead', 'ema', 'cautious'] as const).filter((k) => input[k] !== undefined).map((k) => [k, input[k]]),
  );
  const spec = normalizeSpec({ name: input.optimizer, options: input.options ?? {}, ...composed });
  const groups = parseGroups(input.groups);
  const params = parseParams(input.params);
  const grads = parseGrads(input.grads, params);
  return { spec, groups, params, grads };
}

/** Options of {@link replay}. */
export interface ReplayOptions {
  /** Backend name; default `reference`. */
  readonly backend?: string;
  /** Backend-specific settings (`--tfjs-backend`, `--gpujs-mode`). */
  readonly settings?: BackendSettings;
}

/**
 * Runs a replay file (already parsed from JSON) and returns what `descent replay` prints. Everything is validated
 * before the first step; on any error it throws (an {@link InputError} or the library's own error) and returns
 * nothing.
 *
 * @example
 * ```ts
 * const out = await replay({ optimizer: 'sgd', options: { lr: 0.1 },
 *   params: [{ name: 'w', shape: [2], data: [1, 2] }], grads: [[[1, 1]]] });
 * // out.steps[0].params[0] → [0.9, 1.9]
 * ```
 */
export async function replay(input: unknown, options: ReplayOptions = {}): Promise<ReplayOutput> {
  const backendName = options.backend ?? 'reference';
  const load = findBackend(backendName);
  const plan = parseReplay(input);
  const backend = await load(options.settings ?? {});
  const session = await backend.open(plan.spec, plan.params, plan.groups);
  try {
    const steps: ReplayOutput['steps'] = [];
    for (const grads of plan.grads) {
      session.step(grads);
      const params = session.read().map((a) => encodeArray(a));
      if (!plan.spec.ema) {
        steps.push({ params });
        continue;
      }
      // Own entries only (a parameter may be named "__proto__").
      const avg = new Map(Object.entries(emaWeights(session.exportState())));
      steps.push({ params, ema: plan.params.map((p) => encodeArray(avg.get(p.name)!.data)) });
    }
    return { optimizer: plan.spec.name, backend: backend.name, steps };
  } finally {
    session.dispose();
  }
}

/**
 * The output as JSON text: one step per line, numbers as JavaScript prints them (the shortest text that reads back
 * to the same double), so the file diffs well and round-trips exactly.
 */
export function formatReplay(out: ReplayOutput): string {
  const head = `{"optimizer":${JSON.stringify(out.optimizer)},"backend":${JSON.stringify(out.backend)},"steps":[`;
  if (out.steps.length === 0) return `${head}]}\n`;
  return `${head}\n${out.steps.map((s) => JSON.stringify(s)).join(',\n')}\n]}\n`;
}
