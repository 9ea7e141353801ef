// Navigation inside the console (history API, paths under /console).

import { h } from './dom.js';

export const BASE = '/console';
let renderer = () => {};

// setRenderer sets what draws the page after a navigation (app.js).
export function setRenderer(fn) {
  renderer = fn;
}

// navigate changes the page without reloading; path is relative to the
// console ('/events/ID') or absolute ('/console/events/ID').
export function navigate(path, { replace = false } = {}) {
  const full = path.startsWith(BASE) ? path : BASE + path;
  if (replace) history.replaceState(null, '', full);
  else history.pushState(null, '', full);
  renderer();
}

// setQuery rewrites the query string without drawing the page again (for
// filters that a page applies itself, so that the URL can be shared).
export function setQuery(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  history.replaceState(null, '', location.pathname + (s ? `?${s}` : ''));
}

// link is an <a> that navigates inside the console (a plain click) or
// opens a new tab (modifier keys), like any link.
export function link(path, ...children) {
  const href = path.startsWith(BASE) ? path : BASE + path;
  return h('a', { href, onclick: (e) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(href);
  } }, children);
}
