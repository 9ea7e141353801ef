// Smoke and fire alerts, traffic statistics and the administration tabs.

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { ALERT_ID, Api, cameras, checkA11y, checkPage, goto, imageLoaded, openPage, pageAs, shot, showClipFrame, signIn, useBrowser, users } from './lib.mjs';

describe('smoke and fire alerts', () => {
  const browser = useBrowser();

  it('shows a forest ranger the alerts of their cameras and acknowledges one', async () => {
    const page = await pageAs(browser(), users.ranger, '/alerts');
    const row = page.locator(`[data-testid="alert-row"][data-id="${ALERT_ID}"]`);
    await row.waitFor();
    // The rangers' cameras on the map, the traffic cameras nowhere.
    await page.getByTestId('alerts-map').locator(`[data-camera="${cameras.fire}"]`).waitFor();
    assert.equal(await page.getByTestId('alerts-map').locator(`[data-camera="${cameras.violation}"]`).count(), 0);
    await row.getByRole('button').first().click();
    const detail = page.getByTestId('alerts-detail');
    await imageLoaded(detail.getByTestId('event-snapshot'));
    await showClipFrame(page, detail);
    await checkA11y(page);
    await shot(page, 'alerts');

    await detail.getByRole('button', { name: 'Xác nhận đã xử lý' }).click();
    const dlg = page.getByRole('dialog');
    await dlg.waitFor();
    await dlg.locator('textarea').fill('Đã báo đội PCCC khu vực, lực lượng đang có mặt tại hiện trường.');
    await dlg.getByRole('button', { name: 'Lưu quyết định' }).click();
    await dlg.waitFor({ state: 'detached' });
    await row.getByText('Đã xử lý').waitFor();
    const api = await Api.login(users.ranger);
    const got = await api.get(`/events/${ALERT_ID}`);
    assert.equal(got.disposition?.decision, 'acknowledged');
    assert.equal(got.disposition?.username, users.ranger.username);
    checkPage(page);
    await page.context().close();
  });
});

describe('statistics and administration', () => {
  const browser = useBrowser();
  let page;
  before(async () => {
    page = await pageAs(browser(), users.admin);
  });

  it('draws the traffic flow of a counting camera', async () => {
    await goto(page, `/stats?camera=${cameras.count}&bucket=15m`);
    const chart = page.getByTestId('stats-chart').first();
    await chart.waitFor();
    // A chart with data: bars or a line drawn, and a table alternative.
    await page.waitForFunction(() => document.querySelector('[data-testid="stats-chart"] svg rect, [data-testid="stats-chart"] svg path'));
    assert.ok(await page.locator('main table').count() >= 1, 'the chart has no table alternative');
    await checkA11y(page);
    await shot(page, 'stats');
    checkPage(page);
  });

  it('shows the administration tabs, the users, the audit log and the compliance report', async () => {
    await goto(page, '/admin');
    for (const section of ['agencies', 'systems', 'cameras', 'users', 'grants', 'incidents', 'audit', 'reports']) {
      await page.getByTestId(`admin-tab-${section}`).waitFor();
    }
    await page.getByTestId('admin-tab-users').click();
    await page.waitForURL(/\/console\/admin\/users$/);
    await page.locator('#admin-panel table').first().waitFor();
    for (const u of [users.police.username, users.ranger.username]) await page.locator('#admin-panel').getByText(u, { exact: true }).waitFor();
    await checkA11y(page);
    await shot(page, 'admin-users');

    await page.getByTestId('admin-tab-audit').click();
    await page.waitForURL(/\/console\/admin\/audit/);
    await page.locator('#admin-panel table').first().waitFor();
    await page.getByTestId('admin-audit-chain').waitFor();
    await checkA11y(page);
    await shot(page, 'admin-audit');

    await page.getByTestId('admin-tab-reports').click();
    await page.getByTestId('admin-report-compliance').click();
    await page.locator('#admin-panel table').first().waitFor();
    await checkA11y(page);
    await shot(page, 'admin-compliance');

    // The cameras tab never shows a stream URL.
    await page.getByTestId('admin-tab-cameras').click();
    await page.locator('#admin-panel table').first().waitFor();
    assert.doesNotMatch(await page.locator('main').innerText(), /rtsp:\/\//i);
    checkPage(page);
  });

  it('shows the rangers the audit tab not at all', async () => {
    const p = await openPage(browser());
    await signIn(p, users.ranger);
    assert.equal(await p.getByRole('navigation').getByRole('link', { name: 'Quản trị' }).count(), 0);
    await goto(p, '/admin');
    await p.getByText('Không có quyền truy cập').waitFor();
    checkPage(p);
    await p.context().close();
  });
});
