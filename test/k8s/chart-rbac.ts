import { renderChart } from '../../scripts/chart-render.js';
import type { RequestInfo } from '../kube/faults.js';

interface Rule {
  readonly apiGroups?: readonly string[];
  readonly resources?: readonly string[];
  readonly resourceNames?: readonly string[];
  readonly verbs?: readonly string[];
}

/**
 * What the chart's RBAC lets the controller's service account do, as the API server's RBAC
 * authorizer decides it: a Role's rules in its namespace, a ClusterRole's anywhere; a resource
 * with its subresource as `plural/sub`; resourceNames when a rule names them.
 */
export function chartAuthorizer(values: Record<string, unknown>): (info: RequestInfo) => boolean {
  const granted: { namespace?: string; rule: Rule }[] = [];
  for (const { object } of renderChart({ values }).objects) {
    const kind = object['kind'];
    if (kind !== 'Role' && kind !== 'ClusterRole') continue;
    const namespace = kind === 'Role' ? ((object['metadata'] as { namespace?: string } | undefined)?.namespace ?? 'meridian') : undefined;
    for (const rule of (object['rules'] as Rule[] | undefined) ?? []) granted.push({ ...(namespace ? { namespace } : {}), rule });
  }
  return (info) => {
    const resource = info.subresource ? `${info.resource ?? ''}/${info.subresource}` : (info.resource ?? '');
    return granted.some(
      ({ namespace, rule }) =>
        (namespace === undefined || namespace === info.namespace) &&
        (rule.apiGroups ?? []).includes(info.group ?? '') &&
        (rule.resources ?? []).includes(resource) &&
        (rule.verbs ?? []).includes(info.verb) &&
        (rule.resourceNames === undefined || (info.name !== undefined && rule.resourceNames.includes(info.name))),
    );
  };
}
