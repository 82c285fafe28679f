import { command, getJson, setToken, token } from './api.js';
import { canariesView } from './canaries.js';
import { h, morphChildren, utc } from './dom.js';
import { explainView } from './explain.js';
import { fleetView } from './fleet.js';
import { mergeHistory } from './history.js';
import { follow } from './live.js';
import { peeringView } from './peering.js';
import { rolloutsView } from './rollouts.js';

const settings = JSON.parse(document.querySelector('meta[name="meridian-dashboard"]').content);
const $ = (id) => document.getElementById(id);

/** What the page shows, each part as the API last answered (or the error it gave). */
const data = { fleets: undefined, routing: undefined, history: undefined, clock: undefined, rollouts: undefined, canaries: undefined, peerings: undefined };
const errors = {};

const SOURCES = {
  fleets: async () => (await getJson('/api/v1/fleet')).fleets,
  // 503 before the first observation: the regions show "not routed yet".
  routing: () => getJson('/api/v1/routing').catch((e) => (e.status === 503 ? undefined : Promise.reject(e))),
  // A controller that keeps no history serves none: no sparklines, and no request bound to fail.
  history: async () => (settings.history ? getJson('/api/v1/history') : null),
  clock: () => getJson('/api/v1/clock'),
  rollouts: async () => {
    const { rollouts } = await getJson('/api/v1/rollouts');
    // Not started: the plan `meridian rollout plan` would print, on the controller's clock now.
    const waiting = rollouts.filter((r) => !r.startedAt && !r.aborted && r.phase !== 'Invalid');
    await Promise.all(
      waiting.map(async (r) => {
        try {
          r.plan = await getJson(`/api/v1/rollouts/${encodeURIComponent(r.namespace)}/${encodeURIComponent(r.name)}/plan`);
        } catch (e) {
          if (e.status !== 404) r.planError = e.message;
        }
      }),
    );
    return rollouts;
  },
  canaries: async () => (await getJson('/api/v1/canaries')).canaries,
  peerings: async () => (await getJson('/api/v1/peerings')).peerings,
};
/** What a (re)connection fetches: the stream pushes the rest (FRAMES), the newest of each right after its hello. */
const NOT_PUSHED = ['history'];

// One request per part at a time; a notice during it asks for one more, not one per notice.
const inFlight = new Map();
function load(part) {
  const running = inFlight.get(part);
  if (running) {
    running.again = true;
    return running.promise;
  }
  const entry = { again: false };
  entry.promise = (async () => {
    do {
      entry.again = false;
      try {
        data[part] = await SOURCES[part]();
        delete errors[part];
      } catch (e) {
        errors[part] = e.message;
      }
    } while (entry.again);
    inFlight.delete(part);
    scheduleRender();
  })();
  inFlight.set(part, entry);
  return entry.promise;
}
const loadAll = () => Promise.all(Object.keys(SOURCES).map(load));

function canAct() {
  return !settings.changesNeedToken || token() !== '';
}

function context(nowMs) {
  const versions = new Map();
  const sessionsNow = new Map();
  const timeZones = new Map();
  for (const f of data.fleets ?? [])
    for (const r of f.regions) {
      timeZones.set(r.name, r.timeZone);
      for (const p of r.proxies) {
        versions.set(p.name, p.version ?? p.desiredVersion);
        if (p.sessions) sessionsNow.set(p.name, p.sessionsTotal);
      }
    }
  return { canAct: canAct(), readOnlyWhy: 'Read-only: enter an admin token above to act', versions, sessionsNow, timeZones, nowMs, act: confirmAndSend };
}

let renderQueued = false;
function scheduleRender() {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    render();
  });
}

/** Updates a section's body in place (morph): the controls still there stay the same elements, focus and all. */
function fill(id, nodes) {
  const next = nodes.flat().filter((n) => n !== '' && n !== undefined && n !== null);
  morphChildren($(id).querySelector('.body'), next.map((n) => (n instanceof Node ? n : document.createTextNode(String(n)))));
}

function part(name, view) {
  if (errors[name] && data[name] === undefined) return [h('p', { class: 'error' }, `Could not load: ${errors[name]}`)];
  if (data[name] === undefined) return [h('p', {}, 'Loading…')];
  const shown = view(data[name]);
  return errors[name] ? [h('p', { class: 'error' }, `Showing the last answer; the latest request failed: ${errors[name]}`), ...shown] : shown;
}

function render() {
  const nowMs = data.clock ? Date.parse(data.clock.now) : Date.now();
  const ctx = context(nowMs);
  fill('fleet', part('fleets', (fleets) => fleetView({ fleets, routing: data.routing, history: data.history, nowMs })));
  fill('rollouts', part('rollouts', (r) => rolloutsView(r, ctx)));
  fill('canaries', part('canaries', (c) => canariesView(c, ctx)));
  fill('peering', part('peerings', peeringView));
  $('clock').textContent = data.clock ? `Controller time ${utc(data.clock.now)}${data.clock.simulated ? ' (simulated)' : ''}` : '';
  $('access').textContent = !settings.changesNeedToken ? 'Actions open: this listener asks no token' : token() ? 'Token set for this tab' : 'Read-only: no token';
  const select = $('explain-region');
  const regions = (data.fleets ?? []).flatMap((f) => f.regions.map((r) => r.name));
  if (select.options.length !== regions.length + 1) select.replaceChildren(h('option', { value: '' }, 'none'), ...regions.map((r) => h('option', { value: r }, r)));
}

function showOutcome(text, isError) {
  const out = $('outcome');
  out.textContent = text;
  out.className = `outcome${isError ? ' error' : ''}`;
}

/** Asks in a dialog that names what will happen; on yes, sends the command and shows the answer. */
function confirmAndSend(action) {
  const dialog = $('confirm');
  $('confirm-title').textContent = action.title;
  $('confirm-text').textContent = action.text;
  $('confirm-go').textContent = action.label;
  dialog.returnValue = '';
  dialog.addEventListener(
    'close',
    async () => {
      if (dialog.returnValue !== 'confirm') return showOutcome(`${action.title.replace(/\?$/, '')}: cancelled.`, false);
      try {
        const after = await command(action.kind, action.namespace, action.name, action.verb);
        showOutcome(`${action.label} ${action.namespace}/${action.name}: done${after.phase ? ` (phase ${after.phase}${after.paused ? ', paused' : ''})` : ''}.`, false);
      } catch (e) {
        showOutcome(`${action.label} ${action.namespace}/${action.name} refused: ${e.message}`, true);
      }
      load(action.kind === 'rollouts' ? 'rollouts' : 'canaries');
    },
    { once: true },
  );
  dialog.showModal();
}

function showLive(state) {
  const el = $('live');
  const main = $('main');
  if (state.kind === 'live') {
    el.textContent = 'Live';
    el.className = 'live ok';
    main.classList.remove('stale');
  } else if (state.kind === 'unavailable') {
    el.textContent = 'Not live: this controller streams no changes; use Refresh';
    el.className = 'live bad';
  } else {
    el.textContent = `Stale since ${state.since.toLocaleTimeString()} (${state.error}); reconnecting in ${Math.round(state.retryInMs / 1000)} s`;
    el.className = 'live bad';
    main.classList.add('stale');
  }
}

$('refresh').addEventListener('click', () => loadAll());
$('token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  setToken($('token').value.trim());
  $('token').value = '';
  loadAll();
  scheduleRender();
});
$('forget').addEventListener('click', () => {
  setToken('');
  scheduleRender();
});
$('explain-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const q = new URLSearchParams({ ip: $('explain-ip').value.trim() });
  if ($('explain-region').value) q.set('region', $('explain-region').value);
  const out = $('explain-out');
  try {
    out.replaceChildren(...explainView(await getJson(`/api/v1/explain-redirect?${q}`)));
  } catch (err) {
    out.replaceChildren(h('p', { class: 'error' }, `No answer: ${err.message}`));
  }
});

// Live, everything is loaded on each (re)connection (hello), not before it too; without the stream, at once.
const showLiveAndLoad = (state) => {
  showLive(state);
  if (state.kind !== 'live' && data.fleets === undefined && inFlight.size === 0) loadAll();
};
/** The views the stream pushes, each the same answers the API gives (a fleet frame adds the history's newest points). */
const FRAMES = {
  fleet(frame) {
    data.fleets = frame.fleets;
    data.routing = frame.routing ?? undefined;
    data.clock = frame.clock;
    for (const part of ['fleets', 'routing', 'clock']) delete errors[part];
    if (frame.history && data.history) data.history = mergeHistory(data.history, frame.history);
  },
  rollout(frame) {
    data.rollouts = frame.rollouts;
    delete errors.rollouts;
  },
  canary(frame) {
    data.canaries = frame.canaries;
    delete errors.canaries;
  },
  peering(frame) {
    data.peerings = frame.peerings;
    delete errors.peerings;
  },
};
function onFrame(name, frame) {
  FRAMES[name]?.(frame);
  scheduleRender();
}
if (settings.live) follow({ url: '/api/v1/events', onState: showLiveAndLoad, onConnected: () => Promise.all(NOT_PUSHED.map(load)), onFrame });
else showLiveAndLoad({ kind: 'unavailable' });
