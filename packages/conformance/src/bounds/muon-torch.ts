import { muonTorchAsMuon, type MuonTorchOptions } from '@descent/core';
import { muonBoundPart } from './muon.js';
import type { BoundContext, BoundResult } from './tensor.js';

/**
 * `torch.optim.Muon` (core/src/optimizers/muon-torch.ts): the same operations as Muon's (element-wise lerp
 * momentum, normwise Newton–Schulz allowance, element-wise decayed step; see {@link muonBoundPart}) with
 * PyTorch's normalisation max(‖U‖_F, ε), which the reference values O come from.
 */
export const muonTorchBound = (ctx: BoundContext<MuonTorchOptions>): BoundResult =>
  muonBoundPart({ ...ctx, options: muonTorchAsMuon(ctx.options) }, ctx.ar, 'clamp');
