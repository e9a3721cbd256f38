import { prodigyBeta3, prodigySliceLength, type ProdigyOptions } from '@descent/core';
import { elementwise, type GpujsKernel } from '../kernel.js';
import type { Program } from '../program.js';

/**
 * A program over the D statistics (every `sliceP`-th element, `flatten()[::slice_p]`): output element j reads the
 * parameter's buffers at element j·sliceP and the statistics' buffers at j.
 */
function slicedProgram(size: number, sliceP: number, reads: Record<string, string>, stats: Record<string, string>, scalars: string[], body: string, writes: Record<string, string>): Program {
  const m = prodigySliceLength(size, sliceP);
  const arrays: Record<string, { buffer: string; dims: number[] }> = {};
  const loads = ['const j = this.thread.x;', `const k = j * ${sliceP};`];
  for (const [local, buffer] of Object.entries(reads)) {
    arrays[`a_${local}`] = { buffer, dims: [size] };
    loads.push(`let ${local} = a_${local}[k];`);
  }
  for (const [local, buffer] of Object.entries(stats)) {
    arrays[`a_${local}`] = { buffer, dims: [m] };
    loads.push(`let ${local} = a_${local}[j];`);
  }
  return { output: [m], arrays, scalars, body: `${loads.join('\n')}\n${body}`, writes };
}

/**
 * Prodigy on gpu.js, the two passes of `core/src/optimizers/prodigy.ts` with its order of operations. First pass:
 * x̂₀ at the first update, the moments (one elementwise program), s with the terms of ⟨ĝ, x̂₀ − x̂⟩ and |s| (one
 * program over the sliced elements), and the two sums (float32 blocks on the device, Float64 on the host). The D
 * estimate is Float64 on the host (core's `finish`). Second pass: one elementwise program.
 */
export const prodigyKernel: GpujsKernel<ProdigyOptions> = {
  update() {
    throw new Error('prodigy: the step has two passes (accumulate, apply)');
  },
  *accumulate({ options: o, size, step, run, sum, group, constants }) {
    const [beta1, beta2] = o.betas;
    const { weightDecay: decay, decouple, d0, sliceP } = o;
    const d = group.d as number;
    const dlr = constants.dlr as number;
    if (step === 1) run(slicedProgram(size, sliceP, { theta: 'param' }, {}, [], '', { p0: 'theta' }));
    if (!(o.lr > 0)) return { dot: 0, l1: 0 };
    const coupled = decay !== 0 && !decouple;
    const prologue = coupled ? 'g = g + weightDecay * theta;' : '';
    const firstMoment = slotsHaveFirstMoment(beta1);
    const values: Record<string, number> = { beta1, mScale: d * (1 - beta1), beta2, vScale: d * d * (1 - beta2) };
    if (coupled) values.weightDecay = decay;
    run(
      elementwise(size, {
        reads: { theta: 'param', g: 'grad', expAvgSq: 'expAvgSq', ...(firstMoment ? { expAvg: 'expAvg' } : {}) },
        scalars: Object.keys(values),
        body: `${prologue}
${firstMoment ? 'expAvg = expAvg * beta1 + mScale * g;' : ''}
expAvgSq = expAvgSq * beta2 + vScale * g * g;`,
        writes: { expAvgSq: 'expAvgSq', ...(firstMoment ? { expAvg: 'expAvg' } : {}) },
      }),
      values,
    );
    const sValues: Record<string, number> = { beta3: prodigyBeta3(o), sScale: o.safeguardWarmup ? (d / d0) * d : (d / d0) * dlr };
    if (coupled) sValues.weightDecay = decay;
    run(
      slicedProgram(
        size,
        sliceP,
        { theta: 'param', g: 'grad' },
        { s: 's', p0: 'p0' },
        Object.keys(sValues),
        `${prologue}
const dotTerm = g * (p0 - theta);
s = s * beta3 + sScale * g;
const absS = Math.abs(s);`,
        { s: 's', prodigyDot: 'dotTerm', prodigyAbs: 'absS' },
      ),
      sValues,
    );
    const dot = yield* sum('prodigyDot');
    const l1 = yield* sum('prodigyAbs');
    return { dot, l1 };
  },
  apply({ options: o, size, run, group, constants }) {
    const beta1 = o.betas[0];
    const { weightDecay: decay, decouple, eps } = o;
    const d = group.d as number;
    const dlr = constants.dlr as number;
    const firstMoment = slotsHaveFirstMoment(beta1);
    const values: Record<string, number> = { dEps: d * eps };
    const lines = ['const denom = Math.sqrt(expAvgSq) + dEps;'];
    if (decay !== 0 && !decouple) {
      values.weightDecay = decay;
      lines.push('g = g + weightDecay * theta;');
    }
    if (decay !== 0 && decouple) {
      values.decayScale = -decay * dlr;
      lines.push('theta = theta + decayScale * theta;');
    }
    if (firstMoment) {
      values.minusDlr = -dlr;
      lines.push('theta = theta + minusDlr * (expAvg / denom);');
    } else {
      values.minusDlrD = -dlr * d;
      lines.push('theta = theta + minusDlrD * (g / denom);');
    }
    run(
      elementwise(size, {
        reads: { theta: 'param', g: 'grad', expAvgSq: 'expAvgSq', ...(firstMoment ? { expAvg: 'expAvg' } : {}) },
        scalars: Object.keys(values),
        body: lines.join('\n'),
        writes: { param: 'theta' },
      }),
      values,
    );
  },
};

/** Whether the state has `expAvg` (β₁ > 0, as core's slots). */
function slotsHaveFirstMoment(beta1: number): boolean {
  return beta1 > 0;
}
