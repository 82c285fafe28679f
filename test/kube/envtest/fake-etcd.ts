// Stand-in etcd: answers /health on --listen-client-urls until SIGTERM.
import { createServer } from 'node:http';
import { flagsOf, record } from './fake-args.js';

const args = process.argv.slice(2);
record('etcd', args);
const client = new URL(flagsOf(args)['listen-client-urls'] ?? '');
const server = createServer((req, res) => {
  res.writeHead(req.url === '/health' ? 200 : 404, { 'Content-Type': 'application/json' });
  res.end(req.url === '/health' ? '{"health":"true","reason":""}' : '{}');
});
server.listen(Number(client.port), client.hostname);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
