// Violation review by a police officer: the list, the selected violation's
// snapshot and clip, confirming it with a reason (audited), and exporting
// the evidence package with its purpose and requester.

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { Api, VIOLATION_ID, checkA11y, checkPage, goto, imageLoaded, pageAs, shot, useBrowser, users } from './lib.mjs';

describe('violation review', () => {
  const browser = useBrowser();
  let page;
  before(async () => {
    page = await pageAs(browser(), users.police);
  });

  it('shows a violation with its snapshot and plays its clip', async () => {
    await goto(page, '/violations');
    const row = page.locator(`[data-testid="violation-row"][data-id="${VIOLATION_ID}"]`);
    await row.waitFor();
    assert.ok(await page.locator('[data-testid="violation-row"]').count() >= 1);
    await row.click();
    assert.match(page.url(), new RegExp(`[?&]id=${VIOLATION_ID}`));
    const size = await imageLoaded(page.getByTestId('event-snapshot'));
    assert.ok(size.width >= 320, `the snapshot is ${size.width} px wide`);

    const clip = page.getByTestId('event-clip');
    await clip.waitFor();
    const played = await clip.evaluate(async (video) => {
      video.muted = true;
      await video.play();
      const start = video.currentTime;
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline && video.currentTime < start + 1) await new Promise((r) => setTimeout(r, 100));
      video.pause();
      return { readyState: video.readyState, start, now: video.currentTime, width: video.videoWidth, error: video.error?.message };
    });
    assert.equal(played.error, undefined);
    assert.ok(played.readyState >= 2, `the clip is not playable (readyState ${played.readyState})`);
    assert.ok(played.now > played.start + 0.5, `the clip did not advance (${played.start} → ${played.now})`);
    assert.ok(played.width > 0);
    await checkA11y(page);
    await shot(page, 'violations');
    checkPage(page);
  });

  it('confirms the violation with a reason', async () => {
    const detail = page.locator('.ev-detail-pane');
    await detail.getByRole('button', { name: 'Xác nhận vi phạm' }).click();
    const dlg = page.getByRole('dialog', { name: 'Xác nhận vi phạm' });
    await dlg.waitFor();
    // The reason is required.
    await dlg.getByRole('button', { name: 'Lưu quyết định' }).click();
    assert.ok(await dlg.isVisible(), 'the dialog closed without a reason');
    const reason = 'Xe ô tô đỗ quá thời gian cho phép trong khu vực cấm đỗ, rõ biển số trên ảnh.';
    await dlg.getByLabel('Lý do').fill(reason);
    await dlg.getByRole('button', { name: 'Lưu quyết định' }).click();
    await dlg.waitFor({ state: 'detached' });
    // The row and the detail show the new state.
    const row = page.locator(`[data-testid="violation-row"][data-id="${VIOLATION_ID}"]`);
    await row.getByText('Đã xác nhận vi phạm').waitFor();
    await detail.getByText(reason).waitFor();
    // The server kept it, with the reviewer's name.
    const api = await Api.login(users.police);
    const got = await api.get(`/events/${VIOLATION_ID}`);
    assert.equal(got.disposition?.decision, 'confirmed');
    assert.equal(got.disposition?.reason, reason);
    assert.equal(got.disposition?.username, users.police.username);
    checkPage(page);
  });

  it('exports the evidence with its purpose and requester', async () => {
    const detail = page.locator('.ev-detail-pane');
    await detail.getByRole('button', { name: 'Trích xuất chứng cứ' }).click();
    const dlg = page.getByRole('dialog', { name: 'Trích xuất chứng cứ' });
    await dlg.waitFor();
    await checkA11y(page);
    await dlg.getByLabel('Mục đích', { exact: true }).selectOption('traffic_safety');
    const requester = 'Đội CSGT số 1, Phòng CSGT Công an tỉnh';
    await dlg.getByLabel('Người yêu cầu').fill(requester);
    // The camera's system is run by another agency (the ICT department):
    // sharing it needs the written approval's reference.
    await dlg.getByLabel(/Cung cấp cho cơ quan, tổ chức bên ngoài/).check();
    await dlg.getByLabel('Số, ngày văn bản phê duyệt').fill('125/QĐ-UBND ngày 01/11/2026');
    await dlg.getByRole('button', { name: 'Tạo gói chứng cứ' }).click();
    const done = page.getByRole('dialog', { name: 'Gói chứng cứ đã ký' });
    await done.waitFor({ timeout: 60_000 });
    const sha = (await done.getByTestId('evidence-sha256').innerText()).trim();
    assert.match(sha, /^[0-9a-f]{64}$/);
    await done.getByText(requester).waitFor();
    await shot(page, 'evidence');
    await done.getByRole('button', { name: 'Đóng' }).click();

    // The export is in the audit log, with its hash, purpose and requester.
    const admin = await Api.login(users.admin);
    const { entries } = await admin.get('/audit?action=evidence.export&order=desc&limit=20');
    const entry = entries.find((e) => JSON.stringify(e.after || {}).includes(sha));
    assert.ok(entry, `no evidence.export audit entry with sha256 ${sha}`);
    assert.equal(entry.actor.username, users.police.username);
    assert.equal(entry.actor.purpose, 'traffic_safety');
    assert.equal(entry.actor.requester, requester);
    checkPage(page);
  });
});
