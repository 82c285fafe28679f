import { ApiException, CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import type { LeaseRecord } from '../../leadership/core/lease-election.js';
import type { LeaseLock } from '../../leadership/lease-elector.js';

const status = (e: unknown): number | undefined => (e instanceof ApiException ? e.code : undefined);

/** MicroTime out (six fraction digits, as the API server requires) and in (the string as stored). */
const micro = (s: string | undefined): V1MicroTime | undefined => (s ? new V1MicroTime(Date.parse(s)) : undefined);
const text = (t: Date | string | undefined): string | undefined => (t === undefined ? undefined : typeof t === 'string' ? t : new V1MicroTime(t.getTime()).toISOString());

function recordOf(lease: V1Lease): LeaseRecord {
  const s = lease.spec ?? {};
  const acquireTime = text(s.acquireTime);
  const renewTime = text(s.renewTime);
  return {
    ...(s.holderIdentity !== undefined ? { holderIdentity: s.holderIdentity } : {}),
    ...(s.leaseDurationSeconds !== undefined ? { leaseDurationSeconds: s.leaseDurationSeconds } : {}),
    ...(acquireTime ? { acquireTime } : {}),
    ...(renewTime ? { renewTime } : {}),
    ...(s.leaseTransitions !== undefined ? { leaseTransitions: s.leaseTransitions } : {}),
  };
}

function specOf(r: LeaseRecord): NonNullable<V1Lease['spec']> {
  const acquireTime = micro(r.acquireTime);
  const renewTime = micro(r.renewTime);
  return {
    holderIdentity: r.holderIdentity ?? '',
    ...(r.leaseDurationSeconds !== undefined ? { leaseDurationSeconds: r.leaseDurationSeconds } : {}),
    ...(acquireTime ? { acquireTime } : {}),
    ...(renewTime ? { renewTime } : {}),
    leaseTransitions: r.leaseTransitions ?? 0,
  };
}

/** The coordination.k8s.io/v1 Lease `namespace/name` as a LeaseLock; every write names the resourceVersion read. */
export function kubernetesLeaseLock(kubeConfig: KubeConfig, namespace: string, name: string): LeaseLock {
  const api = kubeConfig.makeApiClient(CoordinationV1Api);
  return {
    async get() {
      try {
        const lease = await api.readNamespacedLease({ name, namespace });
        return { record: recordOf(lease), version: lease.metadata?.resourceVersion ?? '' };
      } catch (e) {
        if (status(e) === 404) return undefined;
        throw e;
      }
    },
    async create(record) {
      try {
        await api.createNamespacedLease({ namespace, body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec: specOf(record) } });
        return 'ok';
      } catch (e) {
        if (status(e) === 409) return 'conflict';
        throw e;
      }
    },
    async update(record, version) {
      try {
        await api.replaceNamespacedLease({ name, namespace, body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace, resourceVersion: version }, spec: specOf(record) } });
        return 'ok';
      } catch (e) {
        if (status(e) === 409) return 'conflict';
        throw e;
      }
    },
  };
}
