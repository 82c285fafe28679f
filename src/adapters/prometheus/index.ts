export { createPrometheusClient, DEFAULT_PROMETHEUS_CONCURRENCY, displayAddress, type PrometheusClientDeps } from './prometheus-client.js';
export { parseQueryReply, type ReplyProblem } from './query-reply.js';
