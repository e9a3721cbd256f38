import { makeSpec, type LookaheadOptions, type OptimizerDefinition, type OptimizerSpec } from './definition.js';
import { OptionError, show } from './errors.js';
import { checkKnownKeys, opt, resolveOptions, type OptionsSchema } from './options.js';
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

const specKeys: OptionsSchema = Object.fromEntries(
  ['name', 'options', 'transforms', 'schedule', 'lookahead'].map((k) => [k, opt.flag(false, k)]),
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
  const { name, options, transforms, schedule, lookahead } = json as Record<string, unknown>;
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
  return freezeSpec(out);
}

/** Rebuilds a spec from its JSON form `{ name, options, transforms?, schedule?, lookahead? }`, validating everything. */
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
