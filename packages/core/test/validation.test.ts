import { describe, expect, it } from 'vitest';
import { adam, createReference, createSpec, sgd, tensor, type Tensor } from '../src/index.js';

/**
 * The validation table: every bad input raises an error whose message names the option or parameter and the
 * value, and leaves parameters and optimizer state bitwise unchanged. Optimizer-specific rules (Adadelta's rho,
 * Rprop's etas, …) are in validation-optimizers.test.ts.
 */

const bytes = (t: Tensor) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).toString('hex');

interface Row {
  readonly case: string;
  readonly run: () => unknown;
  readonly message: string;
}

const specRows: Row[] = [
  { case: 'negative lr', run: () => adam({ lr: -1 }), message: 'adam: option "lr" must be a number in [0, ∞), got -1' },
  { case: 'NaN lr', run: () => sgd({ lr: NaN }), message: 'sgd: option "lr" must be a number in [0, ∞), got NaN' },
  { case: 'infinite lr', run: () => sgd({ lr: Infinity }), message: 'sgd: option "lr" must be a number in [0, ∞), got Infinity' },
  { case: 'lr given as a string', run: () => createSpec('adam', { lr: '0.1' }), message: 'adam: option "lr" must be a number in [0, ∞), got "0.1"' },
  { case: 'beta1 = 1', run: () => adam({ betas: [1, 0.999] }), message: 'adam: option "betas[0]" must be a number in [0, 1), got 1' },
  { case: 'negative beta2', run: () => adam({ betas: [0.9, -0.1] }), message: 'adam: option "betas[1]" must be a number in [0, 1), got -0.1' },
  {
    case: 'betas not a pair',
    run: () => createSpec('adam', { betas: [0.9] }),
    message: 'adam: option "betas" must be a pair [a number in [0, 1), a number in [0, 1)], got [0.9]',
  },
  { case: 'negative eps', run: () => adam({ eps: -1e-8 }), message: 'adam: option "eps" must be a number in [0, ∞), got -1e-8' },
  { case: 'negative weightDecay', run: () => sgd({ weightDecay: -0.1 }), message: 'sgd: option "weightDecay" must be a number in [0, ∞), got -0.1' },
  {
    case: 'nesterov without momentum',
    run: () => sgd({ nesterov: true }),
    message: 'sgd: option "nesterov" requires momentum > 0 and dampening = 0, got momentum 0 and dampening 0',
  },
  {
    case: 'nesterov with dampening',
    run: () => sgd({ nesterov: true, momentum: 0.9, dampening: 0.1 }),
    message: 'sgd: option "nesterov" requires momentum > 0 and dampening = 0, got momentum 0.9 and dampening 0.1',
  },
  {
    case: 'snake_case option name',
    run: () => createSpec('adam', { weight_decay: 0.1 }),
    message: 'adam: unknown option "weight_decay" (did you mean "weightDecay"?); known options: lr, betas, eps, weightDecay, amsgrad, maximize, nonFinite',
  },
  {
    case: 'unknown option name',
    run: () => createSpec('sgd', { momentun: 0.9 }),
    message: 'sgd: unknown option "momentun"; known options: lr, momentum, dampening, weightDecay, nesterov, maximize, nonFinite',
  },
  { case: 'boolean option given a number', run: () => createSpec('adam', { amsgrad: 1 }), message: 'adam: option "amsgrad" must be true or false, got 1' },
  {
    case: 'bad nonFinite policy',
    run: () => createSpec('adam', { nonFinite: 'ignore' }),
    message: 'adam: option "nonFinite" must be one of "apply", "skip", "throw", got "ignore"',
  },
  { case: 'options not an object', run: () => createSpec('adam', [1]), message: 'adam: options must be an object, got [1]' },
];

describe('bad options are refused when the spec is made', () => {
  it.each(specRows)('$case', ({ run, message }) => {
    expect(run).toThrow(message);
    try {
      run();
    } catch (e) {
      expect((e as Error).message).toBe(message);
    }
  });
});

describe('bad parameters and groups are refused when the optimizer is made, and user arrays are untouched', () => {
  const make = () => ({ w: tensor([1, 2, 3]), b: tensor([0.5]) });
  const rows: Array<{ case: string; run: (p: ReturnType<typeof make>) => unknown; message: string }> = [
    { case: 'empty parameter list', run: () => createReference(adam(), {}), message: 'adam: got an empty parameter list' },
    {
      case: 'duplicate names',
      run: (p) => createReference(adam(), [['w', p.w], ['w', p.b]]),
      message: 'adam: parameters: duplicate name "w"',
    },
    { case: 'empty name', run: (p) => createReference(adam(), { '': p.w }), message: 'adam: parameter names must be non-empty strings, got ""' },
    {
      case: 'a parameter in two groups',
      run: (p) => createReference(adam(), p, { groups: [{ params: ['w'] }, { params: ['w', 'b'], options: { lr: 0.1 } }] }),
      message: 'adam: parameter "w" is in groups 0 and 1',
    },
    {
      case: 'a group naming an unknown parameter',
      run: (p) => createReference(adam(), p, { groups: [{ params: ['x'] }] }),
      message: 'adam: group 0: unknown parameter "x"; parameters are "w", "b"',
    },
    {
      case: 'a group listing a parameter twice',
      run: (p) => createReference(adam(), p, { groups: [{ params: ['w', 'w'] }] }),
      message: 'adam: group 0: parameter "w" is listed twice',
    },
    {
      case: 'a group selecting nothing',
      run: (p) => createReference(adam(), p, { groups: [{ params: () => false }] }),
      message: 'adam: group 0 selects no parameters',
    },
    {
      case: 'a group with a bad option',
      run: (p) => createReference(adam(), p, { groups: [{ params: ['b'], options: { betas: [0.9, 1] } }] }),
      message: 'adam: group 0: option "betas[1]" must be a number in [0, 1), got 1',
    },
    {
      case: 'a group with an unknown option',
      run: (p) => createReference(adam(), p, { groups: [{ params: ['b'], options: { weight_decay: 0 } as never }] }),
      message: 'adam: group 0: unknown option "weight_decay" (did you mean "weightDecay"?); known options: lr, betas, eps, weightDecay, amsgrad, maximize, nonFinite',
    },
    {
      case: 'a group overriding nonFinite',
      run: (p) => createReference(adam(), p, { groups: [{ params: ['b'], options: { nonFinite: 'skip' } as never }] }),
      message: 'adam: group 0: option "nonFinite" applies to the whole optimizer and cannot be set per group',
    },
    {
      case: 'a group breaking a cross-option rule',
      run: (p) => createReference(sgd({ momentum: 0.9, nesterov: true }), p, { groups: [{ params: ['b'], options: { momentum: 0 } }] }),
      message: 'sgd: group 0: option "nesterov" requires momentum > 0 and dampening = 0, got momentum 0 and dampening 0',
    },
    {
      case: 'a group with an unknown field',
      run: (p) => createReference(adam(), p, { groups: [{ params: ['b'], lr: 0.1 } as never] }),
      message: 'adam: group 0: unknown field "lr"; a group has params and options',
    },
    {
      case: 'a parameter that is not a Float64 tensor',
      run: () => createReference(adam(), { w: { shape: [2], data: new Float32Array(2) } as unknown as Tensor }),
      message: 'adam: parameter "w" must hold its values in a Float64Array, got Float32Array',
    },
    {
      case: 'a parameter whose shape does not match its data',
      run: () => createReference(adam(), { w: { shape: [2, 2], data: new Float64Array(3) } }),
      message: 'adam: parameter "w" has shape [2, 2] (4 values) but 3 values',
    },
  ];
  it.each(rows)('$case', ({ run, message }) => {
    const p = make();
    const before = [bytes(p.w), bytes(p.b)];
    expect(() => run(p)).toThrow(message);
    try {
      run(p);
    } catch (e) {
      expect((e as Error).message).toBe(message);
    }
    expect([bytes(p.w), bytes(p.b)]).toEqual(before);
  });
});

describe('bad gradients and bad state change nothing', () => {
  const setup = () => {
    const p = { w: tensor([1, 2, 3]), b: tensor([0.5]) };
    const opt = createReference(adam({ lr: 0.1, amsgrad: true }), p);
    opt.step({ w: tensor([0.1, -0.2, 0.3]), b: tensor([1]) });
    return { p, opt };
  };
  const goodState = () => setup().opt.exportState();
  const rows: Array<{ case: string; run: (o: ReturnType<typeof setup>['opt']) => unknown; message: string }> = [
    {
      case: 'gradient for an unknown parameter',
      run: (o) => o.step({ w: tensor([1, 1, 1]), x: tensor([1]) }),
      message: 'adam: step: gradient for unknown parameter "x"; parameters are "w", "b"',
    },
    {
      case: 'gradient of the wrong shape',
      run: (o) => o.step({ w: tensor([1, 1]) }),
      message: 'adam: step: gradient "w" has shape [2], expected [3]',
    },
    {
      case: 'gradient of the wrong length for its shape',
      run: (o) => o.step({ w: { shape: [3], data: new Float64Array(2) } }),
      message: 'adam: step: gradient "w" has shape [3] (3 values) but 2 values',
    },
    {
      case: 'gradient that is a plain array',
      run: (o) => o.step({ w: [1, 2, 3] as unknown as Tensor }),
      message: 'adam: step: gradient "w" must hold its values in a Float64Array, got no data',
    },
    {
      case: 'gradients that are not an object',
      run: (o) => o.step(5 as never),
      message: 'adam: step: gradients must be an object keyed by parameter name, got 5',
    },
    {
      case: 'state from another optimizer',
      run: (o) => o.importState(createReference(sgd(), { w: tensor([1, 2, 3]), b: tensor([0]) }).exportState()),
      message: 'adam: importState: state is from optimizer "sgd", not "adam"',
    },
    {
      case: 'state with another shape',
      run: (o) => o.importState(createReference(adam({ amsgrad: true }), { w: tensor([1, 2]), b: tensor([0]) }).exportState()),
      message: 'adam: importState: parameter "w" has shape [2] in the state, expected [3]',
    },
    {
      case: 'state missing a parameter',
      run: (o) => o.importState(createReference(adam({ amsgrad: true }), { w: tensor([1, 2, 3]) }).exportState()),
      message: 'adam: importState: parameter "b" is missing from the state',
    },
    {
      case: 'state with an extra parameter',
      run: (o) => {
        const s = goodState();
        return o.importState({ ...s, params: { ...s.params, c: s.params.b } });
      },
      message: 'adam: importState: state has parameter "c", which this optimizer does not have',
    },
    {
      case: 'state missing a slot (amsgrad off when it was on)',
      run: (o) => o.importState(createReference(adam(), { w: tensor([1, 2, 3]), b: tensor([0]) }).exportState()),
      message: 'adam: importState: parameter "w": slot "maxExpAvgSq" is missing',
    },
    {
      case: 'state with a non-number in a slot',
      run: (o) => {
        const s = JSON.parse(JSON.stringify(goodState()));
        s.params.b.slots.expAvg.data[0] = 'one';
        return o.importState(s);
      },
      message: 'adam: importState: parameter "b": slot "expAvg": data[0] is not a number, got "one"',
    },
    {
      case: 'state with a short slot',
      run: (o) => {
        const s = JSON.parse(JSON.stringify(goodState()));
        s.params.w.slots.expAvgSq.data.pop();
        return o.importState(s);
      },
      message: 'adam: importState: parameter "w": slot "expAvgSq": data has 2 values, expected 3',
    },
    {
      case: 'state of another version',
      run: (o) => o.importState({ ...goodState(), version: 2 }),
      message: 'adam: importState: version 2 is not supported (this is version 1)',
    },
    {
      case: 'state with a fractional step',
      run: (o) => {
        const s = JSON.parse(JSON.stringify(goodState()));
        s.params.w.step = 1.5;
        return o.importState(s);
      },
      message: 'adam: importState: parameter "w": step must be a non-negative integer, got 1.5',
    },
  ];
  it.each(rows)('$case', ({ run, message }) => {
    const { p, opt } = setup();
    const before = [bytes(p.w), bytes(p.b), JSON.stringify(opt.exportState()), opt.stepCount];
    expect(() => run(opt)).toThrow(message);
    try {
      run(opt);
    } catch (e) {
      expect((e as Error).message).toBe(message);
    }
    expect([bytes(p.w), bytes(p.b), JSON.stringify(opt.exportState()), opt.stepCount]).toEqual(before);
  });
});
