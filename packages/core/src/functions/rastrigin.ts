import { defineTestFunction } from './types.js';

/** Amplitude A of the Rastrigin function's cosine ripples. */
export const RASTRIGIN_A = 10;

/**
 * The Rastrigin function: a bowl covered with a regular grid of local minima, which traps optimizers that take
 * small steps early.
 *
 * $$
 * f(\mathbf{x}) = A n + \sum_{i=1}^{n} \left( x_i^2 - A \cos(2\pi x_i) \right), \qquad
 * \frac{\partial f}{\partial x_i} = 2 x_i + 2\pi A \sin(2\pi x_i), \qquad A = 10,\ n = 2
 * $$
 *
 * Global minimum f(0, 0) = 0. Start (−2, 3.5), A = 10 and plot domain [−4.5, 4.5]² as in the pytorch-optimizer
 * library's `examples/viz_optimizers.py`, which drew the trajectory pictures of the seeds.
 */
export const rastrigin = defineTestFunction({
  name: 'rastrigin',
  title: 'Rastrigin',
  dimension: 2,
  value(p) {
    let f = RASTRIGIN_A * 2;
    for (let i = 0; i < 2; i++) {
      const x = p[i] as number;
      f += x * x - RASTRIGIN_A * Math.cos(2 * Math.PI * x);
    }
    return f;
  },
  gradient(p, out) {
    for (let i = 0; i < 2; i++) {
      const x = p[i] as number;
      out[i] = 2 * x + 2 * Math.PI * RASTRIGIN_A * Math.sin(2 * Math.PI * x);
    }
    return out;
  },
  minima: [[0, 0]],
  minValue: 0,
  start: [-2, 3.5],
  domain: [
    [-4.5, 4.5],
    [-4.5, 4.5],
  ],
});
