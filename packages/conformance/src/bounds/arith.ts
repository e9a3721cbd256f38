/**
 * Running error analysis of a float32 evaluation (Higham, "Accuracy and Stability of Numerical Algorithms",
 * ch. 3): each bound function re-evaluates an optimizer's update in Float64, next to its reference, on
 * {@link Tracked} values that carry how far a float32 evaluation of the same formula may be from the Float64
 * value. Every float32 operation rounds its result once, |fl(x ∘ y) − x ∘ y| ≤ u·|x ∘ y| with u = 2⁻²⁴, so a
 * result carries the bounds of its operands, propagated through the operation to first order, plus its own
 * rounding. For m = β·m + (1−β)·g this gives the scale S = |β·m| + |(1−β)·g| + |m_new| + (rounding of the
 * products), the "sum of the absolute terms" of DESIGN.md; divisions and square roots propagate relative errors.
 *
 * A backend's value x is accepted when |x − ref| ≤ k·u·e + a:
 * - `e` (in units of u) is the rounding budget; k (≈ 8 for IEEE paths) absorbs what this first-order model does
 *   not see: another order of the same operations, a fused multiply-add, a library `sqrt`/`atan2` a few ulp off.
 * - `a` is an absolute allowance, not scaled by k, for discrete decisions that float32 may take the other way:
 *   a sign whose argument lies within its own rounding bound of 0 (the ambiguity band) may come out as any of
 *   −1, 0, 1, and every value computed from it gets the corresponding allowance.
 * - `n` marks a value that float32 may legitimately turn into NaN or ±∞ although Float64 does not (a square
 *   root of a difference whose bound straddles 0, a division by a denominator whose bound contains 0).
 *
 * @packageDocumentation
 */

/** u: the unit roundoff of float32 (round to nearest). */
export const U32 = 2 ** -24;

/** A Float64 value with the error budget of its float32 evaluation (see the module documentation). */
export interface Tracked {
  /** The Float64 value, computed like the reference. */
  readonly v: number;
  /** Rounding budget in units of u (multiplied by k when checked). */
  readonly e: number;
  /** Absolute allowance for ambiguous discrete decisions (not multiplied by k). */
  readonly a: number;
  /** Whether float32 may produce NaN or ±∞ here although the Float64 value is finite. */
  readonly n: boolean;
}

/** float32's smallest normal number, and the spacing of its subnormals. */
const F32_MIN_NORMAL = 2 ** -126;
const F32_SUBNORMAL_ULP = 2 ** -149;

/** The largest finite float32: beyond it float32 overflows to ±∞ where Float64 stays finite. */
const F32_MAX = 3.4028234663852886e38;

// A budget that arithmetic turned into NaN (0·∞ from an unbounded operand) is unbounded.
const mk = (v: number, e: number, a = 0, n = false): Tracked => ({
  v,
  e: Number.isNaN(e) ? Infinity : e,
  a: Number.isNaN(a) ? Infinity : a,
  n: n || Math.abs(v) > F32_MAX,
});

const isF32 = (v: number): boolean => !Number.isFinite(v) || Math.fround(v) === v;

/**
 * Tracked float32 arithmetic for a given k (needed for the ambiguity bands: whether a value "may be 0" depends on
 * how large the accepted error is).
 */
export class Arith {
  readonly k: number;
  constructor(k: number) {
    this.k = k;
  }

  /**
   * A rounded result below float32's smallest normal number (2⁻¹²⁶) is rounded in the subnormal range, with an
   * absolute error up to half its spacing 2⁻¹⁴⁹ instead of u·|x| (and where Float64 is subnormal too, the relative
   * budget says nothing): such results get 2⁻¹⁴⁹ of absolute allowance. Exact zeros do not.
   */
  private under(x: Tracked): Tracked {
    const m = Math.abs(x.v);
    return m > 0 && m < F32_MIN_NORMAL ? { ...x, a: x.a + F32_SUBNORMAL_ULP } : x;
  }

  /** Radius of the interval a float32 evaluation of `x` may land in. */
  radius(x: Tracked): number {
    return this.k * U32 * x.e + x.a;
  }

  /** An exact value (a float32 input, or a count). */
  exact(v: number): Tracked {
    return mk(v, 0);
  }

  /**
   * A value handed to a float32 kernel: exact when it is a float32 number, otherwise rounded once (host scalars
   * computed in Float64 such as 1 − β or a bias correction, and state imported from a Float64 source).
   */
  input(v: number): Tracked {
    return isF32(v) ? mk(v, 0) : this.under(mk(v, Math.abs(v)));
  }

  /** −x (exact). */
  neg(x: Tracked): Tracked {
    return mk(-x.v, x.e, x.a, x.n);
  }

  /** |x| (exact). */
  abs(x: Tracked): Tracked {
    return mk(Math.abs(x.v), x.e, x.a, x.n);
  }

  /** x + y: the bounds add, plus one rounding of the result. */
  add(x: Tracked, y: Tracked): Tracked {
    const v = x.v + y.v;
    return this.under(mk(v, x.e + y.e + Math.abs(v), x.a + y.a, x.n || y.n));
  }

  /** x − y: the bounds add, plus one rounding of the result. */
  sub(x: Tracked, y: Tracked): Tracked {
    const v = x.v - y.v;
    return this.under(mk(v, x.e + y.e + Math.abs(v), x.a + y.a, x.n || y.n));
  }

  /**
   * x·y. |x'y' − xy| ≤ |y|·δx + |x|·δy + δx·δy exactly: the first two terms go to the rounding budget (and the
   * allowances), the product of the two radii to the allowance. It matters where a factor is 0 but not its
   * budget: the square of a residual g − m that cancels exactly in Float64 is of the order of its budget squared
   * in float32, not 0.
   */
  mul(x: Tracked, y: Tracked): Tracked {
    const v = x.v * y.v;
    const ax = Math.abs(x.v);
    const ay = Math.abs(y.v);
    return this.under(mk(v, ay * x.e + ax * y.e + Math.abs(v), ay * x.a + ax * y.a + this.radius(x) * this.radius(y), x.n || y.n));
  }

  /** x / y. When the bound of y reaches half of |y| the quotient is unbounded (and may be ±∞ or NaN). */
  div(x: Tracked, y: Tracked): Tracked {
    const v = x.v / y.v;
    const ay = Math.abs(y.v);
    const ry = this.radius(y);
    if (!(ay > 2 * ry)) return ry === 0 && x.e === 0 && x.a === 0 ? this.under(mk(v, Number.isFinite(v) ? Math.abs(v) : 0, 0, x.n || y.n)) : mk(v, Infinity, Infinity, true);
    const av = Math.abs(v);
    // First order for the rounding budget; the allowance is a finite perturbation, hence the factor 2 (|y'| ≥ |y|/2).
    return this.under(mk(v, x.e / ay + (av * y.e) / ay + av, (2 * (x.a + av * y.a)) / ay, x.n || y.n));
  }

  /**
   * √x. Away from 0 the relative error halves; near 0 (x within its own radius δ of 0) the result may be off by
   * up to √δ — and float32 may see a negative argument and return NaN.
   */
  sqrt(x: Tracked): Tracked {
    const v = Math.sqrt(x.v);
    const r = this.radius(x);
    // A negative argument within its own bound of 0 (Float64 rounding made it negative) may be ≥ 0 in float32.
    if (Number.isNaN(v)) return this.under(mk(v, 0, 0, x.n || Math.abs(x.v) <= r));
    if (r === 0) return this.under(mk(v, v, 0, x.n));
    if (x.v > 2 * r) {
      // |√x' − √x| = |x' − x| / (√x' + √x) ≤ |x' − x| / ((1 + √½)·√x) when |x' − x| ≤ x/2.
      return this.under(mk(v, (0.6 * x.e) / v + v, (0.6 * x.a) / v, x.n));
    }
    // √ is ½-Hölder with constant 1: |√x' − √x| ≤ √|x' − x| ≤ √δ. Below δ float32 may see a negative argument.
    return this.under(mk(v, v, Math.sqrt(r), x.n || x.v < r));
  }

  /** max(x, y), NaN-propagating like `Math.max` and `torch.maximum`; 1-Lipschitz, so no band is needed. */
  max(x: Tracked, y: Tracked): Tracked {
    return mk(Math.max(x.v, y.v), Math.max(x.e, y.e), Math.max(x.a, y.a), x.n || y.n);
  }

  /** min(x, y): the larger of the two bounds (no rounding). */
  min(x: Tracked, y: Tracked): Tracked {
    return mk(Math.min(x.v, y.v), Math.max(x.e, y.e), Math.max(x.a, y.a), x.n || y.n);
  }

  /**
   * sign(x): exact outside the ambiguity band |x| ≤ k·u·e + a; inside it float32 may give any of −1, 0, 1, so the
   * result gets an allowance of 2 (1 when the Float64 sign is 0).
   */
  sign(x: Tracked): Tracked {
    const s = Math.sign(x.v);
    if (Number.isNaN(s)) return mk(s, 0, 0, x.n);
    const r = this.radius(x);
    if (r === 0 || Math.abs(x.v) > r) return mk(s, 0, 0, x.n);
    return mk(s, 0, s === 0 ? 1 : 2, x.n);
  }

  /**
   * atan2(y, x). First order: |Δatan2| ≤ (|x|·|Δy| + |y|·|Δx|)/(x² + y²); near the origin, where that is not
   * small, anything in (−π, π] may come out.
   */
  atan2(y: Tracked, x: Tracked): Tracked {
    const v = Math.atan2(y.v, x.v);
    const r2 = x.v * x.v + y.v * y.v;
    const rho = Math.max(this.radius(x), this.radius(y));
    if (rho === 0) return this.under(mk(v, Math.abs(v), 0, x.n || y.n));
    if (!(Math.sqrt(r2) > 4 * rho)) return this.under(mk(v, Math.abs(v), 2 * Math.PI, x.n || y.n));
    const ax = Math.abs(x.v);
    const ay = Math.abs(y.v);
    return this.under(mk(v, (ax * y.e + ay * x.e) / r2 + Math.abs(v), (2 * (ax * y.a + ay * x.a)) / r2, x.n || y.n));
  }

  /**
   * x^p for x ≥ 0, p > 0 (norms of order p). Away from 0 the relative budget is multiplied by p (first order; a
   * finite allowance by 2p); at 0 the result may be up to radius^p.
   */
  pow(x: Tracked, p: number): Tracked {
    const v = x.v ** p;
    const r = this.radius(x);
    if (r === 0) return this.under(mk(v, Math.abs(v), 0, x.n));
    if (x.v > 2 * r) return this.under(mk(v, (p * Math.abs(v) * x.e) / x.v + Math.abs(v), (2 * p * Math.abs(v) * x.a) / x.v, x.n));
    return this.under(mk(v, Math.abs(v), Math.max(Math.abs(v), (x.v + r) ** p), x.n));
  }

  /**
   * Σ xᵢ in order. Any summation order (sequential, pairwise, tree reductions on a GPU) has error at most
   * γ_{n−1}·Σ|xᵢ| (Higham, eq. 4.4), which is what is charged: (n − 1)·Σ|xᵢ|.
   */
  sum(xs: readonly Tracked[]): Tracked {
    let v = 0;
    let e = 0;
    let a = 0;
    let absSum = 0;
    let n = false;
    for (const x of xs) {
      v += x.v;
      e += x.e;
      a += x.a;
      absSum += Math.abs(x.v);
      n = n || x.n;
    }
    return this.under(mk(v, e + Math.max(xs.length - 1, 0) * absSum, a, n));
  }

  /** torch.lerp(start, end, w) with a host-scalar weight, in torch's two-branch form (see core's lerpTorch). */
  lerp(start: Tracked, end: Tracked, w: number): Tracked {
    if (Math.abs(w) < 0.5) return this.add(start, this.mul(this.input(w), this.sub(end, start)));
    return this.sub(end, this.mul(this.sub(end, start), this.input(1 - w)));
  }
}
