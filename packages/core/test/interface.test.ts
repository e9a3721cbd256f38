import { describe, expect, it } from 'vitest';
import {
  DescentError,
  OptionError,
  ParamError,
  StateError,
  adam,
  createReference,
  createSpec,
  decodeNumber,
  encodeNumber,
  getDefinition,
  sgd,
  specFromJSON,
  tensor,
  type Tensor,
} from '../src/index.js';

const bytes = (t: Tensor) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).toString('hex');

describe('specs are validated, frozen JSON data', () => {
  it('fills PyTorch defaults and round-trips through JSON', () => {
    const spec = adam({ lr: 3e-4 });
    expect(spec).toEqual({ name: 'adam', options: { lr: 3e-4, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false, nonFinite: 'apply' } });
    expect(Object.isFrozen(spec)).toBe(true);
    expect(Object.isFrozen(spec.options)).toBe(true);
    expect(Object.isFrozen(spec.options.betas)).toBe(true);
    expect(specFromJSON(JSON.parse(JSON.stringify(spec)))).toEqual(spec);
    expect(createSpec('sgd', { lr: 0.5 })).toEqual(sgd({ lr: 0.5 }));
  });
  it('does not keep a reference to the caller\'s arrays', () => {
    const betas: [number, number] = [0.8, 0.9];
    const spec = adam({ betas });
    betas[0] = 0.1;
    expect(spec.options.betas).toEqual([0.8, 0.9]);
  });
  it('unknown optimizers list the known ones', () => {
    expect(() => getDefinition('adamm')).toThrow(/^unknown optimizer "adamm"; known optimizers: .*adam/);
  });
});

describe('parameters, groups and steps', () => {
  it('a missing or null gradient leaves that parameter and its state bitwise unchanged', () => {
    const w = tensor([1, 2, 3]);
    const b = tensor([0.5]);
    const opt = createReference(adam({ lr: 0.1 }), { w, b });
    opt.step({ w: tensor([1, 1, 1]), b: tensor([1]) });
    const before = { b: bytes(b), state: JSON.stringify(opt.exportState().params.b) };
    opt.step({ w: tensor([1, 1, 1]) });
    opt.step({ w: tensor([1, 1, 1]), b: null });
    expect(bytes(b)).toBe(before.b);
    expect(JSON.stringify(opt.exportState().params.b)).toBe(before.state);
    expect(opt.exportState().params.w!.step).toBe(3);
    expect(opt.exportState().params.b!.step).toBe(1);
    expect(opt.stepCount).toBe(3);
  });
  it('groups override options; the default group holds the rest, last', () => {
    const params = { w1: tensor([1, 1]), w2: tensor([1, 1]), b: tensor([1]) };
    const opt = createReference(sgd({ lr: 0.1 }), params, {
      groups: [{ params: (name) => name.startsWith('w'), options: { lr: 0.01 } }],
    });
    expect(opt.groups().map((g) => [g.params, g.options.lr, g.isDefault])).toEqual([
      [['w1', 'w2'], 0.01, false],
      [['b'], 0.1, true],
    ]);
    opt.step({ w1: tensor([1, 1]), w2: tensor([1, 1]), b: tensor([1]) });
    expect([...params.w1.data]).toEqual([0.99, 0.99]);
    expect([...params.b.data]).toEqual([0.9]);
    expect(opt.optionsOf('w2').lr).toBe(0.01);
  });
  it('setGroupOptions changes the learning rate but refuses a change of state layout', () => {
    const w = tensor([1]);
    const opt = createReference(adam({ lr: 0.1 }), { w });
    opt.setGroupOptions(0, { lr: 0.2 });
    expect(opt.optionsOf('w').lr).toBe(0.2);
    expect(() => opt.setGroupOptions(0, { amsgrad: true })).toThrow(
      'adam: group 0: this change alters the state layout of parameter "w"; create a new optimizer instead',
    );
    expect(() => opt.setGroupOptions(0, { lr: -1 })).toThrow('adam: group 0: option "lr" must be a number in [0, ∞), got -1');
    expect(() => opt.setGroupOptions(3, { lr: 1 })).toThrow('adam: group 3 does not exist; there are 1');
    expect(opt.optionsOf('w').lr).toBe(0.2);
  });
  it('a closure is evaluated at the current parameters for ordinary optimizers', () => {
    const w = tensor([3, -4]);
    const opt = createReference(sgd({ lr: 0.25 }), { w });
    // f(w) = ½‖w‖², ∇f = w: one step scales w by 1 − lr.
    opt.step((point) => ({ w: tensor(Float64Array.from(point.get('w')!.data)) }));
    expect([...w.data]).toEqual([2.25, -3]);
  });
  it('rejects non-dense views and wrong data types with a clear message', () => {
    expect(() => createReference(sgd(), { w: { shape: [2], data: [1, 2] } as unknown as Tensor })).toThrow(
      'sgd: parameter "w" must hold its values in a Float64Array, got Array',
    );
    const base = tensor(new Float64Array(6), [2, 3]);
    const transposed = base.transpose(1, 0);
    expect(() => createReference(sgd(), { w: transposed })).toThrow('sgd: parameter "w" is not a dense row-major view (copy it first)');
  });
  it('dispose makes later calls fail clearly', () => {
    const opt = createReference(sgd(), { w: tensor([1]) });
    opt.dispose();
    opt.dispose();
    expect(() => opt.step({ w: tensor([1]) })).toThrow('sgd: this optimizer was disposed');
    expect(() => opt.exportState()).toThrow(DescentError);
  });
});

describe('nonFinite policies', () => {
  const grads = () => ({ w: tensor([1, NaN]), b: tensor([Infinity]) });
  it('apply propagates like PyTorch', () => {
    const w = tensor([1, 2]);
    const opt = createReference(sgd({ lr: 0.1 }), { w, b: tensor([0]) });
    expect(opt.step(grads())).toBe('applied');
    expect(w.data[0]).toBe(0.9);
    expect(Number.isNaN(w.data[1])).toBe(true);
  });
  it('skip leaves everything untouched and counts the skip', () => {
    const w = tensor([1, 2]);
    const b = tensor([0]);
    const opt = createReference(adam({ lr: 0.1, nonFinite: 'skip' }), { w, b });
    opt.step({ w: tensor([1, 1]), b: tensor([1]) });
    const before = [bytes(w), bytes(b), JSON.stringify(opt.exportState().params)];
    expect(opt.step(grads())).toBe('skipped');
    expect([bytes(w), bytes(b), JSON.stringify(opt.exportState().params)]).toEqual(before);
    expect(opt.stepCount).toBe(1);
    expect(opt.skippedSteps).toBe(1);
    expect(opt.exportState().skippedSteps).toBe(1);
  });
  it('throw names the gradient, value and index, and mutates nothing', () => {
    const w = tensor([1, 2]);
    const opt = createReference(adam({ nonFinite: 'throw' }), { w, b: tensor([0]) });
    const before = [bytes(w), JSON.stringify(opt.exportState())];
    expect(() => opt.step(grads())).toThrow(
      'adam: step: gradient "w" has a non-finite value (NaN) at index 1; nothing was updated (nonFinite: "throw")',
    );
    expect([bytes(w), JSON.stringify(opt.exportState())]).toEqual(before);
  });
});

describe('portable state', () => {
  it('encodes the values JSON cannot hold and decodes them back', () => {
    for (const x of [NaN, Infinity, -Infinity, -0, 0, 1e-310, -1.5, Number.MAX_VALUE]) {
      const back = decodeNumber(JSON.parse(JSON.stringify(encodeNumber(x))));
      expect(Object.is(back, x)).toBe(true);
    }
  });
  it('export → JSON → import continues bit for bit as if never stopped', () => {
    const g = (k: number) => ({ w: tensor([Math.sin(k), Math.cos(3 * k), 1e-3 * k]), b: tensor([Math.cos(k)]) });
    const a = { w: tensor([1, -2, 3]), b: tensor([0.25]) };
    const straight = createReference(adam({ lr: 0.05, amsgrad: true }), a);
    for (let k = 0; k < 10; k++) straight.step(g(k));

    const c = { w: tensor([1, -2, 3]), b: tensor([0.25]) };
    const first = createReference(adam({ lr: 0.05, amsgrad: true }), c);
    for (let k = 0; k < 4; k++) first.step(g(k));
    const saved = JSON.stringify(first.exportState());
    const d = { w: tensor(Float64Array.from(c.w.data)), b: tensor(Float64Array.from(c.b.data)) };
    const second = createReference(adam({ lr: 0.05, amsgrad: true }), d);
    second.importState(JSON.parse(saved));
    expect(second.stepCount).toBe(4);
    for (let k = 4; k < 10; k++) second.step(g(k));
    expect(bytes(d.w)).toBe(bytes(a.w));
    expect(bytes(d.b)).toBe(bytes(a.b));
    expect(JSON.stringify(second.exportState())).toBe(JSON.stringify(straight.exportState()));
  });
});

describe('error classes', () => {
  it('are DescentErrors', () => {
    expect(() => adam({ lr: -1 })).toThrow(OptionError);
    expect(() => createReference(adam(), {})).toThrow(ParamError);
    const opt = createReference(adam(), { w: tensor([1]) });
    expect(() => opt.importState({})).toThrow(StateError);
    expect(new OptionError('x')).toBeInstanceOf(DescentError);
  });
});

describe('lazy state creation', () => {
  it('state is created at the first update from the options in force then (Rprop step sizes, as PyTorch)', async () => {
    const { rprop } = await import('../src/index.js');
    const w = tensor([0, 0]);
    const opt = createReference(rprop({ lr: 0.1 }), { w });
    opt.setGroupOptions(0, { lr: 0.5 });
    opt.step({ w: tensor([1, -1]) });
    // First step: the sign of g·prev is 0, the step size stays at its initial value, now 0.5.
    expect([...w.data]).toEqual([-0.5, 0.5]);
    expect(opt.exportState().params.w!.slots.stepSize!.data).toEqual([0.5, 0.5]);
  });
});
