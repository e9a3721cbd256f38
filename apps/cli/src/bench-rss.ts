/**
 * One peak-memory measurement of `descent bench --backend cpu`, run as a child process per path so that each
 * path's peak is its own: `bench-rss <path> <optimizer> <size> <steps>` creates the parameter, gradient and
 * optimizer of that path over `size` elements, takes `steps` steps and prints `{ hwmKiB, rssKiB, maxRssKiB }`
 * (VmHWM and VmRSS from /proc/self/status, and `process.resourceUsage().maxRSS`). With size 0 it only loads the
 * same modules and initialises the same backend: the idle baseline that the report subtracts.
 *
 * @packageDocumentation
 */
import { readFileSync } from 'node:fs';
import { gpujsWebasm, plainJs, tfjsPath, useTfjsBackend, type ReportOptimizer, type Stepper } from './bench-paths.js';

/** The paths a child can measure. */
export const RSS_PATHS = ['js-plain', 'tfjs-cpu-fused', 'tfjs-wasm-fused', 'tfjs-cpu tf.train', 'tfjs-wasm tf.train', 'gpujs-webasm'] as const;

/** VmHWM and VmRSS of this process in KiB (0 where /proc is missing). */
export function procStatus(): { hwmKiB: number; rssKiB: number } {
  try {
    const s = readFileSync('/proc/self/status', 'utf8');
    const get = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? 0);
    return { hwmKiB: get('VmHWM'), rssKiB: get('VmRSS') };
  } catch {
    return { hwmKiB: 0, rssKiB: 0 };
  }
}

async function run(path: string, optimizer: ReportOptimizer, size: number, steps: number): Promise<void> {
  let stepper: Stepper | undefined;
  if (path.startsWith('tfjs-')) await useTfjsBackend(path.startsWith('tfjs-wasm') ? 'wasm' : 'cpu');
  if (size > 0) {
    if (path === 'js-plain') stepper = plainJs(optimizer, size, 1);
    else if (path === 'gpujs-webasm') stepper = gpujsWebasm(optimizer, size);
    else stepper = tfjsPath(path.startsWith('tfjs-wasm') ? 'wasm' : 'cpu', path.endsWith('tf.train') ? 'tf.train' : 'descent', optimizer, size, 1);
    for (let i = 0; i < steps; i++) stepper.step();
  } else if (path === 'gpujs-webasm') {
    // Load gpu.js and build one tiny kernel, as the measured run does, so the baseline includes them.
    const s = gpujsWebasm(optimizer, 8);
    s.step();
    await s.dispose();
  }
  const st = procStatus();
  process.stdout.write(`${JSON.stringify({ path, optimizer, size, steps, ...st, maxRssKiB: process.resourceUsage().maxRSS })}\n`);
  await stepper?.dispose();
}

const [path, optimizer, size, steps] = process.argv.slice(2);
if (path !== undefined) {
  if (!(RSS_PATHS as readonly string[]).includes(path)) throw new Error(`bench-rss: unknown path ${JSON.stringify(path)}`);
  await run(path, (optimizer ?? 'adam') as ReportOptimizer, Number(size ?? 0), Number(steps ?? 3));
  process.exit(0);
}
