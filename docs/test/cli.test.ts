import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { docsRoot } from '../scripts/generate.js';

// The shell commands of the CLI guide, run as written from the repository root (one process each, as a user
// would), so the page cannot drift from the command's flags.
const repoRoot = resolve(docsRoot, '..');
const page = readFileSync(join(docsRoot, 'guide/cli.md'), 'utf8');
const commands = [...page.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => m[1]!.split('\n').filter((l) => l.startsWith('pnpm ')));

describe('the CLI guide', () => {
  it('shows a command of every subcommand', () => {
    const used = new Set(commands.map((c) => c.split(/\s+/)[3]));
    for (const sub of ['replay', 'race', 'memory', 'ns-coeffs', 'bench']) expect(used, sub).toContain(sub);
  });

  for (const command of commands) {
    it(command, () => {
      const [bin, ...args] = command.split(/\s+/);
      const out = execFileSync(bin!, args, { cwd: repoRoot, encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
      expect(out.length).toBeGreaterThan(0);
    });
  }
});
