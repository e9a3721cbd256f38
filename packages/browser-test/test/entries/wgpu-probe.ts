import { GPU } from 'gpu.js';
export async function main(): Promise<unknown> {
  const gpu = new GPU({ mode: 'webgpu' } as never);
  const k = gpu.createKernel(function (this: any, a: number[], b: number[], s: number) { return a[this.thread.x] * s + b[this.thread.x]; }, { output: [5], pipeline: true, immutable: true, precision: 'single' } as never) as any;
  const t0 = performance.now();
  const h1 = await k(Float32Array.of(1, 2, 3, 4, 5), Float32Array.of(1, 1, 1, 1, 1), 2);
  const t1 = performance.now();
  const h2 = k(h1, Float32Array.of(0, 0, 0, 0, 0.5), 3);
  const isPromise = h2 instanceof Promise;
  const h2v = await h2;
  const arr = await h2v.toArray();
  const nan = gpu.createKernel(function (this: any, a: number[]) { const x = a[this.thread.x]; return Math.max(x, 1.0); }, { output: [3], precision: 'single' } as never) as any;
  const nanv = await nan(Float32Array.of(NaN, 0, 2));
  const den = gpu.createKernel(function (this: any, a: number[]) { return a[this.thread.x] * 0.5; }, { output: [2], precision: 'single' } as never) as any;
  const denv = await den(Float32Array.of(2e-38, 1e-39));
  const atan = gpu.createKernel(function (this: any, a: number[]) { return Math.atan2(a[this.thread.x], 0.0 - 1.0); }, { output: [2], precision: 'single' } as never) as any;
  const atanv = await atan(Float32Array.of(0, -0));
  const sq = gpu.createKernel(function (this: any, a: number[]) { return Math.sqrt(a[this.thread.x]) ; }, { output: [3], precision: 'single' } as never) as any;
  const sqv = await sq(Float32Array.of(2, 3, 1e-3));
  return { build: t1 - t0, isPromise, arr: Array.from(arr), mode: k.kernel.constructor.mode, nanv: Array.from(nanv), denv: Array.from(denv), atanv: Array.from(atanv), sqv: Array.from(sqv), sqref: [Math.fround(Math.sqrt(2)), Math.fround(Math.sqrt(3)), Math.fround(Math.sqrt(Math.fround(1e-3)))] };
}
