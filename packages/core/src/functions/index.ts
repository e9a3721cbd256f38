import { beale } from './beale.js';
import { himmelblau } from './himmelblau.js';
import { quadratic } from './quadratic.js';
import { rastrigin } from './rastrigin.js';
import { rosenbrock } from './rosenbrock.js';
import type { TestFunction } from './types.js';

export * from './types.js';
export * from './rosenbrock.js';
export * from './rastrigin.js';
export * from './beale.js';
export * from './himmelblau.js';
export * from './quadratic.js';

/** Every test function, by name, in a stable order (the order `descent race` prints them). */
export const testFunctions: ReadonlyMap<string, TestFunction> = new Map(
  [rosenbrock, rastrigin, beale, himmelblau, quadratic].map((f) => [f.name, f]),
);
