import { defineTestFunction } from './types.js';

/** Curvatures λ₁, λ₂ of the ill-conditioned quadratic along its two principal axes: condition number 10 / 0.1 = 100. */
export const QUADRATIC_CURVATURES = Object.freeze([0.1, 10] as const);

/**
 * An ill-conditioned quadratic bowl: curvature λ₁ = 0.1 along the diagonal direction (1, 1) and λ₂ = 10 across it
 * (condition number κ = 100), with principal axes rotated by 45° so that a per-coordinate preconditioner (Adam's)
 * cannot undo the ill-conditioning by rescaling x and y, and its minimum away from the origin so that weight
 * decay does not pull towards it. Gradient descent must keep η < 2/λ₂ = 0.2 to stay stable and then shrinks
 * the error along the flat axis by only 1 − λ₁η per step (≈ 400 steps to 10⁻³ at η = 0.19); momentum helps.
 * κ = 100 rather than 1000 so that a 500-step race separates the methods instead of failing them all (plain
 * gradient descent needs about κ·ln(1/ε)/2 steps).
 *
 * With u = (x + y − 2)/√2 and v = (x − y)/√2 (the rotated coordinates around the minimum):
 *
 * $$
 * f(x, y) = \tfrac12 \left( \lambda_1 u^2 + \lambda_2 v^2 \right)
 *         = \tfrac14 \left( \lambda_1 (x + y - 2)^2 + \lambda_2 (x - y)^2 \right), \qquad
 * \nabla f = \tfrac12 \begin{pmatrix} \lambda_1 (x + y - 2) + \lambda_2 (x - y) \\ \lambda_1 (x + y - 2) - \lambda_2 (x - y) \end{pmatrix}
 * $$
 *
 * Global minimum f(1, 1) = 0. Start (−2, 0), which has components along both axes; plot domain [−3, 3]².
 */
export const quadratic = defineTestFunction({
  name: 'quadratic',
  title: 'Ill-conditioned quadratic',
  dimension: 2,
  value(p) {
    const [l1, l2] = QUADRATIC_CURVATURES;
    const s = (p[0] as number) + (p[1] as number) - 2;
    const d = (p[0] as number) - (p[1] as number);
    return 0.25 * (l1 * s * s + l2 * d * d);
  },
  gradient(p, out) {
    const [l1, l2] = QUADRATIC_CURVATURES;
    const s = (p[0] as number) + (p[1] as number) - 2;
    const d = (p[0] as number) - (p[1] as number);
    out[0] = 0.5 * (l1 * s + l2 * d);
    out[1] = 0.5 * (l1 * s - l2 * d);
    return out;
  },
  minima: [[1, 1]],
  minValue: 0,
  start: [-2, 0],
  domain: [
    [-3, 3],
    [-3, 3],
  ],
});
