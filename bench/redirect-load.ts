/**
 * The login redirect under load: requests/s and latency of GET / (and deep links under /web)
 * on Meridian's public app, against a bare fastify route that answers a fixed 302 (same
 * fastify, same logger at the same level), both measured in this run with the same load. The
 * baseline keeps fastify's default of a pino child logger per request; Meridian's public app
 * does without one (about a microsecond a request, see public-app.ts).
 * Targets (issue #3): at least 0.85x the bare route's throughput; p99 under 2 ms at 5,000 req/s.
 * Issue #5: with an opt-in canary active (its proxies out of everyone else's candidates, the
 * invitation cookie looked for on every request), throughput within 5% of the same app without
 * it (max-load rounds only).
 *
 * Each server runs in a process of its own (this file with `--serve meridian|bare`); the load
 * generator (autocannon, and a paced open-loop generator) runs in this process. On a 2-core
 * machine that gives the server under test one core and the load generator the other.
 *
 * Meridian's app is wired as src/main.ts wires it: the bundled GeoLite2 database through the
 * GeoIP service, prom-client metrics on a registry with the default process metrics, trusted
 * proxies 127.0.0.1/32, a decision cache of 100,000, and the demo fleet of
 * examples/fleet/fleet.yaml (14 proxies, 6 regions), every proxy up and ready. The routing
 * table is rebuilt every 5 s (the default observation interval), which empties the decision
 * cache as production does. Clients are a pool of public addresses on six continents (see
 * client-pool.ts), sent as X-Forwarded-For from the loopback peer.
 *
 * Two latency figures at 5,000 req/s, because autocannon's `overallRate` is not a steady rate:
 * each connection sends its share of the second back to back, then waits for the next second
 * (so the server sees bursts at full speed). The paced run (paced-load.ts) spreads requests
 * evenly, open loop, and also runs against a raw node:net server that answers a fixed 302
 * without parsing anything: the latency floor of this machine (a VM's wake-up latency shows
 * there, not in any server).
 *
 * BENCH_CPU_PROF=1 profiles both servers (V8's sampling profiler, as --cpu-prof, but only
 * during the max-load and the paced rounds), writes
 * $TMPDIR/meridian-bench-profiles/redirect-{meridian,bare}-{max,paced}.cpuprofile and prints
 * where the time goes (profile-summary.ts). The profiler slows the servers: take the figures
 * from a run without it. bench/redirect-hotpath.ts gives the in-process cost of each step.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { PerformanceObserver } from 'node:perf_hooks';
import net from 'node:net';
import http from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import autocannon from 'autocannon';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import pino, { type Logger } from 'pino';
import { defaultGeoIpPaths, openGeoDatabase } from '../src/adapters/geoip/index.js';
import { buildPublicApp } from '../src/redirect/public-app.js';
import { describePool, drawClientPool, type PoolClient } from './client-pool.js';
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

type ServerKind = 'meridian' | 'canary' | 'bare' | 'floor';
/** The canary server: an opt-in canary on one Tokyo and one London proxy, invitations on, no client invited. */
const CANARY_PROXIES = ['tokyo-1', 'london-1'];
const PROFILE_DIR = join(tmpdir(), 'meridian-bench-profiles');
const PROFILING = Boolean(process.env['BENCH_CPU_PROF']);

// ---------------------------------------------------------------------------------------------
// Server processes

/** The same base logger for both: pino at info (what `meridian start` uses), to stderr; the public app lowers it to warn. */
function serverLog(): Logger {
  return pino({ level: 'info' }, pino.destination(2));
}

async function meridianApp(log: Logger, canaryProxies?: readonly string[]) {
  const { redirects } = await meridianRedirects(log, REBUILD_MS, canaryProxies ? { canaryProxies } : {});
  return buildPublicApp({ log, redirects });
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
  const app = kind === 'floor' ? await floorServer() : kind === 'meridian' ? await meridianApp(log) : kind === 'canary' ? await meridianApp(log, CANARY_PROXIES) : await bareApp(log);
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
        return reply({ ...process.cpuUsage(), gcCount: gc.count, gcMs: gc.ms });
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

// ---------------------------------------------------------------------------------------------
// Load generation and figures

interface ServerUsage extends NodeJS.CpuUsage {
  readonly gcCount: number;
  readonly gcMs: number;
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

/** One request per pool address, a quarter of them deep links; the same address always asks for the same path. */
function requestsOf(pool: readonly PoolClient[]): RequestSpec[] {
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
  readonly server: { cpuUs: number; sysUs: number; gcCount: number; gcMs: number };
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
    server: { cpuUs: after.user - before.user + sysUs, sysUs, gcCount: after.gcCount - before.gcCount, gcMs: after.gcMs - before.gcMs },
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
  };
}

/** Round-by-round ratios of a to b (rounds that ran next to each other), sorted, and their median. */
function pairedRatios(a: LoadFigures, b: LoadFigures): { sorted: number[]; median: number } {
  const sorted = a.perRun.map((x, i) => x / (b.perRun[i] ?? Number.NaN)).filter(Number.isFinite).sort((x, y) => x - y);
  const n = sorted.length;
  const median = n === 0 ? Number.NaN : n % 2 ? (sorted[(n - 1) / 2] ?? 0) : ((sorted[n / 2 - 1] ?? 0) + (sorted[n / 2] ?? 0)) / 2;
  return { sorted, median };
}

/**
 * autocannon against one server; latencies are taken from its per-response times (µs precision)
 * as well as its own histogram. Each connection gets its own window of the requests: autocannon
 * encodes every request of `requests` for every connection when it starts, inside the timed
 * duration (4,000 requests x 32 connections would spend seconds of the run encoding).
 */
function cannon(server: Server, requests: readonly RequestSpec[], opts: { seconds: number; connections: number; overallRate?: number }): Promise<LoadRun> {
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
          requests: [{ method: 'GET', ...requests[0] }],
          setupClient: (client) => client.setRequests(windowOf(requests, nextClient++, opts.connections).map((r) => ({ method: 'GET', ...r }))),
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
  const db = await openGeoDatabase(paths);
  if (!db.ok) throw new Error(db.error);
  const pool = drawClientPool(db.value, { size: POOL, v6File: paths[1] ?? '' });
  const requests = requestsOf(pool);

  const [bare, meridian, floor, canary] = await Promise.all([startServer('bare'), startServer('meridian'), startServer('floor'), startServer('canary')]);
  try {
    const regions = await decisionsOf(meridian, pool);
    const probe = await fetch(new URL('/web/cluster/main', meridian.url), { redirect: 'manual', headers: { 'x-forwarded-for': pool[0]?.ip ?? '' } });
    if (probe.status !== 302) throw new Error(`Meridian answered ${probe.status} to a login request`);
    const fastify = [bare, meridian] as const;

    // Warm-up (JIT, connections), not measured.
    for (const s of [...fastify, canary]) await cannon(s, requests, { seconds: 2, connections: CONNECTIONS });
    for (const s of [floor, ...fastify]) await paced(s, requests, RATE, 0.5);

    // Every kind of run alternates between the servers, round by round, so that a noisy
    // moment of the machine falls on both rather than on one.
    const runs = new Map<string, LoadRun[]>();
    const add = (key: string, run: LoadRun): void => void runs.set(key, [...(runs.get(key) ?? []), run]);
    if (PROFILING) await Promise.all(fastify.map((s) => s.command('prof-start')));
    for (let i = 0; i < ROUNDS; i++) for (const s of [...fastify, canary]) add(`max ${s.kind}`, await cannon(s, requests, { seconds: MAX_SECONDS, connections: CONNECTIONS }));
    const profiles = PROFILING ? await Promise.all(fastify.map((s) => s.command<{ file: string }>('prof-stop max'))) : [];
    for (let i = 0; i < LATENCY_ROUNDS; i++) for (const s of fastify) add(`rated ${s.kind}`, await cannon(s, requests, { seconds: RATE_SECONDS / LATENCY_ROUNDS, connections: RATE_CONNECTIONS, overallRate: RATE }));
    if (PROFILING) await Promise.all(fastify.map((s) => s.command('prof-start')));
    for (let i = 0; i < 2 * LATENCY_ROUNDS; i++) for (const s of [floor, ...fastify]) add(`paced ${s.kind}`, await paced(s, requests, RATE, RATE_SECONDS / (2 * LATENCY_ROUNDS)));
    if (PROFILING) profiles.push(...(await Promise.all(fastify.map((s) => s.command<{ file: string }>('prof-stop paced')))));
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
    const m = fig('max meridian');
    const b = fig('max bare');
    if (!m || !b) throw new Error('no max-load runs');

    console.log(`login redirect, ${pool.length} clients via X-Forwarded-For, demo fleet (14 proxies, 6 regions, all ready), table rebuilt every ${REBUILD_MS / 1000} s${PROFILING ? '   ** PROFILED RUN: max-load figures include the profiler **' : ''}`);
    console.log(`  clients     ${describePool(pool)}`);
    console.log(`  decisions   ${[...regions].map(([k, v]) => `${k} ${v}`).join(', ')}; a quarter of requests are deep links under /web`);
    console.log(`  machine     ${cpus().length} CPUs, load average ${load0.map((x) => x.toFixed(2)).join(' ')} at start, ${loadavg().map((x) => x.toFixed(2)).join(' ')} at end`);
    console.log(`max load: autocannon, ${CONNECTIONS} connections, ${ROUNDS} rounds of ${MAX_SECONDS} s per server, alternating`);
    // Rounds alternate, so each Meridian round has a bare round next to it in time: the median of
    // those pairs' ratios is the verdict, as a drifting machine moves the ratio of sums with it.
    const paired = pairedRatios(m, b);
    console.log(`  throughput  ${m.rps.toFixed(0)} req/s   baseline ${b.rps.toFixed(0)} req/s   paired ratio ${paired.median.toFixed(2)}x (target >= 0.85: ${verdict(paired.median >= 0.85)})   ratio of sums ${r(m.rps, b.rps)}`);
    console.log(`  rounds      ${each(m)}; baseline ${each(b)}; ratios ${paired.sorted.map((x) => x.toFixed(2)).join(' ')}`);
    console.log(`  latency     p50 ${ms(m.p50)}  p99 ${ms(m.p99)}   baseline p50 ${ms(b.p50)}  p99 ${ms(b.p99)}   ratio p99 ${r(m.p99, b.p99)}   (closed loop: latency = connections / throughput)`);
    console.log(`  server CPU  ${cpuText(m)}   baseline ${cpuText(b)}   ratio ${r(m.cpuUsPerReq, b.cpuUsPerReq)}   difference ${(m.cpuUsPerReq - b.cpuUsPerReq).toFixed(1)} us/request`);
    console.log(`  server GC   ${gcText(m)}   baseline ${gcText(b)}`);
    const c = fig('max canary');
    if (c) {
      const pc = pairedRatios(c, m).median;
      console.log(`  canary rule ${c.rps.toFixed(0)} req/s with an opt-in canary on ${CANARY_PROXIES.join(' and ')} (no client invited)   paired ratio to Meridian without it ${pc.toFixed(2)}x (target >= 0.95: ${verdict(pc >= 0.95)})   [rounds: ${each(c)}]`);
    }
    console.log(`  load gen    ${m.genUsPerReq.toFixed(1)} us/request   baseline ${b.genUsPerReq.toFixed(1)} us/request   (autocannon, this process)`);
    const sections = [
      ['rated', `autocannon overallRate ${RATE}, ${RATE_CONNECTIONS} connections, ${LATENCY_ROUNDS} x ${RATE_SECONDS / LATENCY_ROUNDS} s (bursts: each connection sends ${RATE / RATE_CONNECTIONS}/s back to back, then waits for the next second)`],
      ['paced', `paced open loop, ${2 * LATENCY_ROUNDS} x ${RATE_SECONDS / (2 * LATENCY_ROUNDS)} s (evenly spread, timed from dispatch)`],
    ] as const;
    for (const [key, label] of sections) {
      const mm = fig(`${key} meridian`);
      const bb = fig(`${key} bare`);
      const ff = fig(`${key} floor`);
      if (!mm || !bb) continue;
      console.log(`at ${RATE} req/s: ${label}`);
      console.log(`  achieved    ${mm.rps.toFixed(0)} req/s   baseline ${bb.rps.toFixed(0)} req/s${ff ? `   floor ${ff.rps.toFixed(0)} req/s` : ''}`);
      console.log(`  latency     p50 ${ms(mm.p50)}  p99 ${ms(mm.p99)} (target < 2 ms: ${verdict(mm.p99 < 2)})  p99.9 ${ms(mm.p999)}   baseline p50 ${ms(bb.p50)}  p99 ${ms(bb.p99)}  p99.9 ${ms(bb.p999)}   ratio p99 ${r(mm.p99, bb.p99)}`);
      if (ff) console.log(`  floor       p50 ${ms(ff.p50)}  p99 ${ms(ff.p99)}  p99.9 ${ms(ff.p999)}   (raw socket server, fixed answer: what this machine adds to any server)`);
      if (key === 'rated') console.log(`  autocannon's own p99 per round (whole ms, corrected for coordinated omission at 1 ms per connection): ${mm.cannonP99.join(' ')} ms, baseline ${bb.cannonP99.join(' ')} ms`);
      console.log(`  server CPU  ${cpuText(mm)}   baseline ${cpuText(bb)}   (Meridian: ${((mm.cpuUsPerReq * mm.rps) / 1e4).toFixed(0)}% of a core at this rate)`);
      console.log(`  server GC   ${gcText(mm)}   baseline ${gcText(bb)}`);
    }
    const bad = [...runs].map(([key, rs]) => [key, figures(rs).bad] as const).filter(([, x]) => x);
    if (bad.length) {
      console.log(`  UNEXPECTED answers: ${bad.map(([key, x]) => `${key}: ${x}`).join('; ')}`);
      process.exitCode = 1;
    }
    for (const { file } of profiles) {
      // The file name, not the path: the profile directory's name says "meridian" too.
      const name = basename(file);
      const phase = name.includes('-max') ? 'max' : 'paced';
      const kind = name.startsWith('redirect-meridian-') ? 'meridian' : 'bare';
      const served = fig(`${phase} ${kind}`)?.count;
      console.log(`profile of ${kind === 'meridian' ? 'Meridian' : 'the baseline'} during the ${phase === 'max' ? 'max-load' : 'paced'} rounds (${file})`);
      printProfileSummary(summariseProfile(file), served, kind === 'bare');
    }
  } finally {
    await Promise.all([bare.close(), meridian.close(), floor.close(), canary.close()]);
  }
}

const serveAt = process.argv.indexOf('--serve');
if (serveAt >= 0) {
  const kind = process.argv[serveAt + 1];
  if (kind !== 'meridian' && kind !== 'canary' && kind !== 'bare' && kind !== 'floor') throw new Error('--serve meridian|canary|bare|floor');
  await serve(kind);
} else {
  await main();
}
