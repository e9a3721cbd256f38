import { clipGradNormDefinition } from './clip-grad-norm.js';
import type { AnyTransformDefinition, TransformSpec } from './transform.js';
import type { Tensor } from '../tensor.js';

export * from './transform.js';
export * from './clip-grad-norm.js';

const list: readonly AnyTransformDefinition[] = [clipGradNormDefinition];

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
