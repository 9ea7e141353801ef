// Smoke and fire alerts for forest rangers (/console/alerts): the alerts of
// the cameras the user may read events of, with their state (open, or
// acknowledged by whom), filters, a map of the cameras with open alerts
// marked, the selected alert's detail (snapshot with the rule, clip,
// acknowledge and export; lib/event-view.js), and new alerts arriving live
// (announced to screen readers and shown in a banner). Data: GET
// /api/v1/events?type=alert.smoke,alert.fire (with "dispositions"), GET
// /api/v1/events/{id}, the live stream /api/v1/events/stream.

import * as api from '../lib/api.js';
import { h, replace } from '../lib/dom.js';
import { eventView, typeBadge, typeName, dispositionBadge, matchesTypes } from '../lib/event-view.js';
import { addMessages, t, has, fmtDateTime, fmtTime, fmtNumber, localDay, fromLocal, locale } from '../lib/i18n.js';
import { cameraMap } from '../lib/map.js';
import { setQuery } from '../lib/router.js';
import { hasCap } from '../lib/session.js';
import { pageHeader, field, select, table, badge, button, errorBox, loading } from '../lib/ui.js';

addMessages({
  vi: {
    'alerts.title': 'Cảnh báo cháy, khói',
    'alerts.intro': 'Cảnh báo phát hiện khói, lửa từ camera giám sát rừng. Chọn một cảnh báo để xem ảnh chụp, đoạn phim và xác nhận đã xử lý.',
    'alerts.filters': 'Bộ lọc cảnh báo',
    'alerts.camera': 'Camera',
    'alerts.camera.all': 'Tất cả camera',
    'alerts.type': 'Loại cảnh báo',
    'alerts.type.all': 'Khói và lửa',
    'alerts.state': 'Trạng thái',
    'alerts.state.all': 'Tất cả',
    'alerts.state.open': 'Chưa xử lý',
    'alerts.state.acknowledged': 'Đã xử lý',
    'alerts.period': 'Khoảng thời gian',
    'alerts.period.24h': '24 giờ qua',
    'alerts.period.7d': '7 ngày qua',
    'alerts.period.30d': '30 ngày qua',
    'alerts.period.custom': 'Tự chọn ngày',
    'alerts.fromDay': 'Từ ngày',
    'alerts.toDay': 'Đến hết ngày',
    'alerts.badRange': 'Ngày bắt đầu phải trước hoặc trùng ngày kết thúc.',
    'alerts.list': 'Danh sách cảnh báo',
    'alerts.count': '{n} cảnh báo · {open} chưa xử lý',
    'alerts.empty': 'Không có cảnh báo khói, lửa nào theo bộ lọc đã chọn.',
    'alerts.more': 'Tải thêm cảnh báo cũ hơn',
    'alerts.col.time': 'Thời điểm',
    'alerts.col.type': 'Loại',
    'alerts.col.camera': 'Camera',
    'alerts.col.severity': 'Mức độ',
    'alerts.col.score': 'Độ tin cậy',
    'alerts.col.state': 'Trạng thái',
    'alerts.sev.minor': 'Nhẹ',
    'alerts.sev.major': 'Đáng kể',
    'alerts.sev.severe': 'Nghiêm trọng',
    'alerts.by': '{user}, {time}',
    'alerts.map': 'Bản đồ camera',
    'alerts.mapHint': 'Camera có cảnh báo chưa xử lý được đánh dấu đỏ (hình vuông). Chọn một camera để chỉ xem cảnh báo của camera đó; chọn lại để bỏ lọc.',
    'alerts.marker.open': 'Có cảnh báo chưa xử lý',
    'alerts.marker.done': 'Cảnh báo đã được xử lý',
    'alerts.marker.quiet': 'Không có cảnh báo',
    'alerts.detail': 'Chi tiết cảnh báo',
    'alerts.pick': 'Chọn một cảnh báo trong danh sách để xem ảnh chụp, đoạn phim và các thao tác.',
    'alerts.detailFailed': 'Không tải được chi tiết đầy đủ của cảnh báo; dưới đây là thông tin có trong danh sách.',
    'alerts.live': 'Trực tiếp',
    'alerts.live.open': 'Đang nhận cảnh báo mới',
    'alerts.live.connecting': 'Đang kết nối…',
    'alerts.live.error': 'Mất kết nối, đang thử lại…',
    'alerts.new': 'Cảnh báo mới: {type} — camera {camera}, lúc {time}.',
    'alerts.newMany': '{n} cảnh báo mới. Mới nhất: {type} — camera {camera}, lúc {time}.',
    'alerts.newHidden': 'Cảnh báo này không khớp bộ lọc đang chọn.',
    'alerts.show': 'Xem cảnh báo',
    'alerts.dismiss': 'Ẩn thông báo',
    'alerts.typeFilterHint': 'Máy chủ chưa hỗ trợ lọc theo loại sự kiện: danh sách chỉ gồm các cảnh báo nằm trong những sự kiện mới nhất.',
  },
  en: {
    'alerts.title': 'Smoke and fire alerts',
    'alerts.intro': 'Smoke and fire seen by the forest cameras. Pick an alert to see its snapshot and clip, and to acknowledge it.',
    'alerts.filters': 'Alert filters',
    'alerts.camera': 'Camera',
    'alerts.camera.all': 'All cameras',
    'alerts.type': 'Alert type',
    'alerts.type.all': 'Smoke and fire',
    'alerts.state': 'State',
    'alerts.state.all': 'All',
    'alerts.state.open': 'Open',
    'alerts.state.acknowledged': 'Acknowledged',
    'alerts.period': 'Period',
    'alerts.period.24h': 'Last 24 hours',
    'alerts.period.7d': 'Last 7 days',
    'alerts.period.30d': 'Last 30 days',
    'alerts.period.custom': 'Choose dates',
    'alerts.fromDay': 'From',
    'alerts.toDay': 'To the end of',
    'alerts.badRange': 'The first day must not be after the last.',
    'alerts.list': 'Alerts',
    'alerts.count': '{n} alerts · {open} open',
    'alerts.empty': 'No smoke or fire alert matches the filters.',
    'alerts.more': 'Load older alerts',
    'alerts.col.time': 'Time',
    'alerts.col.type': 'Type',
    'alerts.col.camera': 'Camera',
    'alerts.col.severity': 'Severity',
    'alerts.col.score': 'Confidence',
    'alerts.col.state': 'State',
    'alerts.sev.minor': 'Minor',
    'alerts.sev.major': 'Major',
    'alerts.sev.severe': 'Severe',
    'alerts.by': '{user}, {time}',
    'alerts.map': 'Camera map',
    'alerts.mapHint': 'Cameras with open alerts are marked red (squares). Pick a camera to see only its alerts; pick it again to see all.',
    'alerts.marker.open': 'Open alerts',
    'alerts.marker.done': 'Alerts acknowledged',
    'alerts.marker.quiet': 'No alerts',
    'alerts.detail': 'Alert detail',
    'alerts.pick': 'Pick an alert in the list to see its snapshot, clip and actions.',
    'alerts.detailFailed': 'The full detail of the alert could not be loaded; here is what the list holds.',
    'alerts.live': 'Live',
    'alerts.live.open': 'Receiving new alerts',
    'alerts.live.connecting': 'Connecting…',
    'alerts.live.error': 'Disconnected, retrying…',
    'alerts.new': 'New alert: {type} — camera {camera}, at {time}.',
    'alerts.newMany': '{n} new alerts. Latest: {type} — camera {camera}, at {time}.',
    'alerts.newHidden': 'This alert does not match the current filters.',
    'alerts.show': 'Show the alert',
    'alerts.dismiss': 'Dismiss',
    'alerts.typeFilterHint': 'The server cannot filter by event type yet: the list holds only the alerts among the latest events.',
  },
});

const TYPES = 'alert.smoke,alert.fire';
const PERIODS = ['24h', '7d', '30d', 'custom'];
const PAGE = 200;
// MAP_LIMIT bounds the alerts the map counts when the list is filtered.
const MAP_LIMIT = 1000;
const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;
const enc = encodeURIComponent;

export async function render(main, params, query) {
  main.classList.add('alerts-page');
  replace(main, pageHeader(t('alerts.title')), loading());
  let cameras = [];
  try {
    cameras = ((await api.get('/cameras')).cameras || []).filter((c) => hasCap(c, 'events'));
  } catch (err) {
    replace(main, pageHeader(t('alerts.title')), errorBox(err));
    return null;
  }
  cameras.sort((a, b) => (a.name || a.id).localeCompare(b.name || b.id, locale()));
  const camById = new Map(cameras.map((c) => [c.id, c]));
  const camName = (id) => camById.get(id)?.name || id;

  const st = {
    camera: camById.has(query.camera) ? query.camera : '',
    type: ['alert.smoke', 'alert.fire'].includes(query.type) ? query.type : '',
    state: ['open', 'acknowledged'].includes(query.state) ? query.state : '',
    period: PERIODS.includes(query.period) ? query.period : '7d',
    from: validDay(query.from) || localDay(new Date(Date.now() - 6 * DAY)),
    to: validDay(query.to) || localDay(new Date()),
    id: query.id || '',
  };

  let events = []; // loaded alerts, newest first
  let liveEvents = []; // alerts received live on this page, newest first
  let mapEvents = null; // the map's alerts when the list is filtered by camera or type, else the list's
  let dispositions = {};
  let more = false; // an older page may exist
  const seen = new Set();

  // Controls
  const cameraSel = select([['', t('alerts.camera.all')], ...cameras.map((c) => [c.id, c.name || c.id])], st.camera, { name: 'camera' });
  const typeSel = select([['', t('alerts.type.all')], ['alert.smoke', typeName('alert.smoke')], ['alert.fire', typeName('alert.fire')]], st.type, { name: 'type' });
  const stateSel = select([['', t('alerts.state.all')], ['open', t('alerts.state.open')], ['acknowledged', t('alerts.state.acknowledged')]], st.state, { name: 'state' });
  const periodSel = select(PERIODS.map((p) => [p, t(`alerts.period.${p}`)]), st.period, { name: 'period' });
  const today = localDay(new Date());
  const fromIn = h('input', { type: 'date', name: 'from', value: st.from, max: today });
  const toIn = h('input', { type: 'date', name: 'to', value: st.to, max: today });
  const customBox = h('div', { class: 'row' }, field(t('alerts.fromDay'), fromIn), field(t('alerts.toDay'), toIn));
  customBox.hidden = st.period !== 'custom';

  const liveState = h('span', { class: 'alerts-live' }, badge(t('alerts.live.connecting'), 'muted'));
  const refresh = button(t('common.refresh'), () => load());
  const announcer = h('div', { class: 'chart-sr', 'aria-live': 'assertive', 'aria-atomic': 'true' });
  const bannerText = h('span', { class: 'alerts-banner-text' });
  let bannerEvent = null;
  let bannerCount = 0;
  const banner = h('div', { class: 'alerts-banner', 'data-testid': 'alerts-banner', hidden: true },
    bannerText,
    button(t('alerts.show'), () => {
      if (bannerEvent) openAlert(bannerEvent, true);
      dismiss();
    }, 'danger'),
    button(t('alerts.dismiss'), dismiss, 'ghost'));

  const countText = h('span', { class: 'alerts-count', role: 'status' });
  const listBody = h('div', { class: 'alerts-list-body' });
  const listCard = h('section', { class: 'card alerts-list', 'aria-labelledby': 'alerts-list-h' },
    h('div', { class: 'alerts-list-head' }, h('h2', { id: 'alerts-list-h' }, t('alerts.list')), countText),
    listBody);
  const mapSlot = h('div', { class: 'alerts-map-body' });
  const mapCard = h('section', { class: 'card', 'data-testid': 'alerts-map', 'aria-labelledby': 'alerts-map-h' },
    h('h2', { id: 'alerts-map-h' }, t('alerts.map')), h('p', { class: 'muted' }, t('alerts.mapHint')), mapSlot);
  const detailBody = h('div', { class: 'alerts-detail-body' }, h('p', { class: 'muted' }, t('alerts.pick')));
  const detailCard = h('section', { class: 'card alerts-detail', 'aria-label': t('alerts.detail'), 'data-testid': 'alerts-detail' }, detailBody);

  const form = h('form', { class: 'card alerts-filters', 'aria-label': t('alerts.filters'), onsubmit: (e) => e.preventDefault() },
    h('div', { class: 'row' },
      field(t('alerts.camera'), cameraSel),
      field(t('alerts.type'), typeSel),
      field(t('alerts.state'), stateSel),
      field(t('alerts.period'), periodSel),
      customBox));

  replace(main,
    pageHeader(t('alerts.title'), liveState, refresh),
    h('p', { class: 'muted' }, t('alerts.intro')),
    announcer,
    banner,
    form,
    h('div', { class: 'alerts-layout' }, listCard, h('div', { class: 'alerts-side' }, detailCard, mapCard)));

  for (const [el, key] of [[cameraSel, 'camera'], [typeSel, 'type'], [periodSel, 'period'], [fromIn, 'from'], [toIn, 'to']]) {
    el.addEventListener('change', () => {
      if ((el === fromIn || el === toIn) && !validDay(el.value)) return;
      st[key] = el.value;
      customBox.hidden = st.period !== 'custom';
      load();
    });
  }
  stateSel.addEventListener('change', () => {
    st.state = stateSel.value;
    syncURL();
    drawList();
  });

  function syncURL() {
    setQuery({ camera: st.camera, type: st.type, state: st.state, period: st.period === '7d' ? '' : st.period,
      from: st.period === 'custom' ? st.from : '', to: st.period === 'custom' ? st.to : '', id: st.id });
  }

  // range is the period as [since, before); before is null up to now.
  function range() {
    switch (st.period) {
      case '24h':
        return { since: new Date(Date.now() - DAY), before: null };
      case '30d':
        return { since: fromLocal(addDays(today, -29)), before: null };
      case 'custom':
        if (st.from > st.to) return null;
        return { since: fromLocal(st.from), before: fromLocal(addDays(st.to, 1)) };
      default:
        return { since: fromLocal(addDays(today, -6)), before: null };
    }
  }

  // matches reports whether an alert falls in the filters (the server
  // applies them too; this covers a server without the type, since and
  // before filters, and the live alerts).
  function matches(ev) {
    if (!matchesTypes(ev.type, st.type || TYPES)) return false;
    if (st.camera && ev.camera_id !== st.camera) return false;
    return inPeriod(ev);
  }

  function inPeriod(ev) {
    const r = range();
    if (!r) return false;
    const ts = new Date(ev.ts);
    return ts >= r.since && (!r.before || ts < r.before);
  }

  let seq = 0;
  let typeFilterIgnored = false;

  async function load(older = false) {
    const my = ++seq;
    syncURL();
    const r = range();
    if (!r) {
      replace(listBody, h('div', { class: 'error-box', role: 'alert' }, t('alerts.badRange')));
      replace(countText);
      return;
    }
    if (!older) replace(listBody, loading());
    const oldest = events.length ? events[events.length - 1].ts : null;
    let res;
    let all = null; // the map's alerts of every camera and type, when the list is narrower
    try {
      [res, all] = await Promise.all([
        api.get('/events', { type: st.type || TYPES, camera: st.camera, since: r.since,
          before: older && oldest ? oldest : r.before, limit: PAGE }),
        !older && (st.camera || st.type)
          ? api.get('/events', { type: TYPES, since: r.since, before: r.before, limit: MAP_LIMIT }).catch(() => null)
          : null,
      ]);
    } catch (err) {
      if (my !== seq) return;
      replace(listBody, errorBox(err));
      replace(countText);
      drawMap();
      return;
    }
    if (my !== seq) return;
    const got = res.events || [];
    typeFilterIgnored = got.some((ev) => !matchesTypes(ev.type, TYPES));
    more = got.length >= PAGE;
    const fresh = got.filter(matches);
    if (!older) {
      events = [];
      dispositions = {};
      seen.clear();
      mapEvents = all ? (all.events || []).filter((ev) => matchesTypes(ev.type, TYPES) && inPeriod(ev)) : null;
      Object.assign(dispositions, all?.dispositions || {});
    }
    // Live alerts that came while asking (or that the server's page did
    // not reach) stay in the list.
    for (const ev of older ? fresh : fresh.concat(liveEvents.filter(matches))) {
      if (seen.has(ev.id)) continue;
      seen.add(ev.id);
      events.push(ev);
    }
    Object.assign(dispositions, res.dispositions || {});
    sortEvents();
    drawList();
    drawMap();
  }

  function sortEvents() {
    events.sort((a, b) => (a.ts < b.ts ? 1 : a.ts > b.ts ? -1 : a.id < b.id ? 1 : -1));
  }

  const isOpen = (ev) => !dispositions[ev.id] || dispositions[ev.id].decision !== 'acknowledged';

  function visible() {
    if (st.state === 'open') return events.filter(isOpen);
    if (st.state === 'acknowledged') return events.filter((ev) => !isOpen(ev));
    return events;
  }

  function drawList(freshId) {
    const rows = visible();
    replace(countText, t('alerts.count', { n: fmtNumber(rows.length), open: fmtNumber(rows.filter(isOpen).length) }));
    const tbl = table([
      { label: t('alerts.col.time'), render: (ev) => h('time', { datetime: ev.ts }, fmtDateTime(ev.ts)) },
      { label: t('alerts.col.type'), render: (ev) => typeBadge(ev.type) },
      { label: t('alerts.col.camera'), render: (ev) => camName(ev.camera_id) },
      { label: t('alerts.col.severity'), render: severity },
      { label: t('alerts.col.score'), class: 'num', render: (ev) => score(ev) },
      { label: t('alerts.col.state'), render: stateCell },
    ], rows, { caption: null, onOpen: (ev) => openAlert(ev, false), empty: t('alerts.empty') });
    const trs = tbl.querySelectorAll ? tbl.querySelectorAll('tbody tr') : [];
    trs.forEach((tr, i) => {
      const ev = rows[i];
      tr.dataset.testid = 'alert-row';
      tr.dataset.id = ev.id;
      if (ev.id === st.id) tr.setAttribute('aria-current', 'true');
      if (ev.id === freshId) tr.classList.add('fresh');
    });
    replace(listBody,
      typeFilterIgnored ? h('p', { class: 'notice warn' }, t('alerts.typeFilterHint')) : null,
      tbl,
      more ? h('div', { class: 'alerts-more' }, button(t('alerts.more'), () => load(true))) : null);
  }

  function stateCell(ev) {
    const d = dispositions[ev.id];
    if (!d || d.decision !== 'acknowledged') return badge(t('alerts.state.open'), 'bad');
    return h('span', {}, dispositionBadge(d), h('br'), h('small', { class: 'muted' }, t('alerts.by', { user: d.username || d.user_id || '—', time: fmtDateTime(d.at) })));
  }

  function drawMap() {
    const openBy = new Map();
    const anyBy = new Set();
    for (const ev of mapEvents || events) {
      anyBy.add(ev.camera_id);
      if (isOpen(ev)) openBy.set(ev.camera_id, (openBy.get(ev.camera_id) || 0) + 1);
    }
    // The forest cameras: those serving forest-fire monitoring, and any
    // with alerts; all cameras when none is known to.
    let shown = cameras.filter((c) => (c.purposes || []).includes('forest_fire') || anyBy.has(c.id));
    if (!shown.length) shown = cameras;
    const focused = document.activeElement?.closest?.('[data-camera]')?.dataset.camera;
    const el = cameraMap(shown, {
      selected: st.camera || undefined,
      onSelect: (c) => {
        st.camera = st.camera === c.id ? '' : c.id;
        cameraSel.value = st.camera;
        load();
      },
      marker: (c) => {
        const n = openBy.get(c.id) || 0;
        if (n) return { kind: 'bad', label: t('alerts.marker.open') };
        const state = c.status?.state;
        if (state && state !== 'online') return null; // the map's own camera state marker
        if (anyBy.has(c.id)) return { kind: 'info', label: t('alerts.marker.done') };
        return { kind: 'ok', label: t('alerts.marker.quiet') };
      },
    });
    replace(mapSlot, el);
    if (focused) mapSlot.querySelector(`[data-camera="${CSS.escape(focused)}"]`)?.focus();
  }

  // openAlert shows an alert's detail.
  async function openAlert(ev, fromBanner) {
    st.id = ev.id;
    syncURL();
    for (const tr of listBody.querySelectorAll('tbody tr')) {
      if (tr.dataset.id === ev.id) tr.setAttribute('aria-current', 'true');
      else tr.removeAttribute('aria-current');
    }
    await showDetail(ev.id, ev);
    if (fromBanner || window.innerWidth <= 1200) detailCard.scrollIntoView({ block: 'start', behavior: 'smooth' });
    detailCard.querySelector('h2, h3')?.setAttribute('tabindex', '-1');
    detailCard.querySelector('h2, h3')?.focus({ preventScroll: true });
  }

  async function showDetail(id, listed) {
    replace(detailBody, loading());
    try {
      const detail = await api.get(`/events/${enc(id)}`);
      if (st.id !== id) return;
      if (detail.disposition) dispositions[id] = detail.disposition;
      replace(detailBody, eventView(detail, {
        camera: camById.get(detail.event.camera_id),
        onChanged: (disp) => {
          dispositions[id] = disp;
          drawList();
          drawMap();
        },
      }));
    } catch (err) {
      if (st.id !== id) return;
      replace(detailBody, errorBox(err), listed ? fallbackDetail(listed) : null);
    }
  }

  function fallbackDetail(ev) {
    const m = ev.measures || {};
    return h('div', { class: 'alerts-detail-fallback' },
      h('h2', {}, typeBadge(ev.type), ' ', fmtDateTime(ev.ts)),
      h('p', { class: 'muted' }, t('alerts.detailFailed')),
      h('dl', {},
        h('dt', {}, t('alerts.col.camera')), h('dd', {}, camName(ev.camera_id)),
        h('dt', {}, t('alerts.col.severity')), h('dd', {}, severity(ev)),
        h('dt', {}, t('alerts.col.score')), h('dd', {}, score(ev)),
        ev.zone ? [h('dt', {}, 'Zone'), h('dd', {}, ev.zone)] : null,
        m.persistence_s !== undefined ? [h('dt', {}, has('ev.measure.persistence_s') ? t('ev.measure.persistence_s') : 'persistence_s'),
          h('dd', {}, fmtNumber(m.persistence_s))] : null,
        h('dt', {}, t('alerts.col.state')), h('dd', {}, stateCell(ev))));
  }

  // Live alerts: prepended when they match the filters, announced always.
  function onLive(ev) {
    if (!ev || !matchesTypes(ev.type || '', TYPES) || liveEvents.some((x) => x.id === ev.id)) return;
    liveEvents = [ev, ...liveEvents].slice(0, PAGE);
    if (seen.has(ev.id)) return;
    const now = range() && !range().before;
    const shown = matches(ev) && now;
    if (mapEvents && now && inPeriod(ev) && !mapEvents.some((x) => x.id === ev.id)) mapEvents.unshift(ev);
    if (shown) {
      seen.add(ev.id);
      events.unshift(ev);
      sortEvents();
      drawList(ev.id);
    }
    drawMap();
    bannerCount += 1;
    bannerEvent = ev;
    const vars = { n: fmtNumber(bannerCount), type: typeName(ev.type), camera: camName(ev.camera_id), time: fmtTime(ev.ts) };
    const text = t(bannerCount > 1 ? 'alerts.newMany' : 'alerts.new', vars);
    replace(bannerText, text, shown ? null : ` ${t('alerts.newHidden')}`);
    banner.hidden = false;
    announcer.textContent = text;
  }

  function dismiss() {
    banner.hidden = true;
    bannerCount = 0;
    bannerEvent = null;
  }

  const close = api.stream({ type: TYPES }, onLive, (state) => {
    replace(liveState, state === 'open' ? badge(`● ${t('alerts.live')}`, 'ok') : badge(t('alerts.live.error'), 'warn'));
    liveState.title = t(state === 'open' ? 'alerts.live.open' : 'alerts.live.error');
  });

  await load();
  if (st.id) {
    const listed = events.find((ev) => ev.id === st.id);
    showDetail(st.id, listed);
  }
  return () => close();
}

function severity(ev) {
  const word = ev.detail || ['', 'minor', 'major', 'severe'][ev.measures?.severity || 0] || '';
  if (!word) return '—';
  const kind = { minor: 'muted', major: 'warn', severe: 'bad' }[word] || 'muted';
  return badge(has(`alerts.sev.${word}`) ? t(`alerts.sev.${word}`) : word, kind);
}

function score(ev) {
  const v = ev.object?.confidence ?? ev.measures?.score;
  return v === undefined || v === null ? '—' : fmtNumber(v, { style: 'percent', maximumFractionDigits: 0 });
}

function addDays(day, n) {
  return localDay(new Date(fromLocal(day).getTime() + n * DAY));
}

function validDay(v) {
  return /^\d{4}-\d{2}-\d{2}$/.test(v || '') && !Number.isNaN(fromLocal(v).getTime()) ? v : '';
}
