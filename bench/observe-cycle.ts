/**
 * One full observation cycle of 2,000 simulated proxies (the simulator runs in a child process):
 * wall time, CPU seconds and peak RSS of the observer, against a baseline of bare keep-alive
 * GETs of the same URLs (no parsing, no snapshot) measured in the same run.
 * Targets (issue #2): a cycle under 2 s, under 0.5 CPU-s, under 250 MB RSS.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import { createInterface } from 'node:readline';
import pino from 'pino';
import PQueue from 'p-queue';
import { createDiagnosticClient } from '../src/adapters/teleport/diagnostic-client.js';
import type { ProxyFleetSpec } from '../src/model/fleet.js';
import { EMPTY_SNAPSHOT, type FleetSnapshot } from '../src/model/snapshot.js';
import { createObserver } from '../src/observer/observer.js';

const PROXIES = Number(process.env['BENCH_PROXIES'] ?? 2000);
const CYCLES = 5;
const CONCURRENCY = 64;
const TIMEOUT_MS = 5000;

const child = spawn(process.execPath, ['--import', 'tsx', 'bench/sim-fleet-child.ts', String(PROXIES)], { stdio: ['pipe', 'pipe', 'inherit'] });
const firstLine = await new Promise<string>((resolve, reject) => {
  createInterface({ input: child.stdout }).once('line', resolve);
  child.once('exit', (code) => reject(new Error(`simulator exited with ${code}`)));
});
const proxies = JSON.parse(firstLine) as { name: string; region: string; diagnosticUrl: string }[];
const spec: ProxyFleetSpec = {
  regions: ['tokyo', 'sydney', 'london', 'chicago', 'new-york', 'sao-paulo'].map((name) => ({ name, latitude: 0, longitude: 0, timeZone: 'UTC' })),
  proxies: proxies.map((p) => ({ ...p, publicUrl: `https://${p.name}.example.com`, version: '17.4.2' })),
};

interface Sample {
  wallS: number;
  cpuS: number;
}
function measure<T>(fn: () => Promise<T>): Promise<[T, Sample]> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  return fn().then((v) => {
    const cpu = process.cpuUsage(cpu0);
    return [v, { wallS: (performance.now() - t0) / 1000, cpuS: (cpu.user + cpu.system) / 1e6 }];
  });
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const p95 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(xs.length * 0.95) - 1)] ?? NaN;

// Baseline: the least any scraper must do — two keep-alive GETs per proxy, bodies read and dropped.
const agent = new http.Agent({ keepAlive: true, maxFreeSockets: 2 });
function bareGet(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (res) => {
        res.on('data', () => undefined);
        res.on('end', resolve);
      })
      .on('error', reject);
  });
}
async function baselineCycle(): Promise<void> {
  const q = new PQueue({ concurrency: CONCURRENCY });
  await Promise.all(proxies.map((p) => q.add(() => Promise.all([bareGet(`${p.diagnosticUrl}/metrics`), bareGet(`${p.diagnosticUrl}/readyz`)]))));
}

const client = createDiagnosticClient({ timeoutMs: TIMEOUT_MS, maxBodyBytes: 4 << 20, log: pino({ level: 'silent' }) });
const observer = createObserver({
  scrape: (url, signal) => client.scrape(url, signal),
  clock: { now: () => Date.now() },
  concurrency: CONCURRENCY,
  timeoutMs: TIMEOUT_MS,
  jitterMs: 0,
  log: pino({ level: 'silent' }),
});

const base: Sample[] = [];
const obs: Sample[] = [];
let snapshot: FleetSnapshot = EMPTY_SNAPSHOT;
await baselineCycle(); // warm-up: connections and JIT
snapshot = await observer.observe(spec, snapshot);
for (let i = 0; i < CYCLES; i++) {
  base.push((await measure(baselineCycle))[1]);
  const [s, sample] = await measure(() => observer.observe(spec, snapshot));
  snapshot = s;
  obs.push(sample);
}
const up = snapshot.proxies.filter((p) => p.up).length;
const rssMb = process.resourceUsage().maxRSS / 1024;
client.close();
agent.destroy();
child.stdin.end();

const wall = median(obs.map((s) => s.wallS));
const cpu = median(obs.map((s) => s.cpuS));
const baseWall = median(base.map((s) => s.wallS));
const baseCpu = median(base.map((s) => s.cpuS));
const perProxyMs = snapshot.proxies.map((p) => p.scrapeDurationMs);
const verdict = (ok: boolean): string => (ok ? 'ok' : 'MISSED');
console.log(`observation cycle, ${PROXIES} proxies, concurrency ${CONCURRENCY}, median of ${CYCLES} cycles (${up}/${PROXIES} up)`);
console.log(`  wall      ${wall.toFixed(3)} s   (target < 2 s: ${verdict(wall < 2)})   baseline ${baseWall.toFixed(3)} s   ratio ${(wall / baseWall).toFixed(2)}x`);
console.log(`  CPU       ${cpu.toFixed(3)} s   (target < 0.5 s: ${verdict(cpu < 0.5)})   baseline ${baseCpu.toFixed(3)} s   ratio ${(cpu / baseCpu).toFixed(2)}x`);
console.log(`  peak RSS  ${rssMb.toFixed(0)} MB  (target < 250 MB: ${verdict(rssMb < 250)})`);
console.log(`  per-proxy scrape latency  p50 ${median(perProxyMs).toFixed(1)} ms  p95 ${p95(perProxyMs).toFixed(1)} ms  max ${Math.max(...perProxyMs).toFixed(1)} ms`);
console.log(`  throughput  ${(PROXIES / wall).toFixed(0)} proxies/s`);
