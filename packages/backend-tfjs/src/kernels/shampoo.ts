import * as tf from '@tensorflow/tfjs-core';
import { modeSizes, resolveMatrixView, shampooPreconditioned, type ShampooOptions } from '@descent/core';
import { addModeGramF32, inverseRootNewtonSchulzF32, modeProductF32, type Linalg } from '@descent/wasm-linalg';
import type { TfjsKernel } from '../kernel.js';
import { inverseRootEigh, inverseRootSchedule } from '@descent/core';

/** The permutation that brings mode i to the front, and the d_i × (rest) unfolding of x along it. */
function unfold(x: tf.Tensor, shape: readonly number[], i: number): { perm: number[]; matrix: tf.Tensor2D } {
  const perm = [i, ...shape.map((_, j) => j).filter((j) => j !== i)];
  const moved = i === 0 ? x : tf.transpose(x, perm);
  const d = shape[i] as number;
  return { perm, matrix: tf.reshape(moved, [d, d === 0 ? 0 : x.size / d]) };
}

/** H + X₍ᵢ₎·X₍ᵢ₎ᵀ (core's `addModeGram`): the order of the columns of the unfolding does not change the Gram matrix. */
function addModeGram(x: tf.Tensor, shape: readonly number[], i: number, h: tf.Tensor): tf.Tensor {
  const { matrix } = unfold(x, shape, i);
  return tf.add(h, tf.matMul(matrix, matrix, false, true));
}

/** X ×ᵢ M, i.e. Y₍ᵢ₎ = M·X₍ᵢ₎ (core's `modeProduct`), folded back into x's shape. */
function modeProduct(m: tf.Tensor, x: tf.Tensor, shape: readonly number[], i: number): tf.Tensor {
  const { perm, matrix } = unfold(x, shape, i);
  const y = tf.matMul(m as tf.Tensor2D, matrix);
  if (i === 0) return tf.reshape(y, [...shape]);
  const inverse = perm.map((_, j) => perm.indexOf(j));
  return tf.transpose(tf.reshape(y, perm.map((j) => shape[j] as number)), inverse);
}

/**
 * The coupled iteration of seed 000 for H^{−1/r} (core's `inverseRootNewtonSchulz`), on the device in float32:
 * t = ‖H‖_F, P₀ = H/t + ε′I, G₀ = I, W = (aI + bP) + cP², G ← G·W, P ← P·W^r, result t^{−1/r}·G. The coefficient
 * rows are host scalars; t^{−1/r} is computed on the device from the device norm (no readback).
 *
 * Float32: P₀'s eigenvalues lie in (0, 1 + ε′] and those near ε′ = 1e-5 (the default) are resolved only to
 * about u/ε′ ≈ 1e-2 relative, so directions of H with eigenvalues below ~1e-3·‖H‖_F get a visibly less accurate
 * inverse root than the Float64 reference's; well-conditioned preconditioners agree to ~1e-5.
 */
function inverseRootNewtonSchulzTfjs(h: tf.Tensor2D, n: number, r: number, steps: number, eps: number): tf.Tensor {
  const t = tf.sqrt(tf.sum(tf.square(h)));
  const eye = tf.eye(n);
  let P: tf.Tensor2D = tf.add(tf.div(h, t), tf.mul(eps, eye));
  let G: tf.Tensor2D = eye;
  for (const [a, b, c] of inverseRootSchedule(r, steps)) {
    const P2 = tf.matMul(P, P);
    const W: tf.Tensor2D = tf.add(tf.add(tf.mul(a, eye), tf.mul(b, P)), tf.mul(c, P2));
    let Wr = W;
    for (let k = 1; k < r; k++) Wr = tf.matMul(Wr, W);
    G = tf.matMul(G, W);
    P = tf.matMul(P, Wr);
  }
  return tf.mul(G, tf.pow(t, -1 / r));
}

/** H^{−1/p} by Jacobi in Float64 on the host from the float32 values `h` (symmetrized first), rounded to float32. */
function eighRoot(h: ArrayLike<number>, d: number, p: number): Float32Array {
  const sym = new Float64Array(d * d);
  for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) sym[a * d + b] = 0.5 * ((h[a * d + b] as number) + (h[b * d + a] as number));
  return Float32Array.from(inverseRootEigh(sym, d, p));
}

/**
 * The preconditioning loop of {@link shampooKernel} on the host with wasm-linalg (cpu and wasm backends): x, every
 * H⁽ⁱ⁾ and R⁽ⁱ⁾ read with `dataSync` (copies: d² per mode and the parameter's size), mode statistics and mode
 * products as float32 GEMMs, the `newtonSchulz` root as `inverseRootNewtonSchulzF32`; H⁽ⁱ⁾ and refreshed
 * R⁽ⁱ⁾ assigned back. Returns X⁽ᵏ⁾.
 */
function preconditionHost(la: Linalg, o: ShampooOptions, shape: readonly number[], x0t: tf.Tensor, slots: Readonly<Record<string, tf.Variable>>, p: number, refresh: boolean): tf.Tensor {
  const x0 = Float32Array.from(x0t.dataSync() as Float32Array);
  let x: Float32Array = x0;
  for (const i of resolveMatrixView(o.matrixView, shape).order) {
    const { outer, d, inner } = modeSizes(shape, i);
    if (!shampooPreconditioned(o, d)) continue; // X ×ᵢ I = X
    const H = slots[`precond${i}`]!;
    const R = slots[`invPrecond${i}`]!;
    const h = addModeGramF32(la, o.statistics === 'paper' ? x0 : x, outer, d, inner, Float32Array.from(H.dataSync() as Float32Array));
    H.assign(tf.tensor(h, [d, d], 'float32'));
    let r: Float32Array;
    if (refresh) {
      r = o.inverseRoot === 'eigh' ? eighRoot(h, d, p) : inverseRootNewtonSchulzF32(la, h, d, p, o.iterSteps, o.iterEps);
      R.assign(tf.tensor(r, [d, d], 'float32'));
    } else {
      r = R.dataSync() as Float32Array;
    }
    x = modeProductF32(la, r, x, outer, d, inner);
  }
  return tf.tensor(x, [...shape], 'float32');
}

/**
 * Shampoo on TF.js; the update rule and its order of operations are those of `core/src/optimizers/shampoo.ts`
 * (torch-optimizer's loop over the modes, with the `exponent`, `statistics` and `inverseRoot` options). Mode
 * statistics H⁽ⁱ⁾ += X₍ᵢ₎X₍ᵢ₎ᵀ and mode products X ×ᵢ R⁽ⁱ⁾ are `tf.matMul`s on transposed/reshaped views on GPU
 * backends, and float32 GEMMs of `@descent/wasm-linalg` on the host on `cpu` and `wasm` (see
 * {@link preconditionHost}); the refresh schedule (t − 1) mod f = 0 and the root order p are decided on the host.
 *
 * Inverse roots:
 * - `inverseRoot: "eigh"` (default): TF.js has no symmetric eigendecomposition, so each refresh reads H⁽ⁱ⁾ back
 *   to the host (a synchronous `dataSync`, which stalls a GPU pipeline), symmetrizes it, computes H^{−1/p} in
 *   Float64 by the same Jacobi method as the reference, and uploads the result rounded to float32. With
 *   `updateFreq` f the readback happens every f steps. H itself accumulates in float32 on the device, so the
 *   root differs from the reference's by about κ(H)·u relative (κ the condition number, u = 2⁻²⁴).
 * - `inverseRoot: "newtonSchulz"`: the coupled iteration runs in float32 with matrix products only: on the
 *   device with no readback on GPU backends (see the precision note of the iteration above), with wasm-linalg
 *   on cpu and wasm, where it is the fast choice (p + 2 products of d³ per step, no Jacobi sweeps).
 */
export const shampooKernel: TfjsKernel<ShampooOptions> = {
  update({ options: o, shape, param: theta, grad, slots, step: t, linalg }) {
    const { lr, momentum: mu, weightDecay: lambda } = o;
    const k = shape.length;
    const u = slots.momentumBuffer;

    let x: tf.Tensor = grad;
    if (u) x = tf.add(tf.mul(grad, 1 - mu), tf.mul(mu, t === 1 ? grad : u));
    if (lambda > 0) x = tf.add(x, tf.mul(lambda, theta));

    const x0 = x;
    const p = (o.exponent === 'paper' ? 2 : 1) * k;
    const refresh = (t - 1) % o.updateFreq === 0;
    const la = k > 0 && x.size > 0 ? linalg : undefined;
    if (la) x = preconditionHost(la, o, shape, x0, slots, p, refresh);
    else for (const i of resolveMatrixView(o.matrixView, shape).order) {
      const d = shape[i] as number;
      if (!shampooPreconditioned(o, d)) continue; // X ×ᵢ I = X
      const H = slots[`precond${i}`]!;
      const R = slots[`invPrecond${i}`]!;
      H.assign(addModeGram(o.statistics === 'paper' ? x0 : x, shape, i, H));
      if (refresh) {
        if (o.inverseRoot === 'eigh') {
          R.assign(tf.tensor(eighRoot(H.dataSync(), d, p), [d, d], 'float32'));
        } else {
          R.assign(inverseRootNewtonSchulzTfjs(H as tf.Tensor as tf.Tensor2D, d, p, o.iterSteps, o.iterEps));
        }
      }
      x = modeProduct(R, x, shape, i);
    }

    if (u) u.assign(x);
    theta.assign(tf.sub(theta, tf.mul(lr, x)));
  },
};
