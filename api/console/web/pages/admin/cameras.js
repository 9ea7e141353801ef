// Cameras: the registry of R-6.1 (location, address, installation date,
// approval reference, purposes, public and state-secret flags) with create
// and edit for the cameras the caller administers, and a separate dialog
// that sets the stream URL and credentials. Those are write-only:
// the API never returns them, and this page never shows, keeps or logs
// them — only whether a stream is configured.

import * as api from '../../lib/api.js';
import { h, replace } from '../../lib/dom.js';
import { addMessages, t, fmtNumber, localDay, fromLocal } from '../../lib/i18n.js';
import { button, errorBox, field, loading, notify, select, table } from '../../lib/ui.js';
import {
  PURPOSES, checkField, checkGroup, clean, clientError, formDialog, input, isICTAdmin, lookups, nameOf, purposeBadges,
  rowActions, sectionHead, smallButton, yesNo,
} from './common.js';

addMessages({
  vi: {
    'admin.cameras.title': 'Camera',
    'admin.cameras.add': 'Đăng ký camera',
    'admin.cameras.edit': 'Sửa thông tin camera',
    'admin.cameras.id': 'Mã camera',
    'admin.cameras.idHint': 'Mã dùng trong cấu hình của hệ thống: chữ cái không dấu, chữ số, “-” hoặc “_”. Không đổi được sau khi tạo.',
    'admin.cameras.name': 'Tên camera',
    'admin.cameras.system': 'Hệ thống',
    'admin.cameras.district': 'Huyện, thị xã, thành phố',
    'admin.cameras.position': 'Vị trí',
    'admin.cameras.noPosition': 'Chưa có toạ độ',
    'admin.cameras.lat': 'Vĩ độ',
    'admin.cameras.lon': 'Kinh độ',
    'admin.cameras.latLonHint': 'Độ thập phân theo WGS 84, ví dụ 21.0285 và 105.8542.',
    'admin.cameras.address': 'Địa chỉ lắp đặt',
    'admin.cameras.installed': 'Ngày lắp đặt hoặc thay đổi',
    'admin.cameras.installedHint': 'Camera phải được kết nối với hệ thống cấp I trong 5 ngày kể từ ngày này (R-7.5).',
    'admin.cameras.approval': 'Số văn bản phê duyệt vị trí, phương án kỹ thuật',
    'admin.cameras.approvalHint': 'Văn bản chấp thuận vị trí lắp đặt và phương án kỹ thuật (R-6.1), ví dụ 123/QĐ-UBND ngày 05/03/2026.',
    'admin.cameras.public': 'Công khai',
    'admin.cameras.publicLabel': 'Công khai hình ảnh qua cổng thông tin (R-9.1)',
    'admin.cameras.secret': 'Bí mật nhà nước',
    'admin.cameras.secretLabel': 'Camera thuộc danh mục bí mật nhà nước (R-1.1)',
    'admin.cameras.flagsHint': 'Camera bí mật nhà nước không được công khai.',
    'admin.cameras.bothFlags': 'Camera bí mật nhà nước không thể đồng thời công khai (R-1.1). Hãy bỏ một trong hai lựa chọn.',
    'admin.cameras.purposes': 'Mục đích sử dụng',
    'admin.cameras.stream': 'Đã cấu hình luồng',
    'admin.cameras.setStream': 'Cấu hình luồng',
    'admin.cameras.streamTitle': 'Cấu hình luồng video của camera {id}',
    'admin.cameras.streamIntro': 'Địa chỉ luồng và thông tin đăng nhập được mã hoá khi lưu và chỉ dùng cho việc thu nhận hình ảnh. Chúng không bao giờ được hiển thị lại, kể cả cho quản trị viên (R-5.1). Lưu sẽ thay thế hoàn toàn cấu hình cũ.',
    'admin.cameras.streamUrl': 'Địa chỉ luồng chính (RTSP)',
    'admin.cameras.streamUrlHint': 'Ví dụ rtsp://10.0.0.5:554/stream1. Nên nhập tên và mật khẩu vào các ô riêng bên dưới thay vì trong địa chỉ.',
    'admin.cameras.subStreamUrl': 'Địa chỉ luồng phụ (không bắt buộc)',
    'admin.cameras.subStreamHint': 'Luồng độ phân giải thấp dùng cho phân tích, nếu camera có.',
    'admin.cameras.streamUser': 'Tên đăng nhập camera',
    'admin.cameras.streamPassword': 'Mật khẩu camera',
    'admin.cameras.streamSaved': 'Đã lưu cấu hình luồng của camera {id}.',
    'admin.cameras.created': 'Đã đăng ký camera “{name}”.',
    'admin.cameras.empty': 'Chưa có camera nào.',
    'admin.cameras.noSystems': 'Bạn chưa quản lý hệ thống camera nào nên chưa thể đăng ký camera.',
    'admin.cameras.search': 'Tìm camera',
    'admin.cameras.searchHint': 'Theo mã, tên, hệ thống, huyện hoặc địa chỉ.',
    'admin.cameras.count': '{n} camera',
  },
  en: {
    'admin.cameras.title': 'Cameras',
    'admin.cameras.add': 'Register camera',
    'admin.cameras.edit': 'Edit camera',
    'admin.cameras.id': 'Camera ID',
    'admin.cameras.idHint': "The ID the engine's configuration uses: letters, digits, “-” or “_”. Cannot change after creation.",
    'admin.cameras.name': 'Camera name',
    'admin.cameras.system': 'System',
    'admin.cameras.district': 'District',
    'admin.cameras.position': 'Position',
    'admin.cameras.noPosition': 'No coordinates yet',
    'admin.cameras.lat': 'Latitude',
    'admin.cameras.lon': 'Longitude',
    'admin.cameras.latLonHint': 'Decimal degrees (WGS 84), e.g. 21.0285 and 105.8542.',
    'admin.cameras.address': 'Installation address',
    'admin.cameras.installed': 'Installed or changed on',
    'admin.cameras.installedHint': 'The camera must be connected to tier I within 5 days of this date (R-7.5).',
    'admin.cameras.approval': 'Approval reference (location and technical plan)',
    'admin.cameras.approvalHint': 'The written approval of the location and technical plan (R-6.1), e.g. 123/QĐ-UBND of 05/03/2026.',
    'admin.cameras.public': 'Public',
    'admin.cameras.publicLabel': 'Show images on the public portal (R-9.1)',
    'admin.cameras.secret': 'State secret',
    'admin.cameras.secretLabel': 'State-secret camera (R-1.1)',
    'admin.cameras.flagsHint': 'A state-secret camera cannot be public.',
    'admin.cameras.bothFlags': 'A state-secret camera cannot also be public (R-1.1). Clear one of the two.',
    'admin.cameras.purposes': 'Purposes',
    'admin.cameras.stream': 'Stream configured',
    'admin.cameras.setStream': 'Set stream',
    'admin.cameras.streamTitle': 'Set the video stream of camera {id}',
    'admin.cameras.streamIntro': 'The stream address and credentials are encrypted when stored and used only to receive the video. They are never shown again, to administrators neither (R-5.1). Saving replaces the whole previous setting.',
    'admin.cameras.streamUrl': 'Main stream address (RTSP)',
    'admin.cameras.streamUrlHint': 'E.g. rtsp://10.0.0.5:554/stream1. Prefer the separate user name and password fields below to credentials in the address.',
    'admin.cameras.subStreamUrl': 'Sub-stream address (optional)',
    'admin.cameras.subStreamHint': 'The lower-resolution stream used for analysis, if the camera has one.',
    'admin.cameras.streamUser': 'Camera user name',
    'admin.cameras.streamPassword': 'Camera password',
    'admin.cameras.streamSaved': 'Stream of camera {id} saved.',
    'admin.cameras.created': 'Camera “{name}” registered.',
    'admin.cameras.empty': 'No cameras yet.',
    'admin.cameras.noSystems': 'You administer no camera system yet, so you cannot register cameras.',
    'admin.cameras.search': 'Find cameras',
    'admin.cameras.searchHint': 'By ID, name, system, district or address.',
    'admin.cameras.count': '{n} cameras',
  },
});

const coord = (v) => fmtNumber(v, { minimumFractionDigits: 4, maximumFractionDigits: 6 });

export async function render(panel, query) {
  let search = query.q || '';

  async function draw() {
    replace(panel, loading());
    let look;
    try {
      look = await lookups('cameras', 'systems');
    } catch (err) {
      replace(panel, sectionHead(t('admin.cameras.title')), errorBox(err));
      return;
    }
    // The systems listed are those the caller administers (all of them for
    // the ICT administrator): their cameras may be changed.
    const manages = (cam) => isICTAdmin() || look.system.has(cam.system_id);
    const canCreate = isICTAdmin() || look.systems.length > 0;
    const listSlot = h('div');
    const searchBox = input({ type: 'search', value: search, name: 'q', 'data-testid': 'admin-camera-search' });
    const count = h('p', { class: 'muted', role: 'status' });
    const showList = () => {
      const q = search.toLowerCase();
      const rows = look.cameras.filter((c) => !q || [c.id, c.name, c.district, c.address, look.system.get(c.system_id)?.name]
        .some((v) => v && String(v).toLowerCase().includes(q)));
      count.textContent = t('admin.cameras.count', { n: rows.length });
      replace(listSlot, table([
        { label: t('admin.cameras.id'), render: (c) => h('span', { class: 'mono nowrap' }, c.id) },
        { label: t('admin.cameras.name'), render: (c) => c.name },
        { label: t('admin.cameras.system'), render: (c) => nameOf(look.system, c.system_id) },
        { label: t('admin.cameras.district'), render: (c) => c.district || h('span', { class: 'muted' }, t('admin.none')) },
        { label: t('admin.cameras.position'), render: position },
        { label: t('admin.cameras.public'), render: (c) => yesNo(c.public, 'ok') },
        { label: t('admin.cameras.secret'), render: (c) => yesNo(c.state_secret, 'warn') },
        { label: t('admin.cameras.purposes'), render: (c) => purposeBadges(c.purposes) },
        { label: t('admin.cameras.stream'), render: (c) => yesNo(c.has_stream, 'ok', 'warn') },
        { label: t('admin.actions'), render: (c) => (manages(c) ? rowActions(
          smallButton(t('common.edit'), c.name || c.id, () => edit(c, look)),
          smallButton(t('admin.cameras.setStream'), c.name || c.id, () => setStream(c))) : null) },
      ], rows, { caption: t('admin.cameras.title'), empty: t('admin.cameras.empty') }));
    };
    searchBox.addEventListener('input', () => {
      search = searchBox.value.trim();
      showList();
    });
    replace(panel,
      sectionHead(t('admin.cameras.title'),
        canCreate ? button(t('admin.cameras.add'), () => edit(null, look), 'primary', { 'data-testid': 'admin-camera-add' }) : null),
      canCreate ? null : h('p', { class: 'muted' }, t('admin.cameras.noSystems')),
      h('div', { class: 'row filters' }, field(t('admin.cameras.search'), searchBox, t('admin.cameras.searchHint')), count),
      listSlot);
    showList();
  }

  function position(c) {
    const hasPos = Number(c.lat) !== 0 || Number(c.lon) !== 0;
    return h('div', { class: 'position' },
      hasPos ? h('span', { class: 'mono', title: `${t('admin.cameras.lat')} ${coord(c.lat)}; ${t('admin.cameras.lon')} ${coord(c.lon)}` }, `${coord(c.lat)}; ${coord(c.lon)}`) : h('span', { class: 'muted' }, t('admin.cameras.noPosition')),
      c.address ? h('div', { class: 'muted small' }, c.address) : null);
  }

  async function edit(cam, look) {
    // The systems listed are those the caller administers.
    const systems = look.systems;
    const supportsDistrict = look.cameras.some((c) => 'district' in c);
    const id = input({ name: 'id', required: true, pattern: '[A-Za-z0-9_\\-]{1,64}', maxlength: 64, spellcheck: 'false' });
    const name = input({ name: 'name', required: true, maxlength: 200, value: cam?.name || '' });
    const system = select(systems.map((y) => [y.id, y.name]), cam?.system_id || '', { name: 'system_id', required: true });
    const district = input({ name: 'district', maxlength: 100, value: cam?.district || '' });
    const lat = input({ name: 'lat', type: 'number', step: 'any', min: -90, max: 90, value: cam ? String(cam.lat ?? 0) : '' });
    const lon = input({ name: 'lon', type: 'number', step: 'any', min: -180, max: 180, value: cam ? String(cam.lon ?? 0) : '' });
    const address = h('textarea', { name: 'address', maxlength: 500, rows: 2 }, cam?.address || '');
    const installed = input({ name: 'installed', type: 'date', value: cam?.installed ? localDay(cam.installed) : '' });
    const approval = input({ name: 'approval_ref', maxlength: 200, value: cam?.approval_ref || '' });
    const pub = checkField(t('admin.cameras.publicLabel'), Boolean(cam?.public), { name: 'public' });
    const secret = checkField(t('admin.cameras.secretLabel'), Boolean(cam?.state_secret), { name: 'state_secret' });
    const purposes = checkGroup(t('admin.cameras.purposes'), PURPOSES.map((p) => [p, t(`purpose.${p}`)]), cam?.purposes || []);
    const body = [
      h('div', { class: 'form-grid' },
        cam ? h('p', { class: 'muted' }, `${t('admin.cameras.id')}: `, h('span', { class: 'mono' }, cam.id)) : field(t('admin.cameras.id'), id, t('admin.cameras.idHint')),
        field(t('admin.cameras.name'), name),
        field(t('admin.cameras.system'), system),
        field(t('admin.cameras.district'), district),
        field(t('admin.cameras.lat'), lat, t('admin.cameras.latLonHint')),
        field(t('admin.cameras.lon'), lon)),
      field(t('admin.cameras.address'), address),
      h('div', { class: 'form-grid' },
        field(t('admin.cameras.installed'), installed, t('admin.cameras.installedHint')),
        field(t('admin.cameras.approval'), approval, t('admin.cameras.approvalHint'))),
      h('fieldset', { class: 'checks' }, h('legend', {}, `${t('admin.cameras.public')}, ${t('admin.cameras.secret').toLowerCase()}`),
        h('div', { class: 'checks-list' }, pub.el, secret.el), h('small', { class: 'hint' }, t('admin.cameras.flagsHint'))),
      purposes.el,
    ];
    const saved = await formDialog(cam ? t('admin.cameras.edit') : t('admin.cameras.add'), body, async () => {
      if (pub.input.checked && secret.input.checked) throw clientError(t('admin.cameras.bothFlags'));
      const payload = {
        system_id: system.value,
        name: clean(name.value),
        lat: Number(lat.value || 0),
        lon: Number(lon.value || 0),
        address: clean(address.value),
        approval_ref: clean(approval.value),
        public: pub.input.checked,
        state_secret: secret.input.checked,
        purposes: purposes.values(),
      };
      // The registry field "district" is sent when the engine knows it
      // (its cameras carry it) or when one is given.
      if (supportsDistrict || clean(district.value)) payload.district = clean(district.value);
      if (installed.value) {
        // Keep the stored instant when the day did not change.
        payload.installed = cam?.installed && localDay(cam.installed) === installed.value ? cam.installed : fromLocal(installed.value).toISOString();
      }
      if (cam) return api.put(`/cameras/${encodeURIComponent(cam.id)}`, payload);
      return api.post('/cameras', { id: clean(id.value), ...payload });
    });
    if (!saved) return;
    notify(cam ? t('admin.saved') : t('admin.cameras.created', { name: saved.name }));
    await draw();
  }

  // setStream asks for the stream URL and credentials and sends them; the
  // fields are cleared after every attempt and gone with the dialog.
  async function setStream(cam) {
    const attrs = { autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', 'data-lpignore': 'true' };
    const url = input({ name: 'stream_url', required: true, maxlength: 2000, ...attrs });
    const sub = input({ name: 'sub_stream_url', maxlength: 2000, ...attrs });
    const user = input({ name: 'stream_username', maxlength: 200, ...attrs });
    const pass = input({ name: 'stream_password', type: 'password', maxlength: 500, ...attrs, autocomplete: 'new-password' });
    const fields = [url, sub, user, pass];
    const body = [
      h('p', { class: 'notice info' }, t('admin.cameras.streamIntro')),
      field(t('admin.cameras.streamUrl'), url, t('admin.cameras.streamUrlHint')),
      h('div', { class: 'form-grid' }, field(t('admin.cameras.streamUser'), user), field(t('admin.cameras.streamPassword'), pass)),
      field(t('admin.cameras.subStreamUrl'), sub, t('admin.cameras.subStreamHint')),
    ];
    let ok;
    try {
      ok = await formDialog(t('admin.cameras.streamTitle', { id: cam.id }), body, async () => {
        const secret = { stream_url: url.value.trim(), username: user.value, password: pass.value, sub_stream_url: sub.value.trim() };
        // Cleared whatever the answer: a failed attempt is typed again.
        for (const f of fields) f.value = '';
        await api.put(`/cameras/${encodeURIComponent(cam.id)}/secret`, secret);
        return true;
      });
    } finally {
      for (const f of fields) f.value = '';
    }
    if (!ok) return;
    notify(t('admin.cameras.streamSaved', { id: cam.id }));
    await draw();
  }

  await draw();
}
