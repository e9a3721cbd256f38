/**
 * Finds the code snippets of the site's markdown so the tests can run them. Every ```ts block is a snippet; one
 * that cannot run in Node (a browser-only API) is marked on the line above it with
 * `<!-- not runnable: <reason> -->` and is reported, not run.
 */

/** One ```ts block of a page. */
export interface Snippet {
  /** Page path relative to the docs root. */
  readonly page: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly code: string;
  /** Why it is not run, when it is marked so. */
  readonly notRunnable?: string;
}

const marker = /^<!--\s*not runnable:\s*(.+?)\s*-->$/;

/** The ```ts / ```typescript blocks of a markdown page, in order. */
export function extractSnippets(page: string, markdown: string): Snippet[] {
  const lines = markdown.split('\n');
  const out: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(ts|typescript)\b/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^\s*```\s*$/.test(lines[i]!); i++) body.push(lines[i]!.slice(open[1]!.length));
    if (i >= lines.length) throw new Error(`${page}:${start + 1}: unclosed code block`);
    let prev = start - 1;
    while (prev >= 0 && lines[prev]!.trim() === '') prev--;
    const mark = prev >= 0 ? marker.exec(lines[prev]!.trim()) : null;
    out.push({ page, line: start + 1, code: body.join('\n') + '\n', ...(mark ? { notRunnable: mark[1]! } : {}) });
  }
  return out;
}
