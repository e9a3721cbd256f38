import { defineOptimizer, makeSpec, type CommonOptions, type OptimizerSpec } from '../definition.js';
import { lerpTorch } from '../linalg/matrix.js';
import type { GroupConfig } from '../optimizer.js';
import { opt } from '../options.js';
import { entriesOf, type NamedTensors } from '../tensor.js';
import { matrixViewProblem } from '../linalg/matrix-view.js';
import { muonSchema, muonShapeProblem, muonUpdate, type MuonOptions } from './muon.js';
import { powInt } from '../math.js';

/** Which half of {@link muonWithAuxAdam} a group's parameters go to: `auto` sends ≥2-D ones to Muon, the rest to Adam. */
export type MuonUse = 'auto' | 'muon' | 'adam';

/** Options of {@link muonWithAuxAdam}: Muon's (as {@link muon}), the auxiliary Adam's, and the routing. */
export interface MuonWithAuxAdamOptions extends MuonOptions {
  /** Where this group's parameters go. Default `auto`: ≥2-D to Muon, 0-D and 1-D to Adam. */
  readonly use: MuonUse;
  /** Learning rate of the auxiliary Adam. Default 3e-4. */
  readonly adamLr: number;
  /** (β₁, β₂) of the auxiliary Adam. Default (0.9, 0.95). */
  readonly adamBetas: readonly [number, number];
  /** ε of the auxiliary Adam, added after the square root. Default 1e-10. */
  readonly adamEps: number;
  /** Decoupled weight decay λ of the auxiliary Adam: θ ← θ·(1 − η_A·λ). Default 0. */
  readonly adamWeightDecay: number;
}

/** The half of the optimizer a parameter of this shape goes to under `use`. */
export function muonRoute(use: MuonUse, shape: readonly number[]): 'muon' | 'adam' {
  if (use === 'auto') return shape.length >= 2 ? 'muon' : 'adam';
  return use;
}

/**
 * Whether a parameter name looks like an embedding or an output layer, which Keller Jordan says to train with
 * AdamW rather than Muon even though they are matrices: a dotted path segment (`.`, `/` or `:` separated) that
 * contains `embed` (`embed_tokens`, `tok_embeddings`, `word_embeddings`), or is `wte`, `wpe`, `lm_head`, `head`
 * or `classifier`, or a first segment `output` (Llama's `output.weight`; an inner `attention.output.dense` is not
 * matched).
 */
export function isEmbeddingOrHead(name: string): boolean {
  const segments = name.split(/[./:]/);
  if (segments[0] === 'output') return true;
  return segments.some((s) => s.includes('embed') || s === 'wte' || s === 'wpe' || s === 'lm_head' || s === 'head' || s === 'classifier');
}

/** A parameter's shape, or anything with a `shape` (a tensor). */
export type MuonRoutingShape = readonly number[] | { readonly shape: readonly number[] };

/** What {@link muonRouting} needs besides the parameters. */
export interface MuonRoutingRules {
  /** Parameters to train with Adam whatever their shape. Default {@link isEmbeddingOrHead}. */
  readonly adam?: (name: string, shape: readonly number[]) => boolean;
  /** Options of the Muon group (e.g. `{ lr: 0.05 }`). */
  readonly muonOptions?: Partial<MuonWithAuxAdamOptions>;
  /** Options of the Adam group (e.g. `{ adamLr: 0.008 }`). */
  readonly adamOptions?: Partial<MuonWithAuxAdamOptions>;
}

/**
 * Builds the param groups of {@link muonWithAuxAdam} from parameter names and shapes, as Keller Jordan's README
 * builds them by hand: parameters the `adam` rule selects (by default embeddings and the output layer, see
 * {@link isEmbeddingOrHead}) and every parameter with fewer than 2 dimensions go to an Adam group (`use: "adam"`),
 * the other matrices to a Muon group (`use: "muon"`). An empty group is left out.
 *
 * @example
 * ```ts
 * const params = { 'wte.weight': tensor(new Float64Array(32), [8, 4]), 'h.0.mlp.weight': tensor(new Float64Array(16), [4, 4]) };
 * const groups = muonRouting(params, { adam: (name) => /embed|wte|head|output/.test(name) });
 * const opt = createReference(muonWithAuxAdam(), params, { groups });
 * ```
 */
export function muonRouting(
  params: NamedTensors<MuonRoutingShape>,
  rules: MuonRoutingRules = {},
): Array<GroupConfig<MuonWithAuxAdamOptions>> {
  const toAdam = rules.adam ?? isEmbeddingOrHead;
  const adam: string[] = [];
  const muonNames: string[] = [];
  for (const [name, value] of entriesOf(params, 'muonRouting: parameters')) {
    const shape = Array.isArray(value) ? (value as readonly number[]) : (value as { readonly shape: readonly number[] }).shape;
    (shape.length < 2 || toAdam(name, shape) ? adam : muonNames).push(name);
  }
  const groups: Array<GroupConfig<MuonWithAuxAdamOptions>> = [];
  if (adam.length > 0) groups.push({ params: adam, options: { ...rules.adamOptions, use: 'adam' } });
  if (muonNames.length > 0) groups.push({ params: muonNames, options: { ...rules.muonOptions, use: 'muon' } });
  return groups;
}

/**
 * Muon for the hidden matrices and Adam for everything else, in one optimizer: Keller Jordan's
 * `SingleDeviceMuonWithAuxAdam` (github.com/KellerJordan/Muon, muon.py), which the seeds quote. Each parameter
 * goes to one half by its group's `use` option (`auto`: ≥2-D to Muon, the rest to Adam); name-based routing
 * (embeddings and the output layer to Adam) is param groups, which {@link muonRouting} builds.
 *
 * Muon half: exactly {@link muon} (momentum, Nesterov blend, Newton–Schulz in Float64, shape scale, decoupled
 * weight decay with `lr` and `weightDecay`). Adam half: Keller's `adam_update`, with gradient g_t and step t of
 * the parameter,
 *
 * $$
 * \begin{aligned}
 * m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t, \qquad v_t = \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 \\
 * \theta_t &= \theta_{t-1}\,(1-\eta_A\lambda_A) - \eta_A\, \frac{m_t/(1-\beta_1^t)}{\sqrt{v_t/(1-\beta_2^t)} + \epsilon}
 * \end{aligned}
 * $$
 *
 * with η_A = `adamLr`, (β₁, β₂) = `adamBetas`, ε = `adamEps` (added after the square root of the bias-corrected
 * v, as Keller's code and `torch.optim.AdamW` do), λ_A = `adamWeightDecay` (decoupled, AdamW-style). Defaults are
 * Keller's: lr 0.02, momentum 0.95; adamLr 3e-4, adamBetas (0.9, 0.95), adamEps 1e-10; both weight decays 0.
 *
 * Keller's class takes no Nesterov switch or Newton–Schulz options; here they are Muon's, with the same
 * defaults, and so is `matrixView` (the row axes of the Muon half's matrices; the Adam half ignores it). A
 * missing gradient skips the parameter (Keller's steps it with a zero gradient). The routing of a parameter is
 * fixed once the optimizer is created (changing `use` would change its state layout).
 *
 * State: `momentumBuffer` for Muon parameters; `expAvg` (m) and `expAvgSq` (v) for Adam parameters.
 */
export const muonWithAuxAdamDefinition = defineOptimizer<MuonWithAuxAdamOptions>({
  name: 'muonWithAuxAdam',
  title: 'Muon with auxiliary Adam',
  kind: 'matrix',
  // Both halves' learning rates follow a schedule, as a PyTorch scheduler scales every group's lr in Keller's
  // optimizer (whose Muon and Adam groups each have their own lr).
  lrOptions: ['lr', 'adamLr'],
  schema: {
    use: opt.oneOf(['auto', 'muon', 'adam'], 'auto', 'Route of the group: "auto" (≥2-D to Muon, the rest to Adam), "muon" or "adam".'),
    ...muonSchema,
    adamLr: opt.nonNegative(3e-4, 'Learning rate of the auxiliary Adam.'),
    adamBetas: opt.betas([0.9, 0.95], 'Decay rates (β₁, β₂) of the auxiliary Adam.'),
    adamEps: opt.nonNegative(1e-10, 'ε of the auxiliary Adam, added after the square root.'),
    adamWeightDecay: opt.nonNegative(0, 'Decoupled weight decay of the auxiliary Adam.'),
  },
  rejectShape(shape, o) {
    if (o.use === 'muon') {
      const problem = muonShapeProblem(shape);
      if (problem) return `its group has use: "muon", but ${problem}; give it use: "adam" or "auto"`;
    }
    return muonRoute(o.use, shape) === 'muon' ? matrixViewProblem(o.matrixView, shape) : undefined;
  },
  slots: (o, shape) =>
    muonRoute(o.use, shape) === 'muon'
      ? [{ name: 'momentumBuffer', shape }]
      : [
          { name: 'expAvg', shape },
          { name: 'expAvgSq', shape },
        ],
  update({ options: o, shape, param: theta, grad, slots, step: t }) {
    if (muonRoute(o.use, shape) === 'muon') {
      const update = muonUpdate(o, shape, grad, slots.momentumBuffer as Float64Array);
      const decay = 1 - o.lr * o.weightDecay;
      for (let i = 0; i < theta.length; i++) theta[i] = (theta[i] as number) * decay - o.lr * (update[i] as number);
      return;
    }
    const [beta1, beta2] = o.adamBetas;
    const { adamLr: lr, adamEps: eps, adamWeightDecay: lambda } = o;
    const m = slots.expAvg as Float64Array;
    const v = slots.expAvgSq as Float64Array;
    const biasCorrection1 = 1 - powInt(beta1, t);
    const biasCorrection2 = 1 - powInt(beta2, t);
    const decay = 1 - lr * lambda;
    for (let i = 0; i < theta.length; i++) {
      const g = grad[i] as number;
      m[i] = lerpTorch(m[i] as number, g, 1 - beta1);
      v[i] = lerpTorch(v[i] as number, g * g, 1 - beta2);
      const update = (m[i] as number) / biasCorrection1 / (Math.sqrt((v[i] as number) / biasCorrection2) + eps);
      theta[i] = (theta[i] as number) * decay - lr * update;
    }
  },
});

/**
 * Creates a spec of Muon with auxiliary Adam; see {@link muonWithAuxAdamDefinition}. With no groups, `auto`
 * routing trains every ≥2-D parameter with Muon and the rest with Adam; {@link muonRouting} also sends
 * embeddings and the output layer to Adam.
 *
 * @example
 * ```ts
 * const params = { 'embed.weight': tensor(new Float64Array(32), [8, 4]), 'h.weight': tensor(new Float64Array(16), [4, 4]), 'h.bias': tensor([0, 0, 0, 0]) };
 * const spec = muonWithAuxAdam({ lr: 0.05, adamLr: 3e-4 });
 * const opt = createReference(spec, params, { groups: muonRouting(params) });  // h.weight → Muon, the rest → Adam
 * ```
 */
export function muonWithAuxAdam(options?: Partial<MuonWithAuxAdamOptions & CommonOptions>): OptimizerSpec<MuonWithAuxAdamOptions> {
  return makeSpec(muonWithAuxAdamDefinition, options);
}
