// Small SVG charts drawn by the console itself (no library): bar charts,
// stacked or grouped, and line charts. Every chart is a <figure> with
//   - an SVG with role="img" and an aria-label summarising the data,
//   - a legend naming each series next to its colour,
//   - a "show as table" toggle that renders the same data as a table.data
//     (the text alternative),
//   - tooltips on hover and on keyboard focus (arrow keys move between the
//     points of the x axis; the values are also announced).
// The SVG is redrawn at the width of its box (viewBox in CSS pixels, width
// 100%), so text keeps its size whatever the screen.
//
// Data: series [{label, values: [{x, y}], kind?, color?}]. x is a Date, a
// string or a number; the points of every series are laid on one shared,
// evenly spaced x axis in order of first appearance (buckets of equal
// length, classes, offsets). y is a number or null (no value: a gap).
// kind: 'bar' or 'line' (default: the chart's own), 'dashed' (a dashed
// line). color: any CSS colour; by default the palette below, whose colours
// all have a contrast of at least 4.5:1 on white. A value may carry its own
// color (a bar of its own colour, e.g. one per class).

import { h, s, replace } from './dom.js';
import { addMessages, t, fmtHour, fmtNumber } from './i18n.js';

addMessages({
  vi: {
    'chart.showTable': 'Xem dạng bảng',
    'chart.hideTable': 'Ẩn bảng',
    'chart.x': 'Mốc',
    'chart.total': 'Tổng',
    'chart.legend': 'Chú giải',
    'chart.kind.bar': 'Biểu đồ cột',
    'chart.kind.stacked': 'Biểu đồ cột chồng',
    'chart.kind.line': 'Biểu đồ đường',
    'chart.summary': '{kind}: {title}. {series}. {n} mốc, từ {first} đến {last}. Cao nhất {max} ({where}).',
    'chart.summaryEmpty': '{kind}: {title}. Không có dữ liệu.',
    'chart.seriesList': 'Chuỗi dữ liệu: {names}',
    'chart.keys': 'Dùng phím mũi tên trái, phải để xem từng mốc; bảng số liệu có ở nút “Xem dạng bảng”.',
    'chart.empty': 'Không có dữ liệu để vẽ biểu đồ.',
  },
  en: {
    'chart.showTable': 'Show as table',
    'chart.hideTable': 'Hide table',
    'chart.x': 'Point',
    'chart.total': 'Total',
    'chart.legend': 'Legend',
    'chart.kind.bar': 'Bar chart',
    'chart.kind.stacked': 'Stacked bar chart',
    'chart.kind.line': 'Line chart',
    'chart.summary': '{kind}: {title}. {series}. {n} points, from {first} to {last}. Highest {max} ({where}).',
    'chart.summaryEmpty': '{kind}: {title}. No data.',
    'chart.seriesList': 'Series: {names}',
    'chart.keys': 'Use the left and right arrow keys to read each point; the numbers are also under “Show as table”.',
    'chart.empty': 'No data to chart.',
  },
});

// PALETTE: distinguishable hues, each ≥ 4.5:1 on white (blue 6.7, orange
// 5.5, green 5.3, purple 7.6, magenta 5.9, teal 5.7, olive 4.9, grey 7.3,
// red 7.8).
export const PALETTE = ['#0b5cad', '#b34700', '#1e7b34', '#6a3d9a', '#c2185b', '#00727a', '#8a6d00', '#4a5866', '#a4161a'];

const AXIS_TEXT = '#4a5866';
const GRID = '#d5dbe1';
const AXIS = '#8a96a3';
const DEFAULT_WIDTH = 960;
// MAX_BAR is the widest bar (CSS pixels); MAX_MARKERS the most points a
// line marks with dots.
const MAX_BAR = 72;
const MAX_MARKERS = 48;

let chartSeq = 0;

// barChart draws bars: one band per x, the series stacked (stacked: true)
// or side by side. Options: series, stacked, title, yLabel, xFormat(x)
// (axis labels; default: hours for Dates), xTitle(x) (tooltips and table;
// default xFormat), xHeader (the table's first column), yFormat(y),
// height (CSS pixels, default 300), legend (false: none, when the x labels
// or a table beside name the colours).
export function barChart(opts) {
  return chart({ ...opts, type: 'bar' });
}

// lineChart draws one line per series; same options as barChart.
export function lineChart(opts) {
  return chart({ ...opts, type: 'line' });
}

function chart(opts) {
  const id = `chart${++chartSeq}`;
  const series = (opts.series || []).map((sr, i) => ({
    ...sr,
    color: sr.color || PALETTE[i % PALETTE.length],
    kind: sr.kind || opts.type,
  }));
  const xFormat = opts.xFormat || defaultX;
  const xTitle = opts.xTitle || xFormat;
  const yFormat = opts.yFormat || ((v) => fmtNumber(v));
  const title = opts.title || '';
  const stacked = Boolean(opts.stacked) && opts.type === 'bar';

  // The shared x axis: every distinct x in order of first appearance, and
  // each series' y per x (null when absent).
  const cats = [];
  const index = new Map();
  for (const sr of series) {
    for (const v of sr.values || []) {
      const k = keyOf(v.x);
      if (!index.has(k)) {
        index.set(k, cats.length);
        cats.push(v.x);
      }
    }
  }
  const grid = series.map((sr) => {
    const ys = new Array(cats.length).fill(null);
    for (const v of sr.values || []) ys[index.get(keyOf(v.x))] = num(v.y);
    return ys;
  });
  // Per-point colours (bars only), when a value names one.
  const colours = series.map((sr) => {
    const cs = new Array(cats.length).fill(null);
    for (const v of sr.values || []) if (v.color) cs[index.get(keyOf(v.x))] = v.color;
    return cs;
  });
  const data = { series, cats, grid, colours, stacked, type: opts.type, xFormat, xTitle, yFormat, yLabel: opts.yLabel || '', xHeader: opts.xHeader, height: opts.height || 300 };

  const kindText = t(opts.type === 'line' ? 'chart.kind.line' : stacked ? 'chart.kind.stacked' : 'chart.kind.bar');
  const fig = h('figure', { class: 'chart', id });
  if (title) fig.append(h('figcaption', { class: 'chart-title' }, title));
  if (!cats.length || !series.length) {
    fig.append(h('p', { class: 'empty' }, t('chart.empty')));
    return fig;
  }

  const hintId = `${id}-keys`;
  const live = h('div', { class: 'chart-sr', 'aria-live': 'polite' });
  const tip = h('div', { class: 'chart-tip', hidden: true });
  const plot = h('div', { class: 'chart-plot' });
  const legend = opts.legend === false ? h('span') : h('ul', { class: 'chart-legend', 'aria-label': t('chart.legend') },
    series.map((sr) => h('li', {}, swatch(sr), sr.label)));
  const tableId = `${id}-table`;
  const tableBox = h('div', { class: 'chart-table', id: tableId, hidden: true });
  const toggle = h('button', { type: 'button', class: 'btn ghost chart-toggle', 'aria-expanded': 'false', 'aria-controls': tableId,
    onclick: () => {
      const show = tableBox.hidden;
      if (show && !tableBox.firstChild) tableBox.append(dataTable(data, title));
      tableBox.hidden = !show;
      toggle.setAttribute('aria-expanded', String(show));
      toggle.textContent = t(show ? 'chart.hideTable' : 'chart.showTable');
    } }, t('chart.showTable'));

  const summary = summarise(data, kindText, title);
  let width = 0;
  let focusIdx = -1;
  let svg = null;
  let geom = null;

  function draw(w) {
    width = w;
    const built = drawSVG(data, w);
    svg = built.svg;
    geom = built.geom;
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', summary);
    svg.setAttribute('aria-describedby', hintId);
    svg.setAttribute('tabindex', '0');
    svg.addEventListener('mousemove', (e) => show(pointerIndex(e), false));
    svg.addEventListener('mouseleave', () => {
      if (document.activeElement !== svg) hide();
      else show(focusIdx, false);
    });
    svg.addEventListener('focus', () => show(focusIdx < 0 ? cats.length - 1 : focusIdx, true));
    svg.addEventListener('blur', hide);
    svg.addEventListener('keydown', onKey);
    replace(plot, svg, tip);
  }

  function pointerIndex(e) {
    const r = svg.getBoundingClientRect();
    const x = ((e.clientX - r.left) * width) / r.width;
    const i = Math.floor((x - geom.left) / geom.band);
    return Math.max(0, Math.min(cats.length - 1, i));
  }

  function onKey(e) {
    let i = focusIdx;
    if (e.key === 'ArrowRight' || e.key === 'ArrowUp') i += 1;
    else if (e.key === 'ArrowLeft' || e.key === 'ArrowDown') i -= 1;
    else if (e.key === 'Home') i = 0;
    else if (e.key === 'End') i = cats.length - 1;
    else if (e.key === 'PageUp') i += 10;
    else if (e.key === 'PageDown') i -= 10;
    else if (e.key === 'Escape') return hide();
    else return;
    e.preventDefault();
    show(Math.max(0, Math.min(cats.length - 1, i)), true);
  }

  function show(i, announce) {
    if (i < 0 || !geom) return;
    focusIdx = i;
    const band = svg.querySelector('.chart-hover');
    band.setAttribute('x', geom.left + geom.band * i);
    band.setAttribute('width', geom.band);
    band.removeAttribute('visibility');
    const lines = tipLines(data, i);
    replace(tip, h('strong', {}, xTitle(cats[i])), lines.map((l) => h('div', { class: 'chart-tip-row' }, l.sr ? swatch(l.sr) : null, `${l.label}: ${l.value}`)));
    tip.hidden = false;
    // Place the tip beside the band, inside the plot.
    const scale = plot.clientWidth / width || 1;
    const cx = (geom.left + geom.band * (i + 0.5)) * scale;
    const tw = tip.offsetWidth;
    let left = cx + 12;
    if (left + tw > plot.clientWidth) left = Math.max(0, cx - tw - 12);
    tip.style.left = `${left}px`;
    tip.style.top = `${Math.round(geom.top * scale)}px`;
    if (announce) live.textContent = `${xTitle(cats[i])}. ${lines.map((l) => `${l.label}: ${l.value}`).join('; ')}`;
  }

  function hide() {
    tip.hidden = true;
    svg?.querySelector('.chart-hover')?.setAttribute('visibility', 'hidden');
  }

  draw(DEFAULT_WIDTH);
  const ro = new ResizeObserver((entries) => {
    const w = Math.round(entries[0].contentRect.width);
    if (w > 0 && Math.abs(w - width) > 2) draw(w);
  });
  ro.observe(plot);

  fig.append(plot, h('p', { id: hintId, class: 'chart-sr' }, t('chart.keys')), live,
    h('div', { class: 'chart-foot' }, legend, toggle), tableBox);
  return fig;
}

// drawSVG builds the SVG at width w: axes, grid, bars and lines, and the
// hover band; it returns the SVG and the geometry of the plot area.
function drawSVG(d, w) {
  const { series, cats, grid, stacked } = d;
  const H = d.height;
  const max = maxValue(d);
  const yt = niceTicks(max, grid.flat().every((v) => v === null || Number.isInteger(v)));
  const yLabels = yt.ticks.map((v) => d.yFormat(v));
  const left = 14 + Math.max(...yLabels.map((l) => l.length)) * 7.5;
  const top = d.yLabel ? 30 : 14;
  const bottom = 34;
  const right = 16;
  const pw = Math.max(40, w - left - right);
  const ph = Math.max(40, H - top - bottom);
  const band = pw / cats.length;
  const y = (v) => top + ph - (v / yt.top) * ph;

  const svg = s('svg', { viewBox: `0 0 ${w} ${H}`, width: '100%', class: 'chart-svg' });
  if (d.yLabel) svg.append(s('text', { x: 4, y: 14, class: 'chart-ylabel', fill: AXIS_TEXT }, d.yLabel));

  // y grid and labels
  const gy = s('g', { class: 'chart-yaxis' });
  yt.ticks.forEach((v, i) => {
    const yy = y(v);
    gy.append(s('line', { x1: left, x2: left + pw, y1: yy, y2: yy, stroke: v === 0 ? AXIS : GRID, 'stroke-width': 1 }),
      s('text', { x: left - 6, y: yy + 4, 'text-anchor': 'end', fill: AXIS_TEXT }, yLabels[i]));
  });
  svg.append(gy);

  // x labels: as many as fit, on a regular step
  const labels = cats.map((c) => d.xFormat(c));
  const widest = Math.max(...labels.map((l) => String(l).length)) * 7.5 + 14;
  const need = Math.ceil((widest * cats.length) / pw);
  const step = [1, 2, 3, 4, 6, 8, 12, 16, 24, 48, 96, 168, 336, 672].find((n) => n >= need) || need;
  const gx = s('g', { class: 'chart-xaxis' });
  cats.forEach((c, i) => {
    if (i % step) return;
    const cx = left + band * (i + 0.5);
    gx.append(s('line', { x1: cx, x2: cx, y1: top + ph, y2: top + ph + 4, stroke: AXIS }),
      s('text', { x: cx, y: top + ph + 18, 'text-anchor': 'middle', fill: AXIS_TEXT }, labels[i]));
  });
  svg.append(gx);

  // bars
  const bars = series.map((sr, j) => ({ sr, j })).filter(({ sr }) => sr.kind === 'bar');
  const lines = series.map((sr, j) => ({ sr, j })).filter(({ sr }) => sr.kind !== 'bar');
  if (bars.length) {
    const g = s('g', { class: 'chart-bars' });
    const inner = Math.min(band * (stacked || bars.length === 1 ? 0.7 : 0.84), MAX_BAR * (stacked ? 1 : bars.length));
    const bw = stacked ? inner : inner / bars.length;
    cats.forEach((c, i) => {
      let base = 0;
      bars.forEach(({ sr, j }, k) => {
        const v = grid[j][i];
        if (v === null || v === 0) return;
        const x0 = left + band * i + (band - inner) / 2 + (stacked ? 0 : k * bw);
        const y0 = stacked ? base + v : v;
        const rect = s('rect', { x: x0, y: y(y0), width: Math.max(1, bw - (bw > 4 ? 1 : 0)), height: Math.max(0.5, y(stacked ? base : 0) - y(y0)),
          fill: d.colours[j][i] || sr.color }, s('title', {}, `${d.xTitle(c)} — ${sr.label}: ${d.yFormat(v)}`));
        if (stacked) base += v;
        g.append(rect);
      });
    });
    svg.append(g);
  }

  // lines (broken at missing values), with markers when few points
  for (const { sr, j } of lines) {
    const g = s('g', { class: 'chart-line' });
    let path = '';
    let pen = false;
    cats.forEach((c, i) => {
      const v = grid[j][i];
      if (v === null) {
        pen = false;
        return;
      }
      path += `${pen ? 'L' : 'M'}${(left + band * (i + 0.5)).toFixed(1)},${y(v).toFixed(1)}`;
      pen = true;
    });
    g.append(s('path', { d: path, fill: 'none', stroke: sr.color, 'stroke-width': 2.5, 'stroke-linejoin': 'round',
      'stroke-dasharray': sr.kind === 'dashed' ? '7 5' : null }));
    if (cats.length <= MAX_MARKERS) {
      cats.forEach((c, i) => {
        const v = grid[j][i];
        if (v === null) return;
        g.append(s('circle', { cx: left + band * (i + 0.5), cy: y(v), r: 3.5, fill: sr.kind === 'dashed' ? '#fff' : sr.color, stroke: sr.color, 'stroke-width': 2 },
          s('title', {}, `${d.xTitle(c)} — ${sr.label}: ${d.yFormat(v)}`)));
      });
    }
    svg.append(g);
  }

  // the hover band, drawn over everything and capturing the pointer
  svg.append(s('rect', { class: 'chart-hover', x: left, y: top, width: band, height: ph, visibility: 'hidden' }));
  svg.append(s('rect', { class: 'chart-capture', x: left, y: top, width: pw, height: ph, fill: 'transparent' }));
  return { svg, geom: { left, top, band, pw, ph } };
}

// tipLines returns the tooltip's lines at x index i: each series' value,
// and the total of stacked bars.
function tipLines(d, i) {
  const lines = d.series.map((sr, j) => ({ sr: d.colours[j][i] ? { ...sr, color: d.colours[j][i] } : sr, label: sr.label, value: d.grid[j][i] === null ? '—' : d.yFormat(d.grid[j][i]) }));
  if (d.stacked && d.series.length > 1) {
    lines.push({ label: t('chart.total'), value: d.yFormat(d.grid.reduce((a, ys) => a + (ys[i] || 0), 0)) });
  }
  return lines;
}

// dataTable is the chart's data as a table: one row per x, one column per
// series (and the total of stacked bars).
function dataTable(d, title) {
  const withTotal = d.stacked && d.series.length > 1;
  return h('div', { class: 'table-wrap' }, h('table', { class: 'data' },
    title ? h('caption', {}, title) : null,
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, d.xHeader || t('chart.x')),
      d.series.map((sr) => h('th', { scope: 'col', class: 'num' }, sr.label)),
      withTotal ? h('th', { scope: 'col', class: 'num' }, t('chart.total')) : null)),
    h('tbody', {}, d.cats.map((c, i) => h('tr', {},
      h('th', { scope: 'row' }, d.xTitle(c)),
      d.grid.map((ys) => h('td', { class: 'num' }, ys[i] === null ? '—' : d.yFormat(ys[i]))),
      withTotal ? h('td', { class: 'num' }, d.yFormat(d.grid.reduce((a, ys) => a + (ys[i] || 0), 0))) : null)))));
}

// summarise is the chart's accessible name: what it shows, its series, its
// range and its highest value.
function summarise(d, kindText, title) {
  if (!d.cats.length) return t('chart.summaryEmpty', { kind: kindText, title });
  let best = null;
  d.grid.forEach((ys, j) => ys.forEach((v, i) => {
    if (v !== null && (!best || v > best.v)) best = { v, i, j };
  }));
  if (d.stacked && d.series.length > 1) {
    best = null;
    d.cats.forEach((c, i) => {
      const v = d.grid.reduce((a, ys) => a + (ys[i] || 0), 0);
      if (!best || v > best.v) best = { v, i, j: -1 };
    });
  }
  const where = best.j < 0 ? `${t('chart.total')}, ${d.xTitle(d.cats[best.i])}` : `${d.series[best.j].label}, ${d.xTitle(d.cats[best.i])}`;
  return t('chart.summary', {
    kind: kindText,
    title,
    series: t('chart.seriesList', { names: d.series.map((sr) => sr.label).join(', ') }),
    n: fmtNumber(d.cats.length),
    first: d.xTitle(d.cats[0]),
    last: d.xTitle(d.cats[d.cats.length - 1]),
    max: d.yFormat(best.v),
    where,
  });
}

// maxValue is the top of the data: the largest stack or value.
function maxValue(d) {
  let max = 0;
  d.cats.forEach((c, i) => {
    let stack = 0;
    d.series.forEach((sr, j) => {
      const v = d.grid[j][i] || 0;
      if (d.stacked && sr.kind === 'bar') stack += v;
      else max = Math.max(max, v);
    });
    max = Math.max(max, stack);
  });
  return max;
}

// niceTicks returns 4 to 6 evenly spaced y ticks from 0 on a 1, 2, 5 × 10ⁿ
// step covering max (whole steps for whole-number data).
export function niceTicks(max, integer = true) {
  if (!(max > 0)) max = integer ? 4 : 1;
  const rough = max / 5;
  const pow = 10 ** Math.floor(Math.log10(rough));
  let step = [1, 2, 2.5, 5, 10].map((m) => m * pow).find((v) => v >= rough);
  if (integer) step = Math.max(1, Math.ceil(step));
  const top = Math.ceil(max / step) * step;
  const ticks = [];
  for (let v = 0; v <= top + step / 2; v += step) ticks.push(Number(v.toPrecision(12)));
  return { ticks, top, step };
}

function swatch(sr) {
  const el = h('span', { class: `chart-swatch ${sr.kind === 'bar' ? 'bar' : 'line'}`, 'aria-hidden': 'true' });
  if (sr.kind === 'bar') el.style.background = sr.color;
  else {
    el.style.borderTopColor = sr.color;
    el.style.borderTopStyle = sr.kind === 'dashed' ? 'dashed' : 'solid';
  }
  return el;
}

function keyOf(x) {
  return x instanceof Date ? `d${x.getTime()}` : `${typeof x}:${x}`;
}

function num(y) {
  if (y === null || y === undefined || y === '') return null;
  const n = Number(y);
  return Number.isFinite(n) ? n : null;
}

function defaultX(x) {
  return x instanceof Date ? fmtHour(x) : String(x);
}
