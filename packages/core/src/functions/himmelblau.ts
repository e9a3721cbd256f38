import { defineTestFunction } from './types.js';

/**
 * Himmelblau's function: four global minima of equal value, so where an optimizer ends depends on its path.
 *
 * $$
 * f(x, y) = (x^2 + y - 11)^2 + (x + y^2 - 7)^2, \qquad
 * \nabla f = \begin{pmatrix} 4x\,(x^2 + y - 11) + 2\,(x + y^2 - 7) \\ 2\,(x^2 + y - 11) + 4y\,(x + y^2 - 7) \end{pmatrix}
 * $$
 *
 * Global minima, all with f = 0: (3, 2) exactly, and three irrational ones, given here as the doubles nearest
 * to the roots of ∇f computed to 40 digits (mpmath `findroot`): (−2.805118086952745, 3.131312518250573),
 * (−3.779310253377747, −3.2831859912861696), (3.5844283403304917, −1.8481265269644036).
 * Start (0, 0); plot domain [−5, 5]².
 */
export const himmelblau = defineTestFunction({
  name: 'himmelblau',
  title: 'Himmelblau',
  dimension: 2,
  value(p) {
    const x = p[0] as number;
    const y = p[1] as number;
    return (x * x + y - 11) ** 2 + (x + y * y - 7) ** 2;
  },
  gradient(p, out) {
    const x = p[0] as number;
    const y = p[1] as number;
    const a = x * x + y - 11;
    const b = x + y * y - 7;
    out[0] = 4 * x * a + 2 * b;
    out[1] = 2 * a + 4 * y * b;
    return out;
  },
  minima: [
    [3, 2],
    [-2.805118086952745, 3.131312518250573],
    [-3.779310253377747, -3.2831859912861696],
    [3.5844283403304917, -1.8481265269644036],
  ],
  minValue: 0,
  start: [0, 0],
  domain: [
    [-5, 5],
    [-5, 5],
  ],
});
