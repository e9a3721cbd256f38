import type { AdamwOptions } from '@descent/core';
import { adamFamilyBound } from './adam.js';
import type { BoundContext, BoundResult } from './tensor.js';

/** AdamW (core/src/optimizers/adamw.ts): Adam's bounds with θ first multiplied by the host scalar 1 − ηλ. */
export const adamwBound = (ctx: BoundContext<AdamwOptions>): BoundResult => adamFamilyBound(ctx, true);
