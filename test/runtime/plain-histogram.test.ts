import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Histogram, Registry } from 'prom-client';
import { PlainHistogram } from '../../src/runtime/plain-histogram.js';
import { Prng } from '../../src/sim/prng.js';

const BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01];

test("a plain histogram scrapes exactly as prom-client's own Histogram given the same observations", async () => {
  const plainRegistry = new Registry();
  const promRegistry = new Registry();
  const plain = new PlainHistogram('h_seconds', 'Time to do it', BUCKETS, plainRegistry);
  const prom = new Histogram({ name: 'h_seconds', help: 'Time to do it', buckets: BUCKETS, registers: [promRegistry] });
  // Zero buckets from the start (prom-client prints none until the first observation): rate() has a first point.
  assert.match(await plainRegistry.metrics(), /^h_seconds_bucket\{le="\+Inf"\} 0$/m);
  const rng = new Prng(3);
  for (let i = 0; i < 5_000; i++) {
    // Values on the bounds, between them, and beyond the last one.
    const v = i % 7 === 0 ? (BUCKETS[i % BUCKETS.length] as number) : rng.next() * 0.02;
    plain.observe(v);
    prom.observe(v);
  }
  assert.equal(await plainRegistry.metrics(), await promRegistry.metrics());
  plain.observe(Number.NaN);
  assert.match(await plainRegistry.metrics(), /^h_seconds_count 5000$/m, 'NaN is not counted');
  plain.reset();
  const fresh = new Registry();
  new PlainHistogram('h_seconds', 'Time to do it', BUCKETS, fresh);
  assert.equal(await plainRegistry.metrics(), await fresh.metrics(), 'after a reset: every bucket, the sum and the count at 0');
});
