// The Dockerfile cannot be built here (no registry for its base images): what it says is checked against the
// project instead, so that the image starts with settings the controller knows and where the chart mounts things.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { renderChart } from '../../scripts/chart-render.js';
import { SETTINGS } from '../../src/config-schema.js';

const REPO = new URL('../../', import.meta.url).pathname;
const text = readFileSync(`${REPO}Dockerfile`, 'utf8').replace(/\\\n\s*/g, ' ');
const lines = text.split('\n').filter((l) => l.trim() && !l.startsWith('#'));
const instr = (name: string): string[] => lines.filter((l) => l.startsWith(`${name} `)).map((l) => l.slice(name.length + 1).trim());

test('build on node:22-bookworm-slim, run the pruned build on distroless Node 22 as nonroot', () => {
  assert.deepEqual(instr('FROM'), ['node:22-bookworm-slim AS build', 'gcr.io/distroless/nodejs22-debian12:nonroot']);
  assert.ok(instr('RUN').some((r) => r.includes('npm ci')) && instr('RUN').some((r) => r.includes('npm run build') && r.includes('npm prune --omit=dev')));
  assert.deepEqual(instr('USER'), ['nonroot']);
  assert.deepEqual(JSON.parse(instr('ENTRYPOINT')[0] ?? '[]'), ['/nodejs/bin/node', '--enable-source-maps', '/app/bin/meridian.js']);
  for (const copy of instr('COPY').filter((c) => !c.startsWith('--from'))) {
    const [source] = copy.split(/\s+/);
    assert.ok(existsSync(`${REPO}${source}`), `COPY ${source}: exists in the build context`);
  }
  const ignored = readFileSync(`${REPO}.dockerignore`, 'utf8').split('\n');
  for (const dir of ['node_modules', 'dist']) assert.ok(ignored.includes(dir), `.dockerignore leaves out ${dir}: the image builds its own`);
});

test("the image's settings are the controller's, with the admin token file where the chart mounts it", () => {
  const env = new Map(
    instr('ENV')
      .flatMap((e) => e.split(/\s+/))
      .map((kv) => kv.split('=') as [string, string]),
  );
  const known = new Set(Object.values(SETTINGS).map((s) => s.variable as string));
  for (const name of env.keys()) assert.ok(name === 'NODE_ENV' || known.has(name), `${name} is a setting (src/config-schema.ts)`);
  assert.equal(env.get('MERIDIAN_ADMIN_ADDR'), '0.0.0.0:9181');
  const deployment = renderChart().objects.find((o) => o.object['kind'] === 'Deployment')?.object as { spec: { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } } };
  const chartTokenFile = deployment.spec.template.spec.containers[0]?.env.find((e) => e.name === 'MERIDIAN_ADMIN_TOKEN_FILE')?.value;
  assert.equal(env.get('MERIDIAN_ADMIN_TOKEN_FILE'), chartTokenFile, 'off loopback the start refuses without tokens: one path for docker run and the chart');
  const cmd = JSON.parse(instr('CMD')[0] ?? '[]') as string[];
  assert.equal(cmd[0], 'start');
  const flags = new Set(Object.values(SETTINGS).filter((s) => (s.commands as readonly string[]).includes('start')).map((s) => `--${s.flag}`));
  for (const arg of cmd.filter((a) => a.startsWith('--'))) assert.ok(flags.has(arg), `start takes ${arg}`);
});
