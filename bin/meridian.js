#!/usr/bin/env node
// The `meridian` command runs the compiled build in dist/ (`npm run build`), its stack traces mapped back to src/.
// In a checkout it runs src/ through tsx (a dev dependency) instead when there is no build, when src/ changed after
// the build (so nobody runs, or tests, stale code), or with MERIDIAN_FROM_SOURCE=1 (`npm test` sets it).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

process.setSourceMapsEnabled(true);
const compiled = new URL('../dist/cli/entry.js', import.meta.url);
const sources = fileURLToPath(new URL('../src/', import.meta.url));
const fromSource = process.env.MERIDIAN_FROM_SOURCE === '1';
const build = fromSource ? 'skipped' : buildState();
if (build === 'current') await import(compiled.href);
else await runSources();

/** 'current' in an installed package (no src/) or when no source file is newer than the build. */
function buildState() {
  if (!existsSync(compiled)) return 'missing';
  if (!existsSync(sources)) return 'current';
  const builtAt = statSync(compiled).mtimeMs;
  const changed = readdirSync(sources, { recursive: true, withFileTypes: true }).some((e) => e.isFile() && statSync(join(e.parentPath ?? e.path, e.name)).mtimeMs > builtAt);
  return changed ? 'stale' : 'current';
}

async function runSources() {
  let tsx;
  try {
    tsx = await import('tsx/esm/api');
  } catch (e) {
    if (e?.code !== 'ERR_MODULE_NOT_FOUND') throw e;
    process.stderr.write(`meridian: ${build === 'stale' ? 'src/ changed since the build in dist/' : 'no build in dist/'}: run \`npm run build\` (or install the dev dependencies to run the sources through tsx)\n`);
    process.exitCode = 1;
    return;
  }
  // Only people at a terminal read hints; scripts and tests parse stderr.
  if (build !== 'skipped' && process.stderr.isTTY) process.stderr.write(`meridian: ${build === 'stale' ? 'src/ changed since the build' : 'no build in dist/'}, running the sources through tsx (\`npm run build\` starts faster)\n`);
  tsx.register();
  await import('../src/cli/entry.ts');
}
