import { readFile } from 'node:fs/promises';
import { Reader, type Response } from 'maxmind';
import type { Result } from '../../model/result.js';
import { err, ok } from '../../model/result.js';
import { BoundedCache } from '../../runtime/bounded-cache.js';
import { detectGeoSchema, toGeoLocation, type GeoSchema } from './geo-location.js';
import { findRecordAddresses } from './search-tree-probe.js';
import { searchTree, type SearchTree } from './search-tree.js';

/** One validated .mmdb file, read fully into memory. */
export interface MmdbFile {
  readonly path: string;
  readonly reader: Reader<Response>;
  /** The same file's search tree, walked without the reader: which record an address has. */
  readonly tree: SearchTree;
  readonly ipVersion: 4 | 6;
  readonly databaseType: string;
  readonly buildEpochSeconds: number;
  readonly schema: GeoSchema;
}

/** What is wrong, and with which file. */
export interface GeoDatabaseProblem {
  readonly file: string;
  readonly reason: string;
}

// The MaxMind DB format: metadata follows this marker within the last 128 KiB, and a
// 16-byte zero separator sits between the search tree and the data section.
const METADATA_MARKER = Buffer.from('abcdef4d61784d696e642e636f6d', 'hex');
const METADATA_MAX_BYTES = 128 * 1024;
const SEPARATOR_BYTES = 16;
const PROBES_PER_END = 8;
/** Where a tar header holds its "ustar" magic. */
const TAR_MAGIC_AT = 257;

export async function loadMmdbFile(path: string, cacheSize: number): Promise<Result<MmdbFile, GeoDatabaseProblem>> {
  let db: Buffer;
  try {
    db = await readFile(path);
  } catch (e) {
    return err({ file: path, reason: `cannot read: ${e instanceof Error ? e.message : String(e)}` });
  }
  const checked = checkMmdb(db, cacheSize);
  return checked.ok ? ok({ path, ...checked.value }) : err({ file: path, reason: checked.error });
}

/** Validates the bytes of a MaxMind DB file and test-reads records from both ends of its tree. */
export function checkMmdb(db: Buffer, cacheSize: number): Result<Omit<MmdbFile, 'path'>, string> {
  if (db.length === 0) return err('empty file');
  if (db[0] === 0x1f && db[1] === 0x8b) return err('gzip-compressed; decompress it to a plain .mmdb file');
  // MaxMind's downloads are .tar.gz: a decompressed one is still an archive around the .mmdb.
  if (db.toString('latin1', TAR_MAGIC_AT, TAR_MAGIC_AT + 5) === 'ustar') return err('a tar archive; extract the .mmdb file from it');
  const marker = db.lastIndexOf(METADATA_MARKER);
  if (marker === -1 || db.length - marker > METADATA_MAX_BYTES) {
    return err('not a MaxMind DB file: no metadata marker in its last 128 KiB');
  }

  let reader: Reader<Response>;
  try {
    reader = new Reader<Response>(db, { cache: new BoundedCache<unknown>(cacheSize) });
  } catch (e) {
    return err(`unreadable MaxMind DB metadata: ${e instanceof Error ? e.message : String(e)}`);
  }
  const m = reader.metadata;
  if (m.binaryFormatMajorVersion !== 2) return err(`binary format version ${String(m.binaryFormatMajorVersion)} is not 2`);
  if (m.ipVersion !== 4 && m.ipVersion !== 6) return err(`metadata ip_version is ${String(m.ipVersion)}, not 4 or 6`);
  if (!Number.isInteger(m.nodeCount) || m.nodeCount <= 0) return err(`metadata node_count is ${String(m.nodeCount)}`);
  if (typeof m.databaseType !== 'string' || m.databaseType === '') return err('metadata database_type is missing');
  const buildEpochSeconds = m.buildEpoch.getTime() / 1000;
  if (!Number.isFinite(buildEpochSeconds) || buildEpochSeconds <= 0) return err('metadata build_epoch is missing');
  const dataSectionSize = marker - m.searchTreeSize - SEPARATOR_BYTES;
  if (dataSectionSize < 0) return err(`truncated: the search tree (${m.searchTreeSize} bytes) does not fit before the metadata`);
  for (let i = 0; i < SEPARATOR_BYTES; i++) {
    if (db[m.searchTreeSize + i] !== 0) return err('corrupt: no zero separator between the search tree and the data section');
  }

  const shape = { nodeCount: m.nodeCount, recordSize: m.recordSize, ipVersion: m.ipVersion, dataSectionSize } as const;
  const addresses: string[] = [];
  for (const from of ['low', 'high'] as const) {
    const found = findRecordAddresses(db, shape, PROBES_PER_END, from);
    if (!found.ok) return err(`corrupt: ${found.error}`);
    addresses.push(...found.value);
  }
  if (addresses.length === 0) return err('holds no records');

  let schema: GeoSchema | undefined;
  const records: [string, unknown][] = [];
  for (const address of addresses) {
    let record: unknown;
    try {
      record = reader.get(address);
    } catch (e) {
      return err(`corrupt: reading the record for ${address} failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    const found = detectGeoSchema(record);
    if (found !== undefined && schema !== undefined && found !== schema) {
      return err(`records mix the ${schema} and ${found} layouts (at ${address})`);
    }
    schema ??= found;
    records.push([address, record]);
  }
  if (schema === undefined) {
    return err(`database type ${JSON.stringify(m.databaseType)} has records in neither the GeoIP2 City nor the flat city layout`);
  }
  let located = 0;
  for (const [address, record] of records) {
    const location = toGeoLocation(record, schema);
    if (!location.ok) return err(`bad record for ${address}: ${location.error}`);
    // Country-only records are usable, but a database of nothing else cannot place anyone.
    if (location.value?.latitude !== undefined) located++;
  }
  if (located === 0) {
    return err(`none of ${records.length} sampled records has coordinates; a City database is needed, not ${JSON.stringify(m.databaseType)}`);
  }
  const tree = searchTree(db, m.nodeCount, m.recordSize, m.ipVersion);
  return ok({ reader, tree, ipVersion: m.ipVersion, databaseType: m.databaseType, buildEpochSeconds, schema });
}
