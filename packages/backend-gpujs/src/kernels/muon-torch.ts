import { muonTorchAsMuon, type MuonTorchOptions } from '@descent/core';
import type { GpujsKernel, GpujsKernelContext } from '../kernel.js';
import { muonApply, muonUpdateDevice } from './muon.js';

/**
 * `torch.optim.Muon` on gpu.js, following `core/src/optimizers/muon-torch.ts`: Muon's device update (see
 * `muonUpdateDevice`: torch's `lerp` momentum and Nesterov blend, float32 Newton–Schulz with matrix kernels) with
 * PyTorch's normalisation max(‖U‖_F, ε), then θ(1 − γλ) − γ·s·O.
 */
export const muonTorchKernel: GpujsKernel<MuonTorchOptions> = {
  *update(ctx) {
    const o = muonTorchAsMuon(ctx.options);
    const { orthogonal, scale } = yield* muonUpdateDevice(ctx as GpujsKernelContext<unknown>, o, 'clamp');
    muonApply(ctx as GpujsKernelContext<unknown>, orthogonal, o.lr, o.weightDecay, scale);
  },
};
