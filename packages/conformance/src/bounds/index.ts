import { adabeliefBound } from './adabelief.js';
import { adadeltaBound } from './adadelta.js';
import { adafactorBound } from './adafactor.js';
import { adagradBound } from './adagrad.js';
import { adamAtan2Bound } from './adam-atan2.js';
import { adamBound } from './adam.js';
import { adamaxBound } from './adamax.js';
import { adamwBound } from './adamw.js';
import { diffgradBound } from './diffgrad.js';
import { adanormBound } from './adanorm.js';
import { pnmBound } from './pnm.js';
import { adoptBound } from './adopt.js';
import { ademamixBound } from './ademamix.js';
import { adapnmBound } from './adapnm.js';
import { lambBound } from './lamb.js';
import { larsBound } from './lars.js';
import { lionBound } from './lion.js';
import { muonWithAuxAdamBound } from './muon-with-aux-adam.js';
import { muonBound } from './muon.js';
import { muonTorchBound } from './muon-torch.js';
import { sm3Bound } from './sm3.js';
import { amosBound } from './amos.js';
import { nadamBound } from './nadam.js';
import { nagBound, nagPointBound } from './nag.js';
import { radamBound } from './radam.js';
import { rmspropBound } from './rmsprop.js';
import { rpropBound } from './rprop.js';
import { sgdBound } from './sgd.js';
import { shampooBound } from './shampoo.js';
import { signsgdBound } from './signsgd.js';
import { scheduleFreeSgdBound } from './schedule-free-sgd.js';
import { scheduleFreeAdamwBound } from './schedule-free-adamw.js';
import { marsBound } from './mars.js';
import { prodigyBound, type PhaseBoundFunction } from './prodigy.js';
import { soapBound } from './soap.js';
import type { BoundFunction, PointBoundFunction } from './tensor.js';

export * from './arith.js';
export * from './tensor.js';
export { newtonSchulzTolerance } from './newton-schulz.js';
export type { PhaseBoundContext, PhaseBoundFunction, PhaseBoundParam, PhaseBoundResult } from './prodigy.js';
export { applyTransformBounds, transformBounds, type TransformBound } from './transforms.js';

/**
 * The error model of every optimizer of core's registry, by name. An optimizer without one cannot be checked
 * numerically; the kit reports it as a gap of the kit itself rather than skipping it silently.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- heterogeneous option types
export const boundFunctions: Readonly<Record<string, BoundFunction<any>>> = {
  sgd: sgdBound,
  adam: adamBound,
  nag: nagBound,
  adagrad: adagradBound,
  adadelta: adadeltaBound,
  rmsprop: rmspropBound,
  adamw: adamwBound,
  adamax: adamaxBound,
  nadam: nadamBound,
  radam: radamBound,
  rprop: rpropBound,
  lamb: lambBound,
  lars: larsBound,
  lion: lionBound,
  signsgd: signsgdBound,
  adamAtan2: adamAtan2Bound,
  adabelief: adabeliefBound,
  muon: muonBound,
  muonWithAuxAdam: muonWithAuxAdamBound,
  shampoo: shampooBound,
  adafactor: adafactorBound,
  muonTorch: muonTorchBound,
  sm3: sm3Bound,
  amos: amosBound,
  scheduleFreeSgd: scheduleFreeSgdBound,
  scheduleFreeAdamw: scheduleFreeAdamwBound,
  mars: marsBound,
  diffgrad: diffgradBound,
  adanorm: adanormBound,
  pnm: pnmBound,
  adopt: adoptBound,
  ademamix: ademamixBound,
  adapnm: adapnmBound,
  soap: soapBound,
};

/**
 * The error models of optimizers whose step has phases (core's `GroupPhases`), which bound the whole step at once;
 * their `boundFunctions` entry is never called.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- heterogeneous option types
export const phaseBoundFunctions: Readonly<Record<string, PhaseBoundFunction<any>>> = {
  prodigy: prodigyBound,
};

/**
 * The error models of the evaluation points of the optimizers that define one (core's `evaluationPoint`); the
 * others hand a closure the parameters themselves, which must arrive unchanged.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- heterogeneous option types
export const pointBoundFunctions: Readonly<Record<string, PointBoundFunction<any>>> = { nag: nagPointBound };
