import { describe, expect, it } from 'vitest';
import { adafactor, adamw, nag, type OptimizerSpec } from '@descent/core';
import { createGpujs, type Float32Tensor, type GpujsActualMode } from '../src/index.js';

/**
 * Issue 15 on gpu.js beyond the conformance kit's adapter: gradients that are the parameters' own Float32Arrays (or
 * views of them) under both residencies, names such as `__proto__` as object keys, and the backend's own calls
 * (read, sync, params, reload) from inside a gradient closure.
 */

const MODES: GpujsActualMode[] = ['webasm', 'cpu'];
const t32 = (shape: number[], data: number[]): Float32Tensor => ({ shape, data: Float32Array.from(data) });

describe.each(MODES)('gpujs %s', (mode) => {
  const specs: Array<[string, OptimizerSpec]> = [
    ['adamw', adamw({ lr: 0.1, weightDecay: 0.5 }) as OptimizerSpec],
    ['adafactor', adafactor({ lr: 0.1, weightDecay: 0.5 }) as OptimizerSpec],
  ];
  for (const residency of ['host', 'device'] as const) {
    for (const [label, spec] of specs) {
      it(`${label}, ${residency} residency: the parameter's own array, a view of it, another parameter's, a closure's point act as copies`, () => {
        const start = () => ({ w: t32([2, 2], [0.5, -1.5, 2, 0.25]), b: t32([2, 2], [0.75, -0.5, 1, 2]) });
        const cases: Array<[string, (p: ReturnType<typeof start>) => Record<string, Float32Tensor> | 'closure']> = [
          ['own array', (p) => ({ w: p.w, b: p.b })],
          ['a view', (p) => ({ w: { shape: [2, 2], data: p.w.data.subarray(0) }, b: p.b })],
          ['crossed', (p) => ({ w: p.b, b: p.w })],
          ['closure', () => 'closure'],
        ];
        for (const [what, aliased] of cases) {
          const pa = start();
          const pc = start();
          const a = createGpujs(spec, pa, { mode, residency });
          const c = createGpujs(spec, pc, { mode, residency });
          for (let t = 0; t < 2; t++) {
            const pcNow = { w: { shape: [2, 2], data: c.read('w') }, b: { shape: [2, 2], data: c.read('b') } };
            const g = aliased(pcNow);
            const copies = g === 'closure' ? { w: pcNow.w, b: pcNow.w } : g;
            c.step(Object.fromEntries(Object.entries(copies).map(([n, x]) => [n, { shape: x.shape, data: Float32Array.from(x.data) }])));
            if (g === 'closure') a.step((point) => ({ w: point.get('w')!, b: point.get('w')! }));
            else a.step(aliased({ w: { shape: [2, 2], data: a.read('w') }, b: { shape: [2, 2], data: a.read('b') } }) as Record<string, Float32Tensor>);
          }
          expect(`${what}: ${Array.from(a.read('w'))} ${Array.from(a.read('b'))}`).toBe(`${what}: ${Array.from(c.read('w'))} ${Array.from(c.read('b'))}`);
          a.dispose();
          c.dispose();
        }
      });
    }
  }

  it('names such as __proto__ as object keys: step, export, resume', () => {
    for (const name of ['__proto__', 'constructor', 'valueOf']) {
      const p = t32([3], [0.5, -1, 2]);
      const opt = createGpujs(adamw({ lr: 0.1, weightDecay: 0.1 }), { [name]: p }, { mode });
      const g = t32([3], [0.3, -0.2, 0.1]);
      opt.step({ [name]: g });
      const text = JSON.stringify(opt.exportState());
      expect(Object.keys(JSON.parse(text).params as object)).toEqual([name]);
      const q = t32([3], Array.from(opt.read(name)));
      const resumed = createGpujs(adamw({ lr: 0.1, weightDecay: 0.1 }), new Map([[name, q]]), { mode });
      resumed.importState(JSON.parse(text));
      opt.step({ [name]: g });
      resumed.step(new Map([[name, g]]));
      expect(Array.from(resumed.read(name))).toEqual(Array.from(opt.read(name)));
      expect(JSON.stringify(resumed.exportState())).toBe(JSON.stringify(opt.exportState()));
      opt.dispose();
      resumed.dispose();
    }
  });

  it('read, sync, params and reload from a closure are refused by name; read-only getters work', () => {
    const p = t32([3], [0.5, -1, 2]);
    const opt = createGpujs(nag({ lr: 0.1, momentum: 0.9 }), { w: p }, { mode });
    const errors: string[] = [];
    opt.step((point) => {
      for (const f of [() => opt.read('w'), () => opt.sync(), () => opt.params, () => opt.reload()]) {
        try {
          f();
        } catch (e) {
          errors.push((e as Error).message.split(' was called')[0]!);
        }
      }
      expect(opt.stateSize()).toBe(3);
      expect(opt.mode).toBe(mode);
      return { w: { shape: [3], data: Float32Array.from(point.get('w')!.data, (x) => 2 * x) } };
    });
    expect(errors).toEqual(['nag: read()', 'nag: sync()', 'nag: params()', 'nag: reload()']);
    expect(opt.stepCount).toBe(1);
    opt.dispose();
  });
});

describe('disposeAsync', () => {
  it('from inside a closure it is refused by its own name, under device residency too', async () => {
    for (const residency of ['host', 'device'] as const) {
      const opt = createGpujs(adamw({ lr: 0.1 }), { w: t32([3], [0.5, -1, 2]) }, { mode: 'cpu', residency });
      let refused: Promise<unknown> | undefined;
      await opt.stepAsync(() => {
        refused = opt.disposeAsync();
        return { w: t32([3], [0.1, 0.2, 0.3]) };
      });
      await expect(refused).rejects.toThrow('adamw: disposeAsync() was called while stepAsync() has not finished');
      expect(opt.stepCount).toBe(1);
      await opt.disposeAsync();
    }
  });
});
