import { DescentError } from '@descent/core';

/** A command's input (a replay file, a command-line value) is malformed; the message says where and why. */
export class InputError extends DescentError {
  override name = 'InputError';
}

/** The one line the CLI prints for an error: newlines folded so stderr always gets exactly one line. */
export function errorLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return `descent: ${message.replace(/\s*\n\s*/g, ' ').trim()}`;
}
