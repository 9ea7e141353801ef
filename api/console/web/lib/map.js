// An SVG map of camera locations drawn from their coordinates alone (no
// map tiles, nothing fetched): an equirectangular projection scaled by the
// cosine of the cameras' mean latitude, fitted to their bounding box, with
// a light coordinate grid, a scale bar, a north arrow, district labels and
// one marker per camera. Markers are buttons for the keyboard too (Tab,
// Enter, Space). Cameras without a position (0, 0) are listed beside the
// map.
//
//   cameraMap(cameras, {onSelect(camera), marker(camera) → {kind, label?}, selected})
//
// kind is ok | warn | bad | info | muted (colour and shape of the marker);
// label names the state in the marker's accessible name and the legend;
// selected is the id of the camera to ring.

import { h, s } from './dom.js';
import { addMessages, t, fmtNumber } from './i18n.js';

addMessages({
  vi: {
    'map.name': 'Bản đồ vị trí camera',
    'map.desc': '{n} camera có toạ độ được vẽ theo vị trí. Mỗi điểm là một nút: dùng Tab để di chuyển, Enter hoặc phím cách để chọn.',
    'map.none': 'Chưa camera nào có toạ độ để vẽ lên bản đồ.',
    'map.noPosition': 'Chưa có vị trí ({n})',
    'map.noPositionHint': 'Các camera này chưa khai báo toạ độ.',
    'map.north': 'B',
    'map.northName': 'Hướng bắc',
    'map.lat': '{v}° B',
    'map.latS': '{v}° N',
    'map.lon': '{v}° Đ',
    'map.lonW': '{v}° T',
    'map.km': '{v} km',
    'map.m': '{v} m',
    'map.scale': 'Thước tỉ lệ',
    'map.legend': 'Chú giải',
    'map.marker': '{name}: {state}',
  },
  en: {
    'map.name': 'Map of camera locations',
    'map.desc': '{n} cameras with coordinates drawn at their positions. Each point is a button: Tab moves between them, Enter or Space selects.',
    'map.none': 'No camera has coordinates to place on the map.',
    'map.noPosition': 'No position ({n})',
    'map.noPositionHint': 'These cameras have no coordinates yet.',
    'map.north': 'N',
    'map.northName': 'North',
    'map.lat': '{v}° N',
    'map.latS': '{v}° S',
    'map.lon': '{v}° E',
    'map.lonW': '{v}° W',
    'map.km': '{v} km',
    'map.m': '{v} m',
    'map.scale': 'Scale bar',
    'map.legend': 'Legend',
    'map.marker': '{name}: {state}',
  },
});

// Drawing size (the SVG scales uniformly to its box).
const W = 1000;
const H = 620;
const PAD = 70;
const EARTH_KM = 6371.0088;
const RAD = Math.PI / 180;
// The smallest extent shown, in km (a single camera or cameras at one point).
const MIN_SPAN_KM = 0.6;

// Marker colours (3:1 against the map's background at least) and shapes,
// so that the state does not rest on colour alone.
const KIND = {
  ok: { color: '#1a7f37', shape: 'circle' },
  warn: { color: '#b45309', shape: 'diamond' },
  bad: { color: '#c0262d', shape: 'square' },
  info: { color: '#1d5fb8', shape: 'circle' },
  muted: { color: '#5f6b7a', shape: 'ring' },
};

let seq = 0;

// hasPosition reports whether the camera has coordinates (0, 0 is "not set").
export const hasPosition = (c) =>
  Number.isFinite(c?.lat) && Number.isFinite(c?.lon) && !(c.lat === 0 && c.lon === 0) && Math.abs(c.lat) <= 90 && Math.abs(c.lon) <= 180;

function defaultMarker(camera) {
  const st = camera?.status?.state || 'unknown';
  const kind = { online: 'ok', degraded: 'warn', offline: 'bad', connecting: 'info' }[st] || 'muted';
  return { kind, label: t(`camera.state.${st}`) };
}

// niceStep returns the smallest of 1, 2, 5 × 10^k at least v.
function niceStep(v) {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

// decimals is how many decimals a grid step needs.
const decimals = (step) => Math.max(0, -Math.floor(Math.log10(step) + 1e-9));

// cameraMap returns the map element (see the file comment).
export function cameraMap(cameras, { onSelect, marker = defaultMarker, selected } = {}) {
  const id = `map${++seq}`;
  const list = [...(cameras || [])].sort((a, b) => String(a.name || a.id).localeCompare(String(b.name || b.id), 'vi'));
  const placed = list.filter(hasPosition);
  const unplaced = list.filter((c) => !hasPosition(c));
  const select = (c) => onSelect && onSelect(c);

  const svg = s('svg', { class: 'map-svg', viewBox: `0 0 ${W} ${H}`, role: 'group', 'aria-labelledby': `${id}-name`,
    'aria-describedby': `${id}-desc`, 'data-testid': 'camera-map-svg' });
  svg.append(s('title', { id: `${id}-name` }, t('map.name')));
  svg.append(s('rect', { x: 0, y: 0, width: W, height: H, class: 'map-bg' }));

  const used = new Map(); // kind → label, for the legend
  if (!placed.length) {
    svg.append(s('text', { x: W / 2, y: H / 2, class: 'map-empty', 'text-anchor': 'middle' }, t('map.none')));
  } else {
    const proj = projection(placed);
    svg.append(grid(proj), districts(placed, proj));
    const markers = s('g', { class: 'map-markers' });
    for (const { camera, x, y, label } of placeLabels(spread(placed, proj))) {
      const m = { ...defaultMarker(camera), ...(marker(camera) || {}) };
      if (!KIND[m.kind]) m.kind = 'muted';
      if (m.label && !used.has(`${m.kind}|${m.label}`)) used.set(`${m.kind}|${m.label}`, m);
      markers.append(markerEl(camera, x, y, label, m, camera.id === selected, selected !== undefined, select));
    }
    svg.append(markers, scaleBar(proj), northArrow());
  }

  const legend = used.size
    ? h('ul', { class: 'map-legend', 'aria-label': t('map.legend') },
      [...used.values()].map((m) => h('li', {}, legendIcon(m.kind), m.label)))
    : null;

  return h('div', { class: 'camera-map', 'data-testid': 'camera-map' },
    h('figure', { class: 'map-figure' },
      svg,
      h('figcaption', { id: `${id}-desc`, class: 'map-desc muted' }, placed.length ? t('map.desc', { n: placed.length }) : t('map.none')),
      legend),
    unplaced.length
      ? h('aside', { class: 'map-unplaced', 'aria-labelledby': `${id}-unplaced` },
        h('h2', { id: `${id}-unplaced` }, t('map.noPosition', { n: unplaced.length })),
        h('p', { class: 'muted' }, t('map.noPositionHint')),
        h('ul', {}, unplaced.map((c) => {
          const m = { ...defaultMarker(c), ...(marker(c) || {}) };
          return h('li', {}, h('button', { type: 'button', class: `map-unplaced-item${c.id === selected ? ' selected' : ''}`,
            'data-camera': c.id, 'aria-pressed': selected !== undefined ? String(c.id === selected) : null,
            onclick: () => select(c) }, legendIcon(KIND[m.kind] ? m.kind : 'muted'), h('span', {}, c.name || c.id),
          m.label ? h('span', { class: 'muted' }, ` · ${m.label}`) : null));
        })))
      : null);
}

// projection fits the cameras' bounding box (km on an equirectangular
// projection around their mean latitude) into the drawing.
function projection(cams) {
  const lat0 = cams.reduce((a, c) => a + c.lat, 0) / cams.length;
  const kx = EARTH_KM * RAD * Math.cos(lat0 * RAD); // km per degree of longitude
  const ky = EARTH_KM * RAD; // km per degree of latitude
  const xs = cams.map((c) => c.lon * kx);
  const ys = cams.map((c) => -c.lat * ky);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const spanX = Math.max(x1 - x0, MIN_SPAN_KM);
  const spanY = Math.max(y1 - y0, MIN_SPAN_KM);
  const scale = Math.min((W - 2 * PAD) / spanX, (H - 2 * PAD) / spanY); // px per km
  const cx = (x0 + x1) / 2;
  const cy = (y0 + y1) / 2;
  return {
    scale,
    x: (lon) => W / 2 + (lon * kx - cx) * scale,
    y: (lat) => H / 2 + (-lat * ky - cy) * scale,
    lon: (px) => ((px - W / 2) / scale + cx) / kx,
    lat: (py) => -((py - H / 2) / scale + cy) / ky,
  };
}

// grid draws meridians and parallels at a round step, labelled.
function grid(proj) {
  const g = s('g', { class: 'map-grid', 'aria-hidden': 'true' });
  const latTop = proj.lat(0);
  const latBottom = proj.lat(H);
  const lonLeft = proj.lon(0);
  const lonRight = proj.lon(W);
  const latStep = niceStep((latTop - latBottom) / 5);
  const lonStep = niceStep((lonRight - lonLeft) / 7);
  const fmt = (v, step) => fmtNumber(Math.abs(v), { minimumFractionDigits: decimals(step), maximumFractionDigits: decimals(step) });
  for (let k = Math.ceil(latBottom / latStep); k * latStep <= latTop; k++) {
    const lat = k * latStep;
    const y = proj.y(lat);
    g.append(s('line', { x1: 0, x2: W, y1: y, y2: y }));
    if (y > 20 && y < H - 30) g.append(s('text', { x: 6, y: y - 4, class: 'map-grid-label' }, t(lat >= 0 ? 'map.lat' : 'map.latS', { v: fmt(lat, latStep) })));
  }
  for (let k = Math.ceil(lonLeft / lonStep); k * lonStep <= lonRight; k++) {
    const lon = k * lonStep;
    const x = proj.x(lon);
    g.append(s('line', { x1: x, x2: x, y1: 0, y2: H }));
    if (x > 90 && x < W - 80) g.append(s('text', { x: x + 4, y: H - 8, class: 'map-grid-label' }, t(lon >= 0 ? 'map.lon' : 'map.lonW', { v: fmt(lon, lonStep) })));
  }
  return g;
}

// districts writes each district's name at the centroid of its cameras.
function districts(cams, proj) {
  const g = s('g', { class: 'map-districts', 'aria-hidden': 'true' });
  const by = new Map();
  for (const c of cams) {
    const d = (c.district || '').trim();
    if (!d) continue;
    if (!by.has(d)) by.set(d, []);
    by.get(d).push(c);
  }
  for (const [name, cs] of by) {
    const x = cs.reduce((a, c) => a + proj.x(c.lon), 0) / cs.length;
    const y = cs.reduce((a, c) => a + proj.y(c.lat), 0) / cs.length;
    // Above the cluster, so that it does not hide the markers.
    const top = Math.min(...cs.map((c) => proj.y(c.lat)));
    g.append(s('text', { x, y: Math.max(28, Math.min(y, top) - 26), 'text-anchor': 'middle', class: 'map-district' }, name));
  }
  return g;
}

// spread places each camera, moving cameras that fall on (nearly) the same
// point around a small circle so that every marker can be seen and clicked.
function spread(cams, proj) {
  const groups = []; // {x, y, members}
  for (const c of cams) {
    const x = proj.x(c.lon);
    const y = proj.y(c.lat);
    const near = groups.find((g) => Math.hypot(g.x - x, g.y - y) < 18);
    if (near) {
      near.members.push({ camera: c, x, y });
      near.x = near.members.reduce((a, m) => a + m.x, 0) / near.members.length;
      near.y = near.members.reduce((a, m) => a + m.y, 0) / near.members.length;
    } else {
      groups.push({ x, y, members: [{ camera: c, x, y }] });
    }
  }
  const out = [];
  for (const g of groups) {
    if (g.members.length === 1) {
      out.push(g.members[0]);
      continue;
    }
    const r = Math.max(14, g.members.length * 5);
    g.members.forEach((p, i) => {
      const a = (2 * Math.PI * i) / g.members.length - Math.PI / 2;
      out.push({ camera: p.camera, x: g.x + r * Math.cos(a), y: g.y + r * Math.sin(a) });
    });
  }
  return out;
}

// placeLabels picks for each marker a label position (right, left, above,
// below) that overlaps no marker and no label placed before; a label that
// fits nowhere is left out (the name stays in the tooltip and the
// accessible name).
function placeLabels(points) {
  const boxes = points.map((p) => ({ x0: p.x - 10, y0: p.y - 10, x1: p.x + 10, y1: p.y + 10 }));
  const hit = (b) => boxes.some((o) => b.x0 < o.x1 && o.x0 < b.x1 && b.y0 < o.y1 && o.y0 < b.y1);
  const inside = (b) => b.x0 >= 2 && b.x1 <= W - 2 && b.y0 >= 2 && b.y1 <= H - 2;
  for (const p of points) {
    const name = p.camera.name || p.camera.id;
    const w = name.length * 7.6 + 4;
    const candidates = [
      { x: p.x + 13, y: p.y + 4.5, anchor: 'start', b: { x0: p.x + 12, y0: p.y - 9, x1: p.x + 14 + w, y1: p.y + 8 } },
      { x: p.x - 13, y: p.y + 4.5, anchor: 'end', b: { x0: p.x - 14 - w, y0: p.y - 9, x1: p.x - 12, y1: p.y + 8 } },
      { x: p.x, y: p.y - 15, anchor: 'middle', b: { x0: p.x - w / 2, y0: p.y - 28, x1: p.x + w / 2, y1: p.y - 11 } },
      { x: p.x, y: p.y + 25, anchor: 'middle', b: { x0: p.x - w / 2, y0: p.y + 11, x1: p.x + w / 2, y1: p.y + 28 } },
    ];
    const c = candidates.find((k) => inside(k.b) && !hit(k.b));
    p.label = c || null;
    if (c) boxes.push(c.b);
  }
  return points;
}

function shapeEl(kind, x, y, r) {
  const { color, shape } = KIND[kind];
  switch (shape) {
    case 'square':
      return s('rect', { x: x - r * 0.85, y: y - r * 0.85, width: r * 1.7, height: r * 1.7, fill: color, class: 'map-shape' });
    case 'diamond':
      return s('polygon', { points: `${x},${y - r * 1.15} ${x + r * 1.15},${y} ${x},${y + r * 1.15} ${x - r * 1.15},${y}`, fill: color, class: 'map-shape' });
    case 'ring':
      return s('circle', { cx: x, cy: y, r: r * 0.8, fill: '#fff', stroke: color, 'stroke-width': 3.5, class: 'map-shape ring' });
    default:
      return s('circle', { cx: x, cy: y, r, fill: color, class: 'map-shape' });
  }
}

function legendIcon(kind) {
  return s('svg', { class: 'map-legend-icon', viewBox: '0 0 20 20', width: 16, height: 16, 'aria-hidden': 'true' }, shapeEl(kind, 10, 10, 7));
}

// markerEl is one camera's marker: a focusable button with its name and state.
function markerEl(camera, x, y, label, m, isSelected, pressable, select) {
  const name = camera.name || camera.id;
  return s('g', {
    class: `map-marker ${m.kind}${isSelected ? ' selected' : ''}`, tabindex: 0, role: 'button', 'data-camera': camera.id,
    'aria-label': m.label ? t('map.marker', { name, state: m.label }) : name,
    'aria-pressed': pressable ? String(isSelected) : null,
    onclick: () => select(camera),
    onkeydown: (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        select(camera);
      }
    },
  },
  s('title', {}, m.label ? `${name} — ${m.label}` : name),
  isSelected ? s('circle', { cx: x, cy: y, r: 17, class: 'map-selected-ring' }) : null,
  s('circle', { cx: x, cy: y, r: 15, class: 'map-focus-ring' }),
  shapeEl(m.kind, x, y, 8),
  label ? s('text', { x: label.x, y: label.y, class: 'map-label', 'text-anchor': label.anchor }, name) : null);
}

// scaleBar draws a bar of a round length (about a sixth of the width).
function scaleBar(proj) {
  const km = niceStep(W / 6 / proj.scale);
  const len = km * proj.scale;
  const x = W - 24 - len;
  const y = H - 36;
  const text = km < 1 ? t('map.m', { v: fmtNumber(Math.round(km * 1000)) }) : t('map.km', { v: fmtNumber(km) });
  return s('g', { class: 'map-scale', role: 'img', 'aria-label': `${t('map.scale')}: ${text}` },
    s('rect', { x: x - 6, y: y - 22, width: len + 12, height: 34, class: 'map-scale-bg' }),
    s('path', { d: `M${x} ${y - 6} V${y} H${x + len} V${y - 6}`, class: 'map-scale-bar' }),
    s('text', { x: x + len / 2, y: y - 9, 'text-anchor': 'middle', class: 'map-scale-label' }, text));
}

function northArrow() {
  const x = W - 40;
  const y = 30;
  return s('g', { class: 'map-north', role: 'img', 'aria-label': t('map.northName') },
    s('circle', { cx: x, cy: y + 16, r: 22, class: 'map-north-bg' }),
    s('polygon', { points: `${x},${y} ${x + 8},${y + 24} ${x},${y + 19} ${x - 8},${y + 24}`, class: 'map-north-arrow' }),
    s('text', { x, y: y + 36, 'text-anchor': 'middle', class: 'map-north-label' }, t('map.north')));
}
