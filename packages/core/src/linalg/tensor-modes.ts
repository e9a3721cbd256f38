/**
 * Mode-i operations on dense row-major tensors (Kolda & Bader, "Tensor Decompositions and Applications", SIAM
 * Review 2009, §2.4–2.5), for Shampoo. A tensor X of shape (d₀, …, d_{k−1}) is read, along mode i, as a
 * three-index array X[o, a, r] with o running over the modes before i (outer = d₀⋯d_{i−1}), a over mode i, and
 * r over the modes after i (inner = d_{i+1}⋯d_{k−1}); element (o, a, r) is `x[(o·dᵢ + a)·inner + r]`. The
 * mode-i unfolding X₍ᵢ₎ is the dᵢ × (outer·inner) matrix with columns (o, r) in that order, which is what
 * torch-optimizer's `grad.transpose_(0, i).contiguous().view(dᵢ, -1)` produces, but without moving any data.
 *
 * @packageDocumentation
 */

/** outer = d₀⋯d_{i−1}, d = dᵢ, inner = d_{i+1}⋯d_{k−1}. */
export function modeSizes(shape: readonly number[], mode: number): { outer: number; d: number; inner: number } {
  if (!Number.isInteger(mode) || mode < 0 || mode >= shape.length) throw new RangeError(`mode ${mode} is not an axis of shape [${shape.join(', ')}]`);
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < mode; i++) outer *= shape[i] as number;
  for (let i = mode + 1; i < shape.length; i++) inner *= shape[i] as number;
  return { outer, d: shape[mode] as number, inner };
}

/**
 * H ← H + X₍ᵢ₎·X₍ᵢ₎ᵀ: adds the mode-i Gram matrix of x, (X₍ᵢ₎X₍ᵢ₎ᵀ)_ab = Σ_{o,r} X[o,a,r]·X[o,b,r] (x contracted
 * with itself over every mode but i), to the dᵢ × dᵢ row-major `h`. Each entry's sum is completed before it
 * is added (as `precond.add_(grad @ grad.t())` does), and entries (a, b) and (b, a) are the same sum, so `h`
 * stays exactly symmetric.
 */
export function addModeGram(x: Float64Array, shape: readonly number[], mode: number, h: Float64Array): void {
  const { outer, d, inner } = modeSizes(shape, mode);
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      let sum = 0;
      for (let o = 0; o < outer; o++) {
        for (let r = 0; r < inner; r++) sum += (x[(o * d + a) * inner + r] as number) * (x[(o * d + b) * inner + r] as number);
      }
      h[a * d + b] = (h[a * d + b] as number) + sum;
      if (b !== a) h[b * d + a] = (h[b * d + a] as number) + sum;
    }
  }
}

/**
 * The mode-i product Y = X ×ᵢ M with a dᵢ × dᵢ row-major M: Y[o, a, r] = Σ_b M[a, b]·X[o, b, r], i.e.
 * Y₍ᵢ₎ = M·X₍ᵢ₎. Returns a new tensor of the same shape and layout as x.
 */
export function modeProduct(m: Float64Array, x: Float64Array, shape: readonly number[], mode: number): Float64Array {
  const { outer, d, inner } = modeSizes(shape, mode);
  const y = new Float64Array(x.length);
  for (let o = 0; o < outer; o++) {
    for (let a = 0; a < d; a++) {
      for (let r = 0; r < inner; r++) {
        let sum = 0;
        for (let b = 0; b < d; b++) sum += (m[a * d + b] as number) * (x[(o * d + b) * inner + r] as number);
        y[(o * d + a) * inner + r] = sum;
      }
    }
  }
  return y;
}
