import { OUT_OF_ROTATION_STEPS } from '../../model/rollout.js';
import type { ProxyWait } from '../../model/rollout.js';
import { finish, hasRotationHook, moveTo, processStart } from './proxy-progress.js';
import { iso, wakeAt, type ProxyDraft, type RolloutDraft } from './rollout-draft.js';
import { bothTimes, waitOpen, waitUntil } from './waiting-for.js';
import { noticedAt } from './schedule.js';
import { blocks, judgeSkew, skewWait } from './version-skew-gate.js';

export function isOutOfRotation(p: { readonly step: ProxyDraft['step'] }): boolean {
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
  const startAt = Date.parse(window.startAt);
  const openAt = Math.max(startAt, noticed);
  const waiting = d.proxies.filter((p) => p.region === region && p.step === 'Noticed');
  if (d.now < openAt || d.now >= endAt) {
    wakeAt(d, d.now < openAt && openAt < endAt ? openAt : endAt);
    const wait =
      d.now >= endAt
        ? waitUntil(d, region, 'Window', endAt, 'the next window: this one closed at {until}')
        : openAt > startAt
          ? waitUntil(d, region, 'NoticeLeadTime', openAt, 'every notice out for its full lead time, at {until} (inside the window)')
          : waitUntil(d, region, 'Window', startAt, 'the window opening at {until}');
    for (const p of waiting) p.waitingFor = wait;
    return taken;
  }
  wakeAt(d, endAt);
  const closes = `; the window closes at ${bothTimes(endAt, d.settings.windows(region).timeZone)}`;
  const members = d.fleet.proxies.filter((p) => p.region === region);
  const limit = d.settings.maxUnavailable(members.length);
  const mine = new Map(d.proxies.map((p) => [p.name, p]));
  const outHere = (name: string): boolean => {
    const m = mine.get(name);
    return m !== undefined && isOutOfRotation(m);
  };
  // A canary or another rollout holding a proxy out makes it unavailable to this run's rules too.
  const outForAnotherRun = (name: string): boolean => d.outOfRotation.has(name) && !outHere(name);
  const inRotationReady = (name: string): boolean => {
    const spec = members.find((p) => p.name === name);
    return !spec?.cordoned && !outHere(name) && !outForAnotherRun(name) && d.observations.get(name)?.ready === true;
  };
  for (const p of d.proxies) {
    if (p.region !== region || p.step !== 'Noticed') continue;
    // Its turn came while a canary runs a build on it: moving it would end the canary behind its back.
    const claim = d.claimed.get(p.name);
    if (claim !== undefined) {
      p.message = `Skipped: ${claim} holds it`;
      finish(d, p, 'Skipped');
      continue;
    }
    if (outForAnotherRun(p.name)) {
      p.message = 'Waiting: another run (a canary or a rollout) holds this proxy out of rotation';
      p.waitingFor = waitOpen('OutOfRotationElsewhere', `another run (a canary or a rollout) to give it back${closes}`);
      continue;
    }
    // Unobserved (a restart before the first scrape), no one can tell which proxy is the region's last ready one.
    const unobserved = members.filter((m) => !d.observations.has(m.name)).map((m) => m.name);
    if (unobserved.length) {
      p.message = `Waiting: not every proxy of ${region} has been observed yet`;
      p.waitingFor = waitOpen('Unobserved', `the first observation of ${unobserved.join(', ')}${closes}`);
      continue;
    }
    // Teleport's version skew rule, checked again at the last moment: the Auth Service may have changed since the start.
    const skew = judgeSkew(d.settings.version, d.auth, [d.observations.get(p.name)?.metrics?.version ?? p.fromVersion ?? ''].filter((v) => v !== ''));
    if (blocks(skew)) {
      p.message = `Waiting: ${skew.kind === 'refused' ? 'version skew' : 'the Auth Service version'}: ${skew.message}`;
      p.waitingFor = skewWait(skew, d.settings.version, closes);
      continue;
    }
    const outNames = [...d.proxies.filter((x) => x.region === region && isOutOfRotation(x)).map((x) => x.name), ...members.filter((m) => outForAnotherRun(m.name)).map((m) => m.name)];
    if (outNames.length >= limit) {
      for (const q of waiting) if (q.step === 'Noticed') q.waitingFor ??= maxUnavailableWait(d, region, limit, outNames, closes);
      return taken;
    }
    if (!d.settings.allowRegionOutage && inRotationReady(p.name) && members.filter((m) => inRotationReady(m.name)).length <= 1) {
      p.message = `Waiting: the last ready proxy of ${region} stays in rotation`;
      p.waitingFor = waitOpen('LastReadyProxy', `another proxy of ${region} ready in rotation: it is the last one${closes}`);
      continue;
    }
    const obs = d.observations.get(p.name);
    moveTo(p, hasRotationHook(d.fleet.proxies.find((x) => x.name === p.name)) ? 'OutOfRotation' : 'Draining');
    p.outAt = iso(d.now);
    p.sessionsAtOut = obs?.sessionsTotal ?? 0;
    p.takeOuts = (p.takeOuts ?? 0) + 1;
    // A later start time means the process restarted while out: see backInRotation.
    const started = processStart(obs);
    if (started !== undefined) p.processStartedAt = started;
    p.message = `Out of rotation with ${p.sessionsAtOut} sessions`;
    d.events.push({ reason: 'ProxyOutOfRotation', proxy: p.name, region, message: p.message });
    taken.push(p);
  }
  return taken;
}

/** maxUnavailable is taken: by whom, and the earliest drain deadline among them (they may be back sooner). */
function maxUnavailableWait(d: RolloutDraft, region: string, limit: number, out: readonly string[], closes: string): ProxyWait {
  const held = out.map((name) => ({ name, mine: d.proxies.find((x) => x.name === name && isOutOfRotation(x)) }));
  const deadlines = held.flatMap(({ mine }) => (mine?.step === 'Draining' && mine.outAt ? [Date.parse(mine.outAt) + d.settings.drainDeadlineMs] : []));
  const who = held.map(({ name, mine }) => `${name} (${mine ? mine.step : 'another run'})`).join(', ');
  const text = `maxUnavailable ${limit} of ${region}, held by ${who}`;
  return deadlines.length ? waitUntil(d, region, 'MaxUnavailable', Math.min(...deadlines), `${text}; the first drain deadline is at {until}${closes}`) : waitOpen('MaxUnavailable', `${text}${closes}`);
}
