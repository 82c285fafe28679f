import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { openEventStream, type Heartbeat } from '../../src/dashboard/event-stream.js';
import { createFramePublisher, type FramePublisher } from '../../src/dashboard/frame-publisher.js';
import { waitFor } from '../helpers/wait.js';

/** A heartbeat the test beats by hand. */
function manualHeartbeat(): { heartbeat: Heartbeat; beat: () => void } {
  let fn: (() => void) | undefined;
  return { heartbeat: (b) => ((fn = b), () => (fn = undefined)), beat: () => fn?.() };
}

/** A socket that takes what is written to it. */
function readingSink() {
  const chunks: string[] = [];
  const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (chunks.push(chunk.toString()), done()) });
  return { sink, text: () => chunks.join(''), chunks };
}

/** A client that reads nothing: its socket buffer fills at once and never drains. */
function stalledSink() {
  return new Writable({ highWaterMark: 16, write: () => undefined });
}

/** A publisher whose frames count their builds: {"version":N}. */
function counting(event: string, padding = 0): FramePublisher {
  let version = 0;
  return createFramePublisher(event, async () => ({ version: ++version, ...(padding ? { padding: 'x'.repeat(padding) } : {}) }), (e) => assert.fail(String(e)));
}

const builtAtLeast = (p: FramePublisher, n: number) => waitFor(`build ${n}`, async () => (p.builds >= n ? true : undefined));

test('a stream starts with hello (retry and heartbeat), then the newest frame of each feed', async () => {
  const fleet = counting('fleet');
  const rollout = counting('rollout');
  const { sink, text } = readingSink();
  openEventStream(sink, [fleet, rollout], manualHeartbeat().heartbeat);
  await waitFor('both frames', async () => (text().includes('event: rollout') && text().includes('event: fleet') ? true : undefined));
  assert.match(text(), /^retry: 3000\nevent: hello\ndata: \{"heartbeatMs":15000\}\n\n/);
  assert.match(text(), /event: fleet\ndata: \{"version":1\}\n\n/);
  assert.match(text(), /event: rollout\ndata: \{"version":1\}\n\n/);
});

test('a frame is built once per burst of changes however many clients listen, and each client is written the same bytes', async () => {
  const publisher = counting('fleet');
  const clients = Array.from({ length: 50 }, () => readingSink());
  for (const c of clients) openEventStream(c.sink, [publisher], manualHeartbeat().heartbeat);
  await waitFor('the first frame', async () => (clients.every((c) => c.text().includes('event: fleet')) ? true : undefined));
  assert.equal(publisher.builds, 1);
  for (let i = 0; i < 100; i++) publisher.invalidate();
  await waitFor('the second frame', async () => (clients.every((c) => c.text().includes('"version":2')) ? true : undefined));
  assert.equal(publisher.builds, 2);
  for (const c of clients) assert.equal(c.text(), clients[0]?.text());
  assert.match(clients[0]?.text() ?? '', /^retry: 3000\nevent: hello\n.*\n\nevent: fleet\ndata: \{"version":1\}\n\nevent: fleet\ndata: \{"version":2\}\n\n$/s);
});

test('a frame is not built while nobody listens; a client arriving then gets a fresh one', async () => {
  const publisher = counting('fleet');
  for (let i = 0; i < 10; i++) publisher.invalidate();
  await nextTurn();
  assert.equal(publisher.builds, 0);
  const { sink, text } = readingSink();
  openEventStream(sink, [publisher], manualHeartbeat().heartbeat);
  await waitFor('the frame', async () => (text().includes('"version":1') ? true : undefined));
  assert.equal(publisher.builds, 1);
});

test('a client that reads nothing holds at most the newest frame of each feed (shared) however many come, and is closed after a heartbeat interval', async () => {
  const fleet = counting('fleet', 10_000);
  const canary = counting('canary', 10_000);
  const { heartbeat, beat } = manualHeartbeat();
  const sink = stalledSink();
  const stream = openEventStream(sink, [fleet, canary], heartbeat);
  // A reader that keeps the publishers building.
  openEventStream(readingSink().sink, [fleet, canary], manualHeartbeat().heartbeat);
  await builtAtLeast(fleet, 1);
  await builtAtLeast(canary, 1);
  await nextTurn();
  const buffered = sink.writableLength;
  for (let i = 0; i < 20; i++) {
    fleet.invalidate();
    canary.invalidate();
    await builtAtLeast(fleet, i + 2);
    await builtAtLeast(canary, i + 2);
  }
  assert.equal(sink.writableLength, buffered, 'nothing more is written to a full socket');
  assert.equal(stream.backlog, 2, 'one frame of each feed waits, not 20');
  beat();
  assert.equal(stream.closed, false, 'one heartbeat may fall just after the socket filled');
  beat();
  assert.equal(stream.closed, true);
  assert.equal(sink.destroyed, true);
  assert.equal(stream.backlog, 0);
  assert.equal(fleet.listeners, 1, 'the closed stream no longer listens; the reader does');
});

test('a client that goes is unsubscribed from every feed', async () => {
  const fleet = counting('fleet');
  const peering = counting('peering');
  const { sink } = readingSink();
  const stream = openEventStream(sink, [fleet, peering], manualHeartbeat().heartbeat);
  assert.equal(fleet.listeners, 1);
  sink.destroy();
  await waitFor('the stream to close', async () => (stream.closed ? true : undefined));
  assert.deepEqual([fleet.listeners, peering.listeners], [0, 0]);
});

test('a client whose socket drains again gets the newest frame only, and stays open', async () => {
  const publisher = counting('canary');
  let release: (() => void) | undefined;
  const chunks: string[] = [];
  // Holds the first write (hello) until released: the socket is full until then.
  const sink = new Writable({
    highWaterMark: 16,
    write: (chunk: Buffer, _enc, done) => {
      chunks.push(chunk.toString());
      if (chunks.length === 1) release = done;
      else done();
    },
  });
  const { heartbeat, beat } = manualHeartbeat();
  const stream = openEventStream(sink, [publisher], heartbeat);
  for (let i = 1; i <= 5; i++) {
    await builtAtLeast(publisher, i);
    publisher.invalidate();
  }
  await builtAtLeast(publisher, 6);
  beat();
  release?.();
  await nextTurn();
  await nextTurn();
  beat();
  assert.equal(stream.closed, false);
  assert.deepEqual(chunks.slice(1), ['event: canary\ndata: {"version":6}\n\n', ': ping\n\n']);
});

test('a rebuilt frame that says what the last one said is not sent again', async () => {
  let phase = 'Baking';
  const publisher = createFramePublisher('canary', async () => ({ phase }), (e) => assert.fail(String(e)));
  const { sink, chunks } = readingSink();
  openEventStream(sink, [publisher], manualHeartbeat().heartbeat);
  await builtAtLeast(publisher, 1);
  publisher.invalidate();
  await builtAtLeast(publisher, 2);
  phase = 'Held';
  publisher.invalidate();
  await builtAtLeast(publisher, 3);
  await nextTurn();
  assert.deepEqual(chunks.slice(1), ['event: canary\ndata: {"phase":"Baking"}\n\n', 'event: canary\ndata: {"phase":"Held"}\n\n']);
});
