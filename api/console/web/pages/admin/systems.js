// Camera systems: the list (name, tier, managing agency, operating unit)
// for administrators; create and edit for the ICT administrator (a system
// administrator sees the systems its agency manages or operates).

import * as api from '../../lib/api.js';
import { h, replace } from '../../lib/dom.js';
import { addMessages, t } from '../../lib/i18n.js';
import { badge, button, errorBox, field, loading, notify, select, table } from '../../lib/ui.js';
import {
  clean, formDialog, input, isICTAdmin, lookups, nameOf, rowActions, sectionHead, smallButton, tierLabel, when,
} from './common.js';

addMessages({
  vi: {
    'admin.systems.title': 'Hệ thống camera',
    'admin.systems.add': 'Thêm hệ thống camera',
    'admin.systems.edit': 'Sửa hệ thống camera',
    'admin.systems.name': 'Tên hệ thống',
    'admin.systems.tier': 'Cấp hệ thống',
    'admin.systems.tierHint': 'Cấp I: hệ thống IOC của tỉnh do Sở TT&TT vận hành; cấp II: của cơ quan cấp tỉnh, cấp huyện; cấp III: của cấp xã và camera tư nhân tự nguyện kết nối.',
    'admin.systems.managing': 'Cơ quan quản lý',
    'admin.systems.operating': 'Đơn vị vận hành',
    'admin.systems.noOperating': '— Không có —',
    'admin.systems.created': 'Đã thêm hệ thống “{name}”.',
    'admin.systems.empty': 'Chưa có hệ thống camera nào.',
  },
  en: {
    'admin.systems.title': 'Camera systems',
    'admin.systems.add': 'Add camera system',
    'admin.systems.edit': 'Edit camera system',
    'admin.systems.name': 'System name',
    'admin.systems.tier': 'Tier',
    'admin.systems.tierHint': "Tier I: the province's IOC run by the ICT department; tier II: provincial and district agencies' systems; tier III: commune systems and voluntarily connected private cameras.",
    'admin.systems.managing': 'Managing agency',
    'admin.systems.operating': 'Operating unit',
    'admin.systems.noOperating': '— None —',
    'admin.systems.created': 'System “{name}” added.',
    'admin.systems.empty': 'No camera systems yet.',
  },
});

export async function render(panel) {
  async function draw() {
    replace(panel, loading());
    let systems;
    let look;
    try {
      [systems, look] = await Promise.all([api.get('/systems').then((r) => r.systems || []), lookups('agencies')]);
    } catch (err) {
      replace(panel, sectionHead(t('admin.systems.title')), errorBox(err));
      return;
    }
    const canEdit = isICTAdmin();
    replace(panel,
      sectionHead(t('admin.systems.title'), canEdit ? button(t('admin.systems.add'), () => edit(null, look), 'primary', { 'data-testid': 'admin-system-add' }) : null),
      canEdit ? null : h('p', { class: 'muted' }, t('admin.readOnly')),
      table([
        { label: t('admin.systems.name'), render: (y) => h('span', {}, h('strong', {}, y.name), ' ', h('span', { class: 'muted mono' }, y.id)) },
        { label: t('admin.systems.tier'), render: (y) => badge(tierLabel(y.tier), y.tier === 1 ? 'info' : 'muted') },
        { label: t('admin.systems.managing'), render: (y) => nameOf(look.agency, y.managing_agency) },
        { label: t('admin.systems.operating'), render: (y) => nameOf(look.agency, y.operating_unit) },
        { label: t('admin.created'), render: (y) => when(y.created) },
        canEdit ? { label: t('admin.actions'), render: (y) => rowActions(smallButton(t('common.edit'), y.name, () => edit(y, look))) } : null,
      ].filter(Boolean), systems, { caption: t('admin.systems.title'), empty: t('admin.systems.empty') }));
  }

  async function edit(y, look) {
    const agencies = look.agencies.map((a) => [a.id, a.name]);
    const id = input({ name: 'id', pattern: '[A-Za-z0-9_\\-]{1,64}', maxlength: 64, spellcheck: 'false' });
    const name = input({ name: 'name', required: true, maxlength: 200, value: y ? y.name : '' });
    const tier = select([[1, tierLabel(1)], [2, tierLabel(2)], [3, tierLabel(3)]], y ? y.tier : 2, { name: 'tier' });
    const managing = select(agencies, y ? y.managing_agency : '', { name: 'managing_agency', required: true });
    const operating = select([['', t('admin.systems.noOperating')], ...agencies], y ? y.operating_unit || '' : '', { name: 'operating_unit' });
    const body = [
      y ? h('p', { class: 'muted' }, `${t('admin.id')}: `, h('span', { class: 'mono' }, y.id)) : field(t('admin.id'), id, t('admin.idHint')),
      field(t('admin.systems.name'), name),
      field(t('admin.systems.tier'), tier, t('admin.systems.tierHint')),
      h('div', { class: 'form-grid' }, field(t('admin.systems.managing'), managing), field(t('admin.systems.operating'), operating)),
    ];
    const saved = await formDialog(y ? t('admin.systems.edit') : t('admin.systems.add'), body, async () => {
      const payload = { name: clean(name.value), tier: Number(tier.value), managing_agency: managing.value, operating_unit: operating.value };
      if (y) return api.put(`/systems/${encodeURIComponent(y.id)}`, payload);
      if (clean(id.value)) payload.id = clean(id.value);
      return api.post('/systems', payload);
    });
    if (!saved) return;
    notify(y ? t('admin.saved') : t('admin.systems.created', { name: saved.name }));
    await draw();
  }

  await draw();
}
