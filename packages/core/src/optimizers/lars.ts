import { OptionError } from '../errors.js';
import { defineOptimizer, makeSpec, type CommonOptions, type OptimizerSpec } from '../definition.js';
import { opt } from '../options.js';

/** Options of {@link lars}; names as timm's `Lars` (camelCased, `trust_coeff` spelled out). */
export interface LarsOptions {
  /** Global learning rate γ. Default 1 (timm's default; LARS is run with large global rates). */
  readonly lr: number;
  /** Momentum factor μ. Default 0.9 (the paper's and optax's; timm defaults to 0). */
  readonly momentum: number;
  /** Dampening τ applied to the scaled gradient in the momentum buffer. Default 0. */
  readonly dampening: number;
  /** L2 penalty λ, added to the gradient after the trust ratio is computed. Default 0. */
  readonly weightDecay: number;
  /** Nesterov momentum (needs momentum > 0 and dampening 0). Default false. */
  readonly nesterov: boolean;
  /** Trust coefficient η of the local learning rate. Default 0.001. */
  readonly trustCoefficient: number;
  /** ε added to the denominator of the local learning rate. Default 1e-8. */
  readonly eps: number;
  /**
   * LARC clipping: replace r by min(r/γ, 1), so that the effective rate γ·r becomes min(r, γ) (r is then an
   * absolute rate, capped by the global one). Default false.
   */
  readonly trustClip: boolean;
  /**
   * Apply the trust ratio even where weightDecay is 0. Default true. timm's default is false, which leaves
   * groups without weight decay (typically biases and normalization weights) as plain SGD; set it to false to
   * reproduce that.
   */
  readonly alwaysAdapt: boolean;
}

/**
 * LARS, layer-wise adaptive rate scaling (You, Gitman & Ginsburg, "Large Batch Training of Convolutional
 * Networks", arXiv 1708.03888, 2017), following timm's `Lars` (huggingface/pytorch-image-models,
 * `timm/optim/lars.py`), which is NVIDIA Apex's LARC local rate fused with `torch.optim.SGD`'s momentum.
 * Each parameter tensor gets its own local rate from norms taken over the whole tensor (flattened).
 *
 * With gradient g_t of the loss at θ_{t−1}, trust coefficient η and global rate γ:
 *
 * $$
 * \begin{aligned}
 * r_t &= \begin{cases}
 *   \dfrac{\eta\,\lVert\theta_{t-1}\rVert}{\lVert g_t\rVert + \lambda\lVert\theta_{t-1}\rVert + \epsilon}
 *     & \lVert\theta_{t-1}\rVert > 0 \text{ and } \lVert g_t\rVert > 0 \\
 *   1 & \text{otherwise}
 * \end{cases} \\
 * r_t &\leftarrow \min(r_t/\gamma,\ 1) \quad \text{(trustClip only)} \\
 * d_t &= \begin{cases} r_t\,(g_t + \lambda\,\theta_{t-1}) & \lambda \ne 0 \text{ or alwaysAdapt} \\ g_t & \text{otherwise} \end{cases} \\
 * b_t &= \begin{cases} d_t & t = 1 \\ \mu\, b_{t-1} + (1-\tau)\, d_t & t > 1 \end{cases} \\
 * \theta_t &= \theta_{t-1} - \gamma \begin{cases} d_t + \mu\, b_t & \text{nesterov} \\ b_t & \text{otherwise (} d_t \text{ when } \mu = 0\text{)} \end{cases}
 * \end{aligned}
 * $$
 *
 * Away from the zero-norm cases and without weight decay the first step has length γ·η·‖θ‖ whatever the
 * gradient's scale.
 *
 * Differences: the paper writes the momentum as v ← μv + γ·r·(g + λθ), θ ← θ − v (γ inside the buffer); this
 * is PyTorch's form, γ outside, equal for a constant γ. Apex's LARC (its default `clip=True`, trust
 * coefficient 0.02) drops the weight decay term when a norm is 0; timm and this implementation keep it with
 * ratio 1, and clip only when `trustClip` is set. optax's `lars` instead takes the ratio η‖θ‖/(‖g + λθ‖ + ε)
 * and applies γ before the momentum trace. Defaults are timm's except `momentum` (0.9, as the paper and optax)
 * and `alwaysAdapt` (true, so that `lars()` always scales; timm's false adapts only groups with weight decay).
 * Like timm there is no `maximize` option.
 *
 * State: `momentumBuffer` (b) when μ ≠ 0.
 */
export const larsDefinition = defineOptimizer<LarsOptions>({
  name: 'lars',
  title: 'LARS',
  kind: 'tensor',
  schema: {
    lr: opt.nonNegative(1, 'Global learning rate γ.'),
    momentum: opt.nonNegative(0.9, 'Momentum factor μ.'),
    dampening: opt.number(0, 'Dampening τ of the momentum buffer.', { min: { value: 0 }, max: { value: 1 } }),
    weightDecay: opt.nonNegative(0, 'L2 penalty λ added to the gradient and to the local rate denominator.'),
    nesterov: opt.flag(false, 'Use Nesterov momentum.'),
    trustCoefficient: opt.nonNegative(0.001, 'Trust coefficient η of the local learning rate.'),
    eps: opt.nonNegative(1e-8, 'ε added to the denominator of the local learning rate.'),
    trustClip: opt.flag(false, 'LARC clipping of the local rate: min(r/γ, 1).'),
    alwaysAdapt: opt.flag(true, 'Apply the trust ratio even where weightDecay is 0.'),
  },
  check(o, where) {
    if (o.nesterov && (o.momentum <= 0 || o.dampening !== 0)) {
      throw new OptionError(`${where}: option "nesterov" requires momentum > 0 and dampening = 0, got momentum ${o.momentum} and dampening ${o.dampening}`);
    }
  },
  slots: (o, shape) => (o.momentum !== 0 ? [{ name: 'momentumBuffer', shape }] : []),
  update({ options: o, param: theta, grad, slots, step: t }) {
    const { lr, momentum: mu, dampening: tau, weightDecay: lambda, nesterov, trustCoefficient: eta, eps, trustClip, alwaysAdapt } = o;
    const b = slots.momentumBuffer;
    const adapt = lambda !== 0 || alwaysAdapt;

    // Local learning rate r from ‖θ_{t−1}‖ and ‖g_t‖, 1 when either is 0 (a NaN norm also gives 1, as timm's
    // `torch.where(norm > 0, …, 1)`).
    let r = 1;
    if (adapt) {
      let thetaSq = 0;
      let gSq = 0;
      for (let i = 0; i < theta.length; i++) {
        thetaSq += (theta[i] as number) * (theta[i] as number);
        gSq += (grad[i] as number) * (grad[i] as number);
      }
      const wNorm = Math.sqrt(thetaSq);
      const gNorm = Math.sqrt(gSq);
      if (wNorm > 0 && gNorm > 0) r = (eta * wNorm) / (gNorm + wNorm * lambda + eps);
      if (trustClip) r = Math.min(r / lr, 1);
    }

    for (let i = 0; i < theta.length; i++) {
      const g = grad[i] as number;
      const d = adapt ? (g + lambda * (theta[i] as number)) * r : g;
      let delta = d;
      if (b) {
        b[i] = t === 1 ? d : mu * (b[i] as number) + (1 - tau) * d;
        delta = nesterov ? d + mu * (b[i] as number) : (b[i] as number);
      }
      theta[i] = (theta[i] as number) - lr * delta;
    }
  },
});

/**
 * Creates a LARS spec; see {@link larsDefinition} for the update rule.
 *
 * @example
 * ```ts
 * const spec = lars({ lr: 4.8, weightDecay: 1e-6 });
 * ```
 */
export function lars(options?: Partial<LarsOptions & CommonOptions>): OptimizerSpec<LarsOptions> {
  return makeSpec(larsDefinition, options);
}
