import { createHash } from 'node:crypto';
import { readdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { isKind } from '../../model/kinds.js';
import { keyString, type ResourceKey } from '../../model/resource.js';
import type { ManifestProblem } from '../../model/store.js';
import { removeStaleTempFiles, writeFileAtomic, type AtomicWriteHooks } from './atomic-write.js';
import { decodeObjectRecord, encodeObjectRecord, type ObjectRecord } from './object-record.js';

const RECORD_SUFFIX = '.json';
/**
 * The longest name used as is: its temp file `.<name>.json.<uuid>.tmp` is then 255 bytes, the usual
 * file name limit. Every state file that could be written before long names were hashed is this short.
 */
const MAX_PLAIN_NAME = 208;
const HASHED_PREFIX = 128;
/** Never in a name (a DNS subdomain), so a hashed file name cannot be some other object's plain one. */
const HASH_MARK = '~';

/** The file name stem: the name, or for a longer one a prefix (for humans) and the hash of the whole name. */
function stemOf(name: string): string {
  if (name.length <= MAX_PLAIN_NAME) return name;
  return `${name.slice(0, HASHED_PREFIX)}${HASH_MARK}${createHash('sha256').update(name).digest('hex')}`;
}

/** `stateDir/<kind>/<namespace>/<name>.json`; kind, namespace and name come from validated manifests. */
export function recordPath(stateDir: string, key: ResourceKey): string {
  return join(stateDir, key.kind, key.namespace, `${stemOf(key.name)}${RECORD_SUFFIX}`);
}

/** `manifest.metadata.name` as stored, unchecked (the hash in the file name checks it). */
function storedName(text: string): string | undefined {
  try {
    const name: unknown = (JSON.parse(text) as { manifest?: { metadata?: { name?: unknown } } } | null)?.manifest?.metadata?.name;
    return typeof name === 'string' ? name : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The name a state file is for: its file name, or for a hashed one the name its manifest gives when
 * that hashes to the file name. Otherwise the stem, which no manifest names: decoding then says so.
 */
function nameOfRecordFile(fileName: string, text: string): string {
  const stem = fileName.slice(0, -RECORD_SUFFIX.length);
  const name = stem.includes(HASH_MARK) ? storedName(text) : undefined;
  return name !== undefined && stemOf(name) === stem ? name : stem;
}

export async function writeRecord(stateDir: string, key: ResourceKey, record: ObjectRecord, hooks?: AtomicWriteHooks): Promise<void> {
  await writeFileAtomic(recordPath(stateDir, key), encodeObjectRecord(record), hooks);
}

export interface StateDirLoad {
  readonly records: ReadonlyMap<string, { readonly key: ResourceKey; readonly record: ObjectRecord }>;
  /** Files that could not be used, each named; what they held counts as absent. */
  readonly problems: readonly ManifestProblem[];
  readonly removedTempFiles: readonly string[];
}

async function dirNames(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

async function recordFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries.filter((e) => e.isFile() && !e.name.startsWith('.') && e.name.endsWith(RECORD_SUFFIX)).map((e) => e.name);
}

/**
 * Reads every record under `stateDir` after removing temp files an interrupted write left. A file
 * that does not decode is renamed to `<name>.json.corrupt-<nowMs>` (kept for a human; the next
 * write would otherwise replace it) and reported; its object starts over with no status.
 */
export async function loadStateDir(stateDir: string, nowMs: number): Promise<StateDirLoad> {
  const removedTempFiles = await removeStaleTempFiles(stateDir);
  const records = new Map<string, { key: ResourceKey; record: ObjectRecord }>();
  const problems: ManifestProblem[] = [];
  for (const kind of await dirNames(stateDir)) {
    if (!isKind(kind)) continue;
    for (const namespace of await dirNames(join(stateDir, kind))) {
      for (const fileName of await recordFiles(join(stateDir, kind, namespace))) {
        const path = join(stateDir, kind, namespace, fileName);
        let text: string;
        try {
          text = await readFile(path, 'utf8');
        } catch (e) {
          problems.push({ source: path, error: { path: [], message: `cannot read state file (${e instanceof Error ? e.message : String(e)}); status starts empty` } });
          continue;
        }
        const key: ResourceKey = { kind, namespace, name: nameOfRecordFile(fileName, text) };
        const decoded = decodeObjectRecord(text, key);
        if (decoded.ok) {
          records.set(keyString(key), { key, record: decoded.value.record });
          for (const error of decoded.value.manifestErrors) problems.push({ source: path, error: { ...error, message: `${error.message}; the stored manifest is not used` } });
          continue;
        }
        const aside = `${path}.corrupt-${nowMs}`;
        let fate: string;
        try {
          await rename(path, aside);
          fate = `moved to ${aside}`;
        } catch (e) {
          fate = `could not be moved aside (${e instanceof Error ? e.message : String(e)})`;
        }
        for (const error of decoded.error)
          problems.push({ source: path, error: { ...error, message: `corrupt state file: ${error.message}; ${fate}, status starts empty` } });
      }
    }
  }
  return { records, problems, removedTempFiles };
}
