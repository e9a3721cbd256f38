import fc from 'fast-check';
import {
  CHANNELS_LAST_VIEW,
  cosine,
  createReference,
  exponential,
  linear,
  multiStep,
  polynomial,
  step as stepSchedule,
  warmupCosine,
  warmupLinear,
  wsd,
  type ScheduleSpec,
  getDefinition,
  makeSpec,
  makeTransformSpec,
  normalizeSpec,
  sizeOf,
  tensor,
  type GroupConfig,
  type NumberOption,
  type OptimizerDefinition,
  type OptimizerSpec,
  type OptionSchema,
  type OptionValue,
  type PairOption,
  type TripleOption,
  type TransformSpec,
  transformDefinitions,
} from '@descent/core';
import type { ParamInput } from './adapter.js';
import { float32Values, mix, prng, type ValueScale } from './random.js';

/**
 * Generators of conformance problems: valid random options of any optimizer (from its option schema, then its
 * `check`), parameter shapes suited to its kind, param groups, and the seeds of the numbers.
 *
 * @packageDocumentation
 */

type Arb = fc.Arbitrary<OptionValue>;

const f32 = (x: number): number => Math.fround(x);

/** Log-uniform in [lo, hi]. */
export function logUniform(lo: number, hi: number): fc.Arbitrary<number> {
  return fc.double({ min: Math.log10(lo), max: Math.log10(hi), noNaN: true, noDefaultInfinity: true }).map((e) => 10 ** e);
}

/** Uniform in [lo, hi]. */
export function uniform(lo: number, hi: number): fc.Arbitrary<number> {
  return fc.double({ min: lo, max: hi, noNaN: true, noDefaultInfinity: true });
}

/** A decay rate in [0, 1): 1 − 10^U(−4, 0), i.e. log-uniform in its distance to 1, and sometimes exactly 0. */
export function decayRate(): fc.Arbitrary<number> {
  return fc.oneof({ arbitrary: fc.constant(0), weight: 1 }, { arbitrary: logUniform(1e-4, 1).map((d) => 1 - d), weight: 6 });
}

const pair = (a: fc.Arbitrary<number>, b: fc.Arbitrary<number>): Arb => fc.tuple(a, b).map(([x, y]) => [x, y] as const);

/**
 * Options whose generic range (below) is not the interesting one. Everything else comes from the schema: decay
 * rates in [0, 1) log-uniform in their distance to 1; unbounded non-negative numbers log-uniform around their
 * default (or 0 / 10^U(−4, −0.3) when the default is 0); learning rates 10^U around the default, within a factor
 * 30 below and 3 above ("moderate"); counts from 1 to twice the default; booleans; enums.
 */
export const optionOverrides: Readonly<Record<string, Readonly<Record<string, Arb>>>> = {
  sgd: { momentum: fc.oneof(fc.constant(0), decayRate()) },
  lars: { momentum: fc.oneof(fc.constant(0), decayRate()), lr: logUniform(0.01, 2) },
  rmsprop: { momentum: fc.oneof(fc.constant(0), decayRate()) },
  rprop: {
    lr: logUniform(1e-4, 0.1),
    etas: pair(uniform(0.1, 0.9), uniform(1.05, 2)),
    stepSizes: pair(logUniform(1e-7, 1e-3), logUniform(0.5, 100)),
  },
  adafactor: {
    beta2Decay: uniform(-1, -0.3),
    d: uniform(1, 4),
    eps: pair(logUniform(1e-8, 1e-4), logUniform(1e-4, 1e-2)),
  },
  shampoo: {
    epsilon: logUniform(0.01, 1),
    iterEps: logUniform(1e-6, 1e-4),
    iterSteps: fc.integer({ min: 4, max: 14 }),
    updateFreq: fc.integer({ min: 1, max: 3 }),
    momentum: fc.oneof(fc.constant(0), uniform(0, 1)),
    maxPreconditionDim: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 4 })),
  },
  muon: { nsSteps: fc.integer({ min: 1, max: 6 }), nsEps: logUniform(1e-9, 1e-5) },
  muonWithAuxAdam: { nsSteps: fc.integer({ min: 1, max: 6 }), nsEps: logUniform(1e-9, 1e-5) },
  muonTorch: { nsSteps: fc.integer({ min: 1, max: 6 }), eps: logUniform(1e-9, 1e-5) },
  adabelief: { eps: logUniform(1e-18, 1e-8) },
  sm3: { eps: logUniform(1e-30, 1e-8) },
  prodigy: {
    beta3: fc.oneof(fc.constant(null), decayRate()),
    growthRate: fc.oneof(fc.constant(null), uniform(1.01, 2)),
    d0: logUniform(1e-6, 1e-2),
    dCoef: logUniform(0.3, 3),
    sliceP: fc.integer({ min: 1, max: 3 }),
  },
};

/** Options drawn together (Newton–Schulz coefficients: Keller Jordan's quintic or the classic cubic). */
const jointOverrides: Readonly<Record<string, fc.Arbitrary<Record<string, OptionValue>>>> = {
  muon: fc.constantFrom({ nsA: 3.4445, nsB: -4.775, nsC: 2.0315 }, { nsA: 1.5, nsB: -0.5, nsC: 0 }),
  muonWithAuxAdam: fc.constantFrom({ nsA: 3.4445, nsB: -4.775, nsC: 2.0315 }, { nsA: 1.5, nsB: -0.5, nsC: 0 }),
  muonTorch: fc.constantFrom({ nsA: 3.4445, nsB: -4.775, nsC: 2.0315 }, { nsA: 1.5, nsB: -0.5, nsC: 0 }),
};

type Interval = Omit<NumberOption, 'type' | 'default' | 'doc'>;

function numberArb(key: string, rule: Interval, def: number, isLr: boolean): fc.Arbitrary<number> {
  const lo = rule.min?.value;
  const hi = rule.max?.value;
  if (rule.integer) {
    const min = Math.max(lo ?? 1, 0);
    return fc.integer({ min, max: Math.max(min, Math.min(2 * def, 24)) });
  }
  if (isLr && def > 0) return logUniform(def / 30, def * 3);
  if (lo === 0 && hi === 1) return rule.max?.open ? decayRate() : fc.oneof({ arbitrary: decayRate(), weight: 6 }, { arbitrary: fc.constant(1), weight: 1 });
  if (lo === 0 && hi === undefined) {
    const epsLike = /eps/i.test(key);
    if (def > 0) {
      const around = logUniform(def / 100, def * 10);
      return epsLike || rule.min?.open ? around : fc.oneof({ arbitrary: around, weight: 6 }, { arbitrary: fc.constant(0), weight: 1 });
    }
    return fc.oneof(fc.constant(0), logUniform(1e-4, 0.5));
  }
  // Bounded elsewhere, or unbounded (coefficients): the default, which is always valid.
  return fc.constant(def);
}

function optionArb(def: OptimizerDefinition<never>, key: string, schema: OptionSchema): Arb {
  const isLr = (def.lrOptions ?? ['lr']).includes(key);
  switch (schema.type) {
    case 'boolean':
      return fc.boolean();
    case 'enum':
      return fc.constantFrom(...schema.values);
    case 'view':
      // PyTorch's view, TF.js kernels' (rows last, columns from the one before), and the second axis as rows;
      // each fits every shape a matrix optimizer is given (views are ignored below 2-D).
      return fc.constantFrom<OptionValue>(schema.default, CHANNELS_LAST_VIEW, { rows: [1], cols: [] });
    case 'number':
      // A nullable option ("not set", e.g. Prodigy's beta3) is drawn by its optimizer's overrides, or left unset.
      return schema.default === null ? fc.constant(null) : numberArb(key, schema, schema.default, isLr);
    case 'pair': {
      const p = schema as PairOption;
      const item = (i: 0 | 1): fc.Arbitrary<number> =>
        key.toLowerCase().includes('betas') ? decayRate() : numberArb(key, p.items[i], p.default[i], isLr);
      return pair(item(0), item(1));
    }
    case 'triple': {
      const p = schema as TripleOption;
      const item = (i: 0 | 1 | 2): fc.Arbitrary<number> =>
        key.toLowerCase().includes('betas') ? decayRate() : numberArb(key, p.items[i], p.default[i], isLr);
      return fc.tuple(item(0), item(1), item(2)).map(([x, y, z]) => [x, y, z] as const);
    }
  }
}

function roundOptions(o: Record<string, OptionValue>): Record<string, OptionValue> {
  const out: Record<string, OptionValue> = {};
  for (const [k, v] of Object.entries(o)) {
    out[k] = typeof v === 'number' ? f32(v) : Array.isArray(v) ? ((v as readonly number[]).map(f32) as unknown as OptionValue) : v;
  }
  return out;
}

/**
 * Random valid options of an optimizer (without the common `nonFinite`): every number rounded to float32 (the
 * reference then computes with exactly the hyperparameters a float32 kernel receives), filtered by the
 * definition's `check`.
 */
export function optionsArbitrary(name: string): fc.Arbitrary<Record<string, OptionValue>> {
  const def = getDefinition(name) as OptimizerDefinition<never>;
  const overrides = optionOverrides[name] ?? {};
  const record: Record<string, Arb> = {};
  for (const [key, schema] of Object.entries(def.schema)) record[key] = overrides[key] ?? optionArb(def, key, schema);
  const joint = jointOverrides[name];
  const base = fc.record(record);
  const all = joint ? fc.tuple(base, joint).map(([o, j]) => ({ ...o, ...j })) : base;
  return all.map(roundOptions).filter((o) => {
    try {
      makeSpec(def, o as never);
      return true;
    } catch {
      return false;
    }
  });
}

/** Magnitudes of parameters and gradients per optimizer. */
export function valueScales(name: string): { params: ValueScale; grads: ValueScale } {
  // Shampoo's accuracy in float32 is governed by the condition number of its statistics εI + Σ GGᵀ; moderate
  // gradients keep it testable (see bounds/shampoo.ts).
  if (name === 'shampoo') return { params: { lo: -2, hi: 0.5 }, grads: { lo: -2, hi: -0.5 } };
  return { params: { lo: -2, hi: 1 }, grads: { lo: -3, hi: 1 } };
}

const dim = (max: number): fc.Arbitrary<number> => fc.integer({ min: 1, max });

/**
 * Parameter shapes for an optimizer: always small (the cost of a property is dominated by its number of runs);
 * a length-0 and a length-1 parameter are frequent; matrix optimizers get 2-D and 3-D shapes.
 */
export function shapeArbitrary(name: string): fc.Arbitrary<readonly number[]> {
  const def = getDefinition(name);
  const empty = fc.constantFrom([0], [0, 3], [2, 0]);
  const one = fc.constantFrom([1], [1, 1], []);
  const vector = dim(8).map((n) => [n]);
  const matrix = fc.tuple(dim(5), dim(5)).map(([a, b]) => [a, b]);
  const cube = fc.tuple(dim(3), dim(3), dim(3)).map(([a, b, c]) => [a, b, c]);
  if (name === 'muon') {
    return fc.oneof(
      { arbitrary: fc.constantFrom([0, 3], [2, 0], [1, 1]), weight: 2 },
      { arbitrary: fc.tuple(dim(6), dim(6)).map(([a, b]) => [a, b]), weight: 6 },
      { arbitrary: cube, weight: 2 },
    );
  }
  if (name === 'amos') {
    // Amos refuses 0-D parameters (its scale is undefined there).
    const oneNot0D = fc.constantFrom([1], [1, 1]);
    return fc.oneof({ arbitrary: empty, weight: 1 }, { arbitrary: oneNot0D, weight: 1 }, { arbitrary: vector, weight: 4 }, { arbitrary: matrix, weight: 3 }, { arbitrary: cube, weight: 1 });
  }
  if (name === 'muonTorch') {
    // torch.optim.Muon takes 2-D parameters only.
    return fc.oneof({ arbitrary: fc.constantFrom([0, 3], [2, 0], [1, 1]), weight: 2 }, { arbitrary: fc.tuple(dim(6), dim(6)).map(([a, b]) => [a, b]), weight: 8 });
  }
  if (name === 'soap') {
    // 4-D shapes too: with mergeDims and dataFormat "channelsLast" SOAP permutes them before merging.
    const four = fc.tuple(dim(3), dim(2), dim(2), dim(3)).map(([a, b, c, d]) => [a, b, c, d]);
    return fc.oneof({ arbitrary: empty, weight: 1 }, { arbitrary: one, weight: 1 }, { arbitrary: vector, weight: 2 }, { arbitrary: matrix, weight: 4 }, { arbitrary: cube, weight: 2 }, { arbitrary: four, weight: 2 });
  }
  if (def.kind === 'matrix') {
    return fc.oneof({ arbitrary: empty, weight: 1 }, { arbitrary: one, weight: 1 }, { arbitrary: vector, weight: 2 }, { arbitrary: matrix, weight: 4 }, { arbitrary: cube, weight: 2 });
  }
  return fc.oneof({ arbitrary: empty, weight: 1 }, { arbitrary: one, weight: 1 }, { arbitrary: vector, weight: 4 }, { arbitrary: matrix, weight: 3 }, { arbitrary: cube, weight: 1 });
}

const transformOptions: Readonly<Record<string, fc.Arbitrary<Record<string, unknown>>>> = {
  clipGradNorm: fc.record({ maxNorm: logUniform(0.01, 10).map(f32), normType: fc.constantFrom<number | 'inf'>(2, 'inf', 1, 3) }),
  clipGradValue: fc.record({ clipValue: logUniform(1e-3, 10).map(f32) }),
  adaptiveClip: fc.record({ clipping: logUniform(1e-3, 1).map(f32), eps: logUniform(1e-4, 1e-2).map(f32) }),
  softClip: fc.record({ eps: logUniform(1e-12, 1e-3).map(f32) }),
  centralize: fc.record({ convOnly: fc.boolean() }),
};

/**
 * Gradient transforms (clipping, centralization) to put in front of an optimizer: one or two of the given names,
 * with random options (clipping thresholds log-uniform so that clipping happens in some cases and not in others).
 */
export function transformsArbitrary(names: readonly string[]): fc.Arbitrary<TransformSpec[]> {
  const usable = names.filter((n) => transformOptions[n] && transformDefinitions.has(n));
  if (usable.length === 0) return fc.constant([]);
  const one = fc.constantFrom(...usable).chain((name) => transformOptions[name]!.map((o) => makeTransformSpec(transformDefinitions.get(name)!, o)));
  return fc.array(one, { minLength: 1, maxLength: 2 });
}

const count = (min: number, max: number): fc.Arbitrary<number> => fc.integer({ min, max });
// Factors of the learning rate: 0 or at least 0.01 (a tiny factor would underflow the float32 learning rate).
const factor = fc.oneof(fc.constant(0), uniform(0.01, 1).map(f32));

/**
 * LR schedules of core (`core/src/schedules`) with options that change the learning rate within the few steps a
 * property runs (periods and phases of 1–8 steps), so steps before, inside and after each phase are all drawn.
 * `oneCycle` (an absolute peak lr) and `sequence` (made of the others) are left out.
 */
export function scheduleArbitrary(): fc.Arbitrary<ScheduleSpec> {
  return fc.oneof(
    // γ ≥ 0.5: over the drift property's 50 steps the learning rate stays a normal float32 number.
    fc.record({ stepSize: count(1, 3), gamma: uniform(0.5, 0.9).map(f32) }).map((o) => stepSchedule(o)),
    fc.record({ gamma: uniform(0.5, 1).map(f32) }).map((o) => exponential(o)),
    fc.record({ tMax: count(1, 8), etaMin: logUniform(1e-6, 1e-3).map(f32) }).map((o) => cosine(o)),
    fc.record({ milestones: fc.uniqueArray(count(1, 6), { minLength: 1, maxLength: 3 }).map((m) => [...m].sort((a, b) => a - b)), gamma: uniform(0.1, 0.9).map(f32) }).map((o) => multiStep(o)),
    fc.record({ startFactor: uniform(0.05, 1).map(f32), endFactor: factor, totalIters: count(1, 6) }).map((o) => linear(o)),
    fc.record({ totalIters: count(1, 6), power: uniform(0.5, 3).map(f32) }).map((o) => polynomial(o)),
    fc.tuple(count(0, 3), count(1, 6), factor, factor).map(([w, d, s, f]) => warmupCosine({ warmupSteps: w, totalSteps: w + d, warmupStartFactor: s, finalFactor: f })),
    fc.tuple(count(0, 3), count(1, 6), factor, factor).map(([w, d, s, f]) => warmupLinear({ warmupSteps: w, totalSteps: w + d, warmupStartFactor: s, finalFactor: f })),
    fc
      .tuple(count(0, 2), count(0, 3), count(1, 3), fc.constantFrom<'linear' | 'cosine' | '1-sqrt'>('linear', 'cosine', '1-sqrt'), factor)
      .map(([w, stable, d, shape, f]) => wsd({ warmupSteps: w, decaySteps: d, totalSteps: w + stable + d, decayShape: shape, finalFactor: f })),
  );
}

/** Lookahead's options: a sync every 1–4 steps, α in [0.1, 1] rounded to float32 (it reaches kernels as float32). */
export function lookaheadArbitrary(): fc.Arbitrary<{ k: number; alpha: number }> {
  return fc.record({ k: count(1, 4), alpha: uniform(0.1, 1).map(f32) });
}

/** The EMA wrapper's options: any decay in [0, 1] (float32), with or without warmup, starting after 0–2 steps. */
export function emaArbitrary(): fc.Arbitrary<Record<string, unknown>> {
  return fc
    .record({ decay: uniform(0, 1).map(f32), useWarmup: fc.boolean(), updateAfterStep: count(0, 2), warmupGamma: uniform(0.5, 4).map(f32), warmupPower: uniform(0.5, 1).map(f32), min: uniform(0, 1).map(f32) })
    .map(({ min, ...o }) => ({ ...o, minDecay: f32(min * o.decay) > o.decay ? o.decay : f32(min * o.decay) }));
}

/** A generated problem: the spec, its groups and parameters, and the seed of every number. */
export interface Problem {
  readonly spec: OptimizerSpec;
  readonly groups?: GroupConfig[];
  readonly params: readonly ParamInput[];
  /** Seed of the gradients (and any other number drawn later). */
  readonly seed: number;
  /** Probability that a parameter gets no gradient at a step. */
  readonly missing: number;
}

export interface ProblemOptions {
  /** Maximum number of parameters. Default 3. */
  readonly maxParams?: number;
  /** Whether to draw param groups. Default true. */
  readonly groups?: boolean;
  /** Share of missing gradients. Default: 0 or 0.2. */
  readonly missing?: fc.Arbitrary<number>;
  /** At least one parameter with elements (for properties that need a value to poison). Default false. */
  readonly nonEmpty?: boolean;
  /** nonFinite policy of the spec. Default "apply". */
  readonly nonFinite?: fc.Arbitrary<'apply' | 'skip' | 'throw'>;
  /** Gradient transforms the backend implements; a quarter of the problems put one or two in front. Default none. */
  readonly transforms?: readonly string[];
  /**
   * Whether a quarter of the problems get an LR schedule and a quarter a Lookahead wrapper (independently).
   * Default false (properties that need the parameters without a gradient to stay put cannot have Lookahead).
   */
  readonly wrappers?: boolean;
}

/** Whether the reference accepts the problem (groups may break a cross-option rule or a shape rule). */
function acceptable(p: Problem): boolean {
  try {
    const named = p.params.map((q) => [q.name, tensor(new Float64Array(q.data.length), q.shape)] as const);
    createReference(p.spec, named, p.groups ? { groups: p.groups } : {}).dispose();
    return true;
  } catch {
    return false;
  }
}

/** Random problems for one optimizer. */
export function problemArbitrary(name: string, opts: ProblemOptions = {}): fc.Arbitrary<Problem> {
  const def = getDefinition(name);
  const scales = valueScales(name);
  const shapes = fc.array(shapeArbitrary(name), { minLength: 1, maxLength: opts.maxParams ?? 3 });
  // Options drawn jointly (Newton–Schulz coefficients) are not overridden per group: mixing two draws could make
  // a divergent polynomial.
  const joint = jointOverrides[name];
  // Whole-optimizer options cannot be overridden per group; nor can a phased step's lr (Prodigy: equal or 0).
  const overrideKeys = Object.keys(def.schema).filter(
    (k) => (!joint || !['nsA', 'nsB', 'nsC'].includes(k)) && !(def.wholeOptimizerOptions ?? []).includes(k) && !(def.phases && k === 'lr'),
  );
  const group = fc.tuple(optionsArbitrary(name), fc.subarray(overrideKeys, { minLength: 1 }), fc.integer({ min: 1, max: 7 }));
  return fc
    .record({
      options: optionsArbitrary(name),
      shapes,
      group: opts.groups === false ? fc.constant(null) : fc.option(group, { freq: 3 }),
      seed: fc.integer({ min: 0, max: 0x7fffffff }),
      missing: opts.missing ?? fc.constantFrom(0, 0.2),
      nonFinite: opts.nonFinite ?? fc.constant('apply' as const),
      transforms: opts.transforms?.length ? fc.option(transformsArbitrary(opts.transforms), { freq: 3 }) : fc.constant(null),
      schedule: opts.wrappers ? fc.option(scheduleArbitrary(), { freq: 3 }) : fc.constant(null),
      lookahead: opts.wrappers ? fc.option(lookaheadArbitrary(), { freq: 3 }) : fc.constant(null),
      ema: opts.wrappers ? fc.option(emaArbitrary(), { freq: 3 }) : fc.constant(null),
      cautious: opts.wrappers && def.kind === 'elementwise' ? fc.option(fc.record({ eps: fc.constantFrom(1e-3, 0.25, 0.5) }), { freq: 3 }) : fc.constant(null),
    })
    .map(({ options, shapes: shapeList, group: g, seed, missing, nonFinite, transforms, schedule, lookahead, ema, cautious }): Problem => {
      const base = makeSpec(def as OptimizerDefinition<never>, { ...options, nonFinite } as never) as OptimizerSpec;
      const spec =
        transforms || schedule || lookahead || ema || cautious
          ? normalizeSpec({
              ...base,
              ...(transforms ? { transforms } : {}),
              ...(schedule ? { schedule } : {}),
              ...(lookahead ? { lookahead } : {}),
              ...(ema ? { ema } : {}),
              ...(cautious ? { cautious } : {}),
            })
          : base;
      const next = prng(mix(seed, 'params'));
      const params = shapeList.map((shape, i) => ({ name: `p${i}`, shape, data: float32Values(next, sizeOf(shape), scales.params) }));
      let groups: GroupConfig[] | undefined;
      if (g) {
        const [groupOptions, keys, mask] = g;
        const members = params.filter((_, i) => (mask >> i) & 1).map((p) => p.name);
        if (members.length > 0) groups = [{ params: members, options: Object.fromEntries(keys.map((k) => [k, groupOptions[k]])) }];
      }
      return groups ? { spec, groups, params, seed, missing } : { spec, params, seed, missing };
    })
    .filter((p) => (!opts.nonEmpty || p.params.some((q) => q.data.length > 0)) && acceptable(p));
}

/** Describes a problem for failure reports. */
export function describeProblem(p: Problem): string {
  const lines = [`spec ${JSON.stringify(p.spec)}`];
  if (p.groups) lines.push(`groups ${JSON.stringify(p.groups)}`);
  for (const q of p.params) lines.push(`param ${q.name} [${q.shape.join(', ')}] = [${Array.from(q.data, (x) => String(x)).join(', ')}]`);
  lines.push(`value seed ${p.seed}, missing-gradient rate ${p.missing}`);
  return lines.join('\n  ');
}
