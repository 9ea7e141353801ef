// Administration (/console/admin and /console/admin/:section): one tab per
// section the role may use — agencies, systems, cameras, users, grants,
// incidents, the audit log and reports. Each section is a module under
// pages/admin/ exporting render(panel, query) → optional cleanup. The tabs
// only hide what the API would refuse; a 403 still shows as an error box.

import { h, replace } from '../lib/dom.js';
import { addMessages, t } from '../lib/i18n.js';
import { BASE, navigate } from '../lib/router.js';
import { role } from '../lib/session.js';
import { errorBox, loading, pageHeader, tabs } from '../lib/ui.js';
import { SECTIONS, sectionsFor } from './admin/common.js';

addMessages({
  vi: {
    'admin.title': 'Quản trị',
    'admin.sections': 'Các mục quản trị',
    'admin.tab.agencies': 'Cơ quan, đơn vị',
    'admin.tab.systems': 'Hệ thống camera',
    'admin.tab.cameras': 'Camera',
    'admin.tab.users': 'Người dùng',
    'admin.tab.grants': 'Cấp quyền',
    'admin.tab.incidents': 'Sự cố',
    'admin.tab.audit': 'Nhật ký kiểm toán',
    'admin.tab.reports': 'Báo cáo',
    'admin.noSection': 'Không có mục quản trị “{section}”.',
    'admin.sectionForbidden': 'Vai trò của bạn không được dùng mục này.',
  },
  en: {
    'admin.title': 'Administration',
    'admin.sections': 'Administration sections',
    'admin.tab.agencies': 'Agencies',
    'admin.tab.systems': 'Camera systems',
    'admin.tab.cameras': 'Cameras',
    'admin.tab.users': 'Users',
    'admin.tab.grants': 'Access grants',
    'admin.tab.incidents': 'Incidents',
    'admin.tab.audit': 'Audit log',
    'admin.tab.reports': 'Reports',
    'admin.noSection': 'There is no administration section “{section}”.',
    'admin.sectionForbidden': 'Your role cannot use this section.',
  },
});

// focusTab is the tab to focus after the navigation a tab click started
// (the layout focuses the page heading otherwise).
let focusTab = '';

export async function render(main, params, query) {
  const allowed = sectionsFor(role());
  const section = params.section || allowed[0];
  if (!params.section && section) history.replaceState(null, '', `${BASE}/admin/${section}`);

  const list = tabs(allowed.map((id) => ({ id, label: t(`admin.tab.${id}`) })), section, (id) => {
    focusTab = id;
    navigate(`/admin/${id}`);
  });
  list.setAttribute('aria-label', t('admin.sections'));
  const buttons = [...list.querySelectorAll('[role="tab"]')];
  buttons.forEach((b, i) => {
    const id = allowed[i];
    b.id = `admin-tab-${id}`;
    b.dataset.testid = `admin-tab-${id}`;
    b.setAttribute('aria-controls', 'admin-panel');
    b.tabIndex = id === section ? 0 : -1;
  });
  if (!buttons.some((b) => b.tabIndex === 0) && buttons[0]) buttons[0].tabIndex = 0;
  // Arrow keys, Home and End move between tabs (the ARIA tabs pattern);
  // Enter or Space opens the focused one.
  list.addEventListener('keydown', (e) => {
    const i = buttons.indexOf(document.activeElement);
    if (i < 0) return;
    const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: buttons.length - 1 }[e.key];
    if (next === undefined) return;
    e.preventDefault();
    buttons[(next + buttons.length) % buttons.length].focus();
  });

  const panel = h('section', { id: 'admin-panel', class: 'admin-panel', role: 'tabpanel',
    'aria-labelledby': allowed.includes(section) ? `admin-tab-${section}` : null }, loading());
  replace(main, pageHeader(t('admin.title')), list, panel);

  const result = await drawSection(panel, allowed, section, query);
  if (focusTab) {
    const id = focusTab;
    focusTab = '';
    // After the layout has focused the page heading (once render returns).
    setTimeout(() => document.getElementById(`admin-tab-${id}`)?.focus(), 0);
  }
  return result;
}

// drawSection draws one section into panel; it returns the section's cleanup.
async function drawSection(panel, allowed, id, query) {
  if (!SECTIONS.includes(id)) {
    replace(panel, errorBox({ status: 404, message: t('admin.noSection', { section: id || '' }) }));
    return null;
  }
  if (!allowed.includes(id)) {
    replace(panel, errorBox({ status: 403, message: t('admin.sectionForbidden') }));
    return null;
  }
  try {
    const mod = await import(`./admin/${id}.js`);
    return (await mod.render(panel, query || {})) || null;
  } catch (err) {
    replace(panel, errorBox(err));
    return null;
  }
}
