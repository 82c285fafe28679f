// Flags of the stand-in binaries, and where they record them for the test (FAKE_CONTROL_PLANE_LOG).
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';

export function flagsOf(argv: readonly string[]): Record<string, string> {
  return Object.fromEntries(argv.filter((a) => a.startsWith('--')).map((a) => [a.slice(2, a.includes('=') ? a.indexOf('=') : undefined), a.includes('=') ? a.slice(a.indexOf('=') + 1) : 'true']));
}

export function record(name: string, argv: readonly string[]): void {
  const dir = process.env['FAKE_CONTROL_PLANE_LOG'];
  if (dir) appendFileSync(join(dir, 'started.jsonl'), `${JSON.stringify({ name, pid: process.pid, args: argv })}\n`);
}
