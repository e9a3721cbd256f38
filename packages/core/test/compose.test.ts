import { describe, expect, it } from 'vitest';
import {
  adam,
  clipGradNorm,
  constant,
  createReference,
  lookahead,
  sgd,
  specFromJSON,
  tensor,
  withSchedule,
  withTransforms,
} from '../src/index.js';

describe('composed specs stay validated JSON data', () => {
  it('round-trips transforms, schedule and lookahead through JSON', () => {
    const spec = lookahead(withSchedule(withTransforms(adam({ lr: 0.01 }), clipGradNorm({ maxNorm: 1 })), constant()), { k: 3 });
    expect(spec.transforms).toEqual([{ name: 'clipGradNorm', options: { maxNorm: 1, normType: 2 } }]);
    expect(spec.lookahead).toEqual({ k: 3, alpha: 0.5 });
    expect(specFromJSON(JSON.parse(JSON.stringify(spec)))).toEqual(spec);
    expect(Object.isFrozen(spec)).toBe(true);
  });
  it('rejects bad composition with messages that name the part', () => {
    expect(() => specFromJSON({ name: 'adam', options: {}, transforms: [{ name: 'clipNorm', options: {} }] })).toThrow(
      /^adam: transforms\[0\]: unknown transform "clipNorm"; known transforms: clipGradNorm/,
    );
    expect(() => specFromJSON({ name: 'adam', options: {}, transforms: [{ name: 'clipGradNorm', options: { maxNorm: -1 } }] })).toThrow(
      'adam: transforms[0] (clipGradNorm): option "maxNorm" must be a number in [0, ∞), got -1',
    );
    expect(() => specFromJSON({ name: 'adam', options: {}, lookahead: { k: 0 } })).toThrow(
      'adam: lookahead: option "k" must be an integer in [1, ∞), got 0',
    );
    expect(() => specFromJSON({ name: 'adam', options: {}, schedul: {} })).toThrow(
      'adam: spec: unknown option "schedul"; known options: name, options, transforms, schedule, lookahead, ema, cautious',
    );
    expect(() => lookahead(lookahead(sgd()))).toThrow('sgd: lookahead: the spec already has a lookahead wrapper');
  });
});

describe('lookahead', () => {
  it('synchronises every k steps: φ ← φ + α(θ − φ), θ ← φ', () => {
    // SGD with lr 1 and constant gradient 1 moves θ by −1 per step. Start θ = φ = 10, k = 2, α = 0.5.
    const w = tensor([10]);
    const opt = createReference(lookahead(sgd({ lr: 1 }), { k: 2, alpha: 0.5 }), { w });
    const g = () => ({ w: tensor([1]) });
    opt.step(g()); // θ = 9
    expect(w.data[0]).toBe(9);
    opt.step(g()); // θ = 8 → φ = 10 + 0.5·(8 − 10) = 9, θ = 9
    expect(w.data[0]).toBe(9);
    expect(opt.exportState().params.w!.slots.slowParam!.data).toEqual([9]);
    opt.step(g()); // θ = 8
    opt.step(g()); // θ = 7 → φ = 9 + 0.5·(7 − 9) = 8, θ = 8
    expect(w.data[0]).toBe(8);
  });
  it('slow weights travel with the state', () => {
    const run = (split: boolean) => {
      const w = tensor([1, 2]);
      const spec = lookahead(adam({ lr: 0.1 }), { k: 3, alpha: 0.4 });
      let opt = createReference(spec, { w });
      for (let i = 0; i < 7; i++) {
        if (split && i === 4) {
          const saved = JSON.parse(JSON.stringify(opt.exportState()));
          opt = createReference(spec, { w });
          opt.importState(saved);
        }
        opt.step({ w: tensor([Math.sin(i), Math.cos(i)]) });
      }
      return [...w.data];
    };
    expect(run(true)).toEqual(run(false));
  });
});

describe('transforms in the step', () => {
  it('clip by global norm rescales copies, never the caller\'s gradients', () => {
    const w = tensor([0, 0]);
    const b = tensor([0]);
    const opt = createReference(withTransforms(sgd({ lr: 1 }), clipGradNorm({ maxNorm: 1 })), { w, b });
    const gw = tensor([3, 0]);
    const gb = tensor([4]);
    opt.step({ w: gw, b: gb });
    // ‖g‖ = 5, coefficient 1/(5 + 1e-6).
    const c = 1 / (5 + 1e-6);
    expect([...w.data]).toEqual([-3 * c, 0]);
    expect([...b.data]).toEqual([-4 * c]);
    expect([...gw.data, ...gb.data]).toEqual([3, 0, 4]);
  });
});
