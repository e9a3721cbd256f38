import { defineOptimizer, makeSpec, type CommonOptions, type OptimizerSpec, type PhaseGroup } from '../definition.js';
import { OptionError, show } from '../errors.js';
import { powInt } from '../math.js';
import { opt } from '../options.js';

/** Options of {@link prodigy}; names (camelCased) and defaults as upstream's `Prodigy` (prodigyopt/prodigy.py). */
export interface ProdigyOptions {
  /**
   * Learning-rate multiplier of the adapted step d (leave it at 1 unless unstable). Default 1. Per group it may only
   * be the largest group's value or 0 (upstream's rule); a group at 0 adds nothing to the D estimate.
   */
  readonly lr: number;
  /** (β₁, β₂) of the moments, each in [0, 1); β₁ = 0 keeps no first moment. Default (0.9, 0.999). */
  readonly betas: readonly [number, number];
  /** β₃ of the D estimate's running sums; `null` (the default) means √β₂. */
  readonly beta3: number | null;
  /** ε, added to √v outside the root (times d). Default 1e-8. */
  readonly eps: number;
  /** Weight decay λ, decoupled (AdamW style) or L2 per `decouple`. Default 0. */
  readonly weightDecay: number;
  /** Decoupled (AdamW-style) weight decay instead of L2. Default true. */
  readonly decouple: boolean;
  /** Adam's bias correction √(1 − β₂^{k+1})/(1 − β₁^{k+1}) in the step. Default false. */
  readonly useBiasCorrection: boolean;
  /** Leave lr out of the D estimate's denominator sums (s grows with d, not d·lr) for warm-up schedules. Default false. */
  readonly safeguardWarmup: boolean;
  /** Initial D estimate d₀. Default 1e-6. */
  readonly d0: number;
  /** Multiplier of the estimate d̂ (the preferred knob upstream; 0.5 and 2 work too). Default 1. */
  readonly dCoef: number;
  /** Largest factor by which d may grow per step; `null` (the default) is upstream's ∞ (unrestricted). */
  readonly growthRate: number | null;
  /** Use every p-th element (of the flattened parameter) for the D statistics (s, x₀): ≈ Prodigy, less memory. Default 1. */
  readonly sliceP: number;
}

/** Options that the shared D estimate reads for the whole optimizer (upstream reads them from the first group). */
const WHOLE = ['betas', 'beta3', 'd0', 'dCoef', 'growthRate', 'useBiasCorrection', 'decouple'] as const;

/** Python's `max(a, b)`: `a` unless `b > a` (so a NaN `b` gives `a`). */
const pyMax = (a: number, b: number): number => (b > a ? b : a);
/** Python's `min(a, b)`: `a` unless `b < a`. */
const pyMin = (a: number, b: number): number => (b < a ? b : a);

/** β₃ as upstream resolves it: the option, or √β₂ when it is `null`. */
export function prodigyBeta3(o: Pick<ProdigyOptions, 'beta3' | 'betas'>): number {
  return o.beta3 ?? Math.sqrt(o.betas[1]);
}

/** Length of the D statistics of a parameter of `size` elements: every `sliceP`-th element (`flatten()[::slice_p]`). */
export function prodigySliceLength(size: number, sliceP: number): number {
  return Math.ceil(size / sliceP);
}

/**
 * The step's host constants of a Prodigy step, from the first group's shared scalars and the learning rates of all
 * groups (upstream's preamble of `step`): lr = max of the groups' lr, dlr = d·lr·bias correction. Throws when a
 * group's lr is neither that maximum nor 0.
 */
export function prodigyConstants(groups: ReadonlyArray<PhaseGroup<ProdigyOptions>>, where: string): { lr: number; dlr: number } {
  const first = groups[0]!;
  const o = first.options;
  const [beta1, beta2] = o.betas;
  let lr = -Infinity;
  for (const g of groups) lr = pyMax(lr, g.options.lr);
  for (const [i, g] of groups.entries()) {
    if (g.options.lr !== lr && g.options.lr !== 0) {
      throw new OptionError(`${where}: group ${i} has lr ${show(g.options.lr)}; Prodigy's groups may only differ in lr by being 0 (the largest is ${show(lr)}); nothing was updated`);
    }
  }
  const k = first.scalars.k as number;
  const biasCorrection = o.useBiasCorrection ? Math.sqrt(1 - powInt(beta2, k + 1)) / (1 - powInt(beta1, k + 1)) : 1;
  return { lr, dlr: (first.scalars.d as number) * lr * biasCorrection };
}

/**
 * Prodigy (Mishchenko, Defazio, "Prodigy: An Expeditiously Adaptive Parameter-Free Learner", ICML 2024, arXiv
 * 2306.06101): Adam whose step size d is estimated on the fly from how far the parameters have moved from where they
 * started, so `lr` stays 1. Follows konstmish/prodigy, `prodigyopt/prodigy.py` (class `Prodigy`, as of commit
 * a1b4f0eff7ef988ac10d6f11f26b0da15d254588, the file's last change; repository head 3efb213ee8af5a6bf76f28726398433a847b38e9),
 * statement for statement, with its defaults.
 *
 * One D estimate for the whole optimizer, as upstream (every group holds the same d, dMax, dNumerator, k). With
 * x₀ the parameter at its first update, ĝ, x̂ every `sliceP`-th element of g, x (all of them by default), k the
 * number of steps taken, lr the largest group lr and b = √(1 − β₂^{k+1})/(1 − β₁^{k+1}) with `useBiasCorrection`
 * (else 1), a step is two passes over every parameter with a gradient (g plus λx for L2 decay):
 *
 * $$
 * \begin{aligned}
 * &\text{first pass (groups with } \mathrm{lr} > 0\text{):}\quad d\mathrm{lr} = d\cdot \mathrm{lr}\cdot b \\
 * &\quad N \mathrel{+}= \tfrac{d}{d_0}\, d\mathrm{lr}\, \langle \hat g, \hat x_0 - \hat x\rangle, \qquad
 *   m \leftarrow \beta_1 m + d(1-\beta_1)\, g, \qquad v \leftarrow \beta_2 v + d^2(1-\beta_2)\, g^2 \\
 * &\quad s \leftarrow \beta_3 s + \tfrac{d}{d_0}\, d\mathrm{lr}\ \hat g \ \ (\tfrac{d}{d_0}\, d\ \hat g \text{ with safeguardWarmup}), \qquad
 *   D \mathrel{+}= \lVert s \rVert_1 \\
 * &\text{between (host, Float64; nothing moves if } D = 0\text{):}\quad r \leftarrow \beta_3 r + N, \qquad
 *   \hat d = d_{\mathrm{coef}}\, r / D \\
 * &\quad d \leftarrow \max(d, \hat d)\ \text{if } d = d_0, \qquad d_{\max} \leftarrow \max(d_{\max}, \hat d), \qquad
 *   d \leftarrow \min(d_{\max},\ d \cdot \mathrm{growthRate}), \qquad k \leftarrow k + 1 \\
 * &\text{second pass (every group):}\quad x \leftarrow x - \lambda\, d\mathrm{lr}\, x\ \text{(decoupled)}, \qquad
 *   x \leftarrow x - d\mathrm{lr}\, \frac{m}{\sqrt v + d\,\epsilon}\ \ \Bigl(x - d\mathrm{lr}\, d\, \frac{g}{\sqrt v + d\,\epsilon} \text{ when } \beta_1 = 0\Bigr)
 * \end{aligned}
 * $$
 *
 * where N, D start at 0 each step, dlr uses d from before the step and the second pass uses the new d in the
 * denominator. Parameters are visited in group order, then parameter order, and N, D are summed in that order.
 *
 * Warning — formulation: upstream's one estimate shared by every group means `betas`, `beta3`, `d0`, `dCoef`,
 * `growthRate`, `useBiasCorrection` and `decouple` apply to the whole optimizer (upstream reads them from the
 * first group; here a group may not override them); `weightDecay`, `eps`, `safeguardWarmup`, `sliceP` and `lr`
 * (its value or 0) are per group. A group at lr 0 contributes nothing to N, D and its moments stay, but the second
 * pass still moves it with the shared dlr (upstream does the same). Upstream's `fsdp_in_use` (an all-reduce of N
 * and D across processes for sharded parameters) is left out: a descent optimizer holds all of its parameters.
 * Upstream stores x₀ as a scalar 0 when the parameter is all zeros; here it is always a vector (same values).
 * Upstream counts the parameter's `step` in the second pass; here in the first (it feeds no formula).
 *
 * State: per parameter `expAvg` (m, only with β₁ > 0), `expAvgSq` (v), `s` and `p0` (x̂₀), the last two of length
 * ⌈n/sliceP⌉; per group (portable state's `groups`) `d`, `dMax`, `dNumerator` (r) and `k`.
 */
export const prodigyDefinition = defineOptimizer<ProdigyOptions>({
  name: 'prodigy',
  title: 'Prodigy',
  kind: 'tensor',
  schema: {
    lr: opt.nonNegative(1, 'Multiplier of the adapted step size d (per group: the largest value or 0).'),
    betas: opt.betas([0.9, 0.999]),
    beta3: opt.nullableNumber('β₃ of the D estimate; null for √β₂.', { min: { value: 0 }, max: { value: 1, open: true } }),
    eps: opt.positive(1e-8, 'ε, added to √v (times d).'),
    weightDecay: opt.nonNegative(0, 'Weight decay λ (decoupled or L2, see decouple).'),
    decouple: opt.flag(true, 'Decoupled (AdamW-style) weight decay instead of L2.'),
    useBiasCorrection: opt.flag(false, "Adam's bias correction in the step."),
    safeguardWarmup: opt.flag(false, 'Leave lr out of the D estimate’s denominator (for warm-up schedules).'),
    d0: opt.positive(1e-6, 'Initial D estimate d₀.'),
    dCoef: opt.nonNegative(1, 'Multiplier of the D estimate.'),
    growthRate: opt.nullableNumber('Largest growth factor of d per step; null for unrestricted (∞).', { min: { value: 0, open: true } }),
    sliceP: opt.count(1, 'Use every sliceP-th element for the D statistics.'),
  },
  wholeOptimizerOptions: WHOLE,
  slots: (o, shape) => {
    const m = [prodigySliceLength(shape.reduce((a, b) => a * b, 1), o.sliceP)];
    return [
      ...(o.betas[0] > 0 ? [{ name: 'expAvg', shape }] : []),
      { name: 'expAvgSq', shape },
      { name: 's', shape: m },
      { name: 'p0', shape: m },
    ];
  },
  update() {
    throw new Error('prodigy: the step has two passes (phases); OptimizerBase runs them');
  },
  phases: {
    sums: ['dot', 'l1'],
    scalars: (o) => ({ d: o.d0, dMax: o.d0, dNumerator: 0, k: 0 }),
    begin: (groups, where) => {
      const c = prodigyConstants(groups, where);
      return groups.map(() => ({ lr: c.lr, dlr: c.dlr }));
    },
    accumulate({ options: o, param: x, grad, slots, step, group, constants }) {
      const [beta1, beta2] = o.betas;
      const beta3 = prodigyBeta3(o);
      const { weightDecay: decay, decouple, d0, sliceP } = o;
      const d = group.d as number;
      const dlr = constants.dlr as number;
      const s = slots.s as Float64Array;
      const p0 = slots.p0 as Float64Array;
      // State initialisation at the first update: x̂₀ is the parameter then (its sliced elements).
      if (step === 1) for (let j = 0; j < p0.length; j++) p0[j] = x[j * sliceP] as number;
      if (!(o.lr > 0)) return { dot: 0, l1: 0 };
      const coupled = decay !== 0 && !decouple;
      const gOf = (i: number): number => (coupled ? (grad[i] as number) + decay * (x[i] as number) : (grad[i] as number));
      let dot = 0;
      for (let j = 0; j < p0.length; j++) dot += gOf(j * sliceP) * ((p0[j] as number) - (x[j * sliceP] as number));
      const m = slots.expAvg;
      const v = slots.expAvgSq as Float64Array;
      const mScale = d * (1 - beta1);
      const vScale = d * d * (1 - beta2);
      for (let i = 0; i < x.length; i++) {
        const g = gOf(i);
        if (m && beta1 > 0) m[i] = (m[i] as number) * beta1 + mScale * g;
        v[i] = (v[i] as number) * beta2 + vScale * g * g;
      }
      const sScale = o.safeguardWarmup ? (d / d0) * d : (d / d0) * dlr;
      let l1 = 0;
      for (let j = 0; j < s.length; j++) {
        s[j] = (s[j] as number) * beta3 + sScale * gOf(j * sliceP);
        l1 += Math.abs(s[j] as number);
      }
      // The raw reductions ⟨ĝ, x̂₀ − x̂⟩ and ‖s‖₁; finish scales the first by (d/d₀)·dlr on the host, as upstream.
      return { dot, l1 };
    },
    finish(groups) {
      const first = groups[0]!;
      const o = first.options;
      const lr = first.constants.lr as number;
      const dlr = first.constants.dlr as number;
      const dOld = first.scalars.d as number;
      // Summed in upstream's order: delta_numerator += (d/d0)·dlr·dot, d_denom += ‖s‖₁, parameter after parameter.
      let delta = 0;
      let dDenom = 0;
      for (const g of groups) {
        if (!(g.options.lr > 0)) continue;
        for (const c of g.contributions) {
          delta += (dOld / o.d0) * dlr * (c.dot as number);
          dDenom += c.l1 as number;
        }
      }
      // Every gradient so far was 0 (or every group is at lr 0): no progress, nothing moves, nothing is counted.
      if (dDenom === 0) return false;
      let d = dOld;
      let dMax = first.scalars.dMax as number;
      const dNumerator = (first.scalars.dNumerator as number) * prodigyBeta3(o) + delta;
      if (lr > 0) {
        const dHat = (o.dCoef * dNumerator) / dDenom;
        if (d === o.d0) d = pyMax(d, dHat);
        dMax = pyMax(dMax, dHat);
        d = pyMin(dMax, d * (o.growthRate ?? Infinity));
      }
      for (const g of groups) Object.assign(g.scalars, { d, dMax, dNumerator, k: (g.scalars.k as number) + 1 });
      return true;
    },
    apply({ options: o, param: x, grad, slots, group, constants }) {
      const beta1 = o.betas[0];
      const { weightDecay: decay, decouple, eps } = o;
      const d = group.d as number;
      const dlr = constants.dlr as number;
      const m = slots.expAvg;
      const v = slots.expAvgSq as Float64Array;
      const dEps = d * eps;
      const decayScale = -decay * dlr;
      const coupled = decay !== 0 && !decouple;
      for (let i = 0; i < x.length; i++) {
        const denom = Math.sqrt(v[i] as number) + dEps;
        // The gradient of the first pass (with L2 decay added there, from the parameter before this pass).
        const g = coupled ? (grad[i] as number) + decay * (x[i] as number) : (grad[i] as number);
        if (decay !== 0 && decouple) x[i] = (x[i] as number) + decayScale * (x[i] as number);
        if (m && beta1 > 0) x[i] = (x[i] as number) + -dlr * ((m[i] as number) / denom);
        else x[i] = (x[i] as number) + -dlr * d * (g / denom);
      }
    },
  },
});

/**
 * Creates a Prodigy spec; see {@link prodigyDefinition} for the update rule and the formulation followed.
 *
 * @example
 * ```ts
 * const spec = prodigy({ weightDecay: 0.01 }); // lr stays 1: d is estimated
 * const warm = prodigy({ safeguardWarmup: true, useBiasCorrection: true }); // with an LR warm-up schedule
 * ```
 */
export function prodigy(options?: Partial<ProdigyOptions & CommonOptions>): OptimizerSpec<ProdigyOptions> {
  return makeSpec(prodigyDefinition, options);
}
