import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { testFunctions, type TestFunction } from '@descent/core';
import { computeLandscape, formatValue, overviewGreys, type Domain, type Landscape, type Point, type Surface, type Trajectory } from '@descent/figures';
import { overviewPng, trajectoryGif, trajectoryPng } from '@descent/figures/node';
import { InputError } from './errors.js';
import { rateOption } from './race-config.js';
import type { RaceResult } from './race.js';

/**
 * `descent race --figures DIR`: the trajectory gallery. For every function × optimizer of a recorded race it writes
 * `<fn>_<optimizer>.gif` (the path drawn point by point on the log-scale contour, with a caption) and
 * `<fn>_<optimizer>.png` (its last frame); for every function `<fn>.png` (every optimizer's path on one grey
 * contour, with a legend); and `README.md`, a table of the pictures with each run's final f, distance to the
 * nearest minimum and the step it settled.
 *
 * @packageDocumentation
 */

/** How the gallery is drawn. */
export interface GallerySettings {
  /** Side of each trajectory plot in pixels. Default 300. */
  readonly size?: number;
  /** Frames per GIF. Default 60. */
  readonly frames?: number;
  /** What the README says about the run: steps, clipping, backend, where the rates came from, the command. */
  readonly description: readonly string[];
  /** Called after each file is written, with the number written so far and the total. */
  readonly onFile?: (done: number, total: number, file: string) => void;
}

/** A written gallery: the files, relative to its directory, and their sizes in bytes. */
export interface Gallery {
  readonly files: ReadonlyArray<{ readonly name: string; readonly bytes: number }>;
}


/** The figures' view of a test function. The plot shows the function's domain with a 3% margin, so that a start on its edge (Rosenbrock's) is not cut in half. */
export function surfaceOf(fn: TestFunction): Surface {
  const [[x0, x1], [y0, y1]] = fn.domain as unknown as Domain;
  const mx = 0.03 * (x1 - x0);
  const my = 0.03 * (y1 - y0);
  return {
    title: fn.title,
    value: (x, y) => fn.value([x, y]),
    domain: [
      [x0 - mx, x1 + mx],
      [y0 - my, y1 + my],
    ],
    minima: fn.minima.map((m) => [m[0], m[1]] as Point),
    minValue: fn.minValue,
  };
}

/** The caption detail of a run: its rate option and value. */
function rateDetail(r: RaceResult): string {
  const key = rateOption(r.optimizer);
  const rate = r.options[key];
  return typeof rate === 'number' ? `${key} ${formatValue(rate)}` : 'default options';
}

/** A recorded race result as figure data. */
export function trajectoryOf(r: RaceResult): Trajectory | undefined {
  if (r.trace === undefined || r.trace.points.length === 0) return undefined;
  return { label: r.optimizer, detail: rateDetail(r), points: r.trace.points, values: r.trace.values };
}

function cell(r: RaceResult): string {
  if (r.error !== undefined) return `error: ${r.error.replace(/\|/g, '\\|')}`;
  const image = `[<img src="${r.fn}_${r.optimizer}.gif" width="160" alt="${r.optimizer} on ${r.fn}">](${r.fn}_${r.optimizer}.gif)`;
  const stats =
    r.divergedAt !== undefined
      ? `diverged at step ${r.divergedAt}`
      : `f ${formatValue(r.value)} · d ${formatValue(r.distance)} · settled ${r.stepsToTol === null ? '—' : r.stepsToTol}`;
  return `${image}<br>${rateDetail(r)}<br>${stats}`;
}

/** The gallery's README: the settings, the overviews, then one row per optimizer and one column per function. */
export function galleryReadme(results: readonly RaceResult[], description: readonly string[]): string {
  const fns = [...new Set(results.map((r) => r.fn))];
  const optimizers = [...new Set(results.map((r) => r.optimizer))];
  const byKey = new Map(results.map((r) => [`${r.fn}/${r.optimizer}`, r]));
  const title = (f: string): string => testFunctions.get(f)?.title ?? f;
  const lines = ['# Trajectory gallery', '', ...description, ''];
  lines.push('"f" is the value at the last step, "d" the distance to the nearest global minimum there, "settled" the first step from which that distance stays within the tolerance to the end (— if never). Click a picture for its animation.', '');
  lines.push('## Every optimizer on one picture', '');
  for (const f of fns) lines.push(`![${title(f)}: every optimizer](${f}.png)`, '');
  lines.push('## One optimizer at a time', '');
  lines.push(`| optimizer | ${fns.map(title).join(' | ')} |`, `| --- | ${fns.map(() => '---').join(' | ')} |`);
  for (const o of optimizers) lines.push(`| ${o} | ${fns.map((f) => { const r = byKey.get(`${f}/${o}`); return r ? cell(r) : ''; }).join(' | ')} |`);
  return `${lines.join('\n')}\n`;
}

/** Writes the gallery of a recorded race (see the module comment) into `dir`, which must exist and be writable. */
export async function writeGallery(dir: string, results: readonly RaceResult[], settings: GallerySettings): Promise<Gallery> {
  const fns = [...new Set(results.map((r) => r.fn))];
  const drawable = results.filter((r) => trajectoryOf(r) !== undefined);
  const total = drawable.length * 2 + fns.length + 1;
  const files: Array<{ name: string; bytes: number }> = [];
  const put = async (name: string, data: Uint8Array | string): Promise<void> => {
    try {
      await writeFile(join(dir, name), data);
    } catch (err) {
      throw new InputError(`race --figures: cannot write ${JSON.stringify(join(dir, name))}: ${(err as Error).message}`);
    }
    files.push({ name, bytes: typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength });
    settings.onFile?.(files.length, total, name);
  };
  const options = { size: settings.size ?? 300, frames: settings.frames ?? 60 };
  for (const f of fns) {
    const fn = testFunctions.get(f) as TestFunction;
    const surface = surfaceOf(fn);
    const coloured: Landscape = computeLandscape(surface);
    const runs = drawable.filter((r) => r.fn === f);
    for (const r of runs) {
      const t = trajectoryOf(r) as Trajectory;
      await put(`${f}_${r.optimizer}.gif`, trajectoryGif(coloured, t, options));
      await put(`${f}_${r.optimizer}.png`, trajectoryPng(coloured, t, options));
    }
    const steps = Math.max(0, ...runs.map((r) => (r.trace?.points.length ?? 1) - 1));
    const greys = computeLandscape(surface, { colors: overviewGreys });
    await put(`${f}.png`, overviewPng(greys, runs.map((r) => trajectoryOf(r) as Trajectory), `${fn.title}: ${runs.length} optimizers, ${steps} steps`));
  }
  await put('README.md', galleryReadme(results, settings.description));
  return { files };
}
