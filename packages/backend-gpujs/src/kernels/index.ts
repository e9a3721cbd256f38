import { definitions } from '@descent/core';
import type { GpujsKernel } from '../kernel.js';
import { adabeliefKernel } from './adabelief.js';
import { adafactorKernel } from './adafactor.js';
import { adadeltaKernel } from './adadelta.js';
import { adagradKernel } from './adagrad.js';
import { adamAtan2Kernel } from './adam-atan2.js';
import { adamKernel } from './adam.js';
import { adamaxKernel } from './adamax.js';
import { adamwKernel } from './adamw.js';
import { diffgradKernel } from './diffgrad.js';
import { adanormKernel } from './adanorm.js';
import { pnmKernel } from './pnm.js';
import { adoptKernel } from './adopt.js';
import { ademamixKernel } from './ademamix.js';
import { adapnmKernel } from './adapnm.js';
import { lambKernel } from './lamb.js';
import { larsKernel } from './lars.js';
import { lionKernel } from './lion.js';
import { muonWithAuxAdamKernel } from './muon-with-aux-adam.js';
import { muonKernel } from './muon.js';
import { muonTorchKernel } from './muon-torch.js';
import { sm3Kernel } from './sm3.js';
import { amosKernel } from './amos.js';
import { nadamKernel } from './nadam.js';
import { nagKernel } from './nag.js';
import { radamKernel } from './radam.js';
import { rmspropKernel } from './rmsprop.js';
import { rpropKernel } from './rprop.js';
import { sgdKernel } from './sgd.js';
import { shampooKernel } from './shampoo.js';
import { signsgdKernel } from './signsgd.js';
import { scheduleFreeSgdKernel } from './schedule-free-sgd.js';
import { scheduleFreeAdamwKernel } from './schedule-free-adamw.js';
import { marsKernel } from './mars.js';
import { prodigyKernel } from './prodigy.js';
import { soapKernel } from './soap.js';

/** Kernels by optimizer name; an optimizer missing here is reported by name as unsupported. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- heterogeneous option types
export const kernels: Readonly<Record<string, GpujsKernel<any>>> = {
  sgd: sgdKernel,
  adam: adamKernel,
  nag: nagKernel,
  adagrad: adagradKernel,
  adadelta: adadeltaKernel,
  rmsprop: rmspropKernel,
  adamw: adamwKernel,
  adamax: adamaxKernel,
  nadam: nadamKernel,
  radam: radamKernel,
  rprop: rpropKernel,
  lamb: lambKernel,
  lars: larsKernel,
  lion: lionKernel,
  signsgd: signsgdKernel,
  adamAtan2: adamAtan2Kernel,
  adabelief: adabeliefKernel,
  muon: muonKernel,
  muonWithAuxAdam: muonWithAuxAdamKernel,
  shampoo: shampooKernel,
  adafactor: adafactorKernel,
  muonTorch: muonTorchKernel,
  sm3: sm3Kernel,
  amos: amosKernel,
  scheduleFreeSgd: scheduleFreeSgdKernel,
  scheduleFreeAdamw: scheduleFreeAdamwKernel,
  mars: marsKernel,
  diffgrad: diffgradKernel,
  adanorm: adanormKernel,
  pnm: pnmKernel,
  adopt: adoptKernel,
  ademamix: ademamixKernel,
  adapnm: adapnmKernel,
  prodigy: prodigyKernel,
  soap: soapKernel,
};

/** Optimizers of core's registry this backend does not implement yet, with the reason (none at the moment). */
export const knownGaps: Readonly<Record<string, string>> = {};

/**
 * Known gaps on the shader modes (headlessgl, webgl2, webgpu), by conformance check id. NaN does not survive GLSL's
 * `max`, `min`, `clamp` and `atan` (WGSL lets implementations assume no NaN or ∞, and SwiftShader's max(NaN, 1) is
 * 1; see `test/quirks.test.ts`): a NaN gradient under `nonFinite: "apply"` does not reach the parameters as in the
 * reference wherever one of them meets it — AMSGrad's and Adamax's maxima, Adafactor's and Rprop's clamps,
 * Adam-atan2's atan2, and the clipping transforms (clipGradNorm's min(·, 1), clipGradValue's clamp), which the kit
 * puts in front of any optimizer. So the kit's non-finite property is a known gap of every optimizer there;
 * `skip` and `throw` are decided on the host and tested separately. Kept here rather than in the tests so the
 * documentation site lists the same gaps the conformance run declares.
 */
export const shaderKnownGaps: Readonly<Record<string, string>> = Object.fromEntries(
  [...definitions.keys()].map((name) => [
    `${name}/non-finite`,
    'GLSL drops NaN in max/min/clamp/atan (AMSGrad and Adamax maxima, clamps, atan2, gradient clipping), so NaN gradients under nonFinite "apply" do not propagate as in the reference',
  ]),
);
