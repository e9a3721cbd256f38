import { adaptiveClipDefinition } from './adaptive-clip.js';
import { centralizeDefinition } from './centralize.js';
import { clipGradNormDefinition } from './clip-grad-norm.js';
import { clipGradValueDefinition } from './clip-grad-value.js';
import { softClipDefinition } from './soft-clip.js';
import type { AnyTransformDefinition, TransformSpec } from './transform.js';
import type { Tensor } from '../tensor.js';

export * from './transform.js';
export * from './clip-grad-norm.js';
export * from './clip-grad-value.js';
export * from './adaptive-clip.js';
export * from './soft-clip.js';
export * from './centralize.js';

const list: readonly AnyTransformDefinition[] = [
  clipGradNormDefinition,
  clipGradValueDefinition,
  adaptiveClipDefinition,
  softClipDefinition,
  centralizeDefinition,
];

/** Every gradient transform core defines, by name. */
export const transformDefinitions: ReadonlyMap<string, AnyTransformDefinition> = new Map(list.map((d) => [d.name, d]));

/** Applies transforms in order with their Float64 reference definitions, rewriting `grads` in place. */
export function applyTransformsReference(
  transforms: readonly TransformSpec[],
  grads: ReadonlyMap<string, Float64Array>,
  params: ReadonlyMap<string, Tensor>,
): void {
  for (const t of transforms) transformDefinitions.get(t.name)!.apply(t.options, grads, params);
}
