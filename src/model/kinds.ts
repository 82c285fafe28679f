import { Type, type TObject } from '@sinclair/typebox';
import { ProxyCanarySpecSchema, type ProxyCanary } from './canary.js';
import { ProxyFleetSpecSchema, type ProxyFleet } from './fleet.js';
import { ProxyPeeringSpecSchema, type ProxyPeering } from './peering.js';
import { ProxyRolloutSpecSchema, type ProxyRollout } from './rollout.js';

/** Every kind Meridian owns, with the spec schema that also becomes its CRD schema. */
export const KIND_SPECS = {
  ProxyFleet: { plural: 'proxyfleets', shortNames: ['pf'], spec: ProxyFleetSpecSchema },
  ProxyRollout: { plural: 'proxyrollouts', shortNames: ['prollout'], spec: ProxyRolloutSpecSchema },
  ProxyCanary: { plural: 'proxycanaries', shortNames: ['pcanary'], spec: ProxyCanarySpecSchema },
  ProxyPeering: { plural: 'proxypeerings', shortNames: ['ppeering'], spec: ProxyPeeringSpecSchema },
} as const satisfies Record<string, { plural: string; shortNames: readonly string[]; spec: TObject }>;

export type Kind = keyof typeof KIND_SPECS;
export const KINDS = Object.keys(KIND_SPECS) as Kind[];

export interface KindMap {
  ProxyFleet: ProxyFleet;
  ProxyRollout: ProxyRollout;
  ProxyCanary: ProxyCanary;
  ProxyPeering: ProxyPeering;
}
export type AnyResource = KindMap[Kind];

export function isKind(k: unknown): k is Kind {
  return typeof k === 'string' && Object.hasOwn(KIND_SPECS, k);
}

/** The metadata fields a manifest may set; the store owns the rest. */
export const ManifestMetadataSchema = Type.Object(
  {
    // A DNS subdomain (RFC 1123), as Kubernetes wants of a custom resource's name: dot-separated labels.
    name: Type.String({ pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$', maxLength: 253 }),
    namespace: Type.Optional(Type.String({ pattern: '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$' })),
    labels: Type.Optional(Type.Record(Type.String(), Type.String())),
    annotations: Type.Optional(Type.Record(Type.String(), Type.String())),
  },
  { additionalProperties: false },
);
