import type { ConformanceBackend } from './adapter.js';
import { planConformance } from './plan.js';

/**
 * The known gaps a backend declares, as the conformance kit plans them, without running anything: shared by the
 * documentation site (the "known gaps" sections of its optimizer and transform pages) and `descent optimizers`.
 *
 * @packageDocumentation
 */

/** A backend configuration to plan the kit for, with a label for people ("gpu.js webasm, cpu"). */
export interface GapConfiguration {
  readonly label: string;
  readonly backend: ConformanceBackend;
}

/** One declared gap: where (the configuration's label), the check id and the reason given. */
export interface DeclaredGap {
  readonly where: string;
  readonly id: string;
  readonly reason: string;
}

/**
 * A {@link ConformanceBackend} that can only be planned (its `create` throws): what a backend's registries
 * (`supportedOptimizers`, `supportedTransforms`, `knownGaps`) say, without a backend instance.
 */
export function plannedBackend(
  name: string,
  registries: Pick<ConformanceBackend, 'supportedOptimizers' | 'supportedTransforms' | 'knownGaps'>,
): ConformanceBackend {
  return {
    name,
    ...registries,
    create: () => {
      throw new Error(`${name}: a backend description for planning only; it cannot run conformance checks`);
    },
  };
}

/** Gaps the conformance kit's plan declares for checks whose id starts with `prefix`, per configuration. */
export function declaredGaps(configurations: readonly GapConfiguration[], prefix = ''): DeclaredGap[] {
  const out: DeclaredGap[] = [];
  for (const { label, backend } of configurations) {
    for (const c of planConformance(backend, { validation: true })) {
      if (c.gap !== undefined && c.id.startsWith(prefix)) out.push({ where: label, id: c.id, reason: c.gap });
    }
  }
  return out;
}
