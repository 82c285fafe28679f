import { OUT_OF_ROTATION_STEPS } from '../../model/rollout.js';
import { hasRotationHook, moveTo } from './proxy-progress.js';
import { iso, wakeAt, type ProxyDraft, type RolloutDraft } from './rollout-draft.js';
import { noticedAt } from './schedule.js';

export function heldOut(p: { readonly step: ProxyDraft['step'] }): boolean {
  return OUT_OF_ROTATION_STEPS.has(p.step);
}

/**
 * Takes the region's next noticed proxies out of rotation, as far as every rule allows: inside
 * the window, after every notice has been out for its full lead time, at most maxUnavailable
 * out at once, and never the last ready proxy in rotation (unless the spec allows an outage).
 * Returns the proxies it took out.
 */
export function takeOut(d: RolloutDraft, region: string): ProxyDraft[] {
  const window = d.windows.get(region);
  const noticed = noticedAt(d, region);
  const taken: ProxyDraft[] = [];
  if (!window || noticed === undefined) return taken;
  const endAt = Date.parse(window.endAt);
  const openAt = Math.max(Date.parse(window.startAt), noticed);
  if (d.now < openAt || d.now >= endAt) {
    wakeAt(d, d.now < openAt && openAt < endAt ? openAt : endAt);
    return taken;
  }
  wakeAt(d, endAt);
  const members = d.fleet.proxies.filter((p) => p.region === region);
  const limit = d.settings.maxUnavailable(members.length);
  const mine = new Map(d.proxies.map((p) => [p.name, p]));
  const heldHere = (name: string): boolean => {
    const m = mine.get(name);
    return m !== undefined && heldOut(m);
  };
  // A canary or another rollout holding a proxy out makes it unavailable to this run's rules too.
  const heldByOthers = (name: string): boolean => d.heldElsewhere.has(name) && !heldHere(name);
  const inRotationReady = (name: string): boolean => {
    const spec = members.find((p) => p.name === name);
    return !spec?.cordoned && !heldHere(name) && !heldByOthers(name) && d.observations.get(name)?.ready === true;
  };
  for (const p of d.proxies) {
    if (p.region !== region || p.step !== 'Noticed') continue;
    if (heldByOthers(p.name)) {
      p.message = 'Waiting: another run (a canary or a rollout) holds this proxy out of rotation';
      continue;
    }
    // Unobserved (a restart before the first scrape), no one can tell which proxy is the region's last ready one.
    if (members.some((m) => !d.observations.has(m.name))) {
      p.message = `Waiting: not every proxy of ${region} has been observed yet`;
      continue;
    }
    const out = d.proxies.filter((x) => x.region === region && heldOut(x)).length + members.filter((m) => heldByOthers(m.name)).length;
    if (out >= limit) return taken;
    if (!d.settings.allowRegionOutage && inRotationReady(p.name) && members.filter((m) => inRotationReady(m.name)).length <= 1) {
      p.message = `Waiting: the last ready proxy of ${region} stays in rotation`;
      continue;
    }
    const obs = d.observations.get(p.name);
    moveTo(p, hasRotationHook(d.fleet.proxies.find((x) => x.name === p.name)) ? 'OutOfRotation' : 'Draining');
    p.outAt = iso(d.now);
    p.sessionsAtOut = obs?.sessionsTotal ?? 0;
    p.message = `Out of rotation with ${p.sessionsAtOut} sessions`;
    d.events.push({ reason: 'ProxyOutOfRotation', proxy: p.name, region, message: p.message });
    taken.push(p);
  }
  return taken;
}
