// Pieces shared by the administration sections: who may use which
// section, look-ups of agencies, systems and cameras by id, labelled
// check boxes, one-time password dialogs and small formatters. The server
// decides every call; what is hidden here is only what would be refused.

import * as api from '../../lib/api.js';
import { h } from '../../lib/dom.js';
import { addMessages, t, fmtDateTime } from '../../lib/i18n.js';
import { role, session } from '../../lib/session.js';
import { badge, button, dialog, field, notify } from '../../lib/ui.js';

addMessages({
  vi: {
    'admin.none': '—',
    'admin.actions': 'Thao tác',
    'admin.id': 'Mã',
    'admin.idHint': 'Chữ cái không dấu, chữ số, “-” hoặc “_”; tối đa 64 ký tự. Để trống để hệ thống tự sinh.',
    'admin.created': 'Ngày tạo',
    'admin.saved': 'Đã lưu thay đổi.',
    'admin.readOnly': 'Bạn chỉ có quyền xem mục này.',
    'admin.oneTime.warning': 'Mật khẩu chỉ hiển thị một lần này. Hãy ghi lại và trao trực tiếp cho người dùng qua kênh an toàn; người dùng phải đổi mật khẩu ở lần đăng nhập đầu tiên.',
    'admin.oneTime.password': 'Mật khẩu khởi tạo',
    'admin.oneTime.copy': 'Sao chép',
    'admin.oneTime.copied': 'Đã sao chép mật khẩu.',
    'admin.oneTime.copyFailed': 'Không sao chép được; hãy chọn và sao chép thủ công.',
    'admin.oneTime.done': 'Tôi đã ghi lại',
    'admin.confirm': 'Xác nhận',
    'admin.unknown': 'Không rõ ({id})',
  },
  en: {
    'admin.none': '—',
    'admin.actions': 'Actions',
    'admin.id': 'ID',
    'admin.idHint': 'Letters, digits, “-” or “_”; at most 64 characters. Leave empty to have one generated.',
    'admin.created': 'Created',
    'admin.saved': 'Changes saved.',
    'admin.readOnly': 'You may only view this section.',
    'admin.oneTime.warning': 'This password is shown only this once. Note it and hand it to the user over a safe channel; they must change it at their first sign-in.',
    'admin.oneTime.password': 'Initial password',
    'admin.oneTime.copy': 'Copy',
    'admin.oneTime.copied': 'Password copied.',
    'admin.oneTime.copyFailed': 'Could not copy; select and copy it by hand.',
    'admin.oneTime.done': 'I have noted it',
    'admin.confirm': 'Confirm',
    'admin.unknown': 'Unknown ({id})',
  },
});

// SECTIONS are the administration sections in tab order.
export const SECTIONS = ['agencies', 'systems', 'cameras', 'users', 'grants', 'incidents', 'audit', 'reports'];

// ACCESS is which roles may use each section, as the API decides
// (api/doc.go "Who may do what"): the ICT administrator everything; a
// system administrator its agency's systems (read), the cameras and
// accounts it administers, the grants to its agency (read), incidents and
// reports; an auditor the audit log and reports only.
const ACCESS = {
  agencies: ['ict_admin'],
  systems: ['ict_admin', 'system_admin'],
  cameras: ['ict_admin', 'system_admin'],
  users: ['ict_admin', 'system_admin'],
  grants: ['ict_admin', 'system_admin'],
  incidents: ['ict_admin', 'system_admin'],
  audit: ['ict_admin', 'auditor'],
  reports: ['ict_admin', 'system_admin', 'auditor'],
};

// sectionsFor lists the sections role r may use, in tab order.
export const sectionsFor = (r) => SECTIONS.filter((s) => ACCESS[s].includes(r));

export const isICTAdmin = () => role() === 'ict_admin';

// PURPOSES are the purposes of; FUNCTIONS those an agency can have
// as its function ("other" is never a function).
export const PURPOSES = ['security_order', 'traffic_safety', 'urban_order', 'rescue', 'forest_fire', 'sector_management', 'other'];
export const FUNCTIONS = PURPOSES.filter((p) => p !== 'other');
export const CAPABILITIES = ['live_view', 'playback', 'events', 'statistics', 'export'];
export const ROLES = ['ict_admin', 'system_admin', 'operator', 'viewer', 'auditor'];

// tierLabel shows a system tier (1, 2, 3) as "Cấp I".
export const tierLabel = (n) => (n >= 1 && n <= 3 ? t(`tier.${['I', 'II', 'III'][n - 1]}`) : String(n ?? '—'));

// purposeBadges shows a list of purposes as badges.
export function purposeBadges(list) {
  if (!list || !list.length) return h('span', { class: 'muted' }, t('admin.none'));
  return h('span', { class: 'badges' }, list.map((p) => badge(t(`purpose.${p}`), 'info')));
}

// yesNo shows a flag as "Có"/"Không" with a colour when set.
export function yesNo(v, kindYes = 'info', kindNo = 'muted') {
  return badge(t(v ? 'common.yes' : 'common.no'), v ? kindYes : kindNo);
}

// when shows a time, or a dash when zero or absent.
export const when = (v) => (v ? fmtDateTime(v) : t('admin.none'));

// sectionHead is a section's h2 with its actions.
export function sectionHead(title, ...actions) {
  return h('div', { class: 'admin-head' }, h('h2', {}, title), h('div', { class: 'actions' }, actions));
}

// rowActions groups a row's buttons.
export const rowActions = (...buttons) => h('div', { class: 'row-actions' }, buttons);

// smallButton is a compact row button with an accessible name naming the
// object (the visible text alone, "Sửa", is ambiguous in a table).
export function smallButton(text, what, onclick, kind = '') {
  return button(text, onclick, `${kind} small`.trim(), { 'aria-label': `${text}: ${what}` });
}

// checkField is one labelled check box (through field()).
export function checkField(label, checked, attrs = {}) {
  const input = h('input', { type: 'checkbox', checked, ...attrs });
  const el = field(label, input);
  el.classList.add('check');
  return { el, input };
}

// checkGroup is a fieldset of labelled check boxes: options [[value,
// text]], the values checked; values() returns the checked values in the
// options' order.
export function checkGroup(legend, options, checked = [], { required = false, hint } = {}) {
  const boxes = options.map(([v, text]) => ({ v, ...checkField(text, checked.includes(v), { value: v, name: legend }) }));
  const el = h('fieldset', { class: 'checks' }, h('legend', {}, legend, required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null),
    h('div', { class: 'checks-list' }, boxes.map((b) => b.el)), hint ? h('small', { class: 'hint' }, hint) : null);
  return { el, boxes, values: () => boxes.filter((b) => b.input.checked).map((b) => b.v) };
}

// input builds an <input> with attributes (a shorthand).
export const input = (attrs = {}) => h('input', { autocomplete: 'off', ...attrs });

// clean returns s trimmed.
export const clean = (v) => String(v ?? '').trim();

// Lookups are names of agencies, systems and cameras by id, from what the
// caller may list (a refused or failed list leaves that map empty: the
// tables then show ids).
export async function lookups(...what) {
  const out = { agencies: [], systems: [], cameras: [], agency: new Map(), system: new Map(), camera: new Map() };
  const load = {
    agencies: () => api.get('/agencies').then((r) => r.agencies || []),
    systems: () => api.get('/systems').then((r) => r.systems || []),
    cameras: () => api.get('/cameras').then((r) => r.cameras || []),
  };
  await Promise.all(what.map(async (k) => {
    try {
      out[k] = await load[k]();
    } catch (err) {
      if (err.status === 401) throw err;
      out[k] = [];
    }
  }));
  const own = session()?.agency;
  if (own && !out.agencies.some((a) => a.id === own.id)) out.agencies.push(own);
  for (const a of out.agencies) out.agency.set(a.id, a);
  for (const y of out.systems) out.system.set(y.id, y);
  for (const c of out.cameras) out.camera.set(c.id, c);
  return out;
}

// nameOf shows an object's name with its id as a tooltip; an unknown id is
// shown as it is.
export function nameOf(map, id) {
  if (!id) return h('span', { class: 'muted' }, t('admin.none'));
  const o = map.get(id);
  return o ? h('span', { title: id }, o.name || id) : h('span', { class: 'mono' }, id);
}

// nameText is nameOf as plain text (for options and labels).
export const nameText = (map, id) => (map.get(id)?.name || id || '');

// generatePassword makes a strong random password (16 characters from
// every class, R-17.4 rules: 12+ characters, 3+ classes) with the
// browser's cryptographic random numbers.
export function generatePassword() {
  const sets = ['ABCDEFGHJKLMNPQRSTUVWXYZ', 'abcdefghijkmnpqrstuvwxyz', '23456789', '!#%+=?@-_'];
  const all = sets.join('');
  const pick = (set) => {
    const b = new Uint32Array(1);
    crypto.getRandomValues(b);
    return set[b[0] % set.length];
  };
  const chars = sets.map(pick);
  while (chars.length < 16) chars.push(pick(all));
  for (let i = chars.length - 1; i > 0; i--) {
    const b = new Uint32Array(1);
    crypto.getRandomValues(b);
    const j = b[0] % (i + 1);
    [chars[i], chars[j]] = [chars[j], chars[i]];
  }
  return chars.join('');
}

// showOnce shows a generated password once, with a warning and a copy
// button; the dialog and the text are gone once it closes.
export async function showOnce(title, who, password) {
  const out = h('output', { class: 'secret-once mono', 'aria-label': t('admin.oneTime.password') }, password);
  const copy = button(t('admin.oneTime.copy'), async () => {
    try {
      await navigator.clipboard.writeText(password);
      notify(t('admin.oneTime.copied'));
    } catch {
      notify(t('admin.oneTime.copyFailed'), 'warn');
    }
  });
  await dialog({
    title,
    body: h('div', { class: 'dialog-body admin-dialog' },
      h('p', {}, who),
      h('p', { class: 'notice warn', role: 'note' }, t('admin.oneTime.warning')),
      h('div', { class: 'secret-row' }, h('span', { class: 'label' }, `${t('admin.oneTime.password')}:`), out, copy)),
    actions: [{ label: t('admin.oneTime.done'), kind: 'primary', value: 'ok' }],
  });
  out.textContent = '';
}

// confirm asks a yes/no question; resolves true on confirmation. kind
// 'danger' shows the confirming button in red.
export async function confirm(title, text, label, kind = 'danger') {
  const v = await dialog({
    title,
    body: h('div', { class: 'dialog-body admin-dialog' }, text),
    actions: [{ label: t('common.cancel'), kind: 'ghost', value: '' }, { label: label || t('admin.confirm'), kind, value: 'yes' }],
  });
  return v === 'yes';
}

// formDialog opens a form dialog with Cancel and Save; save(form) does the
// call (its error stays in the dialog); resolves with what save returned,
// or null when cancelled.
export async function formDialog(title, body, save, saveLabel) {
  let result = null;
  const v = await dialog({
    title,
    body: h('div', { class: 'dialog-body admin-dialog admin-form' }, body),
    actions: [{ label: t('common.cancel'), kind: 'ghost', value: '' }, { label: saveLabel || t('common.save'), kind: 'primary', value: 'ok' }],
    submit: async (form) => {
      result = await save(form);
      return 'ok';
    },
  });
  return v === 'ok' ? result : null;
}

// clientError is an error raised in a form before calling the server,
// shown like a server's 400.
export function clientError(message) {
  return new api.ApiError(400, message);
}
