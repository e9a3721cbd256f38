import { createLinalg } from './src/gemm.ts';
import { medianMs } from './src/bench.ts';
for (const n of [256, 512, 1024]) {
  const a = new Float32Array(n*n).map(() => Math.random()-0.5), b = new Float32Array(n*n).map(() => Math.random()-0.5), c = new Float32Array(n*n);
  const out: string[] = [];
  for (const threads of [1, 2]) {
    const la = createLinalg({ threads, threadThreshold: 0 });
    const ms = medianMs(() => la.gemm(n,n,n,a,b,c), 9, 3);
    out.push(`${threads}t ${ms.toFixed(2)}ms ${(2*n**3/ms/1e6).toFixed(1)}GF`);
    la.dispose();
  }
  // pack-only estimate: k=4 product has same A? no: time m x n x 4 product -> copy-out cost; and pack costs
  const la = createLinalg({ threads: 1 });
  const packB = medianMs(() => la.gemm(4, n, n, a, b, c), 9, 3);
  const packA = medianMs(() => la.gemm(n, 8, n, a, b, c), 9, 3);
  const copy = medianMs(() => la.gemm(n, n, 4, a, b, c), 9, 3);
  out.push(`packB~${packB.toFixed(2)} packA~${packA.toFixed(2)} copyout~${copy.toFixed(2)}`);
  console.log(n, out.join(' | '));
}
