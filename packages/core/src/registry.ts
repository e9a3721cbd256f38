import { makeSpec, type OptimizerDefinition, type OptimizerSpec } from './definition.js';
import { OptionError, show } from './errors.js';
import { adamDefinition } from './optimizers/adam.js';
import { adadeltaDefinition } from './optimizers/adadelta.js';
import { adagradDefinition } from './optimizers/adagrad.js';
import { adamwDefinition } from './optimizers/adamw.js';
import { nagDefinition } from './optimizers/nag.js';
import { rmspropDefinition } from './optimizers/rmsprop.js';
import { adamaxDefinition } from './optimizers/adamax.js';
import { nadamDefinition } from './optimizers/nadam.js';
import { radamDefinition } from './optimizers/radam.js';
import { rpropDefinition } from './optimizers/rprop.js';
import { sgdDefinition } from './optimizers/sgd.js';
import { lambDefinition } from './optimizers/lamb.js';
import { larsDefinition } from './optimizers/lars.js';
import { lionDefinition } from './optimizers/lion.js';
import { signsgdDefinition } from './optimizers/signsgd.js';
import { adamAtan2Definition } from './optimizers/adam-atan2.js';
import { adabeliefDefinition } from './optimizers/adabelief.js';
import { muonDefinition } from './optimizers/muon.js';
import { muonWithAuxAdamDefinition } from './optimizers/muon-with-aux-adam.js';
import { muonTorchDefinition } from './optimizers/muon-torch.js';
import { sm3Definition } from './optimizers/sm3.js';
import { amosDefinition } from './optimizers/amos.js';
import { shampooDefinition } from './optimizers/shampoo.js';
import { adafactorDefinition } from './optimizers/adafactor.js';
import { scheduleFreeSgdDefinition } from './optimizers/schedule-free-sgd.js';
import { scheduleFreeAdamwDefinition } from './optimizers/schedule-free-adamw.js';
import { marsDefinition } from './optimizers/mars.js';
import { diffgradDefinition } from './optimizers/diffgrad.js';
import { adanormDefinition } from './optimizers/adanorm.js';
import { pnmDefinition } from './optimizers/pnm.js';
import { adoptDefinition } from './optimizers/adopt.js';
import { ademamixDefinition } from './optimizers/ademamix.js';
import { adapnmDefinition } from './optimizers/adapnm.js';
import { prodigyDefinition } from './optimizers/prodigy.js';
import { soapDefinition } from './optimizers/soap.js';

/**
 * Every optimizer core defines, by name. Backends look definitions up here; nothing registers itself as a
 * side effect of an import.
 *
 * @packageDocumentation
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- heterogeneous option types
type AnyDefinition = OptimizerDefinition<any>;

const list: readonly AnyDefinition[] = [
  sgdDefinition,
  adamDefinition,
  nagDefinition,
  adagradDefinition,
  adadeltaDefinition,
  rmspropDefinition,
  adamwDefinition,
  adamaxDefinition,
  nadamDefinition,
  radamDefinition,
  rpropDefinition,
  lambDefinition,
  larsDefinition,
  lionDefinition,
  signsgdDefinition,
  adamAtan2Definition,
  adabeliefDefinition,
  muonDefinition,
  muonWithAuxAdamDefinition,
  shampooDefinition,
  adafactorDefinition,
  muonTorchDefinition,
  sm3Definition,
  amosDefinition,
  scheduleFreeSgdDefinition,
  scheduleFreeAdamwDefinition,
  marsDefinition,
  diffgradDefinition,
  adanormDefinition,
  pnmDefinition,
  adoptDefinition,
  ademamixDefinition,
  adapnmDefinition,
  prodigyDefinition,
  soapDefinition,
];

/** All optimizer definitions, by name, in a stable order. */
export const definitions: ReadonlyMap<string, AnyDefinition> = new Map(list.map((d) => [d.name, d]));

/** The definition of an optimizer, or an error listing the known names. */
export function getDefinition(name: unknown): AnyDefinition {
  const def = typeof name === 'string' ? definitions.get(name) : undefined;
  if (!def) throw new OptionError(`unknown optimizer ${show(name)}; known optimizers: ${[...definitions.keys()].join(', ')}`);
  return def;
}

/** Builds a validated spec from a name and options, e.g. from JSON: `createSpec('adam', { lr: 1e-3 })`. */
export function createSpec(name: unknown, options?: unknown): OptimizerSpec {
  return makeSpec(getDefinition(name), options as Record<string, never>) as OptimizerSpec;
}
