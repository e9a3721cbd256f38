import * as tf from '@tensorflow/tfjs-core';
import { inversePermutation, soapEigenbasis, soapLayout, soapRefreshBasis, type SoapOptions } from '@descent/core';
import type { TfjsKernel } from '../kernel.js';

/** The permutation that brings mode i to the front, and the d_i × (rest) unfolding of x along it. */
function unfold(x: tf.Tensor, shape: readonly number[], i: number): { perm: number[]; matrix: tf.Tensor2D } {
  const perm = [i, ...shape.map((_, j) => j).filter((j) => j !== i)];
  const moved = i === 0 ? x : tf.transpose(x, perm);
  const d = shape[i] as number;
  return { perm, matrix: tf.reshape(moved, [d, d === 0 ? 0 : x.size / d]) };
}

/** X ×ᵢ M (Y₍ᵢ₎ = M·X₍ᵢ₎), or X ×ᵢ Mᵀ with `transpose`, folded back into x's shape. */
function modeProduct(m: tf.Tensor, x: tf.Tensor, shape: readonly number[], i: number, transpose: boolean): tf.Tensor {
  const { perm, matrix } = unfold(x, shape, i);
  const y = tf.matMul(m as tf.Tensor2D, matrix, transpose, false);
  if (i === 0) return tf.reshape(y, [...shape]);
  return tf.transpose(tf.reshape(y, perm.map((j) => shape[j] as number)), inversePermutation(perm));
}

/** A host copy of a float32 device matrix, symmetrised (the Gram products round each triangle on its own). */
function readSymmetric(h: tf.Tensor, d: number): Float64Array {
  const values = h.dataSync();
  const sym = new Float64Array(d * d);
  for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) sym[a * d + b] = 0.5 * ((values[a * d + b] as number) + (values[b * d + a] as number));
  return sym;
}

/**
 * SOAP on TF.js; the update rule and its order of operations are those of `core/src/optimizers/soap.ts`
 * (nikhilvyas/SOAP's soap.py @ f42d296). On the device in float32: the mode Gram matrices and the lerp of the
 * preconditioners GG<i>, both projections (mode products with Qᵢᵀ and Qᵢ as `tf.matMul`s on transposed views),
 * Adam's moments in the eigenbasis, the step and the decoupled decay, the permutation of v on refresh (`tf.gather`)
 * and the rotation of m into the new basis. On the host in Float64 (TF.js has no symmetric eigendecomposition or
 * QR): the first eigenbasis (core's `soapEigenbasis`, Jacobi) and each refresh (`soapRefreshBasis`: the sort by
 * diag(QᵀGGQ), one power iteration, Householder QR), from a synchronous readback (`dataSync`) of GGᵢ and Qᵢ on
 * step 1 and every `preconditionFrequency` steps after, uploaded as float32. Step sizes and bias corrections are
 * Float64 host scalars.
 */
export const soapKernel: TfjsKernel<SoapOptions> = {
  update({ options: o, shape, param: theta, grad, slots, step: t }) {
    const layout = soapLayout(o, shape);
    const work = layout.shape;
    const perm = layout.permutation;
    const permuted = perm ? perm.map((i) => shape[i] as number) : null;
    const toWork = (x: tf.Tensor): tf.Tensor => tf.reshape(perm ? tf.transpose(x, [...perm]) : x, [...work]);
    const fromWork = (x: tf.Tensor): tf.Tensor =>
      perm && permuted ? tf.transpose(tf.reshape(x, permuted), inversePermutation(perm)) : tf.reshape(x, [...shape]);
    const [beta1, beta2] = o.betas;
    const shampooBeta = o.shampooBeta >= 0 ? o.shampooBeta : beta2;
    const g = toWork(grad);

    const updateStatistics = (): void => {
      for (const i of layout.modes) {
        const gg = slots[`GG${i}`]!;
        const { matrix } = unfold(g, work, i);
        const gram = tf.matMul(matrix, matrix, false, true);
        // torch.lerp's two forms (core's lerpTorch), chosen on the host by the weight.
        const w = 1 - shampooBeta;
        gg.assign(w < 0.5 ? tf.add(gg, tf.mul(w, tf.sub(gram, gg))) : tf.sub(gram, tf.mul(tf.sub(gram, gg), 1 - w)));
      }
    };
    const project = (x: tf.Tensor, back: boolean): tf.Tensor => {
      let y = x;
      for (const i of layout.modes) y = modeProduct(slots[`Q${i}`]!, y, work, i, !back);
      return y;
    };

    if (t === 1) {
      updateStatistics();
      for (const i of layout.modes) {
        const d = work[i] as number;
        slots[`Q${i}`]!.assign(tf.tensor(Float32Array.from(soapEigenbasis(readSymmetric(slots[`GG${i}`]!, d), d)), [d, d], 'float32'));
      }
      return;
    }

    const s = t - 1;
    const mSlot = slots.expAvg!;
    const vSlot = slots.expAvgSq!;
    const gp = project(g, false);
    const m = tf.add(tf.mul(beta1, toWork(mSlot)), tf.mul(1 - beta1, gp));
    let v = tf.add(tf.mul(beta2, toWork(vSlot)), tf.mul(1 - beta2, tf.mul(gp, gp)));
    const ratio = tf.div(m, tf.add(tf.sqrt(v), o.eps));
    const stepSize = o.correctBias ? (o.lr * Math.sqrt(1 - beta2 ** s)) / (1 - beta1 ** s) : o.lr;
    let n = fromWork(project(ratio, true));
    if (o.normalizeGrads && n.size > 0) n = tf.div(n, tf.add(tf.sqrt(tf.mean(tf.square(n))), 1e-30));
    let next = tf.sub(theta, tf.mul(stepSize, n));
    if (o.weightDecay > 0) next = tf.add(next, tf.mul(-o.lr * o.weightDecay, next));
    theta.assign(next);

    updateStatistics();
    let mOut = m;
    if (s % o.preconditionFrequency === 0) {
      const original = project(m, true);
      for (const i of layout.modes) {
        const d = work[i] as number;
        const q = slots[`Q${i}`]!;
        const refreshed = soapRefreshBasis(readSymmetric(slots[`GG${i}`]!, d), Float64Array.from(q.dataSync()), d);
        v = tf.gather(v, tf.tensor1d(refreshed.order, 'int32'), i);
        q.assign(tf.tensor(Float32Array.from(refreshed.q), [d, d], 'float32'));
      }
      mOut = project(original, false);
    }
    mSlot.assign(fromWork(mOut));
    vSlot.assign(fromWork(v));
  },
};
