import { scaleLinear, type ScaleLinear } from 'd3-scale';
import type { Domain, Point } from './types.js';

/** Where a domain is drawn: a rectangle of pixels, with y pointing up in data and down on the canvas. */
export interface View {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
  readonly x: ScaleLinear<number, number>;
  readonly y: ScaleLinear<number, number>;
}

/** A view of `domain` on the pixel rectangle (left, top, width, height). */
export function makeView(domain: Domain, left: number, top: number, width: number, height: number): View {
  const [[x0, x1], [y0, y1]] = domain;
  return {
    left,
    top,
    width,
    height,
    x: scaleLinear().domain([x0, x1]).range([left, left + width]),
    y: scaleLinear().domain([y0, y1]).range([top + height, top]),
  };
}

/** The pixel of a data point. */
export function toPixel(view: View, p: Point): [number, number] {
  return [view.x(p[0]), view.y(p[1])];
}
