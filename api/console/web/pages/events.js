// Live events (/console/events): the newest events of the cameras the user
// may read events of, over server-sent events, newest first. Filters (type
// group, camera) live in the URL. The feed can be paused (events that
// arrive meanwhile wait and are shown on resume); screen readers hear how
// many events arrived, at most every few seconds, not every row.

import * as api from '../lib/api.js';
import { h, replace } from '../lib/dom.js';
import { addMessages, t, fmtDateTime, fmtNumber } from '../lib/i18n.js';
import { link, navigate, setQuery } from '../lib/router.js';
import { button, errorBox, field, pageHeader, select } from '../lib/ui.js';
import { eventSummary, matchesTypes, typeBadge } from '../lib/event-view.js';

addMessages({
  vi: {
    'events.title': 'Sự kiện trực tiếp',
    'events.group': 'Nhóm sự kiện',
    'events.group.all': 'Tất cả sự kiện',
    'events.group.violations': 'Vi phạm giao thông',
    'events.group.fire': 'Cảnh báo khói, lửa',
    'events.group.crowd': 'Tụ tập đông người',
    'events.group.counts': 'Đếm lưu lượng',
    'events.group.health': 'Tình trạng camera, ghi hình',
    'events.group.detections': 'Tổng hợp phát hiện',
    'events.camera': 'Camera',
    'events.allCameras': 'Tất cả camera',
    'events.state.connecting': 'Đang kết nối…',
    'events.state.live': 'Đang nhận trực tiếp',
    'events.state.reconnecting': 'Mất kết nối, đang kết nối lại…',
    'events.state.paused': 'Đã tạm dừng',
    'events.pause': 'Tạm dừng',
    'events.resume': 'Tiếp tục',
    'events.waiting': '{n} sự kiện mới đang chờ',
    'events.announce': 'Có {n} sự kiện mới.',
    'events.summary': 'Tóm tắt',
    'events.caption': 'Sự kiện mới nhất ở trên cùng; giữ {n} sự kiện gần nhất. Chọn thời điểm để mở sự kiện.',
    'events.empty': 'Chưa có sự kiện nào phù hợp bộ lọc. Sự kiện mới sẽ hiện ở đây ngay khi xảy ra.',
    'events.shown': '{n} sự kiện',
  },
  en: {
    'events.title': 'Live events',
    'events.group': 'Event group',
    'events.group.all': 'All events',
    'events.group.violations': 'Traffic violations',
    'events.group.fire': 'Smoke and fire alerts',
    'events.group.crowd': 'Crowds',
    'events.group.counts': 'Traffic counts',
    'events.group.health': 'Camera and recording health',
    'events.group.detections': 'Detection summaries',
    'events.camera': 'Camera',
    'events.allCameras': 'All cameras',
    'events.state.connecting': 'Connecting…',
    'events.state.live': 'Live',
    'events.state.reconnecting': 'Connection lost, reconnecting…',
    'events.state.paused': 'Paused',
    'events.pause': 'Pause',
    'events.resume': 'Resume',
    'events.waiting': '{n} new events waiting',
    'events.announce': '{n} new events.',
    'events.summary': 'Summary',
    'events.caption': 'Newest first; the last {n} events are kept. Choose a time to open the event.',
    'events.empty': 'No event matches the filters yet. New events show here as they happen.',
    'events.shown': '{n} events',
  },
});

// GROUPS map the type groups to the events API's type filter.
const GROUPS = {
  all: '',
  violations: 'violation.',
  fire: 'alert.smoke,alert.fire',
  crowd: 'alert.crowd',
  counts: 'traffic.count',
  health: 'camera.,recording.',
  detections: 'detection.summary',
};

const KEEP = 200; // rows kept in the feed
const FILL = 50; // events asked for when the page opens
const ANNOUNCE_EVERY = 10000; // ms between announcements of new events
const RETRY_AFTER = 20000; // ms in error before the stream is opened anew

export async function render(main, params, query) {
  const filters = {
    group: query.group in GROUPS ? query.group : 'all',
    camera: query.camera || '',
  };
  let cameras = [];
  try {
    cameras = (await api.get('/cameras')).cameras || [];
  } catch {
    /* names stay unknown: ids are shown */
  }
  const names = new Map(cameras.map((c) => [c.id, c.name]));
  const cameraName = (id) => names.get(id) || id;

  // State of the feed.
  let events = []; // newest first
  const rowsById = new Map();
  let paused = false;
  let waiting = []; // arrived while paused
  let unannounced = 0;
  let closeStream = null;
  let retryTimer = null;
  let generation = 0; // bumps on each filter change: late answers of older ones are dropped

  const liveState = h('span', { class: 'badge info ev-live', 'data-testid': 'live-state', role: 'status' });
  const waitingNote = h('span', { class: 'muted ev-waiting' });
  const announcer = h('div', { class: 'ev-sr-only', 'aria-live': 'polite' });
  const pauseBtn = button(t('events.pause'), togglePause, 'ghost');
  const count = h('span', { class: 'muted' });
  const tbody = h('tbody');
  const tableWrap = h('div', { class: 'table-wrap' }, h('table', { class: 'data ev-feed' },
    h('caption', { class: 'ev-caption' }, t('events.caption', { n: KEEP })),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, t('common.time')),
      h('th', { scope: 'col' }, t('common.type')),
      h('th', { scope: 'col' }, t('common.camera')),
      h('th', { scope: 'col' }, t('events.summary')))),
    tbody));
  const empty = h('p', { class: 'empty' }, t('events.empty'));
  const errorSlot = h('div');

  const groupSel = select(Object.keys(GROUPS).map((g) => [g, t(`events.group.${g}`)]), filters.group, { name: 'group' });
  const cameraSel = select([['', t('events.allCameras')], ...cameras.map((c) => [c.id, c.name || c.id])], filters.camera, { name: 'camera' });
  groupSel.addEventListener('change', () => { filters.group = groupSel.value; restart(); });
  cameraSel.addEventListener('change', () => { filters.camera = cameraSel.value; restart(); });

  replace(main,
    pageHeader(t('events.title'), liveState, pauseBtn),
    h('form', { class: 'row ev-filters', role: 'search', 'aria-label': t('common.filter'), onsubmit: (e) => e.preventDefault() },
      field(t('events.group'), groupSel),
      field(t('events.camera'), cameraSel),
      h('p', { class: 'ev-counts' }, count, ' ', waitingNote)),
    errorSlot,
    announcer,
    empty,
    tableWrap);

  function setLive(state) {
    const shown = paused ? 'paused' : state;
    liveState.className = `badge ev-live ${{ live: 'ok', connecting: 'info', reconnecting: 'warn', paused: 'muted' }[shown]}`;
    liveState.dataset.state = shown;
    replace(liveState, h('span', { class: 'ev-dot', 'aria-hidden': 'true' }), t(`events.state.${shown}`));
  }
  let streamState = 'connecting';

  // row is an event's row; source says whether it came over the stream
  // ('live') or from the list asked for on opening ('history').
  function row(ev, source) {
    const tr = h('tr', { class: 'clickable', 'data-testid': 'event-row', dataset: { id: ev.id, type: ev.type, source } },
      h('td', { class: 'ev-time' }, link(`/events/${encodeURIComponent(ev.id)}`, h('time', { datetime: ev.ts }, fmtDateTime(ev.ts)))),
      h('td', {}, typeBadge(ev.type)),
      h('td', {}, cameraName(ev.camera_id)),
      h('td', { class: 'ev-summary' }, eventSummary(ev)));
    tr.addEventListener('click', (e) => {
      if (e.target.closest('a')) return; // the link navigates itself
      navigate(`/events/${encodeURIComponent(ev.id)}`);
    });
    return tr;
  }

  function refreshCounts() {
    const n = events.length;
    replace(count, n ? t('events.shown', { n: fmtNumber(n) }) : '');
    replace(waitingNote, waiting.length ? t('events.waiting', { n: fmtNumber(waiting.length) }) : '');
    empty.hidden = n > 0;
    tableWrap.hidden = n === 0;
  }

  // add puts events in the feed at their place by time (newest first),
  // dropping those already shown and the oldest beyond KEEP.
  function add(list, source) {
    for (const ev of list) {
      if (!ev || !ev.id || rowsById.has(ev.id)) continue;
      if (!matchesTypes(ev.type, GROUPS[filters.group])) continue;
      if (filters.camera && ev.camera_id !== filters.camera) continue;
      const at = Date.parse(ev.ts);
      let i = 0;
      while (i < events.length && Date.parse(events[i].ts) > at) i++;
      if (i >= KEEP) continue;
      const tr = row(ev, source);
      tbody.insertBefore(tr, events[i] ? rowsById.get(events[i].id) : null);
      events.splice(i, 0, ev);
      rowsById.set(ev.id, tr);
    }
    while (events.length > KEEP) {
      const old = events.pop();
      rowsById.get(old.id)?.remove();
      rowsById.delete(old.id);
    }
    refreshCounts();
  }

  function onEvent(ev) {
    if (!matchesTypes(ev.type, GROUPS[filters.group])) return;
    if (filters.camera && ev.camera_id !== filters.camera) return;
    if (paused) {
      waiting.unshift(ev);
      if (waiting.length > KEEP) waiting.length = KEEP;
      refreshCounts();
      return;
    }
    unannounced++;
    add([ev], 'live');
  }

  function onState(state) {
    streamState = state === 'open' ? 'live' : 'reconnecting';
    setLive(streamState);
    clearTimeout(retryTimer);
    // EventSource gives up for good on some failures (an answer that is
    // not a stream): open it anew after a while in error.
    if (state === 'error') retryTimer = setTimeout(openStream, RETRY_AFTER);
  }

  function openStream() {
    if (closeStream) closeStream();
    clearTimeout(retryTimer);
    closeStream = api.stream({ camera: filters.camera }, onEvent, onState);
  }

  async function fill(gen) {
    try {
      const res = await api.get('/events', { limit: FILL, type: GROUPS[filters.group], camera: filters.camera });
      if (gen !== generation) return;
      replace(errorSlot);
      add(res.events || [], 'history');
    } catch (err) {
      if (gen !== generation) return;
      replace(errorSlot, errorBox(err));
    }
  }

  // restart applies the filters: URL, a fresh feed, a fresh stream.
  function restart() {
    generation++;
    setQuery({ group: filters.group === 'all' ? '' : filters.group, camera: filters.camera });
    events = [];
    rowsById.clear();
    waiting = [];
    unannounced = 0;
    replace(tbody);
    refreshCounts();
    streamState = 'connecting';
    setLive(streamState);
    openStream();
    fill(generation);
  }

  function togglePause() {
    paused = !paused;
    replace(pauseBtn, t(paused ? 'events.resume' : 'events.pause'));
    if (!paused && waiting.length) {
      const list = waiting;
      waiting = [];
      unannounced += list.length;
      add(list, 'live');
    }
    setLive(streamState);
    refreshCounts();
  }

  const announceTimer = setInterval(() => {
    if (!unannounced) return;
    announcer.textContent = t('events.announce', { n: fmtNumber(unannounced) });
    unannounced = 0;
  }, ANNOUNCE_EVERY);

  restart();

  return () => {
    generation++;
    clearInterval(announceTimer);
    clearTimeout(retryTimer);
    if (closeStream) closeStream();
  };
}
