/**
 * Prints how long the `meridian` command takes to start and finish, run from the compiled build (what the published
 * bin runs) and from the sources through tsx (what bin/meridian.js did before the build), in one run on the same
 * machine: tsx with a fresh cache directory (a first start, or a read-only temp dir) and with a warm cache.
 * It builds src/ into a temporary copy of the package, so neither a stale nor a missing dist/ matters.
 * Part of `npm run bench`; `--runs N` sets how many runs each figure is the median of.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
const runsAt = process.argv.indexOf('--runs');
const RUNS = runsAt >= 0 ? Number(process.argv[runsAt + 1]) : 7;

const work = mkdtempSync(join(tmpdir(), 'meridian-cold-start-'));
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
  if (tsc.status !== 0) throw new Error(`the build failed:\n${tsc.stdout}${tsc.stderr}`);
  console.log(`build (tsc -p tsconfig.build.json): ${((performance.now() - buildStart) / 1000).toFixed(1)} s`);

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
  const commands = [['--help'], ['validate', join(REPO, 'examples/fleet')]];

  const run = (variant: string, args: readonly string[]): number => {
    const [dir, extra] = variants[variant]?.() ?? ['', {}];
    const argv = dir ? [join(dir, 'bin/meridian.js'), ...args] : ['-e', '0'];
    const { MERIDIAN_FROM_SOURCE: _fromSource, ...env } = { ...process.env, ...extra };
    const start = performance.now();
    const r = spawnSync(process.execPath, argv, { env, encoding: 'utf8', cwd: REPO });
    const ms = performance.now() - start;
    if (r.status !== 0) throw new Error(`${variant} meridian ${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
    return ms;
  };
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

  console.log(`cold start of the meridian command, wall time, median of ${RUNS} runs (variants interleaved)`);
  for (const args of commands) {
    run('tsx, warm cache', args); // fills the warm cache
    const times: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((v) => [v, []]));
    for (let i = 0; i < RUNS; i++) for (const v of Object.keys(variants)) times[v]?.push(run(v, args));
    const compiled = median(times.compiled ?? []);
    console.log(`  meridian ${args.map((a) => a.replace(`${REPO}/`, '')).join(' ')}`);
    for (const [v, xs] of Object.entries(times)) {
      const m = median(xs);
      const vs = v === 'compiled' || v.startsWith('node -e') ? '' : `  ${(m / compiled).toFixed(1)}x compiled`;
      console.log(`    ${v.padEnd(24)} ${m.toFixed(0).padStart(6)} ms${vs}`);
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
