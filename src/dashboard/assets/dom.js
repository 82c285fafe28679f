// Small DOM helpers: every text goes in as text (never as HTML), so names from manifests cannot inject markup.

/** h('td', { class: 'x' }, 'text', child): an element; attributes starting with "on" are handlers (properties, so morph can move them). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el[k] = v;
    // Through the CSSOM: the page's Content-Security-Policy refuses style attributes.
    else if (k === 'style') Object.assign(el.style, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

const SVG = 'http://www.w3.org/2000/svg';

export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** A state as a word in its colour: readable without the colour. */
export function badge(state, word = words(state)) {
  return h('span', { class: `state s-${state}` }, word);
}

/** open -> "open", out_of_rotation -> "out of rotation", OutOfRotation -> "out of rotation". */
export function words(state) {
  return String(state).replace(/_/g, ' ').replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}

export function table(headers, rows) {
  return h('div', { class: 'scroll' }, h('table', {}, h('thead', {}, h('tr', {}, headers.map((t) => h('th', { scope: 'col' }, t)))), h('tbody', {}, rows)));
}

/** "12 s ago", "3 min ago", from two ISO times (the controller's clock: simulated in the demo). */
export function ago(iso, nowMs) {
  if (!iso) return 'never';
  const secs = Math.max(0, Math.round((nowMs - Date.parse(iso)) / 1000));
  if (secs < 90) return `${secs} s ago`;
  if (secs < 5400) return `${Math.round(secs / 60)} min ago`;
  return `${Math.round(secs / 3600)} h ago`;
}

/** An ISO time as UTC, to the second: "2026-01-01 12:00:00 UTC". */
export function utc(iso) {
  return iso ? `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC` : '';
}

export function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}

const HANDLERS = ['onclick', 'onsubmit', 'onchange', 'oninput'];

/**
 * Makes `from` look like `to`, keeping every element that is still there (same tag at the same
 * place): a button under the pointer, the focus, a collapsed <details> survive a live update,
 * where replacing the nodes would lose a click between its press and release.
 */
export function morph(from, to) {
  if (from.nodeType !== to.nodeType || from.nodeName !== to.nodeName) return from.replaceWith(to);
  if (from.nodeType !== Node.ELEMENT_NODE) {
    if (from.nodeValue !== to.nodeValue) from.nodeValue = to.nodeValue;
    return;
  }
  for (const { name } of [...from.attributes]) if (name !== 'style' && !(name === 'open' && from.nodeName === 'DETAILS') && !to.hasAttribute(name)) from.removeAttribute(name);
  for (const { name, value } of to.attributes) if (name !== 'style' && !(name === 'open' && from.nodeName === 'DETAILS') && from.getAttribute(name) !== value) from.setAttribute(name, value);
  // Through the CSSOM, as h() set it: the Content-Security-Policy refuses style attributes.
  if (from.style && from.style.cssText !== to.style.cssText) from.style.cssText = to.style.cssText;
  for (const k of HANDLERS) if (from[k] !== to[k]) from[k] = to[k];
  morphChildren(from, [...to.childNodes]);
}

/** morph() over a parent's children, by position. */
export function morphChildren(parent, next) {
  const now = [...parent.childNodes];
  next.forEach((n, i) => (now[i] ? morph(now[i], n) : parent.append(n)));
  for (const extra of now.slice(next.length)) extra.remove();
}
