import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCommand } from '../../src/adapters/hooks/run-command.js';
import { createDiagnosticsCapture } from '../../src/adapters/teleport/diagnostics-capture.js';
import type { Proxy } from '../../src/model/fleet.js';
import { ManualClock } from '../helpers/manual-clock.js';

describe('canary diagnostics capture', () => {
  let server: Server;
  let dir = '';
  let proxy: Proxy;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meridian-diag-'));
    server = createServer((req, res) => {
      // Reached as localhost: a proxy started without --debug.
      if (req.headers.host?.startsWith('localhost')) return void res.writeHead(404).end('404 page not found');
      if (req.url === '/debug/pprof/goroutine?debug=2') return void res.end('goroutine 1 [running]:\nmain.main()\n');
      if (req.url === '/debug/pprof/heap') return void res.end(Buffer.from([0x1f, 0x8b, 8, 0]));
      res.writeHead(404).end('404 page not found');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    proxy = { name: 'london-1', region: 'london', publicUrl: 'https://london-1.example.com', diagnosticUrl: `http://127.0.0.1:${port}`, version: '17.4.9-debug.1' };
  });
  after(async () => {
    server.close();
    await rm(dir, { recursive: true, force: true });
  });
  const capture = () => createDiagnosticsCapture({ stateDir: dir, clock: new ManualClock(Date.UTC(2026, 0, 5, 3, 4, 5)), timeoutMs: 5_000, runCommand });

  it('saves the goroutine dump and the heap profile of a debug build', async () => {
    const r = await capture()('default/debug', proxy, { pprof: true });
    assert.equal(r.error, undefined);
    assert.deepEqual(r.files.map((f) => basename(f)), ['london-1-2026-01-05T03-04-05-000Z-goroutine.txt', 'london-1-2026-01-05T03-04-05-000Z-heap.pb.gz']);
    assert.match(await readFile(r.files[0] ?? '', 'utf8'), /goroutine 1 \[running\]/);
    assert.ok(r.files.every((f) => f.startsWith(join(dir, 'diagnostics', 'default', 'debug'))));
  });

  it('a capture made again after an interrupted pass writes over its files: named by the decision in its id, not the clock', async () => {
    const id = 'default/debug@2026-01-05T01-00-00.000Z'.replace('01-00-00', '01:00:00');
    const first = await createDiagnosticsCapture({ stateDir: dir, clock: new ManualClock(Date.UTC(2026, 0, 5, 3, 4, 5)), timeoutMs: 5_000, runCommand })('default/again', proxy, { pprof: true, id });
    const again = await createDiagnosticsCapture({ stateDir: dir, clock: new ManualClock(Date.UTC(2026, 0, 5, 3, 9, 0)), timeoutMs: 5_000, runCommand })('default/again', proxy, { pprof: true, id });
    assert.deepEqual(again.files, first.files);
    assert.deepEqual(first.files.map((f) => basename(f)), ['london-1-2026-01-05T01-00-00-000Z-goroutine.txt', 'london-1-2026-01-05T01-00-00-000Z-heap.pb.gz']);
    assert.equal((await readdir(join(dir, 'diagnostics', 'default', 'again'))).length, 2);
  });

  it('runs the configured command and keeps what it wrote in its directory, and its output', async () => {
    const script = 'require("fs").writeFileSync(process.argv[1] + "/profile.tar.gz", "x"); console.log("profiled", process.argv[2], process.argv[3])';
    const r = await capture()('default/debug', proxy, { pprof: false, command: [process.execPath, '-e', script, '{dir}', '{proxy}', '{host}'] });
    assert.equal(r.error, undefined);
    assert.deepEqual(r.files.map((f) => basename(f)), ['profile.tar.gz', 'stdout.txt']);
    assert.equal(await readFile(r.files[1] ?? '', 'utf8'), 'profiled london-1 127.0.0.1\n');
  });

  it('names what failed and keeps what it got', async () => {
    const plain = { ...proxy, diagnosticUrl: proxy.diagnosticUrl.replace('127.0.0.1', 'localhost') };
    const r = await capture()('default/debug', plain, { pprof: true, command: [process.execPath, '-e', 'console.error("ERROR: teleport debug profile: permission denied"); process.exit(2)'] });
    assert.match(r.error ?? '', /does not serve \/debug\/pprof\/ \(is the proxy started with --debug\?\)/);
    assert.match(r.error ?? '', /diagnostics.command: .*exited with code 2: "ERROR: teleport debug profile: permission denied"/);
    const bad = await capture()('default/debug', proxy, { pprof: false, command: ['collect', '{node}'] });
    assert.match(bad.error ?? '', /unknown placeholder \{node\}/);
  });

  it('never throws: a state directory it cannot write is an error in the answer', async () => {
    const file = join(dir, 'not-a-directory');
    await writeFile(file, 'x');
    const r = await createDiagnosticsCapture({ stateDir: file, clock: new ManualClock(), timeoutMs: 5_000, runCommand })('default/debug', proxy, { pprof: true });
    assert.deepEqual(r.files, []);
    assert.match(r.error ?? '', /diagnostics for london-1 not saved: .*ENOTDIR/);
  });
});
