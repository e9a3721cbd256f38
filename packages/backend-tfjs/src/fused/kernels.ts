import type { FusedKernel } from './kernel.js';
import { adabeliefFused } from './adabelief.js';
import { adadeltaFused } from './adadelta.js';
import { adagradFused } from './adagrad.js';
import { adamAtan2Fused } from './adam-atan2.js';
import { adamFused } from './adam.js';
import { adamaxFused } from './adamax.js';
import { adamwFused } from './adamw.js';
import { lionFused } from './lion.js';
import { muonWithAuxAdamFused } from './muon-with-aux-adam.js';
import { nadamFused } from './nadam.js';
import { radamFused } from './radam.js';
import { rmspropFused } from './rmsprop.js';
import { sgdFused } from './sgd.js';
import { signsgdFused } from './signsgd.js';

/**
 * The fused kernels by optimizer name: one file per optimizer in this directory, named as in
 * `core/src/optimizers/` (see `kernel.ts` for what a kernel is and how most are generated from one program).
 *
 * @packageDocumentation
 */

export type { FusedKernel, FusedLoop } from './kernel.js';

/** Fused kernels by optimizer name. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- heterogeneous option types
export const fusedKernels: Readonly<Record<string, FusedKernel<any>>> = {
  sgd: sgdFused,
  adam: adamFused,
  adamw: adamwFused,
  lion: lionFused,
  signsgd: signsgdFused,
  rmsprop: rmspropFused,
  adagrad: adagradFused,
  adadelta: adadeltaFused,
  adamax: adamaxFused,
  nadam: nadamFused,
  radam: radamFused,
  adamAtan2: adamAtan2Fused,
  adabelief: adabeliefFused,
  muonWithAuxAdam: muonWithAuxAdamFused,
};
