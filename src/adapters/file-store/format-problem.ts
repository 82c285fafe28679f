import { formatPath } from '../../model/field-error.js';
import type { ManifestProblem } from '../../model/store.js';

/** `examples/fleet.yaml:14:7: spec.proxies[2].region: region "mars" is not defined in spec.regions` */
export function formatProblem(p: ManifestProblem): string {
  const where = p.line === undefined ? p.source : `${p.source}:${p.line}:${p.column ?? 1}`;
  // A YAML syntax error or an unreadable file has no field to name.
  const field = p.error.path.length ? `${formatPath(p.error.path)}: ` : '';
  return `${where}: ${field}${p.error.message}`;
}
