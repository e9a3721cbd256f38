import { defineOptimizer, makeSpec, type CommonOptions, type OptimizerSpec } from '../definition.js';
import { lerpTorch } from '../linalg/matrix.js';
import { opt } from '../options.js';

/** Options of {@link adopt}; names and defaults as the authors' `ADOPT` (src/adopt/adopt.py). */
export interface AdoptOptions {
  /** Learning rate η. Default 1e-3. */
  readonly lr: number;
  /** (β₁, β₂), decay rates of the first and second moments, each in [0, 1). Default (0.9, 0.9999). */
  readonly betas: readonly [number, number];
  /** ε, the floor of √v in the normalisation max(√v, ε). Default 1e-6. */
  readonly eps: number;
  /**
   * The clipping schedule of the normalised gradient (`clip_lambda` upstream, a function of the step there):
   * `"quarterPower"` clips to ±s^{1/4} at upstream's step s = t − 1 (its default), `"none"` does not clip.
   */
  readonly clipLambda: 'quarterPower' | 'none';
  /** Weight decay λ: L2 (added to the gradient) or decoupled (θ·(1 − ηλ)), see `decoupledWeightDecay`. Default 0. */
  readonly weightDecay: number;
  /** Decoupled weight decay (`decouple` upstream). Default false. */
  readonly decoupledWeightDecay: boolean;
  /** Maximize the objective instead of minimizing it. Default false. */
  readonly maximize: boolean;
}

/**
 * ADOPT (Taniguchi, Harada, Minegishi, Oshima, Jeong, Nagahara, Iiyama, Suzuki, Iwasawa, Matsuo, "ADOPT: Modified
 * Adam Can Converge with Any β₂ with the Optimal Rate", NeurIPS 2024, arXiv 2411.02853): the gradient is normalised
 * by the second moment of the *previous* steps (so the two are independent), clipped, and only then averaged into
 * the momentum, which is the step. The first step only initialises v. Follows the authors' repository
 * iShohei220/adopt, `src/adopt/adopt.py` (`_single_tensor_adopt`, commit c621db21481adc94769982cccd7b896464ab295e),
 * operation for operation, and its defaults.
 *
 * With gradient g_t at θ_{t−1} (negated when `maximize`; plus λθ_{t−1} for L2 decay), s = t − 1 (upstream's step
 * count before its increment) and c_s = s^{1/4} (`clipLambda: "quarterPower"`; ∞ with `"none"`):
 *
 * $$
 * \begin{aligned}
 * t = 1:&\quad v_1 = g_1^2 \quad \text{(no update of } \theta, m\text{)} \\
 * t > 1:&\quad \theta \leftarrow \theta_{t-1}(1 - \eta\lambda)\ \text{(decoupled only)} \\
 * &\quad u_t = \operatorname{clamp}\!\left(\frac{g_t}{\max(\sqrt{v_{t-1}}, \epsilon)}, -c_s, c_s\right) \\
 * &\quad m_t = m_{t-1} + (1-\beta_1)(u_t - m_{t-1}) \qquad \text{(torch.lerp)} \\
 * &\quad \theta_t = \theta - \eta\, m_t \\
 * &\quad v_t = \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2
 * \end{aligned}
 * $$
 *
 * Warning — formulation: this is the repository's released version (the one with `clip_lambda`); the paper's
 * Algorithm 1 has no clipping (`clipLambda: "none"`), and an earlier version of the repository had a third beta
 * for an ε schedule instead. No bias correction (as upstream). Decoupled decay is θ + (−ηλ)θ as upstream's
 * `param.add_(param, alpha=-lr*weight_decay)` and is skipped on the first step; L2 decay enters g on every step,
 * the first included. The lerp is evaluated as torch.lerp evaluates it.
 *
 * State: `expAvg` (m) and `expAvgSq` (v).
 */
export const adoptDefinition = defineOptimizer<AdoptOptions>({
  name: 'adopt',
  title: 'ADOPT',
  kind: 'elementwise',
  schema: {
    lr: opt.nonNegative(1e-3, 'Learning rate η.'),
    betas: opt.betas([0.9, 0.9999]),
    eps: opt.nonNegative(1e-6, 'ε, the floor of √v in max(√v, ε).'),
    clipLambda: opt.oneOf(['quarterPower', 'none'], 'quarterPower', 'Clipping of the normalised gradient: ±(t − 1)^{1/4}, or none.'),
    weightDecay: opt.nonNegative(0, 'Weight decay λ (L2 or decoupled, see decoupledWeightDecay).'),
    decoupledWeightDecay: opt.flag(false, 'Decoupled weight decay θ ← θ·(1 − ηλ) instead of L2.'),
    maximize: opt.flag(false, 'Maximize the objective.'),
  },
  slots: (_o, shape) => [
    { name: 'expAvg', shape },
    { name: 'expAvgSq', shape },
  ],
  update({ options: o, param: theta, grad, slots, step: t }) {
    const [beta1, beta2] = o.betas;
    const { lr, eps, weightDecay: lambda, decoupledWeightDecay, maximize } = o;
    const m = slots.expAvg as Float64Array;
    const v = slots.expAvgSq as Float64Array;
    const s = t - 1;
    const clip = adoptClip(o.clipLambda, s);
    for (let i = 0; i < theta.length; i++) {
      let g = maximize ? -(grad[i] as number) : (grad[i] as number);
      if (lambda !== 0 && !decoupledWeightDecay) g = g + lambda * (theta[i] as number);
      if (s === 0) {
        v[i] = (v[i] as number) + g * g;
        continue;
      }
      if (lambda !== 0 && decoupledWeightDecay) theta[i] = (theta[i] as number) + -lr * lambda * (theta[i] as number);
      const denom = Math.max(Math.sqrt(v[i] as number), eps);
      const normed = Math.min(Math.max(g / denom, -clip), clip);
      m[i] = lerpTorch(m[i] as number, normed, 1 - beta1);
      theta[i] = (theta[i] as number) + -lr * (m[i] as number);
      v[i] = beta2 * (v[i] as number) + (1 - beta2) * g * g;
    }
  },
});

/**
 * The clipping bound of ADOPT's normalised gradient at upstream's step count `s` (= t − 1): s^{1/4}, correctly
 * rounded as Python's `step**0.25` (glibc's pow) gives it — V8's `**` is an ulp off at some integers (4, 8, 11, …),
 * which would break the bitwise agreement with the golden trajectories — or ∞ for `"none"`.
 */
export function adoptClip(clipLambda: AdoptOptions['clipLambda'], s: number): number {
  return clipLambda === 'quarterPower' ? quarterRoot(s) : Infinity;
}

/** s^{1/4} correctly rounded, for a non-negative integer s (exact rational comparisons with BigInt). */
function quarterRoot(s: number): number {
  if (s === 0 || !Number.isFinite(s)) return s;
  const r = Math.sqrt(Math.sqrt(s));
  // The correctly rounded root is the double c with mid(c⁻, c)⁴ ≤ s ≤ mid(c, c⁺)⁴; it is r or a neighbour of r.
  const target = BigInt(s);
  const below = (a: number, b: number): boolean => {
    // mid(a, b)⁴ ≤ s, exactly: a = A·2^ea, b = B·2^eb, mid = (A·2^(ea−e) + B·2^(eb−e))·2^(e−1).
    const [A, ea] = exactParts(a);
    const [B, eb] = exactParts(b);
    const e = Math.min(ea, eb);
    const H = (A << BigInt(ea - e)) + (B << BigInt(eb - e));
    const shift = 4 * (e - 1);
    return shift >= 0 ? H ** 4n << BigInt(shift) <= target : H ** 4n <= target << BigInt(-shift);
  };
  let c = r;
  while (!below(prevDouble(c), c)) c = prevDouble(c);
  while (below(c, nextDouble(c))) c = nextDouble(c);
  return c;
}

const scratch = new DataView(new ArrayBuffer(8));

/** d = M·2^e with M an integer (d > 0, finite). */
function exactParts(d: number): [bigint, number] {
  scratch.setFloat64(0, d);
  const bits = scratch.getBigUint64(0);
  const exp = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & 0xfffffffffffffn;
  return exp === 0 ? [frac, -1074] : [frac | (1n << 52n), exp - 1075];
}

function nextDouble(d: number): number {
  scratch.setFloat64(0, d);
  scratch.setBigUint64(0, scratch.getBigUint64(0) + 1n);
  return scratch.getFloat64(0);
}

function prevDouble(d: number): number {
  scratch.setFloat64(0, d);
  scratch.setBigUint64(0, scratch.getBigUint64(0) - 1n);
  return scratch.getFloat64(0);
}

/**
 * Creates an ADOPT spec; see {@link adoptDefinition} for the update rule and the formulation followed.
 *
 * @example
 * ```ts
 * const spec = adopt({ lr: 1e-3, weightDecay: 0.01, decoupledWeightDecay: true }); // AdamW-style decay
 * const paper = adopt({ clipLambda: 'none' }); // the paper's Algorithm 1, without clipping
 * ```
 */
export function adopt(options?: Partial<AdoptOptions & CommonOptions>): OptimizerSpec<AdoptOptions> {
  return makeSpec(adoptDefinition, options);
}
