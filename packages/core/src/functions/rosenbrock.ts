import { defineTestFunction } from './types.js';

/**
 * The Rosenbrock function ("banana valley"): a narrow curved valley whose floor falls slowly towards the
 * minimum, so optimizers must follow the valley instead of the steep walls.
 *
 * $$
 * f(x, y) = (1 - x)^2 + 100\,(y - x^2)^2, \qquad
 * \nabla f = \begin{pmatrix} -2(1 - x) - 400\,x\,(y - x^2) \\ 200\,(y - x^2) \end{pmatrix}
 * $$
 *
 * Global minimum f(1, 1) = 0. Start (−2, 2) and plot domain [−2, 2] × [−1, 3] as in the pytorch-optimizer
 * library's `examples/viz_optimizers.py`, which drew the trajectory pictures of the seeds.
 */
export const rosenbrock = defineTestFunction({
  name: 'rosenbrock',
  title: 'Rosenbrock',
  dimension: 2,
  value(p) {
    const x = p[0] as number;
    const y = p[1] as number;
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2;
  },
  gradient(p, out) {
    const x = p[0] as number;
    const y = p[1] as number;
    const valley = y - x * x;
    out[0] = -2 * (1 - x) - 400 * x * valley;
    out[1] = 200 * valley;
    return out;
  },
  minima: [[1, 1]],
  minValue: 0,
  start: [-2, 2],
  domain: [
    [-2, 2],
    [-1, 3],
  ],
});
