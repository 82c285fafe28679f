import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { HOOK_ACTIONS } from '../model/actuators.js';
import { assertNever, err, ok, type Result } from '../model/result.js';
import { isConfigureRequest, parseConfigureRequest, type ConfigureInput, type PeerListener } from './configure-input.js';
import { parseHookRequest, type HookInput, type InputError } from './control-input.js';
import { sendJson } from './http-util.js';
import { readSignedJson, refuse, refusal, type SignedRequestOptions } from './signed-request.js';
import type { ProxyView } from './sim-proxy.js';

/** What the hook does to the fleet. */
export interface HookFleet {
  proxyView(name: string): ProxyView | undefined;
  setRotation(name: string, inRotation: boolean): ProxyView;
  restart(name: string, change: { version?: string }): Promise<Result<ProxyView, string>>;
  /** Sets the proxy's peer listener. */
  configurePeer(name: string, peer: PeerListener): Result<ProxyView, string>;
}

export interface UpgradeHookOptions extends SignedRequestOptions {
  readonly log: Logger | undefined;
}

interface UpgradeRecord {
  readonly proxy: string;
  readonly version: string;
  readonly done: Promise<Result<ProxyView, string>>;
}

interface ConfigureRecord {
  readonly proxy: string;
  readonly version: string;
  readonly peer: PeerListener;
}

/** Either kind of hook request: `configure` (peer listener), read by its own parser, or the others. */
type ParsedHook = { readonly kind: 'configure'; readonly input: ConfigureInput } | { readonly kind: 'hook'; readonly input: HookInput };

const ALL_ACTIONS: readonly string[] = ['configure', ...(HOOK_ACTIONS as readonly string[]).filter((a) => a !== 'configure')];

function parseAny(body: unknown): Result<ParsedHook, InputError> {
  if (isConfigureRequest(body)) {
    const c = parseConfigureRequest(body);
    return c.ok ? ok({ kind: 'configure', input: c.value }) : c;
  }
  // An unknown action is named as such, before its other fields are judged against the wrong kind.
  const action = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)['action'] : undefined;
  if (typeof action === 'string' && !ALL_ACTIONS.includes(action)) {
    return err({ field: 'action', message: `action: must be one of ${ALL_ACTIONS.map((a) => `"${a}"`).join(', ')}, got ${JSON.stringify(action)}` });
  }
  const h = parseHookRequest(body);
  return h.ok ? ok({ kind: 'hook', input: h.value }) : h;
}

/**
 * `POST /hooks/upgrade`: the simulator as the operator's automation behind Meridian's webhook
 * upgrade method. Rotation actions stop and resume new session arrivals (a load balancer
 * deregistering the proxy); upgrade and rollback restart the proxy as `version`, cutting its
 * remaining sessions, at most once per id, and not at all when it already runs that version;
 * configure sets the proxy's peer listener, at most once per id.
 */
export class UpgradeHook {
  private readonly upgrades = new Map<string, UpgradeRecord>();
  private readonly configures = new Map<string, ConfigureRecord>();

  constructor(
    private readonly fleet: HookFleet,
    private readonly o: UpgradeHookOptions,
  ) {}

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readSignedJson(req, this.o);
    if (!body.ok) return refuse(res, body.error);
    const parsed = parseAny(body.value);
    if (!parsed.ok) return refuse(res, refusal(400, parsed.error.message, parsed.error.field));
    const input = parsed.value.input;
    const view = this.fleet.proxyView(input.proxy);
    if (!view) return refuse(res, refusal(404, `no proxy named "${input.proxy}"`));
    if (view.region !== input.region) {
      return refuse(res, refusal(400, `region: proxy "${view.name}" is in region "${view.region}", not "${input.region}"`, 'region'));
    }
    const r = parsed.value.kind === 'configure' ? this.configure(parsed.value.input, view) : await this.act(parsed.value.input, view);
    this.o.log?.info({ proxy: view.name, action: input.action, hookId: input.id, accepted: r.ok }, 'Upgrade hook answered');
    return r.ok ? sendJson(res, 200, { accepted: true, ...r.value }) : refuse(res, refusal(409, r.error));
  }

  private async act(input: HookInput, view: ProxyView): Promise<Result<ProxyView, string>> {
    const action = input.action;
    switch (action) {
      case 'out-of-rotation':
        return ok(this.fleet.setRotation(view.name, false));
      case 'in-rotation':
        return ok(this.fleet.setRotation(view.name, true));
      case 'upgrade':
      case 'rollback':
        return this.upgrade(input, view);
      case 'configure':
        // parseAny sends every configure request to parseConfigureRequest.
        return err('configure needs its peer object');
      default:
        return assertNever(action, 'hook action');
    }
  }

  private async upgrade(input: HookInput, view: ProxyView): Promise<Result<ProxyView, string>> {
    if (this.configures.has(input.id)) return err(`id "${input.id}" was already used to configure a peer listener`);
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

  /**
   * Real Teleport reads peer_listen_addr and peer_public_addr from teleport.yaml at start, so
   * the automation would write them and restart the proxy; the simulator applies them live.
   * That restart must not change the version, hence the check against the running one.
   */
  private configure(input: ConfigureInput, view: ProxyView): Result<ProxyView, string> {
    if (this.upgrades.has(input.id)) return err(`id "${input.id}" was already used for an upgrade`);
    const earlier = this.configures.get(input.id);
    if (earlier) {
      const same =
        earlier.proxy === input.proxy &&
        earlier.version === input.version &&
        earlier.peer.listenAddr === input.peer.listenAddr &&
        earlier.peer.publicAddr === input.peer.publicAddr;
      if (!same) return err(`id "${input.id}" was already used to configure proxy "${earlier.proxy}" (peer ${earlier.peer.publicAddr}, version ${earlier.version})`);
      return ok(view);
    }
    if (view.version !== input.version) {
      return err(`version: proxy "${view.name}" runs ${view.version}, not ${input.version}; configuring it would restart it into another version`);
    }
    const r = this.fleet.configurePeer(view.name, input.peer);
    if (r.ok) this.configures.set(input.id, { proxy: view.name, version: input.version, peer: input.peer });
    return r;
  }
}
