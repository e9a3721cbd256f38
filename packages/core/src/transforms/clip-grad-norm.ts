import { OptionError, show } from '../errors.js';
import { opt, type OptionValue } from '../options.js';
import { makeTransformSpec, type TransformDefinition, type TransformSpec } from './transform.js';

/** Options of {@link clipGradNorm}; names and defaults as `torch.nn.utils.clip_grad_norm_`. */
export interface ClipGradNormOptions {
  /** Largest allowed norm of all gradients taken together. Required. */
  readonly maxNorm: number;
  /**
   * Order p of the norm: a number > 0, or `"inf"` for the max-norm (`Infinity` is accepted by the factory and
   * stored as `"inf"`, since JSON has no infinity). Default 2.
   */
  readonly normType: number | 'inf';
}

function parseNormType(value: unknown, where: string, key: string): OptionValue {
  if (value === undefined) return 2;
  if (value === 'inf') return 'inf';
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return value;
  const hint = value === Infinity ? ' (write "inf": JSON has no Infinity)' : '';
  throw new OptionError(`${where}: option "${key}" must be a number in (0, ∞) or "inf", got ${show(value)}${hint}`);
}

/**
 * Clips the global norm of all gradients present this step, as `torch.nn.utils.clip_grad_norm_` in PyTorch 2.x
 * (`error_if_nonfinite=False`; `foreach` changes nothing but speed):
 *
 * $$
 * N = \Big\lVert \big(\lVert g_1 \rVert_p, \ldots, \lVert g_k \rVert_p\big) \Big\rVert_p, \qquad
 * c = \min\!\Big(\frac{\text{maxNorm}}{N + 10^{-6}},\, 1\Big), \qquad g_i \leftarrow c\, g_i
 * $$
 *
 * PyTorch takes each tensor's p-norm, then the p-norm of those norms; with p = ∞ (`normType: "inf"`), N is the
 * largest |g|. The 1e-6 guards N = 0, as in PyTorch. PyTorch always multiplies by c, also when c = 1; skipping
 * that multiplication gives the same numbers. A NaN or infinite N propagates, as in PyTorch (with N = ∞ the
 * coefficient is 0, so infinite entries become NaN and the others 0); use the optimizer's `nonFinite` policy to
 * act on non-finite gradients.
 */
export const clipGradNormDefinition: TransformDefinition<ClipGradNormOptions> = {
  name: 'clipGradNorm',
  title: 'Clip by global norm',
  scope: 'global',
  schema: {
    maxNorm: opt.nonNegative(1, 'Largest allowed global norm.'),
  },
  required: ['maxNorm'],
  extraOptions: { normType: parseNormType },
  apply({ maxNorm, normType }, grads) {
    // PyTorch takes each tensor's p-norm, then the p-norm of the stacked norms.
    let total = 0;
    if (normType === 'inf') {
      for (const g of grads.values()) for (let i = 0; i < g.length; i++) total = Math.max(total, Math.abs(g[i] as number));
    } else if (normType === 2) {
      for (const g of grads.values()) {
        let s = 0;
        for (let i = 0; i < g.length; i++) s += (g[i] as number) * (g[i] as number);
        const norm = Math.sqrt(s);
        total += norm * norm;
      }
      total = Math.sqrt(total);
    } else {
      const p = normType;
      for (const g of grads.values()) {
        let s = 0;
        for (let i = 0; i < g.length; i++) s += Math.abs(g[i] as number) ** p;
        total += (s ** (1 / p)) ** p;
      }
      total = total ** (1 / p);
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
 * const maxAbs = clipGradNorm({ maxNorm: 1, normType: 'inf' });
 * ```
 */
export function clipGradNorm(options: Partial<ClipGradNormOptions> & { maxNorm: number }): TransformSpec {
  const given = options !== null && typeof options === 'object' && options.normType === Infinity ? { ...options, normType: 'inf' } : options;
  return makeTransformSpec(clipGradNormDefinition, given);
}
