import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  OptionError,
  ParamError,
  StateError,
  adam,
  adamw,
  clipGradNorm,
  cosine,
  createReference,
  lion,
  muonRouting,
  muonWithAuxAdam,
  tensor,
  withSchedule,
  withTransforms,
  type OptimizerSpec,
} from '@descent/core';
import { DescentOptimizer, STATE_WEIGHT, descentOptimizer, registerDescentOptimizer, type NamedTensor } from '../src/index.js';

const U = 2 ** -24;

beforeAll(async () => {
  expect(await tf.setBackend('cpu')).toBe(true);
});

/** y = sin(x₀) + x₁·x₂ − 0.5·x₃ on 64 fixed points in [−1, 1)⁴. */
function data(): { x: tf.Tensor2D; y: tf.Tensor2D } {
  return tf.tidy(() => {
    const x = tf.randomUniform([64, 4], -1, 1, 'float32', 7) as tf.Tensor2D;
    const [a, b, c, d] = tf.split(x, 4, 1) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
    const y = tf.sub(tf.add(tf.sin(a), tf.mul(b, c)), tf.mul(d, 0.5)) as tf.Tensor2D;
    return { x, y };
  });
}

/** A 2-layer dense network with seeded initial weights. */
function net(seed: number): tfl.Sequential {
  return tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [4], units: 16, activation: 'tanh', kernelInitializer: tfl.initializers.glorotUniform({ seed }) }),
      tfl.layers.dense({ units: 1, kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }) }),
    ],
  });
}

async function trainLosses(spec: OptimizerSpec<object>, options: Parameters<typeof descentOptimizer>[1], epochs: number): Promise<{ losses: number[]; optimizer: DescentOptimizer<object> }> {
  const { x, y } = data();
  const model = net(1);
  const optimizer = descentOptimizer(spec, options);
  model.compile({ optimizer, loss: 'meanSquaredError' });
  const history = await model.fit(x, y, { epochs, batchSize: 16, shuffle: false, verbose: 0 });
  tf.dispose([x, y]);
  model.dispose();
  return { losses: history.history.loss as number[], optimizer };
}

describe('descentOptimizer in tfjs-layers', () => {
  it.each([
    ['adamw', adamw({ lr: 0.01 })],
    ['lion', lion({ lr: 0.002, weightDecay: 0.1 })],
    ['adam with a cosine schedule', withSchedule(adam({ lr: 0.01 }), cosine({ tMax: 40 }))],
  ])('%s: model.fit lowers the loss', async (_label, spec) => {
    const before = tf.memory().numTensors;
    const { losses, optimizer } = await trainLosses(spec as OptimizerSpec<object>, {}, 10);
    expect(losses).toHaveLength(10);
    expect(losses[9]!).toBeLessThan(0.5 * losses[0]!);
    expect(optimizer.path).toBe('fused-cpu');
    expect(optimizer.iterations).toBe(10 * 4); // 64 samples in batches of 16
    optimizer.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('Muon with auxiliary Adam: groups from muonRouting at the first step; matrices on Muon, biases on Adam', async () => {
    const { losses, optimizer } = await trainLosses(muonWithAuxAdam({ lr: 0.02, adamLr: 0.01 }), { groups: (params) => muonRouting(params) }, 10);
    expect(losses[9]!).toBeLessThan(0.5 * losses[0]!);
    const groups = optimizer.optimizer!.groups();
    const use = Object.fromEntries(groups.flatMap((g) => g.params.map((p) => [p, (g.options as { use?: string }).use])));
    expect(Object.values(use).sort()).toEqual(['adam', 'adam', 'muon', 'muon']);
    for (const [name, route] of Object.entries(use)) expect(route).toBe(name.endsWith('/bias') ? 'adam' : 'muon');
    expect(optimizer.path).toBe('mixed'); // Muon's matrices through composed ops, Adam's vectors fused
    optimizer.dispose();
  });

  it('one fit step equals the Float64 reference step on the same gradients', async () => {
    const { x, y } = data();
    const model = net(3);
    const spec = adamw({ lr: 0.01, weightDecay: 0.1 });
    const optimizer = descentOptimizer(spec);
    model.compile({ optimizer, loss: 'meanSquaredError' });
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const before = variables.map((v) => Float32Array.from(v.dataSync()));
    // The gradients of the batch loss, as tfjs-layers defines 'meanSquaredError': mean over the last axis, then
    // over the batch.
    const { grads } = tf.variableGrads(
      () => tf.mean(tf.mean(tf.square(tf.sub(model.apply(x, { training: true }) as tf.Tensor, y)), -1)) as tf.Scalar,
      variables,
    );
    // What fit hands the optimizer, captured on the way.
    const seen = new Map<string, Float32Array>();
    const apply = optimizer.applyGradients.bind(optimizer);
    optimizer.applyGradients = (g) => {
      for (const { name, tensor: t } of g as NamedTensor[]) seen.set(name, Float32Array.from(t.dataSync()));
      apply(g);
    };
    await model.fit(x, y, { epochs: 1, batchSize: 64, shuffle: false, verbose: 0 });
    expect(optimizer.iterations).toBe(1);
    // Same batch, loss and graph: the same gradient values.
    for (const v of variables) expect([...seen.get(v.name)!]).toEqual([...grads[v.name]!.dataSync()]);
    const params = Object.fromEntries(variables.map((v, i) => [v.name, tensor(Float64Array.from(before[i]!), [...v.shape])]));
    const reference = createReference(spec, params);
    reference.step(Object.fromEntries(variables.map((v) => [v.name, tensor(Float64Array.from(grads[v.name]!.dataSync()), [...v.shape])])));
    // The fused step is the reference on float32 storage from the same float32 inputs: θ, m, v are each rounded
    // once when stored, and θ's step reads m and v back rounded (≤ ~2u relative). So |θ − θ_ref| ≤ 4u(|θ_ref| + |Δθ|).
    variables.forEach((v, i) => {
      const got = v.dataSync();
      const want = params[v.name]!.data;
      for (let j = 0; j < got.length; j++) {
        const bound = 4 * U * (Math.abs(want[j] as number) + Math.abs((want[j] as number) - (before[i]![j] as number)));
        expect(Math.abs((got[j] as number) - (want[j] as number))).toBeLessThanOrEqual(bound);
      }
      // and the step really moved the weights (AdamW's first step moves each by about lr).
      expect(Math.abs((got[0] as number) - (before[i]![0] as number))).toBeGreaterThan(0.005);
    });
    tf.dispose([x, y, ...Object.values(grads)]);
    optimizer.dispose();
    model.dispose();
  });

  it('optimizer.minimize trains the registered variables it is given', () => {
    const w = tf.variable(tf.tensor1d([3, -2]));
    const optimizer = descentOptimizer(adam({ lr: 0.1 }));
    for (let i = 0; i < 50; i++) optimizer.minimize(() => tf.sum(tf.square(w)) as tf.Scalar, false, [w]);
    expect(Math.max(...[...w.dataSync()].map(Math.abs))).toBeLessThan(0.5);
    expect(optimizer.iterations).toBe(50);
    optimizer.dispose();
    w.dispose();
  });

  it('rejects gradients for names that are not TF.js variables, and bad options, by name', () => {
    const optimizer = descentOptimizer(adam());
    const g = tf.tensor1d([1]);
    expect(() => optimizer.applyGradients({ 'no/such/variable': g })).toThrow(ParamError);
    expect(() => optimizer.applyGradients({ 'no/such/variable': g })).toThrow('adam: applyGradients: gradient for "no/such/variable", which is not the name of a TF.js variable');
    expect(() => descentOptimizer(adam(), { fused: 'on' as never })).toThrow('adam: descentOptimizer: option "fused" must be "auto", "f32" or "off", got "on"');
    expect(() => descentOptimizer(adam(), { group: [] } as never)).toThrow(OptionError);
    g.dispose();
    optimizer.dispose();
  });

  it('binds variables that appear later, carrying the state of the others over', () => {
    const a = tf.variable(tf.tensor1d([1, 1]));
    const b = tf.variable(tf.tensor1d([2]));
    const ga = tf.tensor1d([1, -1]);
    const gb = tf.tensor1d([1]);
    const optimizer = descentOptimizer(adam({ lr: 0.1 }));
    optimizer.applyGradients({ [a.name]: ga });
    optimizer.applyGradients({ [a.name]: ga, [b.name]: gb });
    const state = optimizer.exportState();
    expect(state.params[a.name]!.step).toBe(2);
    expect(state.params[b.name]!.step).toBe(1);
    // Adam with a constant gradient moves by lr per step: a = 1 ∓ 0.2, b = 2 − 0.1.
    expect([...a.dataSync()].map((v) => Math.round(v * 1e5) / 1e5)).toEqual([0.8, 1.2]);
    expect(Math.abs((b.dataSync()[0] as number) - 1.9)).toBeLessThan(1e-6);
    optimizer.dispose();
    tf.dispose([a, b, ga, gb]);
  });
});

describe('weights and serialization', () => {
  async function trained(): Promise<{ model: tfl.Sequential; optimizer: DescentOptimizer<object>; x: tf.Tensor; y: tf.Tensor }> {
    const { x, y } = data();
    const model = net(5);
    const optimizer = descentOptimizer(withTransforms(adamw({ lr: 0.01 }), clipGradNorm({ maxNorm: 1, normType: Infinity })), {
      groups: [{ params: (name) => name.endsWith('/bias'), options: { weightDecay: 0 } }],
    });
    model.compile({ optimizer, loss: 'meanSquaredError' });
    await model.fit(x, y, { epochs: 2, batchSize: 32, shuffle: false, verbose: 0 });
    return { model, optimizer: optimizer as DescentOptimizer<object>, x, y };
  }

  it('getWeights: the iteration count first, then the state header and one tensor per parameter and slot', async () => {
    const { model, optimizer, x, y } = await trained();
    const weights = await optimizer.getWeights();
    expect(weights[0]!.name).toBe('iter');
    expect(weights[0]!.tensor.dtype).toBe('int32');
    expect(weights[0]!.tensor.dataSync()[0]).toBe(4);
    expect(weights[1]!.name).toBe(STATE_WEIGHT);
    const names = model.trainableWeights.map((w) => (w.read() as tf.Variable).name);
    expect(weights.slice(2).map((w) => w.name).sort()).toEqual(names.flatMap((n) => [`${n}/expAvg`, `${n}/expAvgSq`]).sort());
    const state = optimizer.exportState();
    for (const w of weights.slice(2)) {
      const [, param, slot] = /^(.*)\/([^/]+)$/.exec(w.name)!;
      expect([...w.tensor.dataSync()]).toEqual(state.params[param!]!.slots[slot!]!.data);
    }
    // The tensors stay the optimizer's (as tf.train's do) and are freed by the next getWeights or dispose.
    const live = tf.memory().numTensors;
    await optimizer.getWeights();
    expect(tf.memory().numTensors).toBe(live);
    tf.dispose([x, y]);
    optimizer.dispose();
    model.dispose();
  });

  it('setWeights restores the state into a new optimizer, which continues exactly like the original', async () => {
    const { model, optimizer, x, y } = await trained();
    const copy = descentOptimizer(optimizer.spec, { groups: [{ params: (name) => name.endsWith('/bias'), options: { weightDecay: 0 } }] });
    await copy.setWeights(await optimizer.getWeights());
    expect(copy.iterations).toBe(optimizer.iterations);
    expect(copy.exportState()).toEqual(optimizer.exportState());
    // Both take the same step from the same weights: identical results.
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const start = variables.map((v) => v.clone());
    const { grads } = tf.variableGrads(() => tf.mean(tf.square(tf.sub(model.apply(x) as tf.Tensor, y))) as tf.Scalar, variables);
    optimizer.applyGradients(grads);
    const after = variables.map((v) => [...v.dataSync()]);
    variables.forEach((v, i) => v.assign(start[i]!));
    copy.applyGradients(grads);
    variables.forEach((v, i) => expect([...v.dataSync()]).toEqual(after[i]));
    expect(copy.exportState()).toEqual(optimizer.exportState());
    tf.dispose([x, y, ...start, ...Object.values(grads)]);
    optimizer.dispose();
    copy.dispose();
    model.dispose();
  });

  it('setWeights refuses weights without a descent state header', async () => {
    const optimizer = descentOptimizer(adam());
    const iter = tf.scalar(3, 'int32');
    const m = tf.zeros([2]);
    await expect(optimizer.setWeights([{ name: 'iter', tensor: iter }, { name: 'w/m', tensor: m }])).rejects.toThrow(StateError);
    await expect(optimizer.setWeights([{ name: 'iter', tensor: iter }, { name: 'w/m', tensor: m }])).rejects.toThrow(
      `adam: setWeights: no "${STATE_WEIGHT}" weight: these weights were not saved by a DescentOptimizer`,
    );
    tf.dispose([iter, m]);
  });

  it('getConfig/fromConfig round-trip the spec (with a transform), the groups and the fused mode', async () => {
    const { model, optimizer, x, y } = await trained();
    const config = optimizer.getConfig();
    expect(typeof config.descent).toBe('string');
    expect(config.descent as string).not.toContain('_'); // tfjs-layers camel-cases strings with underscores
    const back = DescentOptimizer.fromConfig(DescentOptimizer as never, JSON.parse(JSON.stringify(config))) as DescentOptimizer<object>;
    expect(back.spec).toEqual(optimizer.spec);
    expect(back.spec.transforms![0]!.options.normType).toBe('inf');
    expect(back.getConfig()).toEqual(config);
    tf.dispose([x, y]);
    optimizer.dispose();
    model.dispose();
  });

  it('model.save with includeOptimizer, then tf.loadLayersModel: the optimizer comes back with its state', async () => {
    registerDescentOptimizer();
    const { model, optimizer, x, y } = await trained();
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
      { includeOptimizer: true },
    );
    const loaded = (await tfl.loadLayersModel(tf.io.fromMemory(artifacts!))) as tfl.Sequential;
    const restored = loaded.optimizer as unknown as DescentOptimizer<object>;
    expect(restored).toBeInstanceOf(DescentOptimizer);
    expect(restored.spec).toEqual(optimizer.spec);
    expect(restored.iterations).toBe(optimizer.iterations);
    // The loaded model's variables are named `…_1` in this program (tfjs-layers keeps names unique): the state is
    // matched to them by name at the first step. One more identical step on both models gives identical weights.
    await model.fit(x, y, { epochs: 1, batchSize: 64, shuffle: false, verbose: 0 });
    await loaded.fit(x, y, { epochs: 1, batchSize: 64, shuffle: false, verbose: 0 });
    const a = model.getWeights().map((w) => [...w.dataSync()]);
    const b = loaded.getWeights().map((w) => [...w.dataSync()]);
    expect(b).toEqual(a);
    const sa = optimizer.exportState();
    const sb = restored.exportState();
    expect(Object.values(sb.params)).toEqual(Object.values(sa.params));
    tf.dispose([x, y]);
    optimizer.dispose();
    restored.dispose();
    model.dispose();
    loaded.dispose();
  });
});
