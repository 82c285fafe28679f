import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import { err, ok, type Result } from '../../model/result.js';
import { validateManifest } from '../../model/validate.js';
import { formatPath } from '../../model/field-error.js';
import type { SpecPatch } from '../../model/store.js';
import { writeFileAtomic } from './atomic-write.js';

/**
 * Sets top-level spec fields of one document in a manifest file's text, keeping every comment,
 * every other document and the layout; the result must still be a valid manifest.
 */
export function patchManifestText(text: string, document: number, patch: SpecPatch): Result<string, string> {
  const docs = parseAllDocuments(text);
  const doc = docs[document];
  if (!doc || doc.errors.length) return err(`document ${document + 1} cannot be parsed`);
  for (const [field, value] of Object.entries(patch)) {
    if (value === null) doc.deleteIn(['spec', field]);
    else doc.setIn(['spec', field], value);
  }
  const checked = validateManifest(doc.toJS());
  if (!checked.ok) return err(checked.error.map((e) => `${formatPath(e.path)}: ${e.message}`).join('; '));
  return ok(docs.map((d) => d.toString()).join(''));
}

/** patchManifestText on a file, replaced atomically. */
export async function patchManifestFile(path: string, document: number, patch: SpecPatch): Promise<Result<void, string>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    return err(`cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const next = patchManifestText(text, document, patch);
  if (!next.ok) return err(`${path}: ${next.error}`);
  await writeFileAtomic(path, next.value);
  return ok(undefined);
}
