import { describe, expect, it } from 'vitest';
import { adam, createReference, sgd, tensor } from '../src/index.js';

describe('reference smoke', () => {
  it('sgd takes one plain step', () => {
    const w = tensor([1, 2, 3]);
    const opt = createReference(sgd({ lr: 0.1 }), { w });
    opt.step({ w: tensor([1, -1, 0.5]) });
    expect([...w.data]).toEqual([1 - 0.1 * 1, 2 + 0.1, 3 - 0.1 * 0.5]);
    expect(opt.stepCount).toBe(1);
  });
  it('adam first step moves by lr·sign(g) up to eps', () => {
    const w = tensor([1, 2]);
    const opt = createReference(adam({ lr: 0.1 }), { w });
    opt.step({ w: tensor([3, -4]) });
    expect(w.data[0]).toBeCloseTo(0.9, 7);
    expect(w.data[1]).toBeCloseTo(2.1, 7);
    const s = opt.exportState();
    expect(s.params.w!.step).toBe(1);
    expect(Object.keys(s.params.w!.slots)).toEqual(['expAvg', 'expAvgSq']);
  });
});
