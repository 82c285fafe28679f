import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatPath } from '../../src/model/field-error.js';
import { validateManifest } from '../../src/model/validate.js';
import { fleet, fleetSpec } from '../helpers/fleet-fixture.js';

const manifest = (spec: unknown): unknown => ({ apiVersion: 'meridian.dev/v1alpha1', kind: 'ProxyFleet', metadata: { name: 'demo' }, spec });
const errorsOf = (doc: unknown): string[] => {
  const r = validateManifest(doc);
  assert.equal(r.ok, false, 'expected the manifest to be refused');
  return r.ok ? [] : r.error.map((e) => `${formatPath(e.path)}: ${e.message}`);
};

test('names are DNS subdomains: dotted labels of up to 253 characters in all', () => {
  for (const name of ['demo', 'follow-the-sun', 'eu.prod.fleet-2', '0', 'a'.repeat(63) + '.' + 'b'.repeat(63)]) {
    const r = validateManifest({ ...(manifest(base) as object), metadata: { name } });
    assert.ok(r.ok, `${name}: ${r.ok ? '' : JSON.stringify(r.error)}`);
  }
});

test('a valid fleet is accepted as is', () => {
  const doc = manifest(fleetSpec());
  const r = validateManifest(doc);
  assert.ok(r.ok);
  assert.deepEqual(r.value.spec, fleet().spec);
});

const base = fleetSpec();
const cases: { name: string; doc: unknown; expect: RegExp }[] = [
  { name: 'not a mapping', doc: ['a'], expect: /^\(root\): a manifest must be a mapping$/ },
  { name: 'unknown kind', doc: { ...(manifest(base) as object), kind: 'ProxyFleat' }, expect: /^kind: unknown kind "ProxyFleat"/ },
  { name: 'wrong apiVersion', doc: { ...(manifest(base) as object), apiVersion: 'v1' }, expect: /^apiVersion: must be "meridian.dev\/v1alpha1"$/ },
  { name: 'unknown field', doc: manifest({ ...base, proxys: [] }), expect: /^spec.proxys: unknown field "proxys"$/ },
  { name: 'wrong type', doc: manifest({ ...base, regions: [{ ...base.regions[0], latitude: 'north' }] }), expect: /^spec.regions\[0\].latitude: must be number$/ },
  { name: 'latitude out of range', doc: manifest({ ...base, regions: [{ ...base.regions[0], latitude: 91 }, base.regions[1]] }), expect: /^spec.regions\[0\].latitude: must be <= 90$/ },
  { name: 'missing field', doc: manifest({ regions: base.regions }), expect: /^spec.proxies: missing required field "proxies"$/ },
  { name: 'bad time zone', doc: manifest({ ...base, regions: [{ ...base.regions[0], timeZone: 'Mars/Olympus' }, base.regions[1]] }), expect: /^spec.regions\[0\].timeZone: unknown IANA time zone "Mars\/Olympus"$/ },
  { name: 'duplicate proxy', doc: manifest({ ...base, proxies: [...base.proxies, { ...base.proxies[0], publicUrl: 'https://x.example.com' }] }), expect: /^spec.proxies\[3\].name: duplicate proxy name "tokyo-1" \(first at index 0\)$/ },
  { name: 'unknown region', doc: manifest({ ...base, proxies: [{ ...base.proxies[0], region: 'mars' }] }), expect: /^spec.proxies\[0\].region: region "mars" is not defined in spec.regions$/ },
  { name: 'two default regions', doc: manifest({ ...base, regions: base.regions.map((r) => ({ ...r, default: true })) }), expect: /^spec.regions\[1\].default: only one region may be the default$/ },
  { name: 'shared public address', doc: manifest({ ...base, proxies: [base.proxies[0], { ...base.proxies[1], publicUrl: base.proxies[0]?.publicUrl }] }), expect: /^spec.proxies\[1\].publicUrl: public address "tokyo-1.example.com" is already used by spec.proxies\[0\]$/ },
  { name: 'bad upgrade method', doc: manifest({ ...base, proxies: [{ ...base.proxies[0], upgrade: { method: 'ssh' } }] }), expect: /^spec.proxies\[0\].upgrade.method: must be "webhook" or "command" or "kubernetes" or "manual"$/ },
  { name: 'webhook without url', doc: manifest({ ...base, proxies: [{ ...base.proxies[0], upgrade: { method: 'webhook' } }] }), expect: /^spec.proxies\[0\].upgrade.url: method "webhook" needs a url$/ },
  { name: 'bad window start', doc: manifest({ ...base, regions: [{ ...base.regions[0], maintenanceWindows: [{ days: ['Sat'], start: '25:00', duration: '4h' }] }, base.regions[1]] }), expect: /^spec.regions\[0\].maintenanceWindows\[0\].start: must match pattern/ },
  { name: 'bad duration', doc: manifest({ ...base, regions: [{ ...base.regions[0], maintenanceWindows: [{ days: ['Sat'], start: '02:00', duration: 'four hours' }] }, base.regions[1]] }), expect: /^spec.regions\[0\].maintenanceWindows\[0\].duration: must match pattern/ },
  { name: 'a pin to a missing region', doc: manifest({ ...base, redirect: { pins: { countries: { JP: 'osaka' } } } }), expect: /^spec.redirect.pins.countries.JP: region "osaka" is not defined in spec.regions$/ },
  { name: 'a lower-case country pin', doc: manifest({ ...base, redirect: { pins: { countries: { jp: 'tokyo' } } } }), expect: /^spec.redirect.pins.countries.jp: unknown field "jp"$/ },
  { name: 'an unknown continent', doc: manifest({ ...base, redirect: { pins: { continents: { XX: 'tokyo' } } } }), expect: /^spec.redirect.pins.continents.XX: unknown field "XX"$/ },
  ...['a..b', 'a.-b', 'a-.b', '-demo', 'demo.', 'Demo', 'de_mo', 'a'.repeat(254)].map((name) => ({
    name: `the name "${name.length > 20 ? `${name.slice(0, 8)}… (${name.length})` : name}", not a DNS subdomain`,
    doc: { ...(manifest(base) as object), metadata: { name } },
    expect: /^metadata.name: must (match pattern|NOT have more than 253 characters)/,
  })),
  { name: 'non-http public URL', doc: manifest({ ...base, proxies: [{ ...base.proxies[0], publicUrl: 'javascript:alert(1)' }] }), expect: /^spec.proxies\[0\].publicUrl: must match pattern/ },
];

for (const c of cases) {
  test(`refuses a manifest with ${c.name}, naming the field`, () => {
    const errors = errorsOf(c.doc);
    assert.ok(errors.some((e) => c.expect.test(e)), `no error matched ${c.expect}; got:\n${errors.join('\n')}`);
  });
}

test('redirect pins to known regions are accepted', () => {
  const r = validateManifest(manifest({ ...fleetSpec(), redirect: { pins: { countries: { JP: 'tokyo', GB: 'london' }, continents: { OC: 'tokyo' } } } }));
  assert.ok(r.ok, r.ok ? '' : JSON.stringify(r.error));
});

test('count-or-percent fields take a count or a percent from 1% to 100%, and say so when refused', () => {
  const docs = {
    'spec.maxUnavailable': (v: unknown) => ({ apiVersion: 'meridian.dev/v1alpha1', kind: 'ProxyRollout', metadata: { name: 'up' }, spec: { version: '17.4.8', maxUnavailable: v } }),
    'spec.subset.perRegion': (v: unknown) => ({ apiVersion: 'meridian.dev/v1alpha1', kind: 'ProxyCanary', metadata: { name: 'c' }, spec: { build: { version: '17.4.9' }, subset: { perRegion: v } } }),
  };
  for (const [field, doc] of Object.entries(docs)) {
    for (const v of [1, 7, '1%', '25%', '50%', '100%']) {
      const r = validateManifest(doc(v));
      assert.ok(r.ok, `${field}: ${JSON.stringify(v)}: ${r.ok ? '' : JSON.stringify(r.error)}`);
    }
    for (const v of [0, '0%', '150%', '12.5%', '50 %', '-5%', true])
      assert.deepEqual(errorsOf(doc(v)), [`${field}: must be a count of at least 1 or a percent from 1% to 100% (such as 25%), not ${JSON.stringify(v)}`]);
  }
});
