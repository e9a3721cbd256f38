import { opt } from '../options.js';
import { makeTransformSpec, unitLayout, type TransformDefinition, type TransformSpec } from './transform.js';

/** Options of {@link adaptiveClip}; names and defaults as the AGC of the NFNet paper's code. */
export interface AdaptiveClipOptions {
  /** Clipping threshold λ: the largest allowed ratio ‖g‖ / max(‖θ‖, ε) of every unit. Default 0.01. */
  readonly clipping: number;
  /** Floor ε of the parameter norm, so that units initialised at zero can still move. Default 1e-3. */
  readonly eps: number;
}

/**
 * Adaptive gradient clipping (AGC): Brock, De, Smith & Simonyan, "High-Performance Large-Scale Image
 * Recognition Without Normalization" (ICML 2021), eq. 3. Unit-wise: a parameter of two or more dimensions is
 * viewed as a (shape[0], −1) matrix and each row (an output unit in PyTorch's weight layout) is clipped on its
 * own; a vector or scalar is one unit. With ‖·‖ the Frobenius norm of a unit's parameter θ and gradient g:
 *
 * $$
 * M = \lambda \max(\lVert\theta\rVert, \varepsilon), \qquad
 * g \leftarrow \begin{cases} g & \lVert g\rVert < M \\ g \, \dfrac{M}{\max(\lVert g\rVert, 10^{-6})} & \text{otherwise} \end{cases}
 * $$
 *
 * This is the formula of `timm.utils.agc.adaptive_clip_grad` (PyTorch weight layout, output dimension first),
 * which is also that of the paper's own JAX code (`nfnets/optim.py`, `AGC`): the paper's eq. 3 clips when
 * ‖g‖/max(‖θ‖, ε) > λ, the code when ‖g‖ ≥ M, which agrees except exactly at the boundary, where the
 * scale is 1 up to rounding; the 1e-6 floor only guards a zero division that λ·ε > 1e-6 already rules out.
 * The paper's code views every tensor by its *last* dimension (JAX's HWIO layout); timm, and descent, by the
 * first. A NaN norm propagates to the unit (the comparison fails and the scale is NaN), as in timm. The
 * paper recommends not clipping the final linear layer: give it to a group without this transform, or
 * leave its gradient out of a second optimizer.
 *
 * Reads the current parameters; each tensor is handled on its own.
 */
export const adaptiveClipDefinition: TransformDefinition<AdaptiveClipOptions> = {
  name: 'adaptiveClip',
  title: 'Adaptive gradient clipping (AGC)',
  scope: 'tensor',
  schema: {
    clipping: opt.positive(0.01, 'Largest allowed ratio λ of unit gradient norm to unit parameter norm.'),
    eps: opt.nonNegative(1e-3, 'Floor ε of the unit parameter norm.'),
  },
  apply({ clipping: lambda, eps }, grads, params) {
    for (const [name, g] of grads) {
      const param = params.get(name)!;
      const theta = param.data;
      const { units, size } = unitLayout(param.shape);
      for (let u = 0; u < units; u++) {
        const start = u * size;
        let pp = 0;
        let gg = 0;
        for (let i = start; i < start + size; i++) {
          pp += (theta[i] as number) * (theta[i] as number);
          gg += (g[i] as number) * (g[i] as number);
        }
        const maxNorm = Math.max(Math.sqrt(pp), eps) * lambda;
        const gradNorm = Math.sqrt(gg);
        if (gradNorm < maxNorm) continue;
        const scale = maxNorm / Math.max(gradNorm, 1e-6);
        for (let i = start; i < start + size; i++) g[i] = (g[i] as number) * scale;
      }
    }
  },
};

/**
 * Adaptive gradient clipping, unit-wise against the parameter norm; see {@link adaptiveClipDefinition}.
 *
 * @example
 * ```ts
 * const spec = withTransforms(sgd({ lr: 0.1, momentum: 0.9 }), adaptiveClip({ clipping: 0.01 }));
 * ```
 */
export function adaptiveClip(options: Partial<AdaptiveClipOptions> = {}): TransformSpec {
  return makeTransformSpec(adaptiveClipDefinition, options);
}
