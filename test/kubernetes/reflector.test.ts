import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { startReflector, type ListWatch, type WatchEvent } from '../../src/adapters/kubernetes/reflector.js';
import { VirtualTime } from '../helpers/virtual-time.js';

interface Obj {
  readonly metadata: { readonly name: string; readonly namespace: string; readonly resourceVersion: string };
  readonly spec: { readonly n: number };
}

type Listener = (e: WatchEvent<Obj>) => void;

/** One kind on an API server: a global resourceVersion, a bounded event history, and fault switches. */
class FakeKind implements ListWatch<Obj> {
  rv = 100;
  objects = new Map<string, Obj>();
  history: { rv: number; event: WatchEvent<Obj> }[] = [];
  historyLimit = 1000;
  listeners = new Set<Listener>();
  lists = 0;
  watches = 0;
  /** Faults for the next watches, in order. */
  faults: ('gone-on-connect' | 'gone-in-stream' | 'silent' | 'error-500')[] = [];
  failLists = 0;

  put(name: string, n: number): void {
    const object: Obj = { metadata: { name, namespace: 'ns', resourceVersion: String(++this.rv) }, spec: { n } };
    const type = this.objects.has(name) ? 'MODIFIED' : 'ADDED';
    this.objects.set(name, object);
    this.emit({ type, object });
  }
  remove(name: string): void {
    const old = this.objects.get(name);
    if (!old) return;
    this.objects.delete(name);
    this.emit({ type: 'DELETED', object: { ...old, metadata: { ...old.metadata, resourceVersion: String(++this.rv) } } });
  }
  /** Compaction: history before now is gone. */
  compact(): void {
    this.history = [];
  }
  private emit(event: WatchEvent<Obj>): void {
    this.history.push({ rv: this.rv, event });
    if (this.history.length > this.historyLimit) this.history.shift();
    for (const l of this.listeners) l(event);
  }
  async list(): Promise<{ items: readonly Obj[]; resourceVersion: string }> {
    this.lists++;
    if (this.failLists > 0) {
      this.failLists--;
      throw Object.assign(new Error('Internal Server Error'), { statusCode: 500 });
    }
    return { items: [...this.objects.values()], resourceVersion: String(this.rv) };
  }
  async watch(from: string, _timeoutSeconds: number, onEvent: Listener, signal: AbortSignal): Promise<void> {
    this.watches++;
    const fault = this.faults.shift();
    if (fault === 'gone-on-connect') throw Object.assign(new Error('Gone'), { statusCode: 410 });
    if (fault === 'error-500') throw Object.assign(new Error('Internal Server Error'), { statusCode: 500 });
    if (fault === 'gone-in-stream') {
      onEvent({ type: 'ERROR', status: { code: 410, reason: 'Expired', message: 'too old resource version' } });
      return;
    }
    const start = Number(from);
    const oldest = this.history[0]?.rv;
    if (oldest !== undefined && start < oldest - 1 && this.history.length >= 1 && start < this.rv) {
      // Events between `from` and the oldest kept are gone.
      onEvent({ type: 'ERROR', status: { code: 410, reason: 'Expired', message: `too old resource version: ${from}` } });
      return;
    }
    if (fault !== 'silent') for (const h of this.history) if (h.rv > start) onEvent(h.event);
    const listener: Listener = (e) => fault !== 'silent' && onEvent(e);
    this.listeners.add(listener);
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    this.listeners.delete(listener);
  }
}

function start(kind: FakeKind, time: VirtualTime) {
  const stop = new AbortController();
  const seen: string[] = [];
  const r = startReflector<Obj>(
    { what: 'things', source: kind, onChange: (key, o) => seen.push(`${key}=${o ? o.spec.n : 'deleted'}`), timers: time.timers, log: pino({ level: 'silent' }), inactivityMs: 60_000, random: () => 0.5 },
    stop.signal,
  );
  return { ...r, seen, stop: () => stop.abort() };
}

const contents = (cache: ReadonlyMap<string, Obj>): Record<string, number> => Object.fromEntries([...cache].map(([k, o]) => [k, o.spec.n]).sort());
const truth = (kind: FakeKind): Record<string, number> => Object.fromEntries([...kind.objects.values()].map((o) => [`ns/${o.metadata.name}`, o.spec.n]).sort());

describe('reflector', () => {
  it('lists, says synced, then follows every change', async () => {
    const time = new VirtualTime();
    const kind = new FakeKind();
    kind.put('a', 1);
    kind.put('b', 1);
    const r = start(kind, time);
    await r.synced;
    assert.deepEqual(contents(r.cache), { 'ns/a': 1, 'ns/b': 1 });
    kind.put('a', 2);
    kind.remove('b');
    kind.put('c', 1);
    await time.advance(10);
    assert.deepEqual(contents(r.cache), truth(kind));
    r.stop();
    await r.done;
  });

  it('410 Expired, on connect or in the stream, lists again; what was deleted meanwhile leaves the cache', async () => {
    const time = new VirtualTime();
    const kind = new FakeKind();
    kind.put('a', 1);
    kind.put('b', 1);
    kind.faults = ['gone-on-connect', 'gone-in-stream'];
    const r = start(kind, time);
    await r.synced;
    kind.remove('b');
    kind.put('a', 5);
    await time.advance(10);
    assert.equal(kind.lists, 3);
    assert.deepEqual(contents(r.cache), truth(kind));
    r.stop();
    await r.done;
  });

  it('a stream gone silent is restarted after the inactivity deadline and catches up from its resourceVersion', async () => {
    const time = new VirtualTime();
    const kind = new FakeKind();
    kind.put('a', 1);
    kind.faults = ['silent'];
    const r = start(kind, time);
    await r.synced;
    kind.put('a', 2);
    kind.put('b', 7);
    await time.advance(1_000);
    assert.deepEqual(contents(r.cache), { 'ns/a': 1 }, 'nothing arrives on a silent stream');
    await time.advance(60_000);
    assert.deepEqual(contents(r.cache), truth(kind));
    assert.equal(kind.lists, 1, 'caught up by watching again, not by listing');
    r.stop();
    await r.done;
  });

  it('server errors back off and retry until the watch is back, for the list too', async () => {
    const time = new VirtualTime();
    const kind = new FakeKind();
    kind.put('a', 1);
    kind.failLists = 2;
    kind.faults = ['error-500', 'error-500', 'error-500'];
    const r = start(kind, time);
    let synced = false;
    void r.synced.then(() => (synced = true));
    await time.advance(100);
    assert.equal(synced, false);
    kind.put('b', 2);
    await time.advance(60_000);
    assert.equal(synced, true);
    kind.put('c', 3);
    await time.advance(10);
    assert.deepEqual(contents(r.cache), truth(kind));
    assert.equal(kind.watches, 4);
    r.stop();
    await r.done;
  });

  it('a compacted history makes the next watch 410, and the relist repairs the cache', async () => {
    const time = new VirtualTime();
    const kind = new FakeKind();
    kind.put('a', 1);
    kind.put('b', 1);
    kind.faults = ['silent'];
    const r = start(kind, time);
    await r.synced;
    kind.remove('a');
    kind.put('b', 9);
    kind.compact();
    kind.put('z', 1);
    await time.advance(61_000);
    assert.deepEqual(contents(r.cache), truth(kind));
    assert.equal(kind.lists, 2);
    assert.ok(r.seen.includes('ns/a=deleted'));
    r.stop();
    await r.done;
  });
});
