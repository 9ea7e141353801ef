// Widgets shared by the pages: page headers, fields with labels, tables,
// dialogs, badges, error boxes and notices. Every control has a visible
// label or an aria-label, and every dialog takes the keyboard focus.

import { h, replace } from './dom.js';
import { t } from './i18n.js';

let fieldSeq = 0;

// pageHeader is the page's title (the h1 the layout focuses) and actions.
export function pageHeader(title, ...actions) {
  return h('header', { class: 'page-header' }, h('h1', { tabindex: '-1' }, title), h('div', { class: 'actions' }, actions));
}

// field wraps a control with its label (and an optional hint), linked by id.
export function field(label, control, hint) {
  const id = control.id || `f${++fieldSeq}`;
  control.id = id;
  const hintEl = hint ? h('small', { id: `${id}-hint`, class: 'hint' }, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hintEl);
}

// select builds a <select> from [[value, text], ...].
export function select(options, value, attrs = {}) {
  return h('select', attrs, options.map(([v, text]) => h('option', { value: v, selected: String(v) === String(value ?? '') }, text)));
}

// button builds a button; kind is '', 'primary', 'danger' or 'ghost'.
export function button(text, onclick, kind = '', attrs = {}) {
  return h('button', { type: 'button', class: `btn ${kind}`.trim(), onclick, ...attrs }, text);
}

// table builds a data table. columns: [{label, render(row) → node|text, class}].
// onOpen(row), when set, makes each row open on click and on Enter (the
// row's first cell holds a real button for keyboard and screen readers).
export function table(columns, rows, { caption, onOpen, empty } = {}) {
  if (!rows.length) return h('p', { class: 'empty' }, empty || t('common.empty'));
  return h('div', { class: 'table-wrap' },
    h('table', { class: 'data' },
      caption ? h('caption', {}, caption) : null,
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.class }, c.label)))),
      h('tbody', {}, rows.map((row) => {
        const tr = h('tr', { class: onOpen ? 'clickable' : null },
          columns.map((c, i) => {
            let content = c.render ? c.render(row) : row[c.key];
            if (i === 0 && onOpen) content = h('button', { type: 'button', class: 'link', onclick: (e) => { e.stopPropagation(); onOpen(row); } }, content);
            return h('td', { class: c.class }, content);
          }));
        if (onOpen) tr.addEventListener('click', () => onOpen(row));
        return tr;
      }))));
}

// badge is a short coloured label; kind picks the colour (ok, warn, bad, info, muted).
export const badge = (text, kind = 'muted') => h('span', { class: `badge ${kind}` }, text);

// stateBadge shows a camera's state (online, offline, degraded, frozen, ...).
export function stateBadge(state) {
  const kind = { online: 'ok', degraded: 'warn', frozen: 'bad', offline: 'bad', connecting: 'info' }[state] || 'muted';
  return badge(t(`camera.state.${state || 'unknown'}`), kind);
}

// errorBox explains a failed call: the server's message names what was wrong.
export function errorBox(err) {
  const status = err && err.status;
  let head = t('error.generic');
  if (status === 0) head = t('error.network');
  else if (status === 403) head = t('error.forbidden');
  else if (status === 404) head = t('error.notFound');
  else if (status === 400 || status === 409 || status === 422) head = t('error.invalid');
  return h('div', { class: 'error-box', role: 'alert' }, h('strong', {}, head), err && err.message ? h('p', {}, err.message) : null);
}

// refusalBox explains why an object cannot be opened: for 404 and 403
// (not found or not allowed, which the server does not tell apart to
// strangers) the page's own message, else the server's error.
export function refusalBox(err, message) {
  const refused = err && (err.status === 404 || err.status === 403);
  return errorBox(refused ? { status: err.status, message } : err);
}

// loading is the placeholder shown while a page asks the API.
export const loading = () => h('p', { class: 'loading', role: 'status' }, t('common.loading'));

// notify shows a short notice in the live region (read by screen readers).
export function notify(text, kind = 'ok') {
  let region = document.getElementById('notices');
  if (!region) {
    region = h('div', { id: 'notices', class: 'notices', 'aria-live': 'polite' });
    document.body.append(region);
  }
  const note = h('div', { class: `notice ${kind}`, role: kind === 'bad' ? 'alert' : 'status' }, text);
  region.append(note);
  setTimeout(() => note.remove(), 6000);
}

// dialog opens a modal dialog with a title, a body and buttons. actions:
// [{label, kind, value}] — the dialog closes with the clicked value; submit
// (when set) is called with the form before closing on the primary action
// and keeps the dialog open (showing the error) when it throws. It
// resolves with the value ('' when cancelled with Escape).
export function dialog({ title, body, actions = [], submit }) {
  return new Promise((resolve) => {
    const errorSlot = h('div');
    const form = h('form', { method: 'dialog', class: 'dialog-form' });
    const dlg = h('dialog', { class: 'dialog', 'aria-labelledby': 'dialog-title' },
      h('h2', { id: 'dialog-title' }, title), form);
    const buttons = actions.map((a) =>
      h('button', { type: a.kind === 'primary' ? 'submit' : 'button', class: `btn ${a.kind || ''}`.trim(), value: a.value,
        onclick: a.kind === 'primary' ? null : () => close(a.value) }, a.label));
    replace(form, body, errorSlot, h('div', { class: 'dialog-actions' }, buttons));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const primary = actions.find((a) => a.kind === 'primary');
      if (submit) {
        try {
          replace(errorSlot);
          const v = await submit(form);
          close(v === undefined ? primary.value : v);
        } catch (err) {
          replace(errorSlot, errorBox(err));
        }
        return;
      }
      close(primary ? primary.value : '');
    });
    dlg.addEventListener('cancel', () => close(''));
    function close(v) {
      dlg.close();
      dlg.remove();
      resolve(v);
    }
    document.body.append(dlg);
    dlg.showModal();
    const first = dlg.querySelector('input, select, textarea, button');
    if (first) first.focus();
  });
}

// tabs builds a tab list; items: [{id, label}], onChange(id).
export function tabs(items, selected, onChange) {
  const list = h('div', { role: 'tablist', class: 'tabs' });
  for (const it of items) {
    list.append(h('button', { type: 'button', role: 'tab', 'aria-selected': String(it.id === selected), class: 'tab',
      onclick: () => onChange(it.id) }, it.label));
  }
  return list;
}
