// Evidence export: a dialog asks what the export serves,
// who asked for it and the time window, POST /api/v1/evidence cuts and
// signs the package, and a second dialog shows what was signed (the
// manifest) with the package's SHA-256 and its download link.

import * as api from './api.js';
import { h } from './dom.js';
import { addMessages, t, has, fmtDateTime, fmtNumber } from './i18n.js';
import { dialog, field, select } from './ui.js';

// PURPOSES are the purposes of R-4.1 (evidence.Purposes in the engine).
export const PURPOSES = ['security_order', 'traffic_safety', 'urban_order', 'rescue', 'forest_fire', 'sector_management', 'other'];

addMessages({
  vi: {
    'evidence.title': 'Trích xuất chứng cứ',
    'evidence.intro': 'Camera {camera}. Gói chứng cứ gồm đoạn phim trong khoảng thời gian đã chọn, được ký số; việc trích xuất được ghi vào nhật ký kiểm toán cùng mục đích và người yêu cầu.',
    'evidence.purpose': 'Mục đích',
    'evidence.choosePurpose': '— Chọn mục đích —',
    'evidence.purposeText': 'Nội dung cụ thể',
    'evidence.purposeTextHint': 'Số hồ sơ, vụ việc. Bắt buộc khi mục đích là «Khác».',
    'evidence.requester': 'Người yêu cầu',
    'evidence.requesterHint': 'Cá nhân hoặc cơ quan đề nghị cung cấp chứng cứ (họ tên, chức vụ, đơn vị).',
    'evidence.from': 'Từ',
    'evidence.to': 'Đến',
    'evidence.timeHint': 'Giờ Việt Nam (UTC+7).',
    'evidence.outside': 'Cung cấp cho cơ quan, tổ chức bên ngoài đơn vị',
    'evidence.approval': 'Số, ngày văn bản phê duyệt',
    'evidence.approvalHint': 'Bắt buộc khi cung cấp ra ngoài đơn vị: văn bản đồng ý của đơn vị quản lý hệ thống.',
    'evidence.create': 'Tạo gói chứng cứ',
    'evidence.badWindow': 'Thời điểm kết thúc phải sau thời điểm bắt đầu.',
    'evidence.needText': 'Hãy nêu nội dung cụ thể khi mục đích là «Khác».',
    'evidence.needRequester': 'Hãy nhập người yêu cầu.',
    'evidence.needApproval': 'Hãy nhập số, ngày văn bản phê duyệt khi cung cấp ra ngoài đơn vị.',
    'evidence.done': 'Gói chứng cứ đã ký',
    'evidence.doneText': 'Đã tạo và ký số gói chứng cứ. Việc trích xuất đã được ghi vào nhật ký kiểm toán.',
    'evidence.id': 'Mã gói',
    'evidence.sha256': 'SHA-256 của gói',
    'evidence.size': 'Dung lượng',
    'evidence.bytes': '{n} byte',
    'evidence.camera': 'Camera',
    'evidence.requested': 'Khoảng yêu cầu',
    'evidence.actual': 'Khoảng trong đoạn phim',
    'evidence.window': '{from} – {to}',
    'evidence.frames': 'Số khung hình',
    'evidence.operator': 'Người thực hiện',
    'evidence.outsideShort': 'Cung cấp ra ngoài đơn vị',
    'evidence.created': 'Thời điểm tạo',
    'evidence.node': 'Máy tạo gói',
    'evidence.signer': 'Chữ ký số',
    'evidence.signerValue': '{algorithm}, mã khoá {fingerprint}',
    'evidence.publicKey': 'Khoá công khai',
    'evidence.schema': 'Định dạng',
    'evidence.files': 'Các tệp trong gói',
    'evidence.file': 'Tệp',
    'evidence.kind': 'Loại',
    'evidence.kind.clip': 'Đoạn phim',
    'evidence.kind.clip_manifest': 'Mô tả đoạn phim',
    'evidence.kind.snapshot': 'Ảnh chụp',
    'evidence.kind.readme': 'Hướng dẫn',
    'evidence.sources': 'Số đoạn ghi hình gốc',
    'evidence.gaps': 'Khoảng không có bản ghi: {list}',
    'evidence.download': 'Tải gói chứng cứ (.zip)',
  },
  en: {
    'evidence.title': 'Export evidence',
    'evidence.intro': 'Camera {camera}. The evidence package holds the clip of the chosen window and is signed; the export goes to the audit log with its purpose and requester.',
    'evidence.purpose': 'Purpose',
    'evidence.choosePurpose': '— Choose the purpose —',
    'evidence.purposeText': 'Case or details',
    'evidence.purposeTextHint': 'Case number, matter. Required when the purpose is “Other”.',
    'evidence.requester': 'Requester',
    'evidence.requesterHint': 'The person or agency who asked for the evidence (name, position, unit).',
    'evidence.from': 'From',
    'evidence.to': 'To',
    'evidence.timeHint': 'Vietnam time (UTC+7).',
    'evidence.outside': 'Shared outside my agency',
    'evidence.approval': 'Approval reference (number, date)',
    'evidence.approvalHint': 'Required when sharing outside the agency: the system manager’s written approval.',
    'evidence.create': 'Create package',
    'evidence.badWindow': 'The end must come after the start.',
    'evidence.needText': 'Say what the purpose is when it is “Other”.',
    'evidence.needRequester': 'Enter the requester.',
    'evidence.needApproval': 'Enter the approval reference when sharing outside the agency.',
    'evidence.done': 'Signed evidence package',
    'evidence.doneText': 'The evidence package was made and signed. The export is in the audit log.',
    'evidence.id': 'Package id',
    'evidence.sha256': 'Package SHA-256',
    'evidence.size': 'Size',
    'evidence.bytes': '{n} bytes',
    'evidence.camera': 'Camera',
    'evidence.requested': 'Requested window',
    'evidence.actual': 'Window in the clip',
    'evidence.window': '{from} – {to}',
    'evidence.frames': 'Frames',
    'evidence.operator': 'Made by',
    'evidence.outsideShort': 'Shared outside the agency',
    'evidence.created': 'Created',
    'evidence.node': 'Made on',
    'evidence.signer': 'Signature',
    'evidence.signerValue': '{algorithm}, key {fingerprint}',
    'evidence.publicKey': 'Public key',
    'evidence.schema': 'Format',
    'evidence.files': 'Files in the package',
    'evidence.file': 'File',
    'evidence.kind': 'Kind',
    'evidence.kind.clip': 'Clip',
    'evidence.kind.clip_manifest': 'Clip description',
    'evidence.kind.snapshot': 'Snapshot',
    'evidence.kind.readme': 'Read me',
    'evidence.sources': 'Recorded segments used',
    'evidence.gaps': 'Not recorded: {list}',
    'evidence.download': 'Download the package (.zip)',
  },
});

// Vietnam keeps UTC+7 all year (i18n's TIME_ZONE): the window's inputs are read
// and written at that offset.
const OFFSET_MS = 7 * 3600 * 1000;

// toLocalInput formats a time for a datetime-local input in Asia/Ho_Chi_Minh.
function toLocalInput(d) {
  const v = d instanceof Date ? d : new Date(d);
  if (Number.isNaN(v.getTime())) return '';
  return new Date(v.getTime() + OFFSET_MS).toISOString().slice(0, 19);
}

// fromLocalInput reads a datetime-local value given in Asia/Ho_Chi_Minh.
function fromLocalInput(value) {
  if (!value) return null;
  const full = value.length === 16 ? `${value}:00` : value;
  const d = new Date(`${full}+07:00`);
  return Number.isNaN(d.getTime()) ? null : d;
}

const invalid = (message) => Object.assign(new Error(message), { status: 400 });

// exportEvidence asks for an export of camera's recording over from..to
// (editable), makes it and shows the signed package. purpose preselects a
// purpose. It resolves with the API's answer, or null when cancelled.
export async function exportEvidence({ camera, from, to, purpose = '', outside: sharedOutside = false }) {
  const purposeSel = select([['', t('evidence.choosePurpose')], ...PURPOSES.map((p) => [p, t(`purpose.${p}`)])], purpose,
    { name: 'purpose', required: true });
  const purposeText = h('input', { name: 'purpose_text', maxlength: 1024, autocomplete: 'off' });
  const requester = h('input', { name: 'requester', required: true, maxlength: 1024, autocomplete: 'off' });
  const fromIn = h('input', { type: 'datetime-local', name: 'from', step: 1, required: true, value: toLocalInput(from) });
  const toIn = h('input', { type: 'datetime-local', name: 'to', step: 1, required: true, value: toLocalInput(to) });
  const outside = h('input', { type: 'checkbox', name: 'outside_agency', checked: sharedOutside });
  const approval = h('input', { name: 'approval_ref', maxlength: 1024, autocomplete: 'off', disabled: true });
  const approvalField = h('div', { class: 'ev-span', hidden: true }, field(t('evidence.approval'), approval, t('evidence.approvalHint')));

  const syncRequired = () => {
    purposeText.required = purposeSel.value === 'other';
    approval.required = outside.checked;
    approval.disabled = !outside.checked;
    approvalField.hidden = !outside.checked;
  };
  syncRequired();
  purposeSel.addEventListener('change', syncRequired);
  outside.addEventListener('change', () => {
    syncRequired();
    if (outside.checked) approval.focus();
  });

  const made = await dialog({
    title: t('evidence.title'),
    body: h('div', { class: 'ev-export' },
      h('p', {}, t('evidence.intro', { camera })),
      h('div', { class: 'ev-form-grid' },
        field(t('evidence.purpose'), purposeSel),
        field(t('evidence.purposeText'), purposeText, t('evidence.purposeTextHint')),
        h('div', { class: 'ev-span' }, field(t('evidence.requester'), requester, t('evidence.requesterHint'))),
        field(t('evidence.from'), fromIn, t('evidence.timeHint')),
        field(t('evidence.to'), toIn, t('evidence.timeHint')),
        h('div', { class: 'ev-span' }, h('label', { class: 'ev-check' }, outside, t('evidence.outside'))),
        approvalField)),
    actions: [{ label: t('common.cancel'), value: '' }, { label: t('evidence.create'), kind: 'primary', value: 'made' }],
    submit: async () => {
      const f = fromLocalInput(fromIn.value);
      const e = fromLocalInput(toIn.value);
      if (!f || !e || e <= f) throw invalid(t('evidence.badWindow'));
      if (purposeSel.value === 'other' && !purposeText.value.trim()) throw invalid(t('evidence.needText'));
      if (!requester.value.trim()) throw invalid(t('evidence.needRequester'));
      if (outside.checked && !approval.value.trim()) throw invalid(t('evidence.needApproval'));
      return api.post('/evidence', {
        camera,
        from: f.toISOString(),
        to: e.toISOString(),
        purpose: purposeSel.value,
        purpose_text: purposeText.value.trim(),
        requester: requester.value.trim(),
        outside_agency: outside.checked,
        approval_ref: outside.checked ? approval.value.trim() : '',
      });
    },
  });
  if (!made || typeof made !== 'object') return null;
  await showPackage(made);
  return made;
}

// sizeText is a byte count in MB or kB with the exact count.
function sizeText(n) {
  const exact = t('evidence.bytes', { n: fmtNumber(n) });
  if (n >= 1e6) return `${fmtNumber(n / 1e6, { maximumFractionDigits: 1 })} MB (${exact})`;
  if (n >= 1e3) return `${fmtNumber(n / 1e3, { maximumFractionDigits: 1 })} kB (${exact})`;
  return exact;
}

const windowText = (r) => (r?.from ? t('evidence.window', { from: fmtDateTime(r.from), to: fmtDateTime(r.to) }) : '—');

// showPackage shows a made package: its hash, what its manifest says and
// the download link.
export function showPackage(pkg) {
  const m = pkg.manifest || {};
  const rows = [];
  const add = (term, value) => {
    if (value === undefined || value === null || value === '') return;
    rows.push(h('dt', {}, term), h('dd', {}, value));
  };
  add(t('evidence.id'), h('code', {}, pkg.id));
  add(t('evidence.sha256'), h('code', { class: 'ev-hash', 'data-testid': 'evidence-sha256' }, pkg.sha256));
  add(t('evidence.size'), sizeText(pkg.size));
  add(t('evidence.camera'), m.camera);
  add(t('evidence.requested'), windowText(m.requested));
  add(t('evidence.actual'), windowText(m.actual));
  add(t('evidence.frames'), m.frames ? fmtNumber(m.frames) : '');
  add(t('evidence.purpose'), m.purpose ? (has(`purpose.${m.purpose}`) ? t(`purpose.${m.purpose}`) : m.purpose) : '');
  add(t('evidence.purposeText'), m.purpose_text);
  add(t('evidence.requester'), m.requester);
  add(t('evidence.operator'), m.operator ? [m.operator.name, m.operator.agency ? ` · ${m.operator.agency}` : ''] : '');
  add(t('evidence.outsideShort'), m.outside_agency === undefined ? '' : t(m.outside_agency ? 'common.yes' : 'common.no'));
  add(t('evidence.approval'), m.approval_ref);
  add(t('evidence.created'), m.created ? fmtDateTime(m.created) : '');
  add(t('evidence.node'), m.node);
  if (m.signer) {
    add(t('evidence.signer'), t('evidence.signerValue', { algorithm: m.signer.algorithm, fingerprint: m.signer.fingerprint }));
    add(t('evidence.publicKey'), h('code', { class: 'ev-hash' }, m.signer.public_key));
  }
  add(t('evidence.sources'), Array.isArray(m.sources) ? fmtNumber(m.sources.length) : '');
  add(t('evidence.schema'), m.schema);

  const files = Array.isArray(m.files) && m.files.length
    ? h('div', { class: 'table-wrap' }, h('table', { class: 'data ev-files' },
      h('caption', {}, t('evidence.files')),
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, t('evidence.file')),
        h('th', { scope: 'col' }, t('evidence.kind')),
        h('th', { scope: 'col', class: 'num' }, t('evidence.size')),
        h('th', { scope: 'col' }, 'SHA-256'))),
      h('tbody', {}, m.files.map((f) => h('tr', {},
        h('td', {}, h('code', {}, f.path)),
        h('td', {}, has(`evidence.kind.${f.kind}`) ? t(`evidence.kind.${f.kind}`) : f.kind),
        h('td', { class: 'num' }, fmtNumber(f.size)),
        h('td', {}, h('code', { class: 'ev-hash' }, f.sha256)))))))
    : null;
  const gaps = Array.isArray(m.gaps) && m.gaps.length
    ? h('p', { class: 'notice warn' }, t('evidence.gaps', { list: m.gaps.map(windowText).join('; ') }))
    : null;

  return dialog({
    title: t('evidence.done'),
    body: h('div', { class: 'ev-package' },
      h('p', { class: 'notice ok', role: 'status' }, t('evidence.doneText')),
      h('dl', { class: 'ev-dl' }, rows),
      gaps,
      files,
      h('p', {}, h('a', { class: 'btn primary', href: pkg.download, download: '' }, t('evidence.download')))),
    actions: [{ label: t('common.close'), value: 'closed' }],
  });
}
