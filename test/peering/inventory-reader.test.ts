import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { runCommand } from '../../src/adapters/hooks/run-command.js';
import { createInventoryReader } from '../../src/adapters/teleport/inventory-reader.js';

const signal = new AbortController().signal;

describe('inventory reader: commands', () => {
  const read = createInventoryReader({ runCommand, maxBytes: 1024 });

  it('reads what the command prints', async () => {
    const r = await read({ command: [process.execPath, '-e', 'process.stdout.write(JSON.stringify([{kind:"node"}]))'] }, { timeoutMs: 5_000, signal });
    assert.deepEqual(r.ok && JSON.parse(r.value.body), [{ kind: 'node' }]);
  });

  it('a command that fails is named with what it said', async () => {
    const r = await read({ command: [process.execPath, '-e', 'console.error("ERROR: access denied to perform action list on node"); process.exit(1)'] }, { timeoutMs: 5_000, signal });
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.error, /exited with code 1: "ERROR: access denied to perform action list on node"/);
  });

  it('a command that hangs is killed at the timeout', async () => {
    const r = await read({ command: [process.execPath, '-e', 'setTimeout(() => {}, 60_000)'] }, { timeoutMs: 300, signal });
    assert.match(r.ok ? '' : r.error, /timed out after 300 ms/);
  });

  it('a command that prints more than the limit is refused, not cut', async () => {
    const r = await read({ command: [process.execPath, '-e', 'process.stdout.write("x".repeat(5000))'] }, { timeoutMs: 5_000, signal });
    assert.match(r.ok ? '' : r.error, /printed more than 1024 bytes/);
  });

  it('a command that does not exist', async () => {
    const r = await read({ command: ['/nonexistent/tctl', 'get', 'nodes'] }, { timeoutMs: 5_000, signal });
    assert.match(r.ok ? '' : r.error, /could not start/);
  });
});

describe('inventory reader: URLs', () => {
  let server: Server;
  let base = '';
  before(async () => {
    server = createServer((req, res) => {
      if (req.url === '/nodes') return void res.writeHead(200, { 'content-type': 'application/json' }).end('[]');
      if (req.url === '/broken') return void res.writeHead(500).end('backend unavailable');
      if (req.url === '/big') return void res.writeHead(200).end('x'.repeat(5000));
      // Streams far more than the limit, slowly: the reader must stop at the limit, not wait for the end.
      if (req.url === '/endless') {
        res.writeHead(200);
        const timer = setInterval(() => res.write('y'.repeat(512)), 5);
        res.on('close', () => clearInterval(timer));
        return;
      }
      // /hang: never answers.
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  const read = createInventoryReader({ runCommand, maxBytes: 1024 });

  it('reads a JSON answer', async () => {
    const r = await read({ url: `${base}/nodes` }, { timeoutMs: 2_000, signal });
    assert.deepEqual(r.ok && r.value, { body: '[]', from: `${base}/nodes` });
  });

  it('an error status is named with the start of the body', async () => {
    const r = await read({ url: `${base}/broken` }, { timeoutMs: 2_000, signal });
    assert.equal(r.ok ? '' : r.error, `${base}/broken: HTTP 500: backend unavailable`);
  });

  it('a hung server times out', async () => {
    const r = await read({ url: `${base}/hang` }, { timeoutMs: 300, signal });
    assert.match(r.ok ? '' : r.error, /\/hang: timed out after 300 ms/);
  });

  it('a stream over the limit is cut off there', async () => {
    const r = await read({ url: `${base}/endless` }, { timeoutMs: 20_000, signal });
    assert.match(r.ok ? '' : r.error, /\/endless: answered more than 1024 bytes/);
  });

  it('an answer over the limit is refused', async () => {
    const r = await read({ url: `${base}/big` }, { timeoutMs: 2_000, signal });
    assert.match(r.ok ? '' : r.error, /answered more than 1024 bytes/);
  });
});
