import { opt } from '../options.js';
import { makeTransformSpec, unitLayout, type TransformDefinition, type TransformSpec } from './transform.js';

/** Options of {@link centralize}. */
export interface CentralizeOptions {
  /**
   * Centralize only gradients of four or more dimensions (convolution kernels): the paper's `GC_conv`
   * variant. Default false (the paper's `GC`: every gradient of two or more dimensions).
   */
  readonly convOnly: boolean;
}

/**
 * Gradient centralization: Yong, Huang, Hua & Zhang, "Gradient Centralization: A New Optimization Technique
 * for Deep Neural Networks" (ECCV 2020), eq. 4, as in the authors' PyTorch code, which subtracts from every
 * gradient of more than one dimension its mean over all dimensions but the first (`keepdim=True`). So a
 * gradient of two or more dimensions is viewed as a (shape[0], −1) matrix, and each row (the weight vector of
 * one output unit) has its mean removed:
 *
 * $$
 * g_{u,i} \leftarrow g_{u,i} - \frac{1}{n}\sum_{j=1}^{n} g_{u,j}
 * $$
 *
 * with n the row length. Vectors and scalars (biases, norm scales) are left unchanged; with `convOnly`, so is
 * everything of fewer than four dimensions. The mean is the sum divided by n, as `torch.mean` computes it.
 */
export const centralizeDefinition: TransformDefinition<CentralizeOptions> = {
  name: 'centralize',
  title: 'Gradient centralization',
  scope: 'tensor',
  schema: {
    convOnly: opt.flag(false, 'Centralize only gradients of four or more dimensions.'),
  },
  apply({ convOnly }, grads, params) {
    for (const [name, g] of grads) {
      const shape = params.get(name)!.shape;
      if (shape.length < (convOnly ? 4 : 2)) continue;
      const { units, size } = unitLayout(shape);
      for (let u = 0; u < units; u++) {
        const start = u * size;
        let sum = 0;
        for (let i = start; i < start + size; i++) sum += g[i] as number;
        const mean = sum / size;
        for (let i = start; i < start + size; i++) g[i] = (g[i] as number) - mean;
      }
    }
  },
};

/**
 * Gradient centralization: remove the mean of every output unit's gradient; see {@link centralizeDefinition}.
 *
 * @example
 * ```ts
 * const spec = withTransforms(sgd({ lr: 0.1, momentum: 0.9 }), centralize());
 * ```
 */
export function centralize(options: Partial<CentralizeOptions> = {}): TransformSpec {
  return makeTransformSpec(centralizeDefinition, options);
}
