import { microTime, type LeaseRecord } from '../../src/leadership/core/lease-election.js';
import type { LeaseLock } from '../../src/leadership/lease-elector.js';

/** One Lease on an API server, in memory; a replica cut off from it sees every call fail. */
export class LeaseServer {
  record: LeaseRecord | undefined;
  version = 0;
  readonly cutOff = new Set<string>();
  lockFor(identity: string): LeaseLock {
    const reach = (): void => {
      if (this.cutOff.has(identity)) throw new Error('connect ETIMEDOUT');
    };
    return {
      get: async () => {
        reach();
        return this.record && { record: this.record, version: String(this.version) };
      },
      create: async (record) => {
        reach();
        if (this.record) return 'conflict';
        this.write(record);
        return 'ok';
      },
      update: async (record, version) => {
        reach();
        if (version !== String(this.version)) return 'conflict';
        this.write(record);
        return 'ok';
      },
    };
  }
  /** Another writer (a replica not under test, or kubectl) puts the Lease in `holder`'s hands. */
  takeFor(holder: string, now: number, leaseMs: number): void {
    this.write({ holderIdentity: holder, leaseDurationSeconds: leaseMs / 1000, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: (this.record?.leaseTransitions ?? 0) + 1 });
  }
  private write(record: LeaseRecord): void {
    this.record = record;
    this.version++;
  }
}
