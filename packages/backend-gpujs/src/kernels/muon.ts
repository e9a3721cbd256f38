import { muonLrScale, resolveMatrixView, type MuonOptions, type NewtonSchulzNormalization, type Work } from '@descent/core';
import { elementwise, type GpujsKernel, type GpujsKernelContext } from '../kernel.js';
import { newtonSchulzF32 } from '@descent/wasm-linalg';
import { newtonSchulzDevice, permuteProgram } from '../linalg.js';

/** `torch.lerp(start, end, w)` as the reference's `lerpTorch` evaluates it, choosing its branch from the host value of w. */
export function lerpSource(start: string, end: string, w: number, weight: string, complement: string): string {
  return Math.abs(w) < 0.5 ? `${start} + ${weight} * (${end} - ${start})` : `${end} - (${end} - ${start}) * ${complement}`;
}

/**
 * Keller Jordan's `muon_update` on the device: the momentum buffer B ← lerp(B, g, 1 − β), the Nesterov blend
 * U = lerp(g, B, β) (or B) into the temporary `update`, then Newton–Schulz on the matrix of `matrixView` (U's
 * axes reordered by a gather program when the view is not PyTorch's, and the result put back). Returns the
 * buffer holding NS(U) in the parameter's layout, and the shape scale s.
 */
export function* muonUpdateDevice(
  ctx: GpujsKernelContext<unknown>,
  o: MuonOptions,
  normalize: NewtonSchulzNormalization = 'add',
): Work<{ orthogonal: string; scale: number }> {
  const beta = o.momentum;
  const values: Record<string, number> = { w: 1 - beta, wComplement: 1 - (1 - beta) };
  const body = [`momentumBuffer = ${lerpSource('momentumBuffer', 'g', 1 - beta, 'w', 'wComplement')};`];
  if (o.nesterov) {
    Object.assign(values, { beta, betaComplement: 1 - beta });
    body.push(`const u = ${lerpSource('g', 'momentumBuffer', beta, 'beta', 'betaComplement')};`);
  } else {
    body.push('const u = momentumBuffer;');
  }
  ctx.run(
    elementwise(ctx.size, {
      reads: { g: 'grad', momentumBuffer: 'momentumBuffer' },
      scalars: Object.keys(values),
      body: body.join('\n'),
      writes: { momentumBuffer: 'momentumBuffer', update: 'u' },
    }),
    values,
  );
  // The view's matrix: U with its axes reordered rows first (gathered into a temporary unless the view is PyTorch's).
  const { order, identity, rows, cols } = resolveMatrixView(o.matrixView, ctx.shape);
  if (!identity) ctx.run(permuteProgram('update', ctx.shape, order, 'muonViewed'));
  const source = identity ? 'update' : 'muonViewed';
  const ns = { coefficients: [o.nsA, o.nsB, o.nsC] as [number, number, number], steps: o.nsSteps, eps: o.nsEps, normalize };
  let orthogonal: string;
  if (ctx.linalg) {
    // Host memory (webasm, cpu): the iteration as float32 GEMMs of wasm-linalg on a copy of U.
    const g = Float32Array.from(yield* ctx.read(source));
    ctx.write('nsHost', newtonSchulzF32(ctx.linalg, g, rows, cols, ns.coefficients, ns.steps, ns.eps, normalize));
    orthogonal = 'nsHost';
  } else {
    orthogonal = yield* newtonSchulzDevice(ctx, source, rows, cols, ns);
  }
  if (!identity) ctx.run(permuteProgram(orthogonal, ctx.shape, order, 'muonOrthogonal', true));
  return { orthogonal: identity ? orthogonal : 'muonOrthogonal', scale: muonLrScale(rows, cols, o.adjustLr) };
}

/** θ ← θ·(1 − ηλ) − η·s·O. */
export function muonApply(ctx: GpujsKernelContext<unknown>, orthogonal: string, lr: number, weightDecay: number, scale: number): void {
  ctx.run(
    elementwise(ctx.size, {
      reads: { theta: 'param', o: orthogonal },
      scalars: ['decay', 'lrScale'],
      body: 'theta = theta * decay - lrScale * o;',
      writes: { param: 'theta' },
    }),
    { decay: 1 - lr * weightDecay, lrScale: lr * scale },
  );
}

/**
 * Muon on gpu.js, following `core/src/optimizers/muon.ts`: the momentum and Nesterov blend elementwise, then
 * Newton–Schulz in float32 with matrix kernels (Gram matrix, polynomial, product, transposes; see `linalg.ts`)
 * on GL, or with `@descent/wasm-linalg`'s SIMD GEMM on the host in the webasm and cpu modes
 * (`ctx.linalg`), then the scaled step. The reference runs Newton–Schulz in Float64 (Keller Jordan's in bfloat16); the iteration
 * tolerates the rounding, so results agree normwise, not elementwise (see the tests for the bound).
 */
export const muonKernel: GpujsKernel<MuonOptions> = {
  *update(ctx) {
    const o = ctx.options;
    const { orthogonal, scale } = yield* muonUpdateDevice(ctx as GpujsKernelContext<unknown>, o);
    muonApply(ctx as GpujsKernelContext<unknown>, orthogonal, o.lr, o.weightDecay, scale);
  },
};
