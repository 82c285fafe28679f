import { DEFAULT_ADMIN_URL } from '../../config.js';
import { parseDuration } from '../../model/duration.js';
import { fetchFleets } from '../admin-client.js';
import type { CliIo } from '../io.js';
import { parseFlags } from '../flags.js';
import { watchLoop } from '../watch-loop.js';
import { renderStatus } from '../status-table.js';

export async function runStatus(args: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(args, {
    server: { type: 'string', default: DEFAULT_ADMIN_URL },
    json: { type: 'boolean', default: false },
    watch: { type: 'boolean', short: 'w', default: false },
    interval: { type: 'string', default: '2s' },
  });
  const interval = parseDuration(values.interval);
  if (!interval.ok) throw new Error(`--interval: ${interval.error}`);
  const show = async (): Promise<void> => {
    const fleets = await fetchFleets(values.server);
    io.out(values.json ? JSON.stringify(fleets, null, 2) : renderStatus(fleets));
  };
  if (!values.watch) {
    await show();
    return 0;
  }
  return watchLoop(io, { intervalMs: interval.value, clear: !values.json }, show);
}
