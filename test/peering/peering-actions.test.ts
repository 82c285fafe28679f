import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readSecret, runCommand } from '../../src/adapters/hooks/index.js';
import { createPeeringActions } from '../../src/adapters/peering/peering-actions.js';
import { createInventoryReader } from '../../src/adapters/teleport/inventory-reader.js';
import { parseClusterNetworking, withProxyPeering } from '../../src/peering/core/peer-config.js';

/** A stand-in for tctl that keeps its arguments and the resource file it was given. */
const FAKE_TCTL = `const fs = require('node:fs'); const [out, ...args] = process.argv.slice(1); fs.writeFileSync(out, JSON.stringify({ args: args.map((a) => (a.endsWith('.yaml') ? 'FILE' : a)), yaml: fs.readFileSync(args[args.length - 1], 'utf8') }));`;

const stored = (origin: string) =>
  JSON.stringify([{ kind: 'cluster_networking_config', version: 'v2', metadata: { name: 'cluster-networking-config', labels: { 'teleport.dev/origin': origin }, revision: 'abc' }, spec: { client_idle_timeout: '15m0s', proxy_listener_mode: 1, tunnel_strategy: { type: 'agent_mesh' } } }]);

describe('peering actions', () => {
  it('tctl create gets -f only over a non-default resource and --confirm only over one teleport.yaml manages, in front of the file; the rest is written back', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'meridian-actions-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const out = join(dir, 'out.json');
    const actions = createPeeringActions({ clock: { now: () => 0 }, readSecret, runCommand, readInventory: createInventoryReader({ runCommand }) });
    const signal = new AbortController().signal;
    const want: [string, string[]][] = [
      ['defaults', ['create', 'FILE']],
      ['dynamic', ['create', '-f', 'FILE']],
      ['config-file', ['create', '-f', '--confirm', 'FILE']],
    ];
    for (const [origin, args] of want) {
      const current = parseClusterNetworking(stored(origin), 'tctl get');
      assert.ok(current.ok);
      const action = { command: [process.execPath, '-e', FAKE_TCTL, out, 'create', '{file}'], read: { command: ['tctl'] } };
      assert.deepEqual(await actions.applyClusterNetworking(action, 'id', withProxyPeering(current.value, 2), signal), { ok: true, value: undefined });
      const ran = JSON.parse(await readFile(out, 'utf8')) as { args: string[]; yaml: string };
      assert.deepEqual(ran.args, args, origin);
      assert.match(ran.yaml, /client_idle_timeout: 15m0s/);
      assert.match(ran.yaml, /proxy_listener_mode: 1/);
      assert.match(ran.yaml, /type: proxy_peering\n\s+agent_connection_count: 2/);
    }
  });

  it('reads back the generation the allow-list file holds; none when it is gone', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'meridian-actions-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const actions = createPeeringActions({ clock: { now: () => 0 }, readSecret, runCommand, readInventory: createInventoryReader({ runCommand }) });
    const signal = new AbortController().signal;
    const file = join(dir, 'allow.json');
    assert.deepEqual(await actions.readAllowListGeneration({ file }, signal), { ok: true, value: null });
    await writeFile(file, JSON.stringify({ kind: 'PeerAllowList', generation: 42, rules: [] }));
    assert.deepEqual(await actions.readAllowListGeneration({ file }, signal), { ok: true, value: 42 });
    assert.deepEqual(await actions.readAllowListGeneration({ url: 'http://firewall.example/hook' }, signal), { ok: true, value: undefined }, 'a webhook alone cannot be read back');
  });
});
