import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../../model/clock.js';
import type { Proxy } from '../../model/fleet.js';

const PROFILES = [
  { path: '/debug/pprof/goroutine?debug=2', suffix: 'goroutine.txt' },
  { path: '/debug/pprof/heap', suffix: 'heap.pb.gz' },
] as const;

export interface PprofCaptureDeps {
  /** Files go under <stateDir>/diagnostics/<namespace>/<canary>/. */
  readonly stateDir: string;
  readonly clock: Clock;
  readonly timeoutMs: number;
}

/**
 * Saves a goroutine dump and a heap profile from a proxy's diagnostic address, which Teleport
 * serves under /debug/pprof/ when started with --debug. Never throws: what failed is in `error`.
 */
export function createPprofCapture(deps: PprofCaptureDeps) {
  return async (canary: string, proxy: Proxy): Promise<{ files: string[]; error?: string }> => {
    const dir = join(deps.stateDir, 'diagnostics', ...canary.split('/'));
    const stamp = new Date(deps.clock.now()).toISOString().replace(/[:.]/g, '-');
    const files: string[] = [];
    const errors: string[] = [];
    await mkdir(dir, { recursive: true });
    for (const p of PROFILES) {
      const url = new URL(p.path, proxy.diagnosticUrl);
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(deps.timeoutMs) });
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
    return errors.length ? { files, error: errors.join('; ') } : { files };
  };
}
