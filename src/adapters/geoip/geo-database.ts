import type { Result } from '../../model/result.js';
import { err, ok } from '../../model/result.js';
import { ipFamily, ipv4ToUint32, ipv6HextetsInto, normaliseIp } from '../../model/ip-address.js';
import { nonPublicKind } from './address-ranges.js';
import { BoundedCache } from '../../runtime/bounded-cache.js';
import { toGeoLocation, type GeoLocation, type GeoSchema } from './geo-location.js';
import { loadMmdbFile, type GeoDatabaseProblem, type MmdbFile } from './mmdb-file.js';

export type GeoLookup =
  | { readonly result: 'found'; readonly location: GeoLocation }
  /** `reason` is set when the database has a record it could not use. */
  | { readonly result: 'not_found'; readonly reason?: string }
  /** `kind`: 'private', 'loopback', 'link-local', 'carrier-grade NAT', 'unique local', ... */
  | { readonly result: 'private'; readonly kind: string }
  | { readonly result: 'invalid'; readonly reason: string };

export interface GeoDatabaseInfo {
  readonly paths: readonly string[];
  /** The files' metadata database_type, joined with " + " when they differ. */
  readonly databaseType: string;
  /** The oldest build among the files: what a staleness alert should see. */
  readonly buildEpochSeconds: number;
  readonly schema: GeoSchema;
}

export interface GeoDatabase {
  /** Never throws; well under a µs for an address asked about recently, a few µs otherwise. */
  lookup(ip: string): GeoLookup;
  readonly info: GeoDatabaseInfo;
}

export interface OpenGeoDatabaseOptions {
  /** Decoded records kept per file. */
  readonly cacheSize?: number;
  /** Answers kept by record, for the life of this database object. */
  readonly answerCacheSize?: number;
}

// Decoded values (records, map keys, strings) per file: about 15k cover 200k distinct
// client addresses in the bundled database, a few MB.
const DEFAULT_CACHE_SIZE = 50_000;
// Records, not addresses: more than the bundled database's records that place anyone in a city.
const DEFAULT_ANSWER_CACHE_SIZE = 100_000;
const NOT_FOUND: GeoLookup = Object.freeze({ result: 'not_found' });
/** Kept for a record that is not a map: the next file is asked. */
const NOT_A_MAP: GeoLookup = Object.freeze({ result: 'not_found', reason: 'record is not a map' });

/** Opens and validates one or more .mmdb files as one database. The error names the file. */
export async function openGeoDatabase(paths: readonly string[], options: OpenGeoDatabaseOptions = {}): Promise<Result<GeoDatabase, string>> {
  const loaded = await loadGeoDatabase(paths, options);
  return loaded.ok ? loaded : err(`${loaded.error.file}: ${loaded.error.reason}`);
}

/** As openGeoDatabase, with the problem as { file, reason } for structured logs. */
export async function loadGeoDatabase(
  paths: readonly string[],
  { cacheSize = DEFAULT_CACHE_SIZE, answerCacheSize = DEFAULT_ANSWER_CACHE_SIZE }: OpenGeoDatabaseOptions = {},
): Promise<Result<GeoDatabase, GeoDatabaseProblem>> {
  if (paths.length === 0) return err({ file: '(none)', reason: 'no GeoIP database file given' });
  const files: MmdbFile[] = [];
  for (const path of paths) {
    const file = await loadMmdbFile(path, cacheSize);
    if (!file.ok) return file;
    const first = files[0];
    if (first !== undefined && first.schema !== file.value.schema) {
      return err({ file: path, reason: `has the ${file.value.schema} layout but ${first.path} has the ${first.schema} layout` });
    }
    files.push(file.value);
  }
  return ok(composeGeoDatabase(files, answerCacheSize));
}

function composeGeoDatabase(files: readonly MmdbFile[], answerCacheSize: number): GeoDatabase {
  const first = files[0];
  if (first === undefined) throw new Error('composeGeoDatabase needs at least one file');
  const schema = first.schema;
  // IPv4 addresses: IPv4 files first, then IPv6 files (which may hold the IPv4 space
  // under ::/96). An IPv4-only tree cannot answer an IPv6 address at all.
  const forV4 = [...files.filter((f) => f.ipVersion === 4), ...files.filter((f) => f.ipVersion === 6)];
  const forV6 = files.filter((f) => f.ipVersion === 6);
  // Answers per record, by the record's pointer in the file's tree: many networks share a record
  // (a city), so a client never seen before usually finds its answer here after a walk of the
  // tree. Bounded; a reload builds a new database object, so no answer outlives its files.
  const answers = new Map(files.map((f) => [f, new BoundedCache<GeoLookup>(answerCacheSize)] as const));
  const privateAnswers = new Map<string, GeoLookup>();

  const toAnswer = (record: object): GeoLookup => {
    const location = toGeoLocation(record, schema);
    return !location.ok
      ? Object.freeze({ result: 'not_found', reason: location.error })
      : location.value === undefined
        ? NOT_FOUND
        : Object.freeze({ result: 'found', location: location.value });
  };

  /** The answer of the record `pointer` leads to; undefined when that record is not a map (the next file is asked). */
  const answerAt = (file: MmdbFile, pointer: number, address: string): GeoLookup | undefined => {
    const cache = answers.get(file);
    let answer = cache?.get(pointer);
    if (answer === undefined) {
      const record: unknown = file.reader.get(address);
      answer = typeof record === 'object' && record !== null ? toAnswer(record) : NOT_A_MAP;
      cache?.set(pointer, answer);
    }
    return answer === NOT_A_MAP ? undefined : answer;
  };

  // Lookups are synchronous: one buffer serves them all.
  const hextets = new Uint16Array(8);
  const lookup = (ip: string): GeoLookup => {
    // One spelling per address (IPv4-mapped IPv6 as IPv4, no zone), shared with the redirect's client address.
    const address = normaliseIp(ip);
    const family = address === undefined ? undefined : ipFamily(address);
    if (address === undefined || family === undefined) return { result: 'invalid', reason: `not an IP address: ${JSON.stringify(ip.slice(0, 64))}` };
    const kind = nonPublicKind(address);
    if (kind !== undefined) {
      let answer = privateAnswers.get(kind);
      if (answer === undefined) privateAnswers.set(kind, (answer = Object.freeze({ result: 'private', kind })));
      return answer;
    }
    const v4 = family === 4 ? ipv4ToUint32(address) : 0;
    const v6 = family === 6 ? ipv6HextetsInto(address, hextets) : undefined;
    for (const file of family === 4 ? forV4 : forV6) {
      try {
        const pointer = v6 === undefined ? file.tree.leafOfV4(v4) : file.tree.leafOfV6(v6);
        const answer = pointer === 0 ? undefined : answerAt(file, pointer, address);
        if (answer !== undefined) return answer;
      } catch (e) {
        // Validation test-read the file, but a damaged region elsewhere can still throw here.
        return { result: 'not_found', reason: `${file.path}: ${e instanceof Error ? e.message : String(e)}` };
      }
    }
    return NOT_FOUND;
  };

  const types = [...new Set(files.map((f) => f.databaseType))];
  const info: GeoDatabaseInfo = Object.freeze({
    paths: Object.freeze(files.map((f) => f.path)),
    databaseType: types.join(' + '),
    buildEpochSeconds: Math.min(...files.map((f) => f.buildEpochSeconds)),
    schema,
  });
  return Object.freeze({ lookup, info });
}
