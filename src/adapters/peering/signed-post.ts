import type { Clock } from '../../model/clock.js';
import { durationOr } from '../../model/duration.js';
import { err, ok, type Result } from '../../model/result.js';
import { DEFAULT_ATTEMPTS, DEFAULT_BACKOFF, describeFailure, hostOf, isSuccess, postJson } from '../hooks/post-json.js';
import type { ReadSecret } from '../hooks/read-secret.js';
import { signedJsonHeaders } from '../hooks/sign.js';
import { PEERING_DEFAULTS } from '../../peering/core/peering-settings.js';

export interface SignedTarget {
  readonly url: string;
  readonly secretFile?: string;
  readonly timeout?: string;
}

export interface SignedPostDeps {
  readonly clock: Clock;
  readonly readSecret: ReadSecret;
}

/** POSTs `body` signed like every Meridian webhook; the error names the host and the answer. Never throws. */
export async function postSigned(deps: SignedPostDeps, target: SignedTarget, id: string, body: unknown, signal: AbortSignal): Promise<Result<string, string>> {
  let key: string | undefined;
  if (target.secretFile) {
    const secret = await deps.readSecret(target.secretFile);
    if (!secret.ok) return err(secret.error);
    key = secret.value;
  }
  const text = JSON.stringify(body);
  const r = await postJson({
    url: target.url,
    body: text,
    headers: signedJsonHeaders(id, text, deps.clock.now(), key),
    timeoutMs: durationOr(target.timeout, PEERING_DEFAULTS.actionTimeout),
    attempts: DEFAULT_ATTEMPTS,
    backoff: DEFAULT_BACKOFF,
    signal,
  });
  return r.ok && isSuccess(r.value.status) ? ok(r.value.body) : err(`${hostOf(target.url)}: ${describeFailure(r)}`);
}
