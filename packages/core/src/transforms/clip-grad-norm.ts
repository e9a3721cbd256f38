import { opt } from '../options.js';
import { makeTransformSpec, type TransformDefinition, type TransformSpec } from './transform.js';

/** Options of {@link clipGradNorm}; names and defaults as `torch.nn.utils.clip_grad_norm_`. */
export interface ClipGradNormOptions {
  /** Largest allowed norm of all gradients taken together. */
  readonly maxNorm: number;
  /** Order p of the norm (`Infinity` for the max-norm). Default 2. */
  readonly normType: number;
}

/**
 * Clips the global norm of all gradients present this step, as `torch.nn.utils.clip_grad_norm_`
 * (foreach = False, error_if_nonfinite = False):
 *
 * $$
 * N = \Big(\sum_{\text{params}} \lVert g \rVert_p^p\Big)^{1/p}, \qquad
 * c = \min\!\Big(\frac{\text{maxNorm}}{N + 10^{-6}},\, 1\Big), \qquad g \leftarrow c\, g
 * $$
 *
 * The 1e-6 guards N = 0, as in PyTorch. With p = ∞, N is the largest |g|. A NaN or infinite N propagates,
 * as in PyTorch; use the optimizer's `nonFinite` policy to act on non-finite gradients.
 */
export const clipGradNormDefinition: TransformDefinition<ClipGradNormOptions> = {
  name: 'clipGradNorm',
  title: 'Clip by global norm',
  scope: 'global',
  schema: {
    maxNorm: opt.nonNegative(1, 'Largest allowed global norm.'),
    normType: opt.number(2, 'Order p of the norm.', { min: { value: 0, open: true } }),
  },
  apply({ maxNorm, normType: p }, grads) {
    let total: number;
    if (p === Infinity) {
      total = 0;
      for (const g of grads.values()) for (let i = 0; i < g.length; i++) total = Math.max(total, Math.abs(g[i] as number));
    } else {
      // PyTorch takes each tensor's p-norm, then the p-norm of those norms.
      let sum = 0;
      for (const g of grads.values()) {
        let s = 0;
        for (let i = 0; i < g.length; i++) s += Math.abs(g[i] as number) ** p;
        sum += (s ** (1 / p)) ** p;
      }
      total = sum ** (1 / p);
    }
    const coef = Math.min(maxNorm / (total + 1e-6), 1);
    if (coef === 1) return;
    for (const g of grads.values()) for (let i = 0; i < g.length; i++) g[i] = (g[i] as number) * coef;
  },
};

/**
 * Clip all gradients together to a largest global norm; see {@link clipGradNormDefinition}.
 *
 * @example
 * ```ts
 * const spec = withTransforms(adam({ lr: 1e-3 }), clipGradNorm({ maxNorm: 1 }));
 * ```
 */
export function clipGradNorm(options: Partial<ClipGradNormOptions> & { maxNorm: number }): TransformSpec {
  return makeTransformSpec(clipGradNormDefinition, options);
}
