import { formatProblem, loadManifestDir } from '../../adapters/file-store/index.js';
import { parseFlags } from '../flags.js';
import type { CliIo } from '../io.js';

/** `meridian validate DIR`: exits 1 naming file, line and field of every problem. */
export async function runValidate(args: string[], io: CliIo): Promise<number> {
  const { positionals } = parseFlags(args, {}, true);
  const [dir, ...extra] = positionals;
  if (!dir || extra.length) throw new Error('usage: meridian validate DIR');
  const loaded = await loadManifestDir(dir);
  for (const p of loaded.problems) io.err(formatProblem(p));
  if (loaded.problems.length) {
    io.err(`${loaded.problems.length} problem${loaded.problems.length === 1 ? '' : 's'} in ${dir}`);
    return 1;
  }
  const counts = new Map<string, number>();
  for (const { resource } of loaded.resources) counts.set(resource.kind, (counts.get(resource.kind) ?? 0) + 1);
  for (const d of loaded.ignored) io.out(`${d.source}:${d.line}: skipped ${d.kind} (${d.apiVersion}): not a Meridian resource`);
  io.out(`${dir}: valid (${[...counts].map(([k, n]) => `${n} ${k}`).join(', ') || 'no resources'})`);
  return 0;
}
