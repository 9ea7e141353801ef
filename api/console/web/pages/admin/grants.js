// Grants: access of a consuming agency to one camera or a whole system,
// with capabilities, a purpose and an end date.
// The ICT administrator creates and revokes them; others see the grants
// to their agency. A purpose outside the grantee agency's functions needs
// the People's Committee's written approval, number and date (R-8.2,
// the form says so as soon as agency and purpose are chosen, by
// the server's rule (store.Agency.Serves: the ICT department serves every
// purpose but "other"; "other" is never a function), and shows the
// server's refusal if it comes.

import * as api from '../../lib/api.js';
import { h, replace } from '../../lib/dom.js';
import { addMessages, t, fmtDate, localDay, fromLocal } from '../../lib/i18n.js';
import { setQuery } from '../../lib/router.js';
import { badge, button, errorBox, field, loading, notify, select, table } from '../../lib/ui.js';
import {
  CAPABILITIES, PURPOSES, checkField, checkGroup, clean, clientError, confirm, formDialog, input, isICTAdmin, lookups,
  nameOf, nameText, rowActions, sectionHead, smallButton, when,
} from './common.js';

addMessages({
  vi: {
    'admin.grants.title': 'Cấp quyền khai thác',
    'admin.grants.add': 'Cấp quyền',
    'admin.grants.addTitle': 'Cấp quyền khai thác dữ liệu camera',
    'admin.grants.agency': 'Cơ quan được cấp quyền',
    'admin.grants.scope': 'Phạm vi',
    'admin.grants.scopeCamera': 'Một camera',
    'admin.grants.scopeSystem': 'Toàn bộ hệ thống',
    'admin.grants.camera': 'Camera',
    'admin.grants.system': 'Hệ thống camera',
    'admin.grants.target': 'Camera hoặc hệ thống',
    'admin.grants.caps': 'Quyền được cấp',
    'admin.grants.capsRequired': 'Chọn ít nhất một quyền.',
    'admin.grants.purpose': 'Mục đích sử dụng',
    'admin.grants.purposeText': 'Mô tả mục đích',
    'admin.grants.purposeTextHint': 'Bắt buộc khi mục đích là “Khác” (R-4.1).',
    'admin.grants.approval': 'Văn bản chấp thuận',
    'admin.grants.approvalRef': 'Số văn bản chấp thuận của UBND tỉnh',
    'admin.grants.approvalRefHint': 'Ví dụ 456/UBND-KGVX.',
    'admin.grants.approvalDate': 'Ngày ký văn bản',
    'admin.grants.approvalNeeded': 'Mục đích “{purpose}” nằm ngoài chức năng của {agency}: phải có số và ngày văn bản chấp thuận của UBND tỉnh (R-8.2, R-18.3).',
    'admin.grants.approvalNotNeeded': 'Mục đích “{purpose}” thuộc chức năng của {agency}: không cần văn bản chấp thuận.',
    'admin.grants.approvalServer': 'Máy chủ từ chối: cấp quyền ngoài chức năng của cơ quan cần số và ngày văn bản chấp thuận của UBND tỉnh (R-8.2).',
    'admin.grants.secretServer': 'Máy chủ từ chối: camera bí mật nhà nước không được cấp quyền cho cơ quan khác (R-1.1).',
    'admin.grants.secretNote': 'Camera này thuộc danh mục bí mật nhà nước: chỉ được cấp quyền cho chính cơ quan quản lý (R-1.1).',
    'admin.grants.validFrom': 'Hiệu lực từ',
    'admin.grants.validTo': 'Hiệu lực đến',
    'admin.grants.expires': 'Hiệu lực đến hết ngày',
    'admin.grants.expiresHint': 'Quyền tự hết hiệu lực sau ngày này (giờ Việt Nam).',
    'admin.grants.expiresPast': 'Ngày hết hiệu lực phải sau hôm nay.',
    'admin.grants.status': 'Tình trạng',
    'admin.grants.live': 'Đang hiệu lực',
    'admin.grants.expired': 'Đã hết hạn',
    'admin.grants.revoked': 'Đã thu hồi',
    'admin.grants.revokedAt': 'Thu hồi lúc {time}',
    'admin.grants.revoke': 'Thu hồi',
    'admin.grants.revokeTitle': 'Thu hồi quyền',
    'admin.grants.revokeText': 'Thu hồi quyền {caps} trên {target} của {agency}? Việc thu hồi có hiệu lực ngay và không thể hoàn tác.',
    'admin.grants.revokedOk': 'Đã thu hồi quyền.',
    'admin.grants.created': 'Đã cấp quyền cho {agency}.',
    'admin.grants.liveOnly': 'Chỉ hiện quyền đang hiệu lực',
    'admin.grants.empty': 'Chưa có quyền nào được cấp.',
    'admin.grants.noTargets': 'Chưa có camera hoặc hệ thống nào để cấp quyền.',
  },
  en: {
    'admin.grants.title': 'Access grants',
    'admin.grants.add': 'Grant access',
    'admin.grants.addTitle': 'Grant access to camera data',
    'admin.grants.agency': 'Grantee agency',
    'admin.grants.scope': 'Scope',
    'admin.grants.scopeCamera': 'One camera',
    'admin.grants.scopeSystem': 'A whole system',
    'admin.grants.camera': 'Camera',
    'admin.grants.system': 'Camera system',
    'admin.grants.target': 'Camera or system',
    'admin.grants.caps': 'Capabilities',
    'admin.grants.capsRequired': 'Choose at least one capability.',
    'admin.grants.purpose': 'Purpose',
    'admin.grants.purposeText': 'Purpose description',
    'admin.grants.purposeTextHint': 'Required when the purpose is “Other” (R-4.1).',
    'admin.grants.approval': 'Approval',
    'admin.grants.approvalRef': "People's Committee approval reference",
    'admin.grants.approvalRefHint': 'E.g. 456/UBND-KGVX.',
    'admin.grants.approvalDate': 'Approval date',
    'admin.grants.approvalNeeded': "The purpose “{purpose}” is outside the functions of {agency}: the People's Committee's written approval (number and date) is required (R-8.2, R-18.3).",
    'admin.grants.approvalNotNeeded': 'The purpose “{purpose}” is within the functions of {agency}: no approval needed.',
    'admin.grants.approvalServer': "Refused by the server: a grant outside the agency's functions needs the People's Committee's approval number and date (R-8.2).",
    'admin.grants.secretServer': 'Refused by the server: a state-secret camera cannot be granted to another agency (R-1.1).',
    'admin.grants.secretNote': 'This is a state-secret camera: it may be granted to its managing agency only (R-1.1).',
    'admin.grants.validFrom': 'Valid from',
    'admin.grants.validTo': 'Valid until',
    'admin.grants.expires': 'Valid to the end of',
    'admin.grants.expiresHint': 'The grant ends after this day (Viet Nam time).',
    'admin.grants.expiresPast': 'The end date must be after today.',
    'admin.grants.status': 'Status',
    'admin.grants.live': 'In force',
    'admin.grants.expired': 'Expired',
    'admin.grants.revoked': 'Revoked',
    'admin.grants.revokedAt': 'Revoked at {time}',
    'admin.grants.revoke': 'Revoke',
    'admin.grants.revokeTitle': 'Revoke grant',
    'admin.grants.revokeText': 'Revoke {caps} on {target} from {agency}? It takes effect at once and cannot be undone.',
    'admin.grants.revokedOk': 'Grant revoked.',
    'admin.grants.created': 'Access granted to {agency}.',
    'admin.grants.liveOnly': 'Show grants in force only',
    'admin.grants.empty': 'No grants yet.',
    'admin.grants.noTargets': 'There is no camera or system to grant yet.',
  },
});

// outsideFunction is the server's rule (store.Agency.Serves): whether a
// grant of purpose p to agency a needs the approval.
export const outsideFunction = (a, p) => p === 'other' || !(a?.ict || (a?.functions || []).includes(p));

const DAY = 24 * 60 * 60 * 1000;

export async function render(panel, query) {
  let liveOnly = query.live === 'true';

  async function draw() {
    replace(panel, loading());
    let grants;
    let look;
    try {
      [grants, look] = await Promise.all([
        api.get('/grants', { live: liveOnly ? 'true' : '' }).then((r) => r.grants || []),
        lookups('agencies', 'systems', 'cameras'),
      ]);
    } catch (err) {
      replace(panel, sectionHead(t('admin.grants.title')), errorBox(err));
      return;
    }
    const canEdit = isICTAdmin();
    const live = checkField(t('admin.grants.liveOnly'), liveOnly, { name: 'live', 'data-testid': 'admin-grants-live' });
    live.input.addEventListener('change', () => {
      liveOnly = live.input.checked;
      setQuery({ live: liveOnly ? 'true' : '' });
      draw().then(() => panel.querySelector('[data-testid="admin-grants-live"]')?.focus());
    });
    replace(panel,
      sectionHead(t('admin.grants.title'), canEdit ? button(t('admin.grants.add'), () => create(look), 'primary', { 'data-testid': 'admin-grant-add' }) : null),
      canEdit ? null : h('p', { class: 'muted' }, t('admin.readOnly')),
      h('div', { class: 'row filters' }, live.el),
      table([
        { label: t('admin.grants.agency'), render: (g) => nameOf(look.agency, g.agency_id) },
        { label: t('admin.grants.scope'), render: (g) => target(g, look) },
        { label: t('admin.grants.caps'), render: (g) => h('span', { class: 'badges' }, (g.capabilities || []).map((c) => badge(t(`cap.${c}`), 'info'))) },
        { label: t('admin.grants.purpose'), render: (g) => h('div', {}, t(`purpose.${g.purpose}`), g.purpose_text ? h('div', { class: 'muted small' }, g.purpose_text) : null) },
        { label: t('admin.grants.approval'), render: (g) => (g.approval_ref
          ? h('div', {}, g.approval_ref, g.approval_date ? h('div', { class: 'muted small' }, fmtDate(g.approval_date)) : null)
          : h('span', { class: 'muted' }, t('admin.none'))) },
        { label: t('admin.grants.validFrom'), render: (g) => when(g.created) },
        { label: t('admin.grants.validTo'), render: (g) => when(g.expires) },
        { label: t('admin.grants.status'), render: status },
        canEdit ? { label: t('admin.actions'), render: (g) => (g.revoked ? null
          : rowActions(smallButton(t('admin.grants.revoke'), `${nameText(look.agency, g.agency_id)} — ${targetText(g, look)}`, () => revoke(g, look), 'danger'))) } : null,
      ].filter(Boolean), grants.slice().reverse(), { caption: t('admin.grants.title'), empty: t('admin.grants.empty') }));
  }

  function target(g, look) {
    return h('div', {}, badge(g.system_id ? t('admin.grants.system') : t('admin.grants.camera'), 'muted'), ' ',
      g.system_id ? nameOf(look.system, g.system_id) : nameOf(look.camera, g.camera_id));
  }
  const targetText = (g, look) => (g.system_id ? nameText(look.system, g.system_id) : nameText(look.camera, g.camera_id));

  function status(g) {
    if (g.revoked) return h('div', {}, badge(t('admin.grants.revoked'), 'muted'), h('div', { class: 'muted small' }, t('admin.grants.revokedAt', { time: when(g.revoked) })));
    if (new Date(g.expires) <= new Date()) return badge(t('admin.grants.expired'), 'warn');
    return badge(t('admin.grants.live'), 'ok');
  }

  async function create(look) {
    const agencies = look.agencies.filter((a) => !a.ict);
    const agency = select((agencies.length ? agencies : look.agencies).map((a) => [a.id, a.name]), '', { name: 'agency_id', required: true });
    const scope = select([['camera', t('admin.grants.scopeCamera')], ['system', t('admin.grants.scopeSystem')]], 'camera', { name: 'scope' });
    const targetSel = select([], '', { name: 'target', required: true });
    const caps = checkGroup(t('admin.grants.caps'), CAPABILITIES.map((c) => [c, t(`cap.${c}`)]), ['live_view', 'events'], { required: true });
    const purpose = select(PURPOSES.map((p) => [p, t(`purpose.${p}`)]), 'traffic_safety', { name: 'purpose', required: true });
    const purposeText = h('textarea', { name: 'purpose_text', maxlength: 500, rows: 2 });
    const approvalRef = input({ name: 'approval_ref', maxlength: 200 });
    const approvalDate = input({ name: 'approval_date', type: 'date', max: localDay(new Date()) });
    const expires = input({ name: 'expires', type: 'date', required: true, min: localDay(Date.now() + DAY), value: localDay(Date.now() + 365 * DAY) });
    const approvalNote = h('p', { class: 'notice', role: 'status', 'aria-live': 'polite', 'data-testid': 'admin-grant-approval-note' });
    const secretNote = h('p', { class: 'notice warn', hidden: true }, t('admin.grants.secretNote'));
    const refField = field(t('admin.grants.approvalRef'), approvalRef, t('admin.grants.approvalRefHint'));
    const dateField = field(t('admin.grants.approvalDate'), approvalDate);

    const fillTargets = () => {
      const list = scope.value === 'system' ? look.systems : look.cameras;
      replace(targetSel, list.map((o) => h('option', { value: o.id }, o.system_id ? `${o.name || o.id} (${o.id})` : o.name || o.id)));
    };
    const update = () => {
      const a = look.agency.get(agency.value);
      const p = purpose.value;
      const need = Boolean(a) && outsideFunction(a, p);
      approvalRef.required = need;
      approvalDate.required = need;
      purposeText.required = p === 'other';
      for (const f of [refField, dateField]) f.classList.toggle('required', need);
      approvalNote.className = `notice ${need ? 'warn' : 'ok'}`;
      approvalNote.textContent = a ? t(need ? 'admin.grants.approvalNeeded' : 'admin.grants.approvalNotNeeded', { purpose: t(`purpose.${p}`), agency: a.name }) : '';
      const cam = scope.value === 'camera' ? look.camera.get(targetSel.value) : null;
      const sys = cam ? look.system.get(cam.system_id) : null;
      secretNote.hidden = !(cam?.state_secret && sys?.managing_agency !== agency.value);
    };
    scope.addEventListener('change', () => {
      fillTargets();
      update();
    });
    for (const el of [agency, purpose, targetSel]) el.addEventListener('change', update);
    fillTargets();
    update();

    const body = [
      h('div', { class: 'form-grid' }, field(t('admin.grants.agency'), agency), field(t('admin.grants.scope'), scope)),
      field(t('admin.grants.target'), targetSel),
      secretNote,
      caps.el,
      h('div', { class: 'form-grid' }, field(t('admin.grants.purpose'), purpose), field(t('admin.grants.expires'), expires, t('admin.grants.expiresHint'))),
      field(t('admin.grants.purposeText'), purposeText, t('admin.grants.purposeTextHint')),
      h('fieldset', { class: 'approval' }, h('legend', {}, t('admin.grants.approval')), approvalNote, h('div', { class: 'form-grid' }, refField, dateField)),
    ];
    const saved = await formDialog(t('admin.grants.addTitle'), body, async () => {
      const capabilities = caps.values();
      if (!capabilities.length) throw clientError(t('admin.grants.capsRequired'));
      // The end of the chosen day in Viet Nam.
      const end = new Date(fromLocal(expires.value, '23:59').getTime() + 59999);
      if (!(end > new Date())) throw clientError(t('admin.grants.expiresPast'));
      const payload = {
        agency_id: agency.value,
        capabilities,
        purpose: purpose.value,
        purpose_text: clean(purposeText.value),
        approval_ref: clean(approvalRef.value),
        expires: end.toISOString(),
      };
      payload[scope.value === 'system' ? 'system_id' : 'camera_id'] = targetSel.value;
      if (approvalDate.value) payload.approval_date = fromLocal(approvalDate.value).toISOString();
      try {
        return await api.post('/grants', payload);
      } catch (err) {
        // Say which rule refused, in the user's language, with the
        // server's own message after it.
        if (/R-8\.2/.test(err.message)) err.message = `${t('admin.grants.approvalServer')} (${err.message})`;
        else if (/R-1\.1/.test(err.message)) err.message = `${t('admin.grants.secretServer')} (${err.message})`;
        throw err;
      }
    }, t('admin.grants.add'));
    if (!saved) return;
    notify(t('admin.grants.created', { agency: nameText(look.agency, saved.agency_id) }));
    await draw();
  }

  async function revoke(g, look) {
    const text = t('admin.grants.revokeText', {
      caps: (g.capabilities || []).map((c) => t(`cap.${c}`).toLowerCase()).join(', '),
      target: targetText(g, look),
      agency: nameText(look.agency, g.agency_id),
    });
    if (!(await confirm(t('admin.grants.revokeTitle'), h('p', {}, text), t('admin.grants.revoke')))) return;
    try {
      await api.del(`/grants/${encodeURIComponent(g.id)}`);
      notify(t('admin.grants.revokedOk'));
    } catch (err) {
      notify(`${t('error.generic')} ${err.message || ''}`, 'bad');
    }
    await draw();
  }

  await draw();
}
