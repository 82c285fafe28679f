// labelSelector and fieldSelector of list and watch requests. Labels: equality (=, ==, !=),
// set (in, notin) and existence (key, !key). Fields: metadata.name and metadata.namespace for
// every kind, plus the involvedObject/reason/type fields Events support.
import type { ResourceType } from './resources.js';
import { badRequest } from './status-errors.js';
import type { KubeObject } from './strategy.js';

export type Predicate = (o: KubeObject) => boolean;

/** Splits on commas outside parentheses ("a in (x,y),b=c" is two requirements). */
function requirements(selector: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth += 1;
    if (ch === ')') depth -= 1;
    if (ch === ',' && depth === 0) {
      out.push(current.trim());
      current = '';
    } else current += ch;
  }
  if (current.trim()) out.push(current.trim());
  return out;
}

function labelRequirement(req: string): (labels: Record<string, string>) => boolean {
  let m = /^(\S+?)\s*(==|!=|=)\s*(\S*)$/.exec(req);
  if (m) {
    const [, key, op, value] = m as unknown as [string, string, string, string];
    return op === '!=' ? (l) => l[key] !== value : (l) => l[key] === value;
  }
  m = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(req);
  if (m) {
    const [, key, op, list] = m as unknown as [string, string, string, string];
    const values = list.split(',').map((v) => v.trim());
    return op === 'in' ? (l) => l[key] !== undefined && values.includes(l[key]) : (l) => l[key] === undefined || !values.includes(l[key]);
  }
  m = /^(!?)([A-Za-z0-9][-A-Za-z0-9_./]*)$/.exec(req);
  if (m) {
    const [, not, key] = m as unknown as [string, string, string];
    return not ? (l) => l[key] === undefined : (l) => l[key] !== undefined;
  }
  throw badRequest(`unable to parse requirement: found '${req}', expected: identifier`);
}

export function labelSelector(selector: string | undefined): Predicate {
  if (!selector) return () => true;
  const reqs = requirements(selector).map(labelRequirement);
  return (o) => reqs.every((r) => r(o.metadata.labels ?? {}));
}

const EVENT_FIELDS = ['involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid', 'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason', 'reportingComponent', 'source', 'type'];

function fieldValue(o: KubeObject, path: string): string {
  let at: unknown = o;
  for (const part of path.split('.')) at = typeof at === 'object' && at !== null ? (at as Record<string, unknown>)[part] : undefined;
  return at === undefined || at === null ? '' : String(at);
}

export function fieldSelector(t: ResourceType, selector: string | undefined): Predicate {
  if (!selector) return () => true;
  const supported = ['metadata.name', 'metadata.namespace', ...(t.kind === 'Event' ? EVENT_FIELDS : [])];
  const reqs = requirements(selector).map((req) => {
    const m = /^([^=!]+?)\s*(==|!=|=)\s*(.*)$/.exec(req);
    if (!m) throw badRequest(`invalid selector: '${selector}'; can't understand '${req}'`);
    const [, field, op, value] = m as unknown as [string, string, string, string];
    if (!supported.includes(field)) throw badRequest(`field label not supported: ${field}`);
    const path = field === 'source' ? 'source.component' : field;
    return op === '!=' ? (o: KubeObject) => fieldValue(o, path) !== value : (o: KubeObject) => fieldValue(o, path) === value;
  });
  return (o) => reqs.every((r) => r(o));
}
