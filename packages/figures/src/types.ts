/**
 * The data the figures are drawn from. Everything here is plain data (numbers and strings), so a trajectory
 * recorded by the CLI, computed live in a page or loaded from JSON draws the same picture.
 *
 * @packageDocumentation
 */

/** A point of the plane, `[x, y]`. */
export type Point = readonly [number, number];

/** A rectangle of the plane: `[[xMin, xMax], [yMin, yMax]]`. */
export type Domain = readonly [readonly [number, number], readonly [number, number]];

/** What a figure needs to know of a 2-D test function. */
export interface Surface {
  /** Shown in titles, e.g. "Rosenbrock". */
  readonly title: string;
  /** f(x, y). */
  readonly value: (x: number, y: number) => number;
  /** The rectangle to draw. */
  readonly domain: Domain;
  /** The global minima, marked on the picture. */
  readonly minima: readonly Point[];
  /** f at the global minima; the colour scale is logarithmic in f − minValue. */
  readonly minValue: number;
}

/** One optimizer's path: the iterates θ₀ (the start), θ₁, …, θ_T and f at each. */
export interface Trajectory {
  /** The optimizer, e.g. "adam". */
  readonly label: string;
  /** Shown after the label in captions and legends, e.g. "lr 0.0562". */
  readonly detail?: string;
  /** θ₀ … θ_T; `points.length` = steps + 1. A run that diverged ends at its last finite point. */
  readonly points: readonly Point[];
  /** f(θ₀) … f(θ_T), the same length as `points`. */
  readonly values: readonly number[];
  /** The step number of each point when they are not 0, 1, …, T (snapshots of a longer run); captions show these. */
  readonly steps?: readonly number[];
}

/** The few Canvas 2D calls the figures use: a browser's `CanvasRenderingContext2D` and @napi-rs/canvas's context both have them. */
export interface Context2D {
  fillStyle: unknown;
  strokeStyle: unknown;
  lineWidth: number;
  lineJoin: string;
  lineCap: string;
  font: string;
  textAlign: string;
  textBaseline: string;
  globalAlpha: number;
  save(): void;
  restore(): void;
  beginPath(): void;
  closePath(): void;
  moveTo(x: number, y: number): void;
  lineTo(x: number, y: number): void;
  arc(x: number, y: number, r: number, start: number, end: number): void;
  rect(x: number, y: number, w: number, h: number): void;
  clip(): void;
  fill(rule?: 'nonzero' | 'evenodd'): void;
  stroke(): void;
  fillRect(x: number, y: number, w: number, h: number): void;
  strokeRect(x: number, y: number, w: number, h: number): void;
  fillText(text: string, x: number, y: number): void;
  measureText(text: string): { width: number };
}
