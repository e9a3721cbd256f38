import { describe, expect, it } from 'vitest';
import { DescentError, ParamError, adam, clipGradNorm, createReference, lamb, lookahead, nag, tensor, withTransforms, type OptimizerSpec, type Tensor } from '../src/index.js';

/**
 * `stepAsync` and `exportStateAsync`: the same step as `step` (one generator, driven synchronously or with awaits),
 * async gradient closures, and the guard that refuses other calls while one is unfinished.
 */

const bytes = (t: Tensor) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).toString('hex');

function problem() {
  const make = () => ({ w: tensor(Float64Array.of(0.5, -1.5, 2), [3]), b: tensor(Float64Array.of(0.25), [1]) });
  const grads = (t: number) => ({ w: tensor(Float64Array.of(0.1 * t, -0.3, 0.7 - 0.2 * t), [3]), b: tensor(Float64Array.of(1 / (t + 1)), [1]) });
  return { make, grads };
}

describe('stepAsync runs the same step as step', () => {
  const specs: Array<[string, OptimizerSpec]> = [
    ['adam', adam({ lr: 0.01, amsgrad: true }) as OptimizerSpec],
    ['lamb + clipGradNorm + lookahead', lookahead(withTransforms(lamb({ lr: 0.01 }), clipGradNorm({ maxNorm: 0.5 })), { k: 2, alpha: 0.5 }) as OptimizerSpec],
  ];
  for (const [label, spec] of specs) {
    it(`${label}: 5 steps, parameters and exported state bitwise equal`, async () => {
      const { make, grads } = problem();
      const pa = make();
      const pb = make();
      const a = createReference(spec, pa);
      const b = createReference(spec, pb);
      for (let t = 0; t < 5; t++) {
        expect(a.step(grads(t))).toBe('applied');
        expect(await b.stepAsync(grads(t))).toBe('applied');
      }
      expect(bytes(pb.w)).toBe(bytes(pa.w));
      expect(bytes(pb.b)).toBe(bytes(pa.b));
      expect(bytes(pa.w)).not.toBe(bytes(make().w));
      expect(await b.exportStateAsync()).toEqual(a.exportState());
      expect(b.stepCount).toBe(5);
    });
  }

  it('an async closure gets the evaluation point (NAG) and its gradients are used', async () => {
    const { make, grads } = problem();
    const pa = make();
    const pb = make();
    const a = createReference(nag({ lr: 0.1, momentum: 0.9 }), pa);
    const b = createReference(nag({ lr: 0.1, momentum: 0.9 }), pb);
    const seen: string[] = [];
    for (let t = 0; t < 3; t++) {
      a.step((point) => {
        seen.push(bytes(point.get('w') as Tensor));
        return grads(t);
      });
      await b.stepAsync(async (point) => {
        expect(bytes(point.get('w') as Tensor)).toBe(seen[t]);
        await new Promise((r) => setTimeout(r, 1));
        return grads(t);
      });
    }
    expect(bytes(pb.w)).toBe(bytes(pa.w));
  });
});

describe('errors', () => {
  it('validation errors reject the Promise and change nothing', async () => {
    const { make } = problem();
    const p = make();
    const opt = createReference(adam({ lr: 0.1 }), p);
    const before = bytes(p.w);
    await expect(opt.stepAsync({ w: tensor(new Float64Array(2), [2]) })).rejects.toThrow(/gradient "w" has shape \[2\], expected \[3\]/);
    await expect(opt.stepAsync({ v: tensor(new Float64Array(1), [1]) })).rejects.toBeInstanceOf(ParamError);
    expect(bytes(p.w)).toBe(before);
    expect(opt.stepCount).toBe(0);
    expect(opt.exportState().params.w?.step).toBe(0);
  });

  it('a closure that rejects rejects the step, and nothing is updated', async () => {
    const { make } = problem();
    const p = make();
    const opt = createReference(adam({ lr: 0.1 }), p);
    const before = bytes(p.w);
    await expect(opt.stepAsync(() => Promise.reject(new Error('loss exploded')))).rejects.toThrow('loss exploded');
    expect(bytes(p.w)).toBe(before);
    expect(opt.stepCount).toBe(0);
    // The optimizer is usable afterwards.
    await opt.stepAsync(problem().grads(0));
    expect(opt.stepCount).toBe(1);
  });

  it('the synchronous step refuses an async closure by name, and updates nothing', () => {
    const { make, grads } = problem();
    const p = make();
    const opt = createReference(adam({ lr: 0.1 }), p);
    const before = bytes(p.w);
    expect(() => opt.step((() => Promise.resolve(grads(0))) as never)).toThrow(
      'adam: step: the gradient closure returned a Promise; use stepAsync for async closures',
    );
    expect(bytes(p.w)).toBe(before);
    expect(opt.stepCount).toBe(0);
  });

  it('other calls are refused while a stepAsync is unfinished', async () => {
    const { make, grads } = problem();
    const opt = createReference(adam({ lr: 0.1 }), make());
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const pending = opt.stepAsync(async () => {
      await gate;
      return grads(0);
    });
    const busy = /adam: \w+\(\) was called while stepAsync\(\) has not finished .*; await it before using the optimizer again/;
    expect(() => opt.step(grads(1))).toThrow(busy);
    expect(() => opt.exportState()).toThrow(busy);
    expect(() => opt.importState({})).toThrow(busy);
    expect(() => opt.setGroupOptions(0, { lr: 1 })).toThrow(busy);
    expect(() => opt.dispose()).toThrow(DescentError);
    await expect(opt.stepAsync(grads(1))).rejects.toThrow(busy);
    await expect(opt.exportStateAsync()).rejects.toThrow(busy);
    release();
    expect(await pending).toBe('applied');
    expect(opt.stepCount).toBe(1);
    opt.dispose();
    await expect(opt.stepAsync(grads(1))).rejects.toThrow('adam: this optimizer was disposed');
  });
});
