import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { assertNever, err, ok, type Result } from '../model/result.js';
import { parseHookRequest, type HookInput } from './control-input.js';
import { checkSignature } from './hook-signature.js';
import { CONTROL_BODY_LIMIT_BYTES, parseJsonBody, readBody, sendJson } from './http-util.js';
import type { ProxyView } from './sim-proxy.js';

/** What the hook does to the fleet. */
export interface HookFleet {
  proxyView(name: string): ProxyView | undefined;
  setRotation(name: string, inRotation: boolean): ProxyView;
  restart(name: string, change: { version?: string }): Promise<Result<ProxyView, string>>;
}

export interface UpgradeHookOptions {
  /** Key for X-Meridian-Signature; absent = requests are not checked. */
  readonly secret: string | undefined;
  /** Real time (epoch ms), which the request's timestamp is checked against. */
  readonly now: () => number;
  readonly log: Logger | undefined;
}

interface UpgradeRecord {
  readonly proxy: string;
  readonly version: string;
  readonly done: Promise<Result<ProxyView, string>>;
}

function refuse(res: ServerResponse, status: number, error: string, field?: string): void {
  sendJson(res, status, { accepted: false, error, ...(field === undefined ? {} : { field }) });
}

/**
 * `POST /hooks/upgrade`: the simulator as the operator's automation behind Meridian's webhook
 * upgrade method. Rotation actions stop and resume new session arrivals (a load balancer
 * deregistering the proxy); upgrade and rollback restart the proxy as `version`, cutting its
 * remaining sessions, at most once per id, and not at all when it already runs that version.
 */
export class UpgradeHook {
  private readonly upgrades = new Map<string, UpgradeRecord>();

  constructor(
    private readonly fleet: HookFleet,
    private readonly o: UpgradeHookOptions,
  ) {}

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req, CONTROL_BODY_LIMIT_BYTES);
    if (!raw.ok) return refuse(res, 400, `body: ${raw.error}`, 'body');
    if (this.o.secret !== undefined) {
      const signed = checkSignature(this.o.secret, req.headers, raw.value, this.o.now());
      if (!signed.ok) return refuse(res, 401, signed.error);
    }
    const body = parseJsonBody(raw.value);
    if (!body.ok) return refuse(res, 400, `body: ${body.error}`, 'body');
    const input = parseHookRequest(body.value);
    if (!input.ok) return refuse(res, 400, input.error.message, input.error.field);
    const view = this.fleet.proxyView(input.value.proxy);
    if (!view) return refuse(res, 404, `no proxy named "${input.value.proxy}"`);
    if (view.region !== input.value.region) {
      return refuse(res, 400, `region: proxy "${view.name}" is in region "${view.region}", not "${input.value.region}"`, 'region');
    }
    const r = await this.act(input.value, view);
    this.o.log?.info({ proxy: view.name, action: input.value.action, hookId: input.value.id, accepted: r.ok }, 'Upgrade hook answered');
    return r.ok ? sendJson(res, 200, { accepted: true, ...r.value }) : refuse(res, 409, r.error);
  }

  private async act(input: HookInput, view: ProxyView): Promise<Result<ProxyView, string>> {
    switch (input.action) {
      case 'out-of-rotation':
        return ok(this.fleet.setRotation(view.name, false));
      case 'in-rotation':
        return ok(this.fleet.setRotation(view.name, true));
      case 'upgrade':
      case 'rollback':
        return this.upgrade(input, view);
      default:
        return assertNever(input.action, 'hook action');
    }
  }

  private async upgrade(input: HookInput, view: ProxyView): Promise<Result<ProxyView, string>> {
    const earlier = this.upgrades.get(input.id);
    if (earlier) {
      if (earlier.proxy !== input.proxy || earlier.version !== input.version) {
        return err(`id "${input.id}" was already used to move proxy "${earlier.proxy}" to ${earlier.version}`);
      }
      // A repeat (retry, or the controller after a crash): wait for the first, restart nothing.
      const first = await earlier.done;
      return first.ok ? ok(this.fleet.proxyView(view.name) ?? first.value) : first;
    }
    if (view.version === input.version && view.state !== 'stopped') return ok(view);
    const done = this.fleet.restart(view.name, { version: input.version });
    this.upgrades.set(input.id, { proxy: view.name, version: input.version, done });
    const r = await done;
    // A failed restart may be tried again with the same id.
    if (!r.ok) this.upgrades.delete(input.id);
    return r;
  }
}
