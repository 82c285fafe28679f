/**
 * Prints how long the `meridian` command takes to start and finish, run from the compiled build (what the published
 * bin runs) and from the sources through tsx (what bin/meridian.js did before the build), in one run on the same
 * machine: tsx with a fresh cache directory (a first start, or a read-only temp dir) and with a warm cache.
 * Commands: `--help`, `validate examples/fleet`, and `status --server URL` against a controller this bench starts
 * (the compiled build on examples/fleet, on free loopback ports; the fleet's proxies need not be reachable).
 * It builds src/ into a temporary copy of the package, so neither a stale nor a missing dist/ matters.
 * Part of `npm run bench`; `--runs N` sets how many runs each figure is the median of.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
const runsAt = process.argv.indexOf('--runs');
const RUNS = runsAt >= 0 ? Number(process.argv[runsAt + 1]) : 7;

/** Environment of every meridian the bench runs: none of the caller's Meridian settings, no tsx forced in. */
const { MERIDIAN_FROM_SOURCE: _fromSource, ...baseEnv } = process.env;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address !== 'object') throw new Error('no port');
  return address.port;
}

/** `meridian start` from the package in `dir`, resolved with its admin URL once /healthz answers. */
async function startController(dir: string, state: string): Promise<{ adminUrl: string; child: ChildProcess }> {
  const [admin, pub] = [await freePort(), await freePort()];
  const adminUrl = `http://127.0.0.1:${admin}`;
  const args = ['start', '--manifests', join(REPO, 'examples/fleet'), '--state', state, '--admin', `127.0.0.1:${admin}`, '--public', `127.0.0.1:${pub}`];
  const child = spawn(process.execPath, [join(dir, 'bin/meridian.js'), ...args], { env: baseEnv, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  for (const deadline = Date.now() + 30_000; ; await sleep(100)) {
    if (child.exitCode !== null) throw new Error(`meridian start exited ${child.exitCode}:\n${stderr}`);
    if (await fetch(`${adminUrl}/healthz`).then((r) => r.ok, () => false)) return { adminUrl, child };
    if (Date.now() > deadline) throw new Error(`meridian start: ${adminUrl}/healthz did not answer in 30 s:\n${stderr}`);
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  if ((await Promise.race([exited, sleep(10_000, 'timeout')])) === 'timeout') child.kill('SIGKILL');
}

const work = mkdtempSync(join(tmpdir(), 'meridian-cold-start-'));
let controller: ChildProcess | undefined;
try {
  // Two packages laid out as npm installs them (bin/ beside dist/ or src/, package.json for "type": "module",
  // node_modules/ linked): one with the build and no src/ (what gets published), one with the checkout's src/ and no build.
  const pkg = (name: string, link?: string): string => {
    const dir = join(work, name);
    mkdirSync(join(dir, 'bin'), { recursive: true });
    copyFileSync(join(REPO, 'bin/meridian.js'), join(dir, 'bin/meridian.js'));
    copyFileSync(join(REPO, 'package.json'), join(dir, 'package.json'));
    symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
    if (link) symlinkSync(join(REPO, link), join(dir, link));
    return dir;
  };
  const published = pkg('published');
  const checkout = pkg('checkout', 'src');
  const buildStart = performance.now();
  const tsc = spawnSync(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', join(REPO, 'tsconfig.build.json'), '--outDir', join(published, 'dist')], { encoding: 'utf8' });
  // tsc emits despite type errors (`npm run typecheck` is where those fail); only a missing build stops the bench.
  if (!existsSync(join(published, 'dist/cli/entry.js'))) throw new Error(`the build emitted nothing:\n${tsc.stdout}${tsc.stderr}`);
  const typeErrors = tsc.status === 0 ? '' : ` (with type errors: ${tsc.stdout.split('\n').filter((l) => l.includes('error TS')).length})`;
  console.log(`build (tsc -p tsconfig.build.json): ${((performance.now() - buildStart) / 1000).toFixed(1)} s${typeErrors}`);

  // The controller `status --server` asks: the compiled one, running through every measurement.
  const started = await startController(published, join(work, 'state'));
  controller = started.child;
  const { adminUrl } = started;

  const warmCache = join(work, 'warm-cache');
  mkdirSync(warmCache);
  let fresh = 0;
  // Each variant: the package it runs and its environment (tsx keeps its cache in the temp dir).
  const variants: Record<string, () => [string, NodeJS.ProcessEnv]> = {
    'node -e 0 (the floor)': () => ['', {}],
    compiled: () => [published, {}],
    'tsx, fresh cache': () => {
      const dir = join(work, `fresh-cache-${fresh++}`);
      mkdirSync(dir);
      return [checkout, { TMPDIR: dir }];
    },
    'tsx, warm cache': () => [checkout, { TMPDIR: warmCache }],
  };
  const commands = [['--help'], ['validate', join(REPO, 'examples/fleet')], ['status', '--server', adminUrl]];

  // Synchronous on purpose: the bench process does nothing while a command runs (the controller is another process).
  const run = (variant: string, args: readonly string[]): number => {
    const [dir, extra] = variants[variant]?.() ?? ['', {}];
    const argv = dir ? [join(dir, 'bin/meridian.js'), ...args] : ['-e', '0'];
    const start = performance.now();
    const r = spawnSync(process.execPath, argv, { env: { ...baseEnv, ...extra }, encoding: 'utf8', cwd: REPO });
    const ms = performance.now() - start;
    if (r.status !== 0) throw new Error(`${variant} meridian ${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
    return ms;
  };
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  const verdict = (ok: boolean): string => (ok ? 'ok' : 'MISSED');

  console.log(`cold start of the meridian command, wall time, median of ${RUNS} runs (variants interleaved); status asks a compiled controller at ${adminUrl}`);
  for (const args of commands) {
    run('tsx, warm cache', args); // fills the warm cache
    const times: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((v) => [v, []]));
    for (let i = 0; i < RUNS; i++) for (const v of Object.keys(variants)) times[v]?.push(run(v, args));
    const compiled = median(times.compiled ?? []);
    const tsxWarm = median(times['tsx, warm cache'] ?? []);
    console.log(`  meridian ${args.map((a) => a.replace(`${REPO}/`, '')).join(' ')}`);
    for (const [v, xs] of Object.entries(times)) {
      const m = median(xs);
      const vs = v === 'compiled' ? `  (target: faster than tsx with a warm cache: ${verdict(m < tsxWarm)})` : v.startsWith('node -e') ? '' : `  ${(m / compiled).toFixed(1)}x compiled`;
      console.log(`    ${v.padEnd(24)} ${m.toFixed(0).padStart(6)} ms${vs}`);
    }
  }
} finally {
  if (controller) await stop(controller);
  rmSync(work, { recursive: true, force: true });
}
