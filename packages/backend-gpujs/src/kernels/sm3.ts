import type { Sm3Options } from '@descent/core';
import type { GpujsKernel } from '../kernel.js';

/** Row-major strides of a shape. */
function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = (s[i + 1] as number) * (shape[i + 1] as number);
  return s;
}

/** Source of the index along dimension `i` of flat element `k` (floor division, no `%`). */
function indexSource(k: string, stride: number, n: number): string {
  return `(Math.floor(${k} / ${stride}.0) - Math.floor(${k} / ${stride * n}.0) * ${n}.0)`;
}

/**
 * SM3 on gpu.js, following `core/src/optimizers/sm3.ts` (pytorch_optimizer's SM3). One elementwise program reads
 * the covering accumulators at each element's indices (ν = their min, then β·ν + ((1 − β)·g)·g), writes ν to the
 * temporary `sm3Nu`, and finishes the step (u = (1/√(ν + ε))·g, the (1 − μ)-weighted momentum, θ + (−η)·u). Then
 * one program per dimension i writes accumulator i: each thread the max of ν over its slice (and the old value
 * when β > 0). Math.min/Math.max propagate NaN as torch's min/max do.
 */
export const sm3Kernel: GpujsKernel<Sm3Options> = {
  update(ctx) {
    const { options: o, shape, size } = ctx;
    if (size === 0) return;
    const r = shape.length;
    const st = strides(shape);
    const ids = r === 0 ? [0] : shape.map((_, i) => i);
    const arrays: Record<string, { buffer: string; dims: number[] }> = {
      g: { buffer: 'grad', dims: [size] },
      th: { buffer: 'param', dims: [size] },
      mb: { buffer: 'momentumBuffer', dims: [size] },
    };
    for (const i of ids) arrays[`acc${i}`] = { buffer: `accumulator${i}`, dims: [r === 0 ? 1 : (shape[i] as number)] };
    const at = (i: number): string => (r === 0 ? `acc${i}[0]` : `acc${i}[${indexSource('k', st[i] as number, shape[i] as number)}]`);
    const lines = ['const k = this.thread.x;', 'const x = g[k];', `let nu = ${at(0)};`];
    for (let i = 1; i < r; i++) lines.push(`nu = Math.min(nu, ${at(i)});`);
    if (o.beta > 0) lines.push('nu = nu * beta;');
    lines.push('nu = nu + oneMinusBeta * x * x;', 'let u = (1.0 / Math.sqrt(nu + eps)) * x;', 'let m = mb[k];');
    if (o.momentum > 0) lines.push('m = m * mu + oneMinusMu * u;', 'u = m;');
    lines.push('const theta = th[k] + negLr * u;');
    ctx.run(
      {
        output: [size],
        arrays,
        scalars: ['beta', 'oneMinusBeta', 'eps', 'mu', 'oneMinusMu', 'negLr'],
        body: lines.join('\n'),
        writes: { param: 'theta', momentumBuffer: 'm', sm3Nu: 'nu' },
      },
      { beta: o.beta, oneMinusBeta: 1 - o.beta, eps: o.eps, mu: o.momentum, oneMinusMu: 1 - o.momentum, negLr: -o.lr },
    );
    for (let i = 0; i < r; i++) {
      const n = shape[i] as number;
      const s = st[i] as number;
      const count = size / n;
      // Element q of slice j: outer block o = ⌊q/s⌋, inner offset q − o·s, flat index (o·n + j)·s + inner.
      const element = (q: string): string => `nu[(Math.floor(${q} / ${s}.0) * ${n}.0 + j) * ${s}.0 + (${q} - Math.floor(${q} / ${s}.0) * ${s}.0)]`;
      ctx.run(
        {
          output: [n],
          arrays: { nu: { buffer: 'sm3Nu', dims: [size] }, a: { buffer: `accumulator${i}`, dims: [n] } },
          scalars: [],
          body: `const j = this.thread.x;
let mx = ${element('0.0')};
for (let q = 1; q < ${count}; q++) { mx = Math.max(mx, ${element('q')}); }
${o.beta > 0 ? 'mx = Math.max(a[j], mx);' : ''}`,
          writes: { [`accumulator${i}`]: 'mx' },
        },
        {},
      );
    }
  },
};
