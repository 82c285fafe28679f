import { CanaryView } from '../../admin/canary-schemas.js';
import { CANARY_VERBS, type CanaryVerb } from '../../canary/core/canary-commands.js';
import { DEFAULT_NAMESPACE } from '../../model/resource.js';
import { getJson, postJson } from '../admin-client.js';
import { clockNote } from '../clock-note.js';
import { fetchControllerClock } from '../controller-clock.js';
import { renderCanaryReport, renderCanaryStatus } from '../canary-report-text.js';
import { signInvite } from '../../canary/core/invite-token.js';
import { buildConfig, configFromEnv, DEFAULT_ADMIN_URL, type ConfigInput } from '../../config.js';
import { parseDuration } from '../../model/duration.js';
import { parseFlags } from '../flags.js';
import type { CliIo } from '../io.js';
import { readSecret } from '../offline-context.js';

const USAGE = 'usage: meridian canary start|promote|rollback|status|report NAME [-n NS] [--server URL] | invite NAME [--ttl 7d] [--key-file FILE] [--login-url URL]';

/** `meridian canary ...`: command and read canaries through the admin API, and invite users to one. */
export async function runCanary(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'invite') return runInvite(rest, io);
  if (sub === 'status' || sub === 'report') return runCanaryRead(sub, rest, io);
  if (sub && (CANARY_VERBS as readonly string[]).includes(sub)) return runCanaryCommand(sub as CanaryVerb, rest, io);
  io.err(`meridian canary: ${sub ? `unknown subcommand "${sub}"` : 'missing subcommand'}\n${USAGE}`);
  return 2;
}

function nameAndServer(args: string[]) {
  const { values, positionals } = parseFlags(args, { server: { type: 'string', default: DEFAULT_ADMIN_URL }, namespace: { type: 'string', short: 'n', default: DEFAULT_NAMESPACE }, json: { type: 'boolean', default: false } }, true);
  const [name, ...extra] = positionals;
  if (!name || extra.length) throw new Error(USAGE);
  return { name, ...values, path: `/api/v1/canaries/${encodeURIComponent(values.namespace)}/${encodeURIComponent(name)}` };
}

async function runCanaryCommand(verb: CanaryVerb, args: string[], io: CliIo): Promise<number> {
  const a = nameAndServer(args);
  const view = await postJson(a.server, `${a.path}/${verb}`, CanaryView);
  io.out(`${verb}: ${view.namespace}/${view.name} — ${view.phase ?? 'Pending'}${view.paused ? ' (paused)' : ''}`);
  return 0;
}

/** status: the phase and each proxy's step and wait; report: the A/B table, check by check, interval by interval. */
async function runCanaryRead(kind: 'status' | 'report', args: string[], io: CliIo): Promise<number> {
  const a = nameAndServer(args);
  const view = await getJson(a.server, a.path, CanaryView);
  if (a.json) {
    io.out(JSON.stringify(view, null, 2));
    return 0;
  }
  // On the simulator's clock (the demo), every time below is a simulated one: said once, on top.
  const note = clockNote(await fetchControllerClock(a.server));
  io.out(`${note ? `${note}\n\n` : ''}${kind === 'report' ? renderCanaryReport(view) : renderCanaryStatus(view)}`);
  return 0;
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
