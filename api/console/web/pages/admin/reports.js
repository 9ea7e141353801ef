// Reports: the account review (R-13.2: accounts, roles, grants, last
// sign-in, dormant accounts) and the compliance report (R-7.5 late
// connections, R-11.2 overdue incidents, recording retention, R-16.2
// uptime per camera), each readable here with its findings marked, and
// downloadable as CSV. Every read is audited by the server, so a report is
// only asked for when shown.

import * as api from '../../lib/api.js';
import { h, replace } from '../../lib/dom.js';
import { addMessages, t, fmtNumber, fmtPercent, fmtDate } from '../../lib/i18n.js';
import { setQuery } from '../../lib/router.js';
import { badge, button, errorBox, field, loading, table } from '../../lib/ui.js';
import { input, lookups, nameOf, sectionHead, when } from './common.js';

addMessages({
  vi: {
    'admin.reports.title': 'Báo cáo',
    'admin.reports.which': 'Chọn báo cáo',
    'admin.reports.accounts': 'Rà soát tài khoản',
    'admin.reports.compliance': 'Tuân thủ quy chế',
    'admin.reports.generated': 'Lập lúc {time}',
    'admin.reports.csv': 'Tải về CSV',
    'admin.reports.refresh': 'Lập lại báo cáo',
    'admin.reports.audited': 'Mỗi lần xem hoặc tải báo cáo đều được ghi vào nhật ký kiểm toán.',
    'admin.reports.dormantDays': 'Số ngày không đăng nhập để coi là không hoạt động',
    'admin.reports.accountsIntro': 'Rà soát định kỳ mọi tài khoản truy cập: vai trò, quyền được cấp cho cơ quan, lần đăng nhập gần nhất và tài khoản không hoạt động (R-13.2).',
    'admin.reports.total': 'Tài khoản',
    'admin.reports.dormant': 'Không hoạt động',
    'admin.reports.locked': 'Đang bị khoá',
    'admin.reports.disabled': 'Đã vô hiệu hoá',
    'admin.reports.expired': 'Mật khẩu hết hạn',
    'admin.reports.mustChange': 'Phải đổi mật khẩu',
    'admin.reports.dormantList': 'Tài khoản không đăng nhập từ {days} ngày trở lên: {names}. Hãy xem xét vô hiệu hoá.',
    'admin.reports.noDormant': 'Không có tài khoản nào quá {days} ngày không đăng nhập.',
    'admin.reports.username': 'Tài khoản',
    'admin.reports.agency': 'Cơ quan, đơn vị',
    'admin.reports.role': 'Vai trò',
    'admin.reports.created': 'Ngày tạo',
    'admin.reports.lastLogin': 'Đăng nhập gần nhất',
    'admin.reports.never': 'Chưa đăng nhập',
    'admin.reports.daysAgo': '{n} ngày trước',
    'admin.reports.findings': 'Lưu ý',
    'admin.reports.passwordAge': 'Tuổi mật khẩu',
    'admin.reports.days': '{n} ngày',
    'admin.reports.grants': 'Quyền của cơ quan đang hiệu lực',
    'admin.reports.grantsNone': 'Chỉ hệ thống do cơ quan quản lý, vận hành',
    'admin.reports.grantUntil': 'đến {date}',
    'admin.reports.complianceIntro': 'Đối chiếu với quy chế: camera kết nối chậm, sự cố quá hạn, thời gian lưu trữ và mức độ liên tục của luồng hình ảnh theo từng camera.',
    'admin.reports.late': 'Camera kết nối chậm (R-7.5)',
    'admin.reports.lateIntro': 'Camera mới lắp đặt hoặc thay đổi phải được kết nối với hệ thống cấp I trong 5 ngày.',
    'admin.reports.lateNone': 'Không có camera nào kết nối chậm.',
    'admin.reports.overdue': 'Sự cố quá hạn (R-11.2)',
    'admin.reports.overdueIntro': 'Sự cố phải được khắc phục trong 24 giờ kể từ khi phát hiện hoặc được thông báo.',
    'admin.reports.overdueNone': 'Không có sự cố nào quá hạn.',
    'admin.reports.retention': 'Thời gian lưu trữ',
    'admin.reports.retentionText': 'Lưu bản ghi {days} ngày; tối thiểu theo quy định {min} ngày.',
    'admin.reports.retentionUnknown': 'Chưa cấu hình thời gian lưu trữ bản ghi.',
    'admin.reports.compliant': 'Đạt',
    'admin.reports.notCompliant': 'Chưa đạt',
    'admin.reports.uptime': 'Mức độ liên tục của luồng hình ảnh (R-16.2)',
    'admin.reports.uptimeIntro': 'Tỷ lệ thời gian có ghi hình trên tổng thời gian được theo dõi trong ngày (giờ Việt Nam).',
    'admin.reports.uptimeNone': 'Chưa có số liệu ghi hình.',
    'admin.reports.camera': 'Camera',
    'admin.reports.system': 'Hệ thống',
    'admin.reports.installed': 'Ngày lắp đặt',
    'admin.reports.deadline': 'Hạn kết nối',
    'admin.reports.firstConnected': 'Kết nối lần đầu',
    'admin.reports.notConnected': 'Chưa kết nối',
    'admin.reports.connectedLate': 'Kết nối muộn',
    'admin.reports.kind': 'Loại sự cố',
    'admin.reports.opened': 'Phát hiện lúc',
    'admin.reports.incidentDeadline': 'Hạn khắc phục',
    'admin.reports.detail': 'Mô tả',
    'admin.reports.yesterday': 'Hôm qua ({day})',
    'admin.reports.today': 'Hôm nay ({day})',
    'admin.reports.noData': 'Chưa có số liệu',
    'admin.reports.recorded': 'ghi {rec}, gián đoạn {gap}',
    'admin.reports.gaps': 'Có gián đoạn',
    'admin.reports.cameras': 'Camera được đối chiếu',
    'admin.reports.hours': '{h} giờ {m} phút',
    'admin.reports.minutes': '{m} phút',
    'admin.reports.seconds': '{s} giây',
  },
  en: {
    'admin.reports.title': 'Reports',
    'admin.reports.which': 'Choose a report',
    'admin.reports.accounts': 'Account review',
    'admin.reports.compliance': 'Compliance',
    'admin.reports.generated': 'Generated at {time}',
    'admin.reports.csv': 'Download CSV',
    'admin.reports.refresh': 'Generate again',
    'admin.reports.audited': 'Every view or download of a report is recorded in the audit log.',
    'admin.reports.dormantDays': 'Days without sign-in that make an account dormant',
    'admin.reports.accountsIntro': 'The periodic review of every access account: roles, grants to the agency, last sign-in and dormant accounts (R-13.2).',
    'admin.reports.total': 'Accounts',
    'admin.reports.dormant': 'Dormant',
    'admin.reports.locked': 'Locked',
    'admin.reports.disabled': 'Disabled',
    'admin.reports.expired': 'Password expired',
    'admin.reports.mustChange': 'Must change password',
    'admin.reports.dormantList': 'Accounts without a sign-in for {days} days or more: {names}. Consider disabling them.',
    'admin.reports.noDormant': 'No account has gone {days} days without a sign-in.',
    'admin.reports.username': 'Account',
    'admin.reports.agency': 'Agency',
    'admin.reports.role': 'Role',
    'admin.reports.created': 'Created',
    'admin.reports.lastLogin': 'Last sign-in',
    'admin.reports.never': 'Never',
    'admin.reports.daysAgo': '{n} days ago',
    'admin.reports.findings': 'Findings',
    'admin.reports.passwordAge': 'Password age',
    'admin.reports.days': '{n} days',
    'admin.reports.grants': "Agency's grants in force",
    'admin.reports.grantsNone': 'Only the systems the agency runs',
    'admin.reports.grantUntil': 'until {date}',
    'admin.reports.complianceIntro': 'Checks against the regulation: late connections, overdue incidents, recording retention and the continuity of each camera’s stream.',
    'admin.reports.late': 'Late connections (R-7.5)',
    'admin.reports.lateIntro': 'A new or changed camera must be connected to tier I within 5 days.',
    'admin.reports.lateNone': 'No camera was connected late.',
    'admin.reports.overdue': 'Overdue incidents (R-11.2)',
    'admin.reports.overdueIntro': 'Faults must be fixed within 24 hours of detection or notification.',
    'admin.reports.overdueNone': 'No incident is overdue.',
    'admin.reports.retention': 'Retention',
    'admin.reports.retentionText': 'Recordings kept {days} days; the regulation asks for at least {min}.',
    'admin.reports.retentionUnknown': 'No recording retention is configured.',
    'admin.reports.compliant': 'Compliant',
    'admin.reports.notCompliant': 'Not compliant',
    'admin.reports.uptime': 'Stream continuity (R-16.2)',
    'admin.reports.uptimeIntro': 'The share of the accounted time of the day that was recorded (Viet Nam time).',
    'admin.reports.uptimeNone': 'No recording figures yet.',
    'admin.reports.camera': 'Camera',
    'admin.reports.system': 'System',
    'admin.reports.installed': 'Installed',
    'admin.reports.deadline': 'Connect by',
    'admin.reports.firstConnected': 'First connected',
    'admin.reports.notConnected': 'Not connected',
    'admin.reports.connectedLate': 'Connected late',
    'admin.reports.kind': 'Kind',
    'admin.reports.opened': 'Opened',
    'admin.reports.incidentDeadline': 'Deadline',
    'admin.reports.detail': 'Description',
    'admin.reports.yesterday': 'Yesterday ({day})',
    'admin.reports.today': 'Today ({day})',
    'admin.reports.noData': 'No figures',
    'admin.reports.recorded': 'recorded {rec}, gaps {gap}',
    'admin.reports.gaps': 'Gaps',
    'admin.reports.cameras': 'Cameras checked',
    'admin.reports.hours': '{h} h {m} min',
    'admin.reports.minutes': '{m} min',
    'admin.reports.seconds': '{s} s',
  },
});

const REPORTS = ['accounts', 'compliance'];

// duration shows seconds as hours and minutes.
function duration(s) {
  if (s > 0 && s < 60) return t('admin.reports.seconds', { s: fmtNumber(Math.round(s)) });
  const m = Math.round((s || 0) / 60);
  return m >= 60 ? t('admin.reports.hours', { h: fmtNumber(Math.floor(m / 60)), m: fmtNumber(m % 60) }) : t('admin.reports.minutes', { m: fmtNumber(m) });
}

// stat is a figure card; kind marks a finding.
const stat = (label, n, kind) => h('div', { class: `stat ${n > 0 && kind ? kind : ''}`.trim() },
  h('div', { class: 'stat-value' }, fmtNumber(n)), h('div', { class: 'stat-label' }, label));

const csvLink = (path, params) => h('a', { class: 'btn', href: api.url(path, { ...params, format: 'csv' }), download: '' }, t('admin.reports.csv'));

export async function render(panel, query) {
  let which = REPORTS.includes(query.report) ? query.report : 'accounts';
  let dormantDays = Number(query.dormant_days) >= 1 && Number(query.dormant_days) <= 3650 ? Number(query.dormant_days) : 90;
  const switcher = h('div', { class: 'report-switch', role: 'group', 'aria-label': t('admin.reports.which') });
  const body = h('div', { class: 'report-body' });
  replace(panel, sectionHead(t('admin.reports.title')), switcher, h('p', { class: 'muted small' }, t('admin.reports.audited')), body);

  function drawSwitcher() {
    replace(switcher, REPORTS.map((r) => h('button', { type: 'button', class: `btn ${r === which ? 'primary' : ''}`.trim(), 'aria-pressed': String(r === which),
      'data-testid': `admin-report-${r}`, onclick: () => {
        if (r === which) return;
        which = r;
        setQuery({ report: which, dormant_days: which === 'accounts' && dormantDays !== 90 ? dormantDays : '' });
        drawSwitcher();
        show().then(() => switcher.querySelector('[aria-pressed="true"]')?.focus());
      } }, t(`admin.reports.${r}`))));
  }

  async function show() {
    replace(body, loading());
    try {
      if (which === 'accounts') await accounts();
      else await compliance();
    } catch (err) {
      replace(body, errorBox(err));
    }
  }

  async function accounts() {
    const [rep, look] = await Promise.all([api.get('/reports/accounts', { dormant_days: dormantDays }), lookups('cameras', 'systems')]);
    const rows = rep.accounts || [];
    const count = (k) => rows.filter((a) => a[k]).length;
    const daysIn = input({ type: 'number', min: 1, max: 3650, step: 1, value: String(dormantDays), name: 'dormant_days', required: true });
    const form = h('form', { class: 'row report-controls', onsubmit: (e) => {
      e.preventDefault();
      dormantDays = Number(daysIn.value);
      setQuery({ report: which, dormant_days: dormantDays !== 90 ? dormantDays : '' });
      show();
    } }, field(t('admin.reports.dormantDays'), daysIn),
    h('button', { type: 'submit', class: 'btn' }, t('admin.reports.refresh')),
    csvLink('/reports/accounts', { dormant_days: dormantDays }));
    const dormant = rep.dormant || [];
    replace(body,
      h('div', { class: 'card' },
        h('h3', {}, t('admin.reports.accounts')),
        h('p', {}, t('admin.reports.accountsIntro')),
        h('p', { class: 'muted small' }, t('admin.reports.generated', { time: when(rep.generated) })),
        form,
        h('div', { class: 'stats' },
          stat(t('admin.reports.total'), rows.length),
          stat(t('admin.reports.dormant'), dormant.length, 'bad'),
          stat(t('admin.reports.locked'), count('locked'), 'warn'),
          stat(t('admin.reports.disabled'), count('disabled')),
          stat(t('admin.reports.expired'), count('password_expired'), 'warn'),
          stat(t('admin.reports.mustChange'), count('must_change_password'), 'warn')),
        dormant.length
          ? h('p', { class: 'notice bad', 'data-testid': 'admin-report-dormant' }, t('admin.reports.dormantList', { days: rep.dormant_days, names: dormant.join(', ') }))
          : h('p', { class: 'notice ok' }, t('admin.reports.noDormant', { days: rep.dormant_days }))),
      table([
        { label: t('admin.reports.username'), render: (a) => h('div', {}, h('span', { class: 'mono' }, a.username), a.display_name ? h('div', { class: 'small' }, a.display_name) : null) },
        { label: t('admin.reports.agency'), render: (a) => a.agency_name || a.agency_id },
        { label: t('admin.reports.role'), render: (a) => t(`role.${a.role}`) },
        { label: t('admin.reports.created'), render: (a) => fmtDate(a.created) },
        { label: t('admin.reports.lastLogin'), render: (a) => (a.last_login
          ? h('div', {}, when(a.last_login), h('div', { class: 'muted small' }, t('admin.reports.daysAgo', { n: fmtNumber(a.days_since_login) })))
          : h('span', { class: 'muted' }, t('admin.reports.never'))) },
        { label: t('admin.reports.findings'), render: (a) => h('span', { class: 'badges' },
          a.dormant ? badge(t('admin.reports.dormant'), 'bad') : null,
          a.locked ? badge(t('admin.reports.locked'), 'warn') : null,
          a.disabled ? badge(t('admin.reports.disabled'), 'muted') : null,
          a.password_expired ? badge(t('admin.reports.expired'), 'warn') : null,
          a.must_change_password ? badge(t('admin.reports.mustChange'), 'info') : null) },
        { label: t('admin.reports.passwordAge'), class: 'num', render: (a) => t('admin.reports.days', { n: fmtNumber(a.password_age_days) }) },
        { label: t('admin.reports.grants'), class: 'wide', render: (a) => grantList(a.grants || [], look) },
      ], rows, { caption: t('admin.reports.accounts') }));
  }

  async function compliance() {
    const [rep, look] = await Promise.all([api.get('/reports/compliance'), lookups('cameras', 'systems')]);
    const late = rep.late_connections || [];
    const overdue = rep.overdue_incidents || [];
    const uptime = rep.uptime || [];
    const ret = rep.retention || {};
    const camName = (id) => nameOf(look.camera, id);
    const day0 = uptime[0]?.yesterday?.day || '';
    const day1 = uptime[0]?.today?.day || '';
    replace(body,
      h('div', { class: 'card' },
        h('h3', {}, t('admin.reports.compliance')),
        h('p', {}, t('admin.reports.complianceIntro')),
        h('p', { class: 'muted small' }, t('admin.reports.generated', { time: when(rep.generated) }), ` · ${rep.zone || ''}`),
        h('div', { class: 'row report-controls' }, button(t('admin.reports.refresh'), () => show()), csvLink('/reports/compliance', {})),
        h('div', { class: 'stats' },
          stat(t('admin.reports.cameras'), uptime.length),
          stat(t('admin.reports.late'), late.length, 'bad'),
          stat(t('admin.reports.overdue'), overdue.length, 'bad'),
          h('div', { class: `stat ${ret.compliant ? 'ok' : 'bad'}` },
            h('div', { class: 'stat-value' }, ret.compliant ? t('admin.reports.compliant') : t('admin.reports.notCompliant')),
            h('div', { class: 'stat-label' }, t('admin.reports.retention'), ': ',
              ret.recording_days ? t('admin.reports.retentionText', { days: fmtNumber(ret.recording_days), min: fmtNumber(ret.minimum_days) }) : t('admin.reports.retentionUnknown'))))),
      h('section', { class: 'card', 'aria-labelledby': 'rep-late' },
        h('h3', { id: 'rep-late' }, t('admin.reports.late')),
        h('p', { class: 'muted' }, t('admin.reports.lateIntro')),
        table([
          { label: t('admin.reports.camera'), render: (c) => h('span', { title: c.id }, c.name || c.id) },
          { label: t('admin.reports.system'), render: (c) => nameOf(look.system, c.system_id) },
          { label: t('admin.reports.installed'), render: (c) => when(c.installed) },
          { label: t('admin.reports.deadline'), render: (c) => when(c.deadline) },
          { label: t('admin.reports.firstConnected'), render: (c) => (c.connected
            ? h('span', {}, when(c.first_connected), ' ', badge(t('admin.reports.connectedLate'), 'warn'))
            : badge(t('admin.reports.notConnected'), 'bad')) },
        ], late, { caption: t('admin.reports.late'), empty: t('admin.reports.lateNone') })),
      h('section', { class: 'card', 'aria-labelledby': 'rep-overdue' },
        h('h3', { id: 'rep-overdue' }, t('admin.reports.overdue')),
        h('p', { class: 'muted' }, t('admin.reports.overdueIntro')),
        table([
          { label: t('admin.reports.camera'), render: (i) => camName(i.camera_id) },
          { label: t('admin.reports.kind'), render: (i) => h('span', { class: 'mono' }, i.kind) },
          { label: t('admin.reports.detail'), class: 'wide', render: (i) => i.detail || '—' },
          { label: t('admin.reports.opened'), render: (i) => when(i.opened) },
          { label: t('admin.reports.incidentDeadline'), render: (i) => h('strong', { class: 'text-bad' }, when(i.deadline)) },
        ], overdue, { caption: t('admin.reports.overdue'), empty: t('admin.reports.overdueNone') })),
      h('section', { class: 'card', 'aria-labelledby': 'rep-uptime' },
        h('h3', { id: 'rep-uptime' }, t('admin.reports.uptime')),
        h('p', { class: 'muted' }, t('admin.reports.uptimeIntro')),
        table([
          { label: t('admin.reports.camera'), render: (u) => camName(u.camera_id) },
          { label: t('admin.reports.system'), render: (u) => nameOf(look.system, u.system_id) },
          { label: t('admin.reports.yesterday', { day: dayText(day0) }), render: (u) => uptimeCell(u.yesterday) },
          { label: t('admin.reports.today', { day: dayText(day1) }), render: (u) => uptimeCell(u.today) },
        ], uptime, { caption: t('admin.reports.uptime'), empty: t('admin.reports.uptimeNone') })));
  }

  drawSwitcher();
  await show();
  return null;
}

// dayText shows a report day (YYYY-MM-DD in the province's zone).
const dayText = (d) => (d ? fmtDate(`${d}T12:00:00+07:00`) : '');

function uptimeCell(d) {
  if (!d || d.uptime === null || d.uptime === undefined) return h('span', { class: 'muted' }, t('admin.reports.noData'));
  const kind = d.gap_seconds > 0 ? 'warn' : 'ok';
  return h('div', {}, badge(fmtPercent(d.uptime, 2), kind),
    h('div', { class: 'muted small' }, t('admin.reports.recorded', { rec: duration(d.recorded_seconds), gap: duration(d.gap_seconds) })));
}

function grantList(grants, look) {
  if (!grants.length) return h('span', { class: 'muted small' }, t('admin.reports.grantsNone'));
  return h('ul', { class: 'plain small' }, grants.map((g) => h('li', {},
    g.system_id ? nameOf(look.system, g.system_id) : nameOf(look.camera, g.camera_id), ': ',
    (g.capabilities || []).map((c) => t(`cap.${c}`)).join(', '), ' — ', t(`purpose.${g.purpose}`), ', ',
    t('admin.reports.grantUntil', { date: fmtDate(g.expires) }))));
}
