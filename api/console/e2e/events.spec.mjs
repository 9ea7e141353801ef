// Live events: the feed fills from the API, then grows from the
// server-sent event stream; the type filter; an event's page with its
// snapshot.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkA11y, checkPage, imageLoaded, pageAs, shot, showClipFrame, useBrowser, users } from './lib.mjs';

const rowIds = (page) => page.locator('[data-testid="event-row"]').evaluateAll((els) => els.map((el) => el.dataset.id));

describe('live events', () => {
  const browser = useBrowser();

  it('receives events live and opens one', async () => {
    const page = await pageAs(browser(), users.admin, '/events');
    await page.locator('[data-testid="live-state"][data-state="live"]').waitFor();
    await page.locator('[data-testid="event-row"]').first().waitFor();
    // Every camera sends a detection summary each few seconds: a row that
    // was not there when the page filled arrives over the stream.
    const first = new Set(await rowIds(page));
    await page.waitForFunction((seen) => [...document.querySelectorAll('[data-testid="event-row"]')]
      .some((tr) => !seen.includes(tr.dataset.id)), [...first], { timeout: 30_000 });
    await checkA11y(page);
    await shot(page, 'events');

    // Keep the violations only: every row is one.
    await page.getByLabel('Nhóm sự kiện').selectOption('violations');
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll('[data-testid="event-row"]')];
      return rows.length > 0 && rows.every((tr) => tr.dataset.type.startsWith('violation.'));
    });
    assert.match(page.url(), /[?&]group=violations/);

    // A row opens the event's page with its snapshot.
    const row = page.locator('[data-testid="event-row"]').first();
    const id = await row.getAttribute('data-id');
    await row.locator('a').click();
    await page.waitForURL(new RegExp(`/console/events/${id}$`));
    await imageLoaded(page.getByTestId('event-snapshot'));
    await showClipFrame(page);
    await shot(page, 'event');
    checkPage(page);
    await page.context().close();
  });
});
