/**
 * Client addresses for the redirect benchmarks: public IPv4 and IPv6 addresses that the
 * bundled GeoLite2 database places on every inhabited continent, drawn at random (seeded,
 * so every run sends the same clients) and kept to a quota per continent. Uniform draws
 * over the address space alone would be mostly North American.
 *
 * IPv4 addresses are drawn uniformly over the space (98% of draws land on a record).
 * IPv6 space is almost empty (under 0.1% of uniform draws in 2000::/3 do), so IPv6
 * addresses come from a random descent of the IPv6 file's search tree: at each node one
 * non-empty branch at random, down to a network that has a record, then random host bits.
 */
import { readFileSync } from 'node:fs';
import { Reader, type Response } from 'maxmind';
import type { GeoDatabase } from '../src/adapters/geoip/index.js';
import { Prng } from '../src/sim/prng.js';

export interface PoolClient {
  readonly ip: string;
  readonly continent: string;
  readonly country: string;
}

/** Share of the pool per continent: roughly where the users of a fleet spread over these six regions are. */
export const CONTINENT_SHARES: Readonly<Record<string, number>> = Object.freeze({ EU: 0.3, NA: 0.28, AS: 0.2, SA: 0.09, OC: 0.08, AF: 0.05 });

export interface PoolOptions {
  readonly size: number;
  /** The database's IPv6 .mmdb file, whose search tree the IPv6 addresses are drawn from. */
  readonly v6File: string;
  /** Share of IPv6 clients, default 0.2. */
  readonly v6Share?: number;
  readonly seed?: number;
}

const hex = (n: number): string => n.toString(16);

/** Public unicast IPv4 outside the blocks GeoIP never places (the lookup refuses those anyway). */
function randomV4(rng: Prng): string {
  return `${1 + rng.int(223)}.${rng.int(256)}.${rng.int(256)}.${1 + rng.int(254)}`;
}

/** Draws IPv6 addresses in global unicast space (2000::/3) under networks the tree has a record for. */
function v6Drawer(file: string): (rng: Prng) => string | undefined {
  const db = readFileSync(file);
  const { nodeCount, recordSize, ipVersion } = new Reader<Response>(db).metadata;
  if (ipVersion !== 6) throw new Error(`${file} is not an IPv6 database`);
  const nodeBytes = recordSize / 4;
  const child = (node: number, bit: number): number => {
    const at = node * nodeBytes;
    if (recordSize === 24) return db.readUIntBE(at + bit * 3, 3);
    if (recordSize === 28) {
      const middle = db[at + 3] ?? 0;
      return bit === 0 ? ((middle & 0xf0) << 20) | db.readUIntBE(at, 3) : ((middle & 0x0f) << 24) | db.readUIntBE(at + 4, 3);
    }
    return db.readUInt32BE(at + bit * 4);
  };
  return (rng) => {
    const bits: number[] = [];
    let node = 0;
    for (let depth = 0; depth < 128; depth++) {
      // The first three bits are fixed to 001: global unicast.
      const forced = depth < 3 ? (depth === 2 ? 1 : 0) : undefined;
      const options = (forced === undefined ? [0, 1] : [forced]).filter((b) => child(node, b) !== nodeCount);
      const bit = options.length === 2 ? rng.int(2) : options[0];
      if (bit === undefined) return undefined; // a dead end under a forced bit
      bits.push(bit);
      const next = child(node, bit);
      if (next > nodeCount) break; // a record: the network is the bits so far
      node = next;
    }
    while (bits.length < 128) bits.push(rng.int(2));
    const groups: string[] = [];
    for (let g = 0; g < 8; g++) groups.push(hex(bits.slice(g * 16, g * 16 + 16).reduce((acc, b) => acc * 2 + b, 0)));
    return groups.join(':');
  };
}

/** Draws until every continent's quota is met; throws if the database cannot fill one (wrong file). */
export function drawClientPool(db: GeoDatabase, options: PoolOptions): PoolClient[] {
  const rng = new Prng(options.seed ?? 42);
  const v6Share = options.v6Share ?? 0.2;
  const randomV6 = v6Drawer(options.v6File);
  const out: PoolClient[] = [];
  const seen = new Set<string>();
  for (const [family, share] of [
    [4, 1 - v6Share],
    [6, v6Share],
  ] as const) {
    const want = new Map(Object.entries(CONTINENT_SHARES).map(([c, s]) => [c, Math.round(options.size * share * s)]));
    let left = [...want.values()].reduce((a, b) => a + b, 0);
    for (let tries = 0; left > 0; tries++) {
      if (tries > 5_000_000) throw new Error(`could not fill the IPv${family} client pool: ${JSON.stringify(Object.fromEntries(want))} still wanted`);
      const ip = family === 4 ? randomV4(rng) : randomV6(rng);
      if (ip === undefined) continue;
      const r = db.lookup(ip);
      // Placed by coordinates, so each goes to its nearest region (country-only records go by pins or the default).
      if (r.result !== 'found' || r.location.latitude === undefined || seen.has(ip)) continue;
      const continent = r.location.continentCode;
      const n = continent === undefined ? 0 : (want.get(continent) ?? 0);
      if (continent === undefined || n <= 0) continue;
      want.set(continent, n - 1);
      left--;
      seen.add(ip);
      out.push({ ip, continent, country: r.location.countryCode ?? '??' });
    }
  }
  // Interleave families and continents, so any slice of the pool is a fair mix.
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j] as PoolClient, out[i] as PoolClient];
  }
  return out;
}

/** "EU 1200, NA 1120, ..." */
export function describePool(pool: readonly PoolClient[]): string {
  const by = new Map<string, number>();
  for (const c of pool) by.set(c.continent, (by.get(c.continent) ?? 0) + 1);
  const v6 = pool.filter((c) => c.ip.includes(':')).length;
  const countries = new Set(pool.map((c) => c.country)).size;
  return `${pool.length} addresses (${v6} IPv6) in ${countries} countries: ${[...by].map(([k, v]) => `${k} ${v}`).join(', ')}`;
}
