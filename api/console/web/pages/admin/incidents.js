// Incidents: faults of the cameras the caller may use,
// opened by the engine or filed by users, each with a 24-hour deadline;
// overdue ones are flagged. Anyone who may use a camera files one; the
// camera's administrators close them with a resolution.

import * as api from '../../lib/api.js';
import { h, replace } from '../../lib/dom.js';
import { addMessages, t, has } from '../../lib/i18n.js';
import { setQuery } from '../../lib/router.js';
import { badge, button, errorBox, field, loading, notify, select, table } from '../../lib/ui.js';
import { clean, formDialog, isICTAdmin, lookups, nameOf, rowActions, sectionHead, smallButton, when } from './common.js';

addMessages({
  vi: {
    'admin.incidents.title': 'Sự cố',
    'admin.incidents.add': 'Báo sự cố',
    'admin.incidents.addTitle': 'Báo sự cố camera',
    'admin.incidents.addIntro': 'Sự cố phải được khắc phục trong 24 giờ kể từ khi phát hiện hoặc được thông báo (R-11.2).',
    'admin.incidents.state': 'Tình trạng',
    'admin.incidents.open': 'Chưa xử lý',
    'admin.incidents.closed': 'Đã xử lý',
    'admin.incidents.overdue': 'Quá hạn',
    'admin.incidents.source': 'Nguồn',
    'admin.incidents.source.auto': 'Hệ thống tự phát hiện',
    'admin.incidents.source.user': 'Người dùng báo',
    'admin.incidents.camera': 'Camera',
    'admin.incidents.kind': 'Loại sự cố',
    'admin.incidents.detail': 'Mô tả',
    'admin.incidents.detailHint': 'Hiện tượng, thời điểm phát hiện, ảnh hưởng.',
    'admin.incidents.opened': 'Phát hiện lúc',
    'admin.incidents.deadline': 'Hạn khắc phục',
    'admin.incidents.closedAt': 'Khắc phục lúc',
    'admin.incidents.resolution': 'Kết quả xử lý',
    'admin.incidents.resolutionHint': 'Nguyên nhân và cách đã khắc phục.',
    'admin.incidents.close': 'Đóng sự cố',
    'admin.incidents.closeTitle': 'Đóng sự cố của camera {camera}',
    'admin.incidents.closedOk': 'Đã đóng sự cố.',
    'admin.incidents.filed': 'Đã ghi nhận sự cố; hạn khắc phục {deadline}.',
    'admin.incidents.existing': 'Camera này đã có sự cố cùng loại đang mở (từ {opened}); không tạo thêm.',
    'admin.incidents.filter': 'Hiển thị',
    'admin.incidents.filter.all': 'Tất cả sự cố',
    'admin.incidents.filter.open': 'Sự cố chưa xử lý',
    'admin.incidents.filter.overdue': 'Sự cố quá hạn',
    'admin.incidents.empty': 'Không có sự cố nào.',
    'admin.incidents.noCameras': 'Bạn chưa được dùng camera nào nên chưa thể báo sự cố.',
    'admin.incidents.kind.user.report': 'Phản ánh của người dùng',
    'admin.incidents.kind.camera.offline': 'Camera mất kết nối',
    'admin.incidents.kind.picture.frozen': 'Hình ảnh bị đứng',
    'admin.incidents.kind.picture.covered': 'Ống kính bị che',
    'admin.incidents.kind.picture.defocused': 'Hình ảnh bị mờ',
    'admin.incidents.kind.picture.moved': 'Camera bị xoay lệch hướng',
    'admin.incidents.kind.disk': 'Lỗi ghi đĩa',
    'admin.incidents.kind.storage': 'Thiếu dung lượng lưu trữ',
  },
  en: {
    'admin.incidents.title': 'Incidents',
    'admin.incidents.add': 'Report incident',
    'admin.incidents.addTitle': 'Report a camera incident',
    'admin.incidents.addIntro': 'Faults must be fixed within 24 hours of detection or notification (R-11.2).',
    'admin.incidents.state': 'State',
    'admin.incidents.open': 'Open',
    'admin.incidents.closed': 'Closed',
    'admin.incidents.overdue': 'Overdue',
    'admin.incidents.source': 'Source',
    'admin.incidents.source.auto': 'Detected by the engine',
    'admin.incidents.source.user': 'Reported by a user',
    'admin.incidents.camera': 'Camera',
    'admin.incidents.kind': 'Kind',
    'admin.incidents.detail': 'Description',
    'admin.incidents.detailHint': 'What happens, since when, what it affects.',
    'admin.incidents.opened': 'Opened',
    'admin.incidents.deadline': 'Deadline',
    'admin.incidents.closedAt': 'Closed',
    'admin.incidents.resolution': 'Resolution',
    'admin.incidents.resolutionHint': 'The cause and how it was fixed.',
    'admin.incidents.close': 'Close incident',
    'admin.incidents.closeTitle': 'Close the incident of camera {camera}',
    'admin.incidents.closedOk': 'Incident closed.',
    'admin.incidents.filed': 'Incident recorded; to be fixed by {deadline}.',
    'admin.incidents.existing': 'This camera already has an open incident of that kind (since {opened}); none added.',
    'admin.incidents.filter': 'Show',
    'admin.incidents.filter.all': 'All incidents',
    'admin.incidents.filter.open': 'Open incidents',
    'admin.incidents.filter.overdue': 'Overdue incidents',
    'admin.incidents.empty': 'No incidents.',
    'admin.incidents.noCameras': 'You may use no camera yet, so you cannot report incidents.',
    'admin.incidents.kind.user.report': 'User report',
    'admin.incidents.kind.camera.offline': 'Camera offline',
    'admin.incidents.kind.picture.frozen': 'Frozen picture',
    'admin.incidents.kind.picture.covered': 'Lens covered',
    'admin.incidents.kind.picture.defocused': 'Picture out of focus',
    'admin.incidents.kind.picture.moved': 'Camera turned away',
    'admin.incidents.kind.disk': 'Disk write failure',
    'admin.incidents.kind.storage': 'Storage running out',
  },
});

const KINDS = ['user.report', 'camera.offline', 'picture.frozen', 'picture.covered', 'picture.defocused', 'picture.moved'];
const kindLabel = (k) => (has(`admin.incidents.kind.${k}`) ? t(`admin.incidents.kind.${k}`) : k);

export async function render(panel, query) {
  let show = ['all', 'open', 'overdue'].includes(query.show) ? query.show : 'all';

  async function draw() {
    replace(panel, loading());
    let incidents;
    let look;
    try {
      [incidents, look] = await Promise.all([
        api.get('/incidents', { open: show === 'open' ? 'true' : '', overdue: show === 'overdue' ? 'true' : '' }).then((r) => r.incidents || []),
        lookups('cameras', 'systems'),
      ]);
    } catch (err) {
      replace(panel, sectionHead(t('admin.incidents.title')), errorBox(err));
      return;
    }
    // Newest first; open ones before closed ones.
    incidents.sort((a, b) => (Boolean(a.closed) - Boolean(b.closed)) || String(b.opened).localeCompare(String(a.opened)));
    const manages = (camId) => isICTAdmin() || look.system.has(look.camera.get(camId)?.system_id);
    const filter = select(['all', 'open', 'overdue'].map((v) => [v, t(`admin.incidents.filter.${v}`)]), show, { name: 'show', 'data-testid': 'admin-incidents-filter' });
    filter.addEventListener('change', () => {
      show = filter.value;
      setQuery({ show });
      draw().then(() => panel.querySelector('[data-testid="admin-incidents-filter"]')?.focus());
    });
    replace(panel,
      sectionHead(t('admin.incidents.title'),
        look.cameras.length ? button(t('admin.incidents.add'), () => file(look), 'primary', { 'data-testid': 'admin-incident-add' }) : null),
      look.cameras.length ? null : h('p', { class: 'muted' }, t('admin.incidents.noCameras')),
      h('div', { class: 'row filters' }, field(t('admin.incidents.filter'), filter)),
      table([
        { label: t('admin.incidents.state'), render: (i) => h('span', { class: 'badges' },
          i.closed ? badge(t('admin.incidents.closed'), 'ok') : badge(t('admin.incidents.open'), 'warn'),
          i.overdue ? badge(t('admin.incidents.overdue'), 'bad') : null) },
        { label: t('admin.incidents.source'), render: (i) => t(`admin.incidents.source.${i.source}`) },
        { label: t('admin.incidents.camera'), render: (i) => nameOf(look.camera, i.camera_id) },
        { label: t('admin.incidents.detail'), class: 'wide', render: (i) => h('div', {}, h('strong', {}, kindLabel(i.kind)), i.detail ? h('div', { class: 'small' }, i.detail) : null) },
        { label: t('admin.incidents.opened'), render: (i) => when(i.opened) },
        { label: t('admin.incidents.deadline'), render: (i) => (i.overdue ? h('strong', { class: 'text-bad' }, when(i.deadline)) : when(i.deadline)) },
        { label: t('admin.incidents.closedAt'), render: (i) => (i.closed ? h('div', {}, when(i.closed), i.resolution ? h('div', { class: 'muted small' }, i.resolution) : null) : h('span', { class: 'muted' }, t('admin.none'))) },
        { label: t('admin.actions'), render: (i) => (!i.closed && manages(i.camera_id)
          ? rowActions(smallButton(t('admin.incidents.close'), `${look.camera.get(i.camera_id)?.name || i.camera_id} — ${kindLabel(i.kind)}`, () => close(i, look))) : null) },
      ], incidents, { caption: t('admin.incidents.title'), empty: t('admin.incidents.empty') }));
  }

  async function file(look) {
    const camera = select(look.cameras.map((c) => [c.id, `${c.name || c.id} (${c.id})`]), '', { name: 'camera_id', required: true });
    const kind = select(KINDS.map((k) => [k, kindLabel(k)]), 'user.report', { name: 'kind' });
    const detail = h('textarea', { name: 'detail', required: true, maxlength: 2000, rows: 3 });
    const body = [
      h('p', { class: 'muted' }, t('admin.incidents.addIntro')),
      h('div', { class: 'form-grid' }, field(t('admin.incidents.camera'), camera), field(t('admin.incidents.kind'), kind)),
      field(t('admin.incidents.detail'), detail, t('admin.incidents.detailHint')),
    ];
    const started = Date.now();
    const saved = await formDialog(t('admin.incidents.addTitle'), body, () =>
      api.post('/incidents', { camera_id: camera.value, kind: kind.value, detail: clean(detail.value) }), t('admin.incidents.add'));
    if (!saved) return;
    // The server answers the camera's open incident of that kind, if any,
    // instead of a new one.
    if (new Date(saved.opened).getTime() < started - 5000) notify(t('admin.incidents.existing', { opened: when(saved.opened) }), 'warn');
    else notify(t('admin.incidents.filed', { deadline: when(saved.deadline) }));
    await draw();
  }

  async function close(i, look) {
    const resolution = h('textarea', { name: 'resolution', required: true, maxlength: 2000, rows: 3 });
    const body = [
      h('p', {}, h('strong', {}, kindLabel(i.kind)), i.detail ? ` — ${i.detail}` : ''),
      field(t('admin.incidents.resolution'), resolution, t('admin.incidents.resolutionHint')),
    ];
    const saved = await formDialog(t('admin.incidents.closeTitle', { camera: look.camera.get(i.camera_id)?.name || i.camera_id }), body, () =>
      api.post(`/incidents/${encodeURIComponent(i.id)}/close`, { resolution: clean(resolution.value) }), t('admin.incidents.close'));
    if (!saved) return;
    notify(t('admin.incidents.closedOk'));
    await draw();
  }

  await draw();
}
