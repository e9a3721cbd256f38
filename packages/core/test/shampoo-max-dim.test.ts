import { describe, expect, it } from 'vitest';
import { createReference, inverseRootEigh, shampoo, tensor } from '../src/index.js';

/** Deterministic values in [−1, 1). */
function values(n: number, seed: number): Float64Array {
  let s = seed >>> 0;
  return Float64Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

describe('shampoo maxPreconditionDim', () => {
  it('leaves modes longer than the limit unpreconditioned: one step of a 3 × 7 matrix with limit 4 is θ − η·H₀^{−1/2}·G', () => {
    const [r, c] = [3, 7];
    const theta = values(r * c, 1);
    const g = values(r * c, 2);
    const eps = 0.1;
    const lr = 0.05;
    const w = tensor(Float64Array.from(theta), [r, c]);
    const opt = createReference(shampoo({ lr, epsilon: eps, maxPreconditionDim: 4 }), { w });
    opt.step({ w: tensor(Float64Array.from(g), [r, c]) });
    // H₀ = εI + G·Gᵀ; p = k = 2 (exponent "code"), as for the full update.
    const h = new Float64Array(r * r);
    for (let a = 0; a < r; a++) {
      h[a * r + a] = eps;
      for (let b = 0; b < r; b++) for (let j = 0; j < c; j++) h[a * r + b] = (h[a * r + b] as number) + (g[a * c + j] as number) * (g[b * c + j] as number);
    }
    const root = inverseRootEigh(h, r, 2);
    for (let a = 0; a < r; a++) {
      for (let j = 0; j < c; j++) {
        let s = 0;
        for (let b = 0; b < r; b++) s += (root[a * r + b] as number) * (g[b * c + j] as number);
        expect(w.data[a * c + j]).toBeCloseTo((theta[a * c + j] as number) - lr * s, 12);
      }
    }
    expect(Object.keys(opt.exportState().params.w!.slots).sort()).toEqual(['invPrecond0', 'precond0']);
  });

  it('a limit at or above every dimension is the default (0: no limit)', () => {
    const shape = [3, 4, 2];
    const run = (maxPreconditionDim: number) => {
      const w = tensor(values(24, 3), shape);
      const opt = createReference(shampoo({ lr: 0.05, epsilon: 0.1, maxPreconditionDim }), { w });
      for (let t = 0; t < 3; t++) opt.step({ w: tensor(values(24, 4 + t), shape) });
      return Array.from(w.data);
    };
    expect(run(4)).toEqual(run(0));
  });

  it('rejects a negative or fractional limit, naming the option', () => {
    expect(() => shampoo({ maxPreconditionDim: -1 })).toThrow(/option "maxPreconditionDim" must be an integer in \[0, ∞\), got -1/);
    expect(() => shampoo({ maxPreconditionDim: 2.5 })).toThrow(/maxPreconditionDim/);
  });
});
