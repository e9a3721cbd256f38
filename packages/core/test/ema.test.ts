import { describe, expect, it } from 'vitest';
import { adam, createReference, ema, emaDecay, emaWeights, lookahead, sgd, specFromJSON, tensor } from '../src/index.js';

/** The EMA weight-averaging wrapper (compose.ts `ema`), as timm's ModelEmaV2 update with ModelEmaV3's decay. */
describe('ema wrapper', () => {
  const defaults = { decay: 0.9999, minDecay: 0, updateAfterStep: 0, useWarmup: false, warmupGamma: 1, warmupPower: 2 / 3 };

  it('has timm ModelEmaV3 defaults and round-trips through JSON', () => {
    const spec = ema(sgd({ lr: 0.1 }));
    expect(spec.ema).toEqual(defaults);
    expect(specFromJSON(JSON.parse(JSON.stringify(spec)))).toEqual(spec);
  });

  it('validates its options, naming option and value', () => {
    expect(() => ema(sgd(), { decay: 1.5 })).toThrow(/ema: option "decay" .*1\.5/);
    expect(() => ema(sgd(), { updateAfterStep: 0.5 })).toThrow(/updateAfterStep.*0\.5/);
    expect(() => ema(sgd(), { decay: 0.5, minDecay: 0.9 })).toThrow('sgd: ema: option "minDecay" must be at most decay (0.5), got 0.9');
    expect(() => ema(ema(sgd()))).toThrow('sgd: ema: the spec already has an ema wrapper');
    expect(() => ema(sgd(), { beta: 0.9 } as never)).toThrow(/beta/);
  });

  it('computes ModelEmaV3.get_decay', () => {
    const o = { ...defaults, decay: 0.99 };
    expect([1, 2, 3].map((t) => emaDecay(o, t))).toEqual([0, 0.99, 0.99]);
    const w = { ...o, useWarmup: true, minDecay: 0.1 };
    // s = t − 1: 1 − (1 + s)^(−2/3), clamped to [0.1, 0.99].
    expect(emaDecay(w, 1)).toBe(0);
    expect(emaDecay(w, 2)).toBe(Math.max(Math.min(1 - 2 ** (-2 / 3), 0.99), 0.1));
    expect(emaDecay(w, 1e9)).toBe(0.99);
    expect(emaDecay({ ...o, updateAfterStep: 2 }, 3)).toBe(0);
    expect(emaDecay({ ...o, updateAfterStep: 2 }, 4)).toBe(0.99);
  });

  it('averages every parameter after every applied step, leaving the parameters as the inner optimizer left them', () => {
    const w = tensor([1, 2]);
    const u = tensor([3]);
    const opt = createReference(ema(sgd({ lr: 0.5 }), { decay: 0.5 }), { w, u });
    expect(emaWeights(opt.exportState()).w!.data).toEqual(Float64Array.from([1, 2]));
    opt.step({ w: tensor([1, 1]) }); // decay 0 at step 1: the average is reset to θ
    expect([...w.data]).toEqual([0.5, 1.5]);
    expect([...emaWeights(opt.exportState()).w!.data]).toEqual([0.5, 1.5]);
    opt.step({ w: tensor([1, 1]) }); // θ = [0, 1]; average 0.5·[0.5, 1.5] + 0.5·[0, 1]
    expect([...w.data]).toEqual([0, 1]);
    expect([...emaWeights(opt.exportState()).w!.data]).toEqual([0.25, 1.25]);
    // u had no gradient: it is averaged too (θ unchanged).
    expect([...emaWeights(opt.exportState()).u!.data]).toEqual([3]);
  });

  it('averages after Lookahead synchronises, and its state imports into a fresh optimizer', () => {
    const w = tensor([1]);
    const spec = ema(lookahead(adam({ lr: 0.1 }), { k: 2, alpha: 0.5 }), { decay: 0.9 });
    const opt = createReference(spec, { w });
    for (let i = 0; i < 3; i++) opt.step({ w: tensor([w.data[0]!]) });
    const state = opt.exportState();
    expect(Object.keys(state.params.w!.slots).sort()).toEqual(['emaParam', 'expAvg', 'expAvgSq', 'slowParam']);
    const w2 = tensor([w.data[0]!]);
    const again = createReference(spec, { w: w2 });
    again.importState(state);
    opt.step({ w: tensor([1]) });
    again.step({ w: tensor([1]) });
    expect(emaWeights(again.exportState())).toEqual(emaWeights(opt.exportState()));
  });
});
