import { constantDefinition } from './constant.js';
import type { AnyScheduleDefinition, ScheduleSpec } from './schedule.js';

export * from './schedule.js';
export * from './constant.js';

const list: readonly AnyScheduleDefinition[] = [constantDefinition];

/** Every schedule core defines, by name. */
export const scheduleDefinitions: ReadonlyMap<string, AnyScheduleDefinition> = new Map(list.map((d) => [d.name, d]));

/** Learning rate after n applied steps for a group whose configured learning rate is baseLr. */
export function scheduledLr(schedule: ScheduleSpec, baseLr: number, n: number): number {
  return scheduleDefinitions.get(schedule.name)!.lrAt(schedule.options, baseLr, n);
}
