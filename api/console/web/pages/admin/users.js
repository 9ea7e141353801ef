// Users: the accounts the caller administers (the ICT administrator every
// account; a system administrator those of its agency, not ICT
// administrators'), with create, edit (display name, role, agency,
// disabled), password reset and unlock. A new or reset password the page
// generated is shown once; the user must change it at the next sign-in
//

import * as api from '../../lib/api.js';
import { h, replace } from '../../lib/dom.js';
import { addMessages, t } from '../../lib/i18n.js';
import { session } from '../../lib/session.js';
import { badge, button, errorBox, field, loading, notify, select, table } from '../../lib/ui.js';
import {
  ROLES, checkField, clean, confirm, formDialog, generatePassword, input, isICTAdmin, lookups, nameOf, rowActions,
  sectionHead, showOnce, smallButton, when, yesNo,
} from './common.js';

addMessages({
  vi: {
    'admin.users.title': 'Người dùng',
    'admin.users.add': 'Tạo tài khoản',
    'admin.users.edit': 'Sửa tài khoản {username}',
    'admin.users.username': 'Tên đăng nhập',
    'admin.users.usernameHint': 'Từ 3 đến 64 ký tự: chữ thường không dấu, chữ số, “.”, “_” hoặc “-”.',
    'admin.users.displayName': 'Họ và tên',
    'admin.users.agency': 'Cơ quan, đơn vị',
    'admin.users.role': 'Vai trò',
    'admin.users.roleHint': 'Chỉ người dùng của Sở TT&TT được giữ vai trò Quản trị Sở TT&TT (R-7.2).',
    'admin.users.lastLogin': 'Đăng nhập gần nhất',
    'admin.users.never': 'Chưa đăng nhập',
    'admin.users.lockedUntil': 'Bị khoá đến',
    'admin.users.mustChange': 'Phải đổi mật khẩu',
    'admin.users.disabled': 'Vô hiệu hoá',
    'admin.users.disabledLabel': 'Vô hiệu hoá tài khoản (không đăng nhập được, không có quyền truy cập)',
    'admin.users.active': 'Đang hoạt động',
    'admin.users.password': 'Mật khẩu khởi tạo',
    'admin.users.passwordHint': 'Để trống để hệ thống sinh một mật khẩu mạnh và hiển thị một lần. Nếu tự đặt: ít nhất 12 ký tự, có ít nhất 3 trong 4 loại (chữ hoa, chữ thường, chữ số, ký tự đặc biệt), không chứa tên đăng nhập.',
    'admin.users.resetPassword': 'Đặt lại mật khẩu',
    'admin.users.resetTitle': 'Đặt lại mật khẩu cho {username}',
    'admin.users.resetIntro': 'Người dùng sẽ phải đổi mật khẩu này ở lần đăng nhập tiếp theo.',
    'admin.users.newPassword': 'Mật khẩu mới',
    'admin.users.unlock': 'Mở khoá',
    'admin.users.unlockTitle': 'Mở khoá tài khoản {username}',
    'admin.users.unlockText': 'Tài khoản đang bị khoá do đăng nhập sai nhiều lần. Mở khoá để người dùng đăng nhập lại ngay?',
    'admin.users.unlocked': 'Đã mở khoá tài khoản {username}.',
    'admin.users.created': 'Đã tạo tài khoản {username}.',
    'admin.users.passwordSet': 'Đã đặt lại mật khẩu cho {username}.',
    'admin.users.initialTitle': 'Mật khẩu khởi tạo',
    'admin.users.initialFor': 'Mật khẩu của tài khoản {username}:',
    'admin.users.failed': '{n} lần sai',
    'admin.users.empty': 'Chưa có tài khoản nào.',
    'admin.users.self': 'bạn',
  },
  en: {
    'admin.users.title': 'Users',
    'admin.users.add': 'Create account',
    'admin.users.edit': 'Edit account {username}',
    'admin.users.username': 'User name',
    'admin.users.usernameHint': '3 to 64 characters: lower case letters, digits, “.”, “_” or “-”.',
    'admin.users.displayName': 'Full name',
    'admin.users.agency': 'Agency',
    'admin.users.role': 'Role',
    'admin.users.roleHint': 'Only users of the ICT department may be ICT administrators (R-7.2).',
    'admin.users.lastLogin': 'Last sign-in',
    'admin.users.never': 'Never',
    'admin.users.lockedUntil': 'Locked until',
    'admin.users.mustChange': 'Must change password',
    'admin.users.disabled': 'Disabled',
    'admin.users.disabledLabel': 'Disable the account (no sign-in, no access)',
    'admin.users.active': 'Active',
    'admin.users.password': 'Initial password',
    'admin.users.passwordHint': 'Leave empty to have a strong password generated and shown once. Your own: at least 12 characters from 3 of the 4 classes (upper case, lower case, digits, symbols), without the user name.',
    'admin.users.resetPassword': 'Reset password',
    'admin.users.resetTitle': 'Reset the password of {username}',
    'admin.users.resetIntro': 'The user will have to change this password at the next sign-in.',
    'admin.users.newPassword': 'New password',
    'admin.users.unlock': 'Unlock',
    'admin.users.unlockTitle': 'Unlock account {username}',
    'admin.users.unlockText': 'The account is locked after failed sign-ins. Unlock it so that the user can sign in now?',
    'admin.users.unlocked': 'Account {username} unlocked.',
    'admin.users.created': 'Account {username} created.',
    'admin.users.passwordSet': 'Password of {username} reset.',
    'admin.users.initialTitle': 'Initial password',
    'admin.users.initialFor': 'The password of account {username}:',
    'admin.users.failed': '{n} failed',
    'admin.users.empty': 'No accounts yet.',
    'admin.users.self': 'you',
  },
});

const locked = (u) => u.locked_until && new Date(u.locked_until) > new Date();

export async function render(panel) {
  async function draw() {
    replace(panel, loading());
    let users;
    let look;
    try {
      [users, look] = await Promise.all([api.get('/users').then((r) => r.users || []), lookups('agencies')]);
    } catch (err) {
      replace(panel, sectionHead(t('admin.users.title')), errorBox(err));
      return;
    }
    const me = session()?.user?.id;
    replace(panel,
      sectionHead(t('admin.users.title'), button(t('admin.users.add'), () => create(look), 'primary', { 'data-testid': 'admin-user-add' })),
      table([
        { label: t('admin.users.username'), render: (u) => h('span', {}, h('span', { class: 'mono' }, u.username), u.id === me ? h('span', { class: 'muted' }, ` (${t('admin.users.self')})`) : null) },
        { label: t('admin.users.displayName'), render: (u) => u.display_name || h('span', { class: 'muted' }, t('admin.none')) },
        { label: t('admin.users.agency'), render: (u) => nameOf(look.agency, u.agency_id) },
        { label: t('admin.users.role'), render: (u) => t(`role.${u.role}`) },
        { label: t('admin.users.lastLogin'), render: (u) => (u.last_login ? when(u.last_login) : h('span', { class: 'muted' }, t('admin.users.never'))) },
        { label: t('admin.users.lockedUntil'), render: (u) => (locked(u) ? badge(when(u.locked_until), 'bad')
          : u.failed_attempts > 0 ? badge(t('admin.users.failed', { n: u.failed_attempts }), 'warn') : h('span', { class: 'muted' }, t('admin.none'))) },
        { label: t('admin.users.mustChange'), render: (u) => yesNo(u.must_change_password, 'warn') },
        { label: t('admin.users.disabled'), render: (u) => (u.disabled ? badge(t('admin.users.disabled'), 'bad') : badge(t('admin.users.active'), 'ok')) },
        { label: t('admin.actions'), render: (u) => rowActions(
          smallButton(t('common.edit'), u.username, () => edit(u, look)),
          smallButton(t('admin.users.resetPassword'), u.username, () => reset(u)),
          locked(u) || u.failed_attempts > 0 ? smallButton(t('admin.users.unlock'), u.username, () => unlock(u)) : null) },
      ], users, { caption: t('admin.users.title'), empty: t('admin.users.empty') }));
  }

  // agencyAndRole are the agency and role selects; the ICT administrator
  // role is offered for ICT department accounts only.
  function agencyAndRole(look, u) {
    const own = session()?.user?.agency_id;
    const agencies = isICTAdmin() ? look.agencies : look.agencies.filter((a) => a.id === own);
    const agency = select(agencies.map((a) => [a.id, a.name]), u ? u.agency_id : own, { name: 'agency_id', required: true, disabled: !isICTAdmin() });
    const roles = isICTAdmin() ? ROLES : ROLES.filter((r) => r !== 'ict_admin');
    const role = select(roles.map((r) => [r, t(`role.${r}`)]), u ? u.role : 'operator', { name: 'role', required: true });
    const sync = () => {
      const ict = Boolean(look.agency.get(agency.value)?.ict);
      for (const o of role.options) if (o.value === 'ict_admin') o.disabled = !ict;
      if (!ict && role.value === 'ict_admin') role.value = 'operator';
    };
    agency.addEventListener('change', sync);
    sync();
    return { agency, role, fields: [field(t('admin.users.agency'), agency), field(t('admin.users.role'), role, isICTAdmin() ? t('admin.users.roleHint') : null)] };
  }

  async function create(look) {
    const username = input({ name: 'username', required: true, pattern: '[a-z0-9][a-z0-9._\\-]{2,63}', maxlength: 64, autocapitalize: 'none', spellcheck: 'false' });
    const display = input({ name: 'display_name', maxlength: 200 });
    const ar = agencyAndRole(look, null);
    const password = input({ name: 'new_password', type: 'password', autocomplete: 'new-password', maxlength: 200 });
    const body = [
      h('div', { class: 'form-grid' }, field(t('admin.users.username'), username, t('admin.users.usernameHint')), field(t('admin.users.displayName'), display)),
      h('div', { class: 'form-grid' }, ar.fields),
      field(t('admin.users.password'), password, t('admin.users.passwordHint')),
    ];
    let generated = '';
    const saved = await formDialog(t('admin.users.add'), body, async () => {
      generated = password.value ? '' : generatePassword();
      const pw = password.value || generated;
      password.value = '';
      return api.post('/users', { agency_id: ar.agency.value, username: clean(username.value).toLowerCase(), display_name: clean(display.value), role: ar.role.value, password: pw });
    });
    if (!saved) return;
    notify(t('admin.users.created', { username: saved.username }));
    if (generated) await showOnce(t('admin.users.initialTitle'), t('admin.users.initialFor', { username: saved.username }), generated);
    generated = '';
    await draw();
  }

  async function edit(u, look) {
    const display = input({ name: 'display_name', maxlength: 200, value: u.display_name || '' });
    const ar = agencyAndRole(look, u);
    const disabled = checkField(t('admin.users.disabledLabel'), u.disabled, { name: 'disabled' });
    const body = [
      h('p', { class: 'muted' }, `${t('admin.users.username')}: `, h('span', { class: 'mono' }, u.username)),
      field(t('admin.users.displayName'), display),
      h('div', { class: 'form-grid' }, ar.fields),
      disabled.el,
    ];
    const saved = await formDialog(t('admin.users.edit', { username: u.username }), body, () =>
      api.put(`/users/${encodeURIComponent(u.id)}`, { agency_id: ar.agency.value, display_name: clean(display.value), role: ar.role.value, disabled: disabled.input.checked }));
    if (!saved) return;
    notify(t('admin.saved'));
    await draw();
  }

  async function reset(u) {
    const password = input({ name: 'new_password', type: 'password', autocomplete: 'new-password', maxlength: 200 });
    const body = [h('p', {}, t('admin.users.resetIntro')), field(t('admin.users.newPassword'), password, t('admin.users.passwordHint'))];
    let generated = '';
    const ok = await formDialog(t('admin.users.resetTitle', { username: u.username }), body, async () => {
      generated = password.value ? '' : generatePassword();
      const pw = password.value || generated;
      password.value = '';
      await api.post(`/users/${encodeURIComponent(u.id)}/password`, { password: pw });
      return true;
    }, t('admin.users.resetPassword'));
    if (!ok) return;
    notify(t('admin.users.passwordSet', { username: u.username }));
    if (generated) await showOnce(t('admin.users.initialTitle'), t('admin.users.initialFor', { username: u.username }), generated);
    generated = '';
    await draw();
  }

  async function unlock(u) {
    if (!(await confirm(t('admin.users.unlockTitle', { username: u.username }), t('admin.users.unlockText'), t('admin.users.unlock'), 'primary'))) return;
    try {
      await api.post(`/users/${encodeURIComponent(u.id)}/unlock`);
      notify(t('admin.users.unlocked', { username: u.username }));
    } catch (err) {
      notify(`${t('error.generic')} ${err.message || ''}`, 'bad');
    }
    await draw();
  }

  await draw();
}
