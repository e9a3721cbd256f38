import * as tf from '@tensorflow/tfjs-core';
import { muonTorchAsMuon, type MuonTorchOptions } from '@descent/core';
import type { TfjsKernel } from '../kernel.js';
import { muonUpdateTfjs } from './muon.js';

/**
 * `torch.optim.Muon` on TF.js, following `core/src/optimizers/muon-torch.ts`: Muon's device update (see
 * `muonUpdateTfjs`: torch's `lerp` momentum and Nesterov blend, float32 Newton–Schulz on the device) with
 * PyTorch's normalisation max(‖U‖_F, ε), then θ(1 − γλ) − γ·s·O with 1 − γλ and the shape scale s as Float64
 * host scalars.
 */
export const muonTorchKernel: TfjsKernel<MuonTorchOptions> = {
  update({ options: o, shape, param: theta, grad, slots, linalg }) {
    const update = muonUpdateTfjs(muonTorchAsMuon(o), shape, grad, slots.momentumBuffer!, 'clamp', linalg);
    const decay = 1 - o.lr * o.weightDecay;
    theta.assign(tf.sub(tf.mul(theta, decay), tf.mul(o.lr, update)));
  },
};
