import { defineOptimizer, makeSpec, type CommonOptions, type OptimizerSpec } from '../definition.js';
import { opt } from '../options.js';
import { PYTORCH_VIEW } from '../linalg/matrix-view.js';
import { muonUpdate, type MuonAdjustLr, type MuonOptions } from './muon.js';

/** Options of {@link muonTorch}: `torch.optim.Muon`'s, in camelCase, with its defaults. */
export interface MuonTorchOptions {
  /** Learning rate γ. Default 1e-3 (PyTorch's). */
  readonly lr: number;
  /** Decoupled weight decay λ: θ ← θ − γλθ. Default 0.1 (PyTorch's). */
  readonly weightDecay: number;
  /** Momentum μ of the buffer B ← lerp(B, g, 1 − μ) = μ·B + (1 − μ)·g. Default 0.95. */
  readonly momentum: number;
  /** Orthogonalize lerp(g, B, μ) = (1 − μ)·g + μ·B instead of B. Default true. */
  readonly nesterov: boolean;
  /** Newton–Schulz coefficient a of `ns_coefficients` (a, b, c). Default 3.4445. */
  readonly nsA: number;
  /** Newton–Schulz coefficient b of `ns_coefficients`. Default −4.775. */
  readonly nsB: number;
  /** Newton–Schulz coefficient c of `ns_coefficients`. Default 2.0315. */
  readonly nsC: number;
  /** ε of the normalisation X₀ = U / max(‖U‖_F, ε). Default 1e-7. */
  readonly eps: number;
  /** Number of Newton–Schulz steps (PyTorch refuses 100 or more). Default 5. */
  readonly nsSteps: number;
  /** `adjust_lr_fn`: `original` √max(1, A/B) or `matchRmsAdamw` 0.2·√max(A, B) (PyTorch's `match_rms_adamw`). Default `original` (PyTorch's `None`). */
  readonly adjustLrFn: MuonAdjustLr;
}

const muonTorchSchema = {
  lr: opt.nonNegative(1e-3, 'Learning rate γ.'),
  weightDecay: opt.nonNegative(0.1, 'Decoupled weight decay λ: θ ← θ − γλθ.'),
  momentum: opt.unitHalfOpen(0.95, 'Momentum μ of the buffer B ← μ·B + (1 − μ)·g (torch.lerp).'),
  nesterov: opt.flag(true, 'Orthogonalize (1 − μ)·g + μ·B instead of B.'),
  nsA: opt.number(3.4445, 'Newton–Schulz coefficient a of ns_coefficients (a, b, c).'),
  nsB: opt.number(-4.775, 'Newton–Schulz coefficient b of ns_coefficients (a, b, c).'),
  nsC: opt.number(2.0315, 'Newton–Schulz coefficient c of ns_coefficients (a, b, c).'),
  eps: opt.nonNegative(1e-7, 'ε of the normalisation U / max(‖U‖_F, ε) before Newton–Schulz.'),
  nsSteps: { type: 'number', default: 5, min: { value: 1 }, max: { value: 99 }, integer: true, doc: 'Number of Newton–Schulz steps (PyTorch refuses 100 or more).' },
  adjustLrFn: opt.oneOf(['original', 'matchRmsAdamw'], 'original', 'adjust_lr_fn: "original" √max(1, A/B), "matchRmsAdamw" 0.2·√max(A, B).'),
} as const;

/** The {@link MuonOptions} that {@link muonTorch}'s options amount to (with `clamp` normalisation). */
export function muonTorchAsMuon(o: MuonTorchOptions): MuonOptions {
  return {
    lr: o.lr,
    momentum: o.momentum,
    nesterov: o.nesterov,
    weightDecay: o.weightDecay,
    nsA: o.nsA,
    nsB: o.nsB,
    nsC: o.nsC,
    nsSteps: o.nsSteps,
    nsEps: o.eps,
    adjustLr: o.adjustLrFn,
    // torch.optim.Muon takes 2-D parameters only, laid out as PyTorch's [out, in].
    matrixView: PYTORCH_VIEW,
  };
}

/**
 * Muon as PyTorch's `torch.optim.Muon` (PyTorch 2.9, torch/optim/_muon.py, `_single_tensor_muon`; read at
 * commit b5ee4d7a797023e11507aea90811559872ce8ff6 of pytorch/pytorch, unchanged in 098e03f91de9 apart from the
 * later `use_addmm` switch), after Keller Jordan et al., "Muon: An optimizer for hidden layers in neural
 * networks" (2024, kellerjordan.github.io/posts/muon) and Liu et al., "Muon is Scalable for LLM Training"
 * (arXiv 2502.16982) for `match_rms_adamw`. Option names, defaults (lr 1e-3, weight decay 0.1), order of
 * operations and shape rules are PyTorch's. For an A × B parameter with gradient g_t:
 *
 * $$
 * \begin{aligned}
 * B_t &= \operatorname{lerp}(B_{t-1}, g_t, 1-\mu) = \mu B_{t-1} + (1-\mu)\, g_t \\
 * U_t &= \begin{cases} \operatorname{lerp}(g_t, B_t, \mu) = (1-\mu)\, g_t + \mu B_t & \text{nesterov} \\ B_t & \text{otherwise} \end{cases} \\
 * X_0 &= U_t / \max(\lVert U_t\rVert_F, \varepsilon), \qquad X_{j+1} = a X_j + (b A_j + c A_j^2) X_j,\ A_j = X_j X_j^\top,\qquad O_t = X_k \\
 * \theta_t &= \theta_{t-1}\,(1-\gamma\lambda) - \gamma\, s\, O_t, \qquad
 *   s = \begin{cases} \sqrt{\max(1, A/B)} & \texttt{original} \\ 0.2\sqrt{\max(A, B)} & \texttt{matchRmsAdamw} \end{cases}
 * \end{aligned}
 * $$
 *
 * (Newton–Schulz on the transpose when A > B, as PyTorch.)
 *
 * **Which formulation.** PyTorch's docstring writes the momentum as B_t = μB_{t−1} + g_t and the Nesterov blend
 * as g_t + μB_t, but its code (both commits above) runs `buf.lerp_(grad, 1 - momentum)` and
 * `grad.lerp(buf, momentum)`: Keller Jordan's exponential moving average. This follows the code. The two forms
 * differ by the constant factor 1/(1 − μ) in B and U (with B₀ = 0), which the normalisation X₀ = U/‖U‖_F removes,
 * so the parameters differ only where ‖U‖_F is near ε; the exported `momentumBuffer` is the EMA.
 *
 * How this differs from {@link muon} (Keller Jordan's `SingleDeviceMuon`, same momentum): PyTorch's defaults
 * and option names (`eps`, `adjustLrFn`), the normalisation max(‖U‖_F, ε) instead of ‖U‖_F + ε, and only 2-D
 * parameters. Both decay the weights decoupled, θ(1 − γλ) with the unscaled γ, so "MuonW" (Muon with decoupled
 * weight decay) is either of them with `weightDecay` > 0, not another optimizer.
 *
 * - **Precision.** Newton–Schulz runs in Float64 here; PyTorch runs it in bfloat16, so the two agree to about
 *   bfloat16's precision, not bit for bit. The golden fixtures transcribe `_single_tensor_muon` in float64.
 * - **Coefficients.** `ns_coefficients` (a, b, c) is three options `nsA`, `nsB`, `nsC`, as in {@link muon}.
 * - **Missing gradients** skip the parameter, as in PyTorch.
 *
 * State: `momentumBuffer` (B), shaped like the parameter.
 */
export const muonTorchDefinition = defineOptimizer<MuonTorchOptions>({
  name: 'muonTorch',
  title: 'Muon (torch.optim)',
  kind: 'matrix',
  schema: muonTorchSchema,
  rejectShape(shape) {
    if (shape.length === 2) return undefined;
    return `torch.optim.Muon only supports 2D parameters, got ${shape.length} dimensions; reshape the parameter to 2-D, use muon (which views it as (shape[0], -1)), or optimize it with AdamW`;
  },
  slots: (_o, shape) => [{ name: 'momentumBuffer', shape }],
  update({ options: o, shape, param: theta, grad, slots }) {
    const update = muonUpdate(muonTorchAsMuon(o), shape, grad, slots.momentumBuffer as Float64Array, 'clamp');
    const decay = 1 - o.lr * o.weightDecay;
    for (let i = 0; i < theta.length; i++) theta[i] = (theta[i] as number) * decay - o.lr * (update[i] as number);
  },
});

/**
 * Creates a `torch.optim.Muon` spec; see {@link muonTorchDefinition} for the update rule. Only 2-D parameters.
 *
 * @example
 * ```ts
 * const spec = muonTorch({ lr: 1e-3, weightDecay: 0.1, adjustLrFn: 'matchRmsAdamw' });
 * const opt = createReference(spec, { 'block.0.mlp.weight': tensor(new Float64Array(64 * 32), [64, 32]) });
 * ```
 */
export function muonTorch(options?: Partial<MuonTorchOptions & CommonOptions>): OptimizerSpec<MuonTorchOptions> {
  return makeSpec(muonTorchDefinition, options);
}
