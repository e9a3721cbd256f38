import { createRequire } from 'node:module';
import { CPUKernel, GPU, HeadlessGLKernel, WebAssemblyKernel, WebGL2Kernel, WebGLKernel, type Kernel } from 'gpu.js';
import { UnsupportedError, show } from '@descent/core';

/**
 * Loading gpu.js and choosing its mode. gpu.js 2.x is CommonJS (`module.exports = { GPU, … }`); Node's ESM loader
 * exposes those names as named exports, so a plain `import { GPU } from 'gpu.js'` works from ESM (and bundlers take
 * the package's `browser` build).
 *
 * gpu.js chooses a backend per kernel and may *fall back silently* (a console warning at most): `new GPU()` picks
 * the first supported of headlessgl, webgl2, webgl, webasm; a kernel whose features a backend lacks degrades to the
 * cpu backend at its first call. The mode that actually ran is therefore read from each kernel *after* it was
 * built, and compared with the mode asked for.
 *
 * Numerical quirks (each checked in `test/quirks.test.ts`), with `precision: 'single'`:
 * - webasm computes in float32 with IEEE semantics (denormals kept, NaN propagated); it calls back into
 *   JavaScript for `Math.sign`, `Math.atan2`, `Math.pow` and other functions without a wasm opcode, rounding their
 *   Float64 results to float32 (and `Math.sign` that way is about 8× slower than two comparisons, which the
 *   kernels use instead).
 * - cpu evaluates the kernel in Float64 JavaScript and rounds only when storing into its float32 outputs, so its
 *   results are closer to the reference than a float32 computation.
 * - GL (headless-gl through ANGLE on Mesa here): `sign(NaN)` is 0 and `sign(−0)` is 0; `max(NaN, x)` is x (NaN
 *   dropped, e.g. in AMSGrad's maximum and Adamax's infinity norm); denormal results flush to zero (uploads and
 *   readbacks keep them); `x − x` may fold to 0 even for ±∞. `atan(y, x)` is within a few ulps of `Math.atan2`,
 *   including the axes: gpu.js 2.24 no longer has the old polyfill that returned 0 when an argument was 0.
 * - WebGPU (WGSL on SwiftShader in Chromium; checked in packages/browser-test): `max(NaN, x)` is x, denormals flush
 *   to zero (inputs included), and `atan2(−0, x)` is taken on the other side of the branch cut (atan2(−0, 1) = π,
 *   atan2(−0, −1) = 0). Kernels return Promises: see `createGpujsAsync`.
 *
 * @packageDocumentation
 */

/** Modes of {@link createGpujs}: `auto` lets gpu.js choose; the others ask for one gpu.js backend. */
export type GpujsMode = 'auto' | 'headlessgl' | 'webgl' | 'webgl2' | 'webgpu' | 'webasm' | 'cpu';

/** A backend gpu.js actually ran a kernel on. */
export type GpujsActualMode = Exclude<GpujsMode, 'auto'>;

/** Every mode `createGpujs` accepts, `auto` first. */
export const GPUJS_MODES: readonly GpujsMode[] = ['auto', 'headlessgl', 'webgl', 'webgl2', 'webgpu', 'webasm', 'cpu'];

/**
 * Whether gpu.js runs a mode's kernels as shaders (GLSL on headlessgl/webgl/webgl2, WGSL on webgpu): relaxed float
 * rules (denormals flush, NaN dropped by max/min), values kept in device memory.
 */
export function isShaderMode(mode: GpujsActualMode): boolean {
  return mode === 'headlessgl' || mode === 'webgl' || mode === 'webgl2' || mode === 'webgpu';
}

/** The backend a built gpu.js kernel runs on (`HeadlessGLKernel.mode` says only "gpu", so classes are checked). */
export function kernelMode(kernel: Kernel): GpujsActualMode | 'unknown' {
  if (kernel instanceof HeadlessGLKernel) return 'headlessgl';
  if (kernel instanceof WebGL2Kernel) return 'webgl2';
  if (kernel instanceof WebGLKernel) return 'webgl';
  if (kernel instanceof WebAssemblyKernel) return 'webasm';
  if (kernel instanceof CPUKernel) return 'cpu';
  const mode = (kernel.constructor as { mode?: unknown }).mode;
  return mode === 'webgpu' ? 'webgpu' : 'unknown';
}

/** Whether the optional `gl` package (headless-gl) can be loaded from where gpu.js loads it. */
export function headlessGlInstalled(): boolean {
  try {
    const fromGpujs = createRequire(createRequire(import.meta.url).resolve('gpu.js'));
    return typeof fromGpujs('gl') === 'function';
  } catch {
    return false;
  }
}

/** Why gpu.js cannot give `mode` here, in words a user can act on. */
export function unavailableReason(mode: GpujsActualMode): string {
  switch (mode) {
    case 'headlessgl':
      return headlessGlInstalled()
        ? 'the optional "gl" package is built but could not create a WebGL context (no display: run under `xvfb-run -a`)'
        : 'the optional "gl" package (headless-gl) is not built (pnpm: list gl in onlyBuiltDependencies; Debian needs libxi-dev libglu1-mesa-dev libglew-dev pkg-config) and it needs a display (`xvfb-run -a`)';
    case 'webgl':
    case 'webgl2':
      return `${mode} needs a browser with a WebGL${mode === 'webgl2' ? '2' : ''} context`;
    case 'webgpu':
      return 'webgpu needs navigator.gpu with an adapter';
    case 'webasm':
      return 'WebAssembly is not available';
    case 'cpu':
      return 'the cpu backend is always available';
  }
}

/**
 * Creates a `GPU` for a mode, turning gpu.js's "A requested mode of … is not supported" into an
 * {@link UnsupportedError} that says why and what to do.
 */
export function createGpu(mode: GpujsMode, where: string): GPU {
  if (!GPUJS_MODES.includes(mode)) {
    throw new UnsupportedError(`${where}: mode ${show(mode)} is not a gpu.js mode; use one of ${GPUJS_MODES.map((m) => `"${m}"`).join(', ')}`);
  }
  try {
    return mode === 'auto' ? new GPU() : new GPU({ mode });
  } catch (e) {
    const why = mode === 'auto' ? 'gpu.js found no backend' : unavailableReason(mode);
    throw new UnsupportedError(`${where}: gpu.js mode "${mode}" is not available here: ${why} (gpu.js: ${(e as Error).message})`);
  }
}
