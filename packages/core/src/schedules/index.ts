import { constantDefinition } from './constant.js';
import { cosineDefinition } from './cosine.js';
import { exponentialDefinition } from './exponential.js';
import { linearDefinition } from './linear.js';
import { multiStepDefinition } from './multi-step.js';
import { oneCycleDefinition } from './one-cycle.js';
import { polynomialDefinition } from './polynomial.js';
import type { AnyScheduleDefinition, ScheduleSpec } from './schedule.js';
import { sequenceDefinition } from './sequence.js';
import { stepDefinition } from './step.js';
import { warmupCosineDefinition } from './warmup-cosine.js';
import { warmupLinearDefinition } from './warmup-linear.js';
import { wsdDefinition } from './wsd.js';

export * from './schedule.js';
export * from './constant.js';
export * from './step.js';
export * from './multi-step.js';
export * from './exponential.js';
export * from './cosine.js';
export * from './warmup-cosine.js';
export * from './warmup-linear.js';
export * from './one-cycle.js';
export * from './wsd.js';
export * from './polynomial.js';
export * from './linear.js';
export * from './sequence.js';

const list: readonly AnyScheduleDefinition[] = [
  constantDefinition,
  stepDefinition,
  multiStepDefinition,
  exponentialDefinition,
  cosineDefinition,
  warmupCosineDefinition,
  warmupLinearDefinition,
  oneCycleDefinition,
  wsdDefinition,
  polynomialDefinition,
  linearDefinition,
  sequenceDefinition,
];

/** Every schedule core defines, by name. */
export const scheduleDefinitions: ReadonlyMap<string, AnyScheduleDefinition> = new Map(list.map((d) => [d.name, d]));

/** Learning rate after n applied steps for a group whose configured learning rate is baseLr. */
export function scheduledLr(schedule: ScheduleSpec, baseLr: number, n: number): number {
  return scheduleDefinitions.get(schedule.name)!.lrAt(schedule.options, baseLr, n);
}
