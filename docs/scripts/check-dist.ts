/**
 * Runs after `vitepress build`: every page of the built site must have its math rendered. Fails (exit 1) on a
 * page whose text (outside code) still holds `$$`, or that holds a KaTeX error node, and on an optimizer page
 * without a rendered display formula. VitePress itself fails the build on dead internal links.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { distDir } from './generate.js';

/** Problems of one built HTML page (empty when it is fine). */
export function pageProblems(path: string, html: string): string[] {
  const text = html
    .replace(/<script[\s\S]*?<\/script>/g, '')
    .replace(/<pre[\s\S]*?<\/pre>/g, '')
    .replace(/<code[\s\S]*?<\/code>/g, '')
    .replace(/<annotation[\s\S]*?<\/annotation>/g, '');
  const problems: string[] = [];
  if (text.includes('$$')) problems.push('raw $$ left in the text (math not rendered)');
  if (html.includes('katex-error')) problems.push('KaTeX could not render a formula (katex-error)');
  if (/^optimizers\/(?!index)[^/]+\.html$/.test(path) && !html.includes('katex-display')) problems.push('no rendered update rule');
  return problems;
}

function htmlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? htmlFiles(p) : f.endsWith('.html') ? [p] : [];
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const files = htmlFiles(distDir);
  let bad = 0;
  for (const file of files) {
    const path = relative(distDir, file);
    for (const p of pageProblems(path, readFileSync(file, 'utf8'))) {
      console.error(`${path}: ${p}`);
      bad++;
    }
  }
  console.log(`checked ${files.length} pages of ${distDir}: ${bad} problems`);
  if (files.length < 40 || bad > 0) process.exit(1);
}
