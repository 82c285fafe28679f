import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Clock } from '../../model/clock.js';
import { durationOr } from '../../model/duration.js';
import type { ProxyPeeringSpec } from '../../model/peering.js';
import { err, ok, type Result } from '../../model/result.js';
import { writeFileAtomic } from '../file-store/atomic-write.js';
import { fillArgv } from '../hooks/argv-template.js';
import { describeCommandFailure } from '../hooks/command-failure.js';
import type { ReadSecret } from '../hooks/read-secret.js';
import type { RunCommand } from '../hooks/run-command.js';
import type { AllowListDocument, ClusterNetworkingWrite } from '../../peering/core/peer-config.js';
import { PEERING_DEFAULTS } from '../../peering/core/peering-settings.js';
import type { ReadInventory } from '../teleport/inventory-reader.js';
import { postSigned } from './signed-post.js';

export type { AllowListDocument };

type Apply = NonNullable<ProxyPeeringSpec['apply']>;
export type ClusterNetworkingAction = NonNullable<Apply['clusterNetworking']>;
export type AllowListTarget = NonNullable<Apply['allowList']>;

export interface PeeringActions {
  /**
   * Writes the whole cluster_networking_config through a command (`{file}`: it as YAML; `-f` and
   * `--confirm` go in front of that argument when `write` says tctl needs them) or a signed webhook.
   */
  applyClusterNetworking(action: ClusterNetworkingAction, id: string, write: ClusterNetworkingWrite, signal: AbortSignal): Promise<Result<void, string>>;
  /** Writes the allow-list file and/or POSTs it to the firewall automation (whose reply, when it names a generation, must name this one). */
  publishAllowList(target: AllowListTarget, doc: AllowListDocument, signal: AbortSignal): Promise<Result<void, string>>;
  /**
   * The generation the receivers hold now: the one at `readUrl`, else the file's; null when they
   * hold none; undefined when nothing can be read back (a webhook alone).
   */
  readAllowListGeneration(target: AllowListTarget, signal: AbortSignal): Promise<Result<number | null | undefined, string>>;
}

/** `generation` of a JSON document: a number, null, or absent (null). */
function generationOf(body: string, source: string): Result<number | null, string> {
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch (e) {
    return err(`${source}: not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  const g = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)['generation'] : undefined;
  if (g === undefined || g === null) return ok(null);
  return typeof g === 'number' && Number.isSafeInteger(g) ? ok(g) : err(`${source}: generation is ${JSON.stringify(g)}, not a whole number`);
}

/** The argv with `-f`/`--confirm` before the argument that takes `{file}` (tctl create [flags] <file>). */
function withFlags(command: readonly string[], write: ClusterNetworkingWrite): string[] {
  const flags = [...(write.force ? ['-f'] : []), ...(write.confirm ? ['--confirm'] : [])];
  const at = command.findIndex((a) => a.includes('{file}'));
  return [...command.slice(0, at), ...flags, ...command.slice(at)];
}

export function createPeeringActions(deps: { readonly clock: Clock; readonly readSecret: ReadSecret; readonly runCommand: RunCommand; readonly readInventory: ReadInventory }): PeeringActions {
  return {
    async applyClusterNetworking(action, id, write, signal) {
      if (action.url) {
        const r = await postSigned(deps, { ...action, url: action.url }, id, write.resource, signal);
        if (!r.ok) return err(`cluster networking webhook: ${r.error}`);
      }
      if (action.command) {
        const dir = await mkdtemp(join(tmpdir(), 'meridian-cnc-'));
        try {
          const file = join(dir, 'cluster-networking-config.yaml');
          await writeFile(file, stringify(write.resource), { mode: 0o600 });
          const argv = fillArgv(withFlags(action.command, write), new Map([['file', file]]));
          if (!argv.ok) return err(`cluster networking command: ${argv.error}`);
          const r = await deps.runCommand(argv.value, { timeoutMs: durationOr(action.timeout, PEERING_DEFAULTS.actionTimeout), signal });
          if (r.error !== undefined || r.code !== 0) return err(`cluster networking command: ${describeCommandFailure(argv.value, r)}`);
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      }
      return ok(undefined);
    },
    async publishAllowList(target, doc, signal) {
      if (target.file) {
        try {
          await writeFileAtomic(target.file, `${JSON.stringify(doc, null, 2)}\n`);
        } catch (e) {
          return err(`allow-list file ${target.file}: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
      if (target.url) {
        const r = await postSigned(deps, { ...target, url: target.url }, `${doc.peering}/allow-list/${doc.generation}`, doc, signal);
        if (!r.ok) return err(`allow-list webhook: ${r.error}`);
        // A receiver that names what it applied must name this generation.
        const acked = r.value.trim() ? generationOf(r.value, `allow-list webhook ${target.url}`) : ok(null);
        if (acked.ok && acked.value !== null && acked.value !== doc.generation) return err(`allow-list webhook ${target.url}: answered generation ${acked.value}, not ${doc.generation}`);
      }
      return ok(undefined);
    },
    async readAllowListGeneration(target, signal) {
      if (target.readUrl) {
        const r = await deps.readInventory({ url: target.readUrl }, { timeoutMs: durationOr(target.timeout, PEERING_DEFAULTS.actionTimeout), signal });
        return r.ok ? generationOf(r.value.body, target.readUrl) : err(`allow-list read: ${r.error}`);
      }
      if (target.file) {
        let text: string;
        try {
          text = await readFile(target.file, 'utf8');
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') return ok(null);
          return err(`allow-list file ${target.file}: ${e instanceof Error ? e.message : String(e)}`);
        }
        return generationOf(text, target.file);
      }
      return ok(undefined);
    },
  };
}
