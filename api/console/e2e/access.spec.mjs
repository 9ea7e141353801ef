// Another agency's cameras: a forest ranger does not see the traffic
// cameras on the wall, and the server refuses their direct URLs; a police
// officer likewise for the rangers' hillside camera.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cameras, checkPage, goto, pageAs, pageFetch, useBrowser, users } from './lib.mjs';

describe('access between agencies', () => {
  const browser = useBrowser();

  for (const [who, user, own, foreign] of [
    ['a forest ranger', users.ranger, cameras.forest, cameras.violation],
    ['a police officer', users.police, cameras.violation, cameras.forest],
  ]) {
    it(`keeps ${who} out of another agency's camera`, async () => {
      const page = await pageAs(browser(), user, '/wall');
      await page.locator(`[data-testid="camera-tile"][data-camera="${own}"]`).waitFor();
      assert.equal(await page.locator(`[data-testid="camera-tile"][data-camera="${foreign}"]`).count(), 0,
        `the wall shows ${foreign}`);

      // The direct URL: the page shows the refusal, the API answers 404.
      await goto(page, `/cameras/${foreign}`);
      await page.getByRole('alert').first().waitFor();
      assert.match(await page.getByRole('alert').first().innerText(), /Không tìm thấy|không có quyền/i);
      assert.equal(await page.locator('main img').count(), 0, 'the refused camera page shows a picture');
      for (const path of [`/cameras/${foreign}`, `/cameras/${foreign}/snapshot.jpg`, `/cameras/${foreign}/scene`,
        `/events?camera=${foreign}`]) {
        const status = await pageFetch(page, path);
        assert.ok(status === 404 || status === 403, `GET /api/v1${path} answered ${status}`);
      }
      // Its own camera answers.
      assert.equal(await pageFetch(page, `/cameras/${own}`), 200);
      checkPage(page);
      await page.context().close();
    });
  }
});
