import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { keyString } from '../../model/resource.js';
import type { ManifestProblem } from '../../model/store.js';
import { listManifestFiles } from './manifest-files.js';
import { parseManifestText, type AcceptedDocument, type IgnoredDocument, type RejectedDocument } from './manifest-parse.js';

export interface ManifestDirLoad {
  /** Objects accepted, in file order; of two documents defining one object, the first. */
  readonly resources: readonly AcceptedDocument[];
  /** In file order, then line order. */
  readonly problems: readonly ManifestProblem[];
  readonly rejected: readonly RejectedDocument[];
  readonly ignored: readonly IgnoredDocument[];
  /** Files or folders (relative; '' is the directory itself) that could not be read: what they held is unknown. */
  readonly unreadable: readonly string[];
}

function byPosition(a: ManifestProblem, b: ManifestProblem): number {
  return (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0);
}

/**
 * Reads and validates every manifest under `dir`. Never throws for bad input: every file that
 * cannot be read or parsed, and every invalid document, becomes a problem with file, line and column.
 */
export async function loadManifestDir(dir: string): Promise<ManifestDirLoad> {
  const listing = await listManifestFiles(dir);
  const resources: AcceptedDocument[] = [];
  const problems: ManifestProblem[] = [];
  const rejected: RejectedDocument[] = [];
  const ignored: IgnoredDocument[] = [];
  const unreadable: string[] = [];
  const firstByKey = new Map<string, AcceptedDocument>();

  for (const u of listing.unreadable) {
    problems.push({ source: u.file ? join(dir, u.file) : dir, error: { path: [], message: `cannot read: ${u.message}` } });
    unreadable.push(u.file);
  }
  for (const file of listing.files) {
    const source = join(dir, file);
    let text: string;
    try {
      text = await readFile(source, 'utf8');
    } catch (e) {
      problems.push({ source, error: { path: [], message: `cannot read: ${e instanceof Error ? e.message : String(e)}` } });
      unreadable.push(file);
      continue;
    }
    const parsed = parseManifestText(text, source, file);
    const fileProblems = [...parsed.problems];
    for (const doc of parsed.accepted) {
      const k = keyString(doc.key);
      const first = firstByKey.get(k);
      if (first) {
        fileProblems.push({
          source,
          line: doc.line,
          column: doc.column,
          error: { path: ['metadata', 'name'], message: `${k} is already defined at ${first.source}:${first.line}` },
        });
        rejected.push({ source, file, document: doc.document, key: doc.key });
      } else {
        firstByKey.set(k, doc);
        resources.push(doc);
      }
    }
    problems.push(...fileProblems.sort(byPosition));
    rejected.push(...parsed.rejected);
    ignored.push(...parsed.ignored);
  }
  return { resources, problems, rejected, ignored, unreadable };
}
