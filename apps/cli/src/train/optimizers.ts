import { InputError } from '../errors.js';
import { adadelta, adagrad, adam, adamax, lamb, lion, muonWithAuxAdam, nadam, rmsprop, rprop, shampoo, type OptimizerSpec } from '@descent/core';
import { TRAIN_RATES } from './rates.js';

/** One optimizer of the comparison: its spec for a learning rate (the definition's default when none is given). */
export type TrainOptimizer = (lr?: number) => OptimizerSpec;

const withLr = (lr?: number) => (lr === undefined ? {} : { lr });

/**
 * The optimizers of the comparison: the seeds' list with PyTorch's (or their reference implementation's) default
 * options except the learning rate, which comes from {@link TRAIN_RATES} (found by `descent train --search`) when
 * it holds one. Muon is `muonWithAuxAdam` (seed 001: conv kernels viewed 2-D, biases and the head to Adam at 1e-3);
 * its searched rate is Muon's. Shampoo uses the coupled Newton–Schulz inverse root and leaves modes longer than
 * 128 unpreconditioned (`maxPreconditionDim`, as Distributed Shampoo's and SOAP's max dimension): the dense kernel's
 * 1600-long input mode would need a 1600 × 1600 root every step — refreshing it only every 50 steps instead made
 * training diverge at every rate tried (7e-4 … 1.1; the stale root amplifies new gradient directions by ε^{−1/2}
 * on each side) — and the default
 * (exact eigendecomposition every step) of a 1600 × 1600 statistic is hours per epoch here.
 */
export const TRAIN_OPTIMIZERS: Readonly<Record<string, TrainOptimizer>> = {
  adagrad: (lr) => adagrad(withLr(lr)),
  rmsprop: (lr) => rmsprop(withLr(lr)),
  adadelta: (lr) => adadelta(withLr(lr)),
  adam: (lr) => adam(withLr(lr)),
  adamax: (lr) => adamax(withLr(lr)),
  nadam: (lr) => nadam(withLr(lr)),
  lamb: (lr) => lamb(withLr(lr)),
  shampoo: (lr) => shampoo({ ...withLr(lr), inverseRoot: 'newtonSchulz', maxPreconditionDim: 128 }),
  lion: (lr) => lion(withLr(lr)),
  muon: (lr) => muonWithAuxAdam({ ...withLr(lr), adamLr: 1e-3 }),
  rprop: (lr) => rprop(withLr(lr)),
};

/** The baseline that runs TF.js's own Adam (at descent's Adam rate, so the two curves should coincide). */
export const BASELINE = 'tf.train.adam';

/** Refuses a name that is neither in {@link TRAIN_OPTIMIZERS} nor the {@link BASELINE}, naming the known ones. */
export function checkTrainOptimizer(name: string): void {
  if (name !== BASELINE && !(name in TRAIN_OPTIMIZERS)) {
    throw new InputError(`train: unknown optimizer ${JSON.stringify(name)}; known: ${[...Object.keys(TRAIN_OPTIMIZERS), BASELINE].join(', ')}`);
  }
}

/** The learning rate of the definition's defaults. */
export function defaultRate(name: string): number {
  return (TRAIN_OPTIMIZERS[name] as TrainOptimizer)().options['lr'] as number;
}

/** The learning rate a run uses: the searched one if there is one, else the default; the baseline uses Adam's. */
export function trainRate(name: string, rates: Readonly<Record<string, number>> = TRAIN_RATES): number {
  const key = name === BASELINE ? 'adam' : name;
  return rates[key] ?? defaultRate(key);
}
