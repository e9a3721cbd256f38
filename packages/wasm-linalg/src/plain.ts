/**
 * A plain JavaScript float32 matmul, blocked for the cache, as the same-run baseline of the benchmarks: what a
 * careful JavaScript implementation reaches without WebAssembly.
 *
 * @packageDocumentation
 */

const BLOCK = 64;

/**
 * C = A·B for row-major float32 matrices (A m × k, B k × n, C m × n), blocked 64 × 64 × 64 with an i-p-j inner
 * order (a row of B streamed against one broadcast element of A, which V8 compiles to a tight loop); returns c.
 */
export function matmulPlain(m: number, n: number, k: number, a: Float32Array, b: Float32Array, c: Float32Array): Float32Array {
  c.fill(0, 0, m * n);
  for (let i0 = 0; i0 < m; i0 += BLOCK) {
    const i1 = Math.min(m, i0 + BLOCK);
    for (let p0 = 0; p0 < k; p0 += BLOCK) {
      const p1 = Math.min(k, p0 + BLOCK);
      for (let j0 = 0; j0 < n; j0 += BLOCK) {
        const j1 = Math.min(n, j0 + BLOCK);
        for (let i = i0; i < i1; i++) {
          const ci = i * n;
          for (let p = p0; p < p1; p++) {
            const aip = a[i * k + p] as number;
            const bp = p * n;
            for (let j = j0; j < j1; j++) c[ci + j] = (c[ci + j] as number) + aip * (b[bp + j] as number);
          }
        }
      }
    }
  }
  return c;
}
