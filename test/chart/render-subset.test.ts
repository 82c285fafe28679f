// The renderer in scripts/chart-render.ts against what Go templates (text/template + Helm's functions) do.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { mergeValues, renderFiles } from '../../scripts/chart-render.js';

/** A one-template chart in a temporary directory, rendered. */
function render(t: TestContext, template: string, values: Record<string, unknown> = {}, helpers = ''): string {
  const dir = mkdtempSync(join(tmpdir(), 'chart-render-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'templates'));
  writeFileSync(join(dir, 'Chart.yaml'), 'apiVersion: v2\nname: demo\nversion: 1.2.3\nappVersion: "4.5"\n');
  writeFileSync(join(dir, 'values.yaml'), 'a: {b: x, n: 2, list: [p, q], map: {z: 1, y: 2}, empty: {}}\n');
  writeFileSync(join(dir, 'file.txt'), 'line1\nline2\n');
  writeFileSync(join(dir, 'templates', '_helpers.tpl'), helpers);
  writeFileSync(join(dir, 'templates', 't.yaml'), template);
  const files = renderFiles({ release: { name: 'rel', namespace: 'ns' }, values }, dir).files;
  return files.find((f) => f.source === 'demo/templates/t.yaml')?.text ?? '';
}

test('trim markers eat whitespace and newlines on their side only; comments print nothing', (t) => {
  assert.equal(render(t, 'a\n  {{- .Values.a.b }}  \nb {{ .Release.Name -}}\n\n c{{/* gone */}}'), 'ax  \nb relc');
  assert.equal(render(t, 'x\n{{- /* gone */}}\ny'), 'x\ny');
});

test('fields, $, Chart and Release; a missing key prints nothing, a field of nil is an error', (t) => {
  assert.equal(render(t, '{{ .Chart.Name }}-{{ .Chart.AppVersion }} {{ .Release.Namespace }} {{ .Values.a.missing }}.'), 'demo-4.5 ns .');
  assert.throws(() => render(t, '{{ .Values.nope.deeper }}'), /nil pointer evaluating \.Values\.nope\.deeper/);
});

test('if/else if/else and with/else follow Go truth: empty maps, lists, "" and 0 are false', (t) => {
  const tpl = '{{ if .Values.a.empty }}1{{ else if .Values.a.list }}2{{ else }}3{{ end }}{{ with .Values.a.b }}[{{ . }}]{{ else }}none{{ end }}{{ with .Values.a.empty }}x{{ else }}-{{ end }}';
  assert.equal(render(t, tpl), '2[x]-');
  assert.equal(render(t, tpl, { a: { list: [], b: '' } }), '3none-');
});

test('range walks lists in order and maps by sorted key, with $ still the root', (t) => {
  assert.equal(render(t, '{{ range .Values.a.list }}{{ . }}{{ $.Release.Name }},{{ end }}|{{ range .Values.a.map }}{{ . }}{{ end }}'), 'prel,qrel,|21');
});

test('define/include, pipelines, parentheses and the functions the chart uses', (t) => {
  const helpers = '{{- define "h.name" -}}\n{{ .Chart.Name }}-{{ .Values.a.b }}\n{{- end }}';
  assert.equal(render(t, '{{ include "h.name" . | quote }} {{ printf "%s-%d" (include "h.name" .) .Values.a.n | trunc 6 | trimSuffix "-" }}', {}, helpers), '"demo-x" demo-x');
  assert.equal(render(t, 'k:{{ toYaml .Values.a.map | nindent 2 }}\n{{ .Values.a.b | indent 4 }}'), 'k:\n  y: 2\n  z: 1\n    x');
  assert.equal(render(t, '{{ default "d" .Values.a.missing }} {{ default "d" .Values.a.b }} {{ join "," .Values.a.list }} {{ contains "em" "demo" }}'), 'd x p,q true');
  assert.equal(render(t, '{{ if and .Values.a.b (gt .Values.a.n 1) (not .Values.a.empty) (eq .Values.a.b "x") }}yes{{ end }}'), 'yes');
  assert.equal(render(t, '{{ .Files.Get "file.txt" | nindent 2 }}'), '\n  line1\n  line2\n  ');
  assert.throws(() => render(t, '{{ required "a.c is needed" .Values.a.c }}'), /execution error: a\.c is needed/);
  assert.throws(() => render(t, '{{ fail "no" }}'), /execution error: no/);
});

test('anything outside the subset is an error naming the template, not a silent difference from Helm', (t) => {
  assert.throws(() => render(t, '{{ upper .Values.a.b }}'), /templates\/t\.yaml:1: function "upper" is not in the renderer's subset/);
  assert.throws(() => render(t, '{{ $x := 1 }}'), /cannot read/);
  assert.throws(() => render(t, '{{ if .Values.a.b }}open'), /missing \{\{ end \}\}/);
  assert.throws(() => render(t, '{{ range .Values.a.list }}x{{ else }}y{{ end }}'), /unexpected \{\{ else \}\}/);
});

test('values merge as helm -f does: maps deeply, lists replaced, null removes', () => {
  assert.deepEqual(mergeValues({ a: { b: 1, c: [1, 2], d: 3 } }, { a: { c: [9], d: null } }), { a: { b: 1, c: [9] } });
});
