import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { createChangeHub, TOPICS } from '../../src/dashboard/change-feed.js';
import { openEventStream, type Heartbeat } from '../../src/dashboard/event-stream.js';
import { KEYS_PER_TOPIC, NoticeQueue } from '../../src/dashboard/notice-queue.js';

/** A heartbeat the test beats by hand. */
function manualHeartbeat(): { heartbeat: Heartbeat; beat: () => void } {
  let fn: (() => void) | undefined;
  return { heartbeat: (b) => ((fn = b), () => (fn = undefined)), beat: () => fn?.() };
}

/** A socket that takes what is written to it. */
function readingSink() {
  const chunks: string[] = [];
  const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (chunks.push(chunk.toString()), done()) });
  return { sink, text: () => chunks.join('') };
}

/** A client that reads nothing: its socket buffer fills at once and never drains. */
function stalledSink() {
  return new Writable({ highWaterMark: 16, write: () => undefined });
}

test('notices of one burst go out as one event per topic, each key once', async () => {
  const hub = createChangeHub();
  const { sink, text } = readingSink();
  openEventStream(sink, hub, manualHeartbeat().heartbeat);
  for (let i = 0; i < 3; i++) hub.publish({ topic: 'rollout', key: 'default/upgrade' });
  hub.publish({ topic: 'fleet' });
  await nextTurn();
  const events = text().split('\n\n').filter((e) => e.startsWith('event: change'));
  assert.deepEqual(events, ['event: change\ndata: {"topic":"fleet"}', 'event: change\ndata: {"topic":"rollout","keys":["default/upgrade"]}']);
  assert.match(text(), /^retry: 3000\nevent: hello\ndata: \{"heartbeatMs":15000\}\n\n/);
});

test('a client that reads nothing holds a bounded backlog however many changes come, and is closed after a heartbeat interval', async () => {
  const hub = createChangeHub();
  const sink = stalledSink();
  const { heartbeat, beat } = manualHeartbeat();
  const stream = openEventStream(sink, hub, heartbeat);
  const buffered = sink.writableLength;
  for (let i = 0; i < 20_000; i++) hub.publish({ topic: TOPICS[i % TOPICS.length] ?? 'fleet', key: `default/object-${i % 500}` });
  await nextTurn();
  assert.equal(sink.writableLength, buffered, 'nothing more is written to a full socket');
  assert.ok(stream.backlog <= TOPICS.length * KEYS_PER_TOPIC, `backlog ${stream.backlog}`);
  beat();
  assert.equal(stream.closed, false, 'one heartbeat may fall just after the socket filled');
  beat();
  assert.equal(stream.closed, true);
  assert.equal(sink.destroyed, true);
  assert.equal(hub.size, 0, 'no longer subscribed to the feed');
});

test('a client whose socket drains again gets what it missed, coalesced, and stays open', async () => {
  const hub = createChangeHub();
  let release: (() => void) | undefined;
  const chunks: string[] = [];
  // Holds the first write until released: the socket is full until then.
  const sink = new Writable({
    highWaterMark: 16,
    write: (chunk: Buffer, _enc, done) => {
      chunks.push(chunk.toString());
      if (chunks.length === 1) release = done;
      else done();
    },
  });
  const { heartbeat, beat } = manualHeartbeat();
  const stream = openEventStream(sink, hub, heartbeat);
  for (let i = 0; i < 100; i++) hub.publish({ topic: 'canary', key: 'default/debug' });
  await nextTurn();
  beat();
  release?.();
  await nextTurn();
  await nextTurn();
  beat();
  assert.equal(stream.closed, false);
  assert.deepEqual(chunks.slice(1), ['event: change\ndata: {"topic":"canary","keys":["default/debug"]}\n\n', ': ping\n\n']);
});

test('past KEYS_PER_TOPIC keys a topic\'s notice says "all of it"', () => {
  const q = new NoticeQueue();
  for (let i = 0; i <= KEYS_PER_TOPIC; i++) q.add({ topic: 'peering', key: `default/p${i}` });
  q.add({ topic: 'fleet', key: 'default/demo' });
  assert.equal(q.weight, 2);
  assert.deepEqual(q.take(), [{ topic: 'fleet', keys: ['default/demo'] }, { topic: 'peering' }]);
  assert.equal(q.weight, 0);
});
