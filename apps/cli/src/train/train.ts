import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tfl from '@tensorflow/tfjs-layers';
import { descentOptimizer, registerWasmTrainingKernels } from '@descent/backend-tfjs';
import { muonRouting } from '@descent/core';
import { BASELINE, TRAIN_OPTIMIZERS, checkTrainOptimizer, trainRate } from './optimizers.js';
import { InputError } from '../errors.js';
import { tpeSearchAsync } from '../search.js';
import type { Split } from './fashion-mnist.js';
import { gridAround, pcaPlane, type LandscapeGrid } from './landscape.js';

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

/** How the loss landscape around the final point is sampled (see `landscape.ts`). */
export interface LandscapeSettings {
  /** Grid points per side of the PCA plane. */
  readonly grid: number;
  /** Training images the loss is averaged over at each grid point (the first ones). */
  readonly images: number;
}

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
  /** Learning rates by optimizer over the committed table (`rates.ts`). */
  readonly rates?: Readonly<Record<string, number>>;
  /** The landscape picture's sampling; omitted: no landscape (and no weight snapshots). */
  readonly landscape?: LandscapeSettings;
  /** Stop after this many batches of this invocation (tests use it to interrupt a run). */
  readonly stopAfter?: number;
  readonly onBatch?: (optimizer: string, batch: number, total: number, loss: number, accuracy: number | null, msPerBatch: number) => void;
  /** Called while the landscape is sampled: points done of the total. */
  readonly onLandscape?: (optimizer: string, done: number, total: number) => void;
}

/** One optimizer's record. */
export interface TrainResult {
  readonly optimizer: string;
  /** The learning rate it ran with. */
  readonly lr: number;
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
  /** The loss on the PCA plane of the weight trajectory, when asked for. */
  readonly landscape?: LandscapeGrid;
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
    registerWasmTrainingKernels('wasm');
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

function optimizerFor(name: string, lr: number): tf.Optimizer {
  if (name === BASELINE) return tf.train.adam(lr);
  checkTrainOptimizer(name);
  const spec = TRAIN_OPTIMIZERS[name]!(lr);
  return name === 'muon' ? descentOptimizer(spec, { groups: (p) => muonRouting(p) }) : descentOptimizer(spec);
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

/** Σ f(x, y) over the first `n` images of a split, in chunks of 500 (one tensor pair at a time). */
function sumInChunks(split: Split, n: number, f: (x: tf.Tensor4D, y: tf.Tensor2D) => tf.Tensor): number {
  let sum = 0;
  for (let s = 0; s < n; s += 500) {
    const { x, y } = batchOf(split, Array.from({ length: Math.min(500, n - s) }, (_, i) => s + i));
    sum += tf.tidy(() => f(x, y).dataSync()[0] as number);
    tf.dispose([x, y]);
  }
  return sum;
}

function accuracy(model: tfl.Sequential, test: Split, n: number): number {
  return sumInChunks(test, n, (x, y) => tf.sum(tf.equal(tf.argMax(model.predict(x) as tf.Tensor, 1), tf.argMax(y, 1)))) / n;
}

/**
 * Batch b of the seeded data order over the first `trainSize` images (one permutation per epoch, computed when the
 * epoch starts); `where` names the caller in the error for a set smaller than one batch.
 */
function batchSource(train: Split, trainSize: number, seed: number, where: string): (b: number) => { x: tf.Tensor4D; y: tf.Tensor2D } {
  const perEpoch = Math.floor(trainSize / BATCH);
  if (perEpoch < 1) throw new InputError(`${where}: ${trainSize} training images do not fill one batch of ${BATCH}`);
  let order: Uint32Array = new Uint32Array(0);
  let orderEpoch = -1;
  return (b) => {
    const epoch = Math.floor(b / perEpoch);
    if (epoch !== orderEpoch) {
      order = permutation(trainSize, seed, epoch);
      orderEpoch = epoch;
    }
    const at = (b % perEpoch) * BATCH;
    return batchOf(train, order.subarray(at, at + BATCH));
  };
}

interface Checkpoint {
  optimizer: string;
  /** The settings the run was started with ({@link runKey}); a resume with others is refused. */
  key: string;
  batch: number;
  weights: number[][];
  /** The optimizer's `getWeights()` (descent's adapter: its portable state as tensors; TF.js's own for the baseline). */
  optimizerWeights: Array<{ name: string; shape: number[]; dtype: string; data: number[] }>;
  curve: Array<{ batch: number; loss: number; accuracy: number }>;
  lossSum: number;
  lossCount: number;
  ms: number;
}

/** A finished optimizer's run, kept in DIR/runs so that later invocations (and the report) can use it. */
interface RunFile {
  key: string;
  result: TrainResult;
}

const fileName = (name: string): string => name.replace(/[^\w.-]/g, '_');
const checkpointPath = (out: string, name: string): string => join(out, 'checkpoints', `${fileName(name)}.json`);
const runPath = (out: string, name: string): string => join(out, 'runs', `${fileName(name)}.json`);
const trajectoryPath = (out: string, name: string): string => join(out, 'trajectories', `${fileName(name)}.f32`);

/** Write then rename: a run killed while writing keeps the previous file. */
function writeAtomic(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Everything that decides a run's outcome, as one string: runs and checkpoints are reused only under the same key. */
export function runKey(name: string, s: TrainSettings, trainSize: number, evalSize: number): string {
  return JSON.stringify({ batches: s.batches, evalEvery: s.evalEvery, evalSize, trainSize, seed: s.seed, lr: trainRate(name, s.rates), landscape: s.landscape ?? null });
}

/** The model's weights as one flat vector (a snapshot of the trajectory). */
function flatWeights(model: tfl.Sequential): Float32Array {
  const parts = model.getWeights().map((w) => w.dataSync() as Float32Array);
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Sets the model's weights to `base + a·u + b·v` (flat vectors in the order of `getWeights()`). */
function setPlaneWeights(model: tfl.Sequential, base: Float32Array, u: Float64Array, v: Float64Array, a: number, b: number): void {
  const shapes = model.getWeights().map((w) => w.shape);
  let at = 0;
  const tensors = shapes.map((shape) => {
    const size = shape.reduce((p, d) => p * d, 1);
    const values = new Float32Array(size);
    for (let j = 0; j < size; j++, at++) values[j] = (base[at] as number) + a * (u[at] as number) + b * (v[at] as number);
    return tf.tensor(values, shape);
  });
  model.setWeights(tensors);
  tf.dispose(tensors);
}

/** Mean cross-entropy of the model on the first `n` training images. */
function trainLoss(model: tfl.Sequential, train: Split, n: number): number {
  return sumInChunks(train, n, (x, y) => tf.sum(tfl.metrics.categoricalCrossentropy(y, model.predict(x) as tf.Tensor))) / n;
}

/** Reads the snapshots recorded so far (each `size` float32 weights). */
function readSnapshots(path: string, size: number): Float32Array[] {
  const bytes = readFileSync(path);
  const count = Math.floor(bytes.length / (4 * size));
  const all = new Float32Array(bytes.buffer, bytes.byteOffset, count * size);
  return Array.from({ length: count }, (_, k) => all.slice(k * size, (k + 1) * size));
}

/** Samples the loss on the PCA plane of the recorded trajectory (see landscape.ts) and leaves the model at its final weights. */
function sampleLandscape(name: string, model: tfl.Sequential, train: Split, snapshots: Float32Array[], ls: LandscapeSettings, onLandscape: TrainSettings['onLandscape']): LandscapeGrid {
  const plane = pcaPlane(snapshots);
  const final = snapshots[snapshots.length - 1] as Float32Array;
  const [u, v] = plane.directions;
  const images = Math.min(ls.images, train.count);
  const { xs, ys } = gridAround(plane.coords, ls.grid);
  const total = xs.length * ys.length + snapshots.length;
  let done = 0;
  const values: number[] = [];
  for (const y of ys) {
    for (const x of xs) {
      setPlaneWeights(model, final, u, v, x, y);
      values.push(trainLoss(model, train, images));
      onLandscape?.(name, ++done, total);
    }
  }
  // The loss at the snapshots themselves (not their projections): what the path's caption reports.
  const zero = new Float64Array(final.length);
  const pathLoss = snapshots.map((w) => {
    setPlaneWeights(model, w, zero, zero, 0, 0);
    const l = trainLoss(model, train, images);
    onLandscape?.(name, ++done, total);
    return l;
  });
  return { xs, ys, values, path: plane.coords, pathLoss, explained: plane.explained, images };
}

/** Trains the model with one optimizer (resuming from its checkpoint when asked) and returns its record. */
async function trainOne(name: string, data: { train: Split; test: Split }, s: TrainSettings): Promise<TrainResult> {
  const trainSize = Math.min(s.trainSize ?? data.train.count, data.train.count);
  const evalSize = Math.min(s.evalSize, data.test.count);
  const key = runKey(name, s, trainSize, evalSize);
  const lr = trainRate(name, s.rates);
  if (s.resume) {
    const run = readJson<RunFile>(runPath(s.out, name));
    if (run?.key === key) return run.result;
  }
  const model = cnn();
  const optimizer = optimizerFor(name, lr);
  model.compile({ optimizer, loss: 'categoricalCrossentropy' });
  let state: Checkpoint = { optimizer: name, key, batch: 0, weights: [], optimizerWeights: [], curve: [], lossSum: 0, lossCount: 0, ms: 0 };
  const saved = s.resume ? readJson<Checkpoint>(checkpointPath(s.out, name)) : undefined;
  if (saved && saved.key !== key) {
    throw new InputError(`train --resume: the checkpoint of ${name} in ${s.out} was made with other settings (${saved.key ?? 'unknown'}; now ${key}): use another --out or drop --resume`);
  }
  if (saved) {
    state = saved;
    const shapes = model.getWeights().map((w) => w.shape);
    model.setWeights(saved.weights.map((w, i) => tf.tensor(w, shapes[i])));
    await optimizer.setWeights(saved.optimizerWeights.map((w) => ({ name: w.name, tensor: tf.tensor(w.data, w.shape, w.dtype as tf.DataType) })));
  }
  // Snapshots for the landscape: the start, then one at every checkpoint; a resumed run drops any written after its checkpoint.
  const trajectory = trajectoryPath(s.out, name);
  const size = model.countParams();
  if (s.landscape) {
    mkdirSync(dirname(trajectory), { recursive: true });
    if (state.batch === 0) writeFileSync(trajectory, new Uint8Array(flatWeights(model).buffer));
    else if (existsSync(trajectory)) truncateSync(trajectory, (state.curve.length + 1) * size * 4);
    else throw new InputError(`train --resume: ${trajectory} is missing (the landscape needs the weights recorded so far): drop --resume to start ${name} again`);
  }
  const batchAt = batchSource(data.train, trainSize, s.seed, 'train');
  let done = 0;
  for (let b = state.batch; b < s.batches; b++) {
    if (s.stopAfter !== undefined && done >= s.stopAfter) break;
    const { x, y } = batchAt(b);
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
      if (s.landscape) appendFileSync(trajectory, new Uint8Array(flatWeights(model).buffer));
      state.weights = model.getWeights().map((w) => Array.from(w.dataSync()));
      state.optimizerWeights = (await optimizer.getWeights()).map((w) => ({ name: w.name, shape: [...w.tensor.shape], dtype: w.tensor.dtype, data: Array.from(w.tensor.dataSync()) }));
      writeAtomic(checkpointPath(s.out, name), JSON.stringify(state));
    }
    s.onBatch?.(name, state.batch, s.batches, loss, acc, state.ms / state.batch);
  }
  const last = state.curve[state.curve.length - 1];
  const finished = state.batch >= s.batches;
  const landscape = finished && s.landscape && state.curve.length >= 2 ? sampleLandscape(name, model, data.train, readSnapshots(trajectory, size), s.landscape, s.onLandscape) : undefined;
  const result: TrainResult = {
    optimizer: name,
    lr,
    batches: state.batch,
    finalTrainLoss: last?.loss ?? NaN,
    testAccuracy: last?.accuracy ?? NaN,
    batchesToLoss01: state.curve.find((p) => p.loss <= 0.1)?.batch ?? null,
    batchesToAcc09: state.curve.find((p) => p.accuracy >= 0.9)?.batch ?? null,
    msPerBatch: state.ms / Math.max(1, state.batch),
    curve: state.curve,
    ...(landscape ? { landscape } : {}),
    ...(finished ? {} : { partial: true }),
  };
  if (finished) writeAtomic(runPath(s.out, name), JSON.stringify({ key, result } satisfies RunFile));
  model.dispose();
  optimizer.dispose();
  return result;
}

/**
 * Earlier finished runs in `out/runs` made with the same settings, for optimizers not in this invocation: the
 * report of a comparison built up one optimizer at a time (or over several sessions) shows all of them.
 */
export function earlierRuns(s: TrainSettings, data: { train: Split; test: Split }): TrainResult[] {
  const dir = join(s.out, 'runs');
  if (!existsSync(dir)) return [];
  const trainSize = Math.min(s.trainSize ?? data.train.count, data.train.count);
  const evalSize = Math.min(s.evalSize, data.test.count);
  const order = [...Object.keys(TRAIN_OPTIMIZERS), BASELINE];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => readJson<RunFile>(join(dir, f)))
    .filter((r): r is RunFile => r !== undefined && !s.optimizers.includes(r.result.optimizer) && order.includes(r.result.optimizer))
    .filter((r) => r.key === runKey(r.result.optimizer, s, trainSize, evalSize))
    .map((r) => r.result)
    .sort((a, b) => order.indexOf(a.optimizer) - order.indexOf(b.optimizer));
}

/** Trains every selected optimizer in turn (see the module comment). */
export async function trainFashionMnist(data: { train: Split; test: Split }, s: TrainSettings): Promise<TrainResult[]> {
  for (const name of s.optimizers) checkTrainOptimizer(name);
  await useWasm();
  const out: TrainResult[] = [];
  for (const name of s.optimizers) out.push(await trainOne(name, data, s));
  return out;
}

/** Settings of {@link searchTrainRates}. */
export interface TrainSearchSettings {
  readonly optimizers: readonly string[];
  /** TPE trials per optimizer. */
  readonly trials: number;
  /** Batches per trial. */
  readonly batches: number;
  readonly seed: number;
  readonly trainSize?: number;
  /** Decades searched below and above the default rate. */
  readonly below?: number;
  readonly above?: number;
  readonly onTrial?: (optimizer: string, trial: number, trials: number, lr: number, objective: number) => void;
}

/** The rate found for one optimizer. */
export interface FoundTrainRate {
  readonly optimizer: string;
  readonly lr: number;
  readonly objective: number;
  readonly trials: ReadonlyArray<{ readonly x: number; readonly value: number }>;
}

/**
 * The short-run objective of the rate search: the mean training loss of the last quarter of `batches` batches from
 * the common initial weights, in the common data order (the same for every trial, so trials differ only by their
 * rate); a run whose loss becomes non-finite scores +∞.
 */
async function shortRun(name: string, lr: number, data: { train: Split; test: Split }, s: TrainSearchSettings): Promise<number> {
  const trainSize = Math.min(s.trainSize ?? data.train.count, data.train.count);
  const batchAt = batchSource(data.train, trainSize, s.seed, 'train --search');
  const model = cnn();
  const optimizer = optimizerFor(name, lr);
  model.compile({ optimizer, loss: 'categoricalCrossentropy' });
  const tail = Math.max(1, Math.ceil(s.batches / 4));
  let sum = 0;
  try {
    for (let b = 0; b < s.batches; b++) {
      const { x, y } = batchAt(b);
      const loss = (await model.trainOnBatch(x, y)) as number;
      tf.dispose([x, y]);
      if (!Number.isFinite(loss)) return Infinity;
      if (b >= s.batches - tail) sum += loss;
    }
  } finally {
    model.dispose();
    optimizer.dispose();
  }
  return sum / tail;
}

/**
 * `--search`: a seeded TPE (the seeds' hyperopt algorithm, `search.ts`) over log₁₀ lr in
 * [default·10^−below, default·10^above] per optimizer, each trial a short run ({@link shortRun}). Short runs favour
 * rates that fall fast early; the rates are a starting point for the full comparison, not its optimum.
 */
export async function searchTrainRates(data: { train: Split; test: Split }, s: TrainSearchSettings): Promise<FoundTrainRate[]> {
  for (const name of s.optimizers) {
    checkTrainOptimizer(name);
    if (name === BASELINE) throw new InputError(`train --search: ${BASELINE} runs at Adam's rate; search "adam" instead`);
  }
  await useWasm();
  const out: FoundTrainRate[] = [];
  for (const name of s.optimizers) {
    const base = trainRate(name, {});
    let trial = 0;
    const result = await tpeSearchAsync(
      async (lr) => {
        const value = await shortRun(name, lr, data, s);
        s.onTrial?.(name, ++trial, s.trials, lr, value);
        return value;
      },
      { trials: s.trials, seed: s.seed, startup: Math.min(s.trials, Math.max(3, Math.ceil(s.trials / 2))), range: [base * 10 ** -(s.below ?? 2.5), base * 10 ** (s.above ?? 1.5)] },
    );
    out.push({ optimizer: name, lr: result.best.x, objective: result.best.value, trials: result.trials });
  }
  return out;
}
