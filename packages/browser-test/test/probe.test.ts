import { it } from 'vitest';
import { runInChromium } from '/work/main/packages/browser-test/src/index.js';
it('probe', async () => {
  const r = await runInChromium({ entry: '/work/main/packages/browser-test/test/entries/wgpu-probe.ts', webgpu: true, bundle: { empty: ['node:module'] } } as never);
  console.log(JSON.stringify(r, null, 1).slice(0, 3000));
}, 120000);
