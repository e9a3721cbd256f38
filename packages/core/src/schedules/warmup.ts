import { OptionError } from '../errors.js';
import { opt, type NumberOption } from '../options.js';

// Shared parts of the warmup schedules (warmupCosine, warmupLinear, wsd).

/** Options every warmup schedule shares. */
export const warmupSchema = {
  warmupSteps: opt.number(0, 'Number of warmup steps W (0: no warmup).', { min: { value: 0 }, integer: true }),
  warmupStartFactor: opt.unitClosed(0, 'Factor of the learning rate at the first step of the warmup.'),
  finalFactor: opt.unitClosed(0, 'Factor of the learning rate at the end of the decay, kept afterwards.'),
} as const satisfies Record<string, NumberOption>;

/** Factor of the linear warmup at step n < W: from s at n = 0 towards 1 at n = W. */
export function warmupFactor(s: number, n: number, w: number): number {
  return s + ((1 - s) * n) / w;
}

/** Requires `warmupSteps + decay ≤ totalSteps`, naming the options. */
export function checkPhases(where: string, warmupSteps: number, totalSteps: number, decaySteps?: number): void {
  if (decaySteps === undefined) {
    if (warmupSteps >= totalSteps) {
      throw new OptionError(`${where}: option "warmupSteps" must be less than totalSteps (${totalSteps}), got ${warmupSteps}`);
    }
  } else if (warmupSteps + decaySteps > totalSteps) {
    throw new OptionError(
      `${where}: options "warmupSteps" + "decaySteps" must be at most totalSteps (${totalSteps}), got ${warmupSteps} + ${decaySteps} = ${warmupSteps + decaySteps}`,
    );
  }
}
