import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import type { Clock } from '../model/clock.js';
import { err, ok, type Result } from '../model/result.js';
import type { ProcessState } from '../model/snapshot.js';
import { serveDiagnostics, type DiagTarget } from './diag-handler.js';
import { NO_FAULT, type Fault, type FaultPages } from './fault.js';
import { closeServer, hostPort, listen } from './http-util.js';
import { renderAuthMetricsPage } from './metrics-page.js';
import type { ResolvedAuthOptions } from './options.js';
import type { PprofView } from './pprof.js';
import { defaultGitref } from './sim-proxy.js';
import { PendingTimers } from './pending-timers.js';

/** What the control API shows for the Auth Service (GET /auth). */
export interface AuthView {
  readonly diagnosticUrl: string;
  readonly version: string;
  readonly gitref: string;
  readonly processState: ProcessState;
  readonly startedAt: string;
}

export interface SimAuthDeps {
  readonly clock: Clock;
  readonly pages: FaultPages;
  /** Sim ms a (re)started process reports starting. */
  readonly startupMs: number;
  readonly log: Logger | undefined;
}

/**
 * One Teleport Auth Service process as Meridian sees it: its diagnostic address (/metrics with
 * teleport_build_info and process_state, /healthz, /readyz) and the version it runs. Upgrading
 * the Auth Service is the operators' job, outside Meridian: the control API restarts it as
 * another version.
 */
export class SimAuth implements DiagTarget {
  readonly fault: Fault = NO_FAULT;
  pid = 1;
  private version: string;
  private gitref: string;
  private port: number;
  private startedAt = 0;
  private server: Server | undefined;
  private restarting = false;
  private readonly timers = new PendingTimers();

  constructor(
    private readonly settings: ResolvedAuthOptions,
    private readonly deps: SimAuthDeps,
  ) {
    this.version = settings.version;
    this.gitref = settings.gitref ?? defaultGitref(settings.version);
    this.port = settings.port;
  }

  get diagnosticUrl(): string {
    return `http://${hostPort(this.settings.host, this.port)}`;
  }

  /** Opens the diagnostic listener of a process that has been up for `uptimeMs`. */
  async boot(uptimeMs: number): Promise<void> {
    this.startedAt = this.deps.clock.now() - uptimeMs;
    await this.openListener();
  }

  /** Stops the process and starts it again, optionally as another version (a rolling Auth upgrade of one instance). */
  async restart(change: { readonly version?: string; readonly gitref?: string }): Promise<Result<AuthView, string>> {
    if (this.restarting) return err('the Auth Service is already restarting');
    this.restarting = true;
    try {
      await this.closeListener();
      try {
        await this.openListener();
      } catch (e) {
        const code = e instanceof Error && 'code' in e ? String(e.code) : String(e);
        return err(`the Auth Service could not listen on ${hostPort(this.settings.host, this.port)} (${code})`);
      }
      if (change.version !== undefined) this.version = change.version;
      if (change.gitref !== undefined) this.gitref = change.gitref;
      else if (change.version !== undefined) this.gitref = defaultGitref(change.version);
      this.startedAt = this.deps.clock.now();
      this.pid += 1;
      this.deps.log?.info({ version: this.version, gitref: this.gitref }, 'Auth Service restarted');
      return ok(this.view());
    } finally {
      this.restarting = false;
    }
  }

  view(): AuthView {
    return { diagnosticUrl: this.diagnosticUrl, version: this.version, gitref: this.gitref, processState: this.processState(), startedAt: new Date(this.startedAt).toISOString() };
  }

  close(): Promise<void> {
    return this.closeListener();
  }

  // DiagTarget

  processState(): ProcessState {
    return this.deps.clock.now() < this.startedAt + this.deps.startupMs ? 'starting' : 'ok';
  }

  metricsPage(): string {
    return renderAuthMetricsPage({ processState: this.processState(), version: this.version, gitref: this.gitref, startTimeSeconds: this.startedAt / 1000 });
  }

  pprof(): PprofView | undefined {
    return undefined;
  }

  defer(fn: () => void, ms: number): void {
    this.timers.defer(fn, ms);
  }

  private async openListener(): Promise<void> {
    const server = createServer({ keepAliveTimeout: 5_000 }, (req, res) => serveDiagnostics(this, this.deps.pages, req, res));
    this.port = await listen(server, this.settings.host, this.port);
    this.server = server;
  }

  private async closeListener(): Promise<void> {
    this.timers.clear();
    const server = this.server;
    this.server = undefined;
    if (server) await closeServer(server);
  }
}
