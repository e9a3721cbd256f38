import { defineOptimizer, makeSpec, type CommonOptions, type OptimizerSpec } from '../definition.js';
import { opt } from '../options.js';

/** Options of {@link nag}. PyTorch has no separate NAG optimizer; names follow `torch.optim.SGD`'s. */
export interface NagOptions {
  /** Learning rate η. Default 1e-3. */
  readonly lr: number;
  /** Momentum factor γ, in [0, 1). Default 0.9. With γ = 0 NAG is plain gradient descent. */
  readonly momentum: number;
  /**
   * L2 penalty λ added to the gradient. Default 0. The penalty is taken at the look-ahead point, λ·(θ − γv),
   * where the gradient itself is evaluated: NAG then runs exactly on the regularized objective J(θ) + ½λ‖θ‖².
   */
  readonly weightDecay: number;
  /** Maximize the objective instead of minimizing it. Default false. */
  readonly maximize: boolean;
}

/**
 * Nesterov accelerated gradient in its look-ahead form (Nesterov 1983; Sutskever et al., "On the importance
 * of initialization and momentum in deep learning", ICML 2013), as written in the overview seed: the gradient
 * is evaluated at the point the momentum is about to carry the parameters to, and the velocity corrects there.
 *
 * With φ_{t−1} = θ_{t−1} − γ v_{t−1} the look-ahead point and g_t = ∇J(φ_{t−1}) (negated when `maximize`):
 *
 * $$
 * \begin{aligned}
 * g_t &\leftarrow g_t + \lambda\,\varphi_{t-1}, \qquad \varphi_{t-1} = \theta_{t-1} - \gamma\, v_{t-1} \\
 * v_t &= \gamma\, v_{t-1} + \eta\, g_t \\
 * \theta_t &= \theta_{t-1} - v_t
 * \end{aligned}
 * $$
 *
 * with v₀ = 0. **Where the gradient comes from.** The definition has an `evaluationPoint`, so
 * `step(closure)` hands the closure the look-ahead point φ = θ − γv (not θ) and uses the gradient it returns.
 * `step(grads)` takes `grads` to have been evaluated at φ by the caller (read φ as θ − γ·`velocity` from the
 * state). Gradients taken at θ instead turn this update into classical (heavy-ball) momentum,
 * v_t = γ v_{t−1} + η ∇J(θ_{t−1}). A training loop that can only differentiate at the stored parameters should
 * use `sgd({ nesterov: true })`, which is this method with the look-ahead point as the stored parameters.
 *
 * **Equivalence with PyTorch's Nesterov SGD.** Substitute φ_t = θ_t − γ v_t and b_t = v_t / η. Then
 *
 * $$
 * \begin{aligned}
 * \varphi_t &= \theta_{t-1} - v_t - \gamma v_t
 *   = \varphi_{t-1} + \gamma v_{t-1} - v_t - \gamma v_t
 *   = \varphi_{t-1} - \eta g_t - \gamma v_t \quad (\text{using } v_t - \gamma v_{t-1} = \eta g_t) \\
 *   &= \varphi_{t-1} - \eta\,(g_t + \gamma\, b_t), \qquad b_t = \gamma\, b_{t-1} + g_t, \quad g_t = \nabla J(\varphi_{t-1}),
 * \end{aligned}
 * $$
 *
 * which is `torch.optim.SGD(nesterov=True, momentum=γ, dampening=0, lr=η)` run on the parameters φ, with its
 * `momentum_buffer` b (b₁ = g₁ matches b₀ = v₀/η = 0, and φ₀ = θ₀). The weight-decay term λφ_{t−1} is the
 * λ·param that SGD adds, so the equivalence holds with weight decay too. NAG's θ are SGD's parameters plus γηb.
 *
 * State: `velocity` (v), in parameter units (v = η·b).
 */
export const nagDefinition = defineOptimizer<NagOptions>({
  name: 'nag',
  title: 'NAG',
  kind: 'elementwise',
  schema: {
    lr: opt.nonNegative(1e-3, 'Learning rate η.'),
    momentum: opt.unitHalfOpen(0.9, 'Momentum factor γ, in [0, 1).'),
    weightDecay: opt.nonNegative(0, 'L2 penalty λ added to the gradient, taken at the look-ahead point θ − γv.'),
    maximize: opt.flag(false, 'Maximize the objective.'),
  },
  slots: (_o, shape) => [{ name: 'velocity', shape }],
  evaluationPoint({ options: o, param: theta, slots }, out) {
    const gamma = o.momentum;
    const v = slots.velocity as Float64Array;
    for (let i = 0; i < theta.length; i++) out[i] = (theta[i] as number) - gamma * (v[i] as number);
  },
  update({ options: o, param: theta, grad, slots }) {
    const { lr, momentum: gamma, weightDecay: lambda, maximize } = o;
    const v = slots.velocity as Float64Array;
    for (let i = 0; i < theta.length; i++) {
      let g = maximize ? -(grad[i] as number) : (grad[i] as number);
      if (lambda !== 0) g = g + lambda * ((theta[i] as number) - gamma * (v[i] as number));
      v[i] = gamma * (v[i] as number) + lr * g;
      theta[i] = (theta[i] as number) - (v[i] as number);
    }
  },
});

/**
 * Creates a NAG spec; see {@link nagDefinition} for the update rule and where gradients must be evaluated.
 *
 * @example
 * ```ts
 * const w = tensor([1, -2]);
 * const opt = createReference(nag({ lr: 0.01, momentum: 0.9 }), { w });
 * // f(x) = ½‖x‖²: the closure receives the look-ahead point θ − γv and returns the gradient there.
 * opt.step((point) => ({ w: tensor(point.get('w')!.data.slice()) }));
 * ```
 */
export function nag(options?: Partial<NagOptions & CommonOptions>): OptimizerSpec<NagOptions> {
  return makeSpec(nagDefinition, options);
}
