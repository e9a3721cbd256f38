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

