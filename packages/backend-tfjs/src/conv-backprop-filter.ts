import * as tf from '@tensorflow/tfjs-core';

/**
 * The filter gradient of a 2-D convolution for TF.js backends that lack the `Conv2DBackpropFilter` kernel —
 * tfjs-backend-wasm 4.22 has the forward convolution and `Conv2DBackpropInput` but not this one, so
 * `model.fit` of any CNN fails there. Not part of the optimizers: a training path for the CNN comparisons
 * (docs/notes/cnn-training-path.md).
 *
 * The kernel is im2col plus one matrix product on the backend's own `BatchMatMul` (XNNPACK on wasm): with the
 * patches of x as the rows of X_col (N·OH·OW × KH·KW·IN, zeros where a patch reaches into the padding) and dy as
 * an N·OH·OW × OUT matrix,
 *
 * $$ \frac{\partial L}{\partial W} = X_{\text{col}}^\top \, dY \qquad (\text{reshaped to } [KH, KW, IN, OUT]). $$
 *
 * {@link registerWasmTrainingKernels} adds the input gradient the same way (dX = col2im(dY·Wᵀ)) and materializes
 * BatchMatMul's transposes, for a CNN trained on tfjs-backend-wasm.
 *
 * @packageDocumentation
 */

type Rank4 = [number, number, number, number];

/** The backend methods the kernel uses (every TF.js backend has them). */
interface Backend {
  readSync(dataId: tf.DataId): unknown;
  write(values: Float32Array, shape: number[], dtype: tf.DataType): tf.DataId;
  disposeData(dataId: tf.DataId): boolean;
}

/**
 * X_col for NHWC `x`: row (b, oy, ox), column (kh, kw, c) holds x[b, oy·sh + kh − top, ox·sw + kw − left, c], 0
 * outside the input.
 */
export function im2col(x: Float32Array, info: tf.backend_util.Conv2DInfo): Float32Array {
  const k = info.filterHeight * info.filterWidth * info.inChannels;
  const cols = new Float32Array(info.batchSize * info.outHeight * info.outWidth * k);
  forEachPatch(info, (row, col, from) => cols.set(x.subarray(from, from + info.inChannels), row * k + col));
  return cols;
}

/**
 * X_colᵀ (k × m, k = KH·KW·IN, m = N·OH·OW): the same numbers as {@link im2col}, transposed, so that dL/dW is a
 * product of untransposed matrices — tfjs-backend-wasm's BatchMatMul sends those to XNNPACK and any transposed
 * operand to a plain loop about 15× slower (measured: 7744 × 288 by 7744 × 64, 21 ms vs 331 ms).
 */
export function im2colTransposed(x: Float32Array, info: tf.backend_util.Conv2DInfo): Float32Array {
  const m = info.batchSize * info.outHeight * info.outWidth;
  const c = info.inChannels;
  const cols = new Float32Array(m * info.filterHeight * info.filterWidth * c);
  forEachPatch(info, (row, col, from) => {
    for (let ci = 0; ci < c; ci++) cols[(col + ci) * m + row] = x[from + ci] as number;
  });
  return cols;
}

/**
 * Visits every (patch row, filter tap) pair that lies inside the input: `row` = (b, oy, ox), `col` = the first
 * column (kh, kw, 0) of the tap, `from` = the offset of x[b, iy, ix, 0].
 */
function forEachPatch(info: tf.backend_util.Conv2DInfo, visit: (row: number, col: number, from: number) => void): void {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, strideHeight, strideWidth, filterHeight, filterWidth, dilationHeight, dilationWidth } = info;
  const { top, left } = info.padInfo;
  let row = 0;
  for (let b = 0; b < batchSize; b++) {
    for (let oy = 0; oy < outHeight; oy++) {
      for (let ox = 0; ox < outWidth; ox++, row++) {
        let col = 0;
        for (let kh = 0; kh < filterHeight; kh++) {
          const iy = oy * strideHeight + kh * dilationHeight - top;
          for (let kw = 0; kw < filterWidth; kw++, col += inChannels) {
            const ix = ox * strideWidth + kw * dilationWidth - left;
            if (iy < 0 || iy >= inHeight || ix < 0 || ix >= inWidth) continue; // padding: stays 0
            visit(row, col, ((b * inHeight + iy) * inWidth + ix) * inChannels);
          }
        }
      }
    }
  }
}

/** The inverse scatter of {@link im2col}: every column entry added back into the input position it came from. */
export function col2im(cols: Float32Array, info: tf.backend_util.Conv2DInfo): Float32Array {
  const k = info.filterHeight * info.filterWidth * info.inChannels;
  const c = info.inChannels;
  const out = new Float32Array(info.batchSize * info.inHeight * info.inWidth * c);
  forEachPatch(info, (row, col, from) => {
    const at = row * k + col;
    for (let ci = 0; ci < c; ci++) out[from + ci] = (out[from + ci] as number) + (cols[at + ci] as number);
  });
  return out;
}

/** The kernel function (NHWC only, as tfjs-layers uses by default). */
const conv2DBackpropFilter = (backendName: string): tf.KernelFunc => (args) => {
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  if (dataFormat !== 'NHWC') throw new Error(`Conv2DBackpropFilter on ${backendName}: only dataFormat NHWC is implemented, got ${dataFormat}`);
  const backend = args.backend as unknown as Backend;
  const info = tf.backend_util.computeConv2DInfo(x.shape as Rank4, filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
  const m = info.batchSize * info.outHeight * info.outWidth;
  const k = info.filterHeight * info.filterWidth * info.inChannels;
  const cols = im2colTransposed(Float32Array.from(backend.readSync(x.dataId) as ArrayLike<number>), info);
  const a: tf.TensorInfo = { dataId: backend.write(cols, [1, k, m], 'float32'), shape: [1, k, m], dtype: 'float32' };
  const b: tf.TensorInfo = { dataId: dy.dataId, shape: [1, m, info.outChannels], dtype: 'float32' };
  const matMul = tf.getKernel('BatchMatMul', backendName);
  if (!matMul) throw new Error(`Conv2DBackpropFilter on ${backendName}: the backend has no BatchMatMul kernel`);
  try {
    const out = matMul.kernelFunc({ inputs: { a, b }, backend: args.backend, attrs: { transposeA: false, transposeB: false } }) as tf.TensorInfo;
    // Same storage, the filter's shape (what a Reshape kernel returns).
    return { dataId: out.dataId, shape: [...filterShape], dtype: 'float32' };
  } finally {
    backend.disposeData(a.dataId);
  }
};

/**
 * Registers the im2col `Conv2DBackpropFilter` kernel for `backendName` (default `wasm`) unless the backend has
 * one already; returns whether it registered. An explicit call, not an import side effect.
 *
 * With tfjs-backend-wasm 4.22 loaded, `registerConv2DBackpropFilter('wasm')` adds the kernel (and returns true)
 * before `tf.setBackend('wasm')`, so that a CNN's `model.fit` trains there. A backend with a kernel of its own keeps
 * it:
 *
 * @example
 * ```ts
 * import '@tensorflow/tfjs-backend-cpu';
 * import { registerConv2DBackpropFilter } from '@descent/backend-tfjs';
 *
 * if (registerConv2DBackpropFilter('cpu')) throw new Error('tfjs-backend-cpu has its own Conv2DBackpropFilter');
 * ```
 */
export function registerConv2DBackpropFilter(backendName = 'wasm'): boolean {
  if (tf.getKernel('Conv2DBackpropFilter', backendName)) return false;
  tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName, kernelFunc: conv2DBackpropFilter(backendName) });
  return true;
}

/** The input gradient dX = col2im(dY · Wᵀ), with Wᵀ (OUT × KH·KW·IN) transposed on the host so the product has no transposed operand. */
const conv2DBackpropInput = (backendName: string): tf.KernelFunc => (args) => {
  const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
  if (dataFormat !== 'NHWC') throw new Error(`Conv2DBackpropInput on ${backendName}: only dataFormat NHWC is implemented, got ${dataFormat}`);
  const backend = args.backend as unknown as Backend;
  const info = tf.backend_util.computeConv2DInfo(inputShape as Rank4, filter.shape as Rank4, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
  const m = info.batchSize * info.outHeight * info.outWidth;
  const k = info.filterHeight * info.filterWidth * info.inChannels;
  const o = info.outChannels;
  const w = backend.readSync(filter.dataId) as Float32Array;
  const wt = new Float32Array(o * k);
  for (let r = 0; r < k; r++) for (let c = 0; c < o; c++) wt[c * k + r] = w[r * o + c] as number;
  const a: tf.TensorInfo = { dataId: dy.dataId, shape: [1, m, o], dtype: 'float32' };
  const b: tf.TensorInfo = { dataId: backend.write(wt, [1, o, k], 'float32'), shape: [1, o, k], dtype: 'float32' };
  const matMul = tf.getKernel('BatchMatMul', backendName);
  if (!matMul) throw new Error(`Conv2DBackpropInput on ${backendName}: the backend has no BatchMatMul kernel`);
  let cols: tf.TensorInfo | undefined;
  try {
    cols = matMul.kernelFunc({ inputs: { a, b }, backend: args.backend, attrs: { transposeA: false, transposeB: false } }) as tf.TensorInfo;
    const dx = col2im(backend.readSync(cols.dataId) as Float32Array, info);
    return { dataId: backend.write(dx, [...inputShape], 'float32'), shape: [...inputShape], dtype: 'float32' };
  } finally {
    backend.disposeData(b.dataId);
    if (cols) backend.disposeData(cols.dataId);
  }
};

/** A transpose of the last two axes of a rank-3 tensor, through the backend's own Transpose kernel. */
function swapLastTwo(t: tf.TensorInfo, backend: tf.KernelBackend, backendName: string): tf.TensorInfo {
  const transpose = tf.getKernel('Transpose', backendName);
  if (!transpose) throw new Error(`BatchMatMul on ${backendName}: the backend has no Transpose kernel`);
  const r = t.shape.length;
  const perm = [...t.shape.keys()];
  [perm[r - 2], perm[r - 1]] = [perm[r - 1] as number, perm[r - 2] as number];
  return transpose.kernelFunc({ inputs: { x: t }, backend, attrs: { perm } }) as tf.TensorInfo;
}

/**
 * MaxPoolGrad: each output's gradient goes to the first largest input of its window (row-major, strict >, as
 * tfjs-backend-cpu chooses among ties — after a ReLU many windows are all zeros), summed where windows overlap.
 */
const maxPoolGrad = (backendName: string): tf.KernelFunc => (args) => {
  const { dy, input } = args.inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
  const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as tf.MaxPoolGradAttrs;
  const backend = args.backend as unknown as Backend;
  const info = tf.backend_util.computePool2DInfo(input.shape as Rank4, filterSize, strides, 1, pad, dimRoundingMode);
  if (info.dataFormat !== 'channelsLast') throw new Error(`MaxPoolGrad on ${backendName}: only NHWC is implemented`);
  const x = backend.readSync(input.dataId) as Float32Array;
  const g = backend.readSync(dy.dataId) as Float32Array;
  const { batchSize, inHeight, inWidth, inChannels: c, outHeight, outWidth, strideHeight, strideWidth, filterHeight, filterWidth } = info;
  const { top, left } = info.padInfo;
  const dx = new Float32Array(x.length);
  let o = 0;
  for (let b = 0; b < batchSize; b++) {
    for (let oy = 0; oy < outHeight; oy++) {
      const y0 = Math.max(0, oy * strideHeight - top);
      const y1 = Math.min(inHeight, oy * strideHeight - top + filterHeight);
      for (let ox = 0; ox < outWidth; ox++) {
        const x0 = Math.max(0, ox * strideWidth - left);
        const x1 = Math.min(inWidth, ox * strideWidth - left + filterWidth);
        for (let ch = 0; ch < c; ch++, o++) {
          let best = -Infinity;
          let at = -1;
          for (let iy = y0; iy < y1; iy++) {
            for (let ix = x0; ix < x1; ix++) {
              const i = ((b * inHeight + iy) * inWidth + ix) * c + ch;
              const v = x[i] as number;
              if (v > best) {
                best = v;
                at = i;
              }
            }
          }
          if (at >= 0) dx[at] = (dx[at] as number) + (g[o] as number);
        }
      }
    }
  }
  return { dataId: backend.write(dx, [...input.shape], 'float32'), shape: [...input.shape], dtype: 'float32' };
};

const replaced = new Set<string>();

/**
 * Makes CNN training on `backendName` (default `wasm`) several times faster, by explicit call: registers the
 * im2col `Conv2DBackpropFilter` (as {@link registerConv2DBackpropFilter}), replaces the backend's
 * `Conv2DBackpropInput` by dX = col2im(dY·Wᵀ) on its BatchMatMul and `MaxPoolGrad` by a plain loop (the
 * backend's took ~30 ms per batch of the Fashion-MNIST CNN, the loop a few), and wraps its `BatchMatMul` so that a transposed
 * operand is transposed first (tfjs-backend-wasm 4.22 multiplies untransposed operands with XNNPACK and sends any
 * transposed one to a loop ~15× slower; the gradients of every dense layer have one). The results are the same
 * products summed in another order (float32 rounding differences only). Returns whether anything was replaced
 * (false the second time).
 *
 * @example
 * ```ts
 * import { registerWasmTrainingKernels } from '@descent/backend-tfjs';
 *
 * registerWasmTrainingKernels('wasm'); // before model.fit on tf.setBackend('wasm')
 * ```
 */
export function registerWasmTrainingKernels(backendName = 'wasm'): boolean {
  registerConv2DBackpropFilter(backendName);
  if (replaced.has(backendName)) return false;
  replaced.add(backendName);
  if (tf.getKernel('Conv2DBackpropInput', backendName)) tf.unregisterKernel('Conv2DBackpropInput', backendName);
  tf.registerKernel({ kernelName: 'Conv2DBackpropInput', backendName, kernelFunc: conv2DBackpropInput(backendName) });
  if (tf.getKernel('MaxPoolGrad', backendName)) tf.unregisterKernel('MaxPoolGrad', backendName);
  tf.registerKernel({ kernelName: 'MaxPoolGrad', backendName, kernelFunc: maxPoolGrad(backendName) });
  const matMul = tf.getKernel('BatchMatMul', backendName);
  if (matMul) {
    const plain = matMul.kernelFunc;
    tf.unregisterKernel('BatchMatMul', backendName);
    // Keep the original's setupFunc: tfjs-backend-wasm binds its C function there when the backend starts.
    tf.registerKernel({
      ...matMul,
      kernelFunc: (args) => {
        const { transposeA, transposeB } = args.attrs as unknown as tf.BatchMatMulAttrs;
        if (!transposeA && !transposeB) return plain(args);
        const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
        const backend = args.backend as unknown as Backend & tf.KernelBackend;
        const at = transposeA ? swapLastTwo(a, backend, backendName) : a;
        const bt = transposeB ? swapLastTwo(b, backend, backendName) : b;
        try {
          return plain({ ...args, inputs: { a: at, b: bt }, attrs: { ...args.attrs, transposeA: false, transposeB: false } });
        } finally {
          if (at !== a) backend.disposeData(at.dataId);
          if (bt !== b) backend.disposeData(bt.dataId);
        }
      },
    });
  }
  return true;
}
