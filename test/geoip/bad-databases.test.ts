// The GeoIP adapter against bad databases and bad reloads. Test databases are
// written by the small MaxMind DB writer below (format 2.0, record size 24) or cut from the
// committed fixtures.
import assert from 'node:assert/strict';
import { copyFile, mkdir, open, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { Reader, type Response } from 'maxmind';
import { Registry } from 'prom-client';
import { openGeoDatabase, type GeoDatabase, type GeoLookup } from '../../src/adapters/geoip/geo-database.js';
import { createGeoIpService, type GeoIpService, type GeoIpServiceOptions } from '../../src/adapters/geoip/geoip-service.js';
import { checkMmdb } from '../../src/adapters/geoip/mmdb-file.js';
import { parseTrustedProxies } from '../../src/redirect/core/trusted-proxies.js';
import { registerRedirectMetrics } from '../../src/redirect/redirect-metrics.js';
import { createRedirectService } from '../../src/redirect/redirect-service.js';
import { table } from '../redirect/core/redirect-fixture.js';
import { EPOCH_MAIN, EPOCH_MOVED, FLAT_DBS, GEOIP2_DB, GEOIP2_MOVED_DB, captureLog, fixture, replaceFile, tempDir, type LogLine } from './helpers.js';

// ---------------------------------------------------------------------------------------
// A minimal MaxMind DB writer.

/** A number stored with a given MaxMind DB type instead of uint32 (integers) or double. */
class Typed {
  constructor(
    readonly type: 'float' | 'uint16' | 'uint64' | 'int32',
    readonly value: number,
  ) {}
}
type MmdbValue = string | number | boolean | bigint | Typed | readonly MmdbValue[] | { readonly [key: string]: MmdbValue };

const METADATA_MARKER = Buffer.from('abcdef4d61784d696e642e636f6d', 'hex');

function control(type: number, size: number): Buffer {
  const extended = type > 7;
  const first = (extended ? 0 : type) << 5;
  const head =
    size < 29
      ? [first | size]
      : size < 285
        ? [first | 29, size - 29]
        : size < 65_821
          ? [first | 30, (size - 285) >> 8, (size - 285) & 255]
          : [first | 31, ((size - 65_821) >> 16) & 255, ((size - 65_821) >> 8) & 255, (size - 65_821) & 255];
  if (extended) head.splice(1, 0, type - 7);
  return Buffer.from(head);
}

function unsigned(type: number, n: number | bigint): Buffer {
  const bytes: number[] = [];
  for (let v = BigInt(n); v > 0n; v >>= 8n) bytes.unshift(Number(v & 255n));
  return Buffer.concat([control(type, bytes.length), Buffer.from(bytes)]);
}

function encode(value: MmdbValue): Buffer {
  if (value instanceof Typed) {
    const b = Buffer.alloc(4);
    if (value.type === 'float') return (b.writeFloatBE(value.value), Buffer.concat([control(15, 4), b]));
    if (value.type === 'int32') return (b.writeInt32BE(value.value), Buffer.concat([control(8, 4), b]));
    return unsigned(value.type === 'uint16' ? 5 : 9, value.value);
  }
  if (typeof value === 'string') {
    const b = Buffer.from(value, 'utf8');
    return Buffer.concat([control(2, b.length), b]);
  }
  if (typeof value === 'boolean') return control(14, value ? 1 : 0);
  if (typeof value === 'bigint') return unsigned(9, value);
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= 0 && value < 2 ** 32) return unsigned(6, value);
    const b = Buffer.alloc(8);
    b.writeDoubleBE(value);
    return Buffer.concat([control(3, 8), b]);
  }
  if (Array.isArray(value)) return Buffer.concat([control(11, value.length), ...value.map((v: MmdbValue) => encode(v))]);
  const entries = Object.entries(value);
  return Buffer.concat([control(7, entries.length), ...entries.flatMap(([k, v]) => [encode(k), encode(v)])]);
}

const bitsOfByte = (b: number): number[] => [7, 6, 5, 4, 3, 2, 1, 0].map((i) => (b >> i) & 1);

function networkBits(cidr: string, ipVersion: 4 | 6): number[] {
  const [ip = '', length = ''] = cidr.split('/');
  const prefix = Number(length);
  if (ip.includes(':')) {
    assert.equal(ipVersion, 6, `${cidr} in an IPv4 tree`);
    const [head = '', tail = ''] = ip.split('::');
    const h = head === '' ? [] : head.split(':');
    const t = tail === '' ? [] : tail.split(':');
    const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t].map((g) => parseInt(g, 16));
    return groups.flatMap((g) => [...bitsOfByte(g >> 8), ...bitsOfByte(g & 255)]).slice(0, prefix);
  }
  const v4 = ip.split('.').map(Number).flatMap(bitsOfByte).slice(0, prefix);
  // IPv4 networks in an IPv6 tree live under ::/96, where readers look them up.
  return ipVersion === 4 ? v4 : [...Array<number>(96).fill(0), ...v4];
}

interface TreeNode {
  readonly children: [Child, Child];
}
type Child = TreeNode | { readonly data: number } | undefined;

interface MmdbSpec {
  readonly ipVersion: 4 | 6;
  readonly databaseType: string;
  /** Networks in insertion order; a later, longer prefix splits an earlier one. */
  readonly networks: readonly (readonly [string, MmdbValue])[];
  readonly buildEpoch?: number;
}

function writeMmdb({ ipVersion, databaseType, networks, buildEpoch = EPOCH_MAIN }: MmdbSpec): Buffer {
  const data: Buffer[] = [];
  let dataSize = 0;
  const root: TreeNode = { children: [undefined, undefined] };
  for (const [cidr, record] of networks) {
    const leaf = { data: dataSize };
    const bytes = encode(record);
    data.push(bytes);
    dataSize += bytes.length;
    const bits = networkBits(cidr, ipVersion);
    let node = root;
    for (const [i, bit] of bits.entries()) {
      const side = bit === 1 ? 1 : 0;
      if (i === bits.length - 1) {
        node.children[side] = leaf;
        break;
      }
      let next = node.children[side];
      if (next === undefined || !('children' in next)) node.children[side] = next = { children: [next, next] };
      node = next;
    }
  }
  const order: TreeNode[] = [];
  const index = new Map<TreeNode, number>();
  for (const queue: TreeNode[] = [root]; queue.length > 0; ) {
    const n = queue.shift();
    if (n === undefined) break;
    index.set(n, order.length);
    order.push(n);
    for (const c of n.children) if (c !== undefined && 'children' in c) queue.push(c);
  }
  const nodeCount = order.length;
  const tree = Buffer.alloc(nodeCount * 6);
  order.forEach((n, i) =>
    n.children.forEach((c, bit) => {
      const value = c === undefined ? nodeCount : 'children' in c ? (index.get(c) ?? nodeCount) : nodeCount + 16 + c.data;
      tree.writeUIntBE(value, i * 6 + bit * 3, 3);
    }),
  );
  const metadata = encode({
    binary_format_major_version: new Typed('uint16', 2),
    binary_format_minor_version: new Typed('uint16', 0),
    build_epoch: new Typed('uint64', buildEpoch),
    database_type: databaseType,
    description: { en: `review test ${databaseType}` },
    ip_version: new Typed('uint16', ipVersion),
    languages: ['en'],
    node_count: nodeCount,
    record_size: new Typed('uint16', 24),
  });
  return Buffer.concat([tree, Buffer.alloc(16), ...data, METADATA_MARKER, metadata]);
}

// ---------------------------------------------------------------------------------------
// Records and helpers.

const CONTINENT: Readonly<Record<string, string>> = { JP: 'AS', GB: 'EU', US: 'NA', AU: 'OC' };

function geoip2City(city: string, iso: string, latitude: MmdbValue, longitude: MmdbValue): MmdbValue {
  return {
    city: { names: { en: city } },
    continent: { code: CONTINENT[iso] ?? 'EU' },
    country: { iso_code: iso },
    location: { accuracy_radius: new Typed('uint16', 20), latitude, longitude },
  };
}

function flatCity(city: string, iso: string, latitude: number, longitude: number): MmdbValue {
  return { city, country_code: iso, latitude: new Typed('float', latitude), longitude: new Typed('float', longitude), state1: '', timezone: '' };
}

/** Eight good /8 networks starting at `first`: what the validator samples at either end of a tree. */
const goodEnds = (first: number, record: MmdbValue): [string, MmdbValue][] => Array.from({ length: 8 }, (_, i) => [`${first + i}.0.0.0/8`, record]);

async function writeDb(dir: string, name: string, spec: MmdbSpec): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, writeMmdb(spec));
  return path;
}

async function open1(paths: readonly string[]): Promise<GeoDatabase> {
  const db = await openGeoDatabase(paths);
  if (!db.ok) assert.fail(db.error);
  return db.value;
}

/** The open error for these files, checked to name `file`; returns what follows "file: ". */
async function openError(paths: readonly string[], file: string): Promise<string> {
  const db = await openGeoDatabase(paths);
  assert.ok(!db.ok, `${paths.join(', ')} should be refused`);
  assert.ok(db.error.startsWith(`${file}: `), `"${db.error}" should name ${file}`);
  return db.error.slice(file.length + 2);
}

function cityOf(answer: GeoLookup): string {
  return answer.result === 'found' ? (answer.location.city ?? '(no city)') : `(${answer.result})`;
}

const PROBE_IP = '133.11.0.9'; // Tokyo in GEOIP2_DB, Osaka in GEOIP2_MOVED_DB

async function startService(t: TestContext, paths: readonly string[], options: Partial<GeoIpServiceOptions> = {}) {
  const { log, lines } = captureLog();
  const service = createGeoIpService({ paths, log, watch: false, ...options });
  t.after(() => service.close());
  const started = await service.start();
  if (!started.ok) assert.fail(started.error);
  return { service, lines };
}

const rejections = (lines: readonly LogLine[]): LogLine[] => lines.filter((l) => l.msg === 'Rejected GeoIP database');

/** Polls (bounded) until `check` holds; fails naming `what`. */
async function until(what: string, check: () => boolean, timeoutMs = 4_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !check(); await sleep(10)) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
  }
}

const metadataOf = (db: Buffer) => new Reader<Response>(db).metadata;

// ---------------------------------------------------------------------------------------
// Opening bad files.

test('a file cut at any byte (in the search tree, the data section or the metadata) is refused, never thrown', async (t) => {
  for (const file of [GEOIP2_DB, ...FLAT_DBS]) {
    const db = await readFile(file);
    const marker = db.lastIndexOf(METADATA_MARKER);
    assert.ok(marker > 0);
    for (let n = 0; n < db.length; n++) {
      const checked = checkMmdb(db.subarray(0, n), 64);
      assert.ok(!checked.ok, `${file} cut at ${n} bytes was accepted`);
      const expected = n === 0 ? /^empty file$/ : n < marker + METADATA_MARKER.length ? /^not a MaxMind DB file: no metadata marker/ : /^unreadable MaxMind DB metadata: /;
      assert.match(checked.error, expected, `${file} cut at ${n}`);
    }
  }
  // Through the file API the error names the file, wherever the cut is.
  const dir = await tempDir(t);
  const db = await readFile(GEOIP2_DB);
  const { searchTreeSize } = metadataOf(db);
  const marker = db.lastIndexOf(METADATA_MARKER);
  for (const [where, n] of [
    ['tree', Math.floor(searchTreeSize / 2)],
    ['data', searchTreeSize + 16 + 40],
    ['metadata', marker + METADATA_MARKER.length + 30],
  ] as const) {
    const path = join(dir, `cut-in-${where}.mmdb`);
    await writeFile(path, db.subarray(0, n));
    assert.match(await openError([path], path), where === 'metadata' ? /^unreadable MaxMind DB metadata/ : /^not a MaxMind DB file/);
  }
});

test('zeros: a zero-filled file, a zeroed search tree, a zeroed data section, a broken separator', async (t) => {
  const dir = await tempDir(t);
  const db = await readFile(GEOIP2_DB);
  const { searchTreeSize } = metadataOf(db);
  const marker = db.lastIndexOf(METADATA_MARKER);
  const variants: [string, Buffer, RegExp][] = [
    ['zeros.mmdb', Buffer.alloc(db.length), /^not a MaxMind DB file: no metadata marker/],
    ['zero-tree.mmdb', Buffer.from(db).fill(0, 0, searchTreeSize), /^corrupt: search tree is deeper than 128 bits/],
    ['zero-data.mmdb', Buffer.from(db).fill(0, searchTreeSize + 16, marker), /^corrupt: reading the record for .* failed/],
    ['ff-tree.mmdb', Buffer.from(db).fill(0xff, 0, searchTreeSize), /^corrupt: search tree node 0 points at data offset \d+, outside the \d+-byte data section/],
    ['separator.mmdb', Buffer.from(db).fill(7, searchTreeSize + 3, searchTreeSize + 4), /^corrupt: no zero separator/],
  ];
  for (const [name, bytes, reason] of variants) {
    const path = join(dir, name);
    await writeFile(path, bytes);
    assert.match(await openError([path], path), reason, name);
  }
});

test('valid MaxMind DB files that are not City databases are refused, naming the database type', async (t) => {
  const dir = await tempDir(t);
  const asn = { autonomous_system_number: 15169, autonomous_system_organization: 'GOOGLE' };
  const cases: [MmdbSpec, RegExp][] = [
    [{ ipVersion: 6, databaseType: 'GeoLite2-ASN', networks: [['8.8.8.0/24', asn], ['2001:4860::/32', asn]] }, /"GeoLite2-ASN" has records in neither the GeoIP2 City nor the flat city layout/],
    [{ ipVersion: 4, databaseType: 'asn ipv4', networks: [['8.8.8.0/24', asn]] }, /"asn ipv4" has records in neither/],
    [{ ipVersion: 4, databaseType: 'country ipv4', networks: [['8.8.8.0/24', { country_code: 'US' }], ['133.11.0.0/16', { country_code: 'JP' }]] }, /has coordinates; a City database is needed, not "country ipv4"/],
    [{ ipVersion: 6, databaseType: 'GeoIP2-Country', networks: [['8.8.8.0/24', { country: { iso_code: 'US' }, continent: { code: 'NA' } }]] }, /a City database is needed, not "GeoIP2-Country"/],
    [{ ipVersion: 6, databaseType: 'GeoIP2-Anonymous-IP', networks: [['8.8.8.0/24', { is_anonymous: true, is_hosting_provider: true }]] }, /"GeoIP2-Anonymous-IP" has records in neither/],
    [{ ipVersion: 4, databaseType: 'strings', networks: [['8.8.8.0/24', 'Mountain View']] }, /"strings" has records in neither/],
    [{ ipVersion: 4, databaseType: 'GeoIP2-City', networks: [] }, /^holds no records$/],
  ];
  for (const [spec, reason] of cases) {
    const path = await writeDb(dir, `${spec.databaseType}.mmdb`, spec);
    assert.match(await openError([path], path), reason, spec.databaseType);
  }
  // The committed Country fixture too, also beside a good City file of the other IP version.
  const country = fixture('geoip2-country-test.mmdb');
  assert.match(await openError([FLAT_DBS[0], country], country), /a City database is needed, not "GeoIP2-Country"/);
});

test('a sampled record with coordinates out of range or a broken field refuses the file, naming the network and the field', async (t) => {
  const dir = await tempDir(t);
  const cases: [MmdbSpec, RegExp][] = [
    [{ ipVersion: 6, databaseType: 'GeoIP2-City', networks: [['133.11.0.0/24', geoip2City('Tokyo', 'JP', 200, 139.7)]] }, /^bad record for \S+: location\.latitude is 200, not a latitude in \[-90, 90\]$/],
    [{ ipVersion: 4, databaseType: 'GeoIP2-City', networks: [['133.11.0.0/24', geoip2City('Tokyo', 'JP', 35.7, -181)]] }, /^bad record for 133\.11\.0\.0: location\.longitude is -181, not a longitude in \[-180, 180\]$/],
    [{ ipVersion: 4, databaseType: 'city ipv4', networks: [['133.11.0.0/24', flatCity('Tokyo', 'JP', 200, 139.7)]] }, /^bad record for 133\.11\.0\.0: latitude is 200, not a latitude in \[-90, 90\]$/],
    [{ ipVersion: 4, databaseType: 'city ipv4', networks: [['133.11.0.0/24', { country_code: 'JP', latitude: 35.7 }]] }, /^bad record for 133\.11\.0\.0: longitude is missing/],
    [{ ipVersion: 4, databaseType: 'GeoIP2-City', networks: [['133.11.0.0/24', { ...(geoip2City('Tokyo', 'JP', 35.7, 139.7) as object), country: { iso_code: 'jp' } }]] }, /^bad record for 133\.11\.0\.0: country\.iso_code is "jp", not an ISO 3166-1 alpha-2 code$/],
  ];
  for (const [i, [spec, reason]] of cases.entries()) {
    const path = await writeDb(dir, `bad-${i}.mmdb`, spec);
    assert.match(await openError([path], path), reason, String(i));
  }
});

test('bad or partial records away from the sampled ends: the file opens, lookups never throw, bad ones say which field', async (t) => {
  const dir = await tempDir(t);
  const middle: [string, MmdbValue, (a: GeoLookup) => void][] = [
    ['100.0.0.0/8', geoip2City('Nowhere', 'JP', 200, 10), (a) => assert.deepEqual(a, { result: 'not_found', reason: 'location.latitude is 200, not a latitude in [-90, 90]' })],
    ['101.0.0.0/8', { location: { accuracy_radius: new Typed('uint16', 100) } }, (a) => assert.deepEqual(a, { result: 'not_found' })],
    ['102.0.0.0/8', { location: { latitude: 10 } }, (a) => assert.deepEqual(a, { result: 'not_found', reason: 'location.longitude is missing, not a longitude in [-180, 180]' })],
    ['103.0.0.0/8', { continent: { code: 'EU' } }, (a) => assert.deepEqual(a, { result: 'found', location: { continentCode: 'EU' } })],
    ['104.0.0.0/8', { country: { iso_code: 'AU' } }, (a) => assert.deepEqual(a, { result: 'found', location: { countryCode: 'AU', continentCode: 'OC' } })],
    ['105.0.0.0/8', {}, (a) => assert.deepEqual(a, { result: 'not_found' })],
    ['106.0.0.0/8', { registered_country: { iso_code: 'US' } }, (a) => assert.deepEqual(a, { result: 'not_found' })],
    ['107.0.0.0/8', { location: { latitude: '10', longitude: 10 } }, (a) => assert.match(a.result === 'not_found' ? (a.reason ?? '') : '', /^location\.latitude is "10"/)],
    ['108.0.0.0/8', { location: 'here' }, (a) => assert.deepEqual(a, { result: 'not_found', reason: 'location is "here", not a map' })],
    ['109.0.0.0/8', { continent: { code: 'XX' } }, (a) => assert.match(a.result === 'not_found' ? (a.reason ?? '') : '', /^continent\.code is "XX"/)],
    ['110.0.0.0/8', { ...(geoip2City('X', 'JP', 1, 1) as object), location: { latitude: 1, longitude: 1, accuracy_radius: new Typed('int32', -5) } }, (a) => assert.match(a.result === 'not_found' ? (a.reason ?? '') : '', /^location\.accuracy_radius is -5/)],
    ['111.0.0.0/8', [1, 2, 3], (a) => assert.deepEqual(a, { result: 'not_found', reason: 'record is an array, not a map' })],
    ['112.0.0.0/8', 'a string', (a) => assert.equal(a.result, 'not_found')],
    ['113.0.0.0/8', { location: { latitude: 0, longitude: 0 } }, (a) => assert.deepEqual(a, { result: 'found', location: { latitude: 0, longitude: 0 } })],
  ];
  const good = geoip2City('Tokyo', 'JP', 35.6895, 139.6917);
  for (const ipVersion of [4, 6] as const) {
    const path = await writeDb(dir, `middle-v${ipVersion}.mmdb`, {
      ipVersion,
      databaseType: 'GeoIP2-City',
      networks: [...goodEnds(1, good), ...middle.map(([cidr, record]) => [cidr, record] as const), ...goodEnds(200, good)],
    });
    const db = await open1([path]);
    for (const [cidr, , check] of middle) {
      const ip = cidr.replace('.0.0.0/8', '.1.2.3');
      check(db.lookup(ip));
      check(db.lookup(`::ffff:${ip}`));
      check(db.lookup(ip)); // the remembered answer
    }
    assert.equal(cityOf(db.lookup('201.2.3.4')), 'Tokyo');
    for (const ip of ['', 'garbage', '2001:200::1', '::', '::ffff:999.1.1.1', 'fe80::1%', '1.2.3.4%eth0', '\u0000', '1'.repeat(100)]) {
      assert.doesNotThrow(() => db.lookup(ip), JSON.stringify(ip));
    }
  }
});

test('IPv4-only and IPv6-only databases, IPv4-mapped IPv6 addresses', async (t) => {
  const dir = await tempDir(t);
  const v4only = await open1([
    await writeDb(dir, 'v4.mmdb', { ipVersion: 4, databaseType: 'GeoIP2-City', networks: [['133.11.0.0/24', geoip2City('Tokyo', 'JP', 35.6895, 139.6917)]] }),
  ]);
  for (const ip of ['133.11.0.9', '::ffff:133.11.0.9', '::FFFF:850B:9', '0:0:0:0:0:ffff:850b:0009']) assert.equal(cityOf(v4only.lookup(ip)), 'Tokyo', ip);
  // An IPv4 tree cannot answer an IPv6 address: not found, no throw.
  assert.deepEqual(v4only.lookup('2001:200::1'), { result: 'not_found' });
  assert.deepEqual(v4only.lookup('2001:4860:4860::8888'), { result: 'not_found' });

  const v6only = await open1([FLAT_DBS[1]]);
  assert.equal(cityOf(v6only.lookup('2001:200:dff:fff1::1')), 'Tokyo');
  assert.deepEqual(v6only.lookup('133.11.0.9'), { result: 'not_found' });
  assert.deepEqual(v6only.lookup('::ffff:133.11.0.9'), { result: 'not_found' });

  // The bundled layout: one file per version, in either order.
  for (const paths of [FLAT_DBS, [FLAT_DBS[1], FLAT_DBS[0]]]) {
    const both = await open1(paths);
    for (const ip of ['133.11.0.9', '::ffff:133.11.0.9', '2001:200::1']) assert.equal(cityOf(both.lookup(ip)), 'Tokyo', `${ip} in ${paths.join(',')}`);
    assert.equal(both.lookup('::ffff:10.1.2.3').result, 'private');
  }
});

test('two files of the same IP version: the first one listed answers, the second only fills its gaps (no error, no warning)', async (t) => {
  const dir = await tempDir(t);
  const extra = await writeDb(dir, 'extra-v6.mmdb', {
    ipVersion: 6,
    databaseType: 'GeoIP2-City',
    networks: [
      ['133.11.0.0/24', geoip2City('London', 'GB', 51.5, -0.1)],
      ['8.8.8.0/24', geoip2City('Chicago', 'US', 41.8, -87.6)],
    ],
  });
  const db = await open1([GEOIP2_DB, extra]);
  assert.equal(cityOf(db.lookup(PROBE_IP)), 'Tokyo', 'the first file wins where both have the address');
  assert.equal(cityOf(db.lookup('8.8.8.8')), 'Chicago', 'the second file answers where the first has nothing');
  assert.equal(db.info.databaseType, 'GeoIP2-City');

  // Two IPv4 files (the IPv4 file listed twice instead of IPv4 + IPv6) open without complaint,
  // and then no IPv6 client is ever located.
  const twice = await open1([FLAT_DBS[0], FLAT_DBS[0]]);
  assert.deepEqual(twice.info.paths, [FLAT_DBS[0], FLAT_DBS[0]]);
  assert.equal(cityOf(twice.lookup(PROBE_IP)), 'Tokyo');
  assert.deepEqual(twice.lookup('2001:200::1'), { result: 'not_found' });
});

test('paths: a directory, a missing file, a GeoIP2 file beside a flat one', async (t) => {
  const dir = await tempDir(t);
  assert.match(await openError([dir], dir), /^cannot read: EISDIR/);
  const missing = join(dir, 'missing.mmdb');
  assert.match(await openError([FLAT_DBS[0], missing], missing), /^cannot read: ENOENT/);
  assert.match(await openError([FLAT_DBS[0], GEOIP2_DB], GEOIP2_DB), /has the geoip2 layout but .*flat-city-ipv4\.mmdb has the flat layout/);
});

// MaxMind's downloads are .tar.gz archives: gunzipped, a .tar still holds the .mmdb (ustar magic at
// offset 257), and the error says so rather than calling the file corrupt.
test('a tar archive holding the .mmdb (MaxMind download, gunzipped) is refused with an error that says it is a tar archive', async (t) => {
  const dir = await tempDir(t);
  const mmdb = await readFile(GEOIP2_DB);
  const header = Buffer.alloc(512);
  header.write('GeoLite2-City_20260101/GeoLite2-City.mmdb', 0, 'utf8');
  header.write('0000644\0', 100, 'utf8');
  header.write('0000000\0', 108, 'utf8');
  header.write('0000000\0', 116, 'utf8');
  header.write(`${mmdb.length.toString(8).padStart(11, '0')}\0`, 124, 'utf8');
  header.write('15137000000\0', 136, 'utf8');
  header.write('        ', 148, 'utf8');
  header.write('0', 156, 'utf8');
  header.write('ustar\0' + '00', 257, 'latin1');
  let sum = 0;
  for (const b of header) sum += b;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'utf8');
  const padding = Buffer.alloc((512 - (mmdb.length % 512)) % 512);
  const path = join(dir, 'GeoLite2-City.tar');
  await writeFile(path, Buffer.concat([header, mmdb, padding, Buffer.alloc(1024)]));
  const reason = await openError([path], path);
  assert.match(reason, /tar/i, `the reason was: ${reason}`);
});

// ---------------------------------------------------------------------------------------
// The service: reloads.

test('a missing file at start fails naming it; once it appears, start() again loads it and watching works', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'city.mmdb');
  const { log, lines } = captureLog();
  const service = createGeoIpService({ paths: [path], log, settleMs: 10, pollIntervalMs: 50 });
  t.after(() => service.close());
  const first = await service.start();
  assert.ok(!first.ok && first.error.startsWith(`${path}: cannot read: ENOENT`), JSON.stringify(first));
  assert.equal(service.buildTimestampSeconds(), undefined);
  assert.equal(rejections(lines).length, 1);

  await copyFile(GEOIP2_DB, path);
  const second = await service.start();
  assert.ok(second.ok, JSON.stringify(second));
  assert.equal(cityOf(service.current().lookup(PROBE_IP)), 'Tokyo');
  await replaceFile(GEOIP2_MOVED_DB, path);
  await until('the renamed-in file', () => service.buildTimestampSeconds() === EPOCH_MOVED);
  assert.equal(cityOf(service.current().lookup(PROBE_IP)), 'Osaka');
});

test('a file rewritten in place (cp, editors) is never adopted half-written, and is adopted once complete', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'city.mmdb');
  await copyFile(GEOIP2_DB, path);
  const { service, lines } = await startService(t, [path]);
  const inode = (await stat(path)).ino;
  const next = await readFile(GEOIP2_MOVED_DB);
  const { searchTreeSize } = metadataOf(next);
  const marker = next.lastIndexOf(METADATA_MARKER);

  const fh = await open(path, 'w'); // truncates, same inode: what cp and most editors do
  try {
    assert.equal(await service.checkForUpdate(), 'rejected', 'empty');
    // Cut in the tree, in the data section, in the metadata, one byte short.
    for (const end of [searchTreeSize >> 1, searchTreeSize + 100, marker + 20, next.length - 1]) {
      const { size } = await fh.stat();
      await fh.write(next.subarray(size, end), 0, end - size, size);
      assert.equal(await service.checkForUpdate(), 'rejected', `written to ${end} of ${next.length}`);
      assert.equal(cityOf(service.current().lookup(PROBE_IP)), 'Tokyo');
      assert.equal(service.buildTimestampSeconds(), EPOCH_MAIN);
    }
    await fh.write(next.subarray(next.length - 1), 0, 1, next.length - 1);
  } finally {
    await fh.close();
  }
  assert.equal((await stat(path)).ino, inode, 'written in place');
  assert.equal(await service.checkForUpdate(), 'swapped');
  assert.equal(cityOf(service.current().lookup(PROBE_IP)), 'Osaka');
  assert.equal(service.buildTimestampSeconds(), EPOCH_MOVED);
  for (const line of rejections(lines)) assert.equal(line['file'], path);
});

test('with watching on: an in-place write that stalls half-way is refused, the completed one adopted, no lookup failing meanwhile', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'city.mmdb');
  await copyFile(GEOIP2_DB, path);
  const { service, lines } = await startService(t, [path], { watch: true, settleMs: 20, pollIntervalMs: 3_600_000 });
  const seen = new Set<string>();
  let stop = false;
  const loop = (async () => {
    while (!stop) {
      for (let i = 0; i < 20; i++) seen.add(cityOf(service.current().lookup(PROBE_IP)));
      await nextTurn();
    }
  })();
  const next = await readFile(GEOIP2_MOVED_DB);
  const fh = await open(path, 'w');
  try {
    await fh.write(next, 0, next.length >> 1, 0);
    await until('the half-written file to be judged', () => rejections(lines).length > 0);
    assert.equal(service.buildTimestampSeconds(), EPOCH_MAIN, 'the half-written file was not adopted');
    await fh.write(next, next.length >> 1, next.length - (next.length >> 1), next.length >> 1);
  } finally {
    await fh.close();
  }
  await until('the completed file', () => service.buildTimestampSeconds() === EPOCH_MOVED);
  stop = true;
  await loop;
  assert.deepEqual([...seen].sort(), ['Osaka', 'Tokyo']);
  assert.equal(rejections(lines)[0]?.['file'], path);
});

test('with watching on: a corrupt file renamed over is refused with a log line naming it; the old one serves; a good rename is adopted', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'city.mmdb');
  await copyFile(GEOIP2_DB, path);
  const { service, lines } = await startService(t, [path], { watch: true, settleMs: 20, pollIntervalMs: 3_600_000 });
  const corrupt = join(dir, 'staged');
  await writeFile(corrupt, Buffer.alloc(4096));
  await rename(corrupt, path);
  await until('the rejection', () => rejections(lines).length === 1);
  const line = rejections(lines)[0];
  assert.equal(line?.level, 50);
  assert.equal(line?.['file'], path);
  assert.match(String(line?.['reason']), /^not a MaxMind DB file/);
  assert.equal(cityOf(service.current().lookup(PROBE_IP)), 'Tokyo');
  await replaceFile(GEOIP2_MOVED_DB, path);
  await until('the good file', () => service.buildTimestampSeconds() === EPOCH_MOVED);
  assert.ok(lines.some((l) => l.msg === 'Replaced GeoIP database' && l['previousBuildEpochSeconds'] === EPOCH_MAIN));
});

test('with watching on: the file deleted while serving keeps the database; a path turned into a directory too; the file back is adopted', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'city.mmdb');
  await copyFile(GEOIP2_DB, path);
  const { service, lines } = await startService(t, [path], { watch: true, settleMs: 20, pollIntervalMs: 3_600_000 });
  const before = service.current();
  await rm(path);
  await until('the deletion to be noticed', () => rejections(lines).length === 1);
  assert.match(String(rejections(lines)[0]?.['reason']), /^cannot read: ENOENT/);
  assert.equal(service.current(), before);
  assert.equal(cityOf(service.current().lookup(PROBE_IP)), 'Tokyo');
  assert.equal(cityOf(service.current().lookup('81.2.69.142')), 'London', 'records not read before the deletion are still there');

  await mkdir(path);
  await until('the directory to be refused', () => rejections(lines).length === 2);
  assert.match(String(rejections(lines)[1]?.['reason']), /^cannot read: EISDIR/);
  assert.equal(service.current(), before);

  await rm(path, { recursive: true });
  await copyFile(GEOIP2_MOVED_DB, path);
  await until('the file back', () => service.buildTimestampSeconds() === EPOCH_MOVED);
  assert.equal(cityOf(service.current().lookup(PROBE_IP)), 'Osaka');
});

// Each new version is read once (the same look is not read again), and each refused one is logged,
// even for the same reason as the last (two truncated downloads in a row).
test('every new corrupt version of the file gets its own log line, even when it fails for the same reason as the last', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'city.mmdb');
  await copyFile(GEOIP2_DB, path);
  const { service, lines } = await startService(t, [path]);
  const next = await readFile(GEOIP2_MOVED_DB);
  const cut1 = join(dir, 'cut1');
  const cut2 = join(dir, 'cut2');
  await writeFile(cut1, next.subarray(0, 1000));
  await writeFile(cut2, next.subarray(0, 3000));
  await replaceFile(cut1, path);
  assert.equal(await service.checkForUpdate(), 'rejected');
  assert.equal(rejections(lines).length, 1);
  await replaceFile(cut2, path);
  assert.equal(await service.checkForUpdate(), 'rejected', 'the second version was read and refused');
  assert.equal(cityOf(service.current().lookup(PROBE_IP)), 'Tokyo');
  assert.equal(rejections(lines).length, 2, 'the second corrupt version was refused without a log line');
});

// A start() that meets a file being written fails with "try again" and schedules a check, which may
// load the file; the retried start() must still watch the files.
test('start() again after "changed while being read; try again" watches the files', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'city.mmdb');
  await copyFile(GEOIP2_DB, path);
  // The file changes while the first start() reads it (a writer still at work): its mtime moves once.
  const fsp = createRequire(import.meta.url)('node:fs/promises') as { readFile: typeof readFile };
  const original = fsp.readFile;
  let touched = false;
  fsp.readFile = (async (...args: Parameters<typeof readFile>) => {
    const bytes = await original(...args);
    if (!touched) {
      touched = true;
      const later = new Date(Date.now() + 10_000);
      await utimes(path, later, later);
    }
    return bytes;
  }) as typeof readFile;
  syncBuiltinESMExports();
  const { log } = captureLog();
  const service = createGeoIpService({ paths: [path], log, settleMs: 10, pollIntervalMs: 50 });
  t.after(() => service.close());
  let first: Awaited<ReturnType<GeoIpService['start']>>;
  try {
    first = await service.start();
  } finally {
    fsp.readFile = original;
    syncBuiltinESMExports();
  }
  assert.ok(!first.ok && /changed while being read .*try again/.test(first.error), JSON.stringify(first));
  await until('the scheduled check', () => service.buildTimestampSeconds() === EPOCH_MAIN);
  const again = await service.start();
  assert.ok(again.ok);
  await replaceFile(GEOIP2_MOVED_DB, path);
  await until('the renamed-in file (fs.watch, or the 50 ms poll)', () => service.buildTimestampSeconds() === EPOCH_MOVED);
});

test('meridian_geoip_database_build_timestamp_seconds: the oldest file of the database in force, through reloads and rejections', async (t) => {
  const dir = await tempDir(t);
  const v4 = join(dir, 'city-ipv4.mmdb');
  const v6 = join(dir, 'city-ipv6.mmdb');
  const tokyo = (ipVersion: 4 | 6, buildEpoch: number): MmdbSpec => ({
    ipVersion,
    databaseType: `city ipv${ipVersion}`,
    buildEpoch,
    networks: [[ipVersion === 4 ? '133.11.0.0/24' : '2001:200::/32', flatCity('Tokyo', 'JP', 35.69, 139.69)]],
  });
  await writeFile(v4, writeMmdb(tokyo(4, 1_700_000_300)));
  await writeFile(v6, writeMmdb(tokyo(6, 1_700_000_100)));
  const { service } = await startService(t, [v4, v6]);
  const registry = new Registry();
  registerRedirectMetrics(registry, () => service.buildTimestampSeconds());
  const exported = async (): Promise<number> => {
    const text = await registry.getSingleMetricAsString('meridian_geoip_database_build_timestamp_seconds');
    const m = /^meridian_geoip_database_build_timestamp_seconds (\S+)$/m.exec(text);
    assert.ok(m?.[1], text);
    return Number(m[1]);
  };
  assert.equal(await exported(), 1_700_000_100);
  assert.equal(service.current().info.buildEpochSeconds, 1_700_000_100);

  const staged = join(dir, 'staged');
  await writeFile(staged, writeMmdb(tokyo(6, 1_700_000_900)));
  await rename(staged, v6);
  assert.equal(await service.checkForUpdate(), 'swapped');
  assert.equal(await exported(), 1_700_000_300, 'now the IPv4 file is the older one');

  await writeFile(staged, Buffer.alloc(100));
  await rename(staged, v4);
  assert.equal(await service.checkForUpdate(), 'rejected');
  assert.equal(await exported(), 1_700_000_300, 'a refused file does not move the gauge');
  assert.equal(cityOf(service.current().lookup('2001:200::1')), 'Tokyo');
});

test('the redirect over a reloading database: decisions never throw, follow the new file, ignore a corrupt one', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'city.mmdb');
  const placed = (city: string, iso: string, lat: number, lon: number, buildEpoch: number): Buffer =>
    writeMmdb({ ipVersion: 6, databaseType: 'GeoIP2-City', buildEpoch, networks: [['133.11.0.0/24', geoip2City(city, iso, lat, lon)]] });
  await writeFile(path, placed('Tokyo', 'JP', 35.69, 139.69, EPOCH_MAIN));
  const { service } = await startService(t, [path]);
  const trusted = parseTrustedProxies([]);
  assert.ok(trusted.ok);
  const routing = table();
  const redirect = createRedirectService({
    routing: () => routing,
    geo: () => service.current(),
    trusted: trusted.value,
    metrics: registerRedirectMetrics(new Registry(), () => service.buildTimestampSeconds()),
    now: () => performance.now(),
    cacheSize: 64,
  });
  const regionOf = (socketAddress: string): string => {
    const { decision } = redirect.decide({ socketAddress, headers: {}, regionParam: undefined });
    return decision.kind === 'proxy' ? decision.region : '(unavailable)';
  };
  assert.equal(regionOf(PROBE_IP), 'tokyo');
  assert.equal(regionOf(`::ffff:${PROBE_IP}`), 'tokyo');

  const staged = join(dir, 'staged');
  await writeFile(staged, (await readFile(path)).subarray(0, 200));
  await rename(staged, path);
  assert.equal(await service.checkForUpdate(), 'rejected');
  assert.equal(regionOf(PROBE_IP), 'tokyo');

  await writeFile(staged, placed('London', 'GB', 51.51, -0.13, EPOCH_MOVED));
  await rename(staged, path);
  assert.equal(await service.checkForUpdate(), 'swapped');
  assert.equal(regionOf(PROBE_IP), 'london', 'the remembered answer went with the old database');
  for (const ip of ['garbage', '', '2001:200::1', '10.0.0.1', '::1', '1'.repeat(80)]) assert.doesNotThrow(() => regionOf(ip), ip);
});
