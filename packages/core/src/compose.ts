import { makeSpec, type CautiousOptions, type EmaOptions, type LookaheadOptions, type OptimizerDefinition, type OptimizerSpec } from './definition.js';
import { OptionError, show } from './errors.js';
import { checkKnownKeys, opt, resolveOptions, type OptionsSchema } from './options.js';
import { decodeArray, type PortableState } from './state.js';
import { getDefinition } from './registry.js';
import { scheduleDefinitions } from './schedules/index.js';
import { checkScheduleSpec, type ScheduleSpec } from './schedules/schedule.js';
import { transformDefinitions } from './transforms/index.js';
import { checkTransformSpec, type TransformSpec } from './transforms/transform.js';

/**
 * Composing specs: gradient transforms, a learning-rate schedule and Lookahead wrap any optimizer spec and stay
 * plain data, so the composed spec still drives every backend and round-trips through JSON.
 *
 * @packageDocumentation
 */

/** Option schema of the {@link lookahead} wrapper (`k`, `alpha`), as validated by {@link normalizeSpec}. */
export const lookaheadSchema = {
  k: opt.count(5, 'Inner steps between synchronisations.'),
  alpha: opt.unitClosed(0.5, 'Step size of the slow weights towards the fast ones.'),
} as const satisfies OptionsSchema;

/** Option schema of the {@link ema} wrapper, as validated by {@link normalizeSpec}. */
export const emaSchema = {
  decay: opt.unitClosed(0.9999, 'Decay of the average (the largest, with warmup).'),
  minDecay: opt.unitClosed(0, 'Smallest decay with warmup.'),
  updateAfterStep: opt.number(0, 'Applied steps before the average starts following.', { min: { value: 0 }, integer: true }),
  useWarmup: opt.flag(false, 'Warm the decay up as 1 − (1 + s/γ)^(−p).'),
  warmupGamma: opt.positive(1, 'γ of the warmup.'),
  warmupPower: opt.positive(2 / 3, 'p of the warmup.'),
} as const satisfies OptionsSchema;

/** Option schema of the {@link cautious} wrapper, as validated by {@link normalizeSpec}. */
export const cautiousSchema = {
  eps: opt.nonNegative(1e-3, 'Floor of the mask mean in mask / max(mean(mask), eps).'),
} as const satisfies OptionsSchema;

const specKeys: OptionsSchema = Object.fromEntries(
  ['name', 'options', 'transforms', 'schedule', 'lookahead', 'ema', 'cautious'].map((k) => [k, opt.flag(false, k)]),
);

function freezeSpec<O extends object>(spec: OptimizerSpec<O>): OptimizerSpec<O> {
  return Object.freeze(spec);
}

/**
 * Validates a whole spec — from a factory, from JSON, or hand-made — and returns a frozen, checked copy.
 * Every backend calls it, so a spec is never trusted as given.
 */
export function normalizeSpec(json: unknown): OptimizerSpec {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new OptionError(`an optimizer spec must be an object { name, options }, got ${show(json)}`);
  }
  const { name, options, transforms, schedule, lookahead, ema: average, cautious: caution } = json as Record<string, unknown>;
  const def = getDefinition(name) as OptimizerDefinition<never>;
  checkKnownKeys(`${def.name}: spec`, specKeys, json);
  const base = makeSpec(def, options as never) as OptimizerSpec;
  let out: OptimizerSpec = { name: base.name, options: base.options };
  if (transforms !== undefined) {
    if (!Array.isArray(transforms)) throw new OptionError(`${def.name}: transforms must be a list, got ${show(transforms)}`);
    out = { ...out, transforms: Object.freeze(transforms.map((t, i) => checkTransformSpec(transformDefinitions, t, `${def.name}: transforms[${i}]`))) };
  }
  if (schedule !== undefined) out = { ...out, schedule: checkScheduleSpec(scheduleDefinitions, schedule, `${def.name}: schedule`) };
  if (lookahead !== undefined) {
    out = { ...out, lookahead: Object.freeze(resolveOptions(`${def.name}: lookahead`, lookaheadSchema, lookahead)) as unknown as LookaheadOptions };
  }
  if (average !== undefined) {
    const e = resolveOptions(`${def.name}: ema`, emaSchema, average) as unknown as EmaOptions;
    if (e.minDecay > e.decay) throw new OptionError(`${def.name}: ema: option "minDecay" must be at most decay (${e.decay}), got ${e.minDecay}`);
    out = { ...out, ema: Object.freeze(e) };
  }
  if (caution !== undefined) {
    const c = resolveOptions(`${def.name}: cautious`, cautiousSchema, caution) as unknown as CautiousOptions;
    if (def.kind !== 'elementwise') {
      throw new OptionError(`${def.name}: cautious: masking needs an elementwise optimizer, got kind "${def.kind}" (its update is not a per-element function of its gradient)`);
    }
    out = { ...out, cautious: Object.freeze(c) };
  }
  return freezeSpec(out);
}

/** Rebuilds a spec from its JSON form `{ name, options, transforms?, schedule?, lookahead?, ema? }`, validating everything. */
export const specFromJSON: (json: unknown) => OptimizerSpec = normalizeSpec;

/**
 * Adds gradient transforms, applied in the order given (after any the spec already has) before every update.
 *
 * @example
 * ```ts
 * const spec = withTransforms(adamw({ lr: 1e-3 }), clipGradNorm({ maxNorm: 1 }));
 * ```
 */
export function withTransforms<O extends object>(spec: OptimizerSpec<O>, ...transforms: TransformSpec[]): OptimizerSpec<O> {
  return normalizeSpec({ ...spec, transforms: [...(spec.transforms ?? []), ...transforms] }) as unknown as OptimizerSpec<O>;
}

/**
 * Gives every group a learning-rate schedule (replacing any the spec has). Each group's configured learning
 * rate is the schedule's base.
 *
 * @example
 * ```ts
 * const spec = withSchedule(adam({ lr: 1e-3 }), constant());
 * ```
 */
export function withSchedule<O extends object>(spec: OptimizerSpec<O>, schedule: ScheduleSpec): OptimizerSpec<O> {
  return normalizeSpec({ ...spec, schedule }) as unknown as OptimizerSpec<O>;
}

/**
 * Lookahead (Zhang, Lucas, Hinton & Ba, "Lookahead Optimizer: k steps forward, 1 step back", NeurIPS 2019)
 * around any optimizer. Slow weights φ start at the parameters' initial values; after every k applied steps of
 * the inner optimizer (counted by the optimizer's step count), every parameter is synchronised:
 *
 * $$
 * \phi \leftarrow \phi + \alpha\,(\theta - \phi), \qquad \theta \leftarrow \phi
 * $$
 *
 * This follows the paper and optax's `lookahead`. (torch-optimizer's `Lookahead` synchronises on its counter's
 * zero, i.e. after steps 1, k+1, 2k+1, …, and initialises φ lazily at the first synchronisation.) The slow
 * weights are the state slot `slowParam` of every parameter and travel with the portable state.
 *
 * @example
 * ```ts
 * const spec = lookahead(adam({ lr: 1e-3 }), { k: 5, alpha: 0.5 });
 * ```
 */
export function lookahead<O extends object>(inner: OptimizerSpec<O>, options: Partial<LookaheadOptions> = {}): OptimizerSpec<O> {
  if (inner.lookahead) throw new OptionError(`${inner.name}: lookahead: the spec already has a lookahead wrapper`);
  return normalizeSpec({ ...inner, lookahead: options }) as unknown as OptimizerSpec<O>;
}

/**
 * Exponential moving average of the weights (Polyak–Ruppert averaging with exponential weights) around any
 * optimizer, as timm's `ModelEmaV2`/`ModelEmaV3` (timm/utils/model_ema.py) and optax's EMA of parameters: after
 * every applied step t of the optimizer (its step count, after any Lookahead synchronisation), every parameter's
 * average is updated
 *
 * $$
 * \bar\theta \leftarrow \delta_t\, \bar\theta + (1 - \delta_t)\, \theta
 * $$
 *
 * with the decay δ_t of `ModelEmaV3.get_decay(t)`: s = max(0, t − updateAfterStep − 1); δ_t = 0 while s ≤ 0 (the
 * average is reset to θ); then δ_t = decay, or with `useWarmup` δ_t = max(min(1 − (1 + s/γ)^(−p), decay), minDecay).
 * The average starts at the parameters' values when the optimizer is created and is the state slot `emaParam` of
 * every parameter, so it travels with the portable state on any backend; {@link emaWeights} reads it from
 * `exportState()`. Like Lookahead's slow weights, the parameters themselves are never changed by it.
 *
 * Warning: the update is `ModelEmaV2`'s form δ·θ̄ + (1 − δ)·θ (`ModelEmaV3` computes the same as a `lerp`), with
 * `ModelEmaV3`'s decay schedule; buffers (batch-norm statistics) are not parameters here and are not averaged.
 *
 * @example
 * ```ts
 * import { adam, createReference, ema, emaWeights, tensor } from '@descent/core';
 *
 * const w = tensor([1, -2]);
 * const opt = createReference(ema(adam({ lr: 0.1 }), { decay: 0.9, useWarmup: true }), { w });
 * for (let i = 0; i < 5; i++) opt.step({ w: tensor([w.data[0]!, w.data[1]!]) });
 * console.log(emaWeights(opt.exportState()).w?.data); // the averaged weights
 * ```
 */
export function ema<O extends object>(inner: OptimizerSpec<O>, options: Partial<EmaOptions> = {}): OptimizerSpec<O> {
  if (inner.ema) throw new OptionError(`${inner.name}: ema: the spec already has an ema wrapper`);
  return normalizeSpec({ ...inner, ema: options }) as unknown as OptimizerSpec<O>;
}

/** The decay δ_t of the EMA wrapper after applied step t (timm's `ModelEmaV3.get_decay`); see {@link ema}. */
export function emaDecay(o: EmaOptions, t: number): number {
  const s = Math.max(0, t - o.updateAfterStep - 1);
  if (s <= 0) return 0;
  if (!o.useWarmup) return o.decay;
  return Math.max(Math.min(1 - (1 + s / o.warmupGamma) ** -o.warmupPower, o.decay), o.minDecay);
}

/** The EMA wrapper's averaged weights, by parameter name, from an exported state (any backend); see {@link ema}. */
export function emaWeights(state: PortableState): Record<string, { shape: number[]; data: Float64Array }> {
  const out: Record<string, { shape: number[]; data: Float64Array }> = {};
  for (const [name, p] of Object.entries(state.params)) {
    const slot = p.slots.emaParam;
    if (!slot) continue;
    const data = decodeArray(slot.data, slot.shape.reduce((a, b) => a * b, 1), `${name}.emaParam`);
    Object.defineProperty(out, name, { value: { shape: [...slot.shape], data }, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/**
 * Cautious masking (Liang, Chen, Liu, Liu, "Cautious Optimizers: Improving Training with One Line of Code", 2024)
 * around any elementwise optimizer, as pytorch_optimizer's `apply_cautious` (pytorch_optimizer/optimizer/utils.py
 * of kozistr/pytorch_optimizer): the update u the inner optimizer computed for a parameter is kept only where it
 * points along the gradient, and rescaled so that its average size is kept:
 *
 * $$
 * u = \theta_{\text{before}} - \theta_{\text{after}}, \qquad
 * m_i = [\,u_i\, d_i > 0\,], \qquad
 * \theta \leftarrow \theta_{\text{before}} - u \odot \frac{m}{\max(\operatorname{mean}(m),\ \epsilon)}
 * $$
 *
 * per parameter, with d the gradient the optimizer saw (after any transforms), negated when the optimizer's
 * `maximize` option is on. It hooks in after the inner update of each parameter, on every backend, so it needs no
 * change to the optimizers: the inner update runs, then the backend takes u as the difference it made.
 *
 * Warning: pytorch_optimizer masks its `update` before the learning rate and the decoupled weight decay are applied;
 * here u is the whole step, lr and any decoupled decay included. The mask is the same (lr > 0 does not change signs)
 * when the optimizer has no decoupled decay; with decoupled decay the decay is masked too. It follows the current
 * form mask / max(mean(mask), eps) (older pytorch_optimizer releases used mask·n/(Σmask + 1)). Only elementwise
 * optimizers are accepted.
 *
 * @example
 * ```ts
 * import { adam, cautious, createReference, tensor } from '@descent/core';
 *
 * const w = tensor([1, -2, 3]);
 * const opt = createReference(cautious(adam({ lr: 0.1 })), { w });
 * opt.step({ w: tensor([1, -2, 3]) });
 * opt.step({ w: tensor([-1, -2, 3]) }); // w[0]'s momentum still points the other way: that element is masked
 * console.log(w.data);
 * ```
 */
export function cautious<O extends object>(inner: OptimizerSpec<O>, options: Partial<CautiousOptions> = {}): OptimizerSpec<O> {
  if (inner.cautious) throw new OptionError(`${inner.name}: cautious: the spec already has a cautious wrapper`);
  return normalizeSpec({ ...inner, cautious: options }) as unknown as OptimizerSpec<O>;
}

/**
 * The cautious mask in Float64, in place (the reference's form of {@link cautious}): `theta` holds the inner
 * optimizer's result, `before` the parameter before it, `grad` the gradient it saw.
 */
export function applyCautious(before: ArrayLike<number>, theta: Float64Array, grad: ArrayLike<number>, maximize: boolean, eps: number): void {
  const n = theta.length;
  if (n === 0) return;
  const mask = new Float64Array(n);
  let count = 0;
  for (let i = 0; i < n; i++) {
    const d = maximize ? -(grad[i] as number) : (grad[i] as number);
    mask[i] = ((before[i] as number) - (theta[i] as number)) * d > 0 ? 1 : 0;
    count += mask[i] as number;
  }
  const denom = Math.max(count / n, eps);
  for (let i = 0; i < n; i++) {
    const u = (before[i] as number) - (theta[i] as number);
    theta[i] = (before[i] as number) - u * ((mask[i] as number) / denom);
  }
}
