import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { DEBIAN_FASHION_MNIST, loadFashionMnist } from '../src/train/fashion-mnist.js';
import { parseIdx, readIdx } from '../src/train/idx.js';
import { searchTrainRates, trainFashionMnist, type TrainSettings } from '../src/train/train.js';
import { cli } from './run-cli.js';

/** IDX bytes of unsigned bytes with `dims`, filled by `f`. */
function idx(dims: number[], f: (i: number) => number = (i) => i % 251): Uint8Array {
  const size = dims.reduce((p, d) => p * d, 1);
  const out = new Uint8Array(4 + 4 * dims.length + size);
  out[2] = 0x08;
  out[3] = dims.length;
  const view = new DataView(out.buffer);
  dims.forEach((d, k) => view.setUint32(4 + 4 * k, d, false));
  for (let i = 0; i < size; i++) out[4 + 4 * dims.length + i] = f(i);
  return out;
}

describe('IDX files', () => {
  it('parses a header and its values, gzipped or not', () => {
    const bytes = idx([3, 28, 28]);
    const a = parseIdx(bytes, 'x');
    expect(a.dims).toEqual([3, 28, 28]);
    expect(a.data.length).toBe(3 * 784);
    expect(a.data[785]).toBe(785 % 251);
    const dir = mkdtempSync(join(tmpdir(), 'descent-idx-'));
    writeFileSync(join(dir, 'a.gz'), gzipSync(bytes));
    writeFileSync(join(dir, 'a'), bytes);
    expect(Uint8Array.from(readIdx(join(dir, 'a.gz')).data)).toEqual(Uint8Array.from(a.data));
    expect(readIdx(join(dir, 'a')).dims).toEqual([3, 28, 28]);
  });

  it('refuses a wrong magic, another value type, a truncated or overlong file, naming the file', () => {
    const good = idx([2, 28, 28]);
    const wrongMagic = Uint8Array.from(good);
    wrongMagic[0] = 0x1f;
    expect(() => parseIdx(wrongMagic, 'f')).toThrow('f: not an IDX file (magic 1f 00 08 03)');
    const floats = Uint8Array.from(good);
    floats[2] = 0x0d;
    expect(() => parseIdx(floats, 'f')).toThrow('f: IDX type 0xd is not unsigned bytes (0x08)');
    expect(() => parseIdx(good.subarray(0, good.length - 1), 'f')).toThrow('f: truncated: the header says [2, 28, 28] = 1568 values, the file has 1567');
    expect(() => parseIdx(Uint8Array.of(...good, 0), 'f')).toThrow('f: too long: the header says [2, 28, 28] = 1568 values, the file has 1569');
    expect(() => parseIdx(good.subarray(0, 9), 'f')).toThrow('f: truncated IDX header (9 bytes for rank 3)');
  });

  it('loads a Fashion-MNIST folder and checks images against labels; a missing file names the path and the Debian package', () => {
    const dir = mkdtempSync(join(tmpdir(), 'descent-fmnist-'));
    writeFileSync(join(dir, 'train-images-idx3-ubyte.gz'), gzipSync(idx([4, 28, 28])));
    writeFileSync(join(dir, 'train-labels-idx1-ubyte.gz'), gzipSync(idx([4], (i) => i)));
    writeFileSync(join(dir, 't10k-images-idx3-ubyte'), idx([2, 28, 28]));
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), idx([2], () => 9));
    const d = loadFashionMnist(dir);
    expect([d.train.count, d.test.count]).toEqual([4, 2]);
    expect([...d.train.labels]).toEqual([0, 1, 2, 3]);
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), idx([3], () => 1));
    expect(() => loadFashionMnist(dir)).toThrow('t10k-labels-idx1-ubyte: 3 labels for 2 images');
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), idx([2], () => 10));
    expect(() => loadFashionMnist(dir)).toThrow('t10k-labels-idx1-ubyte: label 10 at 0 is not a class 0 … 9');
    const empty = mkdtempSync(join(tmpdir(), 'descent-fmnist-empty-'));
    expect(() => loadFashionMnist(empty)).toThrow(`Fashion-MNIST: no train-images-idx3-ubyte(.gz) in ${empty} (--data names the folder holding the four IDX files)`);
  });
});

const haveData = existsSync(join(DEBIAN_FASHION_MNIST, 'train-images-idx3-ubyte.gz'));
// CI installs Debian's dataset-fashion-mnist (.ci/run); elsewhere these runs are skipped with the reason.
const withData = haveData || process.env.CI ? describe : describe.skip;

withData('training on the real Fashion-MNIST (TF.js wasm)', () => {
  const data = haveData ? loadFashionMnist() : undefined;
  const base = (out: string): TrainSettings => ({ optimizers: [], batches: 20, evalEvery: 5, evalSize: 200, trainSize: 1000, out, resume: false, seed: 3 });

  it('50 batches on a 1,000-image subset: the loss falls for Adam, Muon + auxiliary Adam and Lion', async () => {
    const out = mkdtempSync(join(tmpdir(), 'descent-train-'));
    const results = await trainFashionMnist(data!, { ...base(out), optimizers: ['adam', 'muon', 'lion'], batches: 50, evalEvery: 10 });
    for (const r of results) {
      expect(r.curve).toHaveLength(5);
      expect(r.curve[4]!.loss, r.optimizer).toBeLessThan(r.curve[0]!.loss * 0.85);
      expect(r.msPerBatch).toBeGreaterThan(0);
    }
  }, 600_000);

  it('a run interrupted between checkpoints and resumed ends with the same weights, state and curve as one that was not', async () => {
    const whole = mkdtempSync(join(tmpdir(), 'descent-train-whole-'));
    const cut = mkdtempSync(join(tmpdir(), 'descent-train-cut-'));
    const landscape = { grid: 3, images: 64 };
    const [a] = await trainFashionMnist(data!, { ...base(whole), optimizers: ['adam'], landscape });
    const [partial] = await trainFashionMnist(data!, { ...base(cut), optimizers: ['adam'], stopAfter: 7, landscape });
    expect(partial!.partial).toBe(true);
    expect(partial!.landscape).toBeUndefined();
    const [b] = await trainFashionMnist(data!, { ...base(cut), optimizers: ['adam'], resume: true, landscape });
    expect(b!.curve).toEqual(a!.curve);
    // The snapshots written after the checkpoint at 5 were dropped on resume: the trajectory and its landscape are the same.
    expect(readFileSync(join(cut, 'trajectories', 'adam.f32')).equals(readFileSync(join(whole, 'trajectories', 'adam.f32')))).toBe(true);
    expect(b!.landscape).toEqual(a!.landscape);
    expect(a!.landscape!.values).toHaveLength(9);
    const checkpoint = (dir: string) => JSON.parse(readFileSync(join(dir, 'checkpoints', 'adam.json'), 'utf8')) as { batch: number; weights: number[][]; optimizerWeights: unknown };
    const ca = checkpoint(whole);
    const cb = checkpoint(cut);
    expect(cb.batch).toBe(20);
    expect(cb.weights).toEqual(ca.weights);
    // TF.js numbers the variables of each model it builds (conv1/kernel_3, …_5): only the names may differ.
    const unnumbered = (x: unknown) => JSON.stringify(x).replace(/(kernel|bias)_\d+/g, '$1');
    expect(unnumbered(cb.optimizerWeights)).toBe(unnumbered(ca.optimizerWeights));
  }, 600_000);

  it('descent train fashion-mnist writes results.json, RESULTS.md and the curves; --json prints the results', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'descent-train-cli-')), 'out');
    const r = await cli(['train', 'fashion-mnist', '--optimizers', 'adam,tf.train.adam', '--batches', '10', '--eval-every', '5', '--eval-size', '100', '--train-size', '640', '--out', out, '--json', '--landscape-grid', '3', '--landscape-images', '64']);
    expect(r.code).toBe(0);
    const parsed = JSON.parse(r.stdout) as { results: Array<Record<string, unknown>> };
    expect(parsed.results.map((x) => x.optimizer)).toEqual(['adam', 'tf.train.adam']);
    for (const x of parsed.results) for (const key of ['batches', 'finalTrainLoss', 'testAccuracy', 'batchesToLoss01', 'batchesToAcc09', 'msPerBatch']) expect(x, key).toHaveProperty(key);
    expect(readFileSync(join(out, 'RESULTS.md'), 'utf8')).toMatch(/\| adam \| [\d.e-]+ \| (—|\d+) \| ~3500 \| (—|\d+) \| ~900 \|/);
    for (const f of ['loss.png', 'accuracy.png', 'adam_loss.png', 'tf.train.adam_accuracy.png']) expect(PNG.sync.read(readFileSync(join(out, f))).width, f).toBe(640);
    expect(PNG.sync.read(readFileSync(join(out, 'adam_landscape_pca.png'))).width).toBe(420);
    // A later invocation for another optimizer, same settings: the report shows both, the earlier run reused as it was.
    const r2 = await cli(['train', 'fashion-mnist', '--optimizers', 'lion', '--batches', '10', '--eval-every', '5', '--eval-size', '100', '--train-size', '640', '--out', out, '--json', '--resume', '--landscape-grid', '3', '--landscape-images', '64']);
    expect(r2.code, r2.stderr).toBe(0);
    const both = JSON.parse(r2.stdout) as { results: Array<Record<string, unknown>> };
    expect(both.results.map((x) => x.optimizer)).toEqual(['adam', 'lion', 'tf.train.adam']);
    expect(readFileSync(join(out, 'RESULTS.md'), 'utf8')).toMatch(/\| lion \|[^\n]*\n\| tf\.train\.adam \|/);
    const r3 = await cli(['train', 'fashion-mnist', '--optimizers', 'adam,lion', '--batches', '10', '--eval-every', '5', '--eval-size', '100', '--train-size', '640', '--out', out, '--json', '--resume', '--landscape-grid', '3', '--landscape-images', '64']);
    expect(r3.code, r3.stderr).toBe(0);
    const all = JSON.parse(r3.stdout) as { results: Array<Record<string, unknown>> };
    expect(all.results.map((x) => x.optimizer)).toEqual(['adam', 'lion', 'tf.train.adam']);
    expect(all.results[0]).toEqual(parsed.results[0]);
  }, 600_000);

  it('a resume under other settings is refused, naming the optimizer and both settings', async () => {
    const out = mkdtempSync(join(tmpdir(), 'descent-train-mismatch-'));
    await trainFashionMnist(data!, { ...base(out), optimizers: ['adam'], stopAfter: 5 });
    await expect(trainFashionMnist(data!, { ...base(out), optimizers: ['adam'], seed: 4, resume: true })).rejects.toThrow(/^train --resume: the checkpoint of adam in .* was made with other settings \(.*"seed":3.*; now .*"seed":4/);
  }, 600_000);

  it('--search: a seeded TPE over the rate from short runs, the same trials every time, the best within the range', async () => {
    const settings = { optimizers: ['adam'], trials: 3, batches: 4, seed: 2, trainSize: 640 };
    const [a] = await searchTrainRates(data!, settings);
    const [b] = await searchTrainRates(data!, settings);
    expect(b).toEqual(a);
    expect(a!.trials).toHaveLength(3);
    expect(a!.objective).toBe(Math.min(...a!.trials.map((t) => t.value)));
    expect(a!.lr).toBeGreaterThanOrEqual(1e-3 * 10 ** -2.5);
    expect(a!.lr).toBeLessThanOrEqual(1e-3 * 10 ** 1.5);
    await expect(searchTrainRates(data!, { ...settings, optimizers: ['tf.train.adam'] })).rejects.toThrow('train --search: tf.train.adam runs at Adam\'s rate; search "adam" instead');
  }, 600_000);
});

describe('descent train refuses bad requests: exit code 2, one line', () => {
  it('an unknown task or optimizer, a missing data folder', async () => {
    const r1 = await cli(['train', 'cifar']);
    expect([r1.code, r1.stderr]).toEqual([2, 'descent: train: unknown task "cifar"; known: fashion-mnist\n']);
    const r2 = await cli(['train', 'fashion-mnist', '--optimizers', 'adamz']);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/^descent: train: unknown optimizer "adamz"; known: adagrad, rmsprop, /);
    const dir = mkdtempSync(join(tmpdir(), 'descent-train-nodata-'));
    mkdirSync(join(dir, 'data'));
    const r3 = await cli(['train', 'fashion-mnist', '--data', join(dir, 'data'), '--out', join(dir, 'out')]);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toBe(`descent: Fashion-MNIST: no train-images-idx3-ubyte(.gz) in ${join(dir, 'data')} (--data names the folder holding the four IDX files)\n`);
  });
});
