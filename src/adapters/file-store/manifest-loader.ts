import { readFile } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { keyString } from '../../model/resource.js';
import { err, ok, type Result } from '../../model/result.js';
import type { ManifestProblem } from '../../model/store.js';
import { listManifestFiles } from './manifest-files.js';
import { parseManifestText, type AcceptedDocument, type IgnoredDocument, type ParsedManifestFile, type RejectedDocument } from './manifest-parse.js';

/** Where an object in force was defined: the file (relative) and the document index in it. */
export interface Placement {
  readonly file: string;
  readonly document: number;
}

export interface ManifestDirLoad {
  /** Objects to put in force, in file order; of two definitions of one object, the one in force, else the first. */
  readonly resources: readonly AcceptedDocument[];
  /** In file order, then line order. */
  readonly problems: readonly ManifestProblem[];
  readonly rejected: readonly RejectedDocument[];
  readonly ignored: readonly IgnoredDocument[];
  /**
   * Files or folders (relative; '' is the directory itself) whose content is unknown this scan: not
   * readable, not UTF-8, with YAML errors, or emptied to 0 bytes while they defined objects in force.
   */
  readonly unreadable: readonly string[];
  /** Keys of objects in force that a broken file or document still defines: their last valid version stays. */
  readonly kept: readonly string[];
}

interface FileScan {
  readonly file: string;
  readonly source: string;
  /** Absent when the file could not be read as text; then `problems` says why. */
  readonly parsed?: ParsedManifestFile;
  readonly problems: ManifestProblem[];
}

/** The documents of a file that parsed: a YAML error can swallow or invent a `---`, so then none is placed. */
function placeable(s: FileScan): ParsedManifestFile | undefined {
  return s.parsed?.yamlErrors === false ? s.parsed : undefined;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function byPosition(a: ManifestProblem, b: ManifestProblem): number {
  return (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0);
}

function isUnder(file: string, dir: string): boolean {
  return dir === '' || file === dir || file.startsWith(`${dir}${sep}`);
}

function decodes(bytes: Uint8Array): boolean {
  try {
    UTF8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** Of text that is not UTF-8, the line of the first bad byte: a '\n' byte is never inside a character. */
function firstBadLine(bytes: Uint8Array): number {
  for (let line = 1, start = 0; ; line++) {
    const end = bytes.indexOf(0x0a, start);
    if (end < 0 || !decodes(bytes.subarray(start, end))) return line;
    start = end + 1;
  }
}

/** The text, or the line where it stops being UTF-8 (no silent U+FFFD for the operator's bytes). */
function decodeUtf8(bytes: Uint8Array): Result<string, number> {
  try {
    return ok(UTF8.decode(bytes));
  } catch {
    return err(firstBadLine(bytes));
  }
}

function emptyFileMessage(objects: number): string {
  const what = objects === 1 ? 'the object it defined is kept; delete the file to remove it' : `the ${objects} objects it defined are kept; delete the file to remove them`;
  return `empty file (0 bytes): ${what}`;
}

/** Reads and parses one file; `defined` is how many objects in force it defined. */
async function scanFile(dir: string, file: string, defined: number): Promise<FileScan> {
  const source = join(dir, file);
  const unknown = (problem: Omit<ManifestProblem, 'source'>): FileScan => ({ file, source, problems: [{ source, ...problem }] });
  let bytes: Uint8Array;
  try {
    bytes = await readFile(source);
  } catch (e) {
    return unknown({ error: { path: [], message: `cannot read: ${messageOf(e)}` } });
  }
  // A save cut short leaves 0 bytes; commenting everything out is the deliberate way to empty a file.
  if (bytes.length === 0 && defined > 0) return unknown({ error: { path: [], message: emptyFileMessage(defined) } });
  const text = decodeUtf8(bytes);
  if (!text.ok) return unknown({ line: text.error, error: { path: [], message: 'not UTF-8 text' } });
  const parsed = parseManifestText(text.value, source, file);
  return { file, source, parsed, problems: [...parsed.problems] };
}

/**
 * Reads and validates every manifest under `dir`. Never throws for bad input: every file that
 * cannot be read or parsed, and every invalid document, becomes a problem with file, line and column.
 * `inForce` (the store's objects and where they were defined) decides which of two definitions
 * wins, and which objects a broken file or document still holds.
 */
export async function loadManifestDir(dir: string, inForce: ReadonlyMap<string, Placement> = new Map()): Promise<ManifestDirLoad> {
  const listing = await listManifestFiles(dir);
  const problems: ManifestProblem[] = [];
  const unreadable: string[] = [];
  for (const u of listing.unreadable) {
    problems.push({ source: u.file ? join(dir, u.file) : dir, error: { path: [], message: `cannot read: ${u.message}` } });
    unreadable.push(u.file);
  }
  const defined = new Map<string, number>();
  for (const at of inForce.values()) defined.set(at.file, (defined.get(at.file) ?? 0) + 1);
  const scans: FileScan[] = [];
  for (const file of listing.files) scans.push(await scanFile(dir, file, defined.get(file) ?? 0));
  for (const s of scans) if (!placeable(s)) unreadable.push(s.file);

  // The names a document with YAML errors seems to give are reported, never trusted.
  const trusted = scans.flatMap((s) => placeable(s)?.rejected ?? []);
  const rejected = scans.flatMap((s) => s.parsed?.rejected ?? []);
  const holder = brokenHolder(dir, inForce, unreadable, trusted);
  const winners = pickWinners(scans, inForce, holder);
  for (const s of scans) {
    for (const doc of placeable(s)?.accepted ?? []) {
      const k = keyString(doc.key);
      const winner = winners.get(k);
      if (winner === doc) continue;
      const where = winner ? `${winner.source}:${winner.line}` : holder(k);
      s.problems.push({ source: s.source, line: doc.line, column: doc.column, error: { path: ['metadata', 'name'], message: `${k} is already defined at ${where}` } });
      rejected.push({ source: s.source, file: s.file, document: doc.document, key: doc.key, line: doc.line });
    }
    problems.push(...s.problems.sort(byPosition));
  }
  // An invalid document that names an object keeps it, wherever the document is (a move half done).
  const claimed = new Set(trusted.flatMap((r) => (r.key ? [keyString(r.key)] : [])));
  const kept = [...inForce.keys()].filter((k) => !winners.has(k) && (holder(k) !== undefined || claimed.has(k)));
  return {
    resources: scans.flatMap((s) => (placeable(s)?.accepted ?? []).filter((d) => winners.get(keyString(d.key)) === d)),
    problems,
    rejected,
    ignored: scans.flatMap((s) => s.parsed?.ignored ?? []),
    unreadable,
    kept,
  };
}

/**
 * For an object in force whose own definition is broken now (its file's content is unknown, or its
 * document is invalid), where that definition is, to name it; otherwise undefined.
 */
function brokenHolder(
  dir: string,
  inForce: ReadonlyMap<string, Placement>,
  unreadable: readonly string[],
  rejected: readonly RejectedDocument[],
): (k: string) => string | undefined {
  return (k) => {
    const at = inForce.get(k);
    if (!at) return undefined;
    const source = join(dir, at.file);
    const stays = 'its last valid version stays in force until that definition is fixed or removed';
    if (unreadable.some((u) => isUnder(at.file, u))) return `${source} (${stays})`;
    const doc = rejected.find((r) => r.file === at.file && (r.key ? keyString(r.key) === k : r.document === at.document));
    return doc ? `${source}${doc.line === undefined ? '' : `:${doc.line}`} (${stays})` : undefined;
  };
}

/**
 * The definition put in force for each object: the one in the file that defines it now, else the
 * first in file order. None while the definition in force is broken: a duplicate never takes over.
 */
function pickWinners(scans: readonly FileScan[], inForce: ReadonlyMap<string, Placement>, holder: (k: string) => string | undefined): Map<string, AcceptedDocument> {
  const winners = new Map<string, AcceptedDocument>();
  for (const doc of scans.flatMap((s) => placeable(s)?.accepted ?? [])) {
    const k = keyString(doc.key);
    const current = winners.get(k);
    if (!current || (doc.file === inForce.get(k)?.file && current.file !== doc.file)) winners.set(k, doc);
  }
  for (const [k, doc] of winners) if (doc.file !== inForce.get(k)?.file && holder(k) !== undefined) winners.delete(k);
  return winners;
}
