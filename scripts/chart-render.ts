/**
 * Renders charts/meridian the way `helm template` does, for exactly the Go-template subset its
 * templates use (no helm binary can be installed here): actions with `{{-`/`-}}` trimming and
 * comments; fields (`.Values.a.b`, `.`, `$`, `$.Values`); string, number and boolean literals;
 * pipelines and parenthesised calls; if/else if/else, with/else, range (lists and maps, sorted by
 * key as Go does), define/include; and the functions in FUNCTIONS. Anything else is an error
 * naming the file, so a template that strays from the subset fails its test rather than rendering
 * differently from Helm. Values are merged over values.yaml as Helm merges `--set`/`-f`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';

type Value = unknown;
type Fn = (...args: Value[]) => Value;

interface Release {
  readonly name: string;
  readonly namespace: string;
}

export interface RenderOptions {
  readonly release?: Release;
  /** Merged over values.yaml (maps deeply, everything else replaced), as `helm template -f`. */
  readonly values?: Record<string, unknown>;
}

/** One rendered template file: its path (`meridian/templates/x.yaml`) and its text. */
export interface RenderedFile {
  readonly source: string;
  readonly text: string;
}

export interface RenderedChart {
  readonly files: readonly RenderedFile[];
  /** The rendered objects in template-file order, each with the file it came from. */
  readonly objects: readonly { readonly source: string; readonly object: Record<string, unknown> }[];
  readonly notes: string;
}

export const CHART_DIR = new URL('../charts/meridian/', import.meta.url).pathname;
export const DEFAULT_RELEASE: Release = { name: 'meridian', namespace: 'meridian' };

// ---- lexing: text and actions ----

type Piece = { kind: 'text'; text: string } | { kind: 'action'; body: string; at: number };

function split(src: string, file: string): Piece[] {
  const pieces: Piece[] = [];
  let i = 0;
  let trimNext = false;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    let text = open < 0 ? src.slice(i) : src.slice(i, open);
    if (trimNext) text = text.replace(/^\s+/, '');
    if (open < 0) {
      pieces.push({ kind: 'text', text });
      break;
    }
    const close = src.indexOf('}}', open);
    if (close < 0) throw new Error(`${file}: unclosed action at offset ${open}`);
    let body = src.slice(open + 2, close);
    if (/^-\s/.test(body)) {
      text = text.replace(/\s+$/, '');
      body = body.slice(1);
    }
    trimNext = /\s-$/.test(body);
    if (trimNext) body = body.slice(0, -1);
    pieces.push({ kind: 'text', text });
    body = body.trim();
    if (!(body.startsWith('/*') && body.endsWith('*/'))) pieces.push({ kind: 'action', body, at: open });
    i = close + 2;
  }
  return pieces;
}

// ---- parsing: a tree of nodes ----

type Expr =
  | { kind: 'literal'; value: Value }
  | { kind: 'field'; root: 'dot' | 'root'; path: string[] }
  | { kind: 'call'; name: string; args: Expr[] }
  | { kind: 'pipe'; stages: Expr[][] };

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'output'; pipe: Expr }
  | { kind: 'if' | 'with'; branches: { cond?: Expr; body: Node[] }[] }
  | { kind: 'range'; pipe: Expr; body: Node[] };

const TOKEN = /\s*("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?|\$?(?:\.[A-Za-z_][A-Za-z0-9_]*)+|\$|\.|[A-Za-z_][A-Za-z0-9_]*|\(|\)|\|)/y;

function tokenize(body: string, where: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < body.length) {
    const start = TOKEN.lastIndex;
    const m = TOKEN.exec(body);
    if (!m || m[1] === undefined) {
      if (body.slice(start).trim() === '') break;
      throw new Error(`${where}: cannot read "${body.slice(start).trim()}" in {{ ${body} }}`);
    }
    tokens.push(m[1]);
  }
  return tokens;
}

function parsePipe(tokens: string[], where: string): Expr {
  let pos = 0;
  const pipe = (): Expr => {
    const stages: Expr[][] = [[]];
    while (pos < tokens.length && tokens[pos] !== ')') {
      const t = tokens[pos++] as string;
      if (t === '|') stages.push([]);
      else (stages[stages.length - 1] as Expr[]).push(operand(t));
    }
    if (stages.some((s) => s.length === 0)) throw new Error(`${where}: empty command in a pipeline`);
    return { kind: 'pipe', stages };
  };
  const operand = (t: string): Expr => {
    if (t === '(') {
      const inner = pipe();
      if (tokens[pos++] !== ')') throw new Error(`${where}: unbalanced parentheses`);
      return inner;
    }
    if (t.startsWith('"')) return { kind: 'literal', value: JSON.parse(t) as string };
    if (/^-?\d/.test(t)) return { kind: 'literal', value: Number(t) };
    if (t === 'true' || t === 'false') return { kind: 'literal', value: t === 'true' };
    if (t === '.') return { kind: 'field', root: 'dot', path: [] };
    if (t.startsWith('$')) return { kind: 'field', root: 'root', path: t.slice(1).split('.').filter(Boolean) };
    if (t.startsWith('.')) return { kind: 'field', root: 'dot', path: t.split('.').filter(Boolean) };
    if (!(t in FUNCTIONS)) throw new Error(`${where}: function "${t}" is not in the renderer's subset`);
    return { kind: 'call', name: t, args: [] };
  };
  const result = pipe();
  if (pos !== tokens.length) throw new Error(`${where}: unexpected ")"`);
  return result;
}

interface Parsed {
  nodes: Node[];
  defines: Map<string, Node[]>;
}

function parseTemplate(src: string, file: string, defines: Map<string, Node[]>): Node[] {
  const pieces = split(src, file);
  let i = 0;
  const where = (p: Piece): string => `${file}:${src.slice(0, p.kind === 'action' ? p.at : 0).split('\n').length}`;
  // Reads nodes until one of `stops`; returns them with the action that stopped them.
  const block = (stops: RegExp | undefined): { nodes: Node[]; stop?: string } => {
    const nodes: Node[] = [];
    while (i < pieces.length) {
      const p = pieces[i++] as Piece;
      if (p.kind === 'text') {
        if (p.text) nodes.push({ kind: 'text', text: p.text });
        continue;
      }
      const w = where(p);
      if (stops?.test(p.body)) return { nodes, stop: p.body };
      const [word] = p.body.split(/\s/, 1);
      const rest = p.body.slice((word ?? '').length).trim();
      if (word === 'if' || word === 'with') {
        const branches: { cond?: Expr; body: Node[] }[] = [];
        let cond: Expr | undefined = parsePipe(tokenize(rest, w), w);
        for (;;) {
          const inner = block(/^(else|end)\b/);
          branches.push({ ...(cond ? { cond } : {}), body: inner.nodes });
          if (!inner.stop) throw new Error(`${w}: ${word} without end`);
          if (inner.stop === 'end') break;
          const elseIf = /^else\s+(if|with)\s+(.*)$/s.exec(inner.stop);
          if (elseIf) cond = parsePipe(tokenize(elseIf[2] ?? '', w), w);
          else if (inner.stop === 'else') cond = undefined;
          else throw new Error(`${w}: cannot read {{ ${inner.stop} }}`);
          if (!cond) {
            const last = block(/^end$/);
            branches.push({ body: last.nodes });
            break;
          }
        }
        nodes.push({ kind: word, branches });
      } else if (word === 'range') {
        const inner = block(/^end$/);
        nodes.push({ kind: 'range', pipe: parsePipe(tokenize(rest, w), w), body: inner.nodes });
      } else if (word === 'define') {
        const name = JSON.parse(rest) as string;
        defines.set(name, block(/^end$/).nodes);
      } else if (word === 'else' || word === 'end') {
        throw new Error(`${w}: unexpected {{ ${p.body} }}`);
      } else {
        nodes.push({ kind: 'output', pipe: parsePipe(tokenize(p.body, w), w) });
      }
    }
    if (stops) throw new Error(`${file}: missing {{ end }}`);
    return { nodes };
  };
  return block(undefined).nodes;
}

// ---- evaluation ----

/** Go templates' truth: false, 0, nil and empty strings, lists and maps are false. */
export function truthy(v: Value): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

const isMap = (v: Value): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** sigs.k8s.io/yaml as Helm's toYaml: keys sorted, no trailing newline. */
function toYaml(v: Value): string {
  if (v === undefined || v === null) return 'null';
  return stringify(v, { sortMapEntries: true, lineWidth: 0 }).replace(/\n$/, '');
}

function str(v: Value): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new Error(`cannot print a ${Array.isArray(v) ? 'list' : 'map'} (use toYaml)`);
}

const FUNCTIONS: Record<string, Fn> = {
  toYaml,
  indent: (n, s) => str(s).replace(/^/gm, ' '.repeat(Number(n))),
  nindent: (n, s) => `\n${str(s).replace(/^/gm, ' '.repeat(Number(n)))}`,
  quote: (...args) => args.filter((a) => a !== undefined && a !== null).map((a) => JSON.stringify(str(a))).join(' '),
  default: (d, v) => (truthy(v) ? v : d),
  required: (message, v) => {
    if (v === undefined || v === null || v === '') throw new Error(`execution error: ${str(message)}`);
    return v;
  },
  trunc: (n, s) => str(s).slice(0, Number(n)),
  trimSuffix: (suffix, s) => (str(s).endsWith(str(suffix)) ? str(s).slice(0, -str(suffix).length) : str(s)),
  contains: (sub, s) => str(s).includes(str(sub)),
  printf: (format, ...args) => {
    let k = 0;
    return str(format).replace(/%[sdv%]/g, (m) => (m === '%%' ? '%' : str(args[k++])));
  },
  join: (sep, list) => (Array.isArray(list) ? list.map(str).join(str(sep)) : str(list)),
  fail: (message) => {
    throw new Error(`execution error: ${str(message)}`);
  },
  eq: (a, b) => a === b,
  gt: (a, b) => Number(a) > Number(b),
  ne: (a, b) => a !== b,
  not: (v) => !truthy(v),
  and: (...args) => args.find((a) => !truthy(a)) ?? args[args.length - 1],
  or: (...args) => args.find((a) => truthy(a)) ?? args[args.length - 1],
  empty: (v) => !truthy(v),
  b64enc: (s) => Buffer.from(str(s)).toString('base64'),
  include: () => {
    throw new Error('include is bound per render');
  },
};

interface Scope {
  readonly dot: Value;
  readonly root: Value;
  readonly defines: Map<string, Node[]>;
}

function field(v: Value, path: readonly string[], shown: string): Value {
  let at = v;
  for (const [i, key] of path.entries()) {
    if (at === undefined || at === null) throw new Error(`nil pointer evaluating ${shown}: ${path.slice(0, i).join('.') || '.'} is nil`);
    if (!isMap(at)) throw new Error(`can't evaluate field ${key} in ${shown}`);
    at = at[key];
  }
  return at;
}

function evalExpr(e: Expr, scope: Scope, piped: Value[] = []): Value {
  switch (e.kind) {
    case 'literal':
      return e.value;
    case 'field': {
      const shown = `${e.root === 'root' ? '$' : ''}.${e.path.join('.')}`;
      const v = field(e.root === 'root' ? scope.root : scope.dot, e.path, shown);
      // A method such as .Files.Get takes the command's arguments.
      return typeof v === 'function' ? (v as Fn)(...piped) : v;
    }
    case 'call': {
      const args = [...e.args.map((a) => evalExpr(a, scope)), ...piped];
      if (e.name === 'include') {
        const body = scope.defines.get(str(args[0]));
        if (!body) throw new Error(`no template "${str(args[0])}"`);
        return renderNodes(body, { ...scope, dot: args[1] });
      }
      return (FUNCTIONS[e.name] as Fn)(...args);
    }
    case 'pipe': {
      let out: Value[] = [];
      for (const [n, stage] of e.stages.entries()) {
        const [head, ...rest] = stage as [Expr, ...Expr[]];
        if (head.kind === 'call') out = [evalExpr({ ...head, args: rest }, scope, n > 0 ? out : [])];
        else if (head.kind === 'field' && rest.length > 0) out = [evalExpr(head, scope, [...rest.map((a) => evalExpr(a, scope)), ...out])];
        else if (rest.length === 0 && (n === 0 || head.kind === 'field')) out = [n === 0 ? evalExpr(head, scope) : evalExpr(head, scope, out)];
        else throw new Error('a pipeline stage must be a function call');
      }
      return out[0];
    }
  }
}

function renderNodes(nodes: readonly Node[], scope: Scope): string {
  let out = '';
  for (const n of nodes) {
    if (n.kind === 'text') out += n.text;
    else if (n.kind === 'output') out += str(evalExpr(n.pipe, scope));
    else if (n.kind === 'range') {
      const v = evalExpr(n.pipe, scope);
      if (v !== undefined && v !== null && !Array.isArray(v) && !isMap(v)) throw new Error(`range can't iterate over ${str(v)}`);
      const items = Array.isArray(v) ? v : isMap(v) ? Object.keys(v).sort().map((k) => v[k]) : [];
      for (const item of items) out += renderNodes(n.body, { ...scope, dot: item });
    } else {
      for (const b of n.branches) {
        const v = b.cond ? evalExpr(b.cond, scope) : true;
        if (!truthy(v)) continue;
        out += renderNodes(b.body, n.kind === 'with' && b.cond ? { ...scope, dot: v } : scope);
        break;
      }
    }
  }
  return out;
}

// ---- the chart ----

/** Helm's merge of user values over the chart's: maps merged deeply, a null removes the key. */
export function mergeValues(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === null) delete out[k];
    else out[k] = isMap(v) && isMap(out[k]) ? mergeValues(out[k] as Record<string, unknown>, v) : v;
  }
  return out;
}

export function readChartValues(chartDir = CHART_DIR): Record<string, unknown> {
  return (parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) ?? {}) as Record<string, unknown>;
}

/** The templates rendered as text (no YAML parsing), and NOTES.txt. */
export function renderFiles(options: RenderOptions = {}, chartDir = CHART_DIR): { files: RenderedFile[]; notes: string } {
  const chart = parse(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')) as Record<string, unknown>;
  const values = mergeValues(readChartValues(chartDir), options.values ?? {});
  const release = options.release ?? DEFAULT_RELEASE;
  const files = {
    Get: (path: Value) => {
      try {
        return readFileSync(join(chartDir, str(path)), 'utf8');
      } catch {
        return '';
      }
    },
  };
  const root = {
    Values: values,
    Release: { Name: release.name, Namespace: release.namespace, Service: 'Helm', IsInstall: true, IsUpgrade: false },
    Chart: { Name: chart['name'], Version: chart['version'], AppVersion: chart['appVersion'] },
    Files: files,
  };
  const templatesDir = join(chartDir, 'templates');
  const names = readdirSync(templatesDir).sort();
  const defines = new Map<string, Node[]>();
  const parsed = names.map((name) => ({ name, nodes: parseTemplate(readFileSync(join(templatesDir, name), 'utf8'), `templates/${name}`, defines) }));
  const scope: Scope = { dot: root, root, defines };
  const render = (name: string, nodes: Node[]): string => {
    try {
      return renderNodes(nodes, scope);
    } catch (e) {
      throw new Error(`templates/${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  const rendered: RenderedFile[] = [];
  let notes = '';
  for (const { name, nodes } of parsed) {
    if (name.startsWith('_')) continue;
    const text = render(name, nodes);
    if (name === 'NOTES.txt') notes = text;
    else rendered.push({ source: `${String(chart['name'])}/templates/${name}`, text });
  }
  return { files: rendered, notes };
}

/** The chart rendered and its documents parsed. */
export function renderChart(options: RenderOptions = {}, chartDir = CHART_DIR): RenderedChart {
  const { files: rendered, notes } = renderFiles(options, chartDir);
  const objects = rendered.flatMap((f) =>
    parseAllDocuments(f.text).flatMap((doc) => {
      if (doc.errors.length) throw new Error(`${f.source}: ${doc.errors.map((e) => e.message).join('; ')}\n${f.text}`);
      const object = doc.toJS() as unknown;
      return isMap(object) ? [{ source: f.source, object }] : [];
    }),
  );
  return { files: rendered, objects, notes };
}

/** Helm's install order (releaseutil.InstallOrder), for the kinds this chart makes; others go last. */
const INSTALL_ORDER = ['Namespace', 'NetworkPolicy', 'PodDisruptionBudget', 'ServiceAccount', 'Secret', 'ConfigMap', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'Service', 'Deployment'];
const orderOf = (doc: string): number => {
  const kind = /^kind:\s*(\S+)/m.exec(doc)?.[1] ?? '';
  const i = INSTALL_ORDER.indexOf(kind);
  return i < 0 ? INSTALL_ORDER.length : i;
};

/** The rendered documents as `helm template` prints them: each non-empty one after `---` and a `# Source:` line, in install order. */
export function toManifest(chart: RenderedChart): string {
  return chart.files
    .flatMap((f) =>
      f.text
        .split(/^---\s*$/m)
        .map((d) => d.replace(/^\s*\n/, '').trimEnd())
        .filter((d) => d.split('\n').some((l) => l.trim() !== '' && !l.trim().startsWith('#')))
        .map((d) => `---\n# Source: ${f.source}\n${d}\n`),
    )
    .map((doc, i) => ({ doc, i, order: orderOf(doc) }))
    .sort((a, b) => a.order - b.order || a.i - b.i)
    .map((d) => d.doc)
    .join('');
}
