import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkVersionSkew } from '../../src/model/version-skew.js';

describe('checkVersionSkew: a proxy at most one major behind Auth, never newer, majors one at a time', () => {
  const allowed: [string, string, string[]][] = [
    ['17.4.8', '17.4.8', ['17.4.2', '17.4.2']],
    ['17.4.2', '17.4.8', ['17.4.8']],
    ['16.4.6', '17.1.0', ['17.1.0']],
    ['17.0.0', '17.0.0', ['16.4.6']],
    ['v17.4.8', 'v17.5.0', ['v17.4.2']],
    ['17.4.9-debug.1', '17.4.9', ['17.4.2']],
    ['17.4.9-rc.1', '17.4.9-rc.2', []],
    ['17.4.8', '18.0.0', ['16.4.6']],
    // Compatibility is by major: a newer minor or patch than Auth is fine.
    ['17.4.9', '17.4.8', ['17.4.2']],
    ['17.4.9', '17.4.9-rc.1', []],
  ];
  for (const [target, auth, proxies] of allowed) {
    it(`allows ${target} with Auth ${auth} and proxies ${proxies.join(', ') || '(none)'}`, () => assert.deepEqual(checkVersionSkew(target, auth, proxies), { ok: true, value: undefined }));
  }

  const refused: [string, string | undefined, string[], RegExp][] = [
    ['18.0.0', '17.4.8', ['17.4.8'], /18\.0\.0 is a newer major version than the Auth Service \(17\.4\.8\): upgrade the Auth Service first/],
    ['18.0.0-rc.1', '17.4.8', [], /newer major version than the Auth Service/],
    ['15.4.0', '17.0.0', ['16.4.6'], /more than one major version behind the Auth Service \(17\.0\.0\)/],
    ['17.1.0', '17.4.8', ['15.4.22', '16.4.6'], /17\.1\.0 skips major version 16 from a proxy at 15\.4\.22: upgrade one major version at a time/],
    ['17.4.8', undefined, ['17.4.2'], /the Auth Service version is unknown/],
    ['latest', '17.4.8', [], /target version "latest" is not a Teleport version/],
    ['17.4.8', 'unknown', [], /the Auth Service reports "unknown"/],
    ['17.4.8', '17.4.8', ['17.4'], /a proxy reports "17\.4"/],
  ];
  for (const [target, auth, proxies, why] of refused) {
    it(`refuses ${target} with Auth ${auth ?? '(unknown)'} and proxies ${proxies.join(', ') || '(none)'}`, () => {
      const r = checkVersionSkew(target, auth, proxies);
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(r.error, why);
    });
  }
});
