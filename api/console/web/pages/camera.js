// A camera's page (/console/cameras/:id): its latest analysed frame with
// the scene drawn over it (refreshed while the page is visible), the
// engine's status, the registry fields (never stream URLs: the API does not
// give them), what the user may do with it, and its recent events. A camera
// the server refuses (unknown or not allowed alike) shows the refusal and
// nothing else.

import * as api from '../lib/api.js';
import { h, replace } from '../lib/dom.js';
import { addMessages, t, fmtDateTime, fmtNumber, fmtPercent, fmtTime } from '../lib/i18n.js';
import { link } from '../lib/router.js';
import { hasCap, isAdmin } from '../lib/session.js';
import { pageHeader, button, badge, stateBadge, errorBox, refusalBox, table, loading } from '../lib/ui.js';
import { sceneOverlay, sceneSummary } from '../lib/scene-draw.js';
import { cameraState, tierName, fetchSnapshot } from './wall.js';

addMessages({
  vi: {
    'camera.refusedTitle': 'Không xem được camera',
    'camera.refused': 'Camera không tồn tại hoặc bạn không được phép xem camera này.',
    'camera.back': 'Về màn hình camera',
    'camera.picture': 'Hình ảnh mới nhất',
    'camera.pictureAlt': 'Ảnh mới nhất của camera {name} lúc {time}',
    'camera.pictureAltNoTime': 'Ảnh mới nhất của camera {name}',
    'camera.capturedAt': 'Chụp lúc {time}; tự làm mới 5 giây một lần.',
    'camera.noSnapshot': 'Chưa có ảnh từ camera này.',
    'camera.noLiveView': 'Bạn không có quyền xem hình của camera này.',
    'camera.offlinePicture': 'Camera đang mất kết nối.',
    'camera.showScene': 'Hiện hình vẽ cảnh (đường đếm, vùng, làn, đèn tín hiệu)',
    'camera.noScene': 'Camera chưa có cảnh.',
    'camera.sceneError': 'Không tải được cảnh: {message}',
    'camera.editScene': 'Sửa cảnh',
    'camera.stats': 'Thống kê giao thông',
    'camera.allEvents': 'Tất cả sự kiện',
    'camera.status': 'Tình trạng hoạt động',
    'camera.noStatus': 'Máy phân tích hiện không chạy camera này.',
    'camera.st.state': 'Trạng thái',
    'camera.st.lastError': 'Lỗi gần nhất',
    'camera.st.degraded': 'Lý do suy giảm',
    'camera.st.lastFrame': 'Khung hình cuối',
    'camera.st.fps': 'Tốc độ khung hình',
    'camera.st.fpsValue': '{v} khung/giây',
    'camera.st.analysisFps': 'Tốc độ phân tích',
    'camera.st.bitrate': 'Tốc độ dữ liệu',
    'camera.st.bitrateValue': '{v} Mbit/s',
    'camera.st.uptimeToday': 'Thời gian trực tuyến hôm nay',
    'camera.st.packetLoss': 'Tỉ lệ mất gói',
    'camera.st.reconnects': 'Số lần kết nối lại',
    'camera.st.frames': 'Khung hình giải mã / phân tích / bỏ qua',
    'camera.st.lastAnalysed': 'Lần phân tích cuối',
    'camera.st.picture': 'Tình trạng hình ảnh',
    'camera.st.pictureOk': 'Bình thường',
    'camera.pic.frozen': 'Hình đứng',
    'camera.pic.covered': 'Bị che khuất',
    'camera.pic.defocused': 'Mất nét',
    'camera.pic.moved': 'Bị xoay, dịch hướng',
    'camera.registry': 'Thông tin đăng ký',
    'camera.reg.id': 'Mã camera',
    'camera.reg.name': 'Tên',
    'camera.reg.system': 'Hệ thống',
    'camera.reg.district': 'Quận/huyện',
    'camera.reg.address': 'Địa chỉ',
    'camera.reg.position': 'Toạ độ (vĩ độ, kinh độ)',
    'camera.reg.noPosition': 'Chưa khai báo',
    'camera.reg.installed': 'Ngày lắp đặt',
    'camera.reg.approval': 'Văn bản phê duyệt',
    'camera.reg.firstConnected': 'Kết nối lần đầu',
    'camera.reg.public': 'Công khai hình ảnh',
    'camera.reg.stateSecret': 'Thuộc bí mật nhà nước',
    'camera.reg.purposes': 'Mục đích sử dụng',
    'camera.reg.hasStream': 'Đã cấu hình luồng video',
    'camera.reg.created': 'Ngày tạo',
    'camera.reg.updated': 'Cập nhật lần cuối',
    'camera.capabilities': 'Quyền của bạn trên camera',
    'camera.noCapabilities': 'Không có',
    'camera.events': 'Sự kiện gần đây',
    'camera.noEvents': 'Chưa có sự kiện nào của camera này.',
    'camera.noEventsCap': 'Bạn không có quyền xem sự kiện của camera này.',
    'camera.ev.time': 'Thời điểm',
    'camera.ev.type': 'Loại sự kiện',
    'camera.ev.detail': 'Chi tiết',
    'camera.ev.line': 'đường {id}',
    'camera.ev.zone': 'vùng {id}',
    'camera.ev.inOut': 'vào {in}, ra {out}',
    'camera.none': '—',
  },
  en: {
    'camera.refusedTitle': 'Camera unavailable',
    'camera.refused': 'This camera does not exist or you are not allowed to see it.',
    'camera.back': 'Back to the camera wall',
    'camera.picture': 'Latest picture',
    'camera.pictureAlt': 'Latest picture of camera {name} at {time}',
    'camera.pictureAltNoTime': 'Latest picture of camera {name}',
    'camera.capturedAt': 'Taken at {time}; refreshed every 5 seconds.',
    'camera.noSnapshot': 'No picture from this camera yet.',
    'camera.noLiveView': 'You may not view this camera’s picture.',
    'camera.offlinePicture': 'The camera is offline.',
    'camera.showScene': 'Show the scene (counting lines, zones, lanes, signals)',
    'camera.noScene': 'The camera has no scene.',
    'camera.sceneError': 'The scene could not be loaded: {message}',
    'camera.editScene': 'Edit the scene',
    'camera.stats': 'Traffic statistics',
    'camera.allEvents': 'All events',
    'camera.status': 'Status',
    'camera.noStatus': 'The analytics engine does not run this camera now.',
    'camera.st.state': 'State',
    'camera.st.lastError': 'Last error',
    'camera.st.degraded': 'Degraded because',
    'camera.st.lastFrame': 'Last frame',
    'camera.st.fps': 'Frame rate',
    'camera.st.fpsValue': '{v} frames/s',
    'camera.st.analysisFps': 'Analysis rate',
    'camera.st.bitrate': 'Bit rate',
    'camera.st.bitrateValue': '{v} Mbit/s',
    'camera.st.uptimeToday': 'Online today',
    'camera.st.packetLoss': 'Packet loss',
    'camera.st.reconnects': 'Reconnections',
    'camera.st.frames': 'Frames decoded / analysed / dropped',
    'camera.st.lastAnalysed': 'Last analysed',
    'camera.st.picture': 'Picture condition',
    'camera.st.pictureOk': 'Normal',
    'camera.pic.frozen': 'Frozen',
    'camera.pic.covered': 'Covered',
    'camera.pic.defocused': 'Out of focus',
    'camera.pic.moved': 'Moved',
    'camera.registry': 'Registry',
    'camera.reg.id': 'Camera id',
    'camera.reg.name': 'Name',
    'camera.reg.system': 'System',
    'camera.reg.district': 'District',
    'camera.reg.address': 'Address',
    'camera.reg.position': 'Position (latitude, longitude)',
    'camera.reg.noPosition': 'Not set',
    'camera.reg.installed': 'Installed',
    'camera.reg.approval': 'Approval reference',
    'camera.reg.firstConnected': 'First connected',
    'camera.reg.public': 'Picture public',
    'camera.reg.stateSecret': 'State secret',
    'camera.reg.purposes': 'Purposes',
    'camera.reg.hasStream': 'Video stream configured',
    'camera.reg.created': 'Created',
    'camera.reg.updated': 'Last updated',
    'camera.capabilities': 'What you may do with this camera',
    'camera.noCapabilities': 'Nothing',
    'camera.events': 'Recent events',
    'camera.noEvents': 'No events from this camera yet.',
    'camera.noEventsCap': 'You may not read this camera’s events.',
    'camera.ev.time': 'Time',
    'camera.ev.type': 'Event type',
    'camera.ev.detail': 'Details',
    'camera.ev.line': 'line {id}',
    'camera.ev.zone': 'zone {id}',
    'camera.ev.inOut': 'in {in}, out {out}',
    'camera.none': '—',
  },
});

const SNAPSHOT_EVERY = 5000;
const STATUS_EVERY = 10000;

const path = (id) => `/cameras/${encodeURIComponent(id)}`;

export async function render(main, params) {
  const id = params.id;
  let cam;
  try {
    cam = await api.get(path(id));
  } catch (err) {
    replace(main, pageHeader(t('camera.refusedTitle')), refusalBox(err, t('camera.refused')),
      h('p', {}, link('/wall', t('camera.back'))));
    return null;
  }

  let alive = true;
  const timers = [];
  let snapURL = null;
  let systems = [];
  const [scene, sys, events] = await Promise.all([
    api.get(`${path(id)}/scene`).then((s) => ({ scene: s }), (err) => ({ error: err })),
    api.get('/systems').then((r) => r.systems || [], () => []),
    hasCap(cam, 'events')
      ? api.get('/events', { camera: id, limit: 20 }).then((r) => ({ events: r.events || [] }), (err) => ({ error: err }))
      : Promise.resolve({ none: true }),
  ]);
  systems = sys;
  const system = systems.find((y) => y.id === cam.system_id);

  // --- picture ---------------------------------------------------------------
  const img = h('img', { alt: '', hidden: true });
  const placeholder = h('div', { class: 'camera-placeholder' });
  const pictureBox = h('div', { class: 'picture camera-picture' }, img, placeholder);
  const caption = h('figcaption', { class: 'muted' });
  const sceneToggle = h('input', { type: 'checkbox', checked: true, id: 'camera-show-scene' });
  let overlay = null;
  const sceneNote = h('p', { class: 'muted camera-scene-note' });
  if (scene.scene) {
    overlay = sceneOverlay(scene.scene);
    pictureBox.append(overlay);
    sceneNote.textContent = sceneSummary(scene.scene);
  } else if (scene.error?.status === 404) {
    sceneNote.textContent = t('camera.noScene');
  } else if (scene.error) {
    sceneNote.textContent = t('camera.sceneError', { message: scene.error.message });
  }
  sceneToggle.addEventListener('change', () => {
    if (overlay) overlay.style.display = sceneToggle.checked ? '' : 'none';
  });

  function showPlaceholder(text) {
    img.hidden = true;
    placeholder.hidden = false;
    placeholder.textContent = text;
    if (overlay) overlay.style.visibility = 'hidden';
  }

  async function refreshPicture() {
    if (!alive || document.hidden) return;
    if (!hasCap(cam, 'live_view')) return showPlaceholder(t('camera.noLiveView'));
    if (cameraState(cam) === 'offline') return showPlaceholder(t('camera.offlinePicture'));
    try {
      const snap = await fetchSnapshot(id);
      if (!alive) return URL.revokeObjectURL(snap.url);
      const probe = new Image();
      probe.src = snap.url;
      await probe.decode().catch(() => {});
      // As large as the column allows, but no taller than 62 % of the screen.
      if (probe.naturalWidth && probe.naturalHeight) pictureBox.style.maxWidth = `calc(62vh * ${probe.naturalWidth / probe.naturalHeight})`;
      img.src = snap.url;
      img.alt = snap.at ? t('camera.pictureAlt', { name: cam.name || id, time: fmtTime(snap.at) }) : t('camera.pictureAltNoTime', { name: cam.name || id });
      img.hidden = false;
      placeholder.hidden = true;
      if (overlay) overlay.style.visibility = '';
      caption.textContent = t('camera.capturedAt', { time: snap.at ? fmtDateTime(snap.at) : '—' });
      if (snapURL) URL.revokeObjectURL(snapURL);
      snapURL = snap.url;
    } catch (err) {
      if (!alive) return;
      if (snapURL) URL.revokeObjectURL(snapURL);
      snapURL = null;
      caption.textContent = '';
      showPlaceholder(err.status === 404 ? t('camera.noSnapshot') : err.message);
    }
  }

  // --- status and registry ---------------------------------------------------------
  const statusBox = h('div');
  function drawStatus() {
    const st = cam.status;
    if (!st) {
      replace(statusBox, h('p', { class: 'muted' }, t('camera.noStatus')));
      return;
    }
    const num = (v, d = 0) => fmtNumber(v, { maximumFractionDigits: d });
    const pictures = st.picture?.length
      ? st.picture.map((p) => badge(t(`camera.pic.${p}`), 'bad'))
      : badge(t('camera.st.pictureOk'), 'ok');
    replace(statusBox, dl([
      ['camera.st.state', stateBadge(cameraState(cam))],
      st.degraded ? ['camera.st.degraded', st.degraded] : null,
      st.last_error ? ['camera.st.lastError', h('span', { class: 'camera-error' }, st.last_error)] : null,
      ['camera.st.lastFrame', st.last_frame ? fmtDateTime(st.last_frame) : t('camera.none')],
      ['camera.st.fps', t('camera.st.fpsValue', { v: num(st.fps, 1) })],
      ['camera.st.bitrate', t('camera.st.bitrateValue', { v: num((st.bitrate_bps || 0) / 1e6, 2) })],
      ['camera.st.uptimeToday', fmtPercent(st.uptime_today || 0, 2)],
      ['camera.st.packetLoss', fmtPercent(st.packet_loss || 0, 2)],
      ['camera.st.reconnects', num(st.reconnects)],
      st.analysis_fps ? ['camera.st.analysisFps', t('camera.st.fpsValue', { v: num(st.analysis_fps, 1) })] : null,
      ['camera.st.frames', `${num(st.frames_decoded)} / ${num(st.frames_analysed)} / ${num(st.frames_dropped)}`],
      ['camera.st.lastAnalysed', st.last_analysed ? fmtDateTime(st.last_analysed) : t('camera.none')],
      ['camera.st.picture', h('span', { class: 'camera-badges' }, pictures)],
    ]));
  }

  const yesNo = (v) => t(v ? 'common.yes' : 'common.no');
  const hasPos = Number.isFinite(cam.lat) && Number.isFinite(cam.lon) && !(cam.lat === 0 && cam.lon === 0);
  const registry = dl([
    ['camera.reg.id', h('code', {}, cam.id)],
    ['camera.reg.name', cam.name || t('camera.none')],
    ['camera.reg.system', [system?.name || cam.system_id, tierName(system)].filter(Boolean).join(' · ')],
    ['camera.reg.district', cam.district || t('camera.none')],
    ['camera.reg.address', cam.address || t('camera.none')],
    ['camera.reg.position', hasPos
      ? `${fmtNumber(cam.lat, { maximumFractionDigits: 6 })}, ${fmtNumber(cam.lon, { maximumFractionDigits: 6 })}`
      : t('camera.reg.noPosition')],
    ['camera.reg.installed', cam.installed && !String(cam.installed).startsWith('0001') ? fmtDateTime(cam.installed) : t('camera.none')],
    ['camera.reg.approval', cam.approval_ref || t('camera.none')],
    ['camera.reg.firstConnected', cam.first_connected ? fmtDateTime(cam.first_connected) : t('camera.none')],
    ['camera.reg.public', yesNo(cam.public)],
    ['camera.reg.stateSecret', yesNo(cam.state_secret)],
    ['camera.reg.purposes', cam.purposes?.length ? cam.purposes.map((p) => t(`purpose.${p}`)).join(', ') : t('camera.none')],
    ['camera.reg.hasStream', yesNo(cam.has_stream)],
    ['camera.reg.created', fmtDateTime(cam.created)],
    ['camera.reg.updated', fmtDateTime(cam.updated)],
  ]);
  const caps = cam.capabilities?.length
    ? h('ul', { class: 'camera-caps' }, cam.capabilities.map((c) => h('li', {}, badge(t(`cap.${c}`), 'info'))))
    : h('p', { class: 'muted' }, t('camera.noCapabilities'));

  // --- events ------------------------------------------------------------------------
  const eventsBox = h('div');
  function drawEvents(res) {
    if (res.none) return replace(eventsBox, h('p', { class: 'muted' }, t('camera.noEventsCap')));
    if (res.error) return replace(eventsBox, errorBox(res.error));
    replace(eventsBox, table([
      { label: t('camera.ev.time'), render: (e) => link(`/events/${encodeURIComponent(e.id)}`, fmtDateTime(e.ts)) },
      { label: t('camera.ev.type'), render: (e) => t(`event.type.${e.type}`) },
      { label: t('camera.ev.detail'), render: eventDetail },
    ], res.events, { empty: t('camera.noEvents') }));
  }
  async function reloadEvents() {
    replace(eventsBox, loading());
    const res = await api.get('/events', { camera: id, limit: 20 }).then((r) => ({ events: r.events || [] }), (err) => ({ error: err }));
    if (alive) drawEvents(res);
  }

  // --- page ------------------------------------------------------------------------------
  const actions = [
    isAdmin() ? link(`${path(id)}/scene`, t('camera.editScene')) : null,
    hasCap(cam, 'statistics') ? link(`/stats?camera=${encodeURIComponent(id)}`, t('camera.stats')) : null,
    hasCap(cam, 'events') ? link(`/events?camera=${encodeURIComponent(id)}`, t('camera.allEvents')) : null,
  ].filter(Boolean);
  for (const a of actions) a.classList.add('btn');

  replace(main,
    h('p', { class: 'camera-back' }, link('/wall', `← ${t('camera.back')}`)),
    pageHeader(cam.name || cam.id, actions),
    h('div', { class: 'grid-2 camera-layout' },
      h('div', { class: 'camera-main' },
        h('section', { class: 'card', 'aria-labelledby': 'camera-picture-title' },
          h('h2', { id: 'camera-picture-title' }, t('camera.picture')),
          h('figure', { class: 'camera-figure' }, pictureBox, caption),
          scene.scene ? h('div', { class: 'camera-scene-toggle' }, sceneToggle, h('label', { for: 'camera-show-scene' }, t('camera.showScene'))) : null,
          sceneNote),
        hasCap(cam, 'events')
          ? h('section', { class: 'card', 'aria-labelledby': 'camera-events-title' },
            h('div', { class: 'camera-section-head' }, h('h2', { id: 'camera-events-title' }, t('camera.events')),
              button(t('common.refresh'), reloadEvents, 'ghost')),
            eventsBox)
          : null),
      h('div', { class: 'camera-side' },
        h('section', { class: 'card', 'aria-labelledby': 'camera-status-title' },
          h('h2', { id: 'camera-status-title' }, t('camera.status')), statusBox),
        h('section', { class: 'card', 'aria-labelledby': 'camera-caps-title' },
          h('h2', { id: 'camera-caps-title' }, t('camera.capabilities')), caps),
        h('section', { class: 'card', 'aria-labelledby': 'camera-registry-title' },
          h('h2', { id: 'camera-registry-title' }, t('camera.registry')), registry))));

  drawStatus();
  drawEvents(events);
  showPlaceholder(t('camera.noSnapshot'));
  refreshPicture();

  async function refreshStatus() {
    if (!alive || document.hidden) return;
    try {
      cam = await api.get(path(id));
      if (alive) drawStatus();
    } catch {
      /* keep the last status */
    }
  }
  const onVisibility = () => {
    if (!document.hidden) refreshPicture();
  };
  document.addEventListener('visibilitychange', onVisibility);
  timers.push(setInterval(refreshPicture, SNAPSHOT_EVERY), setInterval(refreshStatus, STATUS_EVERY));
  return () => {
    alive = false;
    for (const tm of timers) clearInterval(tm);
    document.removeEventListener('visibilitychange', onVisibility);
    if (snapURL) URL.revokeObjectURL(snapURL);
  };
}

// dl builds a description list from [[label key, value], ...] (null rows skipped).
function dl(rows) {
  return h('dl', { class: 'camera-dl' }, rows.filter(Boolean).map(([k, v]) => [h('dt', {}, t(k)), h('dd', {}, v)]));
}

// eventDetail summarises an event: its line, zone, in/out counts, object class, counts and detail.
function eventDetail(e) {
  const parts = [];
  if (e.line) parts.push(t('camera.ev.line', { id: e.line }));
  if (e.zone) parts.push(t('camera.ev.zone', { id: e.zone }));
  const m = e.measures || {};
  if ('in' in m || 'out' in m) parts.push(t('camera.ev.inOut', { in: fmtNumber(m.in || 0), out: fmtNumber(m.out || 0) }));
  if (e.object?.class) parts.push(t(`class.${e.object.class}`));
  if (e.counts) {
    parts.push(Object.entries(e.counts).sort((a, b) => b[1] - a[1])
      .map(([c, n]) => `${t(`class.${c}`)} ${fmtNumber(n)}`).join(', '));
  }
  if (e.detail) parts.push(e.detail);
  return parts.join(' · ') || t('camera.none');
}
