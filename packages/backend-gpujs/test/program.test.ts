import { describe, expect, it } from 'vitest';
import { elementwise, kernelSources, sliceBody } from '../src/index.js';
import { adamCore } from '../src/kernels/adam.js';
import { reductionProgram } from '../src/reduce.js';

/**
 * Per-output slicing of kernel bodies (program.ts `sliceBody`): every output of a program is computed by its own
 * kernel (GL) or branch (webasm, cpu), and only the statements it depends on are kept. The numerical effect is nil
 * (the kept statements are the same statements); the stepwise and conformance suites check that on every mode.
 */
describe('sliceBody', () => {
  const adam = elementwise(8, {
    reads: { theta: 'param', g: 'grad', expAvg: 'expAvg', expAvgSq: 'expAvgSq' },
    scalars: ['beta1', 'oneMinusBeta1', 'beta2', 'oneMinusBeta2', 'biasCorrection2Sqrt', 'eps', 'stepSize'],
    body: adamCore(false),
    writes: { param: 'theta', expAvg: 'expAvg', expAvgSq: 'expAvgSq' },
  });

  it("keeps only what an output needs: Adam's first moment is one load and one update", () => {
    expect(sliceBody(adam.body, 'expAvg').split('\n')).toEqual([
      'const i = this.thread.x;',
      'let g = a_g[i];',
      'let expAvg = a_expAvg[i];',
      'expAvg = beta1 * expAvg + oneMinusBeta1 * g;',
    ]);
  });

  it('keeps everything the parameter needs, in order, and the declaration a reassignment writes to', () => {
    const theta = sliceBody(adam.body, 'theta').split('\n');
    expect(theta[0]).toBe('const i = this.thread.x;');
    expect(theta).toContain('let theta = a_theta[i];');
    expect(theta).toContain('expAvgSq = beta2 * expAvgSq + oneMinusBeta2 * g * g;');
    expect(theta.at(-1)).toBe('theta = theta - (stepSize * expAvg) / denom;');
    expect(theta.length).toBe(adam.body.split('\n').length);
  });

  it('leaves a body with loops or branches whole', () => {
    const p = reductionProgram('grad', 100, 'sumSquares', 'partials');
    expect(sliceBody(p.body, 's')).toBe(p.body);
    expect(sliceBody('let a = x;\nif (a > 0.0) { a = 1.0; }\nlet b = 2.0;', 'b')).toBe('let a = x;\nif (a > 0.0) { a = 1.0; }\nlet b = 2.0;');
  });

  it('a rows kernel has one sliced branch per output; a split kernel per output is sliced the same', () => {
    const [rows] = kernelSources(adam, 'rows');
    expect(rows).toContain('if (this.thread.y === 1) {\nconst i = this.thread.x;\nlet g = a_g[i];\nlet expAvg = a_expAvg[i];\nexpAvg = beta1 * expAvg + oneMinusBeta1 * g;\nreturn expAvg;\n}');
    const split = kernelSources(adam, 'split');
    expect(split.length).toBe(3);
    expect(split[1]).not.toContain('denom');
    expect(split[0]).toContain('denom');
  });
});
