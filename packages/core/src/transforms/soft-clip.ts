import { opt } from '../options.js';
import { makeTransformSpec, unitLayout, type TransformDefinition, type TransformSpec } from './transform.js';

/** Options of {@link softClip}; the name and default of the seed's `epsilon`. */
export interface SoftClipOptions {
  /** Floor ε of both root-mean-squares, guarding zero parameters and zero gradients. Default 1e-12. */
  readonly eps: number;
}

/**
 * Soft gradient clipping: caps each unit's gradient root-mean-square at its parameter root-mean-square, so
 * that one step cannot change a unit by more than its own scale (times the learning rate). This follows the
 * `_soft_clip(grad, var, epsilon=1e-12)` of the project's seed write-up 003 (section 5.5, "梯度软裁剪"), which
 * reduces over every dimension but the first: a parameter of two or more dimensions is viewed as a
 * (shape[0], −1) matrix and each row is a unit; a vector or scalar is one unit. With n the unit's size:
 *
 * $$
 * r_\theta = \max\Big(\sqrt{\tfrac{1}{n}\textstyle\sum \theta_i^2},\, \varepsilon\Big), \qquad
 * r_g = \max\Big(\sqrt{\tfrac{1}{n}\textstyle\sum g_i^2},\, \varepsilon\Big), \qquad
 * g \leftarrow g \cdot \frac{\min(r_g, r_\theta)}{r_g}
 * $$
 *
 * A unit whose gradient RMS is already at most the parameter RMS is unchanged (the factor is exactly 1). As in
 * the seed's PyTorch code, a NaN in either RMS propagates to the whole unit. Reads the current parameters;
 * each tensor is handled on its own.
 */
export const softClipDefinition: TransformDefinition<SoftClipOptions> = {
  name: 'softClip',
  title: 'Soft clipping to the parameter RMS',
  scope: 'tensor',
  schema: {
    eps: opt.positive(1e-12, 'Floor ε of the parameter and gradient root-mean-squares.'),
  },
  apply({ eps }, grads, params) {
    for (const [name, g] of grads) {
      const param = params.get(name)!;
      const theta = param.data;
      const { units, size } = unitLayout(param.shape);
      if (size === 0) continue;
      for (let u = 0; u < units; u++) {
        const start = u * size;
        let pp = 0;
        let gg = 0;
        for (let i = start; i < start + size; i++) {
          pp += (theta[i] as number) * (theta[i] as number);
          gg += (g[i] as number) * (g[i] as number);
        }
        const paramRms = Math.max(Math.sqrt(pp / size), eps);
        const gradRms = Math.max(Math.sqrt(gg / size), eps);
        const scale = Math.min(gradRms, paramRms) / gradRms;
        if (scale === 1) continue;
        for (let i = start; i < start + size; i++) g[i] = (g[i] as number) * scale;
      }
    }
  },
};

/**
 * Soft clipping of each unit's gradient RMS to its parameter RMS; see {@link softClipDefinition}.
 *
 * @example
 * ```ts
 * const spec = withTransforms(adamw({ lr: 1e-3 }), softClip());
 * ```
 */
export function softClip(options: Partial<SoftClipOptions> = {}): TransformSpec {
  return makeTransformSpec(softClipDefinition, options);
}
