// Violation review (/console/violations), for the traffic police: the list
// of violations (filters: camera, violation type, review state, days in
// Asia/Ho_Chi_Minh) beside the selected one's detail (snapshot, clip,
// confirm or reject with a reason, export as evidence). The arrow keys move
// through the list; the detail follows the selection. Older violations
// load page by page (the API's `before`).

import * as api from '../lib/api.js';
import { h, replace } from '../lib/dom.js';
import { addMessages, t, fmtDateTime, fmtNumber, localDay, fromLocal } from '../lib/i18n.js';
import { setQuery } from '../lib/router.js';
import { button, errorBox, field, loading, pageHeader, select } from '../lib/ui.js';
import { className, decisionOf, dispositionBadge, eventView, matchesTypes, typeBadge, typeName } from '../lib/event-view.js';

addMessages({
  vi: {
    'violations.title': 'Vi phạm giao thông',
    'violations.camera': 'Camera',
    'violations.allCameras': 'Tất cả camera',
    'violations.type': 'Loại vi phạm',
    'violations.allTypes': 'Tất cả loại vi phạm',
    'violations.state': 'Trạng thái xem xét',
    'violations.state.all': 'Tất cả trạng thái',
    'violations.state.pending': 'Chờ xem xét',
    'violations.state.confirmed': 'Đã xác nhận',
    'violations.state.rejected': 'Đã bác bỏ',
    'violations.from': 'Từ ngày',
    'violations.to': 'Đến ngày',
    'violations.clear': 'Xoá bộ lọc',
    'violations.badRange': '«Từ ngày» phải trước hoặc bằng «Đến ngày».',
    'violations.list': 'Danh sách vi phạm',
    'violations.caption': 'Mới nhất ở trên cùng. Dùng phím mũi tên lên, xuống để chuyển giữa các vi phạm.',
    'violations.class': 'Phương tiện',
    'violations.picture': 'Ảnh',
    'violations.review': 'Xem xét',
    'violations.thumbAlt': 'Ảnh vi phạm {type}, {time}',
    'violations.noThumb': 'Không có ảnh',
    'violations.more': 'Xem thêm vi phạm cũ hơn',
    'violations.end': 'Đã hiện hết các vi phạm phù hợp.',
    'violations.count': 'Đang hiện {n} vi phạm.',
    'violations.none': 'Không có vi phạm nào phù hợp bộ lọc.',
    'violations.detail': 'Chi tiết vi phạm',
    'violations.choose': 'Chọn một vi phạm trong danh sách để xem ảnh, đoạn phim và xem xét.',
  },
  en: {
    'violations.title': 'Traffic violations',
    'violations.camera': 'Camera',
    'violations.allCameras': 'All cameras',
    'violations.type': 'Violation type',
    'violations.allTypes': 'All violation types',
    'violations.state': 'Review state',
    'violations.state.all': 'Any state',
    'violations.state.pending': 'Pending review',
    'violations.state.confirmed': 'Confirmed',
    'violations.state.rejected': 'Rejected',
    'violations.from': 'From day',
    'violations.to': 'To day',
    'violations.clear': 'Clear filters',
    'violations.badRange': '“From day” must not come after “To day”.',
    'violations.list': 'Violations',
    'violations.caption': 'Newest first. The up and down arrow keys move through the violations.',
    'violations.class': 'Vehicle',
    'violations.picture': 'Picture',
    'violations.review': 'Review',
    'violations.thumbAlt': 'Picture of the {type} violation, {time}',
    'violations.noThumb': 'No picture',
    'violations.more': 'Load older violations',
    'violations.end': 'All matching violations are shown.',
    'violations.count': '{n} violations shown.',
    'violations.none': 'No violation matches the filters.',
    'violations.detail': 'Violation detail',
    'violations.choose': 'Choose a violation in the list to see its picture and clip and to review it.',
  },
});

const TYPES = ['violation.red_light', 'violation.wrong_way', 'violation.illegal_parking', 'violation.restricted_lane', 'violation.no_helmet'];
const STATES = ['pending', 'confirmed', 'rejected'];
const PAGE = 50; // violations asked for per page
const MIN_ROWS = 15; // a page that shows fewer (review-state filter) loads the next one...
const MAX_AUTO = 4; // ...at most this many times in a row
const SELECT_DELAY = 200; // ms: arrow keys held down do not load every detail on the way
const DAY_MS = 24 * 3600 * 1000;
const enc = encodeURIComponent;

export async function render(main, params, query) {
  const filters = {
    camera: query.camera || '',
    type: TYPES.includes(query.type) ? query.type : '',
    state: STATES.includes(query.state) ? query.state : '',
    from: /^\d{4}-\d{2}-\d{2}$/.test(query.from || '') ? query.from : '',
    to: /^\d{4}-\d{2}-\d{2}$/.test(query.to || '') ? query.to : '',
  };
  let selectedId = query.id || '';
  let cameras = [];
  try {
    cameras = (await api.get('/cameras')).cameras || [];
  } catch {
    /* names stay unknown: ids are shown */
  }
  const camerasById = new Map(cameras.map((c) => [c.id, c]));
  const cameraName = (id) => camerasById.get(id)?.name || id;

  // State of the list.
  let shown = []; // events in the list, newest first
  const rows = new Map(); // id → {tr, badgeCell, button}
  const dispositions = {};
  let cursor = null; // `before` of the next page; null: no more
  let generation = 0; // bumps on each filter change
  let selectTimer = null;
  let selectGen = 0;

  // Filters.
  const cameraSel = select([['', t('violations.allCameras')], ...cameras.map((c) => [c.id, c.name || c.id])], filters.camera, { name: 'camera' });
  const typeSel = select([['', t('violations.allTypes')], ...TYPES.map((ty) => [ty, typeName(ty)])], filters.type, { name: 'type' });
  const stateSel = select([['', t('violations.state.all')], ...STATES.map((st) => [st, t(`violations.state.${st}`)])], filters.state, { name: 'state' });
  const today = localDay(new Date());
  const fromIn = h('input', { type: 'date', name: 'from', value: filters.from, max: today });
  const toIn = h('input', { type: 'date', name: 'to', value: filters.to, max: today });
  for (const el of [cameraSel, typeSel, stateSel, fromIn, toIn]) el.addEventListener('change', applyFilters);

  const status = h('p', { class: 'muted ev-status', role: 'status' });
  const errorSlot = h('div');
  const tbody = h('tbody', { onkeydown: onListKey });
  const table = h('div', { class: 'table-wrap' }, h('table', { class: 'data ev-violations' },
    h('caption', { class: 'ev-caption' }, t('violations.caption')),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, t('common.time')),
      h('th', { scope: 'col' }, t('common.type')),
      h('th', { scope: 'col' }, t('common.camera')),
      h('th', { scope: 'col' }, t('violations.class')),
      h('th', { scope: 'col' }, t('violations.picture')),
      h('th', { scope: 'col' }, t('violations.review')))),
    tbody));
  const moreBtn = button(t('violations.more'), () => loadMore(generation, 0));
  const more = h('div', { class: 'ev-more' }, moreBtn);
  const detailPane = h('section', { class: 'ev-detail-pane', 'aria-label': t('violations.detail') },
    h('p', { class: 'empty' }, t('violations.choose')));

  replace(main,
    pageHeader(t('violations.title'), button(t('common.refresh'), applyFilters, 'ghost')),
    h('form', { class: 'row ev-filters', role: 'search', 'aria-label': t('common.filter'), onsubmit: (e) => e.preventDefault() },
      field(t('violations.camera'), cameraSel),
      field(t('violations.type'), typeSel),
      field(t('violations.state'), stateSel),
      field(t('violations.from'), fromIn),
      field(t('violations.to'), toIn),
      button(t('violations.clear'), clearFilters, 'ghost')),
    h('div', { class: 'grid-2 ev-master-detail' },
      h('section', { class: 'ev-list-pane', 'aria-label': t('violations.list') }, errorSlot, status, table, more),
      detailPane));

  function clearFilters() {
    cameraSel.value = '';
    typeSel.value = '';
    stateSel.value = '';
    fromIn.value = '';
    toIn.value = '';
    applyFilters();
  }

  function writeQuery() {
    setQuery({ ...filters, id: selectedId });
  }

  function applyFilters() {
    Object.assign(filters, { camera: cameraSel.value, type: typeSel.value, state: stateSel.value, from: fromIn.value, to: toIn.value });
    writeQuery();
    generation++;
    shown = [];
    rows.clear();
    replace(tbody);
    replace(errorSlot);
    if (filters.from && filters.to && filters.from > filters.to) {
      replace(errorSlot, errorBox({ status: 400, message: t('violations.badRange') }));
      cursor = null;
      refreshStatus();
      return;
    }
    cursor = filters.to ? new Date(fromLocal(filters.to).getTime() + DAY_MS) : undefined;
    replace(status, t('common.loading'));
    more.hidden = true;
    loadMore(generation, 0);
  }

  function refreshStatus() {
    replace(status, shown.length ? t('violations.count', { n: fmtNumber(shown.length) }) : t('violations.none'));
    table.hidden = shown.length === 0;
    more.hidden = cursor === null;
    if (cursor === null && shown.length) status.append(' ', t('violations.end'));
  }

  // loadMore loads the page before cursor, and the next ones while the
  // review-state filter leaves few rows (auto counts those).
  async function loadMore(gen, auto) {
    if (cursor === null) return;
    moreBtn.disabled = true;
    const before = cursor;
    let res;
    try {
      res = await api.get('/events', {
        type: filters.type || 'violation.',
        camera: filters.camera,
        limit: PAGE,
        before,
        since: filters.from ? fromLocal(filters.from) : undefined,
      });
    } catch (err) {
      if (gen !== generation) return;
      moreBtn.disabled = false;
      replace(errorSlot, errorBox(err));
      refreshStatus();
      return;
    }
    if (gen !== generation) return;
    moreBtn.disabled = false;
    const page = res.events || [];
    Object.assign(dispositions, res.dispositions || {});
    const last = page.length ? page[page.length - 1].ts : null;
    // A full page may have more behind it; a cursor that does not move
    // (an engine without paging) ends the list.
    cursor = page.length === PAGE && last && (!before || new Date(last) < new Date(before)) ? last : null;
    let added = 0;
    for (const ev of page) {
      if (!matchesTypes(ev.type, filters.type || 'violation.')) continue;
      if (filters.camera && ev.camera_id !== filters.camera) continue;
      if (before && new Date(ev.ts) >= new Date(before)) continue;
      if (filters.from && new Date(ev.ts) < fromLocal(filters.from)) continue;
      if (filters.state && decisionOf(dispositions[ev.id]) !== filters.state) continue;
      if (rows.has(ev.id)) continue;
      shown.push(ev);
      tbody.append(row(ev));
      added++;
    }
    refreshStatus();
    if (cursor !== null && added < MIN_ROWS && auto < MAX_AUTO) {
      loadMore(gen, auto + 1);
      return;
    }
    markSelected(selectedId);
  }

  function row(ev) {
    const time = fmtDateTime(ev.ts);
    const btn = h('button', { type: 'button', class: 'link', onclick: (e) => { e.stopPropagation(); choose(ev.id, 0); } },
      h('time', { datetime: ev.ts }, time));
    // A violation's snapshot exists when its hash was recorded: others are
    // not asked for (no failed requests).
    const noThumb = () => h('span', { class: 'muted' }, t('violations.noThumb'));
    const thumbCell = h('td', { class: 'ev-thumb-cell' });
    if (ev.evidence?.snapshot_sha256) {
      const thumb = h('img', { src: api.url(`/events/${enc(ev.id)}/snapshot.jpg`), alt: t('violations.thumbAlt', { type: typeName(ev.type), time }),
        width: 112, height: 63, loading: 'lazy', decoding: 'async', class: 'ev-thumb' });
      thumb.addEventListener('error', () => replace(thumbCell, noThumb()));
      thumbCell.append(thumb);
    } else {
      thumbCell.append(noThumb());
    }
    const badgeCell = h('td', {}, dispositionBadge(dispositions[ev.id]));
    const tr = h('tr', { class: 'clickable', 'data-testid': 'violation-row', dataset: { id: ev.id } },
      h('td', { class: 'ev-time' }, btn),
      h('td', {}, typeBadge(ev.type)),
      h('td', {}, cameraName(ev.camera_id)),
      h('td', {}, ev.object?.class ? className(ev.object.class) : '—'),
      thumbCell,
      badgeCell);
    tr.addEventListener('click', () => {
      btn.focus();
      choose(ev.id, 0);
    });
    rows.set(ev.id, { tr, badgeCell, btn });
    return tr;
  }

  // onListKey moves through the list with the arrow keys, Home and End.
  function onListKey(e) {
    if (!['ArrowDown', 'ArrowUp', 'Home', 'End'].includes(e.key) || !e.target.closest('button')) return;
    const ids = shown.map((ev) => ev.id);
    const tr = e.target.closest('tr');
    const i = ids.indexOf(tr?.dataset.id);
    if (i < 0) return;
    const next = { ArrowDown: Math.min(i + 1, ids.length - 1), ArrowUp: Math.max(i - 1, 0), Home: 0, End: ids.length - 1 }[e.key];
    e.preventDefault();
    if (next === i) return;
    rows.get(ids[next]).btn.focus();
    choose(ids[next], SELECT_DELAY);
  }

  // markSelected marks the selected row. The list is one stop of the Tab
  // key (the selected row, else the first): the arrow keys move inside it,
  // and the next Tab goes on to the detail's actions.
  function markSelected(id) {
    const stop = rows.has(id) ? id : shown[0]?.id;
    for (const [rid, r] of rows) {
      const on = rid === id;
      r.tr.classList.toggle('selected', on);
      if (on) r.btn.setAttribute('aria-current', 'true');
      else r.btn.removeAttribute('aria-current');
      r.btn.tabIndex = rid === stop ? 0 : -1;
    }
  }

  // choose selects a violation and shows its detail after delay ms.
  function choose(id, delay) {
    selectedId = id;
    markSelected(id);
    writeQuery();
    clearTimeout(selectTimer);
    selectTimer = setTimeout(() => showDetail(id), delay);
  }

  async function showDetail(id) {
    const gen = ++selectGen;
    replace(detailPane, loading());
    let detail;
    try {
      detail = await api.get(`/events/${enc(id)}`);
    } catch (err) {
      if (gen !== selectGen) return;
      replace(detailPane, errorBox(err));
      return;
    }
    if (gen !== selectGen) return;
    if (detail.disposition) dispositions[id] = detail.disposition;
    updateBadge(id);
    replace(detailPane, eventView(detail, {
      camera: camerasById.get(detail.event.camera_id),
      onChanged: (d) => {
        dispositions[id] = d;
        updateBadge(id);
      },
    }));
  }

  function updateBadge(id) {
    const r = rows.get(id);
    if (r) replace(r.badgeCell, dispositionBadge(dispositions[id]));
  }

  applyFilters();
  // A violation named in the URL (a shared link) shows even when the
  // filters leave it out of the list.
  if (selectedId) showDetail(selectedId);
  return () => {
    generation++;
    selectGen++;
    clearTimeout(selectTimer);
  };
}
