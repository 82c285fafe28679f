// The change stream (GET /api/v1/events, Server-Sent Events), read with fetch rather than
// EventSource so that it can carry the viewer's token; reconnects by itself with a backoff.
import { authHeaders } from './api.js';

/**
 * onState({ kind: 'live' | 'stale' | 'unavailable', since?, retryInMs?, error? });
 * onConnected(): after each (re)connection, when anything may have been missed;
 * onFrame(name, frame): a pushed view (fleet, rollout, canary, peering).
 */
export function follow({ url, onState, onConnected, onFrame }) {
  let attempt = 0;
  let lostAt;
  const connect = async () => {
    const ctrl = new AbortController();
    let watchdog;
    let heartbeatMs = 15000;
    // No byte for 2.5 heartbeats: the connection is dead even if the socket does not say so.
    const pet = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => ctrl.abort(), heartbeatMs * 2.5);
    };
    let error = 'the stream ended';
    try {
      const res = await fetch(url, { headers: { accept: 'text/event-stream', ...authHeaders() }, signal: ctrl.signal, cache: 'no-store' });
      if (res.status === 404) return onState({ kind: 'unavailable' });
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      pet();
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        pet();
        buffer += value;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const event = parse(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          if (event.name === 'hello') {
            heartbeatMs = JSON.parse(event.data).heartbeatMs ?? heartbeatMs;
            attempt = 0;
            lostAt = undefined;
            pet();
            onState({ kind: 'live' });
            onConnected();
          } else if (event.name !== 'message') onFrame(event.name, JSON.parse(event.data));
        }
      }
    } catch (e) {
      error = ctrl.signal.aborted ? 'no heartbeat from the controller' : e instanceof Error ? e.message : String(e);
    } finally {
      clearTimeout(watchdog);
    }
    lostAt ??= new Date();
    attempt += 1;
    const retryInMs = Math.min(30000, 1000 * 2 ** Math.min(attempt, 5)) * (0.75 + Math.random() / 2);
    onState({ kind: 'stale', since: lostAt, retryInMs, error });
    setTimeout(connect, retryInMs);
  };
  connect();
}

function parse(block) {
  let name = 'message';
  const data = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') name = value;
    else if (field === 'data') data.push(value);
  }
  return { name, data: data.join('\n') };
}
