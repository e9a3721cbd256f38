import cliProgress from 'cli-progress';

/** A progress display for a long command: updated with work done of a total and a label, stopped at the end. */
export interface Progress {
  update(done: number, total: number, label: string): void;
  stop(): void;
}

/** A progress display that shows nothing (output that is not a terminal, tests). */
export const noProgress: Progress = { update() {}, stop() {} };

/**
 * A cli-progress bar on stderr; when stderr is not a terminal (a log file should not fill with bars), a plain line
 * at most once a minute, so that a long run started with nohup still says how far it is.
 */
export function stderrProgress(title: string): Progress {
  if (!process.stderr.isTTY) return lineProgress(title, (line) => process.stderr.write(line), 60_000);

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

/** Progress as a line `title: done/total label` written at most every `everyMs` (none before the first interval). */
export function lineProgress(title: string, write: (line: string) => void, everyMs: number, now: () => number = Date.now): Progress {
  let last = now();
  return {
    update(done, total, label) {
      const t = now();
      if (t - last < everyMs) return;
      last = t;
      write(`${title}: ${done}/${total} ${label}\n`);
    },
    stop() {},
  };
}
