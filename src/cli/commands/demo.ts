import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildConfig, configFromEnv, DEMO_MANIFEST_DIR } from '../../config.js';
import type { MeridianHandle } from '../../main.js';
import { configFromFlags, controllerFlagOptions } from '../controller-flags.js';
import { parseFlags } from '../flags.js';
import type { CliIo } from '../io.js';
import { serve } from './start.js';

/** The canary of examples/canaries/, which the printed invite command names. */
const DEMO_CANARY = 'debug-build';

/**
 * The demo's invitation key: made once in the state directory (32 random bytes, hex, readable by
 * the owner only) and kept, so links given out stay valid across restarts.
 */
async function ensureCanaryKey(file: string, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  try {
    await writeFile(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
}

/**
 * `meridian demo`: the controller on the bundled demo fleet with the fleet simulator, on its
 * compressed clock, and canary invitations signed with a key of its own unless one is configured.
 */
export async function runDemo(args: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(args, { manifests: { type: 'string', default: DEMO_MANIFEST_DIR }, ...controllerFlagOptions('demo') });
  const flags = configFromFlags('demo', values);
  // The simulator plays the demo fleet (or --manifests), never MERIDIAN_MANIFEST_DIR's real one.
  const layers = [
    { source: 'environment', values: configFromEnv() },
    { source: 'flag', values: { ...flags, manifestDir: values.manifests } },
  ];
  let config = buildConfig(layers);
  if (config.ok && config.value.sim.followClock) {
    io.err('meridian demo: MERIDIAN_SIM_CLOCK follows a separate simulator; the demo runs its own: unset it, or run meridian start --manifests DIR --sim-clock URL');
    return 2;
  }
  if (config.ok && !config.value.redirect.canaryKeyFile) {
    const keyFile = join(config.value.stateDir, 'canary.key');
    await ensureCanaryKey(keyFile, config.value.stateDir);
    config = buildConfig([...layers, { source: 'demo', values: { canaryKeyFile: keyFile } }]);
  }
  if (!config.ok) {
    io.err(`meridian demo: invalid configuration:\n  ${config.error.join('\n  ')}`);
    return 2;
  }
  const keyFile = config.value.redirect.canaryKeyFile ?? '';
  // Links expire on the controller's clock, here the simulator's: a week of real time is this many simulated days.
  const ttlDays = Math.ceil(7 * config.value.sim.timeFactor);
  // Links go to the login URL users are given: --login-url (MERIDIAN_LOGIN_URL) when set, else the listener as bound.
  const givenLoginUrl = layers.some((l) => l.values.loginUrl);
  const loginUrl = (handle: MeridianHandle): string => (givenLoginUrl ? config.value.redirect.loginUrl : handle.loginUrl);
  return serve(config.value, io, {
    simulator: true,
    extra: (handle) => [
      `  Canary      npx meridian canary invite ${DEMO_CANARY} --ttl ${ttlDays}d --key-file ${keyFile} --login-url ${loginUrl(handle)}`,
      `              (a link to the canary's proxies once examples/canaries/${DEMO_CANARY}.yaml is in ${config.value.manifestDir ?? DEMO_MANIFEST_DIR}/ and started)`,
    ],
  });
}
