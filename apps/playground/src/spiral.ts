import type { Tensor } from '@descent/core';

/**
 * The second tab's model: a 2-D spiral of three classes (CS231n's toy problem) and a one-hidden-layer network,
 * 2 → 16 (tanh) → 3 (softmax), trained full-batch with cross-entropy. Forward and backward are written out in
 * Float64 so that the only thing that differs between the curves is the optimizer.
 *
 * @packageDocumentation
 */

export const HIDDEN = 16;
export const CLASSES = 3;

/** Points and labels. */
export interface Dataset {
  readonly x: Float64Array; // [n, 2]
  readonly labels: Int32Array;
}

/** A seeded PRNG (mulberry32): the same data and initial weights on every visit. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `perClass` points per class on three interleaved spiral arms with a little noise. */
export function spiral(perClass = 100, seed = 1): Dataset {
  const rand = mulberry32(seed);
  const n = perClass * CLASSES;
  const x = new Float64Array(n * 2);
  const labels = new Int32Array(n);
  for (let c = 0; c < CLASSES; c++) {
    for (let i = 0; i < perClass; i++) {
      const k = c * perClass + i;
      const r = i / perClass;
      const t = c * 4 + r * 4 + (rand() - 0.5) * 0.4;
      x[2 * k] = r * Math.sin(t);
      x[2 * k + 1] = r * Math.cos(t);
      labels[k] = c;
    }
  }
  return { x, labels };
}

/** The network's parameters, named as the optimizers see them (PyTorch's layout: weights [out, in]). */
export function initialWeights(seed = 7): Record<'w1' | 'b1' | 'w2' | 'b2', Tensor> {
  const rand = mulberry32(seed);
  const normal = (scale: number) => () => scale * Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const fill = (n: number, f: () => number) => Float64Array.from({ length: n }, f);
  return {
    w1: { shape: [HIDDEN, 2], data: fill(HIDDEN * 2, normal(1)) },
    b1: { shape: [HIDDEN], data: new Float64Array(HIDDEN) },
    w2: { shape: [CLASSES, HIDDEN], data: fill(CLASSES * HIDDEN, normal(1 / Math.sqrt(HIDDEN))) },
    b2: { shape: [CLASSES], data: new Float64Array(CLASSES) },
  };
}

/** Mean cross-entropy, accuracy and (when `grads` is given) the gradients of the loss. */
export function lossAndGradients(
  p: Readonly<Record<'w1' | 'b1' | 'w2' | 'b2', Tensor>>,
  data: Dataset,
  grads?: Record<'w1' | 'b1' | 'w2' | 'b2', Tensor>,
): { loss: number; accuracy: number } {
  const n = data.labels.length;
  const w1 = p.w1.data, b1 = p.b1.data, w2 = p.w2.data, b2 = p.b2.data;
  if (grads) for (const g of Object.values(grads)) g.data.fill(0);
  const h = new Float64Array(HIDDEN);
  const z = new Float64Array(CLASSES);
  let loss = 0;
  let correct = 0;
  for (let k = 0; k < n; k++) {
    const x0 = data.x[2 * k] as number;
    const x1 = data.x[2 * k + 1] as number;
    for (let j = 0; j < HIDDEN; j++) h[j] = Math.tanh((w1[2 * j] as number) * x0 + (w1[2 * j + 1] as number) * x1 + (b1[j] as number));
    let max = -Infinity;
    for (let c = 0; c < CLASSES; c++) {
      let s = b2[c] as number;
      for (let j = 0; j < HIDDEN; j++) s += (w2[c * HIDDEN + j] as number) * (h[j] as number);
      z[c] = s;
      if (s > max) max = s;
    }
    let sum = 0;
    for (let c = 0; c < CLASSES; c++) sum += Math.exp((z[c] as number) - max);
    const y = data.labels[k] as number;
    loss += Math.log(sum) + max - (z[y] as number);
    let argmax = 0;
    for (let c = 1; c < CLASSES; c++) if ((z[c] as number) > (z[argmax] as number)) argmax = c;
    if (argmax === y) correct++;
    if (!grads) continue;
    // dL/dz = softmax − onehot, averaged over the batch.
    for (let c = 0; c < CLASSES; c++) {
      const dz = (Math.exp((z[c] as number) - max) / sum - (c === y ? 1 : 0)) / n;
      grads.b2.data[c] = (grads.b2.data[c] as number) + dz;
      for (let j = 0; j < HIDDEN; j++) grads.w2.data[c * HIDDEN + j] = (grads.w2.data[c * HIDDEN + j] as number) + dz * (h[j] as number);
      z[c] = dz; // reuse as dz for the hidden layer below
    }
    for (let j = 0; j < HIDDEN; j++) {
      let dh = 0;
      for (let c = 0; c < CLASSES; c++) dh += (z[c] as number) * (w2[c * HIDDEN + j] as number);
      const da = dh * (1 - (h[j] as number) ** 2);
      grads.b1.data[j] = (grads.b1.data[j] as number) + da;
      grads.w1.data[2 * j] = (grads.w1.data[2 * j] as number) + da * x0;
      grads.w1.data[2 * j + 1] = (grads.w1.data[2 * j + 1] as number) + da * x1;
    }
  }
  return { loss: loss / n, accuracy: correct / n };
}
