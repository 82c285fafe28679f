import { readSecret } from '../../adapters/hooks/index.js';
import { signInvite } from '../../canary/core/invite-token.js';
import { buildConfig, configFromEnv, type ConfigInput } from '../../config.js';
import { parseDuration } from '../../model/duration.js';
import { parseFlags } from '../flags.js';
import type { CliIo } from '../io.js';

const USAGE = 'usage: meridian canary invite NAME [--ttl 7d] [--key-file FILE] [--login-url URL]';

/** `meridian canary ...`: for now, invitations to a canary. */
export async function runCanary(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'invite') return runInvite(rest, io);
  io.err(`meridian canary: ${sub ? `unknown subcommand "${sub}"` : 'missing subcommand'}\n${USAGE}`);
  return 2;
}

/**
 * Prints a signed invitation link on the login host: whoever opens it is sent to the canary's
 * proxies until the link expires or the canary ends. Signed with the same key file the
 * controller reads (MERIDIAN_CANARY_KEY_FILE).
 */
async function runInvite(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(args, { ttl: { type: 'string', default: '7d' }, 'key-file': { type: 'string' }, 'login-url': { type: 'string' } }, true);
  const [name, ...extra] = positionals;
  if (!name || extra.length) throw new Error(USAGE);
  if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(name)) throw new Error(`"${name}" is not a ProxyCanary name`);
  const ttl = parseDuration(values.ttl);
  if (!ttl.ok) throw new Error(`--ttl: ${ttl.error}`);
  const flags: ConfigInput = {
    ...(values['key-file'] !== undefined && { canaryKeyFile: values['key-file'] }),
    ...(values['login-url'] !== undefined && { loginUrl: values['login-url'] }),
  };
  const config = buildConfig([
    { source: 'environment', values: configFromEnv() },
    { source: 'flag', values: flags },
  ]);
  if (!config.ok) throw new Error(config.error.join('; '));
  const keyFile = config.value.redirect.canaryKeyFile;
  if (!keyFile) throw new Error('no key to sign with: give --key-file or set MERIDIAN_CANARY_KEY_FILE (the file the controller reads)');
  const key = await readSecret(keyFile);
  if (!key.ok) throw new Error(key.error);
  const expiresAt = Math.floor((Date.now() + ttl.value) / 1000);
  const token = signInvite({ canary: name, expiresAt }, key.value);
  io.out(`${config.value.redirect.loginUrl}/canary/join?t=${token}`);
  io.err(`valid until ${new Date(expiresAt * 1000).toISOString()} while canary ${name} runs; /canary/leave opts out`);
  return 0;
}
