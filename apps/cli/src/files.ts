import { constants } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import { InputError } from './errors.js';

/** Refuses a directory that cannot be created or written (`what` names the option in the message), before any work. */
export async function checkWritableDir(dir: string, what = 'race --figures'): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    await access(dir, constants.W_OK);
  } catch (err) {
    throw new InputError(`${what}: cannot write to ${JSON.stringify(dir)}: ${(err as Error).message}`);
  }
}
