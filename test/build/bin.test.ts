import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
  bin: Record<string, string>;
  files: string[];
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** `@scope/name/sub` → `@scope/name`, `name/sub` → `name`. */
const packageOf = (specifier: string): string => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');

test('the published package holds the build and the bin, never src/, and runs on production dependencies alone', () => {
  assert.equal(pkg.bin.meridian, './bin/meridian.js');
  assert.ok(pkg.files.includes('dist') && pkg.files.includes('bin'), `files: ${pkg.files.join(', ')}`);
  assert.ok(!pkg.files.some((f) => f === 'src' || f.startsWith('src/')), `files: ${pkg.files.join(', ')}`);
  assert.equal(pkg.dependencies.tsx, undefined, 'tsx is for development only');
  assert.ok(pkg.devDependencies.tsx, 'npm start, the tests and the benchmarks run through tsx');
  const imported = new Set<string>();
  for (const file of sourceFiles(join(REPO, 'src'))) {
    const text = readFileSync(file, 'utf8');
    const specs = [...text.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s+'([^'.][^']*)'/gms), ...text.matchAll(/^import\s+'([^'.][^']*)'/gm), ...text.matchAll(/\bimport\(\s*'([^'.][^']*)'\s*\)/g)];
    for (const [, spec] of specs) if (spec && !spec.startsWith('node:') && !builtinModules.includes(spec)) imported.add(packageOf(spec));
  }
  assert.ok(imported.size > 5, `found the imports of src/: ${[...imported].join(', ')}`);
  const missing = [...imported].filter((name) => !(name in pkg.dependencies));
  assert.deepEqual(missing, [], 'src/ imports these, so they must be production dependencies');
});

/** A package laid out as npm installs it, with the real bin/meridian.js and stand-ins for what it runs. */
function fakePackage(t: TestContext, files: Record<string, string>, withNodeModules: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-bin-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'bin'));
  copyFileSync(join(REPO, 'bin/meridian.js'), join(dir, 'bin/meridian.js'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  if (withNodeModules) symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

const REPORT = `process.stdout.write(JSON.stringify({ from: FROM, sourceMaps: process.sourceMapsEnabled, argv: process.argv.slice(2) }));`;
const DIST = { 'dist/cli/entry.js': `const FROM = 'dist';\n${REPORT}` };
const SRC = { 'src/cli/entry.ts': `const FROM: string = 'src';\n${REPORT}` };

function runBin(dir: string, env: Record<string, string> = {}): { status: number | null; out: unknown; stderr: string } {
  const { MERIDIAN_FROM_SOURCE: _set, ...inherited } = process.env; // `npm test` sets it for the tests that spawn the real bin
  const r = spawnSync(process.execPath, [join(dir, 'bin/meridian.js'), 'validate', 'x'], { encoding: 'utf8', env: { ...inherited, ...env }, timeout: 120_000 });
  return { status: r.status, out: r.stdout ? JSON.parse(r.stdout) : undefined, stderr: r.stderr };
}

/** Dates a file of the package an hour back: built, or edited, before the rest. */
function backdate(dir: string, path: string): void {
  const anHourAgo = new Date(Date.now() - 3_600_000);
  utimesSync(join(dir, path), anHourAgo, anHourAgo);
}

test('the bin runs the compiled build when there is one, with source maps on', (t) => {
  const installed = runBin(fakePackage(t, DIST, false));
  assert.deepEqual(installed.out, { from: 'dist', sourceMaps: true, argv: ['validate', 'x'] });
  assert.equal(installed.status, 0);
  assert.equal(installed.stderr, '');
  const checkout = fakePackage(t, { ...DIST, ...SRC }, true);
  backdate(checkout, 'src/cli/entry.ts');
  assert.deepEqual(runBin(checkout).out, { from: 'dist', sourceMaps: true, argv: ['validate', 'x'] });
});

test('in a checkout where src/ changed after the build, the bin runs the sources, never the stale build', (t) => {
  const checkout = fakePackage(t, { ...DIST, ...SRC }, true);
  backdate(checkout, 'dist/cli/entry.js');
  assert.deepEqual(runBin(checkout).out, { from: 'src', sourceMaps: true, argv: ['validate', 'x'] });
});

test('without a build the bin runs the sources through tsx, quietly when stderr is no terminal', (t) => {
  const r = runBin(fakePackage(t, SRC, true));
  assert.deepEqual(r.out, { from: 'src', sourceMaps: true, argv: ['validate', 'x'] });
  assert.equal(r.stderr, '');
});

test('MERIDIAN_FROM_SOURCE=1 runs the sources even beside a current build', (t) => {
  const checkout = fakePackage(t, { ...DIST, ...SRC }, true);
  backdate(checkout, 'src/cli/entry.ts');
  const r = runBin(checkout, { MERIDIAN_FROM_SOURCE: '1' });
  assert.deepEqual(r.out, { from: 'src', sourceMaps: true, argv: ['validate', 'x'] });
});

test('with neither a build nor tsx the bin says to run npm run build', (t) => {
  const r = runBin(fakePackage(t, SRC, false));
  assert.equal(r.status, 1);
  assert.equal(r.out, undefined);
  assert.match(r.stderr, /no build in dist\/: run `npm run build`/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'a message, not a stack trace');
});
