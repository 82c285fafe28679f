import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildLocation, filterQuery, locationAt, MAX_REDIRECT_TARGET_LENGTH, normalisePath, proxyOrigin } from '../../../src/redirect/core/redirect-location.js';

const ORIGIN = 'https://tokyo-1.proxy.example.com';

describe('buildLocation: deep links survive', () => {
  const cases: { raw: string; expect: string }[] = [
    { raw: '/web/cluster/main/nodes?foo=bar', expect: `${ORIGIN}/web/cluster/main/nodes?foo=bar` },
    { raw: '/', expect: `${ORIGIN}/` },
    { raw: '', expect: `${ORIGIN}/` },
    { raw: '/web/login', expect: `${ORIGIN}/web/login` },
    { raw: '/web/cluster/main/', expect: `${ORIGIN}/web/cluster/main/` },
    { raw: '/web/cluster/main/console/node/0e5a/root?x=1&y=2', expect: `${ORIGIN}/web/cluster/main/console/node/0e5a/root?x=1&y=2` },
    { raw: '/web/cluster/main/nodes?search=a%20b&sort=name%3Aasc', expect: `${ORIGIN}/web/cluster/main/nodes?search=a%20b&sort=name%3Aasc` },
    { raw: '/web/?q=a+b', expect: `${ORIGIN}/web/?q=a+b` },
    { raw: '/web/a b', expect: `${ORIGIN}/web/a%20b` },
    { raw: '/web/ünï', expect: `${ORIGIN}/web/%C3%BCn%C3%AF` },
    { raw: '/web/users/alice@example.com', expect: `${ORIGIN}/web/users/alice@example.com` },
    { raw: '/web//cluster///main', expect: `${ORIGIN}/web/cluster/main` },
    { raw: '/web/x/../nodes', expect: `${ORIGIN}/web/nodes` },
    { raw: '/web#fragment', expect: `${ORIGIN}/web` },
  ];
  for (const c of cases) it(JSON.stringify(c.raw), () => assert.equal(buildLocation(ORIGIN, c.raw), c.expect));
});

describe('buildLocation: Meridian\'s own parameters are not forwarded', () => {
  const cases: { raw: string; expect: string }[] = [
    { raw: '/web?region=sydney', expect: `${ORIGIN}/web` },
    { raw: '/web?foo=bar&region=sydney&baz=1', expect: `${ORIGIN}/web?foo=bar&baz=1` },
    { raw: '/web?REGION=sydney&Region=x&reg%69on=y', expect: `${ORIGIN}/web` },
    { raw: '/web?region', expect: `${ORIGIN}/web` },
    { raw: '/web?regions=1&myregion=2', expect: `${ORIGIN}/web?regions=1&myregion=2` },
    { raw: '/web?&&a=1&&', expect: `${ORIGIN}/web?a=1` },
  ];
  for (const c of cases) it(JSON.stringify(c.raw), () => assert.equal(buildLocation(ORIGIN, c.raw), c.expect));

  it('other control parameters can be named', () => assert.equal(buildLocation(ORIGIN, '/?region=a&cookie=b&x=1', ['region', 'cookie']), `${ORIGIN}/?x=1`));
});

describe('buildLocation: hostile input never leaves the configured origin', () => {
  // [input, what it becomes]; undefined: only the origin and CR/LF checks apply.
  const corpus: [string, string | undefined][] = [
    ['//evil.example', `${ORIGIN}/`],
    ['//evil.example/web', `${ORIGIN}/`],
    ['///evil.example', `${ORIGIN}/`],
    ['/\\evil.example', `${ORIGIN}/`],
    ['\\\\evil.example', `${ORIGIN}/`],
    ['/%2F%2Fevil.example', `${ORIGIN}/`],
    ['/%2f%2fevil.example', `${ORIGIN}/`],
    ['/%5C%5Cevil', `${ORIGIN}/`],
    ['/web/%2F%2Fevil.example', `${ORIGIN}/`],
    ['/%252F%252Fevil.example', undefined],
    ['/%0d%0aSet-Cookie:%20x=1', `${ORIGIN}/`],
    ['/web?x=%0d%0aSet-Cookie:%20x=1', `${ORIGIN}/web`],
    ['/web?x=1&%0aLocation:%20https://evil.example=1', `${ORIGIN}/web?x=1`],
    ['/web\r\nLocation: https://evil.example', `${ORIGIN}/`],
    ['/web?x=\r\nSet-Cookie: a=b', `${ORIGIN}/`],
    ['/web\nx', `${ORIGIN}/`],
    ['/@evil.example', `${ORIGIN}/@evil.example`],
    ['@evil.example', `${ORIGIN}/`],
    ['https://x@evil.example', `${ORIGIN}/`],
    // Absolute-form targets (which HTTP/1.1 servers must accept): their host never counts, their path does.
    ['https://evil.example/web', `${ORIGIN}/web`],
    ['HTTP://evil.example/web/x?region=london&a=1', `${ORIGIN}/web/x?a=1`],
    ['http://evil.example//evil2.example/x', `${ORIGIN}/`],
    ['http://evil.example\\evil2.example', `${ORIGIN}/`],
    ['http://evil.example?next=1', `${ORIGIN}/?next=1`],
    ['ftp://evil.example/web', `${ORIGIN}/`],
    ['http://evil.example', `${ORIGIN}/`],
    ['/http://evil.example', `${ORIGIN}/`],
    ['/https:evil.example', `${ORIGIN}/`],
    ['/https:%2F%2Fevil.example', `${ORIGIN}/`],
    ['/https%3A%2F%2Fevil.example', `${ORIGIN}/`],
    ['/javascript:alert(1)', `${ORIGIN}/`],
    ['/../../', `${ORIGIN}/`],
    ['/../../etc/passwd', `${ORIGIN}/etc/passwd`],
    ['/%2e%2e/%2E%2E/web', `${ORIGIN}/web`],
    ['/..%2F..%2Fevil', `${ORIGIN}/`],
    ['/web\tx', `${ORIGIN}/`],
    ['/web\u0000x', `${ORIGIN}/`],
    ['/web%00x', `${ORIGIN}/`],
    ['/web%7F', `${ORIGIN}/`],
    ['/web/%', `${ORIGIN}/`],
    ['/web/%zz', `${ORIGIN}/`],
    ['/web?x=%E0%A4%A', `${ORIGIN}/web`],
    ['/' + 'a'.repeat(MAX_REDIRECT_TARGET_LENGTH), `${ORIGIN}/`],
    ['/web?' + 'x=1&'.repeat(5000), `${ORIGIN}/`],
    ['*', `${ORIGIN}/`],
    ['?next=//evil.example', `${ORIGIN}/`],
    ['/web?next=https://evil.example', `${ORIGIN}/web?next=https://evil.example`],
    ['/web#@evil.example', `${ORIGIN}/web`],
    ['/web?x=1#\r\nSet-Cookie:a', `${ORIGIN}/`],
    ['/\u2028evil.example', undefined],
    ['/web/\u00a0evil', undefined],
    ['/.evil.example', `${ORIGIN}/.evil.example`],
    ['/:@evil.example', `${ORIGIN}/`],
    ['/web?"><script>=1', undefined],
    [':evil.example', `${ORIGIN}/`],
  ];
  const origin = new URL(ORIGIN).origin;
  for (const [raw, expect] of corpus) {
    it(JSON.stringify(raw.length > 60 ? `${raw.slice(0, 60)}…` : raw), () => {
      const loc = buildLocation(ORIGIN, raw);
      assert.equal(new URL(loc).origin, origin);
      assert.ok(loc.startsWith(`${origin}/`), loc);
      assert.doesNotMatch(loc, /[\r\n\t\u0000]/);
      assert.equal(new URL(loc).username, '');
      if (expect !== undefined) assert.equal(loc, expect);
    });
  }
  it('has at least 25 hostile inputs', () => assert.ok(corpus.length >= 25));
});

describe('buildLocation: the configured URL decides the origin', () => {
  const cases: { publicUrl: string; raw: string; expect: string }[] = [
    { publicUrl: 'https://tokyo-1.proxy.example.com:3080', raw: '/web', expect: 'https://tokyo-1.proxy.example.com:3080/web' },
    { publicUrl: 'https://tokyo-1.proxy.example.com:443/', raw: '/web', expect: 'https://tokyo-1.proxy.example.com/web' },
    { publicUrl: 'https://TOKYO-1.Proxy.Example.com', raw: '/web', expect: 'https://tokyo-1.proxy.example.com/web' },
    { publicUrl: 'http://10.0.0.5:3080', raw: '/web?a=1', expect: 'http://10.0.0.5:3080/web?a=1' },
    { publicUrl: 'https://user:pw@tokyo-1.proxy.example.com/some/path?q=1#h', raw: '/web', expect: 'https://tokyo-1.proxy.example.com/web' },
    { publicUrl: 'https://[2001:db8::1]:3080', raw: '/web', expect: 'https://[2001:db8::1]:3080/web' },
  ];
  for (const c of cases) it(`${c.publicUrl} + ${c.raw}`, () => assert.equal(buildLocation(c.publicUrl, c.raw), c.expect));

  it('a publicUrl that is not an http(s) URL is a configuration bug and throws', () => {
    assert.throws(() => buildLocation('not a url', '/'), TypeError);
    assert.throws(() => buildLocation('javascript:alert(1)', '/'), /not http\(s\)/);
    assert.throws(() => buildLocation('tokyo-1.proxy.example.com:443', '/'), /not http\(s\)/);
  });
});

describe('normalisePath and filterQuery', () => {
  const paths: [string, string | undefined][] = [
    ['/a/b/', '/a/b/'],
    ['/a/./b/.', '/a/b/'],
    ['/a/b/..', '/a/'],
    ['/..', '/'],
    ['\\a\\b', '/a/b'],
    ['a/b', undefined],
    ['//a', undefined],
    ['/a%2Fb', undefined],
    ['/a:b/c', undefined],
    ['/a/b:c', '/a/b:c'],
  ];
  for (const [p, e] of paths) it(`path ${JSON.stringify(p)}`, () => assert.equal(normalisePath(p), e));

  const queries: [string, string][] = [
    ['a=1&b=2', 'a=1&b=2'],
    ['a=1&region=x', 'a=1'],
    ['a=%ZZ&b=2', 'b=2'],
    ['a=%0A&b=2', 'b=2'],
    ['flag&b=', 'flag&b='],
  ];
  for (const [q, e] of queries) it(`query ${JSON.stringify(q)}`, () => assert.equal(filterQuery(q), e));
});

describe('locationAt: concatenated deep links are what URL would build', () => {
  // The Location as built before the concatenation shortcut: always through URL.
  function throughUrl(origin: string, raw: string): string {
    const root = `${origin}/`;
    if (raw.length > MAX_REDIRECT_TARGET_LENGTH || /[\u0000-\u001f\u007f]/.test(raw)) return root;
    const target = raw.split('#')[0] ?? '';
    const q = target.indexOf('?');
    const path = normalisePath(q < 0 ? target : target.slice(0, q));
    if (path === undefined) return root;
    const query = q < 0 ? '' : filterQuery(target.slice(q + 1));
    const url = new URL(origin);
    url.pathname = path;
    if (query !== '') url.search = `?${query}`;
    return url.origin === origin ? url.href : root;
  }
  // Mostly what deep links are made of (the concatenated path), sometimes what URL encodes or refuses.
  const PLAIN = ['/', '/', '/', '.', '..', '%2e', '%41', '%20', '%C3%A9', '?', '&', '=', '+', ':', '@', ';', ',', '~', '!', '$', '*', '(', ')', '-', '_', 'a', 'B', '0', 'web', 'region', "'"];
  const ODD = ['\\', '%', '%2F', '%5C', '%zz', '#', '"', '<', '>', '`', '{', '}', '^', '|', '[', ']', ' ', 'é', '\u2028', '\t'];
  let seed = 12345;
  const next = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 16) % n; // the high bits: the low ones of an LCG cycle quickly
  };
  for (const publicUrl of ['https://tokyo-1.proxy.example.com', 'https://[2001:db8::1]:3080', 'http://10.0.0.5:8080']) {
    const origin = proxyOrigin(publicUrl);
    it(`5,000 random targets on ${publicUrl}`, () => {
      for (let i = 0; i < 5000; i++) {
        const parts = Array.from({ length: 1 + next(12) }, () => (next(8) === 0 ? ODD[next(ODD.length)] : PLAIN[next(PLAIN.length)]) ?? '');
        const raw = (next(4) === 0 ? '' : '/') + parts.join('');
        const loc = locationAt(origin, raw);
        assert.equal(loc, throughUrl(origin, raw), JSON.stringify(raw));
        assert.ok(loc.startsWith(`${origin}/`), loc);
        assert.equal(new URL(loc).origin, origin);
      }
    });
  }
});
