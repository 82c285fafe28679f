import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/**
 * What the compiled build imports, read from its files: what runs after `npm install --omit=dev`, where no
 * devDependency (tsx, typescript, ...) is installed. Specifiers computed at run time (a `require.resolve` of a template
 * string) are not seen here; scripts/check-pack.mjs runs the installed package itself.
 */
const REPO = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };

const files = (dir: string): string[] => readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath ?? e.path, e.name));

let tempBuild: string | undefined;
/** dist/ when it was built after every change to src/ (as bin/meridian.js decides); otherwise a fresh build in a temp dir. */
function compiledTree(): string {
  const dist = join(REPO, 'dist');
  const entry = join(dist, 'cli/entry.js');
  if (existsSync(entry) && files(join(REPO, 'src')).every((f) => statSync(f).mtimeMs <= statSync(entry).mtimeMs)) return dist;
  tempBuild = mkdtempSync(join(tmpdir(), 'meridian-dist-'));
  // tsc emits despite type errors (`npm run typecheck` reports those): what matters here is what it emitted.
  const r = spawnSync(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', join(REPO, 'tsconfig.build.json'), '--outDir', tempBuild], { encoding: 'utf8' });
  assert.ok(existsSync(join(tempBuild, 'cli/entry.js')), `the build emitted no cli/entry.js:\n${r.stdout}${r.stderr}`);
  return tempBuild;
}

/** The build both tests read, and every import specifier of its .js files: static, re-exports, dynamic with a literal, require(). */
let tree = '';
let imports: { file: string; specifier: string }[] = [];
before(() => {
  tree = compiledTree();
  imports = files(tree)
    .filter((f) => f.endsWith('.js'))
    .flatMap((file) => ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles.map((i) => ({ file, specifier: i.fileName })));
});
after(() => {
  if (tempBuild) rmSync(tempBuild, { recursive: true, force: true });
});

/** `@scope/name/sub` → `@scope/name`, `name/sub` → `name`. */
const packageOf = (specifier: string): string => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
const isRelative = (s: string): boolean => s.startsWith('./') || s.startsWith('../') || s.startsWith('/');
const isBuiltin = (s: string): boolean => s.startsWith('node:') || builtinModules.includes(s);

test('the build imports no package but node builtins and the production dependencies of package.json', () => {
  const byPackage = new Map<string, string[]>();
  for (const { file, specifier } of imports) {
    if (isRelative(specifier) || isBuiltin(specifier)) continue;
    const name = packageOf(specifier);
    byPackage.set(name, [...(byPackage.get(name) ?? []), relative(tree, file)]);
  }
  assert.ok(byPackage.has('fastify') && byPackage.has('pino') && byPackage.size > 5, `the imports were read: ${[...byPackage.keys()].join(', ')}`);
  const undeclared = Object.fromEntries([...byPackage].filter(([name]) => !(name in pkg.dependencies)));
  assert.deepEqual(undeclared, {}, 'the build imports these (package: files), so they must be in package.json `dependencies`');
});

test('every relative import of the build names a .js or .json file the build holds', () => {
  const broken = imports.filter(({ specifier }) => isRelative(specifier)).filter(({ file, specifier }) => !/\.(js|json)$/.test(specifier) || !existsSync(resolve(dirname(file), specifier)));
  assert.ok(imports.some(({ specifier }) => isRelative(specifier)), 'the relative imports were read');
  assert.deepEqual(broken.map(({ file, specifier }) => `${relative(tree, file)}: ${specifier}`), []);
});
