import cliProgress from 'cli-progress';

/** A progress display for a long command: updated with work done of a total and a label, stopped at the end. */
export interface Progress {
  update(done: number, total: number, label: string): void;
  stop(): void;
}

/** A progress display that shows nothing (output that is not a terminal, tests). */
export const noProgress: Progress = { update() {}, stop() {} };

/** A cli-progress bar on stderr, or {@link noProgress} when stderr is not a terminal (a log file should not fill with bars). */
export function stderrProgress(title: string): Progress {
  if (!process.stderr.isTTY) return noProgress;
  const bar = new cliProgress.SingleBar(
    {
      format: `${title} [{bar}] {value}/{total} {label} | {duration_formatted} elapsed, eta {eta_formatted}`,
      stream: process.stderr,
      hideCursor: true,
      barsize: 24,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total, label) {
      if (!started) {
        bar.start(total, 0, { label });
        started = true;
      }
      bar.setTotal(total);
      bar.update(done, { label });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
