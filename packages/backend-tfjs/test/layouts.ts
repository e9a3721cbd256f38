import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { CHANNELS_LAST_VIEW, OptionError, type MatrixView, adam, createReference, muon, muonRouting, muonWithAuxAdam, shampoo, tensor, type GroupConfig, type OptimizerSpec } from '@descent/core';
import { describe, expect, it } from 'vitest';
import { DEPTHWISE_VIEW, DescentOptimizer, descentOptimizer, layersMatrixView, withMatrixViews, type DescentOptimizerOptions } from '../src/index.js';

/**
 * The layout check of issue 16, shared by layouts-cpu.test.ts and layouts-wasm.test.ts: a tfjs-layers model
 * (a Conv2D kernel [kh, kw, in, out], a Dense kernel [in, out] and their biases) stepped through
 * `descentOptimizer` must move its weights exactly as the Float64 reference moves the same weights laid out as
 * PyTorch stores them (Conv2d [out, in, kh, kw], Linear [out, in]), once permuted back.
 */

/** Deterministic values in [−1, 1) (mulberry32), rounded to float32. */
export function values(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

/**
 * `x` (row-major, `shape`) with its axes reordered: result axis j is axis perm[j] of x. Written out index by
 * index, independently of core's permuteAxes.
 */
export function transposeTo(x: ArrayLike<number>, shape: readonly number[], perm: readonly number[]): { data: Float64Array; shape: number[] } {
  const out = perm.map((a) => shape[a] as number);
  const stride = (s: readonly number[], i: number): number => s.slice(i + 1).reduce((p, d) => p * d, 1);
  const data = new Float64Array(x.length);
  for (let j = 0; j < x.length; j++) {
    let src = 0;
    for (let m = 0; m < perm.length; m++) {
      const index = Math.floor(j / stride(out, m)) % (out[m] as number);
      src += index * stride(shape, perm[m] as number);
    }
    data[j] = x[src] as number;
  }
  return { data, shape: out };
}

/** The permutation taking a TF.js layer kernel to PyTorch's layout: [in, out] → [out, in]; [kh, kw, in, out] → [out, in, kh, kw]. */
export function torchPermutation(rank: number): number[] {
  if (rank < 2) return [...Array(rank).keys()];
  return [rank - 1, rank - 2, ...Array(rank - 2).keys()];
}

const inverse = (perm: readonly number[]): number[] => perm.map((_, i) => perm.indexOf(i));

export interface LayoutRun {
  /** Per step: max over the model's weights of ‖Δθ_tfjs − Δθ_ref‖_F / ‖Δθ_ref‖_F, Δθ measured from the start. */
  readonly errors: number[];
  /** Variable name → shape, as tfjs-layers made them. */
  readonly shapes: Record<string, number[]>;
}

/**
 * A small CNN: Conv2D(4 filters, 3×3) on 5×5×2 inputs, flatten, Dense(3): kernels [3, 3, 2, 4] and [36, 3], so
 * the conv kernel's PyTorch matrix is 4 × 18 (not 3 × 24) and the dense one's 3 × 36 (s = 1, not √12).
 */
function model(useBias: boolean): tfl.Sequential {
  // Zero biases: a float32 weight of 1 moved by 3e-4 (Adam's first steps) would carry 2e-4 of rounding relative to its move.
  const bias = { useBias, biasInitializer: 'zeros' } as const;
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [5, 5, 2], filters: 4, kernelSize: 3, kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }), ...bias }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 3, kernelInitializer: tfl.initializers.glorotUniform({ seed: 4 }), ...bias }),
    ],
  });
}

/**
 * Steps the model `steps` times with fixed gradients through `descentOptimizer(spec, options)` (manual
 * `applyGradients`, what `model.fit` calls), and the reference on the PyTorch layouts with `groups` (given the
 * PyTorch-layout shapes); returns the errors per step.
 */
export function layoutRun(
  spec: OptimizerSpec<object>,
  options: DescentOptimizerOptions<object>,
  referenceGroups: (shapes: ReadonlyMap<string, readonly number[]>) => ReadonlyArray<GroupConfig<object>> = () => [],
  { steps = 3, useBias = true }: { steps?: number; useBias?: boolean } = {},
): LayoutRun {
  const m = model(useBias);
  const weights = m.trainableWeights.map((w) => ({ name: w.name, variable: w.read() as tf.Variable, shape: [...w.shape] as number[] }));
  const perm = new Map(weights.map((w) => [w.name, torchPermutation(w.shape.length)]));
  const initial = new Map(weights.map((w) => [w.name, Float32Array.from(w.variable.dataSync())]));
  const start = new Map(weights.map((w) => [w.name, transposeTo(initial.get(w.name)!, w.shape, perm.get(w.name)!)]));
  const torchShapes = new Map([...start].map(([n, t]) => [n, t.shape as readonly number[]]));
  const ref = createReference(spec, [...start].map(([n, t]) => [n, tensor(Float64Array.from(t.data), t.shape)] as const), { groups: referenceGroups(torchShapes) });
  const optimizer = descentOptimizer(spec, options);
  const errors: number[] = [];
  try {
    for (let step = 0; step < steps; step++) {
      const grads = weights.map((w, i) => ({ name: w.name, values: values(w.variable.size, 100 * step + i + 1), shape: w.shape }));
      const gradTensors = grads.map((g) => ({ name: g.name, tensor: tf.tensor(g.values, g.shape, 'float32') }));
      optimizer.applyGradients(gradTensors);
      tf.dispose(gradTensors.map((g) => g.tensor));
      ref.step(Object.fromEntries(grads.map((g) => {
        const t = transposeTo(g.values, g.shape, perm.get(g.name)!);
        return [g.name, tensor(t.data, t.shape)];
      })));
      let worst = 0;
      for (const w of weights) {
        // The reference's weights permuted back into TF.js's layout, against the variable as it is.
        const torch = ref.params.get(w.name)!;
        const refBack = transposeTo(torch.data, torch.shape, inverse(perm.get(w.name)!)).data;
        const now = w.variable.dataSync();
        const s = initial.get(w.name)!;
        let diff = 0;
        let moved = 0;
        for (let i = 0; i < s.length; i++) {
          diff += ((now[i] as number) - (refBack[i] as number)) ** 2;
          moved += ((refBack[i] as number) - (s[i] as number)) ** 2;
        }
        worst = Math.max(worst, Math.sqrt(diff / moved));
      }
      errors.push(worst);
    }
  } finally {
    optimizer.dispose();
    m.dispose();
  }
  return { errors, shapes: Object.fromEntries(weights.map((w) => [w.name, w.shape])) };
}

const routing = (shapes: ReadonlyMap<string, readonly number[]>): ReadonlyArray<GroupConfig<object>> => muonRouting(shapes) as ReadonlyArray<GroupConfig<object>>;
const show = (e: readonly number[]): string => e.map((x) => x.toExponential(2)).join(', ');

/**
 * The layout tests on one TF.js backend. Tolerances: Muon's float32 Newton–Schulz agrees with the Float64
 * reference to ~1e-6 normwise at these sizes; Shampoo's float32 statistics and inverse roots to ~1e-5. A wrong
 * view is off by O(1) (another matrix is orthogonalized, or another scale or mode order is used).
 */
export function describeLayouts(backend: string): void {
  describe(`tfjs-${backend}: tfjs-layers kernels get the update of their PyTorch layout`, () => {
    const cases: Array<{ label: string; spec: OptimizerSpec<object>; options?: DescentOptimizerOptions<object>; groups?: typeof routing; useBias?: boolean; tol: number }> = [
      { label: 'muon (conv and dense kernels, no biases)', spec: muon() as OptimizerSpec<object>, useBias: false, tol: 1e-4 },
      { label: 'muon, matchRmsAdamw, no Nesterov', spec: muon({ adjustLr: 'matchRmsAdamw', nesterov: false }) as OptimizerSpec<object>, useBias: false, tol: 1e-4 },
      { label: 'muonWithAuxAdam with muonRouting (biases to Adam)', spec: muonWithAuxAdam() as OptimizerSpec<object>, options: { groups: routing }, groups: routing, tol: 1e-4 },
      { label: 'muonWithAuxAdam with muonRouting, composed ops', spec: muonWithAuxAdam() as OptimizerSpec<object>, options: { groups: routing, fused: 'off' }, groups: routing, tol: 1e-4 },
      { label: 'shampoo (statistics "code": the mode order matters)', spec: shampoo({ lr: 0.01 }) as OptimizerSpec<object>, tol: 1e-3 },
      { label: 'shampoo, exponent and statistics "paper", newtonSchulz roots', spec: shampoo({ lr: 0.01, exponent: 'paper', statistics: 'paper', inverseRoot: 'newtonSchulz' }) as OptimizerSpec<object>, tol: 1e-3 },
    ];
    for (const c of cases) {
      it(`${c.label}: through descentOptimizer, equal to the reference on PyTorch layouts`, () => {
        const { errors, shapes } = layoutRun(c.spec, c.options ?? {}, c.groups, { useBias: c.useBias ?? true });
        expect(Object.values(shapes).filter((s) => s.length > 1)).toEqual([[3, 3, 2, 4], [36, 3]]);
        expect(Math.max(...errors), `relative errors per step: ${show(errors)}`).toBeLessThan(c.tol);
      });
    }

    it('without the views (matrixViews: "none") Muon and Shampoo with statistics "code" are off by O(1): the test sees the layout', () => {
      const muonErrors = layoutRun(muon() as OptimizerSpec<object>, { matrixViews: 'none' }, undefined, { useBias: false }).errors;
      expect(Math.min(...muonErrors), show(muonErrors)).toBeGreaterThan(0.1);
      const shampooErrors = layoutRun(shampoo({ lr: 0.01 }) as OptimizerSpec<object>, { matrixViews: 'none' }).errors;
      expect(Math.min(...shampooErrors), show(shampooErrors)).toBeGreaterThan(1e-2);
    });

    it('Shampoo with statistics "paper" is layout-equivariant: PyTorch\'s view on TF.js kernels gives the same update', () => {
      const spec = shampoo({ lr: 0.01, statistics: 'paper' }) as OptimizerSpec<object>;
      const errors = layoutRun(spec, { matrixViews: 'none' }).errors;
      expect(Math.max(...errors), show(errors)).toBeLessThan(1e-3);
    });
  });
}

/** The rules and plumbing of the views, independent of the TF.js backend. */
export function describeLayoutRules(): void {
  describe('layersMatrixView and withMatrixViews', () => {
    it('name the view of each tfjs-layers weight from its name and rank', () => {
      expect(layersMatrixView('dense_Dense1/kernel', [784, 128])).toEqual(CHANNELS_LAST_VIEW);
      expect(layersMatrixView('conv2d_Conv2D3/kernel_1', [3, 3, 1, 32])).toEqual(CHANNELS_LAST_VIEW);
      expect(layersMatrixView('lstm_LSTM1/recurrent_kernel', [8, 32])).toEqual(CHANNELS_LAST_VIEW);
      expect(layersMatrixView('sep/pointwise_kernel', [1, 1, 8, 16])).toEqual(CHANNELS_LAST_VIEW);
      expect(layersMatrixView('dw/depthwise_kernel', [3, 3, 8, 2])).toEqual(DEPTHWISE_VIEW);
      expect(layersMatrixView('embedding_Embedding1/embeddings', [100, 16])).toBeUndefined();
      expect(layersMatrixView('dense_Dense1/bias', [128])).toBeUndefined();
      expect(layersMatrixView('w', [4, 4])).toBeUndefined();
    });

    it('split groups by view, keep views already chosen, and give default-group kernels groups of their own', () => {
      const shapes = new Map<string, readonly number[]>([
        ['c/kernel', [3, 3, 2, 4]],
        ['c/bias', [4]],
        ['d/kernel', [36, 3]],
        ['e/embeddings', [10, 3]],
        ['w', [3, 3]],
      ]);
      const own = { rows: [1], cols: [] };
      const given: Array<GroupConfig<{ lr: number; matrixView: MatrixView }>> = [{ params: ['c/kernel', 'c/bias'], options: { lr: 0.1 } }, { params: ['w'], options: { matrixView: own } }];
      expect(withMatrixViews(given, shapes, layersMatrixView)).toEqual([
        { params: ['c/bias'], options: { lr: 0.1 } },
        { params: ['c/kernel'], options: { lr: 0.1, matrixView: CHANNELS_LAST_VIEW } },
        { params: ['w'], options: { matrixView: own } },
        { params: ['d/kernel'], options: { matrixView: CHANNELS_LAST_VIEW } },
      ]);
      // A predicate group is resolved to names when it is split; a spec with its own view is left alone.
      expect(withMatrixViews([{ params: (n) => n.startsWith('d/') }], shapes, layersMatrixView)).toEqual([
        { params: ['d/kernel'], options: { matrixView: CHANNELS_LAST_VIEW } },
        { params: ['c/kernel'], options: { matrixView: CHANNELS_LAST_VIEW } },
      ]);
      expect(withMatrixViews([], shapes, layersMatrixView, own)).toEqual([]);
    });

    it('descentOptimizer checks matrixViews, only splits for optimizers with a view, and saves and restores the split groups', async () => {
      expect(() => descentOptimizer(muon(), { matrixViews: 'pytorch' as never })).toThrow(
        new OptionError('muon: descentOptimizer: option "matrixViews" must be "layers", "none" or a function of a variable\'s name and shape, got "pytorch"'),
      );
      const m = model(true);
      const { x, y } = tf.tidy(() => ({ x: tf.randomUniform([8, 5, 5, 2], -1, 1, 'float32', 1), y: tf.randomUniform([8, 3], -1, 1, 'float32', 2) }));
      const optimizer = descentOptimizer(muonWithAuxAdam(), { groups: muonRouting });
      m.compile({ optimizer, loss: 'meanSquaredError' });
      await m.fit(x, y, { epochs: 1, batchSize: 4, verbose: 0 });
      const views = Object.fromEntries(optimizer.optimizer!.groups().flatMap((g) => g.params.map((p) => [p.split('/')[1], [g.options.use, g.options.matrixView]])));
      expect(views).toEqual({ kernel: ['muon', CHANNELS_LAST_VIEW], bias: ['adam', { rows: [0], cols: [] }] });
      const saved = JSON.parse(String(optimizer.getConfig().descent)) as { groups: Array<{ options: object }> };
      expect(saved.groups.map((g) => g.options)).toEqual([{ use: 'adam' }, { use: 'muon', matrixView: CHANNELS_LAST_VIEW }]);
      // Loaded back (before its first step), the optimizer holds the same groups, views included.
      const restored = DescentOptimizer.fromConfig(DescentOptimizer, optimizer.getConfig()) as unknown as DescentOptimizer;
      expect(restored.getConfig()).toEqual(optimizer.getConfig());
      restored.dispose();
      // Adam has no matrixView: the groups pass through untouched.
      const plain = descentOptimizer(adam());
      m.compile({ optimizer: plain, loss: 'meanSquaredError' });
      await m.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0 });
      expect(plain.optimizer!.groups().length).toBe(1);
      tf.dispose([x, y]);
      optimizer.dispose();
      plain.dispose();
      m.dispose();
    });
  });
}
