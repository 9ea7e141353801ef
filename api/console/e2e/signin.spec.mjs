// Sign-in, sign-out, the refused password, and the forced password change
// of a new account.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Api, BASE_URL, CONSOLE, checkA11y, checkPage, nav, openPage, pageAs, shot, submitSignIn, useBrowser, users } from './lib.mjs';

describe('sign-in', () => {
  const browser = useBrowser();

  it('shows the form in Vietnamese and refuses a wrong password', async () => {
    const page = await openPage(browser());
    await page.goto(`${CONSOLE}/`);
    await page.getByRole('heading', { name: 'Đăng nhập', level: 1 }).waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'vi');
    // The user name field has the focus, ready for typing.
    assert.equal(await page.evaluate(() => document.activeElement?.name), 'username');
    await checkA11y(page);
    await shot(page, 'sign-in');
    await page.getByLabel('Tên đăng nhập').fill(users.police.username);
    await page.getByLabel('Mật khẩu', { exact: true }).fill('Sai-mat-khau-2026!');
    await page.getByRole('button', { name: 'Đăng nhập' }).click();
    await page.getByRole('alert').filter({ hasText: 'Đăng nhập không thành công' }).waitFor();
    // The password field is emptied after a failure.
    assert.equal(await page.getByLabel('Mật khẩu', { exact: true }).inputValue(), '');
    checkPage(page);
    await page.context().close();
  });

  it('signs the administrator in and out', async () => {
    const page = await pageAs(browser(), users.admin);
    // Home is the camera wall; the layout names the user and role.
    await page.waitForURL(/\/console\/wall$/);
    await nav(page).getByRole('link', { name: 'Màn hình camera' }).waitFor();
    await page.getByText('Quản trị Sở TT&TT').waitFor();
    await page.getByRole('button', { name: 'Đăng xuất' }).click();
    await page.getByRole('heading', { name: 'Đăng nhập', level: 1 }).waitFor();
    // The session ended on the server too: the API answers 401.
    const status = await page.evaluate(async () => (await fetch('/api/v1/me')).status);
    assert.equal(status, 401);
    // Opening a page again asks for the sign-in.
    await page.goto(`${CONSOLE}/events`);
    await page.getByRole('heading', { name: 'Đăng nhập', level: 1 }).waitFor();
    checkPage(page);
    await page.context().close();
  });

  it('makes a new account change its first password before anything else', async () => {
    const page = await openPage(browser());
    await page.goto(`${CONSOLE}/`);
    await submitSignIn(page, users.newcomer);
    await page.getByRole('heading', { name: 'Cần đổi mật khẩu', level: 1 }).waitFor();
    // Nothing else is reachable with the first password.
    assert.equal(await nav(page).count(), 0, 'the navigation is shown to a restricted session');
    const refused = await page.evaluate(async () => (await fetch('/api/v1/cameras')).status);
    assert.equal(refused, 403, 'a restricted session reached /api/v1/cameras');
    const next = 'Mat-khau-moi-2026-Binh!';
    await page.getByLabel('Mật khẩu hiện tại').fill(users.newcomer.password);
    await page.getByLabel('Mật khẩu mới', { exact: true }).fill(next);
    await page.getByLabel('Nhập lại mật khẩu mới').fill(next + 'x');
    await page.getByRole('button', { name: 'Đổi mật khẩu' }).click();
    await page.getByRole('alert').filter({ hasText: 'không khớp' }).waitFor();
    await page.getByLabel('Nhập lại mật khẩu mới').fill(next);
    await page.getByRole('button', { name: 'Đổi mật khẩu' }).click();
    // Every session ended: sign in again with the new password.
    await page.getByRole('status').filter({ hasText: 'Đã đổi mật khẩu' }).waitFor();
    await submitSignIn(page, { username: users.newcomer.username, password: next });
    await nav(page).getByRole('link', { name: 'Vi phạm giao thông' }).waitFor();
    // The old password no longer opens a session.
    const res = await fetch(`${BASE_URL}/api/v1/login`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: users.newcomer.username, password: users.newcomer.password }),
    });
    assert.equal(res.status, 401);
    // And the new one gives a full session.
    const me = await (await Api.login({ username: users.newcomer.username, password: next })).get('/me');
    assert.equal(me.restricted, false);
    checkPage(page);
    await page.context().close();
  });

  it('signs in with the keyboard only', async () => {
    const page = await openPage(browser());
    await page.goto(`${CONSOLE}/`);
    await page.getByRole('heading', { name: 'Đăng nhập', level: 1 }).waitFor();
    // The user name field has the focus; Tab moves to the password, Enter submits.
    await page.keyboard.type(users.police.username);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.name), 'password');
    await page.keyboard.type(users.police.password);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.type), 'submit');
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Đăng xuất' }).waitFor();
    await page.getByText('Cán bộ vận hành').waitFor();
    checkPage(page);
    await page.context().close();
  });
});
