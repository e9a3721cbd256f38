import { describe, expect, it } from 'vitest';
import { definitions, transformDefinitions } from '@descent/core';
import { kernels as tfjsKernels, transformKernels as tfjsTransforms } from '@descent/backend-tfjs';
import { kernels as gpujsKernels, shaderKnownGaps, supportedTransforms } from '@descent/backend-gpujs';
import { optimizerCatalog, type CatalogEntry } from '../src/optimizers.js';
import { cli } from './run-cli.js';

describe('descent optimizers', () => {
  it('lists every optimizer and transform of the registries, with the family from the definitions', () => {
    const entries = optimizerCatalog();
    expect(entries.filter((e) => e.type === 'optimizer').map((e) => e.name)).toEqual([...definitions.keys()]);
    expect(entries.filter((e) => e.type === 'transform').map((e) => e.name)).toEqual([...transformDefinitions.keys()]);
    for (const e of entries) {
      if (e.type === 'optimizer') expect(e.family, e.name).toBe(definitions.get(e.name)!.kind);
      else expect(e.family, e.name).toBe(transformDefinitions.get(e.name)!.scope);
    }
  });

  it("names the backends from each backend's own kernel registry", () => {
    for (const e of optimizerCatalog()) {
      const tf = e.type === 'optimizer' ? e.name in tfjsKernels : e.name in tfjsTransforms;
      const gpu = e.type === 'optimizer' ? e.name in gpujsKernels : supportedTransforms().includes(e.name);
      expect(e.backends, e.name).toEqual(['reference', ...(tf ? ['tfjs'] : []), ...(gpu ? ['gpujs'] : [])]);
    }
  });

  it("lists the gaps the conformance kit's plan declares, by check id, with where and why", () => {
    const byName = new Map(optimizerCatalog().map((e): [string, CatalogEntry] => [e.name, e]));
    const adam = byName.get('adam')!;
    expect(adam.gaps).toContainEqual({ where: 'gpu.js headlessgl, webgl2, webgpu', id: 'adam/non-finite', reason: shaderKnownGaps['adam/non-finite'] });
    for (const e of byName.values()) for (const g of e.gaps) expect(g.id.startsWith(e.type === 'optimizer' ? `${e.name}/` : `transforms/${e.name}`)).toBe(true);
  });

  it('prints a table, or JSON with --json', async () => {
    const text = await cli(['optimizers']);
    expect(text.code).toBe(0);
    expect(text.stdout.split('\n')[0]).toMatch(/^type +name +family +backends +known gaps$/);
    for (const name of definitions.keys()) expect(text.stdout).toMatch(new RegExp(`\\noptimizer +${name} +`));
    expect(text.stdout).toMatch(/\noptimizer +diffgrad +elementwise +reference, tfjs, gpujs +diffgrad\/non-finite \(gpu\.js headlessgl, webgl2, webgpu\)\n/);
    const json = await cli(['optimizers', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(JSON.parse(JSON.stringify(optimizerCatalog())));
  });
});
