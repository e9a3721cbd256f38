import type { PlaygroundBackend } from './engine.js';

/**
 * The page's state, kept in the URL's fragment as JSON so that a link reproduces the race exactly.
 *
 * @packageDocumentation
 */

/** One optimizer in the race, with the options that differ from its defaults. */
export interface Racer {
  readonly optimizer: string;
  readonly options: Readonly<Record<string, unknown>>;
}

/** Everything the race depends on. */
export interface PlaygroundState {
  /** A built-in function name, or `custom`. */
  readonly fn: string;
  /** The expression, when `fn` is `custom`. */
  readonly expr: string;
  /** The domain of a custom expression: [[x0, x1], [y0, y1]]. */
  readonly domain: readonly [readonly [number, number], readonly [number, number]];
  /** Where the race starts; null for the function's usual start. */
  readonly start: readonly [number, number] | null;
  readonly backend: PlaygroundBackend;
  readonly steps: number;
  /** maxNorm of gradient clipping before every step (the seeds' pictures: 1); null for none. */
  readonly clip: number | null;
  readonly racers: readonly Racer[];
}

export const DEFAULT_STATE: PlaygroundState = {
  fn: 'rosenbrock',
  expr: 'x^2 + 3 * y^2 + sin(3 * x)',
  domain: [
    [-3, 3],
    [-3, 3],
  ],
  start: null,
  backend: 'reference',
  steps: 300,
  clip: 1,
  racers: [
    { optimizer: 'adam', options: {} },
    { optimizer: 'lion', options: {} },
  ],
};

/** The fragment for `state`. */
export function toHash(state: PlaygroundState): string {
  return `#${encodeURIComponent(JSON.stringify(state))}`;
}

/** The state a fragment holds, over the defaults (an unreadable fragment gives the defaults). */
export function fromHash(hash: string): PlaygroundState {
  if (hash.length <= 1) return DEFAULT_STATE;
  try {
    const parsed = JSON.parse(decodeURIComponent(hash.slice(1))) as Partial<PlaygroundState>;
    return { ...DEFAULT_STATE, ...parsed };
  } catch {
    return DEFAULT_STATE;
  }
}
