import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../adapters/file-store/atomic-write.js';

/** The clock file's content: the simulated time to resume from, as an ISO instant. */
interface ClockFile {
  readonly simulatedNow: string;
}

/** The simulated time saved in `file` (epoch ms); undefined when there is none yet. A file that does not hold one is an error naming it. */
export async function readClockFile(file: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const at = typeof parsed === 'object' && parsed !== null && 'simulatedNow' in parsed && typeof parsed.simulatedNow === 'string' ? Date.parse(parsed.simulatedNow) : NaN;
  if (!Number.isFinite(at)) throw new Error(`${file}: expected {"simulatedNow": "<ISO time>"}, the simulated clock to resume from; remove the file to start from the real time`);
  return at;
}

/** Saves the simulated time atomically: a crash leaves the old time or the new one. */
export async function writeClockFile(file: string, now: number): Promise<void> {
  const content: ClockFile = { simulatedNow: new Date(now).toISOString() };
  await writeFileAtomic(file, `${JSON.stringify(content)}\n`);
}
