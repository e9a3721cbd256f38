/**
 * `@descent/core`: the backend-agnostic optimizer interface and the Float64 reference of every descent
 * optimizer.
 *
 * @packageDocumentation
 * @module @descent/core
 */
export * from './errors.js';
export * from './tensor.js';
export * from './records.js';
export * from './options.js';
export * from './definition.js';
export * from './state.js';
export * from './optimizer.js';
export * from './reference.js';
export * from './registry.js';
export * from './compose.js';
export * from './transforms/index.js';
export * from './schedules/index.js';
export * from './optimizers/index.js';
export * from './functions/index.js';
export * from './linalg/index.js';
export * from './math.js';
