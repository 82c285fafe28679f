import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { ManualClock } from '../helpers/manual-clock.js';
import { EMPTY_SNAPSHOT, type FleetSnapshot, type ProxyObservation } from '../../src/model/snapshot.js';
import type { ScrapeFn, ScrapeOutcome } from '../../src/observer/core/scrape-outcome.js';
import { createObserver, type ObserverDeps } from '../../src/observer/observer.js';
import { fleet, metricsWith, proxy } from './fixtures/metrics.js';

const log = pino({ level: 'silent' });
const START = Date.UTC(2026, 0, 1);

function observerWith(scrape: ScrapeFn, overrides: Partial<ObserverDeps> = {}) {
  const clock = new ManualClock(START);
  const observer = createObserver({ scrape, clock, concurrency: 8, timeoutMs: 5000, log, random: () => 0, ...overrides });
  return { observer, clock };
}

const good = (ssh: number, readyzStatus = 200): ScrapeOutcome => ({ ok: true, metrics: metricsWith(ssh), readyzStatus, durationMs: 15 });
const byHost = (outcomes: Record<string, () => Promise<ScrapeOutcome>>): ScrapeFn => {
  return async (url) => {
    const host = new URL(url).hostname.split('.')[0] ?? '';
    const make = outcomes[host];
    if (!make) throw new Error(`no fake for ${url}`);
    return make();
  };
};
const find = (s: FleetSnapshot, name: string): ProxyObservation => {
  const p = s.proxies.find((o) => o.name === name);
  assert.ok(p, `snapshot has no ${name}`);
  return p;
};

describe('observer', () => {
  it('reports each observation as it is made, before a slow proxy ends the cycle', async () => {
    let release: () => void = () => undefined;
    const slow = new Promise<void>((resolve) => (release = resolve));
    const { observer } = observerWith(
      byHost({
        a: async () => ({ ok: false, error: { reason: 'connection_refused', message: 'http://a.diag.internal:3000/metrics: connection refused' }, durationMs: 1 }),
        b: async () => {
          await slow;
          return good(2);
        },
      }),
    );
    const seen: string[] = [];
    const cycle = observer.observe(fleet(proxy('a'), proxy('b')), EMPTY_SNAPSHOT, { onObservation: (o) => seen.push(`${o.name}:${o.up}`) });
    for (let i = 0; i < 1000 && seen.length === 0; i++) await new Promise((r) => setImmediate(r));
    assert.deepEqual(seen, ['a:false'], 'the dead proxy is known while b is still being scraped');
    release();
    await cycle;
    assert.deepEqual(seen, ['a:false', 'b:true']);
  });

  it('observes every proxy of the spec, in spec order', async () => {
    const { observer } = observerWith(byHost({ a: async () => good(1), b: async () => good(2, 503), c: async () => good(3) }));
    const s = await observer.observe(fleet(proxy('a'), proxy('b', 'london'), proxy('c')), EMPTY_SNAPSHOT);
    assert.deepEqual(
      s.proxies.map((p) => [p.name, p.region, p.up, p.ready, p.readyzStatus, p.sessionsTotal]),
      [
        ['a', 'tokyo', true, true, 200, 4],
        ['b', 'london', true, false, 503, 5],
        ['c', 'tokyo', true, true, 200, 6],
      ],
    );
    assert.equal(s.observedAt, new Date(START).toISOString());
    assert.equal(find(s, 'a').lastSuccessAt, new Date(START).toISOString());
  });

  it('a failing proxy keeps its previous metrics, goes down with an error; the others are unaffected', async () => {
    let cycle = 0;
    const { observer, clock } = observerWith(
      byHost({
        a: async () => good(10 + cycle),
        b: async () => (cycle === 0 ? good(20) : { ok: false, error: { reason: 'http_status', message: 'http://b.diag.internal:3000/metrics: HTTP 500' }, durationMs: 4 }),
        c: async () => good(30 + cycle),
      }),
    );
    const spec = fleet(proxy('a'), proxy('b'), proxy('c'));
    const first = await observer.observe(spec, EMPTY_SNAPSHOT);
    cycle = 1;
    clock.advance(30_000);
    const second = await observer.observe(spec, first);
    const now = new Date(START + 30_000).toISOString();

    const b = find(second, 'b');
    assert.equal(b.up, false);
    assert.deepEqual(b.metrics, metricsWith(20));
    assert.equal(b.sessionsTotal, 23);
    assert.deepEqual(b.error, { reason: 'http_status', message: 'http://b.diag.internal:3000/metrics: HTTP 500', at: now });
    assert.equal(b.lastScrapeAt, now);
    assert.equal(b.lastSuccessAt, new Date(START).toISOString());

    for (const [name, ssh] of [['a', 11], ['c', 31]] as const) {
      const o = find(second, name);
      assert.equal(o.up, true);
      assert.equal(o.error, undefined);
      assert.deepEqual(o.metrics, metricsWith(ssh));
      assert.equal(o.lastSuccessAt, now);
    }
  });

  it('a scrape that throws or never settles only spoils its own proxy', async () => {
    const { observer } = observerWith(
      byHost({
        a: async () => good(1),
        thrower: async () => {
          throw new Error('socket exploded');
        },
        hung: () => new Promise<ScrapeOutcome>(() => undefined), // ignores its signal, never settles
        c: async () => good(3),
      }),
      { timeoutMs: 20 },
    );
    const s = await observer.observe(fleet(proxy('a'), proxy('thrower'), proxy('hung'), proxy('c')), EMPTY_SNAPSHOT);
    assert.deepEqual(
      s.proxies.map((p) => [p.name, p.up, p.error?.reason]),
      [
        ['a', true, undefined],
        ['thrower', false, 'network'],
        ['hung', false, 'timeout'],
        ['c', true, undefined],
      ],
    );
    assert.match(find(s, 'thrower').error?.message ?? '', /thrower\.diag\.internal.*socket exploded/);
    assert.match(find(s, 'hung').error?.message ?? '', /hung\.diag\.internal/);
  });

  it('a proxy that hangs alone while the fleet answers leaves readiness at its first timeout, and the hook hears it', async () => {
    let cycle = 0;
    const heard: ProxyObservation[] = [];
    const { observer } = observerWith(
      byHost({ a: async () => good(1), b: async () => good(2), hung: async () => (cycle === 0 ? good(3) : new Promise<ScrapeOutcome>(() => undefined)) }),
      { timeoutMs: 20 },
    );
    const first = await observer.observe(fleet(proxy('a'), proxy('b'), proxy('hung')), EMPTY_SNAPSHOT);
    assert.equal(find(first, 'hung').ready, true);
    cycle = 1;
    const second = await observer.observe(fleet(proxy('a'), proxy('b'), proxy('hung')), first, { onObservation: (o) => heard.push(o) });
    assert.deepEqual([find(second, 'hung').up, find(second, 'hung').ready, find(second, 'hung').consecutiveFailures], [false, false, 1]);
    assert.deepEqual(heard.filter((o) => o.name === 'hung').map((o) => o.ready), [true, false]);
  });

  it('when every proxy times out together (an observer stall), the first timeout keeps the last readiness', async () => {
    let cycle = 0;
    const { observer } = observerWith(async () => (cycle === 0 ? good(1) : new Promise<ScrapeOutcome>(() => undefined)), { timeoutMs: 20 });
    const first = await observer.observe(fleet(proxy('a'), proxy('b')), EMPTY_SNAPSHOT);
    cycle = 1;
    const second = await observer.observe(fleet(proxy('a'), proxy('b')), first);
    assert.deepEqual(second.proxies.map((p) => [p.name, p.up, p.ready]), [['a', false, true], ['b', false, true]]);
  });

  it('never runs more scrapes at once than its concurrency', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const scrape: ScrapeFn = async () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
      inFlight--;
      return good(1);
    };
    const { observer } = observerWith(scrape, { concurrency: 4 });
    const proxies = Array.from({ length: 25 }, (_, i) => proxy(`p${i}`));
    const s = await observer.observe(fleet(...proxies), EMPTY_SNAPSHOT);
    assert.equal(s.proxies.filter((p) => p.up).length, 25);
    assert.equal(maxInFlight, 4);
  });

  it('spreads starts with the injected random jitter and still observes everyone', async () => {
    const waited: number[] = [];
    const clock = new ManualClock(START);
    const observer = createObserver({
      scrape: async () => good(1),
      clock,
      concurrency: 2,
      timeoutMs: 5000,
      jitterMs: 1000,
      log,
      random: () => 0.25,
      sleep: async (ms) => {
        waited.push(ms);
      },
    });
    const s = await observer.observe(fleet(proxy('a'), proxy('b'), proxy('c')), EMPTY_SNAPSHOT);
    assert.equal(s.proxies.filter((p) => p.up).length, 3);
    assert.ok(waited.every((ms) => ms === 250));
  });

  it('builds a new frozen snapshot and leaves the previous one as it was', async () => {
    let cycle = 0;
    const { observer, clock } = observerWith(byHost({ a: async () => (cycle === 0 ? good(1) : { ok: false, error: { reason: 'timeout', message: 'a: timeout' }, durationMs: 5000 }) }));
    const first = await observer.observe(fleet(proxy('a')), EMPTY_SNAPSHOT);
    const before = structuredClone(first);
    cycle = 1;
    clock.advance(1000);
    const second = await observer.observe(fleet(proxy('a')), first);

    assert.notEqual(second, first);
    assert.deepEqual(first, before);
    for (const s of [first, second]) {
      const p = s.proxies[0];
      assert.ok(p?.metrics);
      for (const o of [s, s.proxies, p, p.metrics, p.metrics.sessions, p.metrics.tunnels]) assert.ok(Object.isFrozen(o));
      assert.throws(() => {
        (p.metrics?.sessions as { ssh: number }).ssh = 99;
      }, TypeError);
      assert.throws(() => {
        (s.proxies as ProxyObservation[]).push(p);
      }, TypeError);
    }
    assert.ok(Object.isFrozen(second.proxies[0]?.error));
  });

  it('drops proxies no longer in the spec and records the fleet it observed', async () => {
    const { observer } = observerWith(async () => good(1));
    const first = await observer.observe(fleet(proxy('a'), proxy('b')), EMPTY_SNAPSHOT);
    const second = await observer.observe(fleet(proxy('b')), first, { fleet: { name: 'global', namespace: 'default', generation: 4 } });
    assert.deepEqual(second.proxies.map((p) => p.name), ['b']);
    assert.deepEqual(second.fleet, { name: 'global', namespace: 'default', generation: 4 });
  });

  it('rejects with the abort reason when the cycle is aborted, without scraping what had not started', async () => {
    const controller = new AbortController();
    let scraped = 0;
    const { observer } = observerWith(
      async () => {
        scraped++;
        controller.abort(new Error('shutting down'));
        return good(1);
      },
      { concurrency: 1 },
    );
    await assert.rejects(observer.observe(fleet(proxy('a'), proxy('b'), proxy('c')), EMPTY_SNAPSHOT, { signal: controller.signal }), /shutting down/);
    assert.equal(scraped, 1);
  });

  it('refuses a nonsensical concurrency or timeout at construction', () => {
    assert.throws(() => observerWith(async () => good(1), { concurrency: 0 }), /concurrency/);
    assert.throws(() => observerWith(async () => good(1), { timeoutMs: 0 }), /timeoutMs/);
  });
});
