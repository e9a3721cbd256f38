import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { adam } from '@descent/core';
import { createTfjs } from './src/index.js';
import { adamFused } from './src/fused/adam.js';
const n = Number(process.argv[2] ?? 32e6);
function adamLoop(theta: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, t: number): void {
  const b1 = 0.9, b2 = 0.999, lr = 1e-3, eps = 1e-8;
  const bc2 = Math.sqrt(1 - b2 ** t);
  const stepSize = lr / (1 - b1 ** t);
  for (let i = 0; i < theta.length; i++) {
    const gi = g[i] as number;
    const mi = (m[i] = b1 * (m[i] as number) + (1 - b1) * gi);
    const vi = (v[i] = b2 * (v[i] as number) + (1 - b2) * gi * gi);
    theta[i] = (theta[i] as number) - (stepSize * mi) / (Math.sqrt(vi) / bc2 + eps);
  }
}
function triad(a: Float32Array, b: Float32Array, c: Float32Array, s: number) { for (let i = 0; i < a.length; i++) a[i] = (b[i] as number) + s * (c[i] as number); }
const th = new Float32Array(n).fill(0.5), g = new Float32Array(n).fill(0.01), m = new Float32Array(n), v = new Float32Array(n);
const time = (f: () => void) => { const t0 = performance.now(); f(); return performance.now() - t0; };
const med = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1]!;
const T: Record<string, number[]> = { triad: [], plain: [], genInPlace: [], genNewOut: [], tfjsFused: [] };
await tf.setBackend('cpu');
const w = tf.variable(tf.fill([n], 0.5)); const gw = tf.fill([n], 0.01);
const opt = createTfjs(adam({ lr: 1e-3 }), { w });
const k = adamFused.coefficients(adam({lr:1e-3}).options as never, 1, {});
const o = adam({lr:1e-3}).options as never;
const m2 = new Float32Array(n), v2 = new Float32Array(n); let th2 = new Float32Array(n).fill(0.5);
for (let r = 0; r < 7; r++) {
  T.triad!.push(time(() => triad(m, th, g, 3)));
  T.plain!.push(time(() => adamLoop(th, g, m, v, r + 1)));
  T.genInPlace!.push(time(() => adamFused.run(o, { k, theta: th2, out: th2, grad: g, slots: { expAvg: m2, expAvgSq: v2 }, start: 0, end: n })));
  T.genNewOut!.push(time(() => { const out = new Float32Array(n); adamFused.run(o, { k, theta: th2, out, grad: g, slots: { expAvg: m2, expAvgSq: v2 }, start: 0, end: n }); th2 = out; }));
  T.tfjsFused!.push(time(() => opt.step({ w: gw })));
}
for (const [name, t] of Object.entries(T)) console.log(name, (n / med(t) / 1e3).toFixed(0), 'Mparam/s', med(t).toFixed(1), 'ms', opt.path);
console.log((await import('node:fs')).readFileSync('/proc/loadavg','utf8'));
