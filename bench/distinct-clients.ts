/**
 * Distinct clients for the redirect load benchmark: a new public address for every request,
 * as real logins come (each person logs in once or twice a day), instead of client-pool.ts's
 * few thousand addresses that repeat. All drawn before the run, and the requests encoded to
 * bytes then too, so the load generator's hot path only picks the next buffer.
 *
 * IPv4: uniform over the address space, kept when the bundled database's record for it names
 * a continent whose quota (CONTINENT_SHARES) is not yet met. The continent is read from the
 * search tree's leaf: a walk of the tree's bytes per draw, and each record decoded once.
 * IPv6: a random descent of the IPv6 tree as client-pool.ts does, then random host bits.
 * Every address is distinct within one draw. A draw of half a million takes seconds, so it is
 * kept in $TMPDIR for the next run (keyed by its options and the database files' mtimes).
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Reader, type Response } from 'maxmind';
import { continentOfCountry } from '../src/adapters/geoip/index.js';
import { Prng } from '../src/sim/prng.js';
import { CONTINENT_SHARES } from './client-pool.js';

/** One .mmdb file's search tree, read from its bytes, and its records' continents (decoded once per record). */
class SearchTree {
  private readonly db: Buffer;
  private readonly reader: Reader<Response>;
  readonly nodeCount: number;
  private readonly recordSize: number;
  private readonly continents = new Map<number, string | null>();

  constructor(file: string) {
    this.db = readFileSync(file);
    this.reader = new Reader<Response>(this.db);
    this.nodeCount = this.reader.metadata.nodeCount;
    this.recordSize = this.reader.metadata.recordSize;
  }

  child(node: number, bit: number): number {
    const db = this.db;
    const at = node * (this.recordSize / 4);
    if (this.recordSize === 24) return db.readUIntBE(at + bit * 3, 3);
    if (this.recordSize === 28) {
      const middle = db[at + 3] ?? 0;
      return bit === 0 ? ((middle & 0xf0) << 20) | db.readUIntBE(at, 3) : ((middle & 0x0f) << 24) | db.readUIntBE(at + 4, 3);
    }
    return db.readUInt32BE(at + bit * 4);
  }

  /** The continent of the record a leaf points to (null: none); `ip` is any address under it. */
  continentAt(pointer: number, ip: string): string | null {
    let c = this.continents.get(pointer);
    if (c === undefined) {
      const r = this.reader.get(ip) as Record<string, unknown> | null;
      const country = typeof r?.['country_code'] === 'string' ? r['country_code'] : undefined;
      // A record without coordinates is still a client (country-only); one placing nowhere is not kept.
      c = (country && continentOfCountry(country)) || null;
      this.continents.set(pointer, c);
    }
    return c;
  }
}

export interface DistinctOptions {
  readonly count: number;
  /** The bundled database's IPv4 and IPv6 .mmdb files. */
  readonly v4File: string;
  readonly v6File: string;
  /** Share of IPv6 clients, default 0.2. */
  readonly v6Share?: number;
  readonly seed?: number;
}

/** drawDistinctClients, from $TMPDIR when an earlier run drew the same. */
export function distinctClients(options: DistinctOptions): string[] {
  const stamp = [options.v4File, options.v6File].map((f) => statSync(f).mtimeMs).join('-');
  const file = join(tmpdir(), `meridian-bench-distinct-${options.count}-${options.v6Share ?? 0.2}-${options.seed ?? 7}-${stamp}.txt`);
  if (existsSync(file)) return readFileSync(file, 'utf8').split('\n');
  const ips = drawDistinctClients(options);
  writeFileSync(file, ips.join('\n'));
  return ips;
}

/** `count` distinct public addresses, continents in CONTINENT_SHARES' proportions, families interleaved at random. */
export function drawDistinctClients(options: DistinctOptions): string[] {
  const rng = new Prng(options.seed ?? 7);
  const v4 = new SearchTree(options.v4File);
  const v6 = new SearchTree(options.v6File);
  const v6Share = options.v6Share ?? 0.2;
  const seen = new Set<string>();
  const out: string[] = [];
  const fill = (family: 4 | 6, n: number, draw: () => { ip: string; continent: string | null } | undefined): void => {
    const want = new Map(Object.entries(CONTINENT_SHARES).map(([c, s]) => [c, Math.round(n * s)]));
    let left = [...want.values()].reduce((a, b) => a + b, 0);
    for (let tries = 0; left > 0; tries++) {
      if (tries > 50 * n + 1_000_000) throw new Error(`could not draw ${n} distinct IPv${family} clients`);
      const d = draw();
      if (d === undefined || d.continent === null || seen.has(d.ip)) continue;
      const k = want.get(d.continent) ?? 0;
      if (k <= 0) continue;
      want.set(d.continent, k - 1);
      left--;
      seen.add(d.ip);
      out.push(d.ip);
    }
  };
  fill(4, Math.round(options.count * (1 - v6Share)), () => {
    // Public unicast: 1.0.0.0 to 223.255.255.255 (the database has no record for the special ranges).
    const a = (0x01000000 + rng.int(0xdf000000)) >>> 0;
    let node = 0;
    for (let bit = 31; bit >= 0; bit--) {
      const next = v4.child(node, (a >>> bit) & 1);
      if (next === v4.nodeCount) return undefined;
      if (next > v4.nodeCount) {
        const ip = `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
        return { ip, continent: v4.continentAt(next, ip) };
      }
      node = next;
    }
    return undefined;
  });
  const groups = new Uint16Array(8);
  fill(6, options.count - out.length, () => {
    groups.fill(0);
    let node = 0;
    let leaf = -1;
    let depth = 0;
    for (; depth < 128 && leaf < 0; depth++) {
      // The first three bits are fixed to 001: global unicast; below, a random non-empty branch.
      const zero = depth < 3 ? depth !== 2 : v6.child(node, 0) !== v6.nodeCount;
      const one = depth < 3 ? depth === 2 : v6.child(node, 1) !== v6.nodeCount;
      if (depth < 3 && v6.child(node, one ? 1 : 0) === v6.nodeCount) return undefined;
      if (!zero && !one) return undefined;
      const bit = zero && one ? rng.int(2) : one ? 1 : 0;
      groups[depth >> 4] = (groups[depth >> 4] ?? 0) | (bit << (15 - (depth & 15)));
      const next = v6.child(node, bit);
      if (next > v6.nodeCount) leaf = next;
      else node = next;
    }
    if (leaf < 0) return undefined;
    // Random host bits below the network.
    for (; depth < 128; depth++) groups[depth >> 4] = (groups[depth >> 4] ?? 0) | (rng.int(2) << (15 - (depth & 15)));
    const ip = Array.from(groups, (g) => g.toString(16)).join(':');
    return { ip, continent: v6.continentAt(leaf, ip) };
  });
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j] as string, out[i] as string];
  }
  return out;
}

/** GET requests as HTTP/1.1 bytes, one per address in X-Forwarded-For, a quarter of them to `deepLink`; views of one buffer. */
export function encodeRequests(host: string, ips: readonly string[], deepLink: string): Buffer[] {
  const texts = ips.map((ip, i) => `GET ${i % 4 === 3 ? deepLink : '/'} HTTP/1.1\r\nHost: ${host}\r\nConnection: keep-alive\r\nx-forwarded-for: ${ip}\r\n\r\n`);
  const all = Buffer.from(texts.join(''), 'latin1');
  const out: Buffer[] = [];
  let at = 0;
  for (const t of texts) {
    out.push(all.subarray(at, at + t.length));
    at += t.length;
  }
  return out;
}
