/**
 * Shared by the browser entries: selecting the TF.js GPU backend for real (no CPU forwarding), reading back on
 * WebGPU without the synchronous path, and telling whether a tensor lives on the GPU.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import { supportedOptimizers } from '@descent/backend-tfjs';

export type GpuBackend = 'webgl' | 'webgpu';

export interface InitResult {
  backend: string;
  tfjsVersion: string;
  supported: string[];
  flags: Record<string, unknown>;
}

/**
 * Selects the TF.js backend. CPU forwarding is switched off: by default both GPU backends run an op on the CPU
 * when its inputs are small and not yet on the GPU, which for small test tensors would test the cpu kernels
 * instead of the shaders. `cpuForward: true` restores it (only to show that {@link gpuResident} notices).
 * WebGL: shapes as uniforms, so that a shader compiled for one shape serves every shape (SwiftShader compiles
 * slowly; the conformance kit draws many shapes); it changes index arithmetic only, not the float math.
 */
export async function selectBackend(backend: GpuBackend, cpuForward = false): Promise<InitResult> {
  const flags: Record<string, unknown> =
    backend === 'webgl' ? { WEBGL_CPU_FORWARD: cpuForward, WEBGL_USE_SHAPES_UNIFORMS: true } : { WEBGPU_CPU_FORWARD: cpuForward, ...(cpuForward ? {} : { WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD: 0 }) };
  for (const [k, v] of Object.entries(flags)) tf.env().set(k, v as never);
  if (!(await tf.setBackend(backend))) throw new Error(`tf.setBackend(${JSON.stringify(backend)}) failed (see the page log)`);
  await tf.ready();
  if (tf.getBackend() !== backend) throw new Error(`asked for ${backend}, TF.js runs ${tf.getBackend()}`);
  if (backend === 'webgl') {
    flags.WEBGL_VERSION = tf.env().get('WEBGL_VERSION');
    flags.WEBGL_RENDER_FLOAT32_ENABLED = tf.env().get('WEBGL_RENDER_FLOAT32_ENABLED');
  }
  return { backend: tf.getBackend(), tfjsVersion: tf.version_core, supported: supportedOptimizers(), flags };
}

/**
 * Whether a tensor's values live on the GPU only (a WebGL texture or a WebGPU buffer, no CPU copy): the proof
 * that the op producing it ran in a shader. Reads backend internals (`texData`, `tensorMap`), which only a test
 * should do.
 */
export function gpuResident(t: tf.Tensor): boolean {
  type Data = { texture?: unknown; resource?: unknown; values?: unknown };
  const b = tf.backend() as unknown as { texData?: { get(id: object): Data }; tensorMap?: { get(id: object): Data } };
  if (b.texData) {
    const d = b.texData.get(t.dataId);
    return d.texture != null && d.values == null;
  }
  if (b.tensorMap) {
    const d = b.tensorMap.get(t.dataId);
    return d.resource != null && d.values == null;
  }
  return false;
}

/**
 * WebGPU: reads every variable asynchronously (mapAsync), so that the synchronous reads of `exportState` and
 * `dataSync` that follow find the values cached on the CPU. TF.js's synchronous WebGPU readback copies through
 * an OffscreenCanvas; in headless Chromium 156 on SwiftShader it costs ~24 ms a read (mapAsync: ~4 ms) and,
 * after some hundreds of reads, returned zeros and lost the device ("A valid external Instance reference no
 * longer exists"). WebGL reads synchronously with readPixels, which is fine, so this does nothing there.
 */
export async function prefetch(): Promise<void> {
  if (tf.getBackend() !== 'webgpu') return;
  await Promise.all(Object.values(tf.engine().registeredVariables).map((v) => v.data()));
}
