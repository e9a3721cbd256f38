/**
 * Reads the TSDoc of core's definition files with the TypeScript compiler API (no regexes over source): for each
 * `export const <x>Definition = …({ name: '…' })` the comment above it, the factory that builds specs from it
 * (the exported function whose body refers to the definition) with its own comment and `@example`, and the
 * per-property comments of the options interfaces in the same file.
 */
import ts from 'typescript';
import { readFileSync } from 'node:fs';

/** A TSDoc comment split into its summary text and its block tags. */
export interface DocComment {
  /** The text before the first block tag, with `{@link x}` kept as written. */
  readonly text: string;
  /** `@example` bodies, fences included. */
  readonly examples: readonly string[];
}

/** What one definition file documents about one definition. */
export interface DefinitionDoc {
  /** The `name` of the definition's object literal (the registry name). */
  readonly name: string;
  /** The exported variable holding the definition (`adamDefinition`). */
  readonly variable: string;
  readonly file: string;
  /** The comment on the definition. */
  readonly doc: DocComment;
  /** The factory function (`adam`) and its comment, when the file has one. */
  readonly factory?: { readonly name: string; readonly doc: DocComment };
  /** TSDoc of each property of the file's `…Options` interfaces, by property name. */
  readonly optionDocs: ReadonlyMap<string, string>;
}

/** TSDoc of a node: summary text and `@example` blocks (TypeScript has already removed the ` * ` prefixes). */
export function docOf(node: ts.Node): DocComment | undefined {
  const docs = ts.getJSDocCommentsAndTags(node).filter(ts.isJSDoc);
  const doc = docs[docs.length - 1];
  if (!doc) return undefined;
  const text = ts.getTextOfJSDocComment(doc.comment) ?? '';
  const examples = (doc.tags ?? []).filter((t) => t.tagName.text === 'example').map((t) => (ts.getTextOfJSDocComment(t.comment) ?? '').trim());
  return { text: text.trim(), examples };
}

function isExported(node: ts.Node): boolean {
  return ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
}

/** The `name: '…'` of the first object literal in an initializer (directly, or as a call's argument). */
function definitionName(init: ts.Expression): string | undefined {
  let found: string | undefined;
  const visit = (n: ts.Node): void => {
    if (found !== undefined) return;
    if (ts.isObjectLiteralExpression(n)) {
      for (const p of n.properties) {
        if (ts.isPropertyAssignment(p) && ts.isIdentifier(p.name) && p.name.text === 'name' && ts.isStringLiteralLike(p.initializer)) {
          found = p.initializer.text;
          return;
        }
      }
      return;
    }
    ts.forEachChild(n, visit);
  };
  visit(init);
  return found;
}

function mentions(node: ts.Node, identifier: string): boolean {
  let hit = false;
  const visit = (n: ts.Node): void => {
    if (hit) return;
    if (ts.isIdentifier(n) && n.text === identifier) hit = true;
    else ts.forEachChild(n, visit);
  };
  visit(node);
  return hit;
}

/** Every definition in one source file, with its documentation. */
export function readDefinitionDocs(file: string): DefinitionDoc[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const optionDocs = new Map<string, string>();
  const functions: ts.FunctionDeclaration[] = [];
  const found: Array<{ name: string; variable: string; doc: DocComment }> = [];
  for (const st of source.statements) {
    if (!isExported(st)) continue;
    if (ts.isInterfaceDeclaration(st) && st.name.text.endsWith('Options')) {
      for (const m of st.members) {
        if (!m.name || !ts.isIdentifier(m.name)) continue;
        const d = docOf(m);
        if (d && !optionDocs.has(m.name.text)) optionDocs.set(m.name.text, d.text);
      }
    } else if (ts.isFunctionDeclaration(st) && st.name) {
      functions.push(st);
    } else if (ts.isVariableStatement(st)) {
      for (const decl of st.declarationList.declarations) {
        if (!ts.isIdentifier(decl.name) || !decl.name.text.endsWith('Definition') || !decl.initializer) continue;
        const name = definitionName(decl.initializer);
        const doc = docOf(decl);
        if (name && doc) found.push({ name, variable: decl.name.text, doc });
      }
    }
  }
  return found.map((d) => {
    const f = functions.find((fn) => fn.body && mentions(fn.body, d.variable));
    const fdoc = f && docOf(f);
    return { ...d, file, optionDocs, ...(f && fdoc ? { factory: { name: f.name!.text, doc: fdoc } } : {}) };
  });
}

/** The comment and `@example`s of one exported function of a file (Lookahead's `lookahead` in compose.ts). */
export function readFunctionDoc(file: string, name: string): DocComment | undefined {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  for (const st of source.statements) {
    if (ts.isFunctionDeclaration(st) && st.name?.text === name) return docOf(st);
  }
  return undefined;
}

/** Property comments of one exported interface of a file. */
export function readInterfaceDocs(file: string, name: string): Map<string, string> {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const out = new Map<string, string>();
  for (const st of source.statements) {
    if (!ts.isInterfaceDeclaration(st) || st.name.text !== name) continue;
    for (const m of st.members) {
      const d = m.name && ts.isIdentifier(m.name) ? docOf(m) : undefined;
      if (d && m.name && ts.isIdentifier(m.name)) out.set(m.name.text, d.text);
    }
  }
  return out;
}

/** The markdown of every TSDoc comment of a file (summary and block tags), with the line it starts on. */
export function readDocComments(file: string): Array<{ line: number; text: string }> {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const seen = new Set<number>();
  const out: Array<{ line: number; text: string }> = [];
  const visit = (node: ts.Node): void => {
    for (const doc of ts.getJSDocCommentsAndTags(node)) {
      if (!ts.isJSDoc(doc) || seen.has(doc.pos)) continue;
      seen.add(doc.pos);
      const parts = [ts.getTextOfJSDocComment(doc.comment) ?? '', ...(doc.tags ?? []).map((t) => ts.getTextOfJSDocComment(t.comment) ?? '')];
      out.push({ line: source.getLineAndCharacterOfPosition(doc.getStart(source)).line + 1, text: parts.join('\n\n') });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}
