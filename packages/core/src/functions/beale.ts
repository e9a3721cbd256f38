import { defineTestFunction } from './types.js';

/**
 * The Beale function: a flat plateau (f is constant, 14.203125, along the whole line y = 1) bordered by very
 * steep walls near the corners of the domain, with a sharp minimum in a narrow valley.
 *
 * $$
 * f(x, y) = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2
 * $$
 *
 * With the residuals r_k = c_k − x + x y^k (c = 1.5, 2.25, 2.625):
 *
 * $$
 * \frac{\partial f}{\partial x} = \sum_{k=1}^{3} 2 r_k\,(y^k - 1), \qquad
 * \frac{\partial f}{\partial y} = \sum_{k=1}^{3} 2 r_k\, k\, x\, y^{k-1}
 * $$
 *
 * Global minimum f(3, 0.5) = 0. Plot domain [−4.5, 4.5]²; start (1, 1.5), above the plateau.
 */
export const beale = defineTestFunction({
  name: 'beale',
  title: 'Beale',
  dimension: 2,
  value(p) {
    const x = p[0] as number;
    const y = p[1] as number;
    const r1 = 1.5 - x + x * y;
    const r2 = 2.25 - x + x * y * y;
    const r3 = 2.625 - x + x * y * y * y;
    return r1 * r1 + r2 * r2 + r3 * r3;
  },
  gradient(p, out) {
    const x = p[0] as number;
    const y = p[1] as number;
    const y2 = y * y;
    const y3 = y2 * y;
    const r1 = 1.5 - x + x * y;
    const r2 = 2.25 - x + x * y2;
    const r3 = 2.625 - x + x * y3;
    out[0] = 2 * r1 * (y - 1) + 2 * r2 * (y2 - 1) + 2 * r3 * (y3 - 1);
    out[1] = 2 * r1 * x + 2 * r2 * 2 * x * y + 2 * r3 * 3 * x * y2;
    return out;
  },
  minima: [[3, 0.5]],
  minValue: 0,
  start: [1, 1.5],
  domain: [
    [-4.5, 4.5],
    [-4.5, 4.5],
  ],
});
