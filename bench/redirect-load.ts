/**
 * The login redirect under load: requests/s and latency of GET / (and deep links under /web)
 * on Meridian's public app, against a bare fastify route that answers a fixed 302 (same
 * fastify, same logger at the same level) and a naive geo redirect (fastify with trustProxy,
 * maxmind's reader on the same database, a country -> region map), all measured in this run
 * with the same load. The baselines keep fastify's default of a pino child logger per request;
 * Meridian's public app does without one (about a microsecond a request, see public-app.ts).
 *
 * Two kinds of clients (issue #16): repeated (client-pool.ts: a few thousand addresses, so
 * nearly every answer comes from Meridian's decision caches) and distinct (distinct-clients.ts:
 * a new address on every request, as real logins come). For each, the share of Meridian's
 * answers that were remembered rather than worked out, from its own metrics.
 * Targets (issues #3, #16): repeated clients at least 0.85x the bare route's throughput;
 * distinct clients at least 0.9x the naive redirect and 0.6x the bare route; p99 under 2 ms at
 * 5,000 req/s. Issue #5: with an opt-in canary active (its proxies out of everyone else's
 * candidates, the invitation cookie looked for on every request), throughput within 5% of the
 * same app without it (max-load rounds only).
 *
 * Each server runs in a process of its own (this file with `--serve meridian|bare`); the load
 * generator (autocannon, and a paced open-loop generator) runs in this process. On a 2-core
 * machine that gives the server under test one core and the load generator the other.
 *
 * Meridian's app is wired as src/main.ts wires it: the bundled GeoLite2 database through the
 * GeoIP service, prom-client metrics on a registry with the default process metrics, trusted
 * proxies 127.0.0.1/32, a decision cache of 100,000, and the demo fleet of
 * examples/fleet/fleet.yaml (14 proxies, 6 regions), every proxy up and ready. The routing
 * table is rebuilt every 5 s (the default observation interval); as in production, a rebuild
 * that changes no candidate keeps the decision caches. Client addresses are sent as
 * X-Forwarded-For from the loopback peer.
 *
 * Two latency figures at 5,000 req/s, because autocannon's `overallRate` is not a steady rate:
 * each connection sends its share of the second back to back, then waits for the next second
 * (so the server sees bursts at full speed). The paced run (paced-load.ts) spreads requests
 * evenly, open loop, and also runs against a raw node:net server that answers a fixed 302
 * without parsing anything: the latency floor of this machine (a VM's wake-up latency shows
 * there, not in any server).
 *
 * --profile (or BENCH_CPU_PROF=1) profiles Meridian's server (V8's sampling profiler, as
 * --cpu-prof, but only during the max-load rounds of each kind of client), writes
 * $TMPDIR/meridian-bench-profiles/redirect-meridian-{max,distinct}.cpuprofile and prints where
 * the time goes (profile-summary.ts: the request path, modules, top functions by self time).
 * The profiler slows the server: take the figures from a run without it.
 * bench/redirect-hotpath.ts gives the in-process cost of each step.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { PerformanceObserver } from 'node:perf_hooks';
import net from 'node:net';
import http from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import autocannon from 'autocannon';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import maxmind, { type Response } from 'maxmind';
import type { Registry } from 'prom-client';
import pino, { type Logger } from 'pino';
import { COUNTRY_CONTINENTS, defaultGeoIpPaths, openGeoDatabase } from '../src/adapters/geoip/index.js';
import { buildPublicApp } from '../src/redirect/public-app.js';
import { describePool, drawClientPool, type PoolClient } from './client-pool.js';
import { distinctClients, encodeRequests } from './distinct-clients.js';
import { pacedLoad } from './paced-load.js';
import { meridianRedirects } from './redirect-fixture.js';
import { printProfileSummary, summariseProfile } from './profile-summary.js';

const POOL = Number(process.env['BENCH_POOL'] ?? 4000);
// Many short rounds, alternating: this VM's speed drifts by a third within seconds, and a pair
// of neighbouring rounds sees the same machine (the verdict is the median of the pairs' ratios).
const MAX_SECONDS = Number(process.env['BENCH_SECONDS'] ?? 1.5);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 8);
// The 5,000 req/s runs: latency, not throughput, so fewer and longer rounds.
const LATENCY_ROUNDS = 2;
const CONNECTIONS = 32;
const RATE = 5000;
const RATE_SECONDS = 4;
const RATE_CONNECTIONS = 10; // autocannon's default
const REBUILD_MS = 5000;
const DEEP_LINK = '/web/cluster/main/nodes?sort=hostname%3Aasc&query=labels.env%3D%3D%22prod%22';

type ServerKind = 'meridian' | 'canary' | 'bare' | 'naive' | 'floor';
/** The canary server: an opt-in canary on one Tokyo and one London proxy, invitations on, no client invited. */
const CANARY_PROXIES = ['tokyo-1', 'london-1'];
const PROFILE_DIR = join(tmpdir(), 'meridian-bench-profiles');
const PROFILING = process.argv.includes('--profile') || Boolean(process.env['BENCH_CPU_PROF']);
// Distinct clients: a fresh slice of addresses for every round, never sent to a server twice
// (each server is its own process, so every server gets the same slices). Enough per connection
// for a round at 40k req/s; a connection that ran out would start over, and the hit rate would show it.
const DISTINCT_PER_CONNECTION = 2000;
const DISTINCT_PER_ROUND = DISTINCT_PER_CONNECTION * CONNECTIONS;
const DISTINCT_PACED = RATE * 1.2;

// ---------------------------------------------------------------------------------------------
// Server processes

/** The same base logger for both: pino at info (what `meridian start` uses), to stderr; the public app lowers it to warn. */
function serverLog(): Logger {
  return pino({ level: 'info' }, pino.destination(2));
}

/** The baseline: the same routes answering a fixed 302, on fastify's defaults with the public app's logger. */
async function bareApp(log: Logger) {
  const app = Fastify({ loggerInstance: log.child({ listener: 'public' }, { level: 'warn' }), routerOptions: { maxParamLength: 2048 } });
  const handler = (_req: FastifyRequest, reply: FastifyReply): FastifyReply => reply.code(302).header('location', 'https://london-1.proxy.example.com/').send();
  app.get('/', handler);
  app.get('/web', handler);
  app.get('/web/*', handler);
  return app;
}

/**
 * A naive geo redirect: fastify with trustProxy (the same trusted peer), the bundled database
 * through maxmind's Reader (its default cache), a country -> region map by continent, a 302 to
 * the region's first proxy. What one would write in an afternoon.
 */
async function naiveApp(log: Logger) {
  const [v4File, v6File] = defaultGeoIpPaths();
  if (!v4File || !v6File) throw new Error('the bundled GeoIP package has an IPv4 and an IPv6 file');
  const [v4, v6] = await Promise.all([maxmind.open<Response>(v4File), maxmind.open<Response>(v6File)]);
  const byContinent: Record<string, string> = { EU: 'london-1', AF: 'london-1', AS: 'tokyo-1', OC: 'sydney-1', SA: 'sao-paulo-1', NA: 'chicago-1' };
  const regionUrl: Record<string, string> = {};
  for (const [country, continent] of COUNTRY_CONTINENTS) regionUrl[country] = `https://${byContinent[continent] ?? 'london-1'}.proxy.example.com/`;
  const app = Fastify({ loggerInstance: log.child({ listener: 'public' }, { level: 'warn' }), trustProxy: '127.0.0.1', routerOptions: { maxParamLength: 2048 } });
  const handler = (req: FastifyRequest, reply: FastifyReply): FastifyReply => {
    // The bundled files' flat layout: country_code at the top.
    const record = (net.isIP(req.ip) === 6 ? v6 : v4).get(req.ip) as { country_code?: string } | null;
    const url = (record?.country_code && regionUrl[record.country_code]) || 'https://london-1.proxy.example.com/';
    return reply.code(302).header('location', url).send();
  };
  app.get('/', handler);
  app.get('/web', handler);
  app.get('/web/*', handler);
  return app;
}

/** The machine's floor: a raw socket server answering every request with a fixed 302, no HTTP parsing, no framework. */
function floorServer(): Promise<{ url: string; close: () => Promise<void> }> {
  const answer = Buffer.from('HTTP/1.1 302 Found\r\nlocation: https://london-1.proxy.example.com/\r\ncontent-length: 0\r\n\r\n', 'latin1');
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      for (let at = chunk.indexOf('\r\n\r\n'); at >= 0; at = chunk.indexOf('\r\n\r\n', at + 4)) socket.write(answer);
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      resolve({ url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((r) => server.close(() => r())) });
    });
  });
}

/**
 * Server process: prints {"url"} once listening, then answers commands on stdin, one a line:
 * "cpu" (its CPU time and GC pauses so far), "prof-start", "prof-stop NAME" (writes the profile). Exits when stdin closes.
 */
async function serve(kind: ServerKind): Promise<void> {
  const log = serverLog();
  const meridian = kind === 'meridian' || kind === 'canary' ? await meridianRedirects(log, REBUILD_MS, kind === 'canary' ? { canaryProxies: CANARY_PROXIES } : {}) : undefined;
  const app =
    kind === 'floor' ? await floorServer() : meridian ? await buildPublicApp({ log, redirects: meridian.redirects }) : kind === 'naive' ? await naiveApp(log) : await bareApp(log);
  const url = 'url' in app ? app.url : await app.listen({ host: '127.0.0.1', port: 0 });
  const reply = (v: unknown): void => void process.stdout.write(`${JSON.stringify(v)}\n`);
  reply({ url });
  const session = new Session();
  // Garbage collection pauses (every kind), for the figures.
  const gc = { count: 0, ms: 0 };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gc.count++;
      gc.ms += e.duration;
    }
  }).observe({ entryTypes: ['gc'] });
  const input = createInterface({ input: process.stdin });
  input.on('line', (line) => {
    void (async () => {
      if (line === 'cpu') {
        return reply({ ...process.cpuUsage(), gcCount: gc.count, gcMs: gc.ms, ...(meridian ? await answersOf(meridian.registry) : {}) });
      }
      if (line === 'prof-start') {
        session.connect();
        await session.post('Profiler.enable');
        await session.post('Profiler.setSamplingInterval', { interval: 200 });
        await session.post('Profiler.start');
        return reply({ ok: true });
      }
      if (line.startsWith('prof-stop ')) {
        const { profile } = await session.post('Profiler.stop');
        session.disconnect();
        mkdirSync(PROFILE_DIR, { recursive: true });
        const file = `${PROFILE_DIR}/redirect-${kind}-${line.slice('prof-stop '.length)}.cpuprofile`;
        writeFileSync(file, JSON.stringify(profile));
        return reply({ file });
      }
    })();
  });
  input.on('close', () => void app.close().then(() => process.exit(0)));
}

/** Meridian's own counts: every redirect (and 503), and the decisions worked out (the rest were remembered). */
async function answersOf(registry: Registry): Promise<{ answered: number; workedOut: number }> {
  const sum = async (name: string, metricName = name): Promise<number> =>
    (((await registry.getSingleMetric(name)?.get())?.values ?? []) as { metricName?: string; value: number }[])
      .filter((v) => v.metricName === undefined || v.metricName === metricName)
      .reduce((a, v) => a + v.value, 0);
  return { answered: await sum('meridian_redirects_total'), workedOut: await sum('meridian_redirect_duration_seconds', 'meridian_redirect_duration_seconds_count') };
}

// ---------------------------------------------------------------------------------------------
// Load generation and figures

interface ServerUsage extends NodeJS.CpuUsage {
  readonly gcCount: number;
  readonly gcMs: number;
  /** Meridian only (answersOf). */
  readonly answered?: number;
  readonly workedOut?: number;
}

interface Server {
  readonly kind: ServerKind;
  readonly url: string;
  /** CPU time the server process has used so far (µs), and its garbage collections. */
  cpu(): Promise<ServerUsage>;
  /** Sends one command line, resolves with the JSON answer. */
  command<T>(line: string): Promise<T>;
  close(): Promise<void>;
}

async function startServer(kind: ServerKind): Promise<Server> {
  const child: ChildProcessByStdio<Writable, Readable, null> = spawn(process.execPath, ['--import', 'tsx', 'bench/redirect-load.ts', '--serve', kind], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  const lines: Interface = createInterface({ input: child.stdout });
  const waiting: ((line: string) => void)[] = [];
  lines.on('line', (line) => waiting.shift()?.(line));
  const nextLine = (): Promise<string> =>
    new Promise<string>((resolve, reject) => {
      waiting.push(resolve);
      void exited.then((code) => reject(new Error(`${kind} server exited with ${code}`)));
    });
  const { url } = JSON.parse(await nextLine()) as { url: string };
  const command = async <T>(line: string): Promise<T> => {
    const answer = nextLine();
    child.stdin.write(`${line}\n`);
    return JSON.parse(await answer) as T;
  };
  return {
    kind,
    url,
    command,
    cpu: () => command<ServerUsage>('cpu'),
    async close() {
      child.stdin.end();
      await exited;
    },
  };
}

interface RequestSpec {
  readonly path: string;
  readonly headers: Record<string, string>;
}

/** One request per address, a quarter of them deep links; the same address always asks for the same path. */
function requestsOf(pool: readonly Pick<PoolClient, 'ip'>[]): RequestSpec[] {
  return pool.map((c, i) => ({ path: i % 4 === 3 ? DEEP_LINK : '/', headers: { 'x-forwarded-for': c.ip } }));
}

/** Connection i of n: its own slice of the requests, so that together the connections send every client. */
function windowOf<T>(xs: readonly T[], i: number, n: number): T[] {
  const size = Math.ceil(xs.length / n);
  return xs.slice((i % n) * size, (i % n) * size + size);
}

function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(sorted.length * q) - 1))] ?? NaN;
}

/** One timed run against one server: raw material for the figures, merged over rounds. */
interface LoadRun {
  /** ms, one per answer. */
  readonly latencies: Float64Array;
  readonly wallS: number;
  readonly server: { cpuUs: number; sysUs: number; gcCount: number; gcMs: number; answered: number; workedOut: number };
  /** The load generator's CPU, µs (this process). */
  readonly genUs: number;
  readonly statusCounts: ReadonlyMap<string, number>;
  readonly errors: number;
  /** autocannon's own p99 (whole ms; corrected for coordinated omission when rate-limited). */
  readonly cannonP99?: number;
}

interface LoadFigures {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  /** Server CPU per answered request, µs: user + system, and system alone. */
  readonly cpuUsPerReq: number;
  readonly sysUsPerReq: number;
  readonly genUsPerReq: number;
  /** Server garbage collection pauses per 1,000 requests: how many, and ms. */
  readonly gcPer1k: number;
  readonly gcMsPer1k: number;
  readonly count: number;
  /** Requests/s of each run. */
  readonly perRun: readonly number[];
  readonly cannonP99: readonly number[];
  /** Anything but 302, and connection errors. */
  readonly bad: string;
  /** Meridian: share of answers remembered rather than worked out (decision caches); undefined for the others. */
  readonly hitRate: number | undefined;
}

async function measured(server: Server, load: () => Promise<Omit<LoadRun, 'server' | 'genUs'>>): Promise<LoadRun> {
  const before = await server.cpu();
  const gen0 = process.cpuUsage();
  const run = await load();
  const gen = process.cpuUsage(gen0);
  const after = await server.cpu();
  const sysUs = after.system - before.system;
  return {
    ...run,
    server: {
      cpuUs: after.user - before.user + sysUs,
      sysUs,
      gcCount: after.gcCount - before.gcCount,
      gcMs: after.gcMs - before.gcMs,
      answered: (after.answered ?? 0) - (before.answered ?? 0),
      workedOut: (after.workedOut ?? 0) - (before.workedOut ?? 0),
    },
    genUs: gen.user + gen.system,
  };
}

function figures(runs: readonly LoadRun[]): LoadFigures {
  const n = runs.reduce((a, r) => a + r.latencies.length, 0);
  const all = new Float64Array(n);
  let at = 0;
  for (const r of runs) {
    all.set(r.latencies, at);
    at += r.latencies.length;
  }
  all.sort();
  const sum = (f: (r: LoadRun) => number): number => runs.reduce((a, r) => a + f(r), 0);
  const d = Math.max(1, n);
  const codes = new Map<string, number>();
  for (const r of runs) for (const [k, v] of r.statusCounts) codes.set(k, (codes.get(k) ?? 0) + v);
  const errors = sum((r) => r.errors);
  const bad = [...[...codes].filter(([code]) => code !== '302').map(([code, k]) => `${k}x ${code}`), ...(errors ? [`${errors} errors`] : [])].join(', ');
  return {
    rps: n / sum((r) => r.wallS),
    p50: quantile(all, 0.5),
    p99: quantile(all, 0.99),
    p999: quantile(all, 0.999),
    cpuUsPerReq: sum((r) => r.server.cpuUs) / d,
    sysUsPerReq: sum((r) => r.server.sysUs) / d,
    genUsPerReq: sum((r) => r.genUs) / d,
    gcPer1k: (sum((r) => r.server.gcCount) * 1000) / d,
    gcMsPer1k: (sum((r) => r.server.gcMs) * 1000) / d,
    count: n,
    perRun: runs.map((r) => r.latencies.length / r.wallS),
    cannonP99: runs.flatMap((r) => (r.cannonP99 === undefined ? [] : [r.cannonP99])),
    bad,
    hitRate: sum((r) => r.server.answered) > 0 ? 1 - sum((r) => r.server.workedOut) / sum((r) => r.server.answered) : undefined,
  };
}

/** Round-by-round ratios of a to b (rounds that ran next to each other), sorted, and their median. */
function pairedRatios(a: LoadFigures, b: LoadFigures): { sorted: number[]; median: number } {
  const sorted = a.perRun.map((x, i) => x / (b.perRun[i] ?? Number.NaN)).filter(Number.isFinite).sort((x, y) => x - y);
  const n = sorted.length;
  const median = n === 0 ? Number.NaN : n % 2 ? (sorted[(n - 1) / 2] ?? 0) : ((sorted[n / 2 - 1] ?? 0) + (sorted[n / 2] ?? 0)) / 2;
  return { sorted, median };
}

/** What each autocannon connection sends: connection i of n. */
type Feed = (client: autocannon.Client, i: number, n: number) => void;

/**
 * Each connection gets its own window of the requests: autocannon encodes every request of
 * `requests` for every connection when it starts, inside the timed duration (4,000 requests
 * x 32 connections would spend seconds of the run encoding).
 */
const specFeed =
  (requests: readonly RequestSpec[]): Feed =>
  (client, i, n) =>
    client.setRequests(windowOf(requests, i, n).map((r) => ({ method: 'GET', ...r })));

/** The part of autocannon's client that sends requests (lib/requestIterator.js): it sends each request's `requestBuffer`. */
interface RequestIterator {
  requests: { requestBuffer: Buffer }[];
  currentRequestIndex: number;
  currentRequest: { requestBuffer: Buffer } | undefined;
}

/**
 * Requests encoded before the run (distinct-clients.ts), handed to autocannon's request
 * iterator as they are: setRequests would encode tens of thousands per connection inside the
 * timed run, and a setupRequest per request would put that encoding on the hot path.
 */
const bytesFeed =
  (requests: readonly Buffer[]): Feed =>
  (client, i, n) => {
    const it = (client as unknown as { requestIterator: RequestIterator }).requestIterator;
    it.requests = windowOf(requests, i, n).map((requestBuffer) => ({ requestBuffer }));
    it.currentRequestIndex = 0;
    it.currentRequest = it.requests[0];
  };

/**
 * autocannon against one server; latencies are taken from its per-response times (µs precision)
 * as well as its own histogram.
 */
function cannon(server: Server, feed: Feed, opts: { seconds: number; connections: number; overallRate?: number }): Promise<LoadRun> {
  return measured(server, async () => {
    const lat: number[] = [];
    let nextClient = 0;
    const result = await new Promise<autocannon.Result>((resolve, reject) => {
      const instance = autocannon(
        {
          url: server.url,
          connections: opts.connections,
          duration: opts.seconds,
          ...(opts.overallRate ? { overallRate: opts.overallRate } : {}),
          requests: [{ method: 'GET', path: '/' }],
          setupClient: (client) => feed(client, nextClient++, opts.connections),
        },
        (err, res) => (err ? reject(err) : resolve(res)),
      );
      instance.on('response', (_client, _status, _bytes, ms) => lat.push(ms));
    });
    return {
      latencies: Float64Array.from(lat),
      wallS: result.duration,
      statusCounts: new Map(Object.entries(result.statusCodeStats).map(([k, v]) => [k, v.count])),
      errors: result.errors,
      ...(opts.overallRate ? { cannonP99: result.latency.p99 } : {}),
    };
  });
}

/** paced-load.ts against one server. */
function paced(server: Server, requests: readonly RequestSpec[], rate: number, seconds: number): Promise<LoadRun> {
  return measured(server, async () => {
    const r = await pacedLoad({ url: server.url, requests, rate, seconds });
    return { latencies: r.latenciesMs, wallS: r.wallS, statusCounts: new Map([...r.statusCounts].map(([k, v]) => [String(k), v])), errors: r.errors };
  });
}

/** Asks Meridian's /nearest where each pool client goes: checks the wiring and warms the caches. */
async function decisionsOf(server: Server, pool: readonly PoolClient[]): Promise<Map<string, number>> {
  const byRegion = new Map<string, number>();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const get = (ip: string): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      http
        .get(new URL('/nearest', server.url), { agent, headers: { 'x-forwarded-for': ip } }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        })
        .on('error', reject);
    });
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < pool.length) {
        const c = pool[next++] as PoolClient;
        const r = await get(c.ip);
        if (r.status !== 200) throw new Error(`/nearest for ${c.ip}: ${r.status} ${r.body}`);
        const { region, reason } = JSON.parse(r.body) as { region: string; reason: string };
        if (reason !== 'nearest') throw new Error(`/nearest for ${c.ip} (${c.country}): reason ${reason}, expected nearest`);
        byRegion.set(region, (byRegion.get(region) ?? 0) + 1);
      }
    }),
  );
  agent.destroy();
  return byRegion;
}

async function main(): Promise<void> {
  const load0 = loadavg();
  const paths = defaultGeoIpPaths();
  const [v4File, v6File] = paths;
  if (!v4File || !v6File) throw new Error('the bundled GeoIP package has an IPv4 and an IPv6 file');
  const db = await openGeoDatabase(paths);
  if (!db.ok) throw new Error(db.error);
  const pool = drawClientPool(db.value, { size: POOL, v6File });
  const requests = requestsOf(pool);
  const repeated = specFeed(requests);
  // Distinct clients: one slice per warm-up and max round (each server gets the same slices), one per paced round.
  const pacedRuns = 2 * LATENCY_ROUNDS;
  const needed = (ROUNDS + 1) * DISTINCT_PER_ROUND + pacedRuns * DISTINCT_PACED;
  const distinct = distinctClients({ count: Math.ceil(needed / 100_000) * 100_000, v4File, v6File });
  let cursor = 0;
  const take = (n: number): string[] => distinct.slice(cursor, (cursor += n));
  const distinctRound = (): Feed => bytesFeed(encodeRequests('127.0.0.1', take(DISTINCT_PER_ROUND), DEEP_LINK));

  const [bare, naive, meridian, floor, canary] = await Promise.all([startServer('bare'), startServer('naive'), startServer('meridian'), startServer('floor'), startServer('canary')]);
  try {
    const regions = await decisionsOf(meridian, pool);
    for (const s of [meridian, naive]) {
      const probe = await fetch(new URL('/web/cluster/main', s.url), { redirect: 'manual', headers: { 'x-forwarded-for': pool[0]?.ip ?? '' } });
      if (probe.status !== 302) throw new Error(`${s.kind} answered ${probe.status} to a login request`);
    }
    const fastify = [bare, naive, meridian] as const;

    // Warm-up (JIT, connections), not measured.
    for (const s of [...fastify, canary]) await cannon(s, repeated, { seconds: 2, connections: CONNECTIONS });
    const warm = distinctRound();
    for (const s of fastify) await cannon(s, warm, { seconds: 1, connections: CONNECTIONS });
    for (const s of [floor, bare, meridian]) await paced(s, requests, RATE, 0.5);

    // Every kind of run alternates between the servers, round by round, so that a noisy
    // moment of the machine falls on all of them rather than on one.
    const runs = new Map<string, LoadRun[]>();
    const add = (key: string, run: LoadRun): void => void runs.set(key, [...(runs.get(key) ?? []), run]);
    const max = { seconds: MAX_SECONDS, connections: CONNECTIONS };
    const profiles: { file: string; key: string }[] = [];
    const profiled = async (key: string, phase: () => Promise<void>): Promise<void> => {
      if (PROFILING) await meridian.command('prof-start');
      await phase();
      if (PROFILING) profiles.push({ key, ...(await meridian.command<{ file: string }>(`prof-stop ${key.split(' ')[0] ?? ''}`)) });
    };
    await profiled('max meridian', async () => {
      for (let i = 0; i < ROUNDS; i++) for (const s of [...fastify, canary]) add(`max ${s.kind}`, await cannon(s, repeated, max));
    });
    await profiled('distinct meridian', async () => {
      for (let i = 0; i < ROUNDS; i++) {
        const feed = distinctRound();
        for (const s of fastify) add(`distinct ${s.kind}`, await cannon(s, feed, max));
      }
    });
    for (let i = 0; i < LATENCY_ROUNDS; i++) for (const s of [bare, meridian]) add(`rated ${s.kind}`, await cannon(s, repeated, { seconds: RATE_SECONDS / LATENCY_ROUNDS, connections: RATE_CONNECTIONS, overallRate: RATE }));
    for (let i = 0; i < pacedRuns; i++) for (const s of [floor, bare, meridian]) add(`paced ${s.kind}`, await paced(s, requests, RATE, RATE_SECONDS / pacedRuns));
    for (let i = 0; i < pacedRuns; i++) {
      const fresh = requestsOf(take(DISTINCT_PACED).map((ip) => ({ ip })));
      for (const s of fastify) add(`dpaced ${s.kind}`, await paced(s, fresh, RATE, RATE_SECONDS / pacedRuns));
    }
    const fig = (key: string): LoadFigures | undefined => {
      const r = runs.get(key);
      return r ? figures(r) : undefined;
    };

    // Figures.
    const verdict = (ok: boolean): string => (ok ? 'ok' : 'MISSED');
    const ms = (x: number): string => `${x.toFixed(2)} ms`;
    const r = (a: number, b: number): string => `${(a / b).toFixed(2)}x`;
    const each = (f: LoadFigures): string => f.perRun.map((x) => x.toFixed(0)).join(' ');
    const gcText = (f: LoadFigures): string => `${f.gcPer1k.toFixed(2)} pauses, ${f.gcMsPer1k.toFixed(2)} ms per 1,000 requests`;
    const cpuText = (f: LoadFigures): string => `${f.cpuUsPerReq.toFixed(1)} us/request (system ${f.sysUsPerReq.toFixed(1)})`;
    const hits = (f: LoadFigures): string => (f.hitRate === undefined ? 'n/a' : `${(100 * f.hitRate).toFixed(1)}%`);
    const m = fig('max meridian');
    const b = fig('max bare');
    const n = fig('max naive');
    const dm = fig('distinct meridian');
    const db_ = fig('distinct bare');
    const dn = fig('distinct naive');
    if (!m || !b || !n || !dm || !db_ || !dn) throw new Error('no max-load runs');

    console.log(`login redirect, demo fleet (14 proxies, 6 regions, all ready), table rebuilt every ${REBUILD_MS / 1000} s${PROFILING ? '   ** PROFILED RUN: max-load figures include the profiler **' : ''}`);
    console.log(`  servers     meridian: the public app; bare: fastify answering a fixed 302; naive: fastify + maxmind (default cache) + a country map, trustProxy; all with X-Forwarded-For from 127.0.0.1`);
    console.log(`  repeated    ${describePool(pool)}`);
    console.log(`  distinct    a new address per request: ${DISTINCT_PER_ROUND} fresh ones per round (${DISTINCT_PER_CONNECTION} per connection), none sent twice to a server, drawn over the same continents (20% IPv6), encoded before the run`);
    console.log(`  decisions   ${[...regions].map(([k, v]) => `${k} ${v}`).join(', ')}; a quarter of requests are deep links under /web`);
    console.log(`  machine     ${cpus().length} CPUs, load average ${load0.map((x) => x.toFixed(2)).join(' ')} at start, ${loadavg().map((x) => x.toFixed(2)).join(' ')} at end`);
    console.log(`max load: autocannon, ${CONNECTIONS} connections, ${ROUNDS} rounds of ${MAX_SECONDS} s per server and scenario, alternating between servers`);
    // Rounds alternate, so each Meridian round has a bare round next to it in time: the median of
    // those pairs' ratios is the verdict, as a drifting machine moves the ratio of sums with it.
    const paired = pairedRatios(m, b);
    console.log(`repeated clients`);
    console.log(`  throughput  ${m.rps.toFixed(0)} req/s   bare ${b.rps.toFixed(0)} req/s   naive ${n.rps.toFixed(0)} req/s`);
    console.log(`  ratios      to bare ${paired.median.toFixed(2)}x (target >= 0.85: ${verdict(paired.median >= 0.85)})   to naive ${pairedRatios(m, n).median.toFixed(2)}x   naive to bare ${pairedRatios(n, b).median.toFixed(2)}x   (medians of neighbouring rounds' ratios)`);
    console.log(`  rounds      ${each(m)}; bare ${each(b)}; naive ${each(n)}; ratios to bare ${paired.sorted.map((x) => x.toFixed(2)).join(' ')}`);
    console.log(`  hit rate    ${hits(m)} of Meridian's answers remembered (decision caches), ${(100 - 100 * (m.hitRate ?? 0)).toFixed(1)}% worked out`);
    console.log(`  latency     p50 ${ms(m.p50)}  p99 ${ms(m.p99)}   bare p50 ${ms(b.p50)}  p99 ${ms(b.p99)}   (closed loop: latency = connections / throughput)`);
    console.log(`  server CPU  ${cpuText(m)}   bare ${cpuText(b)}   naive ${cpuText(n)}`);
    console.log(`  server GC   ${gcText(m)}   bare ${gcText(b)}`);
    const c = fig('max canary');
    if (c) {
      const pc = pairedRatios(c, m).median;
      console.log(`  canary rule ${c.rps.toFixed(0)} req/s with an opt-in canary on ${CANARY_PROXIES.join(' and ')} (no client invited)   paired ratio to Meridian without it ${pc.toFixed(2)}x (target >= 0.95: ${verdict(pc >= 0.95)})   [rounds: ${each(c)}]`);
    }
    console.log(`  load gen    ${m.genUsPerReq.toFixed(1)} us/request   bare ${b.genUsPerReq.toFixed(1)} us/request   (autocannon, this process)`);
    const dToNaive = pairedRatios(dm, dn);
    const dToBare = pairedRatios(dm, db_);
    console.log(`distinct clients`);
    console.log(`  throughput  ${dm.rps.toFixed(0)} req/s   bare ${db_.rps.toFixed(0)} req/s   naive ${dn.rps.toFixed(0)} req/s`);
    console.log(`  ratios      to naive ${dToNaive.median.toFixed(2)}x (target >= 0.9: ${verdict(dToNaive.median >= 0.9)})   to bare ${dToBare.median.toFixed(2)}x (target >= 0.6: ${verdict(dToBare.median >= 0.6)})   naive to bare ${pairedRatios(dn, db_).median.toFixed(2)}x`);
    console.log(`  rounds      ${each(dm)}; bare ${each(db_)}; naive ${each(dn)}; ratios to naive ${dToNaive.sorted.map((x) => x.toFixed(2)).join(' ')}`);
    console.log(`  hit rate    ${hits(dm)} of Meridian's answers remembered (decision caches)`);
    console.log(`  server CPU  ${cpuText(dm)}   bare ${cpuText(db_)}   naive ${cpuText(dn)}   Meridian - naive ${(dm.cpuUsPerReq - dn.cpuUsPerReq).toFixed(1)} us/request`);
    console.log(`  server GC   ${gcText(dm)}   naive ${gcText(dn)}`);
    console.log(`  load gen    ${dm.genUsPerReq.toFixed(1)} us/request   bare ${db_.genUsPerReq.toFixed(1)} us/request   (autocannon, pre-encoded requests)`);
    const sections = [
      ['rated', 'repeated clients', `autocannon overallRate ${RATE}, ${RATE_CONNECTIONS} connections, ${LATENCY_ROUNDS} x ${RATE_SECONDS / LATENCY_ROUNDS} s (bursts: each connection sends ${RATE / RATE_CONNECTIONS}/s back to back, then waits for the next second)`],
      ['paced', 'repeated clients', `paced open loop, ${pacedRuns} x ${RATE_SECONDS / pacedRuns} s (evenly spread, timed from dispatch)`],
      ['dpaced', 'distinct clients', `paced open loop, ${pacedRuns} x ${RATE_SECONDS / pacedRuns} s, a fresh address per request`],
    ] as const;
    for (const [key, who, label] of sections) {
      const mm = fig(`${key} meridian`);
      const bb = fig(`${key} bare`);
      const ff = fig(`${key} floor`);
      const nn = fig(`${key} naive`);
      if (!mm || !bb) continue;
      console.log(`at ${RATE} req/s, ${who}: ${label}`);
      console.log(`  achieved    ${mm.rps.toFixed(0)} req/s   bare ${bb.rps.toFixed(0)} req/s${ff ? `   floor ${ff.rps.toFixed(0)} req/s` : ''}${nn ? `   naive ${nn.rps.toFixed(0)} req/s` : ''}`);
      console.log(`  latency     p50 ${ms(mm.p50)}  p99 ${ms(mm.p99)} (target < 2 ms: ${verdict(mm.p99 < 2)})  p99.9 ${ms(mm.p999)}   bare p50 ${ms(bb.p50)}  p99 ${ms(bb.p99)}  p99.9 ${ms(bb.p999)}`);
      if (nn) console.log(`  naive       p50 ${ms(nn.p50)}  p99 ${ms(nn.p99)}  p99.9 ${ms(nn.p999)}`);
      if (ff) console.log(`  floor       p50 ${ms(ff.p50)}  p99 ${ms(ff.p99)}  p99.9 ${ms(ff.p999)}   (raw socket server, fixed answer: what this machine adds to any server)`);
      if (key === 'rated') console.log(`  autocannon's own p99 per round (whole ms, corrected for coordinated omission at 1 ms per connection): ${mm.cannonP99.join(' ')} ms, bare ${bb.cannonP99.join(' ')} ms`);
      console.log(`  server CPU  ${cpuText(mm)}   bare ${cpuText(bb)}   (Meridian: ${((mm.cpuUsPerReq * mm.rps) / 1e4).toFixed(0)}% of a core at this rate; hit rate ${hits(mm)})`);
      console.log(`  server GC   ${gcText(mm)}   bare ${gcText(bb)}`);
    }
    const bad = [...runs].map(([key, rs]) => [key, figures(rs).bad] as const).filter(([, x]) => x);
    if (bad.length) {
      console.log(`  UNEXPECTED answers: ${bad.map(([key, x]) => `${key}: ${x}`).join('; ')}`);
      process.exitCode = 1;
    }
    for (const { file, key } of profiles) {
      console.log(`profile of Meridian during the ${key.startsWith('distinct') ? 'distinct-client' : 'repeated-client'} max-load rounds (${file})`);
      printProfileSummary(summariseProfile(file), fig(key)?.count);
    }
  } finally {
    await Promise.all([bare.close(), naive.close(), meridian.close(), floor.close(), canary.close()]);
  }
}

const serveAt = process.argv.indexOf('--serve');
if (serveAt >= 0) {
  const kind = process.argv[serveAt + 1];
  if (kind !== 'meridian' && kind !== 'canary' && kind !== 'bare' && kind !== 'naive' && kind !== 'floor') throw new Error('--serve meridian|canary|bare|naive|floor');
  await serve(kind);
} else {
  await main();
}
