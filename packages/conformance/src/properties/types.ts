import type fc from 'fast-check';
import type { ConformanceBackend, Tolerance } from '../adapter.js';
import type { AgreementStats } from '../compare.js';

/** The properties checked for every optimizer. */
export type PropertyName = 'one step' | 'drift' | 'missing gradient' | 'state transfer' | 'non-finite';

/** The properties the kit checks for every optimizer, in the order it runs them. */
export const propertyNames: readonly PropertyName[] = ['one step', 'drift', 'missing gradient', 'state transfer', 'non-finite'];

export interface PropertyContext {
  readonly backend: ConformanceBackend;
  readonly tolerance: Tolerance;
  /** Steps of the drift property. */
  readonly driftSteps: number;
  /** Collects agreement statistics. */
  readonly stats: AgreementStats;
  /** Gradient transforms the backend implements (drawn in front of the optimizers). */
  readonly transforms: readonly string[];
}

/** One property: random cases for an optimizer, and what must hold for each. */
export interface PropertyDefinition<I> {
  readonly name: PropertyName;
  /** One line on what it checks, for reports and the README. */
  readonly summary: string;
  arbitrary(optimizer: string, ctx: PropertyContext): fc.Arbitrary<I>;
  /** Throws a ConformanceFailure when the backend does not conform. */
  check(ctx: PropertyContext, input: I): Promise<void>;
  /** The case, for failure reports. */
  describe(input: I): string;
}
