import pino from 'pino';
import { buildConfig, configFromEnv, type ConfigInput } from '../../config.js';
import { startMeridian } from '../../main.js';
import { parseFlags } from '../flags.js';
import type { CliIo } from '../io.js';

/** `meridian start`: the controller, by default on the demo fleet with the simulator. */
export async function runStart(args: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(args, {
    manifests: { type: 'string' },
    state: { type: 'string' },
    admin: { type: 'string' },
    'admin-token-file': { type: 'string' },
    'admin-read-token-file': { type: 'string' },
    public: { type: 'string' },
    'trusted-proxies': { type: 'string' },
    'geoip-db': { type: 'string' },
    'no-sim': { type: 'boolean' },
    'time-factor': { type: 'string' },
    'sim-control': { type: 'string' },
    'sim-clock': { type: 'string' },
    'observe-interval': { type: 'string' },
    'observe-timeout': { type: 'string' },
    'observe-concurrency': { type: 'string' },
    'log-level': { type: 'string' },
    'oidc-connector': { type: 'string' },
  });
  const flags: ConfigInput = {
    ...(values.manifests !== undefined && { manifestDir: values.manifests }),
    ...(values.state !== undefined && { stateDir: values.state }),
    ...(values.admin !== undefined && { admin: values.admin }),
    ...(values['admin-token-file'] !== undefined && { adminTokenFile: values['admin-token-file'] }),
    ...(values['admin-read-token-file'] !== undefined && { adminReadTokenFile: values['admin-read-token-file'] }),
    ...(values.public !== undefined && { public: values.public }),
    ...(values['trusted-proxies'] !== undefined && { trustedProxies: values['trusted-proxies'] }),
    ...(values['geoip-db'] !== undefined && { geoipDb: values['geoip-db'] }),
    ...(values['no-sim'] && { sim: 'false' }),
    ...(values['time-factor'] !== undefined && { simTimeFactor: values['time-factor'] }),
    ...(values['sim-control'] !== undefined && { simControl: values['sim-control'] }),
    ...(values['sim-clock'] !== undefined && { simClock: values['sim-clock'] }),
    ...(values['observe-interval'] !== undefined && { observeInterval: values['observe-interval'] }),
    ...(values['observe-timeout'] !== undefined && { observeTimeout: values['observe-timeout'] }),
    ...(values['observe-concurrency'] !== undefined && { observeConcurrency: values['observe-concurrency'] }),
    ...(values['log-level'] !== undefined && { logLevel: values['log-level'] }),
    ...(values['oidc-connector'] !== undefined && { oidcConnectorFile: values['oidc-connector'] }),
  };
  const config = buildConfig([
    { source: 'environment', values: configFromEnv() },
    { source: 'flag', values: flags },
  ]);
  if (!config.ok) {
    io.err(`meridian start: invalid configuration:\n  ${config.error.join('\n  ')}`);
    return 2;
  }
  const log = pino({ level: config.value.logLevel, base: { app: 'meridian' } });
  const handle = await startMeridian(config.value, log);
  const server = handle.adminUrl.endsWith(':9181') ? '' : ` --server ${handle.adminUrl}`;
  io.out(
    [
      '',
      `Meridian is running in standalone mode on ${config.value.manifestDir} (state in ${config.value.stateDir})`,
      `  Login URL   ${handle.loginUrl}        the geo redirect (try ${handle.loginUrl}/nearest)`,
      `  Admin API   ${handle.adminUrl}        /metrics  /healthz  /readyz  /api/v1/fleet`,
      ...(handle.simControlUrl ? [`  Simulator   ${handle.simControlUrl}        control API of the demo proxies (GET /proxies)`] : []),
      ...(config.value.sim.followClock ? [`  Clock       ${config.value.sim.followClock}/clock        the simulator's time, which the controller runs on`] : []),
      `  Status      npx meridian status --watch${server}`,
      `  Peering     npx meridian peering status${server}   (coverage, plan: the nodes a region cannot reach, the links)`,
      '',
    ].join('\n'),
  );
  await io.untilStopped();
  log.info('Stopping');
  await handle.close();
  return 0;
}
