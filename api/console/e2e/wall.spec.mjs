// The camera wall: a tile per camera the user may see, with its latest
// picture; the map of the cameras; the text filter; and the camera page.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Api, cameras, checkA11y, checkPage, imageLoaded, pageAs, shot, useBrowser, users } from './lib.mjs';

const ALL = [cameras.violation, cameras.count, cameras.fire, cameras.forest];

// tileIds lists the cameras of the tiles on the page.
const tileIds = (page) => page.locator('[data-testid="camera-tile"]').evaluateAll((els) => els.map((el) => el.dataset.camera).sort());

describe('camera wall', () => {
  const browser = useBrowser();

  it('shows every demo camera to the administrator, with its latest picture, and the map', async () => {
    const page = await pageAs(browser(), users.admin, '/wall');
    for (const id of ALL) {
      const tile = page.locator(`[data-testid="camera-tile"][data-camera="${id}"]`);
      await tile.waitFor();
      // The engine analyses the camera: the tile shows its latest frame.
      const size = await imageLoaded(tile.locator('img'));
      assert.ok(size.width >= 320, `the picture of ${id} is ${size.width} px wide`);
      assert.equal(await tile.getAttribute('data-state'), 'online');
    }
    assert.deepEqual(await tileIds(page), [...ALL].sort());
    await checkA11y(page);
    await shot(page, 'wall');

    // The text filter keeps the matching cameras: search one by its name
    // (from deploy/demo.yaml), typed without diacritics.
    const { name } = await (await Api.login(users.admin)).get(`/cameras/${cameras.violation}`);
    const plain = name.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/đ/gi, 'd').toLowerCase();
    await page.getByLabel('Tìm camera').fill(plain);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="camera-tile"]').length === 1);
    assert.deepEqual(await tileIds(page), [cameras.violation]);
    assert.match(page.url(), /[?&]q=/);
    await page.getByRole('button', { name: 'Bỏ lọc' }).click();
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="camera-tile"]').length === n, ALL.length);

    // The map: a marker per camera; choosing one shows its picture beside.
    await page.getByRole('button', { name: 'Bản đồ' }).click();
    const map = page.getByTestId('camera-map');
    await map.waitFor();
    const markers = await map.locator('[data-camera]').evaluateAll((els) => els.map((el) => el.dataset.camera).sort());
    assert.deepEqual(markers, [...ALL].sort());
    await map.locator(`[data-camera="${cameras.violation}"]`).click();
    await imageLoaded(page.locator(`.wall-preview [data-testid="camera-tile"][data-camera="${cameras.violation}"] img`));
    await shot(page, 'wall-map');
    checkPage(page);
    await page.context().close();
  });

  it('shows a police officer the granted traffic cameras only', async () => {
    const page = await pageAs(browser(), users.police, '/wall');
    await page.locator('[data-testid="camera-tile"]').first().waitFor();
    assert.deepEqual(await tileIds(page), [cameras.violation, cameras.count].sort());
    checkPage(page);
    await page.context().close();
  });

  it('opens the camera page from its tile', async () => {
    const page = await pageAs(browser(), users.admin, '/wall');
    const tile = page.locator(`[data-testid="camera-tile"][data-camera="${cameras.violation}"]`);
    await tile.getByRole('link').click();
    await page.waitForURL(new RegExp(`/console/cameras/${cameras.violation}$`));
    await page.locator('main h1').waitFor();
    // The camera page shows the latest picture, and never the stream URL.
    await imageLoaded(page.locator('main img').first());
    const text = await page.locator('main').innerText();
    assert.doesNotMatch(text, /rtsp:\/\//i, 'the camera page shows a stream URL');
    await checkA11y(page);
    await shot(page, 'camera');
    checkPage(page);
    await page.context().close();
  });
});
