// The console's entry: the layout (header, navigation, language switch),
// the router, sign-in and the forced password change. Pages are
// modules under pages/ exporting render(main, params, query) → optional
// cleanup function; the router loads them on demand.

import * as api from './lib/api.js';
import { h, replace } from './lib/dom.js';
import { addMessages, t, lang, setLang, onLangChange, LANGS } from './lib/i18n.js';
import { messages } from './lib/messages.js';
import { BASE, link, navigate, setRenderer } from './lib/router.js';
import { session, setSession, role } from './lib/session.js';
import { errorBox, field, button, loading } from './lib/ui.js';

addMessages(messages);

const ALL = ['ict_admin', 'system_admin', 'operator', 'viewer', 'auditor'];
const CAMERA_USERS = ['ict_admin', 'system_admin', 'operator', 'viewer'];

// routes: pattern (":name" segments become params), the page module, the
// navigation label (none: not in the menu) and the roles that see it.
const routes = [
  { path: '/wall', module: './pages/wall.js', nav: 'nav.wall', roles: CAMERA_USERS },
  { path: '/cameras/:id', module: './pages/camera.js', roles: CAMERA_USERS },
  { path: '/cameras/:id/scene', module: './pages/scene.js', roles: CAMERA_USERS },
  { path: '/events', module: './pages/events.js', nav: 'nav.events', roles: CAMERA_USERS },
  { path: '/events/:id', module: './pages/event.js', roles: CAMERA_USERS },
  { path: '/violations', module: './pages/violations.js', nav: 'nav.violations', roles: CAMERA_USERS },
  { path: '/alerts', module: './pages/alerts.js', nav: 'nav.alerts', roles: CAMERA_USERS },
  { path: '/stats', module: './pages/stats.js', nav: 'nav.stats', roles: CAMERA_USERS },
  { path: '/admin', module: './pages/admin.js', nav: 'nav.admin', roles: ['ict_admin', 'system_admin', 'auditor'] },
  { path: '/admin/:section', module: './pages/admin.js', roles: ['ict_admin', 'system_admin', 'auditor'] },
  { path: '/account', module: null, roles: ALL },
];

const root = document.getElementById('app');
let cleanup = null;

function match(pathname) {
  const rel = pathname.replace(/^\/console/, '').replace(/\/+$/, '') || '/';
  const parts = rel.split('/').filter(Boolean);
  for (const r of routes) {
    const pp = r.path.split('/').filter(Boolean);
    if (pp.length !== parts.length) continue;
    const params = {};
    if (pp.every((p, i) => (p.startsWith(':') ? ((params[p.slice(1)] = decodeURIComponent(parts[i])), true) : p === parts[i]))) {
      return { route: r, params };
    }
  }
  return { route: null, params: {}, rel };
}

function homePath() {
  return role() === 'auditor' ? '/admin/audit' : '/wall';
}

// render draws the page of the current URL.
async function render() {
  shown = location.pathname + location.search;
  if (cleanup) {
    try {
      cleanup();
    } catch {
      /* a page's cleanup must not stop the next page */
    }
    cleanup = null;
  }
  if (!session()) {
    try {
      const me = await api.get('/me');
      setSession(me);
      api.setCSRF(me.csrf_token);
    } catch (err) {
      if (err.status === 401) return renderLogin();
      return replace(root, layoutBare(errorBox(err)));
    }
  }
  if (session().restricted) return renderPasswordChange(true);
  const { route, params, rel } = match(location.pathname);
  if (!route) {
    if (rel === '/') return navigate(homePath(), { replace: true });
    return replace(root, layout(h('div', {}, h('h1', { tabindex: '-1' }, t('error.notFound')), h('p', {}, t('error.noSuchPage')))));
  }
  if (!route.roles.includes(role())) {
    return replace(root, layout(h('div', {}, h('h1', { tabindex: '-1' }, t('error.forbidden')), h('p', {}, t('error.roleCannot')))));
  }
  if (route.path === '/account') return renderPasswordChange(false);
  const main = h('div', { class: 'page' }, loading());
  replace(root, layout(main, route));
  const query = Object.fromEntries(new URLSearchParams(location.search));
  try {
    const mod = await import(route.module);
    replace(main);
    cleanup = (await mod.render(main, params, query)) || null;
  } catch (err) {
    replace(main, errorBox(err));
  }
  focusHeading();
}

function focusHeading() {
  const h1 = root.querySelector('main h1');
  if (h1) h1.focus({ preventScroll: true });
}

function langSwitch() {
  return h('div', { class: 'lang-switch', role: 'group', 'aria-label': t('nav.language') },
    LANGS.map((l) => h('button', { type: 'button', class: 'btn ghost', lang: l, 'aria-pressed': String(l === lang()),
      onclick: () => setLang(l) }, l === 'vi' ? 'Tiếng Việt' : 'English')));
}

function layoutBare(content) {
  return [h('header', { class: 'topbar' }, h('div', { class: 'brand' }, brandMark(), t('app.name')), langSwitch()),
    h('main', { id: 'main', tabindex: '-1' }, content)];
}

function brandMark() {
  return h('img', { src: `${BASE}/favicon.svg`, alt: '', width: 28, height: 28 });
}

function layout(content, active) {
  const s = session();
  const nav = h('nav', { 'aria-label': t('nav.main') }, h('ul', {}, routes
    .filter((r) => r.nav && r.roles.includes(role()))
    .map((r) => {
      const a = link(r.path, t(r.nav));
      if (active && (active.path === r.path || active.path.startsWith(`${r.path}/`))) a.setAttribute('aria-current', 'page');
      return h('li', {}, a);
    })));
  return [
    h('header', { class: 'topbar' },
      h('div', { class: 'brand' }, brandMark(), t('app.name')),
      nav,
      h('div', { class: 'user' },
        langSwitch(),
        h('span', { class: 'who' }, h('strong', {}, s.user.display_name || s.user.username),
          h('small', {}, s.agency?.name || '', ' · ', t(`role.${s.user.role}`))),
        link('/account', t('nav.account')),
        button(t('nav.signOut'), signOut, 'ghost'))),
    h('main', { id: 'main', tabindex: '-1' }, content),
  ];
}

async function signOut() {
  try {
    await api.post('/logout');
  } catch {
    /* the session may have ended already */
  }
  setSession(null);
  api.setCSRF('');
  history.replaceState(null, '', `${BASE}/`);
  renderLogin();
}

function renderLogin() {
  const user = h('input', { name: 'username', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false' });
  const pass = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const errorSlot = h('div');
  const form = h('form', { class: 'card login', onsubmit: async (e) => {
    e.preventDefault();
    replace(errorSlot);
    try {
      const s = await api.post('/login', { username: user.value.trim(), password: pass.value });
      // The session cookie is Secure: a browser drops it on plain HTTP but
      // for localhost. Say so rather than coming back to this form.
      try {
        await api.get('/me');
      } catch (err) {
        if (err.status !== 401) throw err;
        replace(errorSlot, h('div', { class: 'error-box', role: 'alert' }, t('login.cookieRefused')));
        return;
      }
      api.setCSRF(s.csrf_token);
      setSession(s);
      if (location.pathname.replace(/\/+$/, '') === BASE) history.replaceState(null, '', BASE + homePath());
      render();
    } catch (err) {
      pass.value = '';
      replace(errorSlot, err.status === 401 ? h('div', { class: 'error-box', role: 'alert' }, t('login.failed')) : errorBox(err));
    }
  } },
  h('h1', { tabindex: '-1' }, t('login.title')),
  h('p', { class: 'muted' }, t('login.subtitle')),
  field(t('login.username'), user),
  field(t('login.password'), pass),
  errorSlot,
  h('button', { type: 'submit', class: 'btn primary' }, t('login.submit')));
  replace(root, layoutBare(form));
  user.focus();
}

function renderPasswordChange(forced) {
  const old = h('input', { name: 'old_password', type: 'password', autocomplete: 'current-password', required: true });
  const next = h('input', { name: 'new_password', type: 'password', autocomplete: 'new-password', required: true, minlength: 12 });
  const again = h('input', { name: 'confirm_password', type: 'password', autocomplete: 'new-password', required: true });
  const errorSlot = h('div');
  const form = h('form', { class: 'card login', onsubmit: async (e) => {
    e.preventDefault();
    replace(errorSlot);
    if (next.value !== again.value) {
      replace(errorSlot, h('div', { class: 'error-box', role: 'alert' }, t('password.mismatch')));
      return;
    }
    try {
      await api.post('/password', { old_password: old.value, new_password: next.value });
      // Every session of the user ended: sign in again with the new password.
      setSession(null);
      api.setCSRF('');
      renderLogin();
      const note = h('p', { class: 'notice ok', role: 'status' }, t('password.changed'));
      root.querySelector('form')?.prepend(note);
    } catch (err) {
      replace(errorSlot, errorBox(err));
    }
  } },
  h('h1', { tabindex: '-1' }, t(forced ? 'password.forcedTitle' : 'password.title')),
  forced ? h('p', { class: 'notice warn', role: 'status' }, t('password.forcedText')) : null,
  field(t('password.old'), old),
  field(t('password.new'), next, t('password.rules')),
  field(t('password.confirm'), again),
  errorSlot,
  h('div', { class: 'row' },
    h('button', { type: 'submit', class: 'btn primary' }, t('password.submit')),
    forced ? button(t('nav.signOut'), signOut, 'ghost') : null));
  replace(root, forced ? layoutBare(form) : layout(form, { path: '/account' }));
  old.focus();
}

api.setUnauthorizedHandler(() => {
  if (!session()) return;
  setSession(null);
  renderLogin();
});
setRenderer(render);
onLangChange(() => render());
// A change of the hash only (the skip link to #main) is no navigation.
let shown = '';
addEventListener('popstate', () => {
  if (location.pathname + location.search !== shown) render();
});
document.documentElement.lang = lang();
render();
