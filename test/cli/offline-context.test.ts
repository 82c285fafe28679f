import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../src/cli', import.meta.url));

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

test('the CLI reaches adapters only through its offline context (online it has the admin API)', () => {
  const importers = files(CLI)
    .filter((f) => /\bfrom\s+'(\.\.\/)+adapters\//.test(readFileSync(f, 'utf8')))
    .map((f) => relative(CLI, f));
  assert.deepEqual(importers, ['offline-context.ts']);
});
