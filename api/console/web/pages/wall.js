// The camera wall (/console/wall): a tile per camera with its latest
// analysed frame (refreshed every few seconds while the tile is on screen),
// its state, tier, system, district and last frame time; filters (system,
// district, tier, state, text) kept in the URL so that a filtered wall can
// be bookmarked; tiles or a map of the cameras; a fixed grid (2×2, 3×3,
// 4×4) for video walls. The API lists only the cameras the user may see.

import * as api from '../lib/api.js';
import { h, replace } from '../lib/dom.js';
import { addMessages, t, fmtTime, fmtDateTime, localDay, fmtNumber } from '../lib/i18n.js';
import { link, setQuery } from '../lib/router.js';
import { hasCap } from '../lib/session.js';
import { pageHeader, field, select, button, badge, stateBadge, errorBox } from '../lib/ui.js';
import { cameraMap } from '../lib/map.js';

addMessages({
  vi: {
    'wall.title': 'Màn hình camera',
    'wall.filters': 'Bộ lọc camera',
    'wall.system': 'Hệ thống',
    'wall.district': 'Quận/huyện',
    'wall.tier': 'Cấp hệ thống',
    'wall.state': 'Trạng thái',
    'wall.search': 'Tìm camera',
    'wall.searchHint': 'Tên, mã, địa chỉ hoặc quận/huyện',
    'wall.reset': 'Bỏ lọc',
    'wall.view': 'Cách hiển thị',
    'wall.viewTiles': 'Lưới hình',
    'wall.viewMap': 'Bản đồ',
    'wall.grid': 'Bố cục lưới',
    'wall.gridAuto': 'Tự động',
    'wall.gridN': '{n} × {n}',
    'wall.fullscreen': 'Toàn màn hình',
    'wall.shown': 'Đang hiển thị {shown}/{total} camera',
    'wall.count': '{label}: {n}',
    'wall.noSnapshot': 'Chưa có hình',
    'wall.offline': 'Mất kết nối',
    'wall.noLiveView': 'Không có quyền xem hình',
    'wall.snapshotAlt': 'Ảnh mới nhất của camera {name} lúc {time}',
    'wall.snapshotAltNoTime': 'Ảnh mới nhất của camera {name}',
    'wall.lastFrame': 'Khung hình cuối {time}',
    'wall.noFrame': 'Chưa nhận khung hình',
    'wall.noDistrict': 'Chưa ghi quận/huyện',
    'wall.empty': 'Không có camera nào khớp bộ lọc.',
    'wall.none': 'Bạn chưa được cấp quyền xem camera nào.',
    'wall.page': 'Trang {page}/{pages}',
    'wall.pager': 'Chuyển trang lưới camera',
    'wall.prev': 'Trang trước',
    'wall.next': 'Trang sau',
    'wall.open': 'Mở trang camera',
    'wall.selectHint': 'Chọn một camera trên bản đồ để xem ảnh mới nhất.',
    'wall.preview': 'Camera đã chọn',
    'wall.tiles': 'Danh sách camera',
    'wall.unknownSystem': 'Hệ thống {id}',
  },
  en: {
    'wall.title': 'Camera wall',
    'wall.filters': 'Camera filters',
    'wall.system': 'System',
    'wall.district': 'District',
    'wall.tier': 'System tier',
    'wall.state': 'State',
    'wall.search': 'Find a camera',
    'wall.searchHint': 'Name, id, address or district',
    'wall.reset': 'Clear filters',
    'wall.view': 'View',
    'wall.viewTiles': 'Tiles',
    'wall.viewMap': 'Map',
    'wall.grid': 'Grid layout',
    'wall.gridAuto': 'Automatic',
    'wall.gridN': '{n} × {n}',
    'wall.fullscreen': 'Full screen',
    'wall.shown': 'Showing {shown} of {total} cameras',
    'wall.count': '{label}: {n}',
    'wall.noSnapshot': 'No picture yet',
    'wall.offline': 'Offline',
    'wall.noLiveView': 'No permission to view the picture',
    'wall.snapshotAlt': 'Latest picture of camera {name} at {time}',
    'wall.snapshotAltNoTime': 'Latest picture of camera {name}',
    'wall.lastFrame': 'Last frame {time}',
    'wall.noFrame': 'No frame received',
    'wall.noDistrict': 'No district',
    'wall.empty': 'No camera matches the filters.',
    'wall.none': 'You have not been granted any camera.',
    'wall.page': 'Page {page} of {pages}',
    'wall.pager': 'Pages of the camera grid',
    'wall.prev': 'Previous page',
    'wall.next': 'Next page',
    'wall.open': 'Open the camera page',
    'wall.selectHint': 'Select a camera on the map to see its latest picture.',
    'wall.preview': 'Selected camera',
    'wall.tiles': 'Cameras',
    'wall.unknownSystem': 'System {id}',
  },
});

// How often pictures and states are refreshed, in milliseconds.
const SNAPSHOT_EVERY = 5000;
const SNAPSHOT_MISSING_EVERY = 10000; // after a 404 (no frame yet)
const STATUS_EVERY = 15000;
const STATES = ['online', 'degraded', 'frozen', 'offline', 'connecting', 'unknown'];
const TIERS = { 1: 'I', 2: 'II', 3: 'III' };

// cameraState is the state shown for a camera: "frozen" when the picture
// is frozen, else the engine's state ("unknown" when it does not run it).
export function cameraState(cam) {
  const st = cam?.status;
  if (!st) return 'unknown';
  if (st.picture?.includes('frozen')) return 'frozen';
  return st.state || 'unknown';
}

// tierName is the translated tier of a system ("Cấp II"), or ''.
export function tierName(system) {
  const r = TIERS[system?.tier] || (['I', 'II', 'III'].includes(system?.tier) ? system.tier : '');
  return r ? t(`tier.${r}`) : '';
}

// lastFrameText is when the camera's last frame came: the time today, the
// date and time before.
export function lastFrameText(v) {
  if (!v) return t('wall.noFrame');
  const time = localDay(v) === localDay(new Date()) ? fmtTime(v) : fmtDateTime(v);
  return t('wall.lastFrame', { time });
}

// fetchSnapshot fetches a camera's latest analysed frame; it returns
// {url: object URL (revoke it when replaced), at: Date|null} or throws
// ApiError (404 before the first frame).
export async function fetchSnapshot(id) {
  const res = await api.getRaw(`/cameras/${encodeURIComponent(id)}/snapshot.jpg`, { t: Date.now() });
  const blob = await res.blob();
  const at = res.headers.get('X-Captured-At');
  return { url: URL.createObjectURL(blob), at: at ? new Date(at) : null };
}

// fold lowercases and strips Vietnamese diacritics, for the text search.
const fold = (v) => String(v || '').normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/đ/g, 'd').replace(/Đ/g, 'd').toLowerCase();

export async function render(main, params, query) {
  const f = {
    system: query.system || '',
    district: query.district || '',
    tier: query.tier || '',
    state: query.state || '',
    q: query.q || '',
    view: query.view === 'map' ? 'map' : 'tiles',
    grid: ['2', '3', '4'].includes(query.grid) ? query.grid : '',
    page: Math.max(1, parseInt(query.page, 10) || 1),
    sel: query.sel || '',
  };

  let cameras;
  let systems = [];
  try {
    const [c, sys] = await Promise.all([api.get('/cameras'), api.get('/systems').catch(() => ({ systems: [] }))]);
    cameras = c.cameras || [];
    systems = sys.systems || [];
  } catch (err) {
    replace(main, pageHeader(t('wall.title')), errorBox(err));
    return null;
  }
  const systemById = new Map(systems.map((y) => [y.id, y]));

  const timers = [];
  const tiles = new Map(); // camera id → tile
  const visible = new Set(); // ids of tiles on screen
  let alive = true;

  const io = new IntersectionObserver((entries) => {
    for (const e of entries) {
      if (e.isIntersecting) {
        visible.add(e.target);
        const tile = tileOf(e.target);
        if (tile && Date.now() - tile.lastTry > SNAPSHOT_EVERY) refreshTile(tile);
      } else {
        visible.delete(e.target);
      }
    }
  }, { rootMargin: '100px' });

  // --- header and controls -------------------------------------------------
  const viewTiles = button(t('wall.viewTiles'), () => setView('tiles'), 'ghost', { 'aria-pressed': String(f.view === 'tiles') });
  const viewMap = button(t('wall.viewMap'), () => setView('map'), 'ghost', { 'aria-pressed': String(f.view === 'map') });
  const wallArea = h('section', { class: 'wall-area', 'aria-labelledby': 'wall-tiles-title' });
  const fullBtn = button(t('wall.fullscreen'), () => wallArea.requestFullscreen?.().catch(() => {}), 'ghost');

  const systemIds = [...new Set([...systems.map((y) => y.id), ...cameras.map((c) => c.system_id).filter(Boolean)])];
  const systemName = (id) => systemById.get(id)?.name || t('wall.unknownSystem', { id });
  const sysSel = select([['', t('common.all')], ...systemIds.map((id) => [id, systemName(id)]).sort((a, b) => a[1].localeCompare(b[1], 'vi'))], f.system);
  const districtList = [...new Set(cameras.map((c) => (c.district || '').trim()).filter(Boolean))].sort((a, b) => a.localeCompare(b, 'vi'));
  const distSel = select([['', t('common.all')], ...districtList.map((d) => [d, d])], f.district);
  const tierSel = select([['', t('common.all')], ['1', t('tier.I')], ['2', t('tier.II')], ['3', t('tier.III')]], f.tier);
  const stateSel = select([['', t('common.all')], ...STATES.map((s) => [s, t(`camera.state.${s}`)])], f.state);
  const search = h('input', { type: 'search', value: f.q, autocomplete: 'off', spellcheck: 'false' });
  const gridSel = select([['', t('wall.gridAuto')], ...['2', '3', '4'].map((n) => [n, t('wall.gridN', { n })])], f.grid);

  let debounce = null;
  sysSel.addEventListener('change', () => setFilter('system', sysSel.value));
  distSel.addEventListener('change', () => setFilter('district', distSel.value));
  tierSel.addEventListener('change', () => setFilter('tier', tierSel.value));
  stateSel.addEventListener('change', () => setFilter('state', stateSel.value));
  gridSel.addEventListener('change', () => setFilter('grid', gridSel.value));
  search.addEventListener('input', () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => setFilter('q', search.value.trim()), 200);
  });

  const filters = h('form', { class: 'wall-filters card', role: 'search', 'aria-label': t('wall.filters'), onsubmit: (e) => e.preventDefault() },
    field(t('wall.search'), search, t('wall.searchHint')),
    field(t('wall.system'), sysSel),
    field(t('wall.district'), distSel),
    systems.length ? field(t('wall.tier'), tierSel) : null,
    field(t('wall.state'), stateSel),
    field(t('wall.grid'), gridSel),
    h('div', { class: 'wall-filter-actions' }, button(t('wall.reset'), resetFilters, 'ghost')));

  const summary = h('div', { class: 'wall-summary' });
  const content = h('div', { class: 'wall-content' });
  replace(wallArea, h('h2', { id: 'wall-tiles-title', class: 'wall-sr-only' }, t('wall.tiles')), summary, content);

  replace(main,
    pageHeader(t('wall.title'),
      h('div', { class: 'wall-view-switch', role: 'group', 'aria-label': t('wall.view') }, viewTiles, viewMap),
      fullBtn),
    filters,
    wallArea);

  // --- filtering -----------------------------------------------------------
  function setFilter(k, v) {
    f[k] = v;
    if (k !== 'page') f.page = 1;
    syncURL();
    draw();
  }
  function setView(v) {
    f.view = v;
    viewTiles.setAttribute('aria-pressed', String(v === 'tiles'));
    viewMap.setAttribute('aria-pressed', String(v === 'map'));
    gridSel.disabled = v === 'map';
    syncURL();
    draw();
  }
  function resetFilters() {
    Object.assign(f, { system: '', district: '', tier: '', state: '', q: '', page: 1 });
    sysSel.value = distSel.value = tierSel.value = stateSel.value = search.value = '';
    syncURL();
    draw();
  }
  function syncURL() {
    setQuery({ system: f.system, district: f.district, tier: f.tier, state: f.state, q: f.q,
      view: f.view === 'map' ? 'map' : '', grid: f.grid, page: f.page > 1 ? f.page : '', sel: f.view === 'map' ? f.sel : '' });
  }
  gridSel.disabled = f.view === 'map';

  function matches(c) {
    if (f.system && c.system_id !== f.system) return false;
    if (f.district && (c.district || '').trim() !== f.district) return false;
    if (f.tier && String(systemById.get(c.system_id)?.tier ?? '') !== f.tier) return false;
    if (f.state && cameraState(c) !== f.state) return false;
    if (f.q) {
      const hay = fold([c.name, c.id, c.address, c.district].join(' '));
      if (!fold(f.q).split(/\s+/).filter(Boolean).every((w) => hay.includes(w))) return false;
    }
    return true;
  }

  // --- tiles -----------------------------------------------------------------
  function tileOf(el) {
    return tiles.get(el.dataset.camera);
  }

  function makeTile(cam) {
    const img = h('img', { class: 'tile-img', alt: '', hidden: true, decoding: 'async' });
    const placeholder = h('div', { class: 'tile-placeholder' });
    const title = h('h3', { class: 'tile-title' });
    const badges = h('div', { class: 'tile-badges' });
    const meta = h('p', { class: 'tile-meta' });
    const when = h('p', { class: 'tile-when' });
    const el = h('article', { class: 'tile', 'data-testid': 'camera-tile', 'data-camera': cam.id },
      h('div', { class: 'picture tile-picture' }, img, placeholder),
      h('div', { class: 'tile-body' }, h('div', { class: 'tile-head' }, title, badges), meta, when));
    const tile = { id: cam.id, cam, el, img, placeholder, title, badges, meta, when, url: null, at: null, missing: false, lastTry: 0, busy: false, sig: '' };
    tiles.set(cam.id, tile);
    updateTile(tile, cam);
    io.observe(el);
    return tile;
  }

  function updateTile(tile, cam) {
    tile.cam = cam;
    const state = cameraState(cam);
    const sys = systemById.get(cam.system_id);
    const sig = JSON.stringify([cam.name, state, cam.district, cam.system_id, cam.status?.last_frame, hasCap(cam, 'live_view')]);
    if (sig === tile.sig) return;
    tile.sig = sig;
    tile.el.dataset.state = state;
    // The name is the link; it stretches over the whole tile (CSS).
    replace(tile.title, link(`/cameras/${encodeURIComponent(cam.id)}`, cam.name || cam.id));
    replace(tile.badges, stateBadge(state));
    const tier = tierName(sys);
    replace(tile.meta, [tier, systemName(cam.system_id), (cam.district || '').trim() || t('wall.noDistrict')].filter(Boolean).join(' · '));
    replace(tile.when, lastFrameText(cam.status?.last_frame));
    showPicture(tile);
  }

  // showPicture shows the snapshot, or a placeholder saying why there is none.
  function showPicture(tile) {
    const state = cameraState(tile.cam);
    let why = '';
    if (!hasCap(tile.cam, 'live_view')) why = t('wall.noLiveView');
    else if (state === 'offline') why = t('wall.offline');
    else if (!tile.url) why = t('wall.noSnapshot');
    tile.img.hidden = Boolean(why);
    tile.placeholder.hidden = !why;
    tile.placeholder.textContent = why;
    tile.el.classList.toggle('no-picture', Boolean(why));
  }

  async function refreshTile(tile) {
    if (!alive || tile.busy || document.hidden) return;
    if (!hasCap(tile.cam, 'live_view') || cameraState(tile.cam) === 'offline') return;
    tile.busy = true;
    tile.lastTry = Date.now();
    try {
      const snap = await fetchSnapshot(tile.id);
      if (!alive) {
        URL.revokeObjectURL(snap.url);
        return;
      }
      const next = new Image();
      next.src = snap.url;
      await next.decode().catch(() => {});
      const old = tile.url;
      tile.url = snap.url;
      tile.at = snap.at;
      tile.missing = false;
      tile.img.src = snap.url;
      const name = tile.cam.name || tile.id;
      tile.img.alt = snap.at ? t('wall.snapshotAlt', { name, time: fmtTime(snap.at) }) : t('wall.snapshotAltNoTime', { name });
      if (old) URL.revokeObjectURL(old);
    } catch (err) {
      // 404: no frame yet (or the endpoint is not there): try again later.
      tile.missing = true;
      if (tile.url) URL.revokeObjectURL(tile.url);
      tile.url = null;
      if (err.status === 401) alive = false;
    } finally {
      tile.busy = false;
      if (alive) showPicture(tile);
    }
  }

  function tick() {
    if (!alive || document.hidden) return;
    const now = Date.now();
    for (const el of visible) {
      const tile = tileOf(el);
      if (!tile || !el.isConnected) continue;
      const every = tile.missing ? SNAPSHOT_MISSING_EVERY : SNAPSHOT_EVERY;
      if (now - tile.lastTry >= every - 250) refreshTile(tile);
    }
  }

  // --- drawing -------------------------------------------------------------------
  let drawnSig = '';
  function draw() {
    const shown = cameras.filter(matches);
    drawSummary(shown);
    wallArea.classList.toggle('fixed', f.view === 'tiles' && Boolean(f.grid));
    if (!cameras.length) {
      drawnSig = '';
      replace(content, h('p', { class: 'empty' }, t('wall.none')));
      return;
    }
    if (!shown.length) {
      drawnSig = '';
      replace(content, h('p', { class: 'empty' }, t('wall.empty')));
      return;
    }
    for (const c of shown) {
      const tile = tiles.get(c.id);
      if (tile) updateTile(tile, c);
      else makeTile(c);
    }
    if (f.view === 'map') drawMap(shown);
    else drawTiles(shown);
  }

  function drawSummary(shown) {
    const counts = {};
    for (const c of shown) counts[cameraState(c)] = (counts[cameraState(c)] || 0) + 1;
    const kinds = { online: 'ok', degraded: 'warn', frozen: 'bad', offline: 'bad', connecting: 'info', unknown: 'muted' };
    replace(summary,
      h('span', { class: 'wall-count' }, t('wall.shown', { shown: fmtNumber(shown.length), total: fmtNumber(cameras.length) })),
      ['online', 'offline', ...STATES.filter((s) => s !== 'online' && s !== 'offline' && counts[s])].map((s) =>
        badge(t('wall.count', { label: t(`camera.state.${s}`), n: fmtNumber(counts[s] || 0) }), counts[s] ? kinds[s] : 'muted')));
  }

  function drawTiles(shown) {
    const n = Number(f.grid) || 0;
    let list = shown;
    let pager = null;
    if (n) {
      const per = n * n;
      const pages = Math.max(1, Math.ceil(shown.length / per));
      if (f.page > pages) f.page = pages;
      list = shown.slice((f.page - 1) * per, f.page * per);
      if (pages > 1) {
        pager = h('nav', { class: 'wall-pager', 'aria-label': t('wall.pager') },
          button(t('wall.prev'), () => setFilter('page', f.page - 1), 'ghost', { disabled: f.page <= 1 }),
          h('span', {}, t('wall.page', { page: f.page, pages })),
          button(t('wall.next'), () => setFilter('page', f.page + 1), 'ghost', { disabled: f.page >= pages }));
      }
    }
    const sig = `tiles|${n}|${f.page}|${list.map((c) => c.id).join(',')}|${pager ? 'p' : ''}`;
    if (sig === drawnSig) return;
    drawnSig = sig;
    const grid = h('div', { class: `wall-grid${n ? ` fixed n${n}` : ''}` }, list.map((c) => tiles.get(c.id).el));
    if (n) {
      grid.style.gridTemplateColumns = `repeat(${n}, minmax(0, 1fr))`;
      grid.style.gridTemplateRows = `repeat(${n}, minmax(0, 1fr))`;
    }
    replace(content, pager, grid);
    fitGrid();
  }

  // fitGrid makes a fixed grid fill the rest of the screen height.
  function fitGrid() {
    const grid = content.querySelector('.wall-grid.fixed');
    if (!grid) return;
    const top = grid.getBoundingClientRect().top;
    grid.style.height = `${Math.max(320, window.innerHeight - Math.max(0, top) - 16)}px`;
  }

  function drawMap(shown) {
    const selected = shown.find((c) => c.id === f.sel);
    const sig = `map|${f.sel}|${shown.map((c) => `${c.id}:${cameraState(c)}:${c.lat}:${c.lon}:${c.name}:${c.district}`).join(',')}`;
    if (sig === drawnSig) return;
    const focused = document.activeElement?.closest?.('.camera-map [data-camera]')?.dataset.camera;
    drawnSig = sig;
    const map = cameraMap(shown, {
      selected: f.sel || null,
      marker: (c) => {
        const s = cameraState(c);
        return { kind: { online: 'ok', degraded: 'warn', frozen: 'bad', offline: 'bad', connecting: 'info' }[s] || 'muted', label: t(`camera.state.${s}`) };
      },
      onSelect: (c) => {
        f.sel = c.id;
        syncURL();
        draw();
        content.querySelector(`.camera-map [data-camera="${CSS.escape(c.id)}"]`)?.focus();
      },
    });
    const preview = h('aside', { class: 'wall-preview', 'aria-labelledby': 'wall-preview-title' },
      h('h2', { id: 'wall-preview-title' }, t('wall.preview')),
      selected ? tiles.get(selected.id).el : h('p', { class: 'muted' }, t('wall.selectHint')));
    replace(content, h('div', { class: 'wall-map-layout' }, map, preview));
    if (focused) content.querySelector(`.camera-map [data-camera="${CSS.escape(focused)}"]`)?.focus();
  }

  // --- refresh -----------------------------------------------------------------
  async function refreshStates() {
    if (!alive || document.hidden) return;
    try {
      const c = await api.get('/cameras');
      if (!alive) return;
      cameras = c.cameras || [];
      draw();
    } catch {
      /* keep the last states; the next round tries again */
    }
  }

  const onVisibility = () => {
    if (!document.hidden) {
      refreshStates();
      tick();
    }
  };
  const onResize = () => fitGrid();
  document.addEventListener('visibilitychange', onVisibility);
  window.addEventListener('resize', onResize);
  document.addEventListener('fullscreenchange', onResize);
  timers.push(setInterval(tick, 1000), setInterval(refreshStates, STATUS_EVERY));

  draw();

  return () => {
    alive = false;
    for (const id of timers) clearInterval(id);
    clearTimeout(debounce);
    io.disconnect();
    document.removeEventListener('visibilitychange', onVisibility);
    window.removeEventListener('resize', onResize);
    document.removeEventListener('fullscreenchange', onResize);
    for (const tile of tiles.values()) if (tile.url) URL.revokeObjectURL(tile.url);
    if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
  };
}
