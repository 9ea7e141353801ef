// Agencies (ICT administrator): the list with each agency's functions
// (the purposes of it serves, which decide when a grant needs the
// People's Committee approval, R-8.2), and create and edit.

import * as api from '../../lib/api.js';
import { h, replace } from '../../lib/dom.js';
import { addMessages, t } from '../../lib/i18n.js';
import { badge, button, errorBox, field, loading, notify, table } from '../../lib/ui.js';
import {
  FUNCTIONS, checkGroup, clean, formDialog, input, isICTAdmin, purposeBadges, rowActions, sectionHead, smallButton, when,
} from './common.js';

addMessages({
  vi: {
    'admin.agencies.title': 'Cơ quan, đơn vị',
    'admin.agencies.add': 'Thêm cơ quan, đơn vị',
    'admin.agencies.edit': 'Sửa cơ quan, đơn vị',
    'admin.agencies.name': 'Tên cơ quan, đơn vị',
    'admin.agencies.ict': 'Sở TT&TT',
    'admin.agencies.functions': 'Chức năng, nhiệm vụ',
    'admin.agencies.functionsHint': 'Mục đích sử dụng dữ liệu camera thuộc chức năng của cơ quan. Cấp quyền cho mục đích ngoài chức năng phải có văn bản chấp thuận của UBND tỉnh (R-8.2).',
    'admin.agencies.ictAll': 'Mọi chức năng (cơ quan chuyên trách)',
    'admin.agencies.created': 'Đã thêm cơ quan, đơn vị “{name}”.',
    'admin.agencies.empty': 'Chưa có cơ quan, đơn vị nào.',
  },
  en: {
    'admin.agencies.title': 'Agencies',
    'admin.agencies.add': 'Add agency',
    'admin.agencies.edit': 'Edit agency',
    'admin.agencies.name': 'Agency name',
    'admin.agencies.ict': 'ICT department',
    'admin.agencies.functions': 'Functions',
    'admin.agencies.functionsHint': "The purposes of camera data within the agency's function. A grant for a purpose outside it needs the People's Committee's written approval (R-8.2).",
    'admin.agencies.ictAll': 'Every function (the ICT department)',
    'admin.agencies.created': 'Agency “{name}” added.',
    'admin.agencies.empty': 'No agencies yet.',
  },
});

export async function render(panel) {
  async function draw() {
    replace(panel, loading());
    let agencies;
    try {
      agencies = (await api.get('/agencies')).agencies || [];
    } catch (err) {
      replace(panel, sectionHead(t('admin.agencies.title')), errorBox(err));
      return;
    }
    const canEdit = isICTAdmin();
    replace(panel,
      sectionHead(t('admin.agencies.title'), canEdit ? button(t('admin.agencies.add'), () => edit(null), 'primary', { 'data-testid': 'admin-agency-add' }) : null),
      table([
        { label: t('admin.agencies.name'), render: (a) => h('span', {}, h('strong', {}, a.name), ' ', h('span', { class: 'muted mono' }, a.id)) },
        { label: t('admin.agencies.ict'), render: (a) => (a.ict ? badge(t('common.yes'), 'info') : h('span', { class: 'muted' }, t('common.no'))) },
        { label: t('admin.agencies.functions'), render: (a) => (a.ict ? h('span', { class: 'muted' }, t('admin.agencies.ictAll')) : purposeBadges(a.functions)) },
        { label: t('admin.created'), render: (a) => when(a.created) },
        canEdit ? { label: t('admin.actions'), render: (a) => rowActions(smallButton(t('common.edit'), a.name, () => edit(a))) } : null,
      ].filter(Boolean), agencies, { caption: t('admin.agencies.title'), empty: t('admin.agencies.empty') }));
  }

  async function edit(a) {
    const id = input({ name: 'id', pattern: '[A-Za-z0-9_\\-]{1,64}', maxlength: 64, spellcheck: 'false' });
    const name = input({ name: 'name', required: true, maxlength: 200, value: a ? a.name : '' });
    const fns = checkGroup(t('admin.agencies.functions'), FUNCTIONS.map((p) => [p, t(`purpose.${p}`)]), a?.functions || [],
      { hint: t('admin.agencies.functionsHint') });
    const body = [
      a ? h('p', { class: 'muted' }, `${t('admin.id')}: `, h('span', { class: 'mono' }, a.id)) : field(t('admin.id'), id, t('admin.idHint')),
      field(t('admin.agencies.name'), name),
      fns.el,
    ];
    const saved = await formDialog(a ? t('admin.agencies.edit') : t('admin.agencies.add'), body, async () => {
      const payload = { name: clean(name.value), functions: fns.values() };
      if (a) return api.put(`/agencies/${encodeURIComponent(a.id)}`, payload);
      if (clean(id.value)) payload.id = clean(id.value);
      return api.post('/agencies', payload);
    });
    if (!saved) return;
    notify(a ? t('admin.saved') : t('admin.agencies.created', { name: saved.name }));
    await draw();
  }

  await draw();
}
