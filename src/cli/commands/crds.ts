import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crdFileName, renderCrdYaml } from '../../model/crd.js';
import { KINDS } from '../../model/kinds.js';
import type { CliIo } from '../io.js';
import { parseFlags } from '../flags.js';

/** Writes the CRDs generated from the resource schemas (manifests/crds and charts/meridian/crds). */
export async function runCrds(args: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(args, { out: { type: 'string', multiple: true } });
  const dirs = values.out ?? [];
  if (dirs.length === 0) {
    for (const kind of KINDS) io.out(`---\n${renderCrdYaml(kind)}`);
    return 0;
  }
  for (const dir of dirs) {
    await mkdir(dir, { recursive: true });
    for (const kind of KINDS) {
      await writeFile(join(dir, crdFileName(kind)), renderCrdYaml(kind));
      io.out(`wrote ${join(dir, crdFileName(kind))}`);
    }
  }
  return 0;
}
