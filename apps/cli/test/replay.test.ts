import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createReference, createSpec, decodeNumber, definitions, encodeArray, specFromJSON, type OptionValue, type Tensor } from '@descent/core';
import { InputError } from '../src/errors.js';
import { formatReplay, parseReplay, replay, type ReplayOutput } from '../src/replay.js';

/**
 * A hand-derived SGD run (lr 0.5, momentum 0.5; every number exact in binary):
 *   w = [1, 2], s = [4] (shape [] — a scalar).
 *   step 1: g_w = [1, −2], no gradient for s.
 *     b_w = g_w = [1, −2] (first step: the buffer is the gradient); w = [1 − 0.5·1, 2 + 0.5·2] = [0.5, 3]; s stays 4.
 *   step 2: g_w = [2, 0], g_s = [1].
 *     b_w = 0.5·[1, −2] + [2, 0] = [2.5, −1]; w = [0.5 − 1.25, 3 + 0.5] = [−0.75, 3.5].
 *     s gets its first update: b_s = 1, s = 4 − 0.5 = 3.5.
 */
const handSgd = () => ({
  optimizer: 'sgd',
  options: { lr: 0.5, momentum: 0.5 },
  params: [
    { name: 'w', shape: [2], data: [1, 2] },
    { name: 's', shape: [], data: [4] },
  ],
  grads: [
    [[1, -2], null],
    [[2, 0], [1]],
  ],
});

async function failure(input: unknown, backend?: string): Promise<string> {
  try {
    await replay(input, backend === undefined ? {} : { backend });
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('replay did not fail');
}

describe('replay', () => {
  it('reproduces a hand-derived SGD-with-momentum run, skipping null gradients', async () => {
    const out = await replay(handSgd());
    expect(out).toEqual({
      optimizer: 'sgd',
      backend: 'reference',
      steps: [{ params: [[0.5, 3], [4]] }, { params: [[-0.75, 3.5], [3.5]] }],
    });
  });

  it('applies param groups: s in a group with lr 0.25 moves by 0.25 instead of 0.5', async () => {
    const out = await replay({ ...handSgd(), groups: [{ params: ['s'], options: { lr: 0.25 } }] });
    expect(out.steps.map((s) => s.params[1])).toEqual([[4], [3.75]]);
    expect(out.steps[1]!.params[0]).toEqual([-0.75, 3.5]);
  });

  it('ignores the metadata keys description, generator and expected', async () => {
    const out = await replay({ ...handSgd(), description: 'd', generator: 'g', expected: { steps: 'anything' } });
    expect(out.steps).toHaveLength(2);
  });

  it('zero steps give an empty trajectory', async () => {
    expect((await replay({ ...handSgd(), grads: [] })).steps).toEqual([]);
  });

  it('reads and writes NaN, ±Infinity and -0 as strings', async () => {
    // sgd lr 1: −0 − 1·0 = −0; 1 − 1·∞ = −∞; 2 − 1·NaN = NaN; 3 − 1·(−∞) = ∞.
    const out = await replay({
      optimizer: 'sgd',
      options: { lr: 1 },
      params: [{ name: 'w', shape: [4], data: ['-0', 1, 2, 3] }],
      grads: [[[0, 'Infinity', 'NaN', '-Infinity']]],
    });
    expect(out.steps[0]!.params[0]).toEqual(['-0', '-Infinity', 'NaN', 'Infinity']);
    expect(formatReplay(out)).toContain('["-0","-Infinity","NaN","Infinity"]');
  });

  it('prints numbers that read back to the same doubles', async () => {
    const awkward = [0.1 + 0.2, 5e-324, -1.7976931348623157e308, 1 / 3, 2 ** -1074 * 3, 123456789.12345679, -2.5e-300];
    const out = await replay({
      optimizer: 'sgd',
      params: [{ name: 'w', shape: [awkward.length], data: awkward }],
      grads: [[null], [null]],
    });
    const parsed = JSON.parse(formatReplay(out)) as ReplayOutput;
    expect(parsed).toEqual(out);
    for (const step of parsed.steps) {
      step.params[0]!.forEach((v, i) => expect(Object.is(decodeNumber(v), awkward[i])).toBe(true));
    }
  });

  it('formats one step per line', async () => {
    const text = formatReplay(await replay(handSgd()));
    expect(text).toBe('{"optimizer":"sgd","backend":"reference","steps":[\n{"params":[[0.5,3],[4]]},\n{"params":[[-0.75,3.5],[3.5]]}\n]}\n');
    expect(formatReplay({ optimizer: 'sgd', backend: 'reference', steps: [] })).toBe('{"optimizer":"sgd","backend":"reference","steps":[]}\n');
  });

  it('does not change the input', async () => {
    const input = handSgd();
    const copy = JSON.parse(JSON.stringify(input)) as unknown;
    await replay(input);
    expect(input).toEqual(copy);
  });

  it('validates every step before running: a bad gradient in the last step fails in parseReplay', () => {
    const input = handSgd();
    input.grads.push([[1, 'x' as unknown as number], null]);
    expect(() => parseReplay(input)).toThrow(InputError);
    expect(() => parseReplay(input)).toThrow('replay: grads[2][0][1] must be a number or one of "NaN", "Infinity", "-Infinity", "-0", got "x"');
  });

  describe('errors (exact messages)', () => {
    const base = handSgd;
    const known = [...definitions.keys()].join(', ');
    const cases: Array<[string, unknown, string]> = [
      ['not an object', [1], 'replay: the input must be a JSON object { optimizer, options, params, grads }, got [1]'],
      ['null', null, 'replay: the input must be a JSON object { optimizer, options, params, grads }, got null'],
      [
        'unknown key',
        { ...base(), step: 1 },
        'replay: unknown key "step"; known keys: optimizer, options, transforms, schedule, lookahead, ema, cautious, groups, params, grads (and description, generator, expected, which are ignored)',
      ],
      ['missing optimizer', { params: base().params, grads: [] }, 'replay: missing key "optimizer"'],
      ['missing params', { optimizer: 'sgd', grads: [] }, 'replay: missing key "params"'],
      ['missing grads', { optimizer: 'sgd', params: base().params }, 'replay: missing key "grads"'],
      ['optimizer not a string', { ...base(), optimizer: 3 }, 'replay: "optimizer" must be an optimizer name, got 3'],
      ['unknown optimizer', { ...base(), optimizer: 'adamx' }, `unknown optimizer "adamx"; known optimizers: ${known}`],
      ['bad option value', { ...base(), options: { lr: -1 } }, 'sgd: option "lr" must be a number in [0, ∞), got -1'],
      ['options not an object', { ...base(), options: [1] }, 'sgd: options must be an object, got [1]'],
      ['option rule', { ...base(), options: { nesterov: true } }, 'sgd: option "nesterov" requires momentum > 0 and dampening = 0, got momentum 0 and dampening 0'],
      ['groups not a list', { ...base(), groups: {} }, 'replay: "groups" must be a list of { params, options }, got {}'],
      [
        'group with an unknown parameter',
        { ...base(), groups: [{ params: ['z'] }] },
        'sgd: group 0: unknown parameter "z"; parameters are "w", "s"',
      ],
      ['group with a bad option', { ...base(), groups: [{ params: ['s'], options: { lr: 'x' } }] }, 'sgd: group 0: option "lr" must be a number in [0, ∞), got "x"'],
      ['params not a list', { ...base(), params: {} }, 'replay: "params" must be a non-empty list of { name, shape, data }, got {}'],
      ['params empty', { ...base(), params: [] }, 'replay: "params" must be a non-empty list of { name, shape, data }, got []'],
      ['param not an object', { ...base(), params: [5] }, 'replay: params[0] must be an object { name, shape, data }, got 5'],
      [
        'param with an unknown key',
        { ...base(), params: [{ name: 'w', shape: [1], data: [1], grad: [] }] },
        'replay: params[0]: unknown key "grad"; a parameter has name, shape and data',
      ],
      ['param without a name', { ...base(), params: [{ shape: [1], data: [1] }] }, 'replay: params[0].name must be a non-empty string, got undefined'],
      ['param with an empty name', { ...base(), params: [{ name: '', shape: [1], data: [1] }] }, 'replay: params[0].name must be a non-empty string, got ""'],
      [
        'duplicate parameter name',
        { ...base(), params: [base().params[0], { name: 'w', shape: [1], data: [1] }] },
        'replay: params[1].name "w" is already the name of params[0]',
      ],
      ['bad shape', { ...base(), params: [{ name: 'w', shape: [2, -1], data: [] }] }, 'replay: params[0].shape must be a list of non-negative integers, got [2,-1]'],
      ['data not a list', { ...base(), params: [{ name: 'w', shape: [2], data: 'ab' }] }, 'replay: params[0].data must be a list of 2 numbers (shape [2]), got "ab"'],
      [
        'data of the wrong length',
        { ...base(), params: [{ name: 'w', shape: [3, 4], data: [1, 2] }] },
        'replay: params[0].data has 2 values, expected 12 (shape [3, 4])',
      ],
      [
        'data with a non-number',
        { ...base(), params: [{ name: 'w', shape: [2], data: [1, 'nan'] }] },
        'replay: params[0].data[1] must be a number or one of "NaN", "Infinity", "-Infinity", "-0", got "nan"',
      ],
      ['grads not a list', { ...base(), grads: {} }, 'replay: "grads" must be a list with one entry per step, got {}'],
      ['a step not a list', { ...base(), grads: [[[1, 1], null], 7] }, 'replay: grads[1] must be a list of 2 gradients (one per parameter, null for none), got 7'],
      ['a step of the wrong length', { ...base(), grads: [[[1, 1]]] }, 'replay: grads[0] has 1 entries, expected 2 (one per parameter, null for none)'],
      [
        'a gradient not a list',
        { ...base(), grads: [[[1, 1], 3]] },
        'replay: grads[0][1] must be a list of 1 numbers (gradient of "s", shape []), got 3',
      ],
      [
        'a gradient of the wrong length',
        { ...base(), grads: [[[1, 1, 1], null]] },
        'replay: grads[0][0] has 3 values, expected 2 (gradient of "w", shape [2])',
      ],
      [
        'a gradient with a non-number',
        { ...base(), grads: [[[1, true], null]] },
        'replay: grads[0][0][1] must be a number or one of "NaN", "Infinity", "-Infinity", "-0", got true',
      ],
      [
        'a non-finite gradient under nonFinite: "throw"',
        { ...base(), options: { lr: 0.5, nonFinite: 'throw' }, grads: [[[1, 'NaN'], null]] },
        'sgd: step: gradient "w" has a non-finite value (NaN) at index 1; nothing was updated (nonFinite: "throw")',
      ],
    ];
    it.each(cases)('%s', async (_what, input, message) => {
      expect(await failure(input)).toBe(message);
    });

    it('an unknown backend names the known ones', async () => {
      expect(await failure(handSgd(), 'onnx')).toBe('unknown backend "onnx"; known backends: reference, tfjs, gpujs');
    });

    it('a shape the optimizer refuses fails before any step (when such an optimizer is registered)', async () => {
      if (!definitions.has('muon')) return;
      const message = await failure({ optimizer: 'muon', params: [{ name: 'b', shape: [3], data: [1, 2, 3] }], grads: [[[1, 1, 1]]] });
      expect(message).toMatch(/^muon: parameter "b" with shape \[3\]: /);
    });
  });
});

/** Fixtures recorded with PyTorch by tools/golden/generate.py (another part of the project). */
const FIXTURES = new URL('../../../packages/core/test/fixtures/torch/', import.meta.url);

function fixtureFiles(): string[] {
  try {
    return readdirSync(FIXTURES, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.json')).sort();
  } catch {
    return [];
  }
}

interface Fixture {
  optimizer: string;
  options?: Record<string, unknown>;
  groups?: Array<{ params: string[]; options?: Record<string, OptionValue> }>;
  params: Array<{ name: string; shape: number[]; data: number[] }>;
  grads: Array<Array<number[] | null>>;
  expected: { steps: Array<{ params: unknown[][] }> };
}

/** The same run driven through the library directly, without the CLI's parsing and encoding. */
function direct(fx: Fixture): unknown[][][] {
  const params: Array<[string, Tensor]> = fx.params.map((p) => [p.name, { shape: p.shape, data: Float64Array.from(p.data) }]);
  const opt = createReference(createSpec(fx.optimizer, fx.options), params, fx.groups ? { groups: fx.groups } : {});
  return fx.grads.map((step) => {
    const grads: Record<string, Tensor> = {};
    step.forEach((g, i) => {
      if (g !== null) grads[fx.params[i]!.name] = { shape: fx.params[i]!.shape, data: Float64Array.from(g) };
    });
    opt.step(grads);
    return params.map(([, t]) => encodeArray(t.data));
  });
}

describe('replay of the PyTorch golden fixtures', () => {
  const files = fixtureFiles();

  it('finds the committed fixtures', () => expect(files.length).toBeGreaterThan(90));

  it('every fixture: the CLI path gives exactly what the library gives when driven directly', async () => {
    for (const file of files) {
      const fx = JSON.parse(readFileSync(new URL(file, FIXTURES), 'utf8')) as Fixture;
      const out = JSON.parse(formatReplay(await replay(fx))) as ReplayOutput;
      expect(out.steps.map((s) => s.params), file).toEqual(direct(fx));
    }
  });

  // The reference follows PyTorch's order of operations and rounds β^t correctly (core's powInt), so it
  // reproduces PyTorch's float64 trajectories bit for bit. NAdam's μ_t = β₁(1 − ½·0.96^(tψ)) needs a non-integer
  // power, which JavaScript's ** does not round correctly: it agrees to ~1e-15 (core's golden test bounds it).
  const exactFiles = files.filter((f) => !f.startsWith('nadam'));
  it('every fixture but NAdam\'s: every number === PyTorch\'s', async () => {
    for (const file of exactFiles) {
      const fx = JSON.parse(readFileSync(new URL(file, FIXTURES), 'utf8')) as Fixture;
      const out = await replay(fx);
      expect(out.steps.length, file).toBe(fx.expected.steps.length);
      out.steps.forEach((step, t) =>
        step.params.forEach((values, i) =>
          values.forEach((v, k) => {
            const want = decodeNumber(fx.expected.steps[t]!.params[i]![k]);
            if (!Object.is(decodeNumber(v), want)) expect.fail(`${file} step ${t + 1} ${fx.params[i]!.name}[${k}]: ${String(v)} !== ${String(want)}`);
          }),
        ),
      );
    }
  });
});

describe('replay of composed specs', () => {
  it('accepts transforms, schedule and lookahead, and runs them as the library does', async () => {
    const input = {
      optimizer: 'adam',
      options: { lr: 0.1 },
      transforms: [{ name: 'clipGradNorm', options: { maxNorm: 0.5 } }],
      schedule: { name: 'step', options: { stepSize: 2, gamma: 0.5 } },
      lookahead: { k: 2, alpha: 0.5 },
      params: [{ name: 'w', shape: [2], data: [1, -1] }],
      grads: [[[3, 4]], [[1, 0]], [[0.5, -2]], [[1, 1]]],
    };
    const out = await replay(input);
    const spec = specFromJSON({ name: 'adam', options: { lr: 0.1 }, transforms: input.transforms, schedule: input.schedule, lookahead: input.lookahead });
    const w: Tensor = { shape: [2], data: Float64Array.from([1, -1]) };
    const opt = createReference(spec, { w });
    const want = input.grads.map(([g]) => {
      opt.step({ w: { shape: [2], data: Float64Array.from(g!) } });
      return encodeArray(w.data);
    });
    expect(out.steps.map((s) => s.params[0])).toEqual(want);
    // The lookahead slot makes the runs differ from plain Adam: check that it was applied at all.
    const plain = await replay({ ...input, lookahead: undefined, transforms: undefined, schedule: undefined });
    expect(plain.steps[3]!.params[0]).not.toEqual(want[3]);
  });
  /**
   * The ema and cautious wrappers: the reference run must be the library's own (bitwise), the float32 backends
   * within float32 rounding of it (a few steps of Adam at lr 0.1 on O(1) values: 1e-5 absolute is ~100 ulps of the
   * largest value, and far below the effect of either wrapper, which changes values by > 1e-2 here).
   */
  describe('the ema and cautious wrappers, on every backend', () => {
    const wrapped = {
      optimizer: 'adam',
      options: { lr: 0.1 },
      ema: { decay: 0.5 },
      cautious: { eps: 0.25 },
      params: [
        { name: 'w', shape: [3], data: [1, -1, 0.5] },
        { name: 'b', shape: [1], data: [2] },
      ],
      grads: [
        [[3, 4, -1], [1]],
        [[-1, 0.5, -2], null],
        [[0.5, -2, 1], [-1]],
        [[1, 1, 1], [0.5]],
      ],
    };
    const expected = (): { params: number[][][]; ema: number[][][] } => {
      const spec = specFromJSON({ name: 'adam', options: { lr: 0.1 }, ema: wrapped.ema, cautious: wrapped.cautious });
      const w: Tensor = { shape: [3], data: Float64Array.from([1, -1, 0.5]) };
      const b: Tensor = { shape: [1], data: Float64Array.from([2]) };
      const opt = createReference(spec, { w, b });
      const params: number[][][] = [];
      const ema: number[][][] = [];
      for (const [gw, gb] of wrapped.grads) {
        opt.step({ w: { shape: [3], data: Float64Array.from(gw!) }, b: gb ? { shape: [1], data: Float64Array.from(gb) } : null });
        params.push([[...w.data], [...b.data]]);
        const avg = opt.exportState().params;
        ema.push([avg.w!.slots.emaParam!.data as number[], avg.b!.slots.emaParam!.data as number[]]);
      }
      return { params, ema };
    };
    const numbers = (xs: ReadonlyArray<ReadonlyArray<unknown>>): number[][] => xs.map((a) => a.map((v) => decodeNumber(v) as number));

    it('reference: the library run, bitwise, with the average after every step', async () => {
      const out = await replay(wrapped);
      const want = expected();
      expect(out.steps.map((s) => numbers(s.params))).toEqual(want.params);
      expect(out.steps.map((s) => numbers(s.ema!))).toEqual(want.ema);
      // Both wrappers changed the run: the average differs from the parameters, cautious from plain Adam+EMA.
      expect(numbers(out.steps[3]!.ema!)).not.toEqual(numbers(out.steps[3]!.params));
      const uncautious = await replay({ ...wrapped, cautious: undefined });
      expect(Math.abs((numbers(uncautious.steps[3]!.params)[0]![1] as number) - (want.params[3]![0]![1] as number))).toBeGreaterThan(1e-2);
      // Without ema there is no "ema" field.
      expect('ema' in (await replay({ ...wrapped, ema: undefined })).steps[0]!).toBe(false);
    });

    for (const [backend, settings] of [
      ['tfjs', {}],
      ['tfjs', { tfjsBackend: 'wasm' }],
      ['gpujs', { gpujsMode: 'webasm' }],
      ['gpujs', { gpujsMode: 'cpu' }],
    ] as const) {
      it(`${backend} ${JSON.stringify(settings)}: within float32 rounding of the reference`, async () => {
        const out = await replay(wrapped, { backend, settings });
        const want = expected();
        out.steps.forEach((s, t) => {
          numbers(s.params).forEach((p, i) => p.forEach((x, j) => expect(Math.abs(x - want.params[t]![i]![j]!)).toBeLessThan(1e-5)));
          numbers(s.ema!).forEach((p, i) => p.forEach((x, j) => expect(Math.abs(x - want.ema[t]![i]![j]!)).toBeLessThan(1e-5)));
        });
      });
    }

    it('names the wrapper of a bad option', async () => {
      await expect(replay({ ...wrapped, ema: { decay: 2 } })).rejects.toThrow(/ema: option "decay"/);
      await expect(replay({ ...wrapped, cautious: { eps: -1 } })).rejects.toThrow(/cautious: option "eps"/);
    });
  });

  it('names the part of a bad composition', async () => {
    await expect(replay({ optimizer: 'adam', lookahead: { k: 0 }, params: [{ name: 'w', shape: [1], data: [0] }], grads: [] })).rejects.toThrow(
      'adam: lookahead: option "k" must be an integer in [1, ∞), got 0',
    );
  });
});
