import { OptionError, show } from './errors.js';
import { opt, resolveOptions, type OptionValue, type OptionsSchema } from './options.js';
import type { ScheduleSpec } from './schedules/schedule.js';
import type { TransformSpec } from './transforms/transform.js';

/**
 * How an optimizer touches a parameter, which tells backends what kernels it needs and the conformance kit
 * which tolerance applies: `elementwise` (each element on its own: SGD, Adam, …), `tensor` (elementwise plus
 * per-tensor reductions such as norms: LAMB, LARS), `matrix` (matrix products: Muon, Shampoo).
 */
export type OptimizerKind = 'elementwise' | 'tensor' | 'matrix';

/**
 * What to do when a gradient holds NaN or ±Infinity. `apply`: update anyway, as PyTorch does (the non-finite
 * values propagate into parameters and state). `skip`: leave every parameter and all state untouched for this
 * step and count it in `skippedSteps` (the policy of mixed-precision loss scaling). `throw`: raise a
 * {@link ParamError} naming the gradient and index, with nothing mutated.
 */
export type NonFinitePolicy = 'apply' | 'skip' | 'throw';

/** Options every optimizer accepts. They apply to the whole optimizer and cannot be overridden per group. */
export interface CommonOptions {
  /** See {@link NonFinitePolicy}. Default `apply`. */
  readonly nonFinite: NonFinitePolicy;
}

/**
 * Schema of the {@link CommonOptions} every optimizer accepts (added to each definition's own schema by {@link
 * fullSchema}).
 */
export const commonSchema = {
  nonFinite: opt.oneOf(['apply', 'skip', 'throw'], 'apply', 'What to do with a NaN or ±Infinity in a gradient.'),
} as const satisfies OptionsSchema;

/** One state tensor of a parameter: its name (as in PyTorch's state dict, camelCased), shape and initial fill. */
export interface SlotSpec {
  readonly name: string;
  readonly shape: readonly number[];
  /**
   * Initial contents: a number fills every element (0 when left out); a function writes the initial values
   * into a zeroed array (e.g. Shampoo's ε·I preconditioners); `'param'` copies the parameter's value when the
   * optimizer is created (Lookahead's slow weights).
   */
  readonly init?: number | ((out: Float64Array) => void) | 'param';
}

/** Everything the Float64 reference update of one parameter sees. */
export interface ParamContext<O> {
  /** Parameter name, for error messages. */
  readonly name: string;
  /** The resolved options of the parameter's group, with the current learning rate. */
  readonly options: O;
  readonly shape: readonly number[];
  /** The parameter, updated in place. */
  readonly param: Float64Array;
  /** The gradient. Never written: the user's arrays are never changed. */
  readonly grad: Float64Array;
  /** State tensors by name, updated in place. */
  readonly slots: Readonly<Record<string, Float64Array>>;
  /** Per-parameter host scalars kept in state (e.g. NAdam's μ-product), updated in place. */
  readonly scalars: Record<string, number>;
  /** This parameter's step number, already incremented: 1 on its first update (PyTorch's `state['step']`). */
  readonly step: number;
}

/** Where an optimizer wants its gradient evaluated (NAG's look-ahead point θ − γv). */
export type PointContext<O> = Omit<ParamContext<O>, 'grad' | 'step' | 'scalars'> & { readonly scalars: Readonly<Record<string, number>> };

/**
 * One parameter as a phase of a {@link GroupPhases} update sees it: its {@link ParamContext} plus the shared host
 * scalars of its group and the step's host constants.
 */
export interface PhaseContext<O> extends ParamContext<O> {
  /** The group's shared scalars (Prodigy's d, d_max, …): as before the step in `accumulate`, as `finish` left them in `apply`. */
  readonly group: Readonly<Record<string, number>>;
  /** Host constants of this step from {@link GroupPhases.begin} (Prodigy's d·lr), the same in both phases. */
  readonly constants: Readonly<Record<string, number>>;
}

/** A group as {@link GroupPhases.begin} and {@link GroupPhases.finish} see it. */
export interface PhaseGroup<O> {
  /** The group's options with the current learning rate. */
  readonly options: O;
  /** The group's shared scalars; `finish` updates them in place. */
  readonly scalars: Record<string, number>;
}

/**
 * A step in two passes with a host computation between them, for updates that need sums over every parameter before
 * any parameter moves (Prodigy's D estimate: upstream loops over the parameters twice). Each backend runs, in Float64
 * on the host where it says so:
 *
 * 1. `begin(groups)` (host, once): the step's constants per group; may throw before anything changed.
 * 2. `accumulate(ctx)` per parameter with a gradient, in group order then parameter order: updates that parameter's
 *    slots (never the parameter) and returns its contributions to the sums, named in `sums` (a float32 backend
 *    reduces on the device and reads the partial sums back: a readback per parameter).
 * 3. `finish(groups)` (host, once): gets every contribution in that order, updates the groups' shared scalars;
 *    returns false to leave every parameter where it is this step (Prodigy when every gradient so far was 0).
 * 4. `apply(ctx)` per parameter with a gradient: moves the parameter.
 *
 * The shared scalars are group state (portable state's `groups`, exported and imported with the rest). A definition
 * with phases has no per-parameter `update` (it throws).
 */
export interface GroupPhases<O> {
  /** Names of the contributions `accumulate` returns. */
  readonly sums: readonly string[];
  /** Initial shared scalars of a group with these options. */
  scalars(options: O): Record<string, number>;
  /** The step's host constants, one record per group (in group order); may throw an {@link OptionError}. */
  begin(groups: ReadonlyArray<PhaseGroup<O>>, where: string): Array<Record<string, number>>;
  /** First pass over one parameter: its slots, in place; returns its contributions. */
  accumulate(ctx: PhaseContext<O>): Record<string, number>;
  /** Between the passes: `contributions[g]` holds group g's, one record per parameter with a gradient, in order. */
  finish(groups: ReadonlyArray<PhaseGroup<O> & { readonly constants: Readonly<Record<string, number>>; readonly contributions: ReadonlyArray<Readonly<Record<string, number>>> }>): boolean;
  /** Second pass over one parameter: the parameter (and slots), in place. */
  apply(ctx: PhaseContext<O>): void;
}

/**
 * The one definition of an optimizer: name, option schema, state layout and Float64 reference update.
 * Backends read the schema and state layout from here and supply their own kernels for `name`.
 */
export interface OptimizerDefinition<O extends object = Record<string, OptionValue>> {
  readonly name: string;
  /** Display name ("AdamW"). */
  readonly title: string;
  readonly kind: OptimizerKind;
  /** Optimizer-specific options; {@link commonSchema} is added to every definition. */
  readonly schema: OptionsSchema;
  /** Rules between options (e.g. Nesterov needs momentum); throws {@link OptionError} prefixed with `where`. */
  check?(options: O, where: string): void;
  /**
   * Options that are learning rates, which a schedule rescales. Default `['lr']`; an optimizer with two
   * (Muon with auxiliary Adam: `lr` and `adamLr`) lists both.
   */
  readonly lrOptions?: readonly string[];
  /** Refuses parameter shapes the optimizer cannot handle: returns the reason, or undefined. */
  rejectShape?(shape: readonly number[], options: O): string | undefined;
  /** State tensors of a parameter of this shape under these options. */
  slots(options: O, shape: readonly number[]): SlotSpec[];
  /** Initial per-parameter host scalars. */
  scalars?(options: O): Record<string, number>;
  /**
   * Writes the point at which the gradient must be evaluated into `out`. Only optimizers that evaluate the
   * gradient away from the current parameters (NAG) define it.
   */
  evaluationPoint?(ctx: PointContext<O>, out: Float64Array): void;
  /** The Float64 reference: one step for one parameter, in place. */
  update(ctx: ParamContext<O>): void;
  /** A step in two passes with shared group scalars (see {@link GroupPhases}); then `update` is not used. */
  readonly phases?: GroupPhases<O>;
  /**
   * Options that apply to the whole optimizer for this optimizer and cannot be overridden per group (as the common
   * ones): Prodigy's shared D estimate reads them from the first group upstream.
   */
  readonly wholeOptimizerOptions?: readonly string[];
}

/**
 * A validated, frozen, JSON-serializable description of an optimizer: the same spec drives every backend.
 * `JSON.parse(JSON.stringify(spec))` passed to {@link specFromJSON} gives back an equal spec.
 */
export interface OptimizerSpec<O extends object = Record<string, OptionValue>> {
  readonly name: string;
  readonly options: Readonly<O & CommonOptions>;
  /** Gradient transforms (clipping, centralization) applied in order before every update; see `withTransforms`. */
  readonly transforms?: readonly TransformSpec[];
  /** Learning-rate schedule of every group; see `withSchedule`. Constant when absent. */
  readonly schedule?: ScheduleSpec;
  /** Lookahead (Zhang et al. 2019) around this optimizer; see `lookahead`. */
  readonly lookahead?: LookaheadOptions;
  /** Exponential moving average of the weights around this optimizer; see `ema`. */
  readonly ema?: EmaOptions;
  /** Cautious masking of every elementwise update; see `cautious`. */
  readonly cautious?: CautiousOptions;
}

/** Options of the cautious-masking wrapper. */
export interface CautiousOptions {
  /** Floor of the mask's mean in the rescaling mask / max(mean(mask), eps). Default 1e-3. */
  readonly eps: number;
}

/** Options of the Lookahead wrapper. */
export interface LookaheadOptions {
  /** Inner steps between synchronisations. Default 5. */
  readonly k: number;
  /** Step size α of the slow weights towards the fast ones. Default 0.5. */
  readonly alpha: number;
}

/** Options of the EMA weight-averaging wrapper; names and defaults as timm's `ModelEmaV3`. */
export interface EmaOptions {
  /** Decay of the average (the largest, with warmup). Default 0.9999. */
  readonly decay: number;
  /** Smallest decay with warmup. Default 0. */
  readonly minDecay: number;
  /** Applied steps before the average starts following (until then it is reset to θ every step). Default 0. */
  readonly updateAfterStep: number;
  /** Warm the decay up as 1 − (1 + s/γ)^(−p). Default false. */
  readonly useWarmup: boolean;
  /** γ of the warmup. Default 1. */
  readonly warmupGamma: number;
  /** p of the warmup (2/3 suits long runs, 3/4 short ones). Default 2/3. */
  readonly warmupPower: number;
}

/** Full schema of a definition: its own options plus the common ones. */
export function fullSchema(def: OptimizerDefinition<never>): OptionsSchema {
  return { ...def.schema, ...commonSchema };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** Validates `given` against a definition (defaults filled, cross-option rules checked) and returns a frozen spec. */
export function makeSpec<O extends object>(def: OptimizerDefinition<O>, given?: Partial<O & CommonOptions>): OptimizerSpec<O> {
  const where = def.name;
  const options = resolveOptions(where, fullSchema(def as OptimizerDefinition<never>), given) as unknown as O & CommonOptions;
  def.check?.(options, where);
  return deepFreeze({ name: def.name, options });
}

/**
 * Resolves a group's overrides on top of the spec's options. Common options (`nonFinite`) are whole-optimizer
 * settings and cannot be overridden.
 */
export function resolveGroupOptions<O extends object>(
  def: OptimizerDefinition<O>,
  spec: OptimizerSpec<O>,
  overrides: unknown,
  where: string,
): Readonly<O & CommonOptions> {
  if (overrides !== undefined && overrides !== null && typeof overrides === 'object') {
    for (const key of [...Object.keys(commonSchema), ...(def.wholeOptimizerOptions ?? [])]) {
      if (key in overrides) throw new OptionError(`${where}: option "${key}" applies to the whole optimizer and cannot be set per group`);
    }
  }
  const options = resolveOptions(
    where,
    fullSchema(def as OptimizerDefinition<never>),
    overrides,
    spec.options as unknown as Record<string, OptionValue>,
  ) as unknown as O & CommonOptions;
  def.check?.(options, where);
  return deepFreeze(options);
}

/** Sanity check of a definition's own declarations, so a mistake in a new optimizer fails at import. */
export function defineOptimizer<O extends object>(def: OptimizerDefinition<O>): OptimizerDefinition<O> {
  for (const key of Object.keys(commonSchema)) {
    if (key in def.schema) throw new Error(`${def.name}: option "${key}" is common to every optimizer; do not redeclare it`);
  }
  if (!/^[a-z][A-Za-z0-9]*$/.test(def.name)) throw new Error(`optimizer name ${show(def.name)} must be camelCase`);
  return Object.freeze(def);
}
