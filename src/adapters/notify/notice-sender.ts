import type { Logger } from 'pino';
import type { Delivery, DeliveryFailure, NoticePayload, SendNotice } from '../../model/actuators.js';
import type { Clock } from '../../model/clock.js';
import { assertNever, err, ok, type Result } from '../../model/result.js';
import type { NoticeChannel } from '../../model/rollout.js';
import { fillArgv } from '../hooks/argv-template.js';
import { describeCommandFailure } from '../hooks/command-failure.js';
import { DEFAULT_ATTEMPTS, DEFAULT_BACKOFF, describeFailure, hostOf, isSuccess, postJson, type Backoff } from '../hooks/post-json.js';
import type { ReadSecret } from '../hooks/read-secret.js';
import type { RunCommand } from '../hooks/run-command.js';
import { signedJsonHeaders } from '../hooks/sign.js';
import { goDuration } from './go-duration.js';
import { ALERT_ON_LOGIN, ALERT_PERMIT_ALL, checkAlertCreateArgv } from './tctl-alert-args.js';

export interface NoticeSenderDeps {
  readonly log: Logger;
  /** Stamps X-Meridian-Timestamp. */
  readonly clock: Clock;
  readonly runCommand: RunCommand;
  readonly readSecret: ReadSecret;
  /** Per HTTP try, and for the whole command; default 10 s. */
  readonly timeoutMs?: number;
  /** HTTP tries in all, the first included; default 3. */
  readonly attempts?: number;
  readonly backoff?: Backoff;
}

export const DEFAULT_NOTICE_TIMEOUT_MS = 10_000;

/**
 * `tctl alerts create`: a cluster alert every user sees at login, labelled with the notice id so
 * it can be found again. tctl adds alert-on-login and alert-permit-all only when no --labels are
 * given, so with ours both are spelled out: without alert-permit-all only users allowed to read
 * cluster_alert resources would see it.
 */
export const DEFAULT_TELEPORT_COMMAND: readonly string[] = [
  'tctl',
  'alerts',
  'create',
  '{message}',
  '--severity',
  '{severity}',
  '--ttl',
  '{ttl}',
  '--labels',
  `${ALERT_ON_LOGIN}=yes,${ALERT_PERMIT_ALL}=yes,meridian.dev/notice={id}`,
];

type Outcome = Result<Delivery, DeliveryFailure>;

/** Slack reads &, < and > in `text` as markup; a notice is plain text. */
function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Sends notices on Slack-compatible incoming webhooks, signed JSON webhooks, and Teleport
 * cluster alerts (through a command, by default `tctl alerts create`). HTTP channels retry
 * (see postJson); a command runs once, since the rollout's next pass is its retry and a
 * second alert would be a duplicate. Every send is logged.
 */
export function createNoticeSender(deps: NoticeSenderDeps): SendNotice {
  const timeoutMs = deps.timeoutMs ?? DEFAULT_NOTICE_TIMEOUT_MS;
  const attempts = deps.attempts ?? DEFAULT_ATTEMPTS;
  const backoff = deps.backoff ?? DEFAULT_BACKOFF;

  async function post(prefix: string, url: string, body: string, headers: Record<string, string>, signal: AbortSignal): Promise<Outcome> {
    const r = await postJson({ url, body, headers, timeoutMs, attempts, backoff, signal });
    if (r.ok && isSuccess(r.value.status)) return ok({ attempts: r.value.attempts });
    return err({ attempts: r.ok ? r.value.attempts : r.error.attempts, error: `${prefix} at ${hostOf(url)}: ${describeFailure(r)}` });
  }

  async function teleport(prefix: string, template: readonly string[], notice: NoticePayload, signal: AbortSignal): Promise<Outcome> {
    const ttl = goDuration(notice.ttl);
    if (!ttl.ok) return err({ attempts: 0, error: `${prefix}: ttl ${ttl.error}` });
    const values = new Map([
      ['message', notice.message],
      ['severity', notice.severity],
      ['ttl', ttl.value],
      ['id', notice.id],
      ['region', notice.region],
      ['version', notice.version],
      ['proxies', notice.proxies.join(',')],
      ['rollout', notice.rollout],
      ['leadTime', notice.leadTime],
    ]);
    const argv = fillArgv(template, values);
    if (!argv.ok) return err({ attempts: 0, error: `${prefix}: ${argv.error}` });
    const checked = checkAlertCreateArgv(argv.value);
    if (!checked.ok) return err({ attempts: 0, error: `${prefix}: tctl alerts create would refuse it: ${checked.error}` });
    const r = await deps.runCommand(argv.value, { timeoutMs, signal });
    return r.code === 0 ? ok({ attempts: 1 }) : err({ attempts: 1, error: `${prefix}: ${describeCommandFailure(argv.value, r)}` });
  }

  async function send(channel: NoticeChannel, notice: NoticePayload, signal: AbortSignal): Promise<Outcome> {
    const prefix = `${channel.type} channel "${channel.name}"`;
    switch (channel.type) {
      case 'slack':
        return post(prefix, channel.url, JSON.stringify({ text: slackEscape(notice.message) }), { 'content-type': 'application/json' }, signal);
      case 'webhook': {
        let key: string | undefined;
        if (channel.secretFile !== undefined) {
          const secret = await deps.readSecret(channel.secretFile);
          if (!secret.ok) return err({ attempts: 0, error: `${prefix}: ${secret.error}` });
          key = secret.value;
        }
        const body = JSON.stringify({ type: 'meridian.notice', ...notice });
        return post(prefix, channel.url, body, signedJsonHeaders(notice.id, body, deps.clock.now(), key), signal);
      }
      case 'teleport':
        return teleport(prefix, channel.command ?? DEFAULT_TELEPORT_COMMAND, notice, signal);
      default:
        return assertNever(channel, 'notice channel');
    }
  }

  return async (channel, notice, signal) => {
    const r = await send(channel, notice, signal);
    const fields = { channel: channel.name, type: channel.type, noticeId: notice.id, rollout: notice.rollout, region: notice.region };
    if (r.ok) deps.log.info({ ...fields, attempts: r.value.attempts }, 'Notice sent');
    else deps.log.warn({ ...fields, attempts: r.error.attempts, error: r.error.error }, 'Notice failed');
    return r;
  };
}
