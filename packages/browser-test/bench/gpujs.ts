/**
 * Throughput of descent's gpu.js backend in Chromium's browser modes (webgl2 and webgpu, both on SwiftShader here,
 * i.e. on the CPU), with the same measuring code as the Node benchmark (`@descent/backend-gpujs/bench`): median
 * completed-step times, round-robin with a JavaScript float32 loop and a triad memory roof in the same page.
 *
 *     pnpm --filter @descent/browser-test bench [sizes] [seconds]      e.g.  bench 1000000,32000000 3
 */
import { fileURLToPath } from 'node:url';
import type { BenchRow } from '@descent/backend-gpujs/bench';
import { runInChromium } from '../src/index.js';

const sizes = (process.argv[2] ?? '1000000,32000000').split(',').map(Number);
const seconds = Number(process.argv[3] ?? 2);
const entry = fileURLToPath(new URL('./gpujs-entry.ts', import.meta.url));
const run = await runInChromium<{ rows: BenchRow[]; table: string; modes: string[] }>({
  entry,
  webgpu: true,
  bundle: { empty: ['node:module', 'node:url'] },
  arg: { sizes, seconds },
  timeoutMs: 3_600_000,
});
console.log(`Chromium ${run.environment.userAgent.match(/Chrome\/[\d.]+/)?.[0] ?? ''}; WebGL: ${run.environment.webglRenderer}; WebGPU adapter: ${JSON.stringify(run.environment.webgpuAdapter)}`);
console.log(`implementations: ${run.result.modes.join(', ')}\n`);
console.log(run.result.table);
