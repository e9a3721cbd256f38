/**
 * Browser entry of the gpu.js throughput benchmark (bench/gpujs.ts loads it in Chromium): backend-gpujs's own bench
 * module, run in the page for the browser modes (webgl2, webgpu) next to a plain JavaScript float32 loop and the
 * triad memory roof timed in the same round-robin.
 */
import { availableImplementations, formatTable, measureThroughput, type BenchOptimizer, type BenchRow } from '@descent/backend-gpujs/bench';

export async function main({ sizes, optimizers, seconds }: { sizes: number[]; optimizers?: BenchOptimizer[]; seconds: number }): Promise<{ rows: BenchRow[]; table: string; modes: string[] }> {
  const implementations = await availableImplementations(['webgl2', 'webgpu'], false);
  const rows = await measureThroughput({ sizes, ...(optimizers ? { optimizers } : {}), implementations, timeCapMs: seconds * 1000 });
  return { rows, table: formatTable(rows), modes: implementations.map((i) => (i.kind === 'gpujs' ? `${i.mode} ${i.residency}` : i.kind)) };
}
