// The scene editor (/console/cameras/:id/scene): the camera's counting
// lines, zones, lanes and signals drawn on its latest picture. An
// administrator draws new items (a line by two clicks A→B; a zone or a lane
// by clicking its outline, then a lane's direction by two clicks; a signal
// by dragging its box, then its stop line by two clicks), selects an item
// to edit its id, classes, kind and numbers, drags its points, types its
// coordinates (the keyboard way to edit geometry), deletes it, undoes, and
// saves (PUT /cameras/{id}/scene: the server validates and names what is
// wrong). Other users see the scene read-only.

import * as api from '../lib/api.js';
import { h, s, replace } from '../lib/dom.js';
import { addMessages, t, fmtDateTime } from '../lib/i18n.js';
import { link } from '../lib/router.js';
import { isAdmin, hasCap } from '../lib/session.js';
import { pageHeader, field, select, button, errorBox, refusalBox, notify, badge, dialog } from '../lib/ui.js';
import { paintScene, watchSize, atPixel, VIEW, ZONE_KINDS, kindName, itemColor, DEFAULT_SIZE } from '../lib/scene-draw.js';
import { fetchSnapshot } from './wall.js';

addMessages({
  vi: {
    'scene.title': 'Cảnh của camera {name}',
    'scene.back': 'Về trang camera',
    'scene.backWall': 'Về màn hình camera',
    'scene.refusedTitle': 'Không mở được cảnh',
    'scene.refused': 'Camera không tồn tại hoặc bạn không được phép xem camera này.',
    'scene.canvas': 'Khung vẽ cảnh trên ảnh của camera {name}. Dùng chuột để vẽ; với bàn phím: phím mũi tên di chuyển con trỏ, phím cách đặt điểm. Có thể nhập toạ độ trong phần “Mục đang chọn”.',
    'scene.tools': 'Công cụ vẽ',
    'scene.tool.line': 'Vẽ đường đếm',
    'scene.tool.zone': 'Vẽ vùng',
    'scene.tool.lane': 'Vẽ làn đường',
    'scene.tool.signal': 'Vẽ đèn tín hiệu',
    'scene.newZoneKind': 'Loại của vùng mới',
    'scene.finish': 'Hoàn tất hình',
    'scene.cancelDraw': 'Huỷ nét đang vẽ',
    'scene.undo': 'Hoàn tác',
    'scene.reload': 'Tải lại từ máy chủ',
    'scene.discardTitle': 'Bỏ các thay đổi chưa lưu?',
    'scene.discardText': 'Cảnh sẽ được tải lại từ máy chủ; các thay đổi chưa lưu sẽ mất.',
    'scene.discard': 'Bỏ thay đổi',
    'scene.unsaved': 'Có thay đổi chưa lưu',
    'scene.saving': 'Đang lưu…',
    'scene.saved': 'Đã lưu cảnh. Máy phân tích áp dụng cảnh mới từ khung hình tiếp theo.',
    'scene.readOnly': 'Chế độ chỉ đọc: chỉ quản trị viên của hệ thống quản lý camera mới sửa được cảnh.',
    'scene.noScene': 'Camera chưa có cảnh. Hãy vẽ rồi bấm “Lưu” để tạo.',
    'scene.noSceneRO': 'Camera chưa có cảnh.',
    'scene.noSnapshot': 'Chưa có ảnh từ camera; vẫn có thể vẽ trên khung trống.',
    'scene.snapshotAt': 'Ảnh chụp lúc {time}; tự làm mới 5 giây một lần.',
    'scene.pictureAlt': 'Ảnh mới nhất của camera {name}',
    'scene.items': 'Các mục trong cảnh',
    'scene.noItems': 'Chưa có mục nào.',
    'scene.item': 'Mục đang chọn',
    'scene.selectHint': 'Chọn một mục trong danh sách hoặc trên ảnh để xem và sửa.',
    'scene.selectHintRO': 'Chọn một mục trong danh sách hoặc trên ảnh để xem chi tiết.',
    'scene.f.id': 'Mã',
    'scene.f.idHint': 'Chữ cái không dấu, chữ số, “-”, “_” hoặc “.”; không trùng với mục khác.',
    'scene.f.kind': 'Loại vùng',
    'scene.f.anchor': 'Điểm của đối tượng được xét khi qua đường',
    'scene.anchor.auto': 'Mặc định: chân người, tâm phương tiện',
    'scene.anchor.center': 'Tâm khung',
    'scene.anchor.bottom': 'Giữa cạnh dưới khung',
    'scene.f.threshold': 'Ngưỡng cảnh báo',
    'scene.f.thresholdHint': 'Số người (hoặc người/m² khi có diện tích); 0: chỉ đếm, không cảnh báo.',
    'scene.f.clear': 'Ngưỡng hết cảnh báo',
    'scene.f.clearHint': 'Nhỏ hơn ngưỡng cảnh báo; 0: lấy 0,8 × ngưỡng cảnh báo.',
    'scene.f.area': 'Diện tích mặt đất (m²)',
    'scene.f.areaHint': 'Không bắt buộc; khi có, ngưỡng tính theo người/m².',
    'scene.f.hold': 'Thời gian duy trì',
    'scene.f.dwell': 'Thời gian đỗ tối đa',
    'scene.f.durationHint': 'Ví dụ 30s, 2m; để trống: dùng mặc định.',
    'scene.fs.legend': 'Khói, lửa: cách lấy khung hình (cả camera)',
    'scene.fs.mode': 'Chế độ',
    'scene.fs.video': 'Video: 2 khung/giây, cả khung hình',
    'scene.fs.stills': 'Ảnh tĩnh: một khung đủ độ phân giải mỗi khoảng, chia ô khi ảnh lớn (camera rừng)',
    'scene.fs.interval': 'Khoảng cách giữa hai khung',
    'scene.fs.intervalHint': 'Video 100ms–5s (mặc định 0,5s); ảnh tĩnh 1s–2m (mặc định 10s).',
    'scene.f.classes': 'Loại đối tượng áp dụng',
    'scene.f.classesHint': 'Không chọn loại nào: áp dụng cho mọi loại.',
    'scene.f.crowdClassesHint': 'Không chọn loại nào: chỉ đếm người.',
    'scene.f.direction': 'Hướng đi trên màn hình',
    'scene.f.dx': 'dx (dương: sang phải)',
    'scene.f.dy': 'dy (dương: xuống dưới)',
    'scene.f.x': 'x (0–1, từ trái)',
    'scene.f.y': 'y (0–1, từ trên)',
    'scene.geometry': 'Toạ độ (tỉ lệ 0–1 của khung hình)',
    'scene.pt.A': 'Điểm A',
    'scene.pt.B': 'Điểm B',
    'scene.pt.vertex': 'Đỉnh {n}',
    'scene.pt.roi0': 'Hộp đèn: góc trên bên trái',
    'scene.pt.roi1': 'Hộp đèn: góc dưới bên phải',
    'scene.pt.stop0': 'Vạch dừng: điểm A',
    'scene.pt.stop1': 'Vạch dừng: điểm B',
    'scene.reverse': 'Đảo chiều “vào”',
    'scene.reverseLane': 'Đảo hướng đi',
    'scene.addVertex': 'Thêm đỉnh',
    'scene.removeVertex': 'Xoá đỉnh {n}',
    'scene.delete': 'Xoá mục này',
    'scene.inHint': 'Chiều “vào”: đi qua đường từ bên trái sang bên phải của A→B (theo mũi tên).',
    'scene.help.idle': 'Chọn một công cụ để vẽ, hoặc nhấp vào một mục trên ảnh để chọn rồi kéo các điểm của nó.',
    'scene.help.idleRO': 'Nhấp vào một mục trên ảnh hoặc trong danh sách để xem chi tiết.',
    'scene.help.line0': 'Nhấp điểm đầu A của đường đếm.',
    'scene.help.line1': 'Nhấp điểm cuối B. Đi qua đường từ bên trái sang bên phải của A→B là chiều “vào” (mũi tên).',
    'scene.help.polygon': 'Nhấp để thêm đỉnh (đã có {n}). Nhấp đúp, nhấn Enter hoặc bấm “Hoàn tất hình” để kết thúc; cần ít nhất 3 đỉnh.',
    'scene.help.direction0': 'Nhấp điểm đầu của hướng đi trên làn.',
    'scene.help.direction1': 'Nhấp điểm cuối của hướng đi.',
    'scene.help.roi0': 'Kéo chuột khoanh hộp đèn tín hiệu, hoặc nhấp hai góc đối diện.',
    'scene.help.roi1': 'Nhấp góc đối diện của hộp đèn.',
    'scene.help.stop0': 'Nhấp điểm A của vạch dừng.',
    'scene.help.stop1': 'Nhấp điểm B của vạch dừng. Đi qua vạch từ bên trái sang bên phải của A→B là đi vào giao lộ.',
    'scene.help.min3': 'Cần ít nhất 3 đỉnh để kết thúc hình.',
    'scene.help.keys': 'Bàn phím trên khung vẽ: phím mũi tên di chuyển con trỏ (giữ Shift để đi nhanh), phím cách đặt điểm, Enter kết thúc hình, Backspace bỏ điểm vừa đặt, Esc huỷ nét đang vẽ, Delete xoá mục đang chọn. Ctrl+Z: hoàn tác.',
    'scene.added': 'Đã thêm {what}.',
    'scene.deletedItem': 'Đã xoá {what}.',
    'scene.undone': 'Đã hoàn tác.',
  },
  en: {
    'scene.title': 'Scene of camera {name}',
    'scene.back': 'Back to the camera page',
    'scene.backWall': 'Back to the camera wall',
    'scene.refusedTitle': 'Scene unavailable',
    'scene.refused': 'This camera does not exist or you are not allowed to see it.',
    'scene.canvas': 'Scene drawing over the picture of camera {name}. Draw with the mouse; with the keyboard, arrow keys move the cursor and Space places a point. Coordinates can also be typed under “Selected item”.',
    'scene.tools': 'Drawing tools',
    'scene.tool.line': 'Draw counting line',
    'scene.tool.zone': 'Draw zone',
    'scene.tool.lane': 'Draw lane',
    'scene.tool.signal': 'Draw signal',
    'scene.newZoneKind': 'Kind of new zone',
    'scene.finish': 'Finish shape',
    'scene.cancelDraw': 'Cancel drawing',
    'scene.undo': 'Undo',
    'scene.reload': 'Reload from server',
    'scene.discardTitle': 'Discard unsaved changes?',
    'scene.discardText': 'The scene will be reloaded from the server; unsaved changes will be lost.',
    'scene.discard': 'Discard changes',
    'scene.unsaved': 'Unsaved changes',
    'scene.saving': 'Saving…',
    'scene.saved': 'Scene saved. The engine applies it from the next frame.',
    'scene.readOnly': 'Read-only: only administrators of the system that manages the camera can edit its scene.',
    'scene.noScene': 'The camera has no scene yet. Draw, then press “Save” to create it.',
    'scene.noSceneRO': 'The camera has no scene.',
    'scene.noSnapshot': 'No picture from the camera yet; you can still draw on the blank frame.',
    'scene.snapshotAt': 'Picture taken at {time}; refreshed every 5 seconds.',
    'scene.pictureAlt': 'Latest picture of camera {name}',
    'scene.items': 'Items of the scene',
    'scene.noItems': 'No items yet.',
    'scene.item': 'Selected item',
    'scene.selectHint': 'Select an item in the list or on the picture to see and edit it.',
    'scene.selectHintRO': 'Select an item in the list or on the picture to see its details.',
    'scene.f.id': 'Id',
    'scene.f.idHint': 'Letters without accents, digits, “-”, “_” or “.”; unique in the scene.',
    'scene.f.kind': 'Zone kind',
    'scene.f.anchor': 'Point of an object that crosses',
    'scene.anchor.auto': 'Default: feet of people, centre of vehicles',
    'scene.anchor.center': 'Centre of the box',
    'scene.anchor.bottom': 'Middle of the box’s bottom edge',
    'scene.f.threshold': 'Alert threshold',
    'scene.f.thresholdHint': 'People (or people per m² when the area is set); 0 counts without alerting.',
    'scene.f.clear': 'Clear threshold',
    'scene.f.clearHint': 'Below the alert threshold; 0 means 0.8 × the alert threshold.',
    'scene.f.area': 'Ground area (m²)',
    'scene.f.areaHint': 'Optional; when set, the threshold is in people per m².',
    'scene.f.hold': 'Hold time',
    'scene.f.dwell': 'Longest stay',
    'scene.f.durationHint': 'For example 30s, 2m; empty uses the default.',
    'scene.fs.legend': 'Smoke and fire: how frames are taken (whole camera)',
    'scene.fs.mode': 'Mode',
    'scene.fs.video': 'Video: 2 frames/s, whole picture',
    'scene.fs.stills': 'Stills: one full-resolution frame per interval, tiled when large (forest cameras)',
    'scene.fs.interval': 'Time between two frames',
    'scene.fs.intervalHint': 'Video 100ms–5s (default 0.5s); stills 1s–2m (default 10s).',
    'scene.f.classes': 'Classes concerned',
    'scene.f.classesHint': 'None checked: every class.',
    'scene.f.crowdClassesHint': 'None checked: people only.',
    'scene.f.direction': 'Direction of travel on screen',
    'scene.f.dx': 'dx (positive: right)',
    'scene.f.dy': 'dy (positive: down)',
    'scene.f.x': 'x (0–1, from the left)',
    'scene.f.y': 'y (0–1, from the top)',
    'scene.geometry': 'Coordinates (share 0–1 of the frame)',
    'scene.pt.A': 'Point A',
    'scene.pt.B': 'Point B',
    'scene.pt.vertex': 'Vertex {n}',
    'scene.pt.roi0': 'Signal box: top-left corner',
    'scene.pt.roi1': 'Signal box: bottom-right corner',
    'scene.pt.stop0': 'Stop line: point A',
    'scene.pt.stop1': 'Stop line: point B',
    'scene.reverse': 'Reverse “in” direction',
    'scene.reverseLane': 'Reverse direction',
    'scene.addVertex': 'Add vertex',
    'scene.removeVertex': 'Remove vertex {n}',
    'scene.delete': 'Delete this item',
    'scene.inHint': '“In” is crossing from the left of A→B to its right (along the arrow).',
    'scene.help.idle': 'Pick a tool to draw, or click an item on the picture to select it and drag its points.',
    'scene.help.idleRO': 'Click an item on the picture or in the list to see its details.',
    'scene.help.line0': 'Click the first point A of the counting line.',
    'scene.help.line1': 'Click the end point B. Crossing from the left of A→B to its right is “in” (the arrow).',
    'scene.help.polygon': 'Click to add vertices ({n} so far). Double-click, press Enter or “Finish shape” to end; at least 3 vertices.',
    'scene.help.direction0': 'Click where the lane’s direction of travel starts.',
    'scene.help.direction1': 'Click where the direction of travel ends.',
    'scene.help.roi0': 'Drag a box around the signal head, or click two opposite corners.',
    'scene.help.roi1': 'Click the opposite corner of the signal box.',
    'scene.help.stop0': 'Click point A of the stop line.',
    'scene.help.stop1': 'Click point B of the stop line. Crossing from the left of A→B to its right is entering the junction.',
    'scene.help.min3': 'A shape needs at least 3 vertices.',
    'scene.help.keys': 'Keyboard on the drawing: arrow keys move the cursor (Shift: faster), Space places a point, Enter finishes a shape, Backspace removes the last point, Esc cancels the drawing, Delete removes the selected item. Ctrl+Z: undo.',
    'scene.added': '{what} added.',
    'scene.deletedItem': '{what} deleted.',
    'scene.undone': 'Undone.',
  },
});

// CLASSES are the classes an item may be limited to.
const CLASSES = ['car', 'truck', 'bus', 'motorcycle', 'bicycle', 'person'];
const LISTS = ['lines', 'zones', 'lanes', 'signals'];
const TOOL_LIST = { line: 'lines', zone: 'zones', lane: 'lanes', signal: 'signals' };
const ID_PREFIX = { lines: 'line', zones: 'zone', lanes: 'lane', signals: 'signal' };
const LIST_NAME = { lines: 'sceneDraw.line', zones: 'sceneDraw.zone', lanes: 'sceneDraw.lane', signals: 'sceneDraw.signal' };
const SNAPSHOT_EVERY = 5000;
const MAX_VERTICES = 64;
const NEAR = 0.012; // how close a click must be to a vertex to close a shape

const r3 = (v) => Math.round(v * 1000) / 1000;
const clamp01 = (v) => Math.min(1, Math.max(0, v));
const dist = (p, q) => Math.hypot(p[0] - q[0], p[1] - q[1]);
const copy = (v) => JSON.parse(JSON.stringify(v));
const path = (id) => `/cameras/${encodeURIComponent(id)}`;

// normalise makes a scene from the API safe to edit: every list present,
// points as [x, y] numbers.
function normalise(sc, camera) {
  const out = { ...(sc || {}), camera };
  for (const l of LISTS) out[l] = Array.isArray(out[l]) ? copy(out[l]) : [];
  return out;
}

// cleaned is the scene as sent to the server: empty and inapplicable
// fields left out, signal boxes ordered top-left then bottom-right. Fields
// the editor does not know are kept.
function cleaned(sc) {
  const dropEmpty = (o) => {
    if (Array.isArray(o.classes) && !o.classes.length) delete o.classes;
    for (const k of ['area_m2', 'threshold', 'clear']) if (k in o && !(Number(o[k]) > 0)) delete o[k];
    for (const k of ['hold', 'dwell']) if (k in o && (o[k] === '' || o[k] === null || o[k] === 0)) delete o[k];
    return o;
  };
  const fs = { ...(sc.firesmoke || {}) };
  if (!fs.mode || fs.mode === 'video') delete fs.mode;
  if (fs.interval === '' || fs.interval === null || fs.interval === 0) delete fs.interval;
  return {
    ...sc,
    firesmoke: Object.keys(fs).length ? fs : undefined,
    lines: sc.lines.map((l) => dropEmpty({ ...l })),
    zones: sc.zones.map((z) => {
      const o = { ...z };
      if (z.kind !== 'crowd') for (const k of ['area_m2', 'threshold', 'clear', 'hold']) delete o[k];
      if (z.kind !== 'no_parking') delete o.dwell;
      if (z.kind === 'smoke_watch') delete o.classes;
      return dropEmpty(o);
    }),
    lanes: sc.lanes.map((l) => dropEmpty({ ...l })),
    signals: sc.signals.map((sg) => {
      const o = { ...sg };
      if (Array.isArray(sg.roi) && sg.roi.length === 2) {
        const [p, q] = sg.roi;
        o.roi = [[Math.min(p[0], q[0]), Math.min(p[1], q[1])], [Math.max(p[0], q[0]), Math.max(p[1], q[1])]];
      }
      return o;
    }),
  };
}

// itemName is "Counting line center".
const itemName = (list, it) => `${t(LIST_NAME[list])} ${it?.id || ''}`.trim();

// geometry lists an item's editable points: [{path, k, label}].
function geometry(list, it) {
  switch (list) {
    case 'lines':
      return [{ path: 'points', k: 0, label: t('scene.pt.A') }, { path: 'points', k: 1, label: t('scene.pt.B') }];
    case 'zones':
    case 'lanes':
      return (it.polygon || []).map((_, k) => ({ path: 'polygon', k, label: t('scene.pt.vertex', { n: k + 1 }) }));
    case 'signals':
      return [{ path: 'roi', k: 0, label: t('scene.pt.roi0') }, { path: 'roi', k: 1, label: t('scene.pt.roi1') },
        { path: 'stop_line', k: 0, label: t('scene.pt.stop0') }, { path: 'stop_line', k: 1, label: t('scene.pt.stop1') }];
    default:
      return [];
  }
}

export async function render(main, params) {
  const id = params.id;
  let cam;
  try {
    cam = await api.get(path(id));
  } catch (err) {
    replace(main, pageHeader(t('scene.refusedTitle')), refusalBox(err, t('scene.refused')),
      h('p', {}, link('/wall', t('scene.backWall'))));
    return null;
  }
  const name = cam.name || cam.id;
  const admin = isAdmin();

  let loaded;
  let missing = false;
  try {
    loaded = await api.get(`${path(id)}/scene`);
  } catch (err) {
    if (err.status !== 404) {
      replace(main, pageHeader(t('scene.title', { name })), errorBox(err), h('p', {}, link(path(id), t('scene.back'))));
      return null;
    }
    missing = true;
    loaded = null;
  }

  // --- state -----------------------------------------------------------------------
  let scene = normalise(loaded, id);
  let savedJSON = JSON.stringify(cleaned(scene));
  let sel = null; // {list, index}
  let tool = null; // line | zone | lane | signal
  let draft = null; // {phase, pts, polygon?, roi?, dragFrom?}
  let hover = null; // pointer position [x, y]
  let cursor = [0.5, 0.5]; // keyboard cursor
  let cursorOn = false;
  let drag = null; // {list, index, path, k} while a point is dragged
  let size = DEFAULT_SIZE;
  const history = [];
  let alive = true;
  let snapURL = null;

  const selected = () => (sel ? scene[sel.list][sel.index] : null);
  const dirty = () => JSON.stringify(cleaned(scene)) !== savedJSON;

  function pushUndo() {
    history.push(JSON.stringify({ scene, sel }));
    if (history.length > 100) history.shift();
  }
  function undo() {
    if (!history.length) return;
    const prev = JSON.parse(history.pop());
    scene = prev.scene;
    sel = prev.sel && scene[prev.sel.list]?.[prev.sel.index] ? prev.sel : null;
    draft = null;
    tool = null;
    changed({ panel: true });
    say(t('scene.undone'));
  }

  // --- elements ------------------------------------------------------------------------
  const img = h('img', { alt: t('scene.pictureAlt', { name }), hidden: true });
  const blank = h('div', { class: 'scene-blank' }, t('scene.noSnapshot'));
  const svg = s('svg', {
    class: `overlay scene-canvas${admin ? ' editable' : ''}`, viewBox: `0 0 ${VIEW} ${VIEW}`, preserveAspectRatio: 'none',
    'data-testid': 'scene-canvas', tabindex: 0, role: 'application', 'aria-label': t('scene.canvas', { name }),
    'aria-describedby': 'scene-help',
  });
  const pictureBox = h('div', { class: 'picture scene-picture' }, img, blank, svg);
  const caption = h('p', { class: 'muted scene-caption' });
  const help = h('p', { id: 'scene-help', class: 'scene-help', 'aria-live': 'polite' });
  const announce = h('div', { class: 'scene-sr-only', 'aria-live': 'polite' });

  const toolButtons = {};
  for (const k of Object.keys(TOOL_LIST)) {
    toolButtons[k] = button(t(`scene.tool.${k}`), () => pickTool(tool === k ? null : k), 'ghost',
      { 'aria-pressed': 'false', dataset: { tool: k } });
  }
  const kindSel = select(ZONE_KINDS.map((k) => [k, kindName(k)]), 'crowd');
  const finishBtn = button(t('scene.finish'), () => finishPolygon(), 'ghost');
  const cancelBtn = button(t('scene.cancelDraw'), () => pickTool(null), 'ghost');
  const undoBtn = button(t('scene.undo'), undo, 'ghost');
  const toolbar = admin
    ? h('div', { class: 'scene-tools card' },
      h('div', { class: 'scene-tool-buttons', role: 'group', 'aria-label': t('scene.tools') }, Object.values(toolButtons)),
      field(t('scene.newZoneKind'), kindSel),
      h('div', { class: 'scene-tool-actions' }, finishBtn, cancelBtn, undoBtn))
    : null;

  const itemsList = h('ul', { class: 'scene-items' });
  const panel = h('div', { class: 'scene-panel' });
  const errorSlot = h('div', { class: 'scene-error' });
  const saveState = h('p', { class: 'scene-save-state', role: 'status' });
  const saveBtn = button(t('common.save'), save, 'primary');
  const reloadBtn = button(t('scene.reload'), reload, 'ghost');

  replace(main,
    h('p', { class: 'camera-back' }, link(path(id), `← ${t('scene.back')}`)),
    pageHeader(t('scene.title', { name })),
    admin ? null : h('p', { class: 'notice', role: 'status' }, t('scene.readOnly')),
    missing ? h('p', { class: 'notice' }, t(admin ? 'scene.noScene' : 'scene.noSceneRO')) : null,
    h('div', { class: 'scene-layout' },
      h('div', { class: 'scene-main' },
        toolbar,
        pictureBox,
        caption,
        help,
        admin ? h('p', { class: 'muted scene-keys' }, t('scene.help.keys')) : null,
        announce),
      h('div', { class: 'scene-side' },
        admin
          ? h('section', { class: 'card scene-save' }, errorSlot, h('div', { class: 'row' }, saveBtn, reloadBtn), saveState)
          : null,
        h('section', { class: 'card', 'aria-labelledby': 'scene-items-title' },
          h('h2', { id: 'scene-items-title' }, t('scene.items')), itemsList),
        h('section', { class: 'card', 'aria-labelledby': 'scene-item-title' },
          h('h2', { id: 'scene-item-title' }, t('scene.item')), panel))));

  // --- drawing --------------------------------------------------------------------------
  function paint() {
    const layer = s('g');
    paintScene(layer, scene, {
      size, hit: true, endpoints: true,
      highlight: sel && !tool ? { key: `${sel.list}:${sel.index}` } : null,
    });
    const extra = [];
    if (admin && sel && !tool) extra.push(handles());
    if (tool && draft) extra.push(paintDraft());
    if (cursorOn && tool) extra.push(crosshair(cursor));
    svg.replaceChildren(layer, ...extra);
    svg.classList.toggle('drawing', Boolean(tool));
  }

  function handles() {
    const it = selected();
    const g = s('g', { class: 'scene-handles' });
    for (const pt of geometry(sel.list, it)) {
      const p = it[pt.path]?.[pt.k];
      if (!Array.isArray(p)) continue;
      g.append(atPixel(p, size, s('circle', { r: 7, class: 'scene-handle', 'data-handle': `${pt.path}:${pt.k}` },
        s('title', {}, pt.label))));
    }
    return g;
  }

  function crosshair(p) {
    return atPixel(p, size, s('g', { class: 'scene-cursor' },
      s('circle', { r: 9 }), s('line', { x1: -16, x2: 16, y1: 0, y2: 0 }), s('line', { x1: 0, x2: 0, y1: -16, y2: 16 })));
  }

  // paintDraft draws the item being drawn, following the pointer.
  function paintDraft() {
    const g = s('g', { class: 'scene-draft' });
    const hv = cursorOn ? cursor : hover;
    const list = TOOL_LIST[tool];
    const color = itemColor(list, { kind: kindSel.value });
    const preview = { lines: [], zones: [], lanes: [], signals: [] };
    const pts = draft.pts;
    if (tool === 'line' && pts.length === 1 && hv) preview.lines.push({ id: '', points: [pts[0], hv] });
    if (tool === 'lane' && draft.polygon) preview.lanes.push({ id: '', polygon: draft.polygon, direction: null });
    if (tool === 'signal') {
      const from = draft.dragFrom || (draft.phase === 'roi' && pts.length === 1 ? pts[0] : null);
      if (from && hv) preview.signals.push({ id: '', roi: [from, hv] });
      if (draft.roi) preview.signals.push({ id: '', roi: draft.roi, stop_line: pts.length === 1 && hv ? [pts[0], hv] : null });
    }
    paintScene(g, preview, { size, endpoints: true });
    const chain = (draft.phase === 'polygon' || draft.phase === 'direction') && pts.length ? [...pts, ...(hv ? [hv] : [])] : [];
    // A shape being drawn shows how it would close.
    if (draft.phase === 'polygon' && chain.length >= 3) chain.push(pts[0]);
    if (chain.length > 1) {
      const points = chain.map((p) => `${p[0] * VIEW},${p[1] * VIEW}`).join(' ');
      g.append(s('polyline', { points, fill: 'none', stroke: '#000', 'stroke-opacity': 0.6, 'stroke-width': 4.5, 'vector-effect': 'non-scaling-stroke' }),
        s('polyline', { points, fill: 'none', stroke: color, 'stroke-width': 2.5, 'stroke-dasharray': '7 5', 'vector-effect': 'non-scaling-stroke' }));
    }
    for (const [k, p] of pts.entries()) {
      g.append(atPixel(p, size, s('circle', { r: k === 0 && draft.phase === 'polygon' && pts.length >= 3 ? 8 : 5, fill: color, stroke: '#000', 'stroke-width': 1.5 })));
    }
    return g;
  }

  // --- tools ------------------------------------------------------------------------------
  function pickTool(k) {
    tool = k;
    draft = k ? { phase: { line: 'points', zone: 'polygon', lane: 'polygon', signal: 'roi' }[k], pts: [] } : null;
    if (k) sel = null;
    changed({ panel: Boolean(k) });
  }

  function nextId(list) {
    const used = new Set(LISTS.flatMap((l) => scene[l].map((it) => it.id)));
    let n = 1;
    while (used.has(`${ID_PREFIX[list]}${n}`)) n++;
    return `${ID_PREFIX[list]}${n}`;
  }

  function commit(list, item) {
    pushUndo();
    scene[list].push(item);
    sel = { list, index: scene[list].length - 1 };
    tool = null;
    draft = null;
    changed({ panel: true });
    say(t('scene.added', { what: itemName(list, item) }));
  }

  function addPoint(p) {
    if (!draft) return;
    const pts = draft.pts;
    switch (`${tool}:${draft.phase}`) {
      case 'line:points':
        if (pts.length === 1 && dist(pts[0], p) < 0.005) return;
        pts.push(p);
        if (pts.length === 2) commit('lines', { id: nextId('lines'), points: pts });
        break;
      case 'zone:polygon':
      case 'lane:polygon':
        if (pts.length >= 3 && dist(pts[0], p) < NEAR) return finishPolygon();
        if (pts.length && dist(pts[pts.length - 1], p) < 0.006) return; // the second press of a double-click
        if (pts.length < MAX_VERTICES) pts.push(p);
        break;
      case 'lane:direction':
        if (pts.length === 1 && dist(pts[0], p) < 0.005) return;
        pts.push(p);
        if (pts.length === 2) {
          commit('lanes', { id: nextId('lanes'), polygon: draft.polygon, direction: [r3(pts[1][0] - pts[0][0]), r3(pts[1][1] - pts[0][1])] });
        }
        break;
      case 'signal:roi':
        if (pts.length === 1 && dist(pts[0], p) < 0.005) return;
        pts.push(p);
        if (pts.length === 2) setRoi(pts[0], pts[1]);
        break;
      case 'signal:stop':
        if (pts.length === 1 && dist(pts[0], p) < 0.005) return;
        pts.push(p);
        if (pts.length === 2) commit('signals', { id: nextId('signals'), roi: draft.roi, stop_line: pts });
        break;
      default:
    }
    changed();
  }

  function setRoi(a, b) {
    draft = { phase: 'stop', pts: [], roi: [[Math.min(a[0], b[0]), Math.min(a[1], b[1])], [Math.max(a[0], b[0]), Math.max(a[1], b[1])]] };
  }

  function finishPolygon() {
    if (!draft || draft.phase !== 'polygon') return;
    if (draft.pts.length < 3) {
      say(t('scene.help.min3'));
      return;
    }
    if (tool === 'zone') {
      commit('zones', { id: nextId('zones'), kind: kindSel.value, polygon: draft.pts });
    } else {
      draft = { phase: 'direction', pts: [], polygon: draft.pts };
      changed();
    }
  }

  function removeLastPoint() {
    if (!draft) return;
    if (draft.pts.length) draft.pts.pop();
    else if (draft.phase === 'direction') draft = { phase: 'polygon', pts: draft.polygon };
    else if (draft.phase === 'stop') draft = { phase: 'roi', pts: [draft.roi[0]] };
    changed();
  }

  function helpText() {
    if (!admin) return t('scene.help.idleRO');
    if (!tool || !draft) return t('scene.help.idle');
    const n = draft.pts.length;
    switch (`${tool}:${draft.phase}`) {
      case 'line:points': return t(n ? 'scene.help.line1' : 'scene.help.line0');
      case 'zone:polygon':
      case 'lane:polygon': return t('scene.help.polygon', { n });
      case 'lane:direction': return t(n ? 'scene.help.direction1' : 'scene.help.direction0');
      case 'signal:roi': return t(n ? 'scene.help.roi1' : 'scene.help.roi0');
      case 'signal:stop': return t(n ? 'scene.help.stop1' : 'scene.help.stop0');
      default: return '';
    }
  }

  function say(text) {
    announce.textContent = '';
    setTimeout(() => {
      announce.textContent = text;
    }, 30);
  }

  // --- pointer and keyboard on the canvas ------------------------------------------------------
  function at(e) {
    const r = svg.getBoundingClientRect();
    return [r3(clamp01((e.clientX - r.left) / r.width)), r3(clamp01((e.clientY - r.top) / r.height))];
  }

  svg.addEventListener('pointerdown', (e) => {
    if (e.button !== 0) return;
    cursorOn = false;
    const p = at(e);
    if (admin && tool) {
      e.preventDefault();
      svg.focus({ preventScroll: true });
      if (tool === 'signal' && draft.phase === 'roi' && !draft.pts.length) {
        draft.dragFrom = p;
        svg.setPointerCapture(e.pointerId);
        paint();
        return;
      }
      addPoint(p);
      return;
    }
    const handle = admin && e.target.closest('[data-handle]');
    if (handle && sel) {
      e.preventDefault();
      const [hp, k] = handle.dataset.handle.split(':');
      pushUndo();
      drag = { path: hp, k: Number(k), moved: false };
      svg.setPointerCapture(e.pointerId);
      return;
    }
    const item = e.target.closest('[data-item]');
    if (item) {
      const [list, index] = item.dataset.item.split(':');
      select2({ list, index: Number(index) });
    } else if (sel) {
      select2(null);
    }
  });

  svg.addEventListener('pointermove', (e) => {
    const p = at(e);
    hover = p;
    if (drag) {
      const it = selected();
      if (it?.[drag.path]) {
        it[drag.path][drag.k] = p;
        drag.moved = true;
      }
      paint();
      return;
    }
    if (tool) paint();
  });

  svg.addEventListener('pointerup', (e) => {
    if (drag) {
      if (!drag.moved) history.pop();
      drag = null;
      svg.releasePointerCapture?.(e.pointerId);
      changed({ panel: true });
      return;
    }
    if (tool === 'signal' && draft?.dragFrom) {
      const a = draft.dragFrom;
      const b = at(e);
      delete draft.dragFrom;
      if (dist(a, b) < 0.01) draft.pts = [a]; // a click: the first of two corners
      else setRoi(a, b);
      changed();
    }
  });

  svg.addEventListener('pointerleave', () => {
    hover = null;
    if (tool && !drag) paint();
  });

  svg.addEventListener('dblclick', (e) => {
    if (tool && draft?.phase === 'polygon') {
      e.preventDefault();
      finishPolygon();
    }
  });

  svg.addEventListener('keydown', (e) => {
    const step = e.shiftKey ? 0.05 : 0.01;
    const move = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] }[e.key];
    if (move && admin && tool) {
      e.preventDefault();
      cursorOn = true;
      cursor = [r3(clamp01(cursor[0] + move[0])), r3(clamp01(cursor[1] + move[1]))];
      paint();
      return;
    }
    if (!admin) return;
    if (tool && (e.key === ' ' || e.key === 'Enter')) {
      e.preventDefault();
      if (e.key === 'Enter' && draft?.phase === 'polygon' && draft.pts.length >= 3) finishPolygon();
      else {
        cursorOn = true;
        addPoint([...cursor]);
      }
      return;
    }
    if (e.key === 'Escape' && tool) {
      e.preventDefault();
      pickTool(null);
      return;
    }
    if (e.key === 'Backspace' && tool) {
      e.preventDefault();
      removeLastPoint();
      return;
    }
    if (e.key === 'Delete' && sel && !tool) {
      e.preventDefault();
      deleteSelected();
    }
  });
  svg.addEventListener('focus', () => {
    if (tool) {
      cursorOn = true;
      paint();
    }
  });
  svg.addEventListener('blur', () => {
    if (cursorOn) {
      cursorOn = false;
      paint();
    }
  });

  const onKey = (e) => {
    if ((e.ctrlKey || e.metaKey) && !e.shiftKey && e.key.toLowerCase() === 'z' && admin) {
      const tag = e.target?.tagName;
      if (tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT') return;
      e.preventDefault();
      undo();
    }
  };
  document.addEventListener('keydown', onKey);

  // --- list and panel --------------------------------------------------------------------------------
  function select2(next) {
    sel = next;
    changed({ panel: true });
  }

  function drawList() {
    const rows = [];
    for (const list of LISTS) {
      scene[list].forEach((it, index) => {
        const on = sel && sel.list === list && sel.index === index;
        const color = itemColor(list, it);
        const sw = h('span', { class: 'scene-swatch', 'aria-hidden': 'true' });
        sw.style.background = color;
        const extra = list === 'zones' ? ` (${kindName(it.kind)})` : '';
        rows.push(h('li', { 'data-testid': 'scene-item', 'data-item': `${list}:${index}`, 'data-id': it.id || '' },
          h('button', { type: 'button', class: `scene-item-btn${on ? ' selected' : ''}`, 'aria-pressed': String(Boolean(on)),
            onclick: () => select2({ list, index }) }, sw, h('span', {}, itemName(list, it) + extra))));
      });
    }
    replace(itemsList, rows.length ? rows : h('li', { class: 'muted' }, t('scene.noItems')));
  }

  // edit applies a change to the selected item (with undo) and redraws.
  function edit(fn, { panel: rebuild = false } = {}) {
    const it = selected();
    if (!it) return;
    pushUndo();
    fn(it);
    changed({ panel: rebuild });
  }

  function numberInput(value, { min, max, step = 'any', onSet }) {
    const input = h('input', { type: 'number', value: value ?? '', min, max, step, inputmode: 'decimal', disabled: !admin });
    input.addEventListener('change', () => {
      let v = Number.parseFloat(input.value);
      if (!Number.isFinite(v)) v = 0;
      if (min !== undefined) v = Math.max(min, v);
      if (max !== undefined) v = Math.min(max, v);
      input.value = String(v);
      onSet(v);
    });
    return input;
  }

  function drawPanel() {
    const it = selected();
    if (!it) {
      replace(panel, h('p', { class: 'muted' }, t(admin ? 'scene.selectHint' : 'scene.selectHintRO')));
      return;
    }
    const list = sel.list;
    const parts = [h('h3', { class: 'scene-panel-title' }, itemName(list, it))];

    const idInput = h('input', { value: it.id || '', autocomplete: 'off', spellcheck: 'false', disabled: !admin, maxlength: 64 });
    idInput.addEventListener('change', () => edit((x) => {
      x.id = idInput.value.trim();
    }));
    parts.push(field(t('scene.f.id'), idInput, t('scene.f.idHint')));

    if (list === 'lines') {
      const as = select(['', 'center', 'bottom'].map((a) => [a, t(`scene.anchor.${a || 'auto'}`)]), it.anchor || '', { disabled: !admin });
      as.addEventListener('change', () => edit((x) => {
        if (as.value) x.anchor = as.value;
        else delete x.anchor;
      }));
      parts.push(field(t('scene.f.anchor'), as));
    }
    if (list === 'zones') {
      const ks = select(ZONE_KINDS.map((k) => [k, kindName(k)]), it.kind, { disabled: !admin });
      ks.addEventListener('change', () => {
        edit((x) => {
          x.kind = ks.value;
        }, { panel: true });
        panel.querySelector('select')?.focus();
      });
      parts.push(field(t('scene.f.kind'), ks));
      if (it.kind === 'crowd') {
        parts.push(h('div', { class: 'scene-fields' },
          field(t('scene.f.threshold'), numberInput(it.threshold || 0, { min: 0, onSet: (v) => edit((x) => { x.threshold = v; }) }), t('scene.f.thresholdHint')),
          field(t('scene.f.clear'), numberInput(it.clear || 0, { min: 0, onSet: (v) => edit((x) => { x.clear = v; }) }), t('scene.f.clearHint')),
          field(t('scene.f.area'), numberInput(it.area_m2 || 0, { min: 0, onSet: (v) => edit((x) => { x.area_m2 = v; }) }), t('scene.f.areaHint')),
          durationField('hold', t('scene.f.hold'))));
      }
      if (it.kind === 'no_parking') parts.push(durationField('dwell', t('scene.f.dwell')));
      if (it.kind === 'smoke_watch') parts.push(fireSmokeFields());
    }

    if (list !== 'signals' && !(list === 'zones' && it.kind === 'smoke_watch')) {
      const boxes = CLASSES.map((c) => {
        const cb = h('input', { type: 'checkbox', checked: (it.classes || []).includes(c), disabled: !admin, value: c });
        cb.addEventListener('change', () => edit((x) => {
          const set = new Set(x.classes || []);
          if (cb.checked) set.add(c);
          else set.delete(c);
          // Keep the order of CLASSES, then any class the editor does not offer.
          x.classes = [...CLASSES.filter((k) => set.has(k)), ...[...set].filter((k) => !CLASSES.includes(k))];
        }));
        return field(t(`class.${c}`), cb);
      });
      const hintId = `scene-classes-hint-${list}`;
      parts.push(h('fieldset', { class: 'scene-classes', 'aria-describedby': hintId },
        h('legend', {}, t('scene.f.classes')),
        h('div', { class: 'scene-class-boxes' }, boxes),
        h('small', { id: hintId, class: 'hint' }, t(list === 'zones' && it.kind === 'crowd' ? 'scene.f.crowdClassesHint' : 'scene.f.classesHint'))));
    }

    if (list === 'lanes') {
      const d = Array.isArray(it.direction) ? it.direction : [0, 0];
      parts.push(h('fieldset', { class: 'scene-point' }, h('legend', {}, t('scene.f.direction')),
        field(t('scene.f.dx'), numberInput(d[0], { min: -1, max: 1, step: 0.01, onSet: (v) => edit((x) => { x.direction = [v, (x.direction || [0, 0])[1]]; }) })),
        field(t('scene.f.dy'), numberInput(d[1], { min: -1, max: 1, step: 0.01, onSet: (v) => edit((x) => { x.direction = [(x.direction || [0, 0])[0], v]; }) })),
        admin ? button(t('scene.reverseLane'), () => edit((x) => { x.direction = (x.direction || [0, 0]).map((v) => (v ? -v : 0)); }, { panel: true }), 'ghost') : null));
    }

    if (admin && (list === 'lines' || list === 'signals')) {
      const key = list === 'lines' ? 'points' : 'stop_line';
      parts.push(h('div', { class: 'scene-reverse' },
        button(t('scene.reverse'), () => edit((x) => { x[key] = [...(x[key] || [])].reverse(); }, { panel: true }), 'ghost'),
        h('small', { class: 'hint' }, t('scene.inHint'))));
    }

    const geo = geometry(list, it);
    const polygon = list === 'zones' || list === 'lanes';
    parts.push(h('fieldset', { class: 'scene-geometry' }, h('legend', {}, t('scene.geometry')),
      geo.map((pt, n) => {
        const p = it[pt.path]?.[pt.k] || [0, 0];
        const setAxis = (axis) => (v) => edit((x) => {
          const q = [...(x[pt.path][pt.k] || [0, 0])];
          q[axis] = r3(v);
          x[pt.path][pt.k] = q;
        });
        return h('fieldset', { class: 'scene-point' }, h('legend', {}, pt.label),
          field(t('scene.f.x'), numberInput(p[0], { min: 0, max: 1, step: 0.001, onSet: setAxis(0) })),
          field(t('scene.f.y'), numberInput(p[1], { min: 0, max: 1, step: 0.001, onSet: setAxis(1) })),
          admin && polygon
            ? button('×', () => edit((x) => { x.polygon.splice(n, 1); }, { panel: true }), 'ghost',
              { 'aria-label': t('scene.removeVertex', { n: n + 1 }), title: t('scene.removeVertex', { n: n + 1 }), disabled: it.polygon.length <= 3 })
            : null);
      }),
      admin && polygon
        ? button(t('scene.addVertex'), () => edit((x) => {
          const pg = x.polygon;
          const a = pg[pg.length - 1];
          const b = pg[0];
          if (pg.length < MAX_VERTICES) pg.push([r3((a[0] + b[0]) / 2), r3((a[1] + b[1]) / 2)]);
        }, { panel: true }), 'ghost')
        : null));

    if (admin) {
      parts.push(h('div', { class: 'scene-delete' }, button(t('scene.delete'), deleteSelected, 'danger')));
    }
    replace(panel, parts);

    // fireSmokeFields edits the scene's fire and smoke sampling, which
    // applies to all its smoke_watch zones.
    function fireSmokeFields() {
      const fs = scene.firesmoke || {};
      const setFS = (fn) => {
        pushUndo();
        scene.firesmoke = { ...(scene.firesmoke || {}) };
        fn(scene.firesmoke);
        changed();
      };
      const mode = select([['video', t('scene.fs.video')], ['stills', t('scene.fs.stills')]], fs.mode || 'video', { disabled: !admin });
      mode.addEventListener('change', () => setFS((x) => { x.mode = mode.value; }));
      const interval = h('input', { value: fs.interval ?? '', autocomplete: 'off', spellcheck: 'false', disabled: !admin, placeholder: '10s' });
      interval.addEventListener('change', () => setFS((x) => { x.interval = interval.value.trim(); }));
      return h('fieldset', { class: 'scene-firesmoke' }, h('legend', {}, t('scene.fs.legend')),
        field(t('scene.fs.mode'), mode),
        field(t('scene.fs.interval'), interval, t('scene.fs.intervalHint')));
    }

    function durationField(key, labelText) {
      const input = h('input', { value: it[key] ?? '', autocomplete: 'off', spellcheck: 'false', disabled: !admin, placeholder: '30s' });
      input.addEventListener('change', () => edit((x) => {
        x[key] = input.value.trim();
      }));
      return field(labelText, input, t('scene.f.durationHint'));
    }
  }

  function deleteSelected() {
    const it = selected();
    if (!it) return;
    const what = itemName(sel.list, it);
    pushUndo();
    scene[sel.list].splice(sel.index, 1);
    sel = null;
    changed({ panel: true });
    say(t('scene.deletedItem', { what }));
    (itemsList.querySelector('button') || svg).focus();
  }

  // changed redraws after any change; panel rebuilds the item's form too
  // (not on each keystroke: the form keeps its focus otherwise).
  function changed({ panel: rebuild = false } = {}) {
    paint();
    drawList();
    if (rebuild) drawPanel();
    help.textContent = helpText();
    for (const [k, b] of Object.entries(toolButtons)) b.setAttribute('aria-pressed', String(tool === k));
    finishBtn.disabled = !(draft?.phase === 'polygon' && draft.pts.length >= 3);
    cancelBtn.disabled = !tool;
    undoBtn.disabled = !history.length;
    if (admin) {
      const d = dirty();
      replace(saveState, d ? badge(t('scene.unsaved'), 'warn') : '');
    }
  }

  // --- saving -------------------------------------------------------------------------------------------
  async function save() {
    replace(errorSlot);
    if (tool) pickTool(null);
    saveBtn.disabled = true;
    replace(saveState, t('scene.saving'));
    try {
      const answer = await api.put(`${path(id)}/scene`, cleaned(scene));
      let fresh = answer;
      try {
        fresh = await api.get(`${path(id)}/scene`);
      } catch {
        /* the PUT's answer is the saved scene too */
      }
      if (!alive) return;
      scene = normalise(fresh && typeof fresh === 'object' ? fresh : cleaned(scene), id);
      savedJSON = JSON.stringify(cleaned(scene));
      history.length = 0;
      if (sel && !scene[sel.list]?.[sel.index]) sel = null;
      changed({ panel: true });
      replace(saveState, h('span', { class: 'scene-saved' }, t('scene.saved')));
      notify(t('scene.saved'));
      refreshPicture();
    } catch (err) {
      if (!alive) return;
      replace(errorSlot, errorBox(err));
      replace(saveState, badge(t('scene.unsaved'), 'warn'));
    } finally {
      saveBtn.disabled = false;
    }
  }

  async function reload() {
    if (dirty()) {
      const ok = await dialog({
        title: t('scene.discardTitle'),
        body: h('p', {}, t('scene.discardText')),
        actions: [{ label: t('common.cancel'), value: '' }, { label: t('scene.discard'), kind: 'danger', value: 'yes' }],
      });
      if (ok !== 'yes') return;
    }
    replace(errorSlot);
    try {
      scene = normalise(await api.get(`${path(id)}/scene`), id);
    } catch (err) {
      if (err.status !== 404) {
        replace(errorSlot, errorBox(err));
        return;
      }
      scene = normalise(null, id);
    }
    savedJSON = JSON.stringify(cleaned(scene));
    history.length = 0;
    sel = null;
    tool = null;
    draft = null;
    changed({ panel: true });
  }

  // --- the picture -------------------------------------------------------------------------------------------
  async function refreshPicture() {
    if (!alive || document.hidden || !hasCap(cam, 'live_view')) return;
    try {
      const snap = await fetchSnapshot(id);
      if (!alive) return URL.revokeObjectURL(snap.url);
      const probe = new Image();
      probe.src = snap.url;
      await probe.decode().catch(() => {});
      if (probe.naturalWidth && probe.naturalHeight) {
        pictureBox.style.aspectRatio = `${probe.naturalWidth} / ${probe.naturalHeight}`;
        pictureBox.style.maxWidth = `calc(62vh * ${probe.naturalWidth / probe.naturalHeight})`;
      }
      img.src = snap.url;
      img.hidden = false;
      blank.hidden = true;
      caption.textContent = snap.at ? t('scene.snapshotAt', { time: fmtDateTime(snap.at) }) : '';
      if (snapURL) URL.revokeObjectURL(snapURL);
      snapURL = snap.url;
    } catch {
      if (!alive || snapURL) return; // keep the last picture on a passing error
      img.hidden = true;
      blank.hidden = false;
    }
  }

  const stopWatch = watchSize(svg, (sz) => {
    size = sz;
    paint();
  });
  const onBeforeUnload = (e) => {
    if (admin && dirty()) e.preventDefault();
  };
  window.addEventListener('beforeunload', onBeforeUnload);
  const timer = setInterval(refreshPicture, SNAPSHOT_EVERY);

  changed({ panel: true });
  refreshPicture();

  return () => {
    alive = false;
    clearInterval(timer);
    stopWatch();
    document.removeEventListener('keydown', onKey);
    window.removeEventListener('beforeunload', onBeforeUnload);
    if (snapURL) URL.revokeObjectURL(snapURL);
  };
}
