/**
 * Time per training batch of a small Fashion-MNIST CNN on a TF.js backend in Node (the measurement behind
 * docs/notes/cnn-training-path.md): conv3×3×32 → maxpool 2 → conv3×3×64 → maxpool 2 → dense 128 → dense 10,
 * ReLU, softmax cross-entropy, batches of 64 real images, optimizer from descent through `descentOptimizer`.
 *
 *   pnpm --filter @descent/backend-tfjs exec tsx --conditions=@descent/source bench/cnn-batch.ts wasm [batches] [optimizer]
 *
 * optimizer: `adam` (descent, fused loop), `adam-ops` (descent, composed ops), `tf-adam` (tf.train.adam), `muon`
 * (descent's muonWithAuxAdam with muonRouting: Muon for the kernels, in their tfjs-layers matrix view).
 *
 * On wasm the missing Conv2DBackpropFilter kernel is registered first (registerConv2DBackpropFilter); pass
 * `wasm-nokernel` to see the failure without it, `wasm-fast` for registerWasmTrainingKernels (what
 * `descent train` uses: also the input gradient as col2im(dY·Wᵀ) and BatchMatMul without transposed operands).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tfl from '@tensorflow/tfjs-layers';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { adam, muonRouting, muonWithAuxAdam } from '@descent/core';
import { descentOptimizer, registerConv2DBackpropFilter, registerWasmTrainingKernels } from '../src/index.js';

const require = createRequire(import.meta.url);
setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'))}/dist/`);

const DATA = '/usr/share/datasets/fashion-mnist';

/** The first n images (scaled to [0, 1], 28×28×1) and one-hot labels of the training set. */
function fashionMnist(n: number): { x: tf.Tensor4D; y: tf.Tensor2D } {
  const images = gunzipSync(readFileSync(`${DATA}/train-images-idx3-ubyte.gz`)).subarray(16, 16 + n * 784);
  const labels = gunzipSync(readFileSync(`${DATA}/train-labels-idx1-ubyte.gz`)).subarray(8, 8 + n);
  const x = tf.tensor4d(Float32Array.from(images, (v) => v / 255), [n, 28, 28, 1]);
  const y = tf.cast(tf.oneHot(tf.tensor1d(Int32Array.from(labels), 'int32'), 10), 'float32') as tf.Tensor2D;
  return { x, y };
}

function cnn(): tfl.Sequential {
  const init = (seed: number) => ({ kernelInitializer: tfl.initializers.glorotUniform({ seed }) });
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: 'relu', ...init(1) }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu', ...init(2) }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 128, activation: 'relu', ...init(3) }),
      tfl.layers.dense({ units: 10, activation: 'softmax', ...init(4) }),
    ],
  });
}

async function main(): Promise<void> {
  const [which = 'wasm', batchesArg = '5', optimizerName = 'adam'] = process.argv.slice(2);
  const backend = which.startsWith('wasm') ? 'wasm' : which;
  if (which === 'wasm') registerConv2DBackpropFilter('wasm');
  if (which === 'wasm-fast') registerWasmTrainingKernels('wasm');
  if (!(await tf.setBackend(backend))) throw new Error(`TF.js backend ${backend} is not available`);
  const batches = Number(batchesArg);
  const { x, y } = fashionMnist(64 * (batches + 1));
  const model = cnn();
  const optimizers: Record<string, () => tf.Optimizer> = {
    adam: () => descentOptimizer(adam({ lr: 1e-3 })),
    'adam-ops': () => descentOptimizer(adam({ lr: 1e-3 }), { fused: 'off' }),
    'tf-adam': () => tf.train.adam(1e-3),
    muon: () => descentOptimizer(muonWithAuxAdam({ lr: 0.02, adamLr: 1e-3 }), { groups: (p) => muonRouting(p) }),
  };
  const make = optimizers[optimizerName];
  if (!make) throw new Error(`optimizer must be one of ${Object.keys(optimizers).join(', ')}, got ${optimizerName}`);
  const optimizer = make();
  model.compile({ optimizer, loss: 'categoricalCrossentropy' });
  const times: number[] = [];
  const losses: number[] = [];
  for (let b = 0; b <= batches; b++) {
    const xb = tf.slice(x, [64 * b, 0, 0, 0], [64, 28, 28, 1]);
    const yb = tf.slice(y, [64 * b, 0], [64, 10]);
    const t0 = performance.now();
    const loss = (await model.trainOnBatch(xb, yb)) as number;
    const ms = performance.now() - t0;
    tf.dispose([xb, yb]);
    if (b > 0) times.push(ms); // batch 0 is warm-up (kernel setup, XNNPACK packing)
    losses.push(loss);
  }
  const sorted = [...times].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  console.log(
    JSON.stringify({
      backend: which,
      optimizer: optimizerName,
      path: (optimizer as { path?: string }).path ?? 'tf.train',
      params: model.countParams(),
      msPerBatch: { median: Math.round(median), min: Math.round(sorted[0]!), max: Math.round(sorted[sorted.length - 1]!) },
      losses: losses.map((l) => Number(l.toFixed(3))),
    }),
  );
}

await main();
