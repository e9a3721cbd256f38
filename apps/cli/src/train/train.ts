import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tfl from '@tensorflow/tfjs-layers';
import { descentOptimizer, registerConv2DBackpropFilter } from '@descent/backend-tfjs';
import { muonRouting } from '@descent/core';
import { BASELINE, TRAIN_OPTIMIZERS, checkTrainOptimizer } from './optimizers.js';
import { InputError } from '../errors.js';
import type { Split } from './fashion-mnist.js';

/**
 * `descent train fashion-mnist`: the seeds' central experiment. A small CNN (conv 3×3×32 → max-pool 2 → conv
 * 3×3×64 → max-pool 2 → dense 128 → dense 10, ReLU, softmax cross-entropy; the seeds do not state their model or
 * batch size) is trained on Fashion-MNIST in batches of 64 from the same seeded initial weights by each optimizer,
 * through `descentOptimizer(spec)` in tfjs-layers, on TF.js's wasm backend with descent's im2col
 * Conv2DBackpropFilter (tfjs-backend-wasm 4.22 has none; tfjs-backend-cpu trains the same model about 100× slower
 * here, see docs/notes/cnn-training-path.md). `tf.train.adam` runs as a baseline in the same run.
 *
 * Every `evalEvery` batches it records the mean training loss since the last record and the accuracy on the first
 * `evalSize` test images, and checkpoints the model weights, the optimizer's portable state and the position in the
 * shuffled data, so `--resume` continues a killed run and ends with the same weights as an uninterrupted one.
 *
 * @packageDocumentation
 */

/** Settings of {@link trainFashionMnist}. */
export interface TrainSettings {
  readonly optimizers: readonly string[];
  readonly batches: number;
  readonly evalEvery: number;
  /** Test images used for the accuracy (the first ones). */
  readonly evalSize: number;
  /** Training images used (the first ones; all by default). */
  readonly trainSize?: number;
  readonly out: string;
  readonly resume: boolean;
  readonly seed: number;
  /** Stop after this many batches of this invocation (tests use it to interrupt a run). */
  readonly stopAfter?: number;
  readonly onBatch?: (optimizer: string, batch: number, total: number, loss: number, accuracy: number | null, msPerBatch: number) => void;
}

/** One optimizer's record. */
export interface TrainResult {
  readonly optimizer: string;
  readonly batches: number;
  readonly finalTrainLoss: number;
  readonly testAccuracy: number;
  /** First recorded batch whose mean training loss (since the previous record) is ≤ 0.1; null if none. */
  readonly batchesToLoss01: number | null;
  /** First recorded batch with test accuracy ≥ 0.9; null if none. */
  readonly batchesToAcc09: number | null;
  readonly msPerBatch: number;
  /** The curves: batch, mean training loss since the previous point, test accuracy. */
  readonly curve: ReadonlyArray<{ batch: number; loss: number; accuracy: number }>;
  /** Set when the run did not finish (--stop-after). */
  readonly partial?: boolean;
}

const BATCH = 64;

let ready: Promise<void> | undefined;
/** TF.js's wasm backend, with the missing training kernel registered (once per process). */
export function useWasm(): Promise<void> {
  ready ??= (async () => {
    const require = createRequire(import.meta.url);
    setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'))}/dist/`);
    registerConv2DBackpropFilter('wasm');
    if (!(await tf.setBackend('wasm'))) throw new Error('the TF.js wasm backend could not start');
    await tf.ready();
  })();
  return ready;
}

/** The CNN with the same seeded initial weights every time; the last layer is named "head" (Muon leaves it to Adam). */
export function cnn(): tfl.Sequential {
  const init = (seed: number) => ({ kernelInitializer: tfl.initializers.glorotUniform({ seed }) });
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: 'relu', name: 'conv1', ...init(1) }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu', name: 'conv2', ...init(2) }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 128, activation: 'relu', name: 'hidden', ...init(3) }),
      tfl.layers.dense({ units: 10, activation: 'softmax', name: 'head', ...init(4) }),
    ],
  });
}

function optimizerFor(name: string): tf.Optimizer {
  if (name === BASELINE) return tf.train.adam(1e-3);
  checkTrainOptimizer(name);
  const make = TRAIN_OPTIMIZERS[name]!;
  return name === 'muon' ? descentOptimizer(make(), { groups: (p) => muonRouting(p) }) : descentOptimizer(make());
}

/** A permutation of 0 … n−1 for epoch `epoch` (mulberry32 seeded by seed and epoch): the same order on every run. */
function permutation(n: number, seed: number, epoch: number): Uint32Array {
  let a = (seed * 0x9e3779b1 + epoch * 0x85ebca6b) >>> 0;
  const rand = (): number => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const p = Uint32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = p[i] as number;
    p[i] = p[j] as number;
    p[j] = t;
  }
  return p;
}

/** Images `idx` of a split as a [k, 28, 28, 1] tensor in [0, 1] and their labels one-hot. */
function batchOf(split: Split, idx: ArrayLike<number>): { x: tf.Tensor4D; y: tf.Tensor2D } {
  const k = idx.length;
  const x = new Float32Array(k * 784);
  const labels = new Int32Array(k);
  for (let i = 0; i < k; i++) {
    const j = idx[i] as number;
    for (let p = 0; p < 784; p++) x[i * 784 + p] = (split.images[j * 784 + p] as number) / 255;
    labels[i] = split.labels[j] as number;
  }
  return tf.tidy(() => ({ x: tf.tensor4d(x, [k, 28, 28, 1]), y: tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), 10), 'float32') as tf.Tensor2D }));
}

function accuracy(model: tfl.Sequential, test: Split, n: number): number {
  let correct = 0;
  for (let s = 0; s < n; s += 500) {
    const idx = Array.from({ length: Math.min(500, n - s) }, (_, i) => s + i);
    const { x, y } = batchOf(test, idx);
    correct += tf.tidy(() => (tf.sum(tf.equal(tf.argMax(model.predict(x) as tf.Tensor, 1), tf.argMax(y, 1))).dataSync()[0] as number));
    tf.dispose([x, y]);
  }
  return correct / n;
}

interface Checkpoint {
  optimizer: string;
  batch: number;
  weights: number[][];
  /** The optimizer's `getWeights()` (descent's adapter: its portable state as tensors; TF.js's own for the baseline). */
  optimizerWeights: Array<{ name: string; shape: number[]; dtype: string; data: number[] }>;
  curve: Array<{ batch: number; loss: number; accuracy: number }>;
  lossSum: number;
  lossCount: number;
  ms: number;
}

const checkpointPath = (out: string, name: string): string => join(out, 'checkpoints', `${name.replace(/[^\w.-]/g, '_')}.json`);

function saveCheckpoint(out: string, c: Checkpoint): void {
  const path = checkpointPath(out, c.optimizer);
  mkdirSync(dirname(path), { recursive: true });
  // Write then rename: a run killed while writing keeps its previous checkpoint.
  writeFileSync(`${path}.tmp`, JSON.stringify(c));
  renameSync(`${path}.tmp`, path);
}

function loadCheckpoint(out: string, name: string): Checkpoint | undefined {
  try {
    return JSON.parse(readFileSync(checkpointPath(out, name), 'utf8')) as Checkpoint;
  } catch {
    return undefined;
  }
}

/** Trains the model with one optimizer (resuming from its checkpoint when asked) and returns its record. */
async function trainOne(name: string, data: { train: Split; test: Split }, s: TrainSettings): Promise<TrainResult> {
  const model = cnn();
  const optimizer = optimizerFor(name);
  model.compile({ optimizer, loss: 'categoricalCrossentropy' });
  const trainSize = Math.min(s.trainSize ?? data.train.count, data.train.count);
  const evalSize = Math.min(s.evalSize, data.test.count);
  let state: Checkpoint = { optimizer: name, batch: 0, weights: [], optimizerWeights: [], curve: [], lossSum: 0, lossCount: 0, ms: 0 };
  const saved = s.resume ? loadCheckpoint(s.out, name) : undefined;
  if (saved) {
    state = saved;
    const shapes = model.getWeights().map((w) => w.shape);
    model.setWeights(saved.weights.map((w, i) => tf.tensor(w, shapes[i])));
    await optimizer.setWeights(saved.optimizerWeights.map((w) => ({ name: w.name, tensor: tf.tensor(w.data, w.shape, w.dtype as tf.DataType) })));
  }
  const perEpoch = Math.floor(trainSize / BATCH);
  if (perEpoch < 1) throw new InputError(`train: ${trainSize} training images do not fill one batch of ${BATCH}`);
  let done = 0;
  let order: Uint32Array = new Uint32Array(0);
  let orderEpoch = -1;
  for (let b = state.batch; b < s.batches; b++) {
    if (s.stopAfter !== undefined && done >= s.stopAfter) break;
    const epoch = Math.floor(b / perEpoch);
    if (epoch !== orderEpoch) {
      order = permutation(trainSize, s.seed, epoch);
      orderEpoch = epoch;
    }
    const at = (b % perEpoch) * BATCH;
    const { x, y } = batchOf(data.train, order.subarray(at, at + BATCH));
    const t0 = performance.now();
    const loss = (await model.trainOnBatch(x, y)) as number;
    state.ms += performance.now() - t0;
    tf.dispose([x, y]);
    state.lossSum += loss;
    state.lossCount += 1;
    state.batch = b + 1;
    done++;
    let acc: number | null = null;
    if (state.batch % s.evalEvery === 0 || state.batch === s.batches) {
      acc = accuracy(model, data.test, evalSize);
      state.curve.push({ batch: state.batch, loss: state.lossSum / state.lossCount, accuracy: acc });
      state.lossSum = 0;
      state.lossCount = 0;
      state.weights = model.getWeights().map((w) => Array.from(w.dataSync()));
      state.optimizerWeights = (await optimizer.getWeights()).map((w) => ({ name: w.name, shape: [...w.tensor.shape], dtype: w.tensor.dtype, data: Array.from(w.tensor.dataSync()) }));
      saveCheckpoint(s.out, state);
    }
    s.onBatch?.(name, state.batch, s.batches, loss, acc, state.ms / state.batch);
  }
  const last = state.curve[state.curve.length - 1];
  const result: TrainResult = {
    optimizer: name,
    batches: state.batch,
    finalTrainLoss: last?.loss ?? NaN,
    testAccuracy: last?.accuracy ?? NaN,
    batchesToLoss01: state.curve.find((p) => p.loss <= 0.1)?.batch ?? null,
    batchesToAcc09: state.curve.find((p) => p.accuracy >= 0.9)?.batch ?? null,
    msPerBatch: state.ms / Math.max(1, state.batch),
    curve: state.curve,
    ...(state.batch < s.batches ? { partial: true } : {}),
  };
  model.dispose();
  optimizer.dispose();
  return result;
}

/** Trains every selected optimizer in turn (see the module comment). */
export async function trainFashionMnist(data: { train: Split; test: Split }, s: TrainSettings): Promise<TrainResult[]> {
  for (const name of s.optimizers) checkTrainOptimizer(name);
  await useWasm();
  const out: TrainResult[] = [];
  for (const name of s.optimizers) out.push(await trainOne(name, data, s));
  return out;
}
