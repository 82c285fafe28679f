import { randomUUID } from 'node:crypto';
import { access } from 'node:fs/promises';
import { stringify } from 'yaml';
import { watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from '../../model/clock.js';
import { formatPath } from '../../model/field-error.js';
import type { AnyResource, Kind, KindMap } from '../../model/kinds.js';
import { keyOf, keyString, type ResourceKey } from '../../model/resource.js';
import { validateManifest } from '../../model/validate.js';
import { SpecPatchRefused, type ManifestProblem, type SpecPatch, type StatusOf, type Store } from '../../model/store.js';
import { ensureDir, writeFileAtomic, type AtomicWriteHooks } from './atomic-write.js';
import { canonicalJson, sha256Of } from './canonical-json.js';
import { deepFreeze } from '../../model/deep-freeze.js';
import { formatProblem } from './format-problem.js';
import { loadManifestDir, type ManifestDirLoad, type Placement } from './manifest-loader.js';
import type { ObjectRecord } from './object-record.js';
import { loadStateDir, recordPath, writeRecord } from './state-dir.js';
import { patchManifestFile } from './manifest-patch.js';

export interface FileStoreDeps {
  /** The operators' manifests (their Git checkout): the desired state. */
  readonly manifestDir: string;
  /** Where identity and status are kept, one JSON file per object. */
  readonly stateDir: string;
  readonly log: Logger;
  /** Stamps creationTimestamp. */
  readonly clock: Clock;
  /** Full rescan period (default 5 s): fs.watch misses events on some file systems (NFS, some bind mounts). */
  readonly rescanIntervalMs?: number;
  /** Quiet time after a file event before scanning (default 100 ms): editors and `git pull` write in bursts. */
  readonly debounceMs?: number;
  /** Set false where inotify is unavailable or exhausted; the periodic rescan still runs. */
  readonly watchFiles?: boolean;
  /** Test seam inside every state write (the crash test kills the process there). */
  readonly writeHooks?: AtomicWriteHooks;
}

const DEFAULT_RESCAN_MS = 5_000;
const DEFAULT_DEBOUNCE_MS = 100;

interface Entry {
  readonly key: ResourceKey;
  readonly record: ObjectRecord;
}

/** What the manifests ask for now, before the store adds identity and status. */
interface Desired {
  readonly key: ResourceKey;
  readonly resource: AnyResource;
  readonly file: string;
  readonly document: number;
}

/** The record after this scan; the same object when nothing changed, so no write happens. */
function nextRecord(prev: ObjectRecord | undefined, d: Desired, nowIso: string): ObjectRecord {
  const specHash = sha256Of(d.resource.spec);
  const placed = { manifest: d.resource, file: d.file, document: d.document, inForce: true };
  if (!prev) return { uid: randomUUID(), creationTimestamp: nowIso, generation: 1, resourceVersion: 1, specHash, ...placed };
  const specChanged = prev.specHash !== specHash;
  const seen = specChanged || !prev.inForce || canonicalJson(prev.manifest?.metadata) !== canonicalJson(d.resource.metadata);
  const moved = prev.file !== d.file || prev.document !== d.document;
  if (!seen && !moved) return prev;
  return {
    ...prev,
    ...placed,
    specHash,
    generation: prev.generation + (specChanged ? 1 : 0),
    // Moving a document within the repository is no change a watcher needs to see.
    resourceVersion: prev.resourceVersion + (seen ? 1 : 0),
  };
}

function toResource(key: ResourceKey, record: ObjectRecord, manifest: AnyResource): AnyResource {
  const resource = {
    apiVersion: manifest.apiVersion,
    kind: manifest.kind,
    metadata: {
      ...manifest.metadata,
      namespace: key.namespace,
      uid: record.uid,
      generation: record.generation,
      resourceVersion: String(record.resourceVersion),
      creationTimestamp: record.creationTimestamp,
    },
    spec: manifest.spec,
    ...(record.status === undefined ? {} : { status: record.status }),
  };
  // The status is the controller's own, stored through updateStatus with its kind's type.
  return deepFreeze(structuredClone(resource)) as AnyResource;
}

function isHidden(relPath: string): boolean {
  return relPath.split(/[\\/]/).some((part) => part.startsWith('.'));
}

/**
 * The standalone Store: desired state from YAML manifests in a directory, identity and status in a
 * state directory, each object's file replaced atomically. An invalid manifest never removes what
 * its last valid version defined; only a deleted document does.
 */
export class FileStore implements Store {
  readonly #deps: FileStoreDeps;
  #phase: 'new' | 'started' | 'closed' = 'new';
  #entries = new Map<string, Entry>();
  #manifestProblems: readonly ManifestProblem[] = [];
  #stateProblems: readonly ManifestProblem[] = [];
  readonly #watchers = new Set<(key: ResourceKey) => void>();
  readonly #frozen = new WeakMap<ObjectRecord, AnyResource>();
  /** Records changed in memory whose write failed; retried on every scan. */
  readonly #unpersisted = new Set<string>();
  /** Scans and status writes run one at a time, so no write overtakes another. */
  #lock: Promise<void> = Promise.resolve();
  #queuedScan: Promise<void> | undefined;
  #scans = 0;
  #fsWatcher: FSWatcher | undefined;
  #watchWarned = false;
  #debounce: NodeJS.Timeout | undefined;
  #interval: NodeJS.Timeout | undefined;

  constructor(deps: FileStoreDeps) {
    this.#deps = deps;
  }

  /** Reads the state directory, then the manifests; resolves once both are loaded and watched. */
  async start(): Promise<void> {
    if (this.#phase !== 'new') throw new Error(`FileStore cannot start: it is ${this.#phase}`);
    this.#phase = 'started';
    const { stateDir, clock, log } = this.#deps;
    await ensureDir(stateDir);
    const state = await loadStateDir(stateDir, clock.now());
    for (const file of state.removedTempFiles) log.warn({ file }, 'Removed temp file left by an interrupted write');
    for (const p of state.problems) log.warn({ file: p.source, field: formatPath(p.error.path), problem: p.error.message }, 'Rejected state file');
    this.#stateProblems = deepFreeze(state.problems);
    this.#entries = new Map(state.records);
    // Watch first, so an edit made during the first scan still triggers another.
    this.#startWatching();
    await this.#requestScan();
    this.#interval = setInterval(() => this.#scanInBackground(), this.#deps.rescanIntervalMs ?? DEFAULT_RESCAN_MS);
    this.#interval.unref();
  }

  /** Stops watching and waits for a scan or write in progress. */
  async close(): Promise<void> {
    if (this.#phase === 'closed') return;
    this.#phase = 'closed';
    clearTimeout(this.#debounce);
    clearInterval(this.#interval);
    this.#fsWatcher?.close();
    this.#fsWatcher = undefined;
    this.#watchers.clear();
    await this.#lock;
  }

  /** Scans the manifests now (a reload signal, or a test that will not wait for the watch). */
  rescan(): Promise<void> {
    if (this.#phase !== 'started') return Promise.reject(new Error(`FileStore cannot scan: it is ${this.#phase}`));
    return this.#requestScan();
  }

  async list<K extends Kind>(kind: K): Promise<readonly KindMap[K][]> {
    const out: KindMap[K][] = [];
    const keys = [...this.#entries.keys()].sort();
    for (const k of keys) {
      const e = this.#entries.get(k);
      // TS cannot narrow KindMap[K] from a runtime check; the kind of the key is K here.
      if (e?.key.kind === kind) {
        const r = this.#visible(e);
        if (r) out.push(r as KindMap[K]);
      }
    }
    return Object.freeze(out);
  }

  async get<K extends Kind>(kind: K, namespace: string, name: string): Promise<KindMap[K] | undefined> {
    const e = this.#entries.get(keyString({ kind, namespace, name }));
    return e ? (this.#visible(e) as KindMap[K] | undefined) : undefined;
  }

  watch(onKey: (key: ResourceKey) => void): () => void {
    const w = (key: ResourceKey): void => onKey(key);
    this.#watchers.add(w);
    return () => {
      this.#watchers.delete(w);
    };
  }

  async updateStatus<K extends Kind>(kind: K, namespace: string, name: string, status: StatusOf<K>): Promise<void> {
    const k = keyString({ kind, namespace, name });
    // A JSON copy: what is in memory is exactly what a restart reads back, and the caller keeps its object.
    const copy: unknown = JSON.parse(JSON.stringify(status));
    await this.#exclusive(async () => {
      if (this.#phase !== 'started') throw new Error(`FileStore cannot update ${k}: it is ${this.#phase}`);
      const e = this.#entries.get(k);
      if (!e?.record.inForce) throw new Error(`${k} not found: no manifest defines it`);
      // The API server makes no new version and sends no event for a write that changes nothing.
      if (canonicalJson(e.record.status) === canonicalJson(copy)) return;
      const record: ObjectRecord = { ...e.record, status: copy, resourceVersion: e.record.resourceVersion + 1 };
      await writeRecord(this.#deps.stateDir, e.key, record, this.#deps.writeHooks);
      this.#entries.set(k, { key: e.key, record });
      this.#unpersisted.delete(k);
      this.#notify([k]);
    });
  }

  async patchSpec<K extends Kind>(kind: K, namespace: string, name: string, patch: SpecPatch): Promise<void> {
    const key = { kind, namespace, name };
    const k = keyString(key);
    // One edit of the files at a time (two commands on two rollouts of one file would each write
    // over the other's), and to the document that defines the object now, wherever it moved.
    await this.#exclusive(async () => {
      const e = this.#entries.get(k);
      if (!e?.record.inForce) throw new Error(`${k} not found: no manifest defines it`);
      const r = await patchManifestFile(join(this.#deps.manifestDir, e.record.file), e.record.document, patch, key);
      if (!r.ok) throw new SpecPatchRefused(`cannot patch ${k}: ${r.error}`);
    });
    await this.rescan();
  }

  async create<K extends Kind>(resource: KindMap[K]): Promise<void> {
    const k = keyString(keyOf(resource));
    if (this.#entries.get(k)?.record.inForce) throw new Error(`${k} already exists`);
    const checked = validateManifest(JSON.parse(JSON.stringify(resource)));
    if (!checked.ok) throw new Error(`cannot create ${k}: ${checked.error.map((e) => `${formatPath(e.path)}: ${e.message}`).join('; ')}`);
    const file = join(this.#deps.manifestDir, `${resource.kind.toLowerCase()}-${resource.metadata.name}.yaml`);
    if (await exists(file)) throw new Error(`cannot create ${k}: ${file} already exists`);
    const { status: _, ...manifest } = resource;
    await writeFileAtomic(file, `# Created by Meridian; commit it to keep it.\n${stringify(manifest)}`);
    await this.rescan();
  }

  problems(): readonly ManifestProblem[] {
    return Object.freeze([...this.#stateProblems, ...this.#manifestProblems]);
  }

  #visible(e: Entry): AnyResource | undefined {
    const m = e.record.manifest;
    if (!e.record.inForce || !m) return undefined;
    // Records are replaced, never changed, so one frozen copy per record serves every reader.
    let r = this.#frozen.get(e.record);
    if (!r) this.#frozen.set(e.record, (r = toResource(e.key, e.record, m)));
    return r;
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(fn);
    this.#lock = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Joins a scan that has not begun yet rather than queueing a second one. */
  #requestScan(): Promise<void> {
    if (this.#queuedScan) return this.#queuedScan;
    const scan = this.#exclusive(async () => {
      this.#queuedScan = undefined;
      await this.#scan();
    });
    this.#queuedScan = scan;
    return scan;
  }

  #scanInBackground(): void {
    this.#requestScan().catch((e: unknown) => this.#deps.log.error({ err: e, dir: this.#deps.manifestDir }, 'Failed to scan manifests'));
  }

  #startWatching(): void {
    const { manifestDir, log } = this.#deps;
    if (this.#deps.watchFiles === false || this.#fsWatcher || this.#phase !== 'started') return;
    try {
      const w = watch(manifestDir, { recursive: true, persistent: false }, (_event, file) => {
        if (file && isHidden(file)) return;
        clearTimeout(this.#debounce);
        this.#debounce = setTimeout(() => this.#scanInBackground(), this.#deps.debounceMs ?? DEFAULT_DEBOUNCE_MS);
        this.#debounce.unref();
      });
      w.on('error', (e: unknown) => {
        log.warn({ err: e, dir: manifestDir }, 'Lost the manifest directory watch; rescans continue');
        w.close();
        if (this.#fsWatcher === w) this.#fsWatcher = undefined;
      });
      this.#fsWatcher = w;
      this.#watchWarned = false;
    } catch (e) {
      // Retried on every scan; said once.
      if (!this.#watchWarned) log.warn({ err: e, dir: manifestDir }, 'Could not watch the manifest directory; rescans continue');
      this.#watchWarned = true;
    }
  }

  async #scan(): Promise<void> {
    if (this.#phase !== 'started') return;
    this.#startWatching();
    const { log } = this.#deps;
    const load = await loadManifestDir(this.#deps.manifestDir, this.#placements());
    const before = this.#versions();
    const desired = this.#desired(load);
    const nowIso = new Date(this.#deps.clock.now()).toISOString();
    const next = new Map(this.#entries);
    const changed: string[] = [];
    for (const [k, e] of this.#entries) {
      if (!e.record.inForce || desired.has(k)) continue;
      next.set(k, { key: e.key, record: { ...e.record, inForce: false, resourceVersion: e.record.resourceVersion + 1 } });
      changed.push(k);
      log.info({ ...e.key }, `Removed ${e.key.kind}: no manifest defines it any more`);
    }
    for (const [k, d] of desired) {
      const prev = this.#entries.get(k)?.record;
      const record = nextRecord(prev, d, nowIso);
      if (record === prev) continue;
      next.set(k, { key: d.key, record });
      changed.push(k);
      if (!prev?.inForce || record.generation !== prev.generation)
        log.info({ ...d.key, generation: record.generation, file: d.file }, `Loaded ${d.key.kind}`);
    }
    this.#entries = next;
    for (const k of new Set([...changed, ...this.#unpersisted])) await this.#persist(k);
    this.#logProblems(this.#manifestProblems, load.problems);
    this.#manifestProblems = deepFreeze(load.problems);

    const after = this.#versions();
    // The first scan announces everything, as an informer's initial list does.
    const initial = this.#scans++ === 0;
    const keys = [...new Set([...before.keys(), ...after.keys()])].filter(
      (k) => before.get(k) !== after.get(k) || (initial && after.has(k)),
    );
    this.#notify(keys);
  }

  /** resourceVersion of every object a reader can see. */
  #versions(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [k, e] of this.#entries) if (e.record.inForce) out.set(k, e.record.resourceVersion);
    return out;
  }

  /** Where each object a scan can keep was defined: the loader keeps it while that definition is broken. */
  #placements(): Map<string, Placement> {
    const out = new Map<string, Placement>();
    for (const [k, e] of this.#entries) if (e.record.inForce && e.record.manifest) out.set(k, { file: e.record.file, document: e.record.document });
    return out;
  }

  /** Accepted documents, plus the last valid version of every object a broken file or document still defines. */
  #desired(load: ManifestDirLoad): Map<string, Desired> {
    const desired = new Map<string, Desired>();
    for (const r of load.resources) desired.set(keyString(r.key), { key: r.key, resource: r.resource, file: r.file, document: r.document });
    for (const k of load.kept) {
      const e = this.#entries.get(k);
      const manifest = e?.record.manifest;
      if (e && manifest) desired.set(k, { key: e.key, resource: manifest, file: e.record.file, document: e.record.document });
    }
    return desired;
  }

  async #persist(k: string): Promise<void> {
    const e = this.#entries.get(k);
    if (!e) return;
    try {
      await writeRecord(this.#deps.stateDir, e.key, e.record, this.#deps.writeHooks);
      this.#unpersisted.delete(k);
    } catch (err) {
      this.#unpersisted.add(k);
      this.#deps.log.error({ err, file: recordPath(this.#deps.stateDir, e.key) }, 'Failed to write state file; retrying on the next scan');
    }
  }

  /** Logs each problem once, when it appears, and each file once, when its problems are gone. */
  #logProblems(prev: readonly ManifestProblem[], next: readonly ManifestProblem[]): void {
    const { log } = this.#deps;
    const seen = new Set(prev.map(formatProblem));
    for (const p of next) {
      if (seen.has(formatProblem(p))) continue;
      const field = p.error.path.length ? formatPath(p.error.path) : undefined;
      log.warn({ file: p.source, line: p.line, column: p.column, field, problem: p.error.message }, 'Rejected manifest');
    }
    const stillBad = new Set(next.map((p) => p.source));
    for (const file of new Set(prev.map((p) => p.source))) if (!stillBad.has(file)) log.info({ file }, 'Accepted manifest after its problems were fixed');
  }

  #notify(keys: readonly string[]): void {
    for (const k of keys) {
      const e = this.#entries.get(k);
      if (!e) continue;
      for (const w of this.#watchers) {
        try {
          w(Object.freeze({ ...e.key }));
        } catch (err) {
          this.#deps.log.error({ err, ...e.key }, 'Watcher threw; other watchers still called');
        }
      }
    }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
