import { accessSync, constants } from 'node:fs';

/** Debian's `chromium` package; `DESCENT_CHROMIUM` names another executable. Never a downloaded browser. */
export function chromiumPath(): string {
  return process.env.DESCENT_CHROMIUM || '/usr/bin/chromium';
}

/** Whether browser tests must run (CI sets `DESCENT_REQUIRE_BROWSER=1`) rather than be skipped with a reason. */
export function browserRequired(): boolean {
  return process.env.DESCENT_REQUIRE_BROWSER === '1';
}

/**
 * Whether the browser tests can run here. `available: false` comes with the reason, which a test reports as
 * its skip note, or as its failure when {@link browserRequired}.
 */
export function chromiumStatus(): { available: true; path: string } | { available: false; path: string; reason: string } {
  const path = chromiumPath();
  try {
    accessSync(path, constants.X_OK);
    return { available: true, path };
  } catch {
    return {
      available: false,
      path,
      reason: `${path} is missing or not executable (Debian: apt-get install chromium; or set DESCENT_CHROMIUM to another Chromium)`,
    };
  }
}
