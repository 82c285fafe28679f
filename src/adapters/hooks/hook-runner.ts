import type { Logger } from 'pino';
import type { Delivery, DeliveryFailure, HookRequest, RunHook } from '../../model/actuators.js';
import type { Clock } from '../../model/clock.js';
import { parseDuration } from '../../model/duration.js';
import type { Upgrade } from '../../model/fleet.js';
import { assertNever, err, ok, type Result } from '../../model/result.js';
import { fillArgv } from './argv-template.js';
import { describeCommandFailure } from './command-failure.js';
import { readHookReply } from './hook-reply.js';
import { DEFAULT_ATTEMPTS, DEFAULT_BACKOFF, describeFailure, hostOf, isSuccess, postJson, type Backoff } from './post-json.js';
import type { ReadSecret } from './read-secret.js';
import type { RunCommand } from './run-command.js';
import { signedJsonHeaders } from './sign.js';

export interface HookRunnerDeps {
  readonly log: Logger;
  /** Stamps X-Meridian-Timestamp. */
  readonly clock: Clock;
  readonly runCommand: RunCommand;
  readonly readSecret: ReadSecret;
  /** Webhook tries in all, the first included; default 3. */
  readonly attempts?: number;
  readonly backoff?: Backoff;
}

/** Per try, when the proxy's upgrade.timeout does not say. */
export const DEFAULT_HOOK_TIMEOUT = '30s';

type Outcome = Result<Delivery, DeliveryFailure>;

const NOTHING_TO_DO: Outcome = ok({ attempts: 0 });

function fail(req: HookRequest, attempts: number, what: string): Outcome {
  return err({ attempts, error: `${req.action} hook of proxy "${req.proxy.name}": ${what}` });
}

/** The signed JSON a webhook receives. */
function hookBody(req: HookRequest): string {
  return JSON.stringify({
    type: 'meridian.hook',
    id: req.id,
    rollout: req.rollout,
    action: req.action,
    proxy: req.proxy.name,
    region: req.proxy.region,
    version: req.version,
    ...(req.image === undefined ? {} : { image: req.image }),
    ...(req.artifact === undefined ? {} : { artifact: req.artifact }),
    ...(req.flags?.length ? { flags: req.flags } : {}),
    ...(req.peer ? { peer: req.peer } : {}),
  });
}

/** Placeholders of a command template. */
function commandValues(req: HookRequest): ReadonlyMap<string, string> {
  return new Map([
    ['proxy', req.proxy.name],
    ['region', req.proxy.region],
    ['version', req.version],
    ['image', req.image ?? ''],
    ['artifact', req.artifact ?? ''],
    ['id', req.id],
    ['action', req.action],
    ['rollout', req.rollout],
    // One argv element: a template such as ["upgrade", "{proxy}", "--flags={flags}"] gets them space-separated.
    ['flags', (req.flags ?? []).join(' ')],
    ['peer_listen_addr', req.peer?.listenAddr ?? ''],
    ['peer_public_addr', req.peer?.publicAddr ?? ''],
  ]);
}

/**
 * Runs upgrade hooks by each proxy's `upgrade.method`: webhook (signed POST), command (argv
 * template, for upgrade, rollback and configure: a command cannot hold a proxy out of a load balancer),
 * manual (nothing to do: the operator upgrades by hand and the rollout waits for the version).
 * Kubernetes workloads are upgraded by the Kubernetes mode, not here.
 */
export function createHookRunner(deps: HookRunnerDeps): RunHook {
  const attempts = deps.attempts ?? DEFAULT_ATTEMPTS;
  const backoff = deps.backoff ?? DEFAULT_BACKOFF;

  async function webhook(req: HookRequest, upgrade: Upgrade, timeoutMs: number, signal: AbortSignal): Promise<Outcome> {
    if (upgrade.url === undefined) return fail(req, 0, 'upgrade.method is webhook but upgrade.url is not set');
    let key: string | undefined;
    if (upgrade.secretFile !== undefined) {
      const secret = await deps.readSecret(upgrade.secretFile);
      if (!secret.ok) return fail(req, 0, secret.error);
      key = secret.value;
    }
    const body = hookBody(req);
    const headers = signedJsonHeaders(req.id, body, deps.clock.now(), key);
    const r = await postJson({ url: upgrade.url, body, headers, timeoutMs, attempts, backoff, signal });
    const at = `webhook at ${hostOf(upgrade.url)}`;
    if (!r.ok || !isSuccess(r.value.status)) return fail(req, r.ok ? r.value.attempts : r.error.attempts, `${at}: ${describeFailure(r)}`);
    const reply = readHookReply(r.value.body);
    return reply.ok ? ok({ attempts: r.value.attempts }) : fail(req, r.value.attempts, `${at}: ${reply.error}`);
  }

  async function command(req: HookRequest, upgrade: Upgrade, timeoutMs: number, signal: AbortSignal): Promise<Outcome> {
    if (req.action === 'out-of-rotation' || req.action === 'in-rotation') return NOTHING_TO_DO;
    if (upgrade.command === undefined) return fail(req, 0, 'upgrade.method is command but upgrade.command is not set');
    const argv = fillArgv(upgrade.command, commandValues(req));
    if (!argv.ok) return fail(req, 0, `upgrade.command: ${argv.error}`);
    const r = await deps.runCommand(argv.value, { timeoutMs, signal });
    return r.code === 0 ? ok({ attempts: 1 }) : fail(req, 1, describeCommandFailure(argv.value, r));
  }

  async function run(req: HookRequest, signal: AbortSignal): Promise<Outcome> {
    const upgrade = req.proxy.upgrade;
    if (upgrade === undefined) return fail(req, 0, 'the proxy has no spec.proxies[].upgrade');
    const timeout = parseDuration(upgrade.timeout ?? DEFAULT_HOOK_TIMEOUT);
    if (!timeout.ok) return fail(req, 0, `upgrade.timeout: ${timeout.error}`);
    switch (upgrade.method) {
      case 'webhook':
        return webhook(req, upgrade, timeout.value, signal);
      case 'command':
        return command(req, upgrade, timeout.value, signal);
      case 'manual':
        return NOTHING_TO_DO;
      case 'kubernetes':
        return fail(req, 0, 'upgrade.method kubernetes needs the Kubernetes mode, which standalone mode does not have yet');
      default:
        return assertNever(upgrade.method, 'upgrade method');
    }
  }

  return async (req, signal) => {
    const r = await run(req, signal);
    const log = deps.log.child({ kind: 'Proxy', name: req.proxy.name, region: req.proxy.region });
    const fields = { hookId: req.id, action: req.action, method: req.proxy.upgrade?.method, version: req.version };
    if (r.ok) log.info({ ...fields, attempts: r.value.attempts }, 'Upgrade hook ran');
    else log.warn({ ...fields, attempts: r.error.attempts, error: r.error.error }, 'Upgrade hook failed');
    return r;
  };
}
