import { stringify } from 'yaml';
import { API_GROUP } from './resource.js';
import { KIND_SPECS, type Kind } from './kinds.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

/**
 * Turns a TypeBox (JSON Schema) spec into a Kubernetes structural schema: literal unions
 * become enums, records become additionalProperties, and `additionalProperties: false`
 * is dropped (the API server prunes unknown fields instead), uniqueItems becomes a set list.
 */
export function toStructural(schema: unknown): Json {
  const s = JSON.parse(JSON.stringify(schema)) as JsonObject;
  return convert(s);
}

function convert(s: JsonObject): JsonObject {
  const out: JsonObject = {};
  const anyOf = s['anyOf'];
  if (Array.isArray(anyOf) && anyOf.every((b) => typeof b === 'object' && b !== null && !Array.isArray(b) && 'const' in b)) {
    const values = anyOf.map((b) => (b as JsonObject)['const'] ?? null);
    return { type: typeof values[0] === 'number' ? 'number' : 'string', enum: values, ...pick(s, ['description']) };
  }
  if (Array.isArray(anyOf) && anyOf.length === 2 && anyOf.some((b) => isObj(b) && b['type'] === 'integer') && anyOf.some((b) => isObj(b) && b['type'] === 'string')) {
    return { 'x-kubernetes-int-or-string': true, ...pick(s, ['description']) };
  }
  if (Array.isArray(anyOf) && anyOf.every((b) => isObj(b) && b['type'] === 'object')) return mergeObjects(anyOf as JsonObject[], s);
  for (const [k, v] of Object.entries(s)) {
    if (k === 'additionalProperties' && v === false) continue;
    if (k === 'patternProperties' && typeof v === 'object' && v !== null && !Array.isArray(v)) {
      const first = Object.values(v)[0];
      out['additionalProperties'] = typeof first === 'object' && first !== null && !Array.isArray(first) ? convert(first) : {};
      continue;
    }
    if (k === 'uniqueItems') {
      // Structural schemas forbid uniqueItems; a set-typed list says the same.
      if (v === true) out['x-kubernetes-list-type'] = 'set';
      continue;
    }
    if (k === 'const') {
      out['enum'] = [v];
      continue;
    }
    if (k === 'properties' && typeof v === 'object' && v !== null && !Array.isArray(v)) {
      out[k] = Object.fromEntries(Object.entries(v).map(([pk, pv]) => [pk, convert(pv as JsonObject)]));
      continue;
    }
    if (k === 'items' && typeof v === 'object' && v !== null && !Array.isArray(v)) {
      out[k] = convert(v);
      continue;
    }
    out[k] = v;
  }
  return out;
}

function isObj(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A union of object shapes (one per `type`) becomes one object with every field; Meridian's own validation keeps the shapes apart. */
function mergeObjects(branches: JsonObject[], s: JsonObject): JsonObject {
  const properties: Record<string, JsonObject[]> = {};
  for (const b of branches) for (const [k, v] of Object.entries(isObj(b['properties']) ? b['properties'] : {})) if (isObj(v)) (properties[k] ??= []).push(v);
  const required = branches.map((b) => (Array.isArray(b['required']) ? b['required'] : [])).reduce((a, r) => a.filter((k) => r.includes(k)));
  const merged = Object.fromEntries(
    Object.entries(properties).map(([k, variants]) => {
      const first = variants[0] ?? {};
      return [k, variants.length > 1 && variants.every((v) => 'const' in v) ? { anyOf: variants } : first];
    }),
  );
  return convert({ type: 'object', properties: merged, ...(required.length ? { required } : {}), ...pick(s, ['description']) });
}

function pick(o: JsonObject, keys: string[]): JsonObject {
  return Object.fromEntries(keys.filter((k) => k in o).map((k) => [k, o[k] ?? null]));
}

const PRINTER_COLUMNS: Record<Kind, JsonObject[]> = {
  ProxyFleet: [
    { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
    { name: 'Proxies', type: 'integer', jsonPath: '.status.proxies' },
    { name: 'Ready', type: 'integer', jsonPath: '.status.readyProxies' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
  ProxyRollout: [
    { name: 'Version', type: 'string', jsonPath: '.spec.version' },
    { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
    { name: 'Wave', type: 'integer', jsonPath: '.status.currentWave' },
    { name: 'Message', type: 'string', jsonPath: '.status.message', priority: 1 },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
  ProxyCanary: [
    { name: 'Build', type: 'string', jsonPath: '.spec.build.version' },
    { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
    { name: 'Message', type: 'string', jsonPath: '.status.message', priority: 1 },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
  ProxyPeering: [
    { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
    { name: 'Nodes', type: 'integer', jsonPath: '.status.inventory.nodes' },
    { name: 'Message', type: 'string', jsonPath: '.status.message', priority: 1 },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
};

/** The CustomResourceDefinition of a kind, from the same schema the file store validates with. */
export function crdFor(kind: Kind): JsonObject {
  const { plural, shortNames, spec } = KIND_SPECS[kind];
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${API_GROUP}` },
    spec: {
      group: API_GROUP,
      scope: 'Namespaced',
      names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List`, shortNames: [...shortNames], categories: ['meridian'] },
      versions: [
        {
          name: 'v1alpha1',
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: PRINTER_COLUMNS[kind],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: toStructural(spec),
                status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
              },
            },
          },
        },
      ],
    },
  };
}

export function crdFileName(kind: Kind): string {
  return `${KIND_SPECS[kind].plural}.${API_GROUP}.yaml`;
}

/** The CRD as the YAML committed under manifests/crds and charts/meridian/crds. */
export function renderCrdYaml(kind: Kind): string {
  return `# Generated from src/model by \`meridian crds --out DIR\`; do not edit by hand.\n${stringify(crdFor(kind))}`;
}
