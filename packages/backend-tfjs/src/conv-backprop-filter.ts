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
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, strideHeight, strideWidth, filterHeight, filterWidth, dilationHeight, dilationWidth } = info;
  const { top, left } = info.padInfo;
  const k = filterHeight * filterWidth * inChannels;
  const cols = new Float32Array(batchSize * outHeight * outWidth * k);
  let row = 0;
  for (let b = 0; b < batchSize; b++) {
    for (let oy = 0; oy < outHeight; oy++) {
      for (let ox = 0; ox < outWidth; ox++, row++) {
        let at = row * k;
        for (let kh = 0; kh < filterHeight; kh++) {
          const iy = oy * strideHeight + kh * dilationHeight - top;
          for (let kw = 0; kw < filterWidth; kw++, at += inChannels) {
            const ix = ox * strideWidth + kw * dilationWidth - left;
            if (iy < 0 || iy >= inHeight || ix < 0 || ix >= inWidth) continue; // padding: stays 0
            const from = ((b * inHeight + iy) * inWidth + ix) * inChannels;
            cols.set(x.subarray(from, from + inChannels), at);
          }
        }
      }
    }
  }
  return cols;
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
  const cols = im2col(Float32Array.from(backend.readSync(x.dataId) as ArrayLike<number>), info);
  const a: tf.TensorInfo = { dataId: backend.write(cols, [1, m, k], 'float32'), shape: [1, m, k], dtype: 'float32' };
  const b: tf.TensorInfo = { dataId: dy.dataId, shape: [1, m, info.outChannels], dtype: 'float32' };
  const matMul = tf.getKernel('BatchMatMul', backendName);
  if (!matMul) throw new Error(`Conv2DBackpropFilter on ${backendName}: the backend has no BatchMatMul kernel`);
  try {
    const out = matMul.kernelFunc({ inputs: { a, b }, backend: args.backend, attrs: { transposeA: true, transposeB: false } }) as tf.TensorInfo;
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
