import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildConfig, configFromEnv, DEFAULTS } from '../src/config.js';
import { SETTING_KEYS, SETTINGS, settingsOf } from '../src/config-schema.js';
import { COMMANDS } from '../src/cli/main.js';

test('defaults: no manifests directory (start refuses; the demo names its own), loopback listeners', () => {
  const r = buildConfig([]);
  assert.ok(r.ok);
  assert.equal(r.value.manifestDir, undefined);
  assert.equal(DEFAULTS.manifestDir, '', 'the demo fleet is no default of the controller');
  assert.deepEqual(r.value.admin, { host: '127.0.0.1', port: 9181 });
  assert.equal(r.value.observe.intervalMs, 2000);
  assert.equal(r.value.sim.timeFactor, 60);
  const given = buildConfig([{ source: 'environment', values: configFromEnv({ MERIDIAN_MANIFEST_DIR: '/etc/meridian' }) }]);
  assert.equal(given.ok && given.value.manifestDir, '/etc/meridian');
  assert.ok(Object.isFrozen(r.value) && Object.isFrozen(r.value.observe), 'config is frozen all the way down');
});

test('flags win over the environment, which wins over defaults', () => {
  const env = configFromEnv({ MERIDIAN_ADMIN_ADDR: '0.0.0.0:9000', MERIDIAN_OBSERVE_INTERVAL: '10s', UNRELATED: 'x' });
  assert.deepEqual(env, { admin: '0.0.0.0:9000', observeInterval: '10s' });
  const r = buildConfig([
    { source: 'environment', values: env },
    { source: 'flag', values: { admin: '[::1]:9100' } },
  ]);
  assert.ok(r.ok);
  assert.deepEqual(r.value.admin, { host: '::1', port: 9100 });
  assert.equal(r.value.observe.intervalMs, 10_000);
});

test('every bad value is named with where it came from', () => {
  const r = buildConfig([
    { source: 'environment', values: { admin: 'localhost', observeInterval: 'soon', logLevel: 'loud', simTimeFactor: 'fast' } },
    { source: 'flag', values: { observeConcurrency: '0' } },
  ]);
  assert.equal(r.ok, false);
  const errors = r.ok ? [] : r.error;
  assert.ok(errors.includes('MERIDIAN_ADMIN_ADDR: "localhost" must be host:port, e.g. 127.0.0.1:9181'), errors.join('\n'));
  assert.ok(errors.some((e) => e.startsWith('MERIDIAN_OBSERVE_INTERVAL: "soon" is not a duration')));
  assert.ok(errors.some((e) => e.startsWith('MERIDIAN_LOG_LEVEL: "loud" must be one of')));
  assert.ok(errors.includes('MERIDIAN_SIM_TIME_FACTOR: "fast" must be a number of at least 0.001'));
  assert.ok(errors.includes('--observe-concurrency: "0" must be a whole number from 1 to 10000'));
});

test('a scrape timeout at least as long as the interval is refused', () => {
  const r = buildConfig([{ source: 'flag', values: { observeInterval: '2s', observeTimeout: '2s' } }]);
  assert.equal(r.ok, false);
  assert.match(r.ok ? '' : (r.error[0] ?? ''), /timeout must be shorter than the observe interval/);
});

test('the login URL defaults to the public listener and must be an http(s) origin; the canary key file is optional', () => {
  const d = buildConfig([]);
  assert.ok(d.ok);
  assert.equal(d.value.redirect.loginUrl, 'http://127.0.0.1:8080');
  assert.equal(d.value.redirect.canaryKeyFile, undefined);
  const set = buildConfig([{ source: 'environment', values: { loginUrl: 'https://login.example.com/', canaryKeyFile: '/etc/meridian/canary-key' } }]);
  assert.ok(set.ok);
  assert.deepEqual([set.value.redirect.loginUrl, set.value.redirect.canaryKeyFile], ['https://login.example.com', '/etc/meridian/canary-key']);
  const bad = buildConfig([{ source: 'environment', values: { loginUrl: 'https://login.example.com/path?x' } }]);
  assert.deepEqual(bad.ok ? [] : bad.error, ['MERIDIAN_LOGIN_URL: "https://login.example.com/path?x" must be an http(s) origin such as https://login.example.com']);
});

test('the admin token files come from MERIDIAN_ADMIN_TOKEN_FILE and MERIDIAN_ADMIN_READ_TOKEN_FILE (or flags); none by default', () => {
  const d = buildConfig([]);
  assert.ok(d.ok);
  assert.deepEqual(d.value.adminAuth, {});
  const env = configFromEnv({ MERIDIAN_ADMIN_TOKEN_FILE: '/etc/meridian/admin-tokens', MERIDIAN_ADMIN_READ_TOKEN_FILE: '/etc/meridian/read-tokens' });
  const r = buildConfig([{ source: 'environment', values: { ...env, admin: '0.0.0.0:9181' } }]);
  assert.ok(r.ok, r.ok ? '' : r.error.join('; '));
  assert.deepEqual(r.value.adminAuth, { tokenFile: '/etc/meridian/admin-tokens', readTokenFile: '/etc/meridian/read-tokens' });
});

test('MERIDIAN_SIM_CLOCK (--sim-clock) follows a separate simulator', () => {
  const env = configFromEnv({ MERIDIAN_SIM_CLOCK: 'http://127.0.0.1:7300/', MERIDIAN_SIM: 'false' });
  assert.deepEqual(env, { simClock: 'http://127.0.0.1:7300/' }, 'MERIDIAN_SIM is gone: start never runs a simulator');
  const r = buildConfig([{ source: 'environment', values: env }]);
  assert.ok(r.ok, r.ok ? '' : r.error.join('; '));
  assert.equal(r.value.sim.followClock, 'http://127.0.0.1:7300');
  const defaults = buildConfig([]);
  assert.ok(defaults.ok);
  assert.equal(defaults.value.sim.followClock, undefined, 'absent by default');

  const bad = buildConfig([{ source: 'flag', values: { simClock: '127.0.0.1:7300' } }]);
  assert.deepEqual(bad.ok ? [] : bad.error, ['--sim-clock: "127.0.0.1:7300" must be the simulator\'s control API as an http origin, e.g. http://127.0.0.1:7300']);
});

test('every setting has a flag, a variable and a help line, and start or demo --help lists each with its variable and default', () => {
  const flags = new Set<string>();
  const variables = new Set<string>();
  for (const key of SETTING_KEYS) {
    const s = SETTINGS[key];
    assert.match(s.flag, /^[a-z][a-z-]+$/, key);
    // KUBECONFIG is kubectl's own variable, taken as kubectl takes it.
    assert.match(s.variable, key === 'kubeconfig' ? /^KUBECONFIG$/ : /^MERIDIAN_[A-Z_]+$/, key);
    assert.ok(s.help.length > 5, key);
    assert.ok(s.commands.length > 0, `${key} is taken by start or demo`);
    flags.add(s.flag);
    variables.add(s.variable);
    const defaultText = s.default || ('unset' in s ? s.unset : '');
    assert.ok(defaultText, `${key} says what it is when not set`);
    for (const command of s.commands) {
      const usage = COMMANDS[command]?.usage ?? '';
      const line = usage.split('\n').find((l) => l.trimStart().startsWith(`--${s.flag} `));
      assert.ok(line, `meridian ${command} --help lists --${s.flag}`);
      assert.ok(line.includes(s.variable) && line.includes(`default ${defaultText}`), line);
    }
  }
  assert.equal(flags.size, SETTING_KEYS.length, 'one flag per setting');
  assert.equal(variables.size, SETTING_KEYS.length, 'one variable per setting');
  for (const v of ['MERIDIAN_TRUSTED_HEADER', 'MERIDIAN_LOGIN_URL', 'MERIDIAN_CANARY_KEY_FILE', 'MERIDIAN_SCRAPE_MAX_BYTES', 'MERIDIAN_LOG_FORMAT']) assert.ok(variables.has(v), v);
  assert.deepEqual(settingsOf('start').filter((k) => k.startsWith('sim') && k !== 'simClock'), [], 'start takes no simulator settings');
  assert.ok(!settingsOf('demo').includes('simClock'), 'the demo runs its own simulator');
});

test('a value is named by its flag or its variable, whichever gave it', () => {
  const fromFlag = buildConfig([{ source: 'flag', values: { trustedHeader: 'via', maxBodyBytes: '12', logFormat: 'colour' } }]);
  assert.deepEqual(fromFlag.ok ? [] : fromFlag.error, [
    '--trusted-header: "via" must be x-forwarded-for or forwarded',
    '--scrape-max-bytes: "12" must be a whole number from 1024 to 1073741824',
    '--log-format: "colour" must be one of auto, json, pretty',
  ]);
  const env = configFromEnv({ MERIDIAN_TRUSTED_HEADER: 'via', MERIDIAN_SCRAPE_MAX_BYTES: '12', MERIDIAN_LOG_FORMAT: 'colour' });
  const fromEnv = buildConfig([{ source: 'environment', values: env }]);
  assert.deepEqual(fromEnv.ok ? [] : fromEnv.error, [
    'MERIDIAN_TRUSTED_HEADER: "via" must be x-forwarded-for or forwarded',
    'MERIDIAN_SCRAPE_MAX_BYTES: "12" must be a whole number from 1024 to 1073741824',
    'MERIDIAN_LOG_FORMAT: "colour" must be one of auto, json, pretty',
  ]);
  const good = buildConfig([{ source: 'flag', values: { logFormat: 'pretty' } }]);
  assert.equal(good.ok && good.value.logFormat, 'pretty');
  assert.equal(DEFAULTS.logFormat, 'auto');
});

test('the kubernetes store: KUBECONFIG as a list, a namespace or all, the Lease and its timings, an identity with a random suffix', () => {
  const host = { hostname: 'node-a', podName: 'meridian-7d9f-abcde', kubernetesService: { host: '10.96.0.1', port: '443' } };
  const file = buildConfig([], host);
  assert.ok(file.ok);
  assert.deepEqual([file.value.mode, file.value.kubernetes], ['standalone', undefined]);

  const env = configFromEnv({ MERIDIAN_STORE: 'kubernetes', KUBECONFIG: '/a/config::/b/config', MERIDIAN_NAMESPACE: 'teleport' });
  const r = buildConfig([{ source: 'environment', values: env }], host);
  assert.ok(r.ok, r.ok ? '' : r.error.join('; '));
  assert.equal(r.value.mode, 'kubernetes');
  assert.deepEqual(r.value.kubernetes, {
    kubeconfig: { paths: ['/a/config', '/b/config'], from: 'KUBECONFIG' },
    inCluster: { host: '10.96.0.1', port: '443' },
    namespace: 'teleport',
    lease: { name: 'meridian-leader', namespace: 'teleport', durationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 },
  });
  assert.match(r.value.identity, /^meridian-7d9f-abcde-[0-9a-f]{8}$/);
  const again = buildConfig([{ source: 'environment', values: env }], host);
  assert.notEqual(again.ok && again.value.identity, r.value.identity, 'a restarted process is a new identity');

  const all = buildConfig([{ source: 'flag', values: { store: 'kubernetes', identity: 'replica-1' } }], { hostname: 'node-a' });
  assert.ok(all.ok);
  assert.equal(all.value.identity, 'replica-1');
  assert.deepEqual([all.value.kubernetes?.namespace, all.value.kubernetes?.lease.namespace, all.value.kubernetes?.kubeconfig], [undefined, undefined, undefined], 'all namespaces; the Lease in the pod\'s');
  const byHost = buildConfig([{ source: 'flag', values: { store: 'kubernetes' } }], { hostname: 'node-a' });
  assert.match(byHost.ok ? byHost.value.identity : '', /^node-a-[0-9a-f]{8}$/);

  const bad = buildConfig([{ source: 'flag', values: { store: 'etcd' } }]);
  assert.deepEqual(bad.ok ? [] : bad.error, ['--store: "etcd" must be one of file, kubernetes']);
  const timings = buildConfig([{ source: 'flag', values: { store: 'kubernetes', leaseDuration: '1500ms', renewDeadline: '2s', retryPeriod: '2s' } }]);
  assert.deepEqual(timings.ok ? [] : timings.error, [
    '--lease-duration: "1500ms" must be whole seconds (the Lease counts in seconds)',
    '--renew-deadline: the renew deadline must be shorter than the lease duration (1500ms)',
    '--retry-period: the retry period must be shorter than the renew deadline (2s)',
  ]);
});
