import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../../model/clock.js';
import type { Proxy } from '../../model/fleet.js';
import { fillArgv } from '../hooks/argv-template.js';
import { describeCommandFailure } from '../hooks/command-failure.js';
import type { RunCommand } from '../hooks/run-command.js';

const PROFILES = [
  { path: '/debug/pprof/goroutine?debug=2', suffix: 'goroutine.txt' },
  { path: '/debug/pprof/heap', suffix: 'heap.pb.gz' },
] as const;

export interface DiagnosticsCaptureDeps {
  /** Files go under <stateDir>/diagnostics/<namespace>/<canary>/. */
  readonly stateDir: string;
  readonly clock: Clock;
  readonly timeoutMs: number;
  readonly runCommand: RunCommand;
}

/** What to capture from one proxy. */
export interface CaptureRequest {
  /** GET /debug/pprof/ on the diagnostic address (a debug build). */
  readonly pprof: boolean;
  /** argv with {proxy} {region} {host} {dir}: e.g. ssh {host} teleport debug profile, writing into {dir}. */
  readonly command?: readonly string[];
  /** The same when a capture is made again after an interrupted pass: its files are written over, not added. */
  readonly id?: string;
}

/**
 * Saves what a failing proxy shows before it is taken back: a goroutine dump and a heap profile
 * from /debug/pprof/ (Teleport serves it on the diagnostic address when started with --debug),
 * and/or what a configured command leaves in its own directory (newer Teleport versions have
 * `teleport debug profile` on the host). Never throws: what failed is in `error`.
 */
export function createDiagnosticsCapture(deps: DiagnosticsCaptureDeps) {
  return async (canary: string, proxy: Proxy, what: CaptureRequest, signal?: AbortSignal): Promise<{ files: string[]; error?: string }> => {
    const files: string[] = [];
    const errors: string[] = [];
    try {
      await capture(canary, proxy, what, files, errors, signal);
    } catch (e) {
      // A full or read-only state directory must not hold up the rollback.
      errors.push(`diagnostics for ${proxy.name} not saved: ${e instanceof Error ? e.message : String(e)}`);
    }
    return errors.length ? { files, error: errors.join('; ') } : { files };
  };

  async function capture(canary: string, proxy: Proxy, what: CaptureRequest, files: string[], errors: string[], signal: AbortSignal | undefined): Promise<void> {
    const dir = join(deps.stateDir, 'diagnostics', ...canary.split('/'));
    // Named by the capture's time (`canary@time` ids carry the decision's), so a repeat overwrites the same files.
    const at = what.id?.split('@').pop();
    const stamp = (at && !Number.isNaN(Date.parse(at)) ? at : new Date(deps.clock.now()).toISOString()).replace(/[:.]/g, '-');
    const deadline = (): AbortSignal => (signal ? AbortSignal.any([signal, AbortSignal.timeout(deps.timeoutMs)]) : AbortSignal.timeout(deps.timeoutMs));
    await mkdir(dir, { recursive: true });
    if (what.pprof) {
      for (const p of PROFILES) {
        const url = new URL(p.path, proxy.diagnosticUrl);
        try {
          const res = await fetch(url, { signal: deadline() });
          if (res.status === 404) {
            errors.push(`${url.origin} does not serve /debug/pprof/ (is the proxy started with --debug?)`);
            break;
          }
          if (!res.ok) {
            errors.push(`${url.href} answered ${res.status}`);
            continue;
          }
          const file = join(dir, `${proxy.name}-${stamp}-${p.suffix}`);
          await writeFile(file, Buffer.from(await res.arrayBuffer()));
          files.push(file);
        } catch (e) {
          errors.push(`${url.href}: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
    }
    if (what.command) {
      const out = join(dir, `${proxy.name}-${stamp}-command`);
      await mkdir(out, { recursive: true });
      const argv = fillArgv(what.command, new Map([['proxy', proxy.name], ['region', proxy.region], ['host', new URL(proxy.diagnosticUrl).hostname], ['dir', out]]));
      if (!argv.ok) errors.push(`diagnostics.command: ${argv.error}`);
      else {
        const r = await deps.runCommand(argv.value, { timeoutMs: deps.timeoutMs, signal: signal ?? new AbortController().signal });
        if (r.stdout) await writeFile(join(out, 'stdout.txt'), r.stdout);
        if (r.error !== undefined || r.code !== 0) errors.push(`diagnostics.command: ${describeCommandFailure(argv.value, r)}`);
        for (const f of (await readdir(out)).sort()) files.push(join(out, f));
      }
    }
  }
}
