// The scene editor: an administrator draws a counting line on the camera's
// latest picture with two clicks, saves it through the API, and finds it
// again after a reload; and sets a forest camera's fire and smoke analysis
// to stills.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Api, cameras, checkA11y, checkPage, goto, imageLoaded, pageAs, shot, useBrowser, users } from './lib.mjs';

// Where the new line goes, as fractions of the picture (x right, y down).
const A = [0.18, 0.82];
const B = [0.46, 0.9];

describe('scene editor', () => {
  const browser = useBrowser();

  it('draws a counting line and saves it', async () => {
    const api = await Api.login(users.admin);
    const before = await api.get(`/cameras/${cameras.count}/scene`);
    const page = await pageAs(browser(), users.admin);
    // From the camera page, as an administrator would.
    await goto(page, `/cameras/${cameras.count}`);
    await page.getByRole('link', { name: 'Sửa cảnh' }).click();
    await page.waitForURL(new RegExp(`/console/cameras/${cameras.count}/scene$`));
    const canvas = page.getByTestId('scene-canvas');
    await canvas.waitFor();
    await imageLoaded(page.locator('.scene-picture img'));
    const items = page.getByTestId('scene-item');
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="scene-item"]').length >= n,
      (before.lines || []).length);
    const count = await items.count();

    await page.getByRole('button', { name: 'Vẽ đường đếm' }).click();
    const box = await canvas.boundingBox();
    await page.mouse.click(box.x + A[0] * box.width, box.y + A[1] * box.height);
    await page.mouse.click(box.x + B[0] * box.width, box.y + B[1] * box.height);
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="scene-item"]').length === n + 1, count);
    await checkA11y(page);
    await page.getByRole('button', { name: 'Lưu', exact: true }).click();
    await page.locator('.scene-save-state').getByText('Đã lưu cảnh').waitFor();
    await shot(page, 'scene-editor');

    // The server has the new line where it was drawn.
    const after = await api.get(`/cameras/${cameras.count}/scene`);
    assert.equal((after.lines || []).length, (before.lines || []).length + 1);
    const known = new Set((before.lines || []).map((l) => l.id));
    const added = after.lines.find((l) => !known.has(l.id));
    assert.ok(added, 'no new line in the saved scene');
    const near = (p, q) => Math.abs(p[0] - q[0]) < 0.02 && Math.abs(p[1] - q[1]) < 0.02;
    assert.ok(near(added.points[0], A) && near(added.points[1], B), `the line was saved at ${JSON.stringify(added.points)}`);

    // And the editor shows it after a reload.
    await page.reload();
    await page.locator(`[data-testid="scene-item"][data-id="${added.id}"]`).waitFor();
    checkPage(page);
    await page.context().close();
  });

  it('sets a forest camera to fire and smoke stills', async () => {
    const api = await Api.login(users.admin);
    const before = await api.get(`/cameras/${cameras.forest}/scene`);
    const zone = (before.zones || []).find((z) => z.kind === 'smoke_watch');
    assert.ok(zone, 'the forest camera\'s demo scene has no smoke_watch zone');
    const page = await pageAs(browser(), users.admin);
    await goto(page, `/cameras/${cameras.forest}/scene`);
    await page.locator(`[data-testid="scene-item"][data-id="${zone.id}"] button`).click();
    await page.getByLabel('Chế độ', { exact: true }).selectOption('stills');
    const interval = page.getByLabel('Khoảng cách giữa hai khung', { exact: true });
    await interval.fill('20s');
    await interval.press('Tab');
    await checkA11y(page);
    await page.getByRole('button', { name: 'Lưu', exact: true }).click();
    await page.locator('.scene-save-state').getByText('Đã lưu cảnh').waitFor();
    const after = await api.get(`/cameras/${cameras.forest}/scene`);
    assert.deepEqual(after.firesmoke, { mode: 'stills', interval: '20s' });
    checkPage(page);
    await page.context().close();
    // Back to the demo's scene for the specs after this one.
    await api.call('PUT', `/cameras/${cameras.forest}/scene`, before);
  });
});
