/** Browser entry for the harness's own tests: no TF.js, just the call protocol. */

export function double({ values }: { values: number[] }): { doubled: number[]; special: number[] } {
  console.log(`doubling ${values.length} values`);
  return { doubled: values.map((x) => 2 * x), special: [Number.NaN, Number.POSITIVE_INFINITY, -0] };
}

export async function later(ms: number): Promise<string> {
  await new Promise((ok) => setTimeout(ok, ms));
  return `waited ${ms} ms`;
}

export function fail(): never {
  throw new RangeError('fail() was asked to fail');
}

export function hang(): Promise<never> {
  return new Promise(() => undefined);
}

/** Whether the page is a secure context (WebGPU needs one; 127.0.0.1 is). */
export function secure(): boolean {
  return (globalThis as { isSecureContext?: boolean }).isSecureContext === true;
}
