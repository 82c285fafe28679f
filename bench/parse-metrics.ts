/**
 * Prints how many proxy pages per second the metrics parser reads, next to the
 * parse-prometheus-text-format library (the baseline) on the same pages. Part of `npm run bench`.
 */
import { StringDecoder } from 'node:string_decoder';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { createTeleportMetricsParser, parseTeleportMetrics } from '../src/observer/core/parse-metrics.js';
import { fixturePage, productionSizedPage } from '../test/observer/fixtures/production-page.js';

function rate(label: string, page: string, parse: (text: string) => unknown): void {
  const budgetMs = 400;
  for (let i = 0; i < 200; i++) parse(page); // warm up the JIT
  const startCpu = process.cpuUsage();
  const start = performance.now();
  let n = 0;
  while (performance.now() - start < budgetMs) {
    for (let i = 0; i < 50; i++) parse(page);
    n += 50;
  }
  const cpu = process.cpuUsage(startCpu);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  const perPageUs = (cpuS / n) * 1e6;
  const lines = page.split('\n').length;
  console.log(
    `${label.padEnd(52)} ${String(Math.round(page.length / 1024)).padStart(4)} KiB ${String(lines).padStart(5)} lines  ` +
      `${String(Math.round(n / cpuS)).padStart(7)} pages/CPU-s  ${perPageUs.toFixed(0).padStart(6)} us/page  ` +
      `2000 pages: ${((perPageUs * 2000) / 1e6).toFixed(3)} CPU-s`,
  );
}

const pages: [string, string][] = [
  ['fixture', fixturePage()],
  ['small cluster proxy size', productionSizedPage(60_000)],
  ['busy production proxy size', productionSizedPage(300_000)],
];
/** What the adapter does per page: 16 KiB socket chunks, streaming UTF-8 decode, incremental parse. */
function fromChunks(chunks: readonly Buffer[]): unknown {
  const decoder = new StringDecoder('utf8');
  const parser = createTeleportMetricsParser('bench');
  for (const c of chunks) parser.push(decoder.write(c));
  parser.push(decoder.end());
  return parser.end();
}

for (const [name, page] of pages) {
  const check = parseTeleportMetrics(page, 'bench');
  if (!check.ok) throw new Error(check.error.message);
  const bytes = Buffer.from(page);
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += 16 * 1024) chunks.push(bytes.subarray(i, i + 16 * 1024));
  rate(`parser, whole string, ${name}`, page, (t) => parseTeleportMetrics(t, 'bench'));
  rate(`adapter path, bytes in chunks, ${name}`, page, () => fromChunks(chunks));
  rate(`concat+decode+parse, ${name}`, page, () => parseTeleportMetrics(Buffer.concat(chunks).toString('utf8'), 'bench'));
  rate(`library, parse only, ${name}`, page, (t) => parsePrometheusTextFormat(t));
}
