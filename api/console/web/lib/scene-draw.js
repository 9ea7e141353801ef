// Drawing a camera's scene (counting lines, zones, lanes, signals) over its
// picture. Scene coordinates are normalised to the frame (x right, y down,
// 0..1); the drawing is an SVG with viewBox 0 0 1000 1000 stretched over the
// picture (preserveAspectRatio none), so geometry follows the picture
// whatever its size and aspect. Strokes keep their width on screen
// (vector-effect non-scaling-stroke), and text and arrow heads are drawn in
// screen pixels (groups that undo the stretch, redrawn when the picture
// changes size), so labels stay legible and arrows keep their shape.
//
// A counting line's "in" direction is crossing from the left of A→B to its
// right (analyzer/scene): the arrow crosses the line towards its right side.

import { s } from './dom.js';
import { addMessages, t } from './i18n.js';

addMessages({
  vi: {
    'sceneDraw.in': 'vào',
    'sceneDraw.stop': 'vạch dừng',
    'sceneDraw.kind.crowd': 'Tụ tập đông người',
    'sceneDraw.kind.no_parking': 'Cấm đỗ xe',
    'sceneDraw.kind.restricted': 'Khu vực hạn chế',
    'sceneDraw.kind.smoke_watch': 'Theo dõi khói, lửa',
    'sceneDraw.kind.ignore': 'Vùng bỏ qua',
    'sceneDraw.line': 'Đường đếm',
    'sceneDraw.zone': 'Vùng',
    'sceneDraw.lane': 'Làn đường',
    'sceneDraw.signal': 'Đèn tín hiệu',
    'sceneDraw.summary': 'Hình vẽ cảnh: {items}',
    'sceneDraw.empty': 'Camera chưa có cảnh (đường đếm, vùng, làn, đèn tín hiệu).',
    'sceneDraw.object': 'đối tượng',
  },
  en: {
    'sceneDraw.in': 'in',
    'sceneDraw.stop': 'stop line',
    'sceneDraw.kind.crowd': 'Crowd',
    'sceneDraw.kind.no_parking': 'No parking',
    'sceneDraw.kind.restricted': 'Restricted',
    'sceneDraw.kind.smoke_watch': 'Smoke and fire watch',
    'sceneDraw.kind.ignore': 'Ignored area',
    'sceneDraw.line': 'Counting line',
    'sceneDraw.zone': 'Zone',
    'sceneDraw.lane': 'Lane',
    'sceneDraw.signal': 'Signal',
    'sceneDraw.summary': 'Scene drawing: {items}',
    'sceneDraw.empty': 'The camera has no scene (counting lines, zones, lanes, signals).',
    'sceneDraw.object': 'object',
  },
});

// VIEW is the size of the drawing's coordinate system (normalised × VIEW).
export const VIEW = 1000;

// ZONE_KINDS are the kinds of zone the engine knows (analyzer/scene).
export const ZONE_KINDS = ['crowd', 'no_parking', 'restricted', 'smoke_watch', 'ignore'];

// Colours chosen to stand out on daylight and night pictures; every stroke
// and text also has a dark halo under it.
const COLOR = {
  line: '#ffd60a',
  lane: '#4ade80',
  signal: '#22d3ee',
  stop: '#ff6b6b',
  object: '#ff3bd4',
  zone: { crowd: '#60a5fa', no_parking: '#fb923c', restricted: '#f87171', smoke_watch: '#d8b4fe', ignore: '#cbd5e1' },
};

// zoneColor is the colour of a zone kind.
export const zoneColor = (kind) => COLOR.zone[kind] || '#e5e7eb';

// itemColor is the colour an item of a list (lines, zones, lanes, signals) is drawn with.
export function itemColor(list, item) {
  if (list === 'zones') return zoneColor(item?.kind);
  return { lines: COLOR.line, lanes: COLOR.lane, signals: COLOR.signal }[list] || '#fff';
}

// DEFAULT_SIZE is the pixel size assumed until the drawing is laid out.
export const DEFAULT_SIZE = { w: 960, h: 540 };

const finite = (v) => typeof v === 'number' && Number.isFinite(v);
// ok reports whether p is a point [x, y] of finite numbers.
const ok = (p) => Array.isArray(p) && finite(p[0]) && finite(p[1]);
const okAll = (pts, min) => Array.isArray(pts) && pts.length >= min && pts.every(ok);
const X = (p) => p[0] * VIEW;
const Y = (p) => p[1] * VIEW;
const thin = { 'vector-effect': 'non-scaling-stroke', 'stroke-linejoin': 'round', 'stroke-linecap': 'round' };

// inNormal returns the unit vector, in screen pixels, pointing to the right
// of A→B (the side a counting line's "in" crossing goes to), for a picture
// of size {w, h}; null for a degenerate line.
export function inNormal(a, b, size = DEFAULT_SIZE) {
  const dx = (b[0] - a[0]) * size.w;
  const dy = (b[1] - a[1]) * size.h;
  const len = Math.hypot(dx, dy);
  if (len < 1e-6) return null;
  // y grows downwards: the right of (dx, dy) is (-dy, dx).
  return { x: -dy / len, y: dx / len };
}

// atPixel is a group placed at the normalised point p whose own unit is one
// screen pixel (it undoes the stretch of the drawing).
export function atPixel(p, size, ...children) {
  return s('g', { transform: `translate(${X(p)} ${Y(p)}) scale(${VIEW / size.w} ${VIEW / size.h})` }, children);
}

// label is a text with a dark halo, in pixels, at (x, y) of a pixel group.
export function label(text, color, { x = 0, y = 0, anchor = 'start', size = 13, weight = 600 } = {}) {
  return s('text', {
    x, y, fill: color, stroke: '#000', 'stroke-width': 3, 'stroke-opacity': 0.8, 'paint-order': 'stroke',
    'stroke-linejoin': 'round', 'font-size': size, 'font-weight': weight, 'text-anchor': anchor,
    'dominant-baseline': 'middle', 'font-family': 'system-ui, "Noto Sans", "DejaVu Sans", Arial, sans-serif',
  }, text);
}

// arrow is an arrow in pixels from (x1, y1) to (x2, y2) of a pixel group.
export function arrow(x1, y1, x2, y2, color, width = 2.5) {
  const len = Math.hypot(x2 - x1, y2 - y1) || 1;
  const ux = (x2 - x1) / len;
  const uy = (y2 - y1) / len;
  const head = 9;
  const bx = x2 - ux * head;
  const by = y2 - uy * head;
  const tip = `${x2},${y2} ${bx - uy * head * 0.6},${by + ux * head * 0.6} ${bx + uy * head * 0.6},${by - ux * head * 0.6}`;
  return s('g', { class: 'arrow' },
    s('line', { x1, y1, x2: bx, y2: by, stroke: '#000', 'stroke-opacity': 0.7, 'stroke-width': width + 2.5, ...thin }),
    s('polygon', { points: tip, fill: color, stroke: '#000', 'stroke-opacity': 0.7, 'stroke-width': 1.5, ...thin }),
    s('line', { x1, y1, x2: bx, y2: by, stroke: color, 'stroke-width': width, ...thin }));
}

// segment draws a line between two normalised points with a dark halo;
// hit adds a wide transparent stroke that catches the pointer.
function segment(a, b, color, width, hit) {
  const at = { x1: X(a), y1: Y(a), x2: X(b), y2: Y(b) };
  return [
    hit ? s('line', { ...at, stroke: 'transparent', 'stroke-width': 14, class: 'hit', ...thin }) : null,
    s('line', { ...at, stroke: '#000', 'stroke-opacity': 0.65, 'stroke-width': width + 2.5, ...thin }),
    s('line', { ...at, stroke: color, 'stroke-width': width, ...thin }),
  ];
}

// outline draws a polygon (filled when fill is set) with a dark halo.
function outline(pts, color, width, { fill, dash } = {}) {
  const points = pts.map((p) => `${X(p)},${Y(p)}`).join(' ');
  return [
    s('polygon', { points, fill: 'none', stroke: '#000', 'stroke-opacity': 0.55, 'stroke-width': width + 2, ...thin }),
    s('polygon', { points, fill: fill ? color : 'none', 'fill-opacity': fill || 0, stroke: color, 'stroke-width': width,
      'stroke-dasharray': dash || null, ...thin }),
  ];
}

// crossing draws the "in" arrow of the segment A→B across its middle and
// returns the pixel group (null for a degenerate segment), with labels.
function crossing(a, b, color, size, idText, inText) {
  const n = inNormal(a, b, size);
  if (!n) return null;
  const mid = [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
  return atPixel(mid, size,
    arrow(-n.x * 12, -n.y * 12, n.x * 34, n.y * 34, color),
    inText ? label(inText, color, { x: n.x * 48, y: n.y * 48, anchor: 'middle', size: 12 }) : null,
    idText ? label(idText, color, { x: -n.x * 30, y: -n.y * 30, anchor: 'middle' }) : null);
}

const centroid = (pts) => [pts.reduce((a, p) => a + p[0], 0) / pts.length, pts.reduce((a, p) => a + p[1], 0) / pts.length];

// kindName is the translated name of a zone kind.
export const kindName = (kind) => t(`sceneDraw.kind.${kind}`);

// paintScene draws scene into the SVG group g (of a drawing with viewBox
// 0 0 1000 1000 over a picture of size {w, h} pixels). Options:
//   highlight {line, zone, key}: emphasise the item with that id (any list)
//     or key ("zones:2") and dim the others;
//   object: an event's box [x1, y1, x2, y2] (or {box, class}) to draw;
//   hit: add pointer targets (the scene editor);
//   endpoints: mark the points A and B of lines (the scene editor).
// Every item is a <g data-item="list:index">.
export function paintScene(g, scene, { highlight, object, size = DEFAULT_SIZE, hit = false, endpoints = false } = {}) {
  const ids = new Set([highlight?.line, highlight?.zone].filter(Boolean));
  const key = highlight?.key;
  const any = ids.size > 0 || Boolean(key);
  const emph = (list, i, it) => (key ? key === `${list}:${i}` : ids.has(it.id));
  const group = (list, i, it) => {
    const on = emph(list, i, it);
    return { on, g: s('g', { class: `scene-item${on ? ' highlight' : ''}`, 'data-item': `${list}:${i}`, opacity: any && !on ? 0.55 : null }) };
  };
  const sc = scene || {};

  // Zones first (under everything), ignore zones at the very bottom.
  const zones = (sc.zones || []).map((z, i) => [z, i]).sort((p, q) => (q[0].kind === 'ignore') - (p[0].kind === 'ignore'));
  for (const [z, i] of zones) {
    if (!okAll(z.polygon, 3)) continue;
    const { on, g: zg } = group('zones', i, z);
    const color = zoneColor(z.kind);
    zg.append(...outline(z.polygon, color, on ? 3.5 : 2, { fill: on ? 0.32 : 0.2, dash: z.kind === 'ignore' ? '6 4' : null }));
    zg.append(atPixel(centroid(z.polygon), size, label(z.id || '', color, { anchor: 'middle', y: -8, weight: 700 }),
      label(kindName(z.kind), color, { anchor: 'middle', y: 8, size: 12, weight: 500 })));
    g.append(zg);
  }

  (sc.lanes || []).forEach((l, i) => {
    if (!okAll(l.polygon, 3)) return;
    const { on, g: lg } = group('lanes', i, l);
    lg.append(...outline(l.polygon, COLOR.lane, on ? 3.5 : 2, { fill: on ? 0.18 : 0.08, dash: '8 5' }));
    const c = centroid(l.polygon);
    const d = l.direction;
    const parts = [label(l.id || '', COLOR.lane, { anchor: 'middle', y: 30 })];
    if (ok(d)) {
      const dx = d[0] * size.w;
      const dy = d[1] * size.h;
      const len = Math.hypot(dx, dy);
      if (len > 1e-9) parts.unshift(arrow(-dx / len * 22, -dy / len * 22, dx / len * 22, dy / len * 22, COLOR.lane, 3.5));
    }
    lg.append(atPixel(c, size, parts));
    g.append(lg);
  });

  (sc.signals || []).forEach((sg, i) => {
    const { on, g: gg } = group('signals', i, sg);
    const w = on ? 3.5 : 2;
    if (okAll(sg.roi, 2)) {
      const [p, q] = sg.roi;
      const r = { x: X([Math.min(p[0], q[0]), 0]), y: Y([0, Math.min(p[1], q[1])]), width: Math.abs(q[0] - p[0]) * VIEW, height: Math.abs(q[1] - p[1]) * VIEW };
      gg.append(s('rect', { ...r, fill: 'none', stroke: '#000', 'stroke-opacity': 0.6, 'stroke-width': w + 2, ...thin }),
        s('rect', { ...r, fill: COLOR.signal, 'fill-opacity': 0.12, stroke: COLOR.signal, 'stroke-width': w, ...thin }),
        atPixel([Math.min(p[0], q[0]), Math.min(p[1], q[1])], size, label(sg.id || '', COLOR.signal, { y: -10 })));
    }
    if (okAll(sg.stop_line, 2)) {
      const [a, b] = sg.stop_line;
      gg.append(...segment(a, b, COLOR.stop, on ? 4 : 3, hit));
      const c = crossing(a, b, COLOR.stop, size, `${sg.id || ''} · ${t('sceneDraw.stop')}`, t('sceneDraw.in'));
      if (c) gg.append(c);
      if (endpoints) gg.append(...ends(a, b, COLOR.stop, size));
    }
    g.append(gg);
  });

  (sc.lines || []).forEach((l, i) => {
    if (!okAll(l.points, 2)) return;
    const { on, g: lg } = group('lines', i, l);
    const [a, b] = l.points;
    lg.append(...segment(a, b, COLOR.line, on ? 4.5 : 3, hit));
    const c = crossing(a, b, COLOR.line, size, l.id || '', t('sceneDraw.in'));
    if (c) lg.append(c);
    if (endpoints) lg.append(...ends(a, b, COLOR.line, size));
    g.append(lg);
  });

  const box = Array.isArray(object) ? object : object?.box;
  if (Array.isArray(box) && box.length === 4 && box.every(finite)) {
    const [x1, y1, x2, y2] = box;
    const r = { x: Math.min(x1, x2) * VIEW, y: Math.min(y1, y2) * VIEW, width: Math.abs(x2 - x1) * VIEW, height: Math.abs(y2 - y1) * VIEW };
    const og = s('g', { class: 'scene-object' },
      s('rect', { ...r, fill: 'none', stroke: '#000', 'stroke-opacity': 0.7, 'stroke-width': 4.5, ...thin }),
      s('rect', { ...r, fill: 'none', stroke: COLOR.object, 'stroke-width': 2.5, ...thin }));
    const cls = object?.class;
    if (cls) og.append(atPixel([Math.min(x1, x2), Math.min(y1, y2)], size, label(t(`class.${cls}`), COLOR.object, { y: -10 })));
    g.append(og);
  }
  return g;
}

// ends marks the points A and B of a segment.
function ends(a, b, color, size) {
  return [a, b].map((p, k) => atPixel(p, size,
    s('circle', { r: 4, fill: color, stroke: '#000', 'stroke-width': 1.5 }),
    label(k ? 'B' : 'A', color, { x: 8, y: -9, size: 12, weight: 700 })));
}

// sceneSummary is a short text of what the scene holds (the drawing's
// text alternative): "Counting line center; Zone plaza (Crowd)".
export function sceneSummary(scene) {
  const parts = [];
  for (const l of scene?.lines || []) parts.push(`${t('sceneDraw.line')} ${l.id}`);
  for (const z of scene?.zones || []) parts.push(`${t('sceneDraw.zone')} ${z.id} (${kindName(z.kind)})`);
  for (const l of scene?.lanes || []) parts.push(`${t('sceneDraw.lane')} ${l.id}`);
  for (const sg of scene?.signals || []) parts.push(`${t('sceneDraw.signal')} ${sg.id}`);
  return parts.length ? t('sceneDraw.summary', { items: parts.join('; ') }) : t('sceneDraw.empty');
}

// watchSize calls redraw({w, h}) whenever the element's pixel size changes
// (ignoring a zero size while hidden).
export function watchSize(el, redraw) {
  let last = null;
  const ro = new ResizeObserver((entries) => {
    const r = entries[entries.length - 1].contentRect;
    if (r.width < 2 || r.height < 2) return;
    if (last && Math.abs(r.width - last.w) < 0.5 && Math.abs(r.height - last.h) < 0.5) return;
    last = { w: r.width, h: r.height };
    redraw(last);
  });
  ro.observe(el);
  return () => ro.disconnect();
}

// sceneOverlay returns an <svg class="overlay"> drawing scene, to lay over
// the camera's picture (inside a .picture box). Options: highlight {line,
// zone} emphasises the item an event is about; object is the event's box
// [x1, y1, x2, y2] (normalised) or {box, class}; aspect (width/height) is
// the picture's, used until the drawing is laid out.
export function sceneOverlay(scene, { highlight, object, aspect } = {}) {
  const svg = s('svg', { class: 'overlay scene-overlay', viewBox: `0 0 ${VIEW} ${VIEW}`, preserveAspectRatio: 'none',
    role: 'img', 'aria-label': sceneSummary(scene), focusable: 'false' });
  svg.style.pointerEvents = 'none';
  let size = aspect > 0 ? { w: DEFAULT_SIZE.w, h: DEFAULT_SIZE.w / aspect } : DEFAULT_SIZE;
  const draw = () => svg.replaceChildren(paintScene(s('g'), scene, { highlight, object, size }));
  draw();
  watchSize(svg, (sz) => {
    size = sz;
    draw();
  });
  return svg;
}
