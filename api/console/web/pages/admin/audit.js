// The audit log viewer (R-10.3, R-16.3, R-5.3): GET /api/v1/audit with
// filters (actor, agency, action, object, days in Asia/Ho_Chi_Minh), paged
// by sequence number, newest first by default. Each entry shows when, who
// (user, agency, client address, purpose and requester when given), what
// and on what, the before/after values as key and value, and its place in
// the hash chain. The API has no verify call: the page checks the links
// it can see (each entry's prev_hash is the hash of the entry just before
// it) and points to `matthan audit verify` for the whole chain.

import * as api from '../../lib/api.js';
import { h, replace } from '../../lib/dom.js';
import { addMessages, t, has, fmtDateTime, fmtNumber, localDay, fromLocal } from '../../lib/i18n.js';
import { setQuery } from '../../lib/router.js';
import { badge, button, errorBox, field, loading, select, table } from '../../lib/ui.js';
import { clean, input, isICTAdmin, lookups, sectionHead } from './common.js';

addMessages({
  vi: {
    'admin.audit.title': 'Nhật ký kiểm toán',
    'admin.audit.filters': 'Điều kiện tra cứu',
    'admin.audit.user': 'Người thực hiện (mã người dùng)',
    'admin.audit.userHint': 'Chọn trong danh sách hoặc bấm vào tên người thực hiện trong bảng.',
    'admin.audit.agency': 'Cơ quan, đơn vị',
    'admin.audit.anyAgency': 'Mọi cơ quan, đơn vị',
    'admin.audit.action': 'Hành động',
    'admin.audit.actionHint': 'Ví dụ camera.update; thêm “*” để lấy theo tiền tố: camera.*',
    'admin.audit.object': 'Đối tượng',
    'admin.audit.objectHint': 'Dạng loại:mã, ví dụ camera:traffic-road',
    'admin.audit.from': 'Từ ngày',
    'admin.audit.to': 'Đến hết ngày',
    'admin.audit.limit': 'Số mục mỗi trang',
    'admin.audit.order': 'Thứ tự',
    'admin.audit.order.desc': 'Mới nhất trước',
    'admin.audit.order.asc': 'Cũ nhất trước',
    'admin.audit.search': 'Tra cứu',
    'admin.audit.reset': 'Xoá điều kiện',
    'admin.audit.time': 'Thời điểm',
    'admin.audit.actor': 'Người thực hiện',
    'admin.audit.system': 'Hệ thống',
    'admin.audit.purpose': 'Mục đích',
    'admin.audit.requester': 'Người, cơ quan yêu cầu',
    'admin.audit.details': 'Chi tiết',
    'admin.audit.showDetails': 'Xem chi tiết',
    'admin.audit.noDetails': 'Không có',
    'admin.audit.fieldCount': '{n} trường',
    'admin.audit.changedCount': '{n} thay đổi',
    'admin.audit.field': 'Trường',
    'admin.audit.before': 'Trước',
    'admin.audit.after': 'Sau',
    'admin.audit.chain': 'Chuỗi băm',
    'admin.audit.seq': 'Mục số {seq}',
    'admin.audit.hash': 'Mã băm',
    'admin.audit.prevHash': 'Mã băm mục trước',
    'admin.audit.linkOk': 'Liên kết khớp',
    'admin.audit.linkBad': 'Liên kết không khớp',
    'admin.audit.chainOk': 'Đã đối chiếu {n} liên kết giữa các mục liên tiếp trên trang này: tất cả đều khớp.',
    'admin.audit.chainBad': 'Phát hiện {n} liên kết chuỗi băm không khớp trên trang này (mục số {seqs}): nhật ký có thể đã bị sửa đổi. Hãy báo ngay cho Sở TT&TT và chạy “matthan audit verify”.',
    'admin.audit.chainNone': 'Các mục trên trang này không liên tiếp nhau (do điều kiện lọc) nên không đối chiếu được liên kết chuỗi băm.',
    'admin.audit.chainFull': 'Kiểm tra toàn bộ chuỗi trên máy chủ bằng lệnh “matthan audit verify”.',
    'admin.audit.prev': 'Trang trước',
    'admin.audit.next': 'Trang sau',
    'admin.audit.page': 'Trang {page} · {n} mục',
    'admin.audit.empty': 'Không có mục nào phù hợp.',
    'admin.audit.filterBy': 'Lọc theo {what}',
    'admin.audit.badRange': 'Ngày bắt đầu phải trước hoặc bằng ngày kết thúc.',
    'admin.audit.action.auth.login': 'Đăng nhập',
    'admin.audit.action.auth.login_failed': 'Đăng nhập không thành công',
    'admin.audit.action.auth.logout': 'Đăng xuất',
    'admin.audit.action.auth.session_expired': 'Hết phiên làm việc',
    'admin.audit.action.agency.create': 'Thêm cơ quan, đơn vị',
    'admin.audit.action.agency.update': 'Sửa cơ quan, đơn vị',
    'admin.audit.action.system.create': 'Thêm hệ thống camera',
    'admin.audit.action.system.update': 'Sửa hệ thống camera',
    'admin.audit.action.camera.create': 'Đăng ký camera',
    'admin.audit.action.camera.update': 'Sửa thông tin camera',
    'admin.audit.action.camera.set_secret': 'Cấu hình luồng camera',
    'admin.audit.action.camera.first_connected': 'Camera kết nối lần đầu',
    'admin.audit.action.camera.live_view': 'Xem trực tiếp',
    'admin.audit.action.camera.scene': 'Sửa cấu hình phân tích',
    'admin.audit.action.user.create': 'Tạo tài khoản',
    'admin.audit.action.user.update': 'Sửa tài khoản',
    'admin.audit.action.user.set_password': 'Đặt mật khẩu',
    'admin.audit.action.user.unlock': 'Mở khoá tài khoản',
    'admin.audit.action.grant.create': 'Cấp quyền',
    'admin.audit.action.grant.revoke': 'Thu hồi quyền',
    'admin.audit.action.incident.open': 'Mở sự cố',
    'admin.audit.action.incident.close': 'Đóng sự cố',
    'admin.audit.action.evidence.export': 'Trích xuất chứng cứ',
    'admin.audit.action.evidence.download': 'Tải gói chứng cứ',
    'admin.audit.action.recording.hold': 'Phong toả bản ghi',
    'admin.audit.action.recording.release': 'Giải toả bản ghi',
    'admin.audit.action.report.accounts': 'Xem báo cáo rà soát tài khoản',
    'admin.audit.action.report.compliance': 'Xem báo cáo tuân thủ',
    'admin.audit.action.event.disposition': 'Xử lý sự kiện',
  },
  en: {
    'admin.audit.title': 'Audit log',
    'admin.audit.filters': 'Search',
    'admin.audit.user': 'Actor (user ID)',
    'admin.audit.userHint': "Pick from the list or click an actor's name in the table.",
    'admin.audit.agency': 'Agency',
    'admin.audit.anyAgency': 'Any agency',
    'admin.audit.action': 'Action',
    'admin.audit.actionHint': 'E.g. camera.update; end with “*” for a prefix: camera.*',
    'admin.audit.object': 'Object',
    'admin.audit.objectHint': 'As kind:id, e.g. camera:traffic-road',
    'admin.audit.from': 'From day',
    'admin.audit.to': 'To the end of day',
    'admin.audit.limit': 'Entries per page',
    'admin.audit.order': 'Order',
    'admin.audit.order.desc': 'Newest first',
    'admin.audit.order.asc': 'Oldest first',
    'admin.audit.search': 'Search',
    'admin.audit.reset': 'Clear',
    'admin.audit.time': 'Time',
    'admin.audit.actor': 'Actor',
    'admin.audit.system': 'System',
    'admin.audit.purpose': 'Purpose',
    'admin.audit.requester': 'Requester',
    'admin.audit.details': 'Details',
    'admin.audit.showDetails': 'Show details',
    'admin.audit.noDetails': 'None',
    'admin.audit.fieldCount': '{n} fields',
    'admin.audit.changedCount': '{n} changed',
    'admin.audit.field': 'Field',
    'admin.audit.before': 'Before',
    'admin.audit.after': 'After',
    'admin.audit.chain': 'Hash chain',
    'admin.audit.seq': 'Entry {seq}',
    'admin.audit.hash': 'Hash',
    'admin.audit.prevHash': 'Previous hash',
    'admin.audit.linkOk': 'Link matches',
    'admin.audit.linkBad': 'Link broken',
    'admin.audit.chainOk': 'Hash-chain links checked between consecutive entries on this page: {n}, all matching.',
    'admin.audit.chainBad': 'Found {n} broken hash-chain links on this page (entries {seqs}): the log may have been altered. Tell the ICT department at once and run “matthan audit verify”.',
    'admin.audit.chainNone': 'The entries on this page are not consecutive (filtered), so no hash-chain link can be checked.',
    'admin.audit.chainFull': 'Check the whole chain on the server with “matthan audit verify”.',
    'admin.audit.prev': 'Previous page',
    'admin.audit.next': 'Next page',
    'admin.audit.page': 'Page {page} · {n} entries',
    'admin.audit.empty': 'No matching entries.',
    'admin.audit.filterBy': 'Filter by {what}',
    'admin.audit.badRange': 'The first day must not be after the last.',
    'admin.audit.action.auth.login': 'Sign-in',
    'admin.audit.action.auth.login_failed': 'Failed sign-in',
    'admin.audit.action.auth.logout': 'Sign-out',
    'admin.audit.action.auth.session_expired': 'Session expired',
    'admin.audit.action.agency.create': 'Agency added',
    'admin.audit.action.agency.update': 'Agency changed',
    'admin.audit.action.system.create': 'System added',
    'admin.audit.action.system.update': 'System changed',
    'admin.audit.action.camera.create': 'Camera registered',
    'admin.audit.action.camera.update': 'Camera changed',
    'admin.audit.action.camera.set_secret': 'Camera stream set',
    'admin.audit.action.camera.first_connected': 'Camera first connected',
    'admin.audit.action.camera.live_view': 'Live view',
    'admin.audit.action.camera.scene': 'Scene changed',
    'admin.audit.action.user.create': 'Account created',
    'admin.audit.action.user.update': 'Account changed',
    'admin.audit.action.user.set_password': 'Password set',
    'admin.audit.action.user.unlock': 'Account unlocked',
    'admin.audit.action.grant.create': 'Access granted',
    'admin.audit.action.grant.revoke': 'Grant revoked',
    'admin.audit.action.incident.open': 'Incident opened',
    'admin.audit.action.incident.close': 'Incident closed',
    'admin.audit.action.evidence.export': 'Evidence exported',
    'admin.audit.action.evidence.download': 'Evidence downloaded',
    'admin.audit.action.recording.hold': 'Legal hold placed',
    'admin.audit.action.recording.release': 'Legal hold released',
    'admin.audit.action.report.accounts': 'Account review read',
    'admin.audit.action.report.compliance': 'Compliance report read',
    'admin.audit.action.event.disposition': 'Event reviewed',
  },
});

const ACTIONS = ['auth.*', 'auth.login', 'auth.login_failed', 'auth.logout', 'agency.*', 'system.*', 'camera.*', 'camera.update',
  'camera.set_secret', 'user.*', 'grant.*', 'incident.*', 'evidence.*', 'evidence.export', 'recording.*', 'report.*'];
const LIMITS = [50, 100, 200, 500, 1000];
const DAY = 24 * 60 * 60 * 1000;
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/;

const actionLabel = (a) => (has(`admin.audit.action.${a}`) ? t(`admin.audit.action.${a}`) : '');

// filterKeys are the filters the URL keeps.
const filterKeys = ['user', 'agency', 'action', 'object', 'from', 'to', 'limit', 'order'];

export async function render(panel, query) {
  const f = Object.fromEntries(filterKeys.map((k) => [k, query[k] || '']));
  if (!LIMITS.includes(Number(f.limit))) f.limit = '100';
  if (f.order !== 'asc') f.order = 'desc';
  // cursors[i] is the sequence bound of page i+1 (page 1 has none).
  let cursors = [];

  replace(panel, loading());
  let look;
  let users = [];
  try {
    look = await lookups('agencies');
    // Only administrators may list accounts (auditors pick actors from the
    // table instead).
    if (isICTAdmin()) users = await api.get('/users').then((r) => r.users || []).catch(() => []);
  } catch (err) {
    replace(panel, sectionHead(t('admin.audit.title')), errorBox(err));
    return null;
  }
  const userName = new Map(users.map((u) => [u.id, u.username]));

  // The filter form.
  const userIn = input({ name: 'user', value: f.user, list: 'admin-audit-users', spellcheck: 'false' });
  const usersList = h('datalist', { id: 'admin-audit-users' }, users.map((u) => h('option', { value: u.id }, `${u.username}${u.display_name ? ` — ${u.display_name}` : ''}`)));
  const agencyIn = look.agencies.length > 1
    ? select([['', t('admin.audit.anyAgency')], ...look.agencies.map((a) => [a.id, a.name])], f.agency, { name: 'agency' })
    : input({ name: 'agency', value: f.agency, list: 'admin-audit-agencies', spellcheck: 'false' });
  const agencyList = h('datalist', { id: 'admin-audit-agencies' }, look.agencies.map((a) => h('option', { value: a.id }, a.name)));
  const actionIn = input({ name: 'action', value: f.action, list: 'admin-audit-actions', spellcheck: 'false' });
  const actionList = h('datalist', { id: 'admin-audit-actions' }, ACTIONS.map((a) => h('option', { value: a }, actionLabel(a) || a)));
  const objectIn = input({ name: 'object', value: f.object, spellcheck: 'false' });
  const fromIn = input({ name: 'from', type: 'date', value: f.from, max: localDay(new Date()) });
  const toIn = input({ name: 'to', type: 'date', value: f.to, max: localDay(new Date()) });
  const limitIn = select(LIMITS.map((n) => [n, fmtNumber(n)]), f.limit, { name: 'limit' });
  const orderIn = select([['desc', t('admin.audit.order.desc')], ['asc', t('admin.audit.order.asc')]], f.order, { name: 'order' });
  const formError = h('div');
  const form = h('form', { class: 'card audit-filters', role: 'search', 'aria-label': t('admin.audit.filters'), onsubmit: (e) => {
    e.preventDefault();
    readForm();
    cursors = [];
    load();
  } },
  h('div', { class: 'filter-grid' },
    field(t('admin.audit.user'), userIn, t('admin.audit.userHint')),
    field(t('admin.audit.agency'), agencyIn),
    field(t('admin.audit.action'), actionIn, t('admin.audit.actionHint')),
    field(t('admin.audit.object'), objectIn, t('admin.audit.objectHint')),
    field(t('admin.audit.from'), fromIn),
    field(t('admin.audit.to'), toIn),
    field(t('admin.audit.limit'), limitIn),
    field(t('admin.audit.order'), orderIn)),
  usersList, agencyList, actionList,
  h('div', { class: 'row' },
    h('button', { type: 'submit', class: 'btn primary', 'data-testid': 'admin-audit-search' }, t('admin.audit.search')),
    button(t('admin.audit.reset'), () => {
      for (const el of [userIn, agencyIn, actionIn, objectIn, fromIn, toIn]) el.value = '';
      limitIn.value = '100';
      orderIn.value = 'desc';
      readForm();
      cursors = [];
      load();
    }, 'ghost')),
  formError);

  const summary = h('div', { class: 'audit-summary' });
  const results = h('div', { class: 'audit-results' });
  const pager = h('nav', { class: 'row pager', 'aria-label': t('admin.audit.title') });
  replace(panel, sectionHead(t('admin.audit.title')), form, summary, results, pager);

  function readForm() {
    Object.assign(f, {
      user: clean(userIn.value), agency: clean(agencyIn.value), action: clean(actionIn.value), object: clean(objectIn.value),
      from: fromIn.value, to: toIn.value, limit: limitIn.value, order: orderIn.value,
    });
    setQuery(f);
  }

  // setFilter narrows the query to one actor or object from a row.
  function setFilter(key, value) {
    ({ user: userIn, object: objectIn, action: actionIn })[key].value = value;
    readForm();
    cursors = [];
    load();
  }

  async function load() {
    replace(formError);
    if (f.from && f.to && f.from > f.to) {
      replace(formError, errorBox({ status: 400, message: t('admin.audit.badRange') }));
      return;
    }
    replace(results, loading());
    replace(summary);
    replace(pager);
    const cursor = cursors[cursors.length - 1];
    const params = {
      user: f.user, agency: f.agency, action: f.action, object: f.object, limit: f.limit, order: f.order,
      from: f.from ? fromLocal(f.from) : '',
      to: f.to ? new Date(fromLocal(f.to).getTime() + DAY) : '',
      [f.order === 'desc' ? 'before' : 'after']: cursor || '',
    };
    let res;
    try {
      res = await api.get('/audit', params);
    } catch (err) {
      replace(results, errorBox(err));
      return;
    }
    const entries = res.entries || [];
    for (const e of entries) if (e.actor?.user_id && e.actor.username) userName.set(e.actor.user_id, e.actor.username);
    const broken = chainCheck(entries);
    replace(summary, chainSummary(entries, broken));
    replace(results, table([
      { label: t('admin.audit.time'), render: (e) => h('span', { class: 'nowrap' }, fmtDateTime(e.time)) },
      { label: t('admin.audit.actor'), render: actor },
      { label: t('admin.audit.action'), render: (e) => h('div', {}, actionLabel(e.action) ? h('div', {}, actionLabel(e.action)) : null,
        h('button', { type: 'button', class: 'link mono small', title: t('admin.audit.filterBy', { what: e.action }),
          onclick: () => setFilter('action', e.action) }, e.action)) },
      { label: t('admin.audit.object'), render: (e) => (e.object
        ? h('div', {}, h('button', { type: 'button', class: 'link mono small', title: t('admin.audit.filterBy', { what: e.object }),
          onclick: () => setFilter('object', e.object) }, e.object), objectName(e.object))
        : h('span', { class: 'muted' }, '—')) },
      { label: t('admin.audit.details'), class: 'wide', render: details },
      { label: t('admin.audit.chain'), render: (e) => chainCell(e, broken) },
    ], entries, { caption: t('admin.audit.title'), empty: t('admin.audit.empty') }));
    const page = cursors.length + 1;
    const full = entries.length >= Number(f.limit) && res.next;
    replace(pager,
      button(t('admin.audit.prev'), () => {
        cursors.pop();
        load().then(() => pager.querySelector('button')?.focus());
      }, '', { disabled: page === 1, 'data-testid': 'admin-audit-prev' }),
      h('span', { class: 'muted' }, t('admin.audit.page', { page: fmtNumber(page), n: fmtNumber(entries.length) })),
      button(t('admin.audit.next'), () => {
        cursors.push(res.next);
        load().then(() => pager.querySelectorAll('button')[1]?.focus());
      }, '', { disabled: !full, 'data-testid': 'admin-audit-next' }));
  }

  // objectName names a user or an agency object when known.
  function objectName(object) {
    const i = object.indexOf(':');
    const kind = object.slice(0, i);
    const id = object.slice(i + 1);
    const name = kind === 'user' ? userName.get(id) : kind === 'agency' ? look.agency.get(id)?.name : '';
    return name ? h('div', { class: 'small' }, name) : null;
  }

  function actor(e) {
    const a = e.actor || {};
    const name = a.username || (a.user_id ? userName.get(a.user_id) || a.user_id : '');
    return h('div', { class: 'actor' },
      name && a.user_id
        ? h('button', { type: 'button', class: 'link', title: t('admin.audit.filterBy', { what: name }), onclick: () => setFilter('user', a.user_id) }, name)
        : h('span', {}, name || t('admin.audit.system')),
      a.agency_id ? h('div', { class: 'small' }, look.agency.get(a.agency_id)?.name || a.agency_id) : null,
      a.address ? h('div', { class: 'muted small mono' }, a.address) : null,
      a.purpose ? h('div', { class: 'small' }, `${t('admin.audit.purpose')}: `, has(`purpose.${a.purpose}`) ? t(`purpose.${a.purpose}`) : a.purpose) : null,
      a.requester ? h('div', { class: 'small' }, `${t('admin.audit.requester')}: ${a.requester}`) : null);
  }

  await load();
  return null;
}

// details shows an entry's before and after as key and value, changed
// values marked.
function details(e) {
  const before = e.before;
  const after = e.after;
  if (before === undefined && after === undefined) return h('span', { class: 'muted' }, t('admin.audit.noDetails'));
  const isObj = (v) => v && typeof v === 'object' && !Array.isArray(v);
  let rows;
  if ((before === undefined || isObj(before)) && (after === undefined || isObj(after))) {
    const keys = [...new Set([...Object.keys(before || {}), ...Object.keys(after || {})])];
    rows = keys.map((k) => ({ k, b: before ? before[k] : undefined, a: after ? after[k] : undefined }));
  } else {
    rows = [{ k: '', b: before, a: after }];
  }
  const both = before !== undefined && after !== undefined;
  const changed = (r) => both && JSON.stringify(r.b) !== JSON.stringify(r.a);
  const n = rows.filter(changed).length;
  return h('details', { class: 'audit-details' },
    h('summary', {}, t('admin.audit.showDetails'), ' (', t('admin.audit.fieldCount', { n: rows.length }),
      both && n ? `, ${t('admin.audit.changedCount', { n })}` : '', ')'),
    h('table', { class: 'kv' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('admin.audit.field')),
        before !== undefined ? h('th', { scope: 'col' }, t('admin.audit.before')) : null,
        after !== undefined ? h('th', { scope: 'col' }, t('admin.audit.after')) : null)),
      h('tbody', {}, rows.map((r) => h('tr', { class: changed(r) ? 'changed' : null },
        h('th', { scope: 'row', class: 'mono' }, r.k),
        before !== undefined ? h('td', {}, value(r.b)) : null,
        after !== undefined ? h('td', {}, value(r.a)) : null)))));
}

// value shows one detail value: times in the province's zone, lists joined.
function value(v) {
  if (v === undefined || v === null || v === '') return h('span', { class: 'muted' }, '—');
  if (typeof v === 'string' && ISO_TIME.test(v)) return h('span', { title: v }, fmtDateTime(v));
  if (typeof v === 'boolean') return t(v ? 'common.yes' : 'common.no');
  if (Array.isArray(v) && v.every((x) => typeof x !== 'object')) return v.join(', ');
  if (typeof v === 'object') return h('code', { class: 'json' }, JSON.stringify(v));
  return String(v);
}

// chainCheck compares each entry's prev_hash with the hash of the entry
// numbered just before it, when both are on the page; it returns the
// checked and the broken sequence numbers.
function chainCheck(entries) {
  const bySeq = new Map(entries.map((e) => [e.seq, e]));
  const checked = new Set();
  const broken = new Set();
  for (const e of entries) {
    const prev = bySeq.get(e.seq - 1);
    if (!prev) continue;
    checked.add(e.seq);
    if (e.prev_hash !== prev.hash) broken.add(e.seq);
  }
  return { checked, broken };
}

function chainSummary(entries, { checked, broken }) {
  if (!entries.length) return null;
  let main;
  if (broken.size) {
    main = h('p', { class: 'notice bad', role: 'alert' }, t('admin.audit.chainBad', { n: broken.size, seqs: [...broken].join(', ') }));
  } else if (checked.size) {
    main = h('p', { class: 'notice ok' }, t('admin.audit.chainOk', { n: fmtNumber(checked.size) }));
  } else {
    main = h('p', { class: 'notice' }, t('admin.audit.chainNone'));
  }
  return h('div', { class: 'chain-summary', 'data-testid': 'admin-audit-chain' }, main, h('p', { class: 'muted small' }, t('admin.audit.chainFull')));
}

function chainCell(e, { checked, broken }) {
  return h('div', { class: 'chain' },
    h('div', {}, t('admin.audit.seq', { seq: e.seq })),
    h('div', { class: 'mono small', title: `${t('admin.audit.hash')}: ${e.hash}\n${t('admin.audit.prevHash')}: ${e.prev_hash}` }, `${(e.hash || '').slice(0, 12)}…`),
    broken.has(e.seq) ? badge(t('admin.audit.linkBad'), 'bad') : checked.has(e.seq) ? badge(t('admin.audit.linkOk'), 'ok') : null);
}
