import { mkdtemp, rm, writeFile } from 'node:fs/promises';
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
import { postSigned } from './signed-post.js';

type Apply = NonNullable<ProxyPeeringSpec['apply']>;
export type ClusterNetworkingAction = NonNullable<Apply['clusterNetworking']>;
export type AllowListTarget = NonNullable<Apply['allowList']>;

/** What the allow-list receivers get: the file's content and the webhook's body. */
export interface AllowListDocument {
  readonly kind: 'PeerAllowList';
  readonly peering: string;
  readonly generation: number;
  readonly generatedAt: string;
  readonly port: number;
  readonly rules: readonly { readonly from: string; readonly to: string; readonly toAddress: string; readonly link: string }[];
}

export interface PeeringActions {
  /** Applies the cluster_networking_config resource through a command (`{file}`: it as YAML) or a signed webhook. */
  applyClusterNetworking(action: ClusterNetworkingAction, id: string, resource: Record<string, unknown>, signal: AbortSignal): Promise<Result<void, string>>;
  /** Writes the allow-list file and/or POSTs it to the firewall automation. */
  publishAllowList(target: AllowListTarget, doc: AllowListDocument, signal: AbortSignal): Promise<Result<void, string>>;
}

export function createPeeringActions(deps: { readonly clock: Clock; readonly readSecret: ReadSecret; readonly runCommand: RunCommand }): PeeringActions {
  return {
    async applyClusterNetworking(action, id, resource, signal) {
      if (action.url) {
        const r = await postSigned(deps, { ...action, url: action.url }, id, resource, signal);
        if (!r.ok) return err(`cluster networking webhook: ${r.error}`);
      }
      if (action.command) {
        const dir = await mkdtemp(join(tmpdir(), 'meridian-cnc-'));
        try {
          const file = join(dir, 'cluster-networking-config.yaml');
          await writeFile(file, stringify(resource), { mode: 0o600 });
          const argv = fillArgv(action.command, new Map([['file', file]]));
          if (!argv.ok) return err(`cluster networking command: ${argv.error}`);
          const r = await deps.runCommand(argv.value, { timeoutMs: durationOr(action.timeout, '30s'), signal });
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
      }
      return ok(undefined);
    },
  };
}
