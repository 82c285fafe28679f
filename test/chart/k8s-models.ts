// Validates a rendered object against Kubernetes' own schema, through the kubernetes-models classes (one per
// apiVersion/kind, generated from the API server's OpenAPI documents). The Prometheus operator's kinds are not
// in it: checked by shape here.
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';

type Model = new (data: never) => { validate(): void };

const MODELS: Record<string, Model> = {
  'apps/v1/Deployment': Deployment,
  'v1/Namespace': Namespace,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
};

/** The Prometheus operator's kinds: the fields their CRDs require, and nothing this chart could get wrong silently. */
const OPERATOR_KINDS: Record<string, (o: Record<string, unknown>) => string | undefined> = {
  'monitoring.coreos.com/v1/ServiceMonitor': (o) => {
    const spec = o['spec'] as { selector?: unknown; endpoints?: { port?: unknown }[] } | undefined;
    return spec?.selector && spec.endpoints?.length && spec.endpoints.every((e) => typeof e.port === 'string') ? undefined : 'spec.selector and spec.endpoints[].port are required';
  },
  'monitoring.coreos.com/v1/PrometheusRule': (o) => {
    const spec = o['spec'] as { groups?: { name?: unknown; rules?: unknown[] }[] } | undefined;
    return spec?.groups?.length && spec.groups.every((g) => typeof g.name === 'string' && Array.isArray(g.rules)) ? undefined : 'spec.groups[] with name and rules is required';
  },
};

/** undefined when valid; else why not. Unknown kinds are refused: add them here. */
export function validateObject(o: Record<string, unknown>): string | undefined {
  const key = `${String(o['apiVersion'])}/${String(o['kind'])}`;
  const operator = OPERATOR_KINDS[key];
  if (operator) return operator(o);
  const model = MODELS[key];
  if (!model) return `no schema for ${key}`;
  try {
    new model(o as never).validate();
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}
