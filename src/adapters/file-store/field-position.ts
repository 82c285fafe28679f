import { readFile } from 'node:fs/promises';
import { LineCounter, parseAllDocuments } from 'yaml';
import type { FieldPath } from '../../model/field-error.js';
import type { DocumentOrigin } from './manifest-parse.js';
import { positionOf, type SourcePosition } from './yaml-position.js';

/**
 * Where fields of an accepted document are, for problems found after loading (a rollout checked
 * against its fleet). Reads the file again; undefined if it no longer parses as it did.
 */
export async function locateFields(origin: DocumentOrigin, paths: readonly FieldPath[]): Promise<(SourcePosition | undefined)[]> {
  const text = await readFile(origin.source, 'utf8').catch(() => undefined);
  const lines = new LineCounter();
  const doc = text === undefined ? undefined : parseAllDocuments(text, { lineCounter: lines, prettyErrors: false })[origin.document];
  return paths.map((path) => (doc && !doc.errors.length ? positionOf(doc, path, lines) : undefined));
}
