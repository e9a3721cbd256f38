import { InputError } from '../errors.js';
import { adadelta, adagrad, adam, adamax, lamb, lion, muonWithAuxAdam, nadam, rmsprop, rprop, shampoo, type OptimizerSpec } from '@descent/core';

/** The optimizers of the comparison: the seeds' list, each with PyTorch's (or its reference's) default options. */
export const TRAIN_OPTIMIZERS: Readonly<Record<string, () => OptimizerSpec>> = {
  adagrad: () => adagrad(),
  rmsprop: () => rmsprop(),
  adadelta: () => adadelta(),
  adam: () => adam(),
  adamax: () => adamax(),
  nadam: () => nadam(),
  lamb: () => lamb(),
  shampoo: () => shampoo(),
  lion: () => lion(),
  muon: () => muonWithAuxAdam({ adamLr: 1e-3 }),
  rprop: () => rprop(),
};

/** The baseline that runs TF.js's own Adam (same defaults as descent's adam). */
export const BASELINE = 'tf.train.adam';


/** Refuses a name that is neither in {@link TRAIN_OPTIMIZERS} nor the {@link BASELINE}, naming the known ones. */
export function checkTrainOptimizer(name: string): void {
  if (name !== BASELINE && !(name in TRAIN_OPTIMIZERS)) {
    throw new InputError(`train: unknown optimizer ${JSON.stringify(name)}; known: ${[...Object.keys(TRAIN_OPTIMIZERS), BASELINE].join(', ')}`);
  }
}
