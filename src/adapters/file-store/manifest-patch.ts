import { readFile } from 'node:fs/promises';
import { LineCounter, parseAllDocuments, type Document } from 'yaml';
import { err, ok, type Result } from '../../model/result.js';
import { validateManifest } from '../../model/validate.js';
import { formatPath } from '../../model/field-error.js';
import { keyString, type ResourceKey } from '../../model/resource.js';
import type { SpecPatch } from '../../model/store.js';
import { writeFileAtomic } from './atomic-write.js';
import { keyHint } from './manifest-parse.js';
import { errorOffset } from './yaml-position.js';

/**
 * Why a file with YAML errors is not edited: the store does not read it until it is fixed, and a
 * swallowed `---` moves the documents after it, so the index may point at another object.
 */
function brokenDocument(docs: readonly Document.Parsed[], lines: LineCounter): string | undefined {
  const at = docs.findIndex((d) => d.errors.length > 0);
  const doc = docs[at];
  const error = doc?.errors[0];
  if (!doc || !error) return undefined;
  const { line, col } = lines.linePos(errorOffset(doc, error));
  return `document ${at + 1} has a YAML error at line ${line}, column ${col} (${error.message}): fix it first, a file with YAML errors is not edited`;
}

/**
 * Sets top-level spec fields of one document in a manifest file's text, keeping every comment,
 * every other document and the layout; the result must still be a valid manifest. A file with
 * YAML errors is refused, naming the document and line.
 */
export function patchManifestText(text: string, document: number, patch: SpecPatch, target?: ResourceKey): Result<string, string> {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false });
  const broken = brokenDocument(docs, lines);
  if (broken) return err(broken);
  const doc = target === undefined ? docs[document] : documentOf(docs, document, target);
  if (!doc) return err(target === undefined ? `document ${document + 1} cannot be parsed` : `no document defines ${keyString(target)} any more`);
  for (const [field, value] of Object.entries(patch)) {
    if (value === null) doc.deleteIn(['spec', field]);
    else doc.setIn(['spec', field], value);
  }
  const checked = validateManifest(doc.toJS());
  if (!checked.ok) return err(checked.error.map((e) => `${formatPath(e.path)}: ${e.message}`).join('; '));
  return ok(docs.map((d) => d.toString()).join(''));
}

/**
 * The document that defines `target`: the one at `hint` (where the last scan saw it) when it still
 * does, else wherever it moved in the file since (a document added above it, a `git pull`).
 */
function documentOf(docs: readonly Document.Parsed[], hint: number, target: ResourceKey): Document.Parsed | undefined {
  const defines = (d: Document.Parsed | undefined): boolean => {
    try {
      const k = d && keyHint(d.toJS({ maxAliasCount: 100 }));
      return k !== undefined && keyString(k) === keyString(target);
    } catch {
      return false; // an alias bomb defines nothing
    }
  };
  return defines(docs[hint]) ? docs[hint] : docs.find(defines);
}

/** patchManifestText on a file, replaced atomically. */
export async function patchManifestFile(path: string, document: number, patch: SpecPatch, target?: ResourceKey): Promise<Result<void, string>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    return err(`cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const next = patchManifestText(text, document, patch, target);
  if (!next.ok) return err(`${path}: ${next.error}`);
  await writeFileAtomic(path, next.value);
  return ok(undefined);
}
