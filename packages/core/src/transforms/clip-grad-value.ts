import { opt } from '../options.js';
import { makeTransformSpec, type TransformDefinition, type TransformSpec } from './transform.js';

/** Options of {@link clipGradValue}; the name as `torch.nn.utils.clip_grad_value_`'s `clip_value`. */
export interface ClipGradValueOptions {
  /** Bound c of every gradient element's magnitude. Required. */
  readonly clipValue: number;
}

/**
 * Clamps every gradient element into [−c, c], as `torch.nn.utils.clip_grad_value_` (PyTorch 2.x, which calls
 * `clamp_(min=-c, max=c)` on each gradient):
 *
 * $$
 * g_i \leftarrow \min\big(\max(g_i, -c),\, c\big)
 * $$
 *
 * Each element on its own, so the transform works one tensor at a time. NaN stays NaN (as `torch.clamp`);
 * ±∞ becomes ±c.
 */
export const clipGradValueDefinition: TransformDefinition<ClipGradValueOptions> = {
  name: 'clipGradValue',
  title: 'Clip by value',
  scope: 'tensor',
  schema: {
    clipValue: opt.nonNegative(1, 'Largest allowed magnitude of a gradient element.'),
  },
  required: ['clipValue'],
  apply({ clipValue: c }, grads) {
    for (const g of grads.values()) {
      for (let i = 0; i < g.length; i++) g[i] = Math.min(Math.max(g[i] as number, -c), c);
    }
  },
};

/**
 * Clamp every gradient element into [−clipValue, clipValue]; see {@link clipGradValueDefinition}.
 *
 * @example
 * ```ts
 * const spec = withTransforms(sgd({ lr: 0.1 }), clipGradValue({ clipValue: 0.5 }));
 * ```
 */
export function clipGradValue(options: Partial<ClipGradValueOptions> & { clipValue: number }): TransformSpec {
  return makeTransformSpec(clipGradValueDefinition, options);
}
