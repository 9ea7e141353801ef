// Traffic statistics for planners (/console/stats): the crossings of a
// camera's counting lines per bucket (15 minutes, hour, day), by direction
// and vehicle class, over a period read in Asia/Ho_Chi_Minh; totals and the
// peak hour; a comparison with a second period of the same length; the CSV
// of the same query. Data: GET /api/v1/stats (api/events.go, statsJSON).
// The filters live in the URL so that a view can be shared.

import * as api from '../lib/api.js';
import { barChart, lineChart, PALETTE } from '../lib/chart.js';
import { h, replace } from '../lib/dom.js';
import { addMessages, t, has, fmtDate, fmtNumber, localDay, fromLocal, locale, TIME_ZONE } from '../lib/i18n.js';
import { setQuery } from '../lib/router.js';
import { hasCap } from '../lib/session.js';
import { pageHeader, field, select, errorBox, loading } from '../lib/ui.js';

addMessages({
  vi: {
    'stats.title': 'Thống kê lưu lượng giao thông',
    'stats.intro': 'Số lượt phương tiện đi qua vạch đếm của camera, theo thời gian, hướng và loại phương tiện. Giờ Việt Nam (UTC+7).',
    'stats.filters': 'Bộ lọc thống kê',
    'stats.camera': 'Camera',
    'stats.line': 'Vạch đếm',
    'stats.line.all': 'Tất cả vạch đếm',
    'stats.line.free': 'Mã vạch đếm (để trống: tất cả)',
    'stats.line.hint': 'Không đọc được cấu hình cảnh của camera; nhập mã vạch đếm nếu biết.',
    'stats.direction': 'Hướng',
    'stats.direction.all': 'Cả hai hướng',
    'stats.direction.in': 'Chiều vào',
    'stats.direction.out': 'Chiều ra',
    'stats.direction.hint': 'Chiều vào: cắt vạch từ bên trái sang bên phải của vạch A→B.',
    'stats.class': 'Loại phương tiện',
    'stats.class.all': 'Tất cả các loại',
    'stats.bucket': 'Gộp theo',
    'stats.bucket.15m': '15 phút',
    'stats.bucket.1h': 'Giờ',
    'stats.bucket.1d': 'Ngày',
    'stats.period': 'Khoảng thời gian',
    'stats.period.today': 'Hôm nay',
    'stats.period.yesterday': 'Hôm qua',
    'stats.period.7d': '7 ngày qua',
    'stats.period.30d': '30 ngày qua',
    'stats.period.custom': 'Tự chọn ngày',
    'stats.fromDay': 'Từ ngày',
    'stats.toDay': 'Đến hết ngày',
    'stats.csv': 'Tải CSV',
    'stats.csvTitle': 'Tải số liệu đang xem dưới dạng tệp CSV',
    'stats.range': '{camera} · từ {from} đến {to}',
    'stats.noCameras': 'Bạn chưa được cấp quyền xem thống kê của camera nào.',
    'stats.badRange': 'Ngày bắt đầu phải trước hoặc trùng ngày kết thúc.',
    'stats.tooMany': 'Khoảng thời gian này có {n} mốc {bucket}, quá nhiều để vẽ (tối đa {max}). Hãy gộp theo giờ hoặc ngày, hoặc rút ngắn khoảng thời gian. Tệp CSV vẫn tải được.',
    'stats.empty': 'Không có lượt nào qua vạch đếm trong khoảng thời gian và bộ lọc đã chọn.',
    'stats.emptyHint': 'Camera có thể chưa có vạch đếm, hoặc chưa hoạt động trong khoảng thời gian này.',
    'stats.totals': 'Tổng hợp',
    'stats.in': 'Chiều vào',
    'stats.out': 'Chiều ra',
    'stats.total': 'Tổng lượt',
    'stats.peakHour': 'Giờ cao điểm',
    'stats.peakBucket': 'Mốc cao điểm ({bucket})',
    'stats.peakNone': 'Chưa có',
    'stats.vehicles': '{n} lượt',
    'stats.flow': 'Lưu lượng theo thời gian',
    'stats.flowChart': 'Lưu lượng theo {bucket}',
    'stats.split': 'Chia cột theo',
    'stats.split.class': 'Loại phương tiện',
    'stats.split.dir': 'Hướng đi',
    'stats.yLabel': 'Lượt phương tiện',
    'stats.time': 'Thời gian',
    'stats.byClass': 'Theo loại phương tiện',
    'stats.byClassChart': 'Tổng lượt theo loại phương tiện',
    'stats.classCol': 'Loại',
    'stats.count': 'Số lượt',
    'stats.share': 'Tỷ lệ',
    'stats.compare': 'So sánh hai khoảng thời gian',
    'stats.compareWith': 'So sánh với',
    'stats.compare.none': 'Không so sánh',
    'stats.compare.prev_day': 'Ngày hôm trước',
    'stats.compare.prev_week': 'Cùng kỳ tuần trước',
    'stats.compare.prev_period': 'Khoảng liền trước',
    'stats.compare.custom': 'Tự chọn ngày bắt đầu',
    'stats.compareFrom': 'Khoảng so sánh bắt đầu từ ngày',
    'stats.compareHint': 'Hai khoảng có cùng độ dài, đặt cạnh nhau theo thời gian kể từ lúc bắt đầu.',
    'stats.compareOff': 'Chọn một khoảng thời gian để so sánh tổng lượt và biểu đồ lưu lượng.',
    'stats.current': 'Kỳ đang xem ({range})',
    'stats.previous': 'Kỳ so sánh ({range})',
    'stats.compareChart': 'Tổng lượt: kỳ đang xem và kỳ so sánh',
    'stats.offset': 'Mốc (theo kỳ đang xem)',
    'stats.measure': 'Chỉ số',
    'stats.change': 'Thay đổi',
    'stats.changeNew': 'mới có',
    'stats.changeSummary': 'Tổng lượt {dir} {pct} so với kỳ so sánh ({prev} → {cur}).',
    'stats.changeUp': 'tăng',
    'stats.changeDown': 'giảm',
    'stats.changeSame': 'không đổi',
    'stats.noLines': 'Camera này không có vạch đếm trong cấu hình cảnh.',
  },
  en: {
    'stats.title': 'Traffic flow statistics',
    'stats.intro': "Vehicles crossing the camera's counting lines, by time, direction and vehicle class. Vietnam time (UTC+7).",
    'stats.filters': 'Statistics filters',
    'stats.camera': 'Camera',
    'stats.line': 'Counting line',
    'stats.line.all': 'All counting lines',
    'stats.line.free': 'Counting line id (empty: all)',
    'stats.line.hint': "The camera's scene could not be read; type a line id if you know it.",
    'stats.direction': 'Direction',
    'stats.direction.all': 'Both directions',
    'stats.direction.in': 'In',
    'stats.direction.out': 'Out',
    'stats.direction.hint': 'In: crossing from the left of line A→B to its right.',
    'stats.class': 'Vehicle class',
    'stats.class.all': 'All classes',
    'stats.bucket': 'Group by',
    'stats.bucket.15m': '15 minutes',
    'stats.bucket.1h': 'Hour',
    'stats.bucket.1d': 'Day',
    'stats.period': 'Period',
    'stats.period.today': 'Today',
    'stats.period.yesterday': 'Yesterday',
    'stats.period.7d': 'Last 7 days',
    'stats.period.30d': 'Last 30 days',
    'stats.period.custom': 'Choose dates',
    'stats.fromDay': 'From',
    'stats.toDay': 'To the end of',
    'stats.csv': 'Download CSV',
    'stats.csvTitle': 'Download the numbers shown as a CSV file',
    'stats.range': '{camera} · from {from} to {to}',
    'stats.noCameras': 'You have not been granted the statistics of any camera.',
    'stats.badRange': 'The first day must not be after the last.',
    'stats.tooMany': 'This period holds {n} buckets of {bucket}, too many to chart (at most {max}). Group by hour or day, or shorten the period. The CSV can still be downloaded.',
    'stats.empty': 'No crossings of the counting lines in the chosen period and filters.',
    'stats.emptyHint': 'The camera may have no counting line, or was not running in this period.',
    'stats.totals': 'Totals',
    'stats.in': 'In',
    'stats.out': 'Out',
    'stats.total': 'Total',
    'stats.peakHour': 'Peak hour',
    'stats.peakBucket': 'Busiest {bucket}',
    'stats.peakNone': 'None yet',
    'stats.vehicles': '{n} vehicles',
    'stats.flow': 'Flow over time',
    'stats.flowChart': 'Flow per {bucket}',
    'stats.split': 'Split bars by',
    'stats.split.class': 'Vehicle class',
    'stats.split.dir': 'Direction',
    'stats.yLabel': 'Vehicles',
    'stats.time': 'Time',
    'stats.byClass': 'By vehicle class',
    'stats.byClassChart': 'Vehicles per class',
    'stats.classCol': 'Class',
    'stats.count': 'Vehicles',
    'stats.share': 'Share',
    'stats.compare': 'Compare two periods',
    'stats.compareWith': 'Compare with',
    'stats.compare.none': 'No comparison',
    'stats.compare.prev_day': 'The day before',
    'stats.compare.prev_week': 'The same time a week before',
    'stats.compare.prev_period': 'The period just before',
    'stats.compare.custom': 'Choose a start date',
    'stats.compareFrom': 'Comparison starts on',
    'stats.compareHint': 'Both periods have the same length and are aligned by the time since their start.',
    'stats.compareOff': 'Choose a period to compare the totals and the flow with.',
    'stats.current': 'Period shown ({range})',
    'stats.previous': 'Compared period ({range})',
    'stats.compareChart': 'Vehicles: period shown and compared period',
    'stats.offset': 'Point (of the period shown)',
    'stats.measure': 'Measure',
    'stats.change': 'Change',
    'stats.changeNew': 'new',
    'stats.changeSummary': 'Total vehicles {dir} {pct} on the compared period ({prev} → {cur}).',
    'stats.changeUp': 'up',
    'stats.changeDown': 'down',
    'stats.changeSame': 'unchanged',
    'stats.noLines': 'This camera has no counting line in its scene.',
  },
});

const DAY = 24 * 60 * 60 * 1000;
const BUCKET_MS = { '15m': 15 * 60 * 1000, '1h': 60 * 60 * 1000, '1d': DAY };
const BUCKETS = ['15m', '1h', '1d'];
const PERIODS = ['today', 'yesterday', '7d', '30d', 'custom'];
const COMPARES = ['none', 'prev_day', 'prev_week', 'prev_period', 'custom'];
// MAX_POINTS bounds what one chart draws (the API allows a year of
// quarter hours; a chart of that is unreadable).
const MAX_POINTS = 1000;
// Vehicle classes offered before any data names them.
const KNOWN_CLASSES = ['car', 'motorcycle', 'truck', 'bus', 'bicycle', 'person'];
// Each class keeps its colour in every chart.
const CLASS_COLOURS = { car: PALETTE[0], motorcycle: PALETTE[1], truck: PALETTE[2], bus: PALETTE[3], bicycle: PALETTE[4], person: PALETTE[5] };
// How many cameras' scenes are looked at to pick a camera with counting
// lines when the URL names none.
const DEFAULT_PROBES = 8;

export async function render(main, params, query) {
  main.classList.add('stats-page');
  replace(main, pageHeader(t('stats.title')), loading());
  let cameras;
  try {
    cameras = ((await api.get('/cameras')).cameras || []).filter((c) => hasCap(c, 'statistics'));
  } catch (err) {
    replace(main, pageHeader(t('stats.title')), errorBox(err));
    return null;
  }
  if (!cameras.length) {
    replace(main, pageHeader(t('stats.title')), h('p', { class: 'empty' }, t('stats.noCameras')));
    return null;
  }
  cameras.sort((a, b) => (a.name || a.id).localeCompare(b.name || b.id, locale()));
  scenes.clear();

  const st = {
    camera: cameras.some((c) => c.id === query.camera) ? query.camera : '',
    line: query.line || '',
    direction: ['in', 'out'].includes(query.direction) ? query.direction : '',
    class: query.class || '',
    bucket: BUCKETS.includes(query.bucket) ? query.bucket : '1h',
    period: PERIODS.includes(query.period) ? query.period : 'today',
    from: validDay(query.from) || localDay(new Date(Date.now() - 6 * DAY)),
    to: validDay(query.to) || localDay(new Date()),
    split: query.split === 'dir' ? 'dir' : 'class',
    compare: COMPARES.includes(query.compare) ? query.compare : 'none',
    cfrom: validDay(query.cfrom) || localDay(new Date(Date.now() - 7 * DAY)),
  };
  let scene = null; // {lines: [...]} or null when it could not be read
  if (!st.camera) st.camera = await pickCamera(cameras);
  scene = await loadScene(st.camera);

  // Controls. They stay in place while the results below are redrawn, so
  // the keyboard focus is kept.
  const csv = h('a', { class: 'btn', download: '', title: t('stats.csvTitle') }, t('stats.csv'));
  const cameraSel = select(cameras.map((c) => [c.id, c.name && c.name !== c.id ? `${c.name} (${c.id})` : c.id]), st.camera, { name: 'camera' });
  const cameraField = field(t('stats.camera'), cameraSel);
  cameraField.classList.add('stats-camera');
  const lineSlot = h('div', { class: 'stats-line-slot' });
  const dirSel = select([['', t('stats.direction.all')], ['in', t('stats.direction.in')], ['out', t('stats.direction.out')]], st.direction, { name: 'direction' });
  const classSel = select(classOptions([]), st.class, { name: 'class' });
  const bucketSel = select(BUCKETS.map((b) => [b, t(`stats.bucket.${b}`)]), st.bucket, { name: 'bucket' });
  const periodSel = select(PERIODS.map((p) => [p, t(`stats.period.${p}`)]), st.period, { name: 'period' });
  const today = localDay(new Date());
  const fromIn = h('input', { type: 'date', name: 'from', value: st.from, max: today, required: true });
  const toIn = h('input', { type: 'date', name: 'to', value: st.to, max: today, required: true });
  const customBox = h('div', { class: 'row stats-custom' }, field(t('stats.fromDay'), fromIn), field(t('stats.toDay'), toIn));
  customBox.hidden = st.period !== 'custom';

  const rangeText = h('p', { class: 'muted stats-range', 'aria-live': 'polite' });
  const results = h('div', { class: 'stats-results', 'aria-busy': 'false' });

  const splitSel = select([['class', t('stats.split.class')], ['dir', t('stats.split.dir')]], st.split, { name: 'split' });
  const compareSel = select(COMPARES.map((c) => [c, t(`stats.compare.${c}`)]), st.compare, { name: 'compare' });
  const cfromIn = h('input', { type: 'date', name: 'cfrom', value: st.cfrom, max: today });
  const cfromField = field(t('stats.compareFrom'), cfromIn);
  cfromField.hidden = st.compare !== 'custom';
  const compareOut = h('div', { class: 'stats-compare-out' });
  // The comparison's result in words, read out when it changes.
  const headline = h('p', { class: 'stats-headline', 'data-testid': 'stats-change', 'aria-live': 'polite' });

  const flowOut = h('div', { class: 'stats-flow-out' });
  const flowCard = h('section', { class: 'card stats-flow', 'aria-labelledby': 'stats-flow-h' },
    h('div', { class: 'stats-card-head' }, h('h2', { id: 'stats-flow-h' }, t('stats.flow')), field(t('stats.split'), splitSel)),
    flowOut);
  const classOut = h('div', { class: 'stats-class-out' });
  const classCard = h('section', { class: 'card stats-byclass', 'aria-labelledby': 'stats-class-h' },
    h('h2', { id: 'stats-class-h' }, t('stats.byClass')), classOut);
  const compareCard = h('section', { class: 'card stats-compare', 'aria-labelledby': 'stats-compare-h' },
    h('h2', { id: 'stats-compare-h' }, t('stats.compare')),
    h('div', { class: 'row' }, field(t('stats.compareWith'), compareSel, t('stats.compareHint')), cfromField),
    headline,
    compareOut);

  const form = h('form', { class: 'card stats-filters', 'aria-label': t('stats.filters'), onsubmit: (e) => e.preventDefault() },
    h('div', { class: 'row' },
      cameraField,
      lineSlot,
      field(t('stats.direction'), dirSel, t('stats.direction.hint')),
      field(t('stats.class'), classSel),
      field(t('stats.bucket'), bucketSel),
      field(t('stats.period'), periodSel),
      customBox));

  replace(main,
    pageHeader(t('stats.title'), csv),
    h('p', { class: 'muted' }, t('stats.intro')),
    form,
    rangeText,
    results);
  drawLineControl();

  // Reading the controls back into the state, then loading.
  cameraSel.addEventListener('change', async () => {
    st.camera = cameraSel.value;
    st.line = '';
    scene = await loadScene(st.camera);
    drawLineControl();
    load();
  });
  for (const [el, key] of [[dirSel, 'direction'], [classSel, 'class'], [bucketSel, 'bucket'], [periodSel, 'period'],
    [fromIn, 'from'], [toIn, 'to'], [compareSel, 'compare'], [cfromIn, 'cfrom']]) {
    el.addEventListener('change', () => {
      if ((el === fromIn || el === toIn || el === cfromIn) && !validDay(el.value)) return;
      st[key] = el.value;
      customBox.hidden = st.period !== 'custom';
      cfromField.hidden = st.compare !== 'custom';
      load();
    });
  }
  splitSel.addEventListener('change', () => {
    st.split = splitSel.value;
    syncURL();
    if (last) drawFlow(last);
  });

  function drawLineControl() {
    const lines = scene?.lines || null;
    if (lines) {
      const ids = lines.map((l) => l.id);
      if (st.line && !ids.includes(st.line)) ids.push(st.line);
      const sel = select([['', t('stats.line.all')], ...ids.map((id) => [id, id])], st.line, { name: 'line' });
      sel.addEventListener('change', () => {
        st.line = sel.value;
        load();
      });
      replace(lineSlot, field(t('stats.line'), sel, lines.length ? null : t('stats.noLines')));
    } else {
      const input = h('input', { type: 'text', name: 'line', value: st.line, placeholder: t('stats.line.all'), autocomplete: 'off', spellcheck: 'false' });
      input.addEventListener('change', () => {
        st.line = input.value.trim();
        load();
      });
      replace(lineSlot, field(t('stats.line.free'), input, t('stats.line.hint')));
    }
  }

  function filters() {
    return { camera: st.camera, line: st.line, direction: st.direction, class: st.class, bucket: st.bucket };
  }

  function syncURL() {
    setQuery({ ...filters(), period: st.period, from: st.period === 'custom' ? st.from : '', to: st.period === 'custom' ? st.to : '',
      split: st.split === 'class' ? '' : st.split, compare: st.compare === 'none' ? '' : st.compare,
      cfrom: st.compare === 'custom' ? st.cfrom : '' });
  }

  let seq = 0;
  let last = null; // the latest answer drawn

  async function load() {
    const my = ++seq;
    syncURL();
    const range = periodRange(st);
    const camName = cameraName(cameras, st.camera);
    if (!range) {
      replace(rangeText);
      replace(results, h('div', { class: 'error-box', role: 'alert' }, t('stats.badRange')));
      csv.removeAttribute('href');
      return;
    }
    replace(rangeText, t('stats.range', { camera: camName, from: fmtStamp(range.from), to: fmtEnd(range.to) }));
    const params = { ...filters(), from: range.from, to: range.to };
    csv.href = api.url('/stats', { ...params, format: 'csv' });
    csv.setAttribute('download', `thong-ke-${st.camera}-${localDay(range.from)}-${st.bucket}.csv`);
    const n = Math.round((range.to - range.from) / BUCKET_MS[st.bucket]);
    if (n > MAX_POINTS) {
      last = null;
      replace(results, h('p', { class: 'notice warn' }, t('stats.tooMany', { n: fmtNumber(n), bucket: t(`stats.bucket.${st.bucket}`).toLowerCase(), max: fmtNumber(MAX_POINTS) })));
      return;
    }
    results.setAttribute('aria-busy', 'true');
    if (!last) replace(results, loading());
    const other = compareRange(st, range);
    let res;
    let cmp = null;
    let cmpErr = null;
    try {
      [res, cmp] = await Promise.all([
        api.get('/stats', params),
        other ? api.get('/stats', { ...params, from: other.from, to: other.to }).catch((e) => {
          cmpErr = e;
          return null;
        }) : null,
      ]);
    } catch (err) {
      if (my !== seq) return;
      last = null;
      results.setAttribute('aria-busy', 'false');
      replace(results, errorBox(err));
      return;
    }
    if (my !== seq) return;
    results.setAttribute('aria-busy', 'false');
    last = res;
    updateClasses(res.classes || []);
    if (!res.total || !res.total.total) {
      replace(results, h('div', { class: 'notice stats-empty', 'data-testid': 'stats-empty', role: 'status' },
        h('strong', {}, t('stats.empty')), h('p', {}, t('stats.emptyHint'))),
      compareCard);
      drawCompare(res, cmp, cmpErr, other);
      return;
    }
    replace(results, totalsView(res), flowCard, classCard, compareCard);
    drawFlow(res);
    drawClasses(res);
    drawCompare(res, cmp, cmpErr, other);
  }

  function updateClasses(found) {
    const opts = classOptions(found.concat(st.class ? [st.class] : []));
    const now = [...classSel.options].map((o) => o.value).join(',');
    if (now === opts.map(([v]) => v).join(',')) return;
    replace(classSel, opts.map(([v, text]) => h('option', { value: v, selected: v === st.class }, text)));
  }

  function drawFlow(res) {
    const x = xFormats(res);
    let series;
    if (st.split === 'dir') {
      series = [
        { label: t('stats.in'), color: PALETTE[0], values: res.rows.map((r) => ({ x: new Date(r.start), y: r.in })) },
        { label: t('stats.out'), color: PALETTE[1], values: res.rows.map((r) => ({ x: new Date(r.start), y: r.out })) },
      ];
      if (st.direction) series = series.filter((_, i) => (st.direction === 'in' ? i === 0 : i === 1));
    } else {
      series = res.classes.map((c, i) => ({ label: className(c), color: classColour(c, i),
        values: res.rows.map((r) => ({ x: new Date(r.start), y: r.by_class[c] || 0 })) }));
    }
    const fig = barChart({ series, stacked: true, title: t('stats.flowChart', { bucket: t(`stats.bucket.${st.bucket}`).toLowerCase() }),
      yLabel: t('stats.yLabel'), xHeader: t('stats.time'), xFormat: x.axis, xTitle: x.title, height: 340 });
    fig.dataset.testid = 'stats-chart';
    replace(flowOut, fig);
  }

  function drawClasses(res) {
    const total = res.classes.reduce((a, c) => a + (res.total.by_class[c] || 0), 0);
    const rows = res.classes.map((c) => ({ c, n: res.total.by_class[c] || 0 })).sort((a, b) => b.n - a.n);
    const fig = barChart({ series: [{ label: t('stats.count'), color: PALETTE[7],
      values: rows.map((r) => ({ x: className(r.c), y: r.n, color: classColour(r.c, res.classes.indexOf(r.c)) })) }],
      title: t('stats.byClassChart'), yLabel: t('stats.yLabel'), xHeader: t('stats.classCol'), height: 260, legend: false });
    const tbl = h('div', { class: 'table-wrap' }, h('table', { class: 'data stats-class-table' },
      h('caption', { class: 'chart-sr' }, t('stats.byClass')),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('stats.classCol')), h('th', { scope: 'col', class: 'num' }, t('stats.count')),
        h('th', { scope: 'col', class: 'num' }, t('stats.share')))),
      h('tbody', {}, rows.map((r) => h('tr', {},
        h('th', { scope: 'row' }, swatchOf(classColour(r.c, res.classes.indexOf(r.c))), className(r.c)),
        h('td', { class: 'num' }, fmtNumber(r.n)),
        h('td', { class: 'num' }, total ? fmtNumber(r.n / total, { style: 'percent', maximumFractionDigits: 1 }) : '—'))))));
    replace(classOut, h('div', { class: 'stats-class-grid' }, fig, tbl));
  }

  function drawCompare(res, cmp, cmpErr, other) {
    if (!other) {
      replace(headline);
      replace(compareOut, h('p', { class: 'muted' }, t('stats.compareOff')));
      return;
    }
    if (cmpErr) {
      replace(headline);
      replace(compareOut, errorBox(cmpErr));
      return;
    }
    const curLabel = t('stats.current', { range: rangeLabel(res) });
    const prevLabel = t('stats.previous', { range: rangeLabel(cmp) });
    const x = xFormats(res);
    const xc = xFormats(cmp);
    const n = Math.max(res.rows.length, cmp.rows.length);
    const idx = [...Array(n).keys()];
    const fig = lineChart({
      series: [
        { label: curLabel, color: PALETTE[0], values: idx.map((i) => ({ x: i, y: res.rows[i] ? res.rows[i].total : null })) },
        { label: prevLabel, color: PALETTE[7], kind: 'dashed', values: idx.map((i) => ({ x: i, y: cmp.rows[i] ? cmp.rows[i].total : null })) },
      ],
      title: t('stats.compareChart'), yLabel: t('stats.yLabel'), xHeader: t('stats.offset'), height: 280,
      xFormat: (i) => (res.rows[i] ? x.axis(new Date(res.rows[i].start)) : ''),
      xTitle: (i) => [res.rows[i] && x.title(new Date(res.rows[i].start)), cmp.rows[i] && xc.title(new Date(cmp.rows[i].start))].filter(Boolean).join(' ↔ '),
    });
    fig.dataset.testid = 'stats-compare-chart';
    const measures = [['in', t('stats.in')], ['out', t('stats.out')], ['total', t('stats.total')]];
    const tbl = h('div', { class: 'table-wrap' }, h('table', { class: 'data stats-change' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('stats.measure')), h('th', { scope: 'col', class: 'num' }, curLabel),
        h('th', { scope: 'col', class: 'num' }, prevLabel), h('th', { scope: 'col', class: 'num' }, t('stats.change')))),
      h('tbody', {}, measures.map(([k, label]) => h('tr', {},
        h('th', { scope: 'row' }, label),
        h('td', { class: 'num' }, fmtNumber(res.total[k])),
        h('td', { class: 'num' }, fmtNumber(cmp.total[k])),
        h('td', { class: `num ${changeClass(res.total[k], cmp.total[k])}` }, changeText(res.total[k], cmp.total[k])))))));
    const cur = res.total.total;
    const prev = cmp.total.total;
    replace(headline, prev
      ? t('stats.changeSummary', { dir: t(cur > prev ? 'stats.changeUp' : cur < prev ? 'stats.changeDown' : 'stats.changeSame'),
        pct: cur === prev ? '' : fmtNumber(Math.abs(cur - prev) / prev, { style: 'percent', maximumFractionDigits: 1 }),
        prev: fmtNumber(prev), cur: fmtNumber(cur) }).replace(/\s+(?=\s)/g, '')
      : `${t('stats.total')}: ${fmtNumber(prev)} → ${fmtNumber(cur)}`);
    replace(compareOut, tbl, fig);
  }

  load();
  return null;
}

// totalsView shows in, out, total and the peak hour (and, for other
// buckets than the hour, the busiest bucket).
function totalsView(res) {
  const items = [
    [t('stats.in'), fmtNumber(res.total.in), null, 'in'],
    [t('stats.out'), fmtNumber(res.total.out), null, 'out'],
    [t('stats.total'), fmtNumber(res.total.total), null, 'total'],
  ];
  const single = sameDay(res.from, new Date(new Date(res.to).getTime() - 1));
  const span = (r, ms) => spanTitle(new Date(r.start), ms, !single);
  if (res.peak) items.push([t('stats.peakHour'), span(res.peak, BUCKET_MS['1h']), t('stats.vehicles', { n: fmtNumber(res.peak.total) }), 'peak']);
  else items.push([t('stats.peakHour'), t('stats.peakNone'), null, 'peak']);
  if (res.bucket !== '1h') {
    const best = res.rows.reduce((b, r) => (!b || r.total > b.total ? r : b), null);
    if (best && best.total) {
      items.push([t('stats.peakBucket', { bucket: t(`stats.bucket.${res.bucket}`).toLowerCase() }),
        res.bucket === '1d' ? fmtDate(best.start) : span(best, BUCKET_MS[res.bucket]), t('stats.vehicles', { n: fmtNumber(best.total) }), 'peak-bucket']);
    }
  }
  return h('section', { class: 'stats-totals', 'aria-label': t('stats.totals') },
    h('dl', {}, items.map(([label, value, sub, key]) => h('div', { class: `stats-total ${key}`, 'data-testid': `stats-total-${key}` },
      h('dt', {}, label), h('dd', {}, h('span', { class: 'value' }, value), sub ? h('span', { class: 'sub' }, sub) : null)))));
}

// periodRange is the [from, to) of the chosen period, on boundaries of the
// bucket in Asia/Ho_Chi_Minh; the current day ends at the next bucket
// boundary after now. Null when a custom range is reversed.
function periodRange(st) {
  const today = localDay(new Date());
  const d = BUCKET_MS[st.bucket];
  const upToNow = (from) => {
    if (st.bucket === '1d') return new Date(fromLocal(today).getTime() + DAY);
    // To the end of the current hour, so that the peak hour (whole hours
    // only) counts it; UTC+7 is whole hours: the same boundaries as UTC.
    const hour = BUCKET_MS['1h'];
    const end = Math.ceil(Date.now() / hour) * hour;
    return new Date(Math.max(end, from.getTime() + d));
  };
  switch (st.period) {
    case 'yesterday':
      return { from: fromLocal(addDays(today, -1)), to: fromLocal(today) };
    case '7d': {
      const from = fromLocal(addDays(today, -6));
      return { from, to: upToNow(from) };
    }
    case '30d': {
      const from = fromLocal(addDays(today, -29));
      return { from, to: upToNow(from) };
    }
    case 'custom': {
      if (st.from > st.to) return null;
      return { from: fromLocal(st.from), to: fromLocal(addDays(st.to, 1)) };
    }
    default: {
      const from = fromLocal(today);
      return { from, to: upToNow(from) };
    }
  }
}

// compareRange is the second period: the first shifted back by a day, a
// week or its own length, or starting on a chosen day; same length.
function compareRange(st, range) {
  const len = range.to - range.from;
  let from;
  switch (st.compare) {
    case 'prev_day':
      from = range.from.getTime() - DAY;
      break;
    case 'prev_week':
      from = range.from.getTime() - 7 * DAY;
      break;
    case 'prev_period':
      from = range.from.getTime() - Math.ceil(len / DAY) * DAY;
      break;
    case 'custom':
      if (!validDay(st.cfrom)) return null;
      from = fromLocal(st.cfrom).getTime();
      break;
    default:
      return null;
  }
  return { from: new Date(from), to: new Date(from + len) };
}

// pickCamera chooses a camera when the URL names none: the first whose
// scene has counting lines (of the first few), else the first.
async function pickCamera(cameras) {
  for (const c of cameras.slice(0, DEFAULT_PROBES)) {
    const sc = await loadScene(c.id);
    if (!sc) break; // scenes cannot be read: do not ask for each
    if (sc.lines?.length) return c.id;
  }
  return cameras[0].id;
}

// loadScene returns the camera's scene, or null when it cannot be read
// (each camera asked once per page).
const scenes = new Map();
function loadScene(id) {
  if (!scenes.has(id)) {
    scenes.set(id, api.get(`/cameras/${encodeURIComponent(id)}/scene`)
      .then((sc) => (sc && typeof sc === 'object' ? { ...sc, lines: sc.lines || [] } : null), () => null));
  }
  return scenes.get(id);
}

function classOptions(found) {
  const all = [...new Set([...KNOWN_CLASSES, ...found])];
  return [['', t('stats.class.all')], ...all.map((c) => [c, className(c)])];
}

function className(c) {
  return has(`class.${c}`) ? t(`class.${c}`) : c;
}

function classColour(c, i) {
  return CLASS_COLOURS[c] || PALETTE[(6 + i) % PALETTE.length];
}

function swatchOf(colour) {
  const el = h('span', { class: 'chart-swatch bar', 'aria-hidden': 'true' });
  el.style.background = colour;
  return el;
}

function cameraName(cameras, id) {
  const c = cameras.find((x) => x.id === id);
  return c ? c.name || c.id : id;
}

// xFormats gives the axis label and the tooltip title of a bucket start
// for an answer: hours within one day, day and hour over several, dates
// for daily buckets.
function xFormats(res) {
  const ms = BUCKET_MS[res.bucket] || BUCKET_MS['1h'];
  const single = sameDay(res.from, new Date(new Date(res.to).getTime() - 1));
  if (res.bucket === '1d') return { axis: (d) => fmtDayMonth(d), title: (d) => fmtDate(d) };
  if (single) return { axis: (d) => fmtHM(d), title: (d) => spanTitle(d, ms, false) };
  return { axis: (d) => `${fmtDayMonth(d)} ${fmtHM(d)}`, title: (d) => spanTitle(d, ms, true) };
}

// spanTitle: "18:00–19:00", with the date when withDay.
function spanTitle(start, ms, withDay) {
  const end = new Date(start.getTime() + ms);
  const text = `${fmtHM(start)}–${fmtHM(end)}`;
  return withDay ? `${fmtDate(start)} ${text}` : text;
}

function rangeLabel(res) {
  const from = new Date(res.from);
  const last = new Date(new Date(res.to).getTime() - 1);
  if (sameDay(from, last)) return fmtDate(from);
  return `${fmtDate(from)} – ${fmtDate(last)}`;
}

// fmtStamp: "27/11/2026 18:00".
function fmtStamp(d) {
  return `${fmtDate(d)} ${fmtHM(d)}`;
}

// fmtEnd is the end of a range: "27/11/2026 24:00" rather than the next
// day's midnight.
function fmtEnd(d) {
  if (fmtHM(d) !== '00:00') return fmtStamp(d);
  return `${fmtDate(new Date(d.getTime() - 1))} 24:00`;
}

function fmtHM(d) {
  return new Intl.DateTimeFormat(locale(), { timeZone: TIME_ZONE, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(d);
}

// fmtDayMonth: "27/11" (both languages write the day first).
function fmtDayMonth(d) {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: TIME_ZONE, day: '2-digit', month: '2-digit' }).formatToParts(d);
  const get = (type) => parts.find((p) => p.type === type)?.value;
  return `${get('day')}/${get('month')}`;
}

function sameDay(a, b) {
  return localDay(a) === localDay(b);
}

function addDays(day, n) {
  return localDay(new Date(fromLocal(day).getTime() + n * DAY));
}

function validDay(v) {
  return /^\d{4}-\d{2}-\d{2}$/.test(v || '') && !Number.isNaN(fromLocal(v).getTime()) ? v : '';
}

function changeText(cur, prev) {
  if (!prev) return cur ? t('stats.changeNew') : '—';
  return fmtNumber((cur - prev) / prev, { style: 'percent', maximumFractionDigits: 1, signDisplay: 'exceptZero' });
}

function changeClass(cur, prev) {
  if (!prev || cur === prev) return '';
  return cur > prev ? 'up' : 'down';
}
