import { describe, expect, it } from 'vitest';
import { adamw, applyCautious, cautious, createReference, lamb, lion, sgd, specFromJSON, tensor } from '../src/index.js';

/** The cautious-masking wrapper (compose.ts `cautious`), as pytorch_optimizer's apply_cautious. */
describe('cautious wrapper', () => {
  it('defaults to eps 1e-3, round-trips through JSON and validates', () => {
    const spec = cautious(lion({ lr: 0.1 }));
    expect(spec.cautious).toEqual({ eps: 1e-3 });
    expect(specFromJSON(JSON.parse(JSON.stringify(spec)))).toEqual(spec);
    expect(() => cautious(sgd(), { eps: -1 })).toThrow(/cautious: option "eps" .*-1/);
    expect(() => cautious(cautious(sgd()))).toThrow('sgd: cautious: the spec already has a cautious wrapper');
    expect(() => cautious(lamb())).toThrow('lamb: cautious: masking needs an elementwise optimizer, got kind "tensor"');
  });

  it('masks the elements whose update disagrees with the gradient and rescales by the mask mean', () => {
    const before = [1, 1, 1, 1];
    const theta = Float64Array.from([0.5, 1.5, 0.9, 1]); // u = [0.5, −0.5, 0.1, 0]
    applyCautious(before, theta, [1, 1, 1, 1], false, 1e-3);
    // mask = [1, 0, 1, 0], mean 0.5: θ = before − u·mask/0.5
    expect([...theta]).toEqual([0, 1, 0.8, 1]);
    const all = Float64Array.from([2, 2]);
    applyCautious([1, 1], all, [1, 1], false, 0.5); // u·g < 0 everywhere: no step, mean 0 → eps
    expect([...all]).toEqual([1, 1]);
    const max = Float64Array.from([2]);
    applyCautious([1], max, [-1], true, 1e-3); // maximize: the direction is −g
    expect([...max]).toEqual([1]);
  });

  it('wraps the whole step of the inner optimizer (SGD with momentum: a stale momentum element is held)', () => {
    const w = tensor([0, 0]);
    const opt = createReference(cautious(sgd({ lr: 1, momentum: 0.9 })), { w });
    opt.step({ w: tensor([1, 1]) }); // u = g everywhere: mask all ones, plain SGD step
    expect([...w.data]).toEqual([-1, -1]);
    opt.step({ w: tensor([-0.5, 1]) }); // b = [0.4, 1.9]: u₀ = 0.4 disagrees with g₀ = −0.5
    // mask = [0, 1], mean 0.5: w = [−1, −1 − 1.9/0.5]
    expect([...w.data]).toEqual([-1, -1 - 1.9 / 0.5]);
  });

  it('leaves parameters without a gradient alone and keeps the inner state (adamw)', () => {
    const a = tensor([1, 2]);
    const b = tensor([3]);
    const plain = createReference(adamw({ lr: 0.1 }), { a: tensor([1, 2]), b: tensor([3]) });
    const opt = createReference(cautious(adamw({ lr: 0.1 })), { a, b });
    opt.step({ a: tensor([1, -1]) });
    plain.step({ a: tensor([1, -1]) });
    expect([...b.data]).toEqual([3]);
    expect(opt.exportState().params.a!.slots).toEqual(plain.exportState().params.a!.slots);
  });
});
