import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BoundedCache } from '../../src/runtime/bounded-cache.js';

test('the cache stays within its bound and keeps what is read', () => {
  const cache = new BoundedCache<string>(100);
  cache.set(0, 'kept');
  for (let i = 1; i <= 1_000; i++) {
    cache.set(i, `v${i}`);
    assert.equal(cache.get(0), 'kept', `after ${i} inserts`);
    assert.ok(cache.size <= 100, `size ${cache.size} after ${i} inserts`);
  }
  assert.ok(cache.size >= 50);
  assert.equal(cache.get(1_000), 'v1000');
  assert.equal(cache.get(1), undefined, 'the oldest unread entries are gone');
  cache.set(1_000, 'updated');
  assert.equal(cache.get(1_000), 'updated');
});

test('a bound below 2 is a bug', () => {
  assert.throws(() => new BoundedCache(1), /maxEntries/);
  assert.throws(() => new BoundedCache(2.5), /maxEntries/);
});
