/**
 * One full observation cycle of 2,000 simulated proxies (the simulator runs in a child process):
 * wall time, CPU seconds and peak RSS of the observer, against a baseline of bare keep-alive
 * GETs of the same URLs (no parsing, no snapshot).
 * Targets (issue #2): a cycle under 2 s, under 0.5 CPU-s, under 250 MB RSS.
 *
 * Peak RSS (`maxRSS`) is a high-water mark for the whole process, so the baseline runs in a
 * process of its own (this file with `--baseline`, the URLs on stdin) after the observer's
 * figures are taken: its thousands of keep-alive sockets would otherwise count against the observer.
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
const CYCLES = Number(process.env['BENCH_CYCLES'] ?? 5);
const CONCURRENCY = 64;
const TIMEOUT_MS = 5000;

interface Sample {
  wallS: number;
  cpuS: number;
}
/** What a process reports of its own run: its cycles and its peak RSS. */
interface Figures {
  samples: Sample[];
  rssMb: number;
}

async function measure<T>(fn: () => Promise<T>): Promise<[T, Sample]> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const v = await fn();
  const cpu = process.cpuUsage(cpu0);
  return [v, { wallS: (performance.now() - t0) / 1000, cpuS: (cpu.user + cpu.system) / 1e6 }];
}
const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);
const median = (xs: number[]): number => sorted(xs)[Math.floor(xs.length / 2)] ?? NaN;
const p95 = (xs: number[]): number => sorted(xs)[Math.min(xs.length - 1, Math.ceil(xs.length * 0.95) - 1)] ?? NaN;
const maxRssMb = (): number => process.resourceUsage().maxRSS / 1024;

function firstLine(input: NodeJS.ReadableStream, exited?: Promise<number | null>): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    createInterface({ input }).once('line', resolve);
    void exited?.then((code) => reject(new Error(`child exited with ${code} before answering`)));
  });
}

/** Baseline: the least any scraper must do — two keep-alive GETs per proxy, bodies read and dropped. */
async function runBaseline(urls: readonly string[]): Promise<Figures> {
  const agent = new http.Agent({ keepAlive: true, maxFreeSockets: 2 });
  const bareGet = (url: string): Promise<void> =>
    new Promise((resolve, reject) => {
      http
        .get(url, { agent }, (res) => {
          res.on('data', () => undefined);
          res.on('end', resolve);
        })
        .on('error', reject);
    });
  const cycle = async (): Promise<void> => {
    const q = new PQueue({ concurrency: CONCURRENCY });
    await Promise.all(urls.map((u) => q.add(() => Promise.all([bareGet(`${u}/metrics`), bareGet(`${u}/readyz`)]))));
  };
  await cycle(); // warm-up: connections and JIT
  const samples: Sample[] = [];
  for (let i = 0; i < CYCLES; i++) samples.push((await measure(cycle))[1]);
  const rssMb = maxRssMb();
  agent.destroy();
  return { samples, rssMb };
}

if (process.argv.includes('--baseline')) {
  const urls = JSON.parse(await firstLine(process.stdin)) as string[];
  process.stdout.write(`${JSON.stringify(await runBaseline(urls))}\n`);
  process.exit(0);
}

const sim = spawn(process.execPath, ['--import', 'tsx', 'bench/sim-fleet-child.ts', String(PROXIES)], { stdio: ['pipe', 'pipe', 'inherit'] });
const simExited = new Promise<number | null>((r) => sim.once('exit', r));
const proxies = JSON.parse(await firstLine(sim.stdout, simExited)) as { name: string; region: string; diagnosticUrl: string }[];
const spec: ProxyFleetSpec = {
  regions: ['tokyo', 'sydney', 'london', 'chicago', 'new-york', 'sao-paulo'].map((name) => ({ name, latitude: 0, longitude: 0, timeZone: 'UTC' })),
  proxies: proxies.map((p) => ({ ...p, publicUrl: `https://${p.name}.example.com`, version: '17.4.2' })),
};

const startRssMb = maxRssMb();
const client = createDiagnosticClient({ timeoutMs: TIMEOUT_MS, maxBodyBytes: 4 << 20, log: pino({ level: 'silent' }) });
const observer = createObserver({
  scrape: (url, signal) => client.scrape(url, signal),
  clock: { now: () => Date.now() },
  concurrency: CONCURRENCY,
  timeoutMs: TIMEOUT_MS,
  jitterMs: 0,
  log: pino({ level: 'silent' }),
});

// The observer's figures first, and its peak RSS before anything else runs in this process.
const obs: Sample[] = [];
let snapshot: FleetSnapshot = await observer.observe(spec, EMPTY_SNAPSHOT); // warm-up: connections and JIT
for (let i = 0; i < CYCLES; i++) {
  const [s, sample] = await measure(() => observer.observe(spec, snapshot));
  snapshot = s;
  obs.push(sample);
}
const rssMb = maxRssMb();
client.close();

// Then the baseline, in a process of its own.
const baselineChild = spawn(process.execPath, ['--import', 'tsx', 'bench/observe-cycle.ts', '--baseline'], { stdio: ['pipe', 'pipe', 'inherit'] });
const baselineExited = new Promise<number | null>((r) => baselineChild.once('exit', r));
baselineChild.stdin.end(`${JSON.stringify(proxies.map((p) => p.diagnosticUrl))}\n`);
const base = JSON.parse(await firstLine(baselineChild.stdout, baselineExited)) as Figures;
sim.stdin.end();

const up = snapshot.proxies.filter((p) => p.up).length;
const wall = median(obs.map((s) => s.wallS));
const cpu = median(obs.map((s) => s.cpuS));
const baseWall = median(base.samples.map((s) => s.wallS));
const baseCpu = median(base.samples.map((s) => s.cpuS));
const perProxyMs = snapshot.proxies.map((p) => p.scrapeDurationMs);
const verdict = (ok: boolean): string => (ok ? 'ok' : 'MISSED');
const each = (xs: Sample[], k: keyof Sample): string => xs.map((s) => s[k].toFixed(2)).join(' ');
console.log(`observation cycle, ${PROXIES} proxies, concurrency ${CONCURRENCY}, median of ${CYCLES} cycles (${up}/${PROXIES} up)`);
console.log(`  wall      ${wall.toFixed(3)} s   (target < 2 s: ${verdict(wall < 2)})   baseline ${baseWall.toFixed(3)} s   ratio ${(wall / baseWall).toFixed(2)}x   [cycles: ${each(obs, 'wallS')}]`);
console.log(`  CPU       ${cpu.toFixed(3)} s   (target < 0.5 s: ${verdict(cpu < 0.5)})   baseline ${baseCpu.toFixed(3)} s   ratio ${(cpu / baseCpu).toFixed(2)}x   [cycles: ${each(obs, 'cpuS')}]`);
console.log(`  peak RSS  ${rssMb.toFixed(0)} MB  (target < 250 MB: ${verdict(rssMb < 250)})   baseline ${base.rssMb.toFixed(0)} MB   ratio ${(rssMb / base.rssMb).toFixed(2)}x   (at start ${startRssMb.toFixed(0)} MB)`);
console.log(`  per-proxy scrape latency  p50 ${median(perProxyMs).toFixed(1)} ms  p95 ${p95(perProxyMs).toFixed(1)} ms  max ${Math.max(...perProxyMs).toFixed(1)} ms`);
console.log(`  throughput  ${(PROXIES / wall).toFixed(0)} proxies/s`);
