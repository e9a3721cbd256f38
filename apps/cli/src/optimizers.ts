import { definitions, transformDefinitions } from '@descent/core';
import { declaredGaps, plannedBackend, type DeclaredGap, type GapConfiguration } from '@descent/conformance';
import * as tfjs from '@descent/backend-tfjs';
import * as gpujs from '@descent/backend-gpujs';
import { renderTable } from './table.js';

/**
 * `descent optimizers`: every optimizer and gradient transform of core's registries, with its family (an
 * optimizer's `kind`, a transform's `scope`), the backends whose own kernel registries run it, and the known gaps
 * the backends declare, as the conformance kit plans them (the same list the documentation site shows).
 *
 * @packageDocumentation
 */

/**
 * The backend configurations the conformance kit runs on, described by the backends' own registries
 * (`supportedOptimizers`, `supportedTransforms`, `knownGaps`, the shader modes' `shaderKnownGaps`).
 */
export function backendConfigurations(): GapConfiguration[] {
  const tf = plannedBackend('tfjs', { supportedOptimizers: tfjs.supportedOptimizers, supportedTransforms: () => Object.keys(tfjs.transformKernels) });
  const gjs = plannedBackend('gpujs', { supportedOptimizers: gpujs.supportedOptimizers, supportedTransforms: gpujs.supportedTransforms, knownGaps: gpujs.knownGaps });
  const gl = plannedBackend('gpujs-gl', {
    supportedOptimizers: gpujs.supportedOptimizers,
    supportedTransforms: gpujs.supportedTransforms,
    knownGaps: { ...gpujs.knownGaps, ...gpujs.shaderKnownGaps },
  });
  return [
    { label: 'TF.js (every TF.js backend)', backend: tf },
    { label: 'gpu.js webasm, cpu', backend: gjs },
    { label: 'gpu.js headlessgl, webgl2, webgpu', backend: gl },
  ];
}

/** One row of `descent optimizers`. */
export interface CatalogEntry {
  readonly type: 'optimizer' | 'transform';
  readonly name: string;
  readonly title: string;
  /** An optimizer's kind (`elementwise`, `tensor`, `matrix`) or a transform's scope (`tensor`, `global`). */
  readonly family: string;
  /** `reference` and each backend package whose kernel registry has it (`tfjs`, `gpujs`). */
  readonly backends: readonly string[];
  /** Known gaps by check id, with where they apply and why. */
  readonly gaps: readonly DeclaredGap[];
}

/** Every optimizer, then every transform, in the registries' order. */
export function optimizerCatalog(): CatalogEntry[] {
  const configurations = backendConfigurations();
  const tfOptimizers = new Set(tfjs.supportedOptimizers());
  const gpuOptimizers = new Set(gpujs.supportedOptimizers());
  const tfTransforms = new Set(Object.keys(tfjs.transformKernels));
  const gpuTransforms = new Set(gpujs.supportedTransforms());
  const runs = (name: string, tf: Set<string>, gpu: Set<string>): string[] => ['reference', ...(tf.has(name) ? ['tfjs'] : []), ...(gpu.has(name) ? ['gpujs'] : [])];
  const out: CatalogEntry[] = [];
  for (const d of definitions.values()) {
    out.push({ type: 'optimizer', name: d.name, title: d.title, family: d.kind, backends: runs(d.name, tfOptimizers, gpuOptimizers), gaps: declaredGaps(configurations, `${d.name}/`) });
  }
  for (const t of transformDefinitions.values()) {
    out.push({ type: 'transform', name: t.name, title: t.title, family: t.scope, backends: runs(t.name, tfTransforms, gpuTransforms), gaps: declaredGaps(configurations, `transforms/${t.name}`) });
  }
  return out;
}

/** The catalog as a table: one line per optimizer or transform, its gaps by check id and where. */
export function formatCatalog(entries: readonly CatalogEntry[]): string {
  const gapCell = (gaps: readonly DeclaredGap[]): string => {
    if (gaps.length === 0) return '—';
    const byWhere = new Map<string, string[]>();
    for (const g of gaps) byWhere.set(g.where, [...(byWhere.get(g.where) ?? []), g.id]);
    return [...byWhere].map(([where, ids]) => `${ids.join(', ')} (${where})`).join('; ');
  };
  const rows = entries.map((e) => [e.type, e.name, e.family, e.backends.join(', '), gapCell(e.gaps)]);
  return `${renderTable(['type', 'name', 'family', 'backends', 'known gaps'].map((header) => ({ header })), rows)}\n`;
}
