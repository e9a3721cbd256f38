/** Stands in for `node:module` in the page: backend-gpujs asks it for headless-gl, which a browser never has. */
export function createRequire(): (id: string) => never {
  return (id: string) => {
    throw new Error(`${id} cannot be loaded in a browser`);
  };
}
