/**
 * `@descent/conformance`: fast-check properties any descent backend must satisfy against the Float64 reference
 * of `@descent/core`. Implement a {@link ConformanceBackend} adapter, then run {@link checkConformance} (any
 * test runner, or none) or `describeConformance` from `@descent/conformance/vitest`.
 *
 * @packageDocumentation
 * @module @descent/conformance
 */
export * from './adapter.js';
export { checkConformance, type ConformanceReport } from './check.js';
export { declaredGaps, plannedBackend, type DeclaredGap, type GapConfiguration } from './gaps.js';
export { planConformance, propertySummaries, type CheckResult, type ConformanceOptions, type PlannedCheck } from './plan.js';
export { propertyNames, type PropertyName } from './properties/types.js';
export type { AgreementStats } from './compare.js';
export { referenceBackend } from './reference-backend.js';
export { validationRows, optimizerRows, type ValidationRow } from './validation.js';
export { robustnessChecks, hostileNames, type RobustnessCheck } from './robustness.js';
export { boundFunctions, newtonSchulzTolerance, Arith, U32, type BoundContext, type BoundFunction, type BoundResult, type TensorBound, type Tracked } from './bounds/index.js';
export { lookaheadArbitrary, optionsArbitrary, problemArbitrary, scheduleArbitrary, shapeArbitrary, type Problem } from './arbitraries.js';
