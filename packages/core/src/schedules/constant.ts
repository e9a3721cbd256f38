import { makeScheduleSpec, type ScheduleDefinition, type ScheduleSpec } from './schedule.js';

/**
 * The constant schedule: η_n = η for every step n. The default when no schedule is given.
 */
export const constantDefinition: ScheduleDefinition<Record<string, never>> = {
  name: 'constant',
  title: 'Constant',
  schema: {},
  lrAt: (_o, baseLr) => baseLr,
};

/** A constant learning rate; see {@link constantDefinition}. */
export function constant(): ScheduleSpec {
  return makeScheduleSpec(constantDefinition, {});
}
