// Keyboard use: the skip link is the first stop and leads to the main
// content; the navigation is reachable with Tab, shows where the focus is,
// and moving to a page puts the focus on its heading.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkA11y, checkPage, pageAs, useBrowser, users } from './lib.mjs';

// focused describes the element with the keyboard focus.
const focused = (page) => page.evaluate(() => {
  const el = document.activeElement;
  return {
    tag: el?.tagName.toLowerCase(),
    text: el?.textContent.trim().slice(0, 60),
    inNav: Boolean(el?.closest('nav')),
    inMain: Boolean(el?.closest('main')),
    isMain: el?.id === 'main',
    skip: el?.classList.contains('skip-link'),
    outline: el ? getComputedStyle(el).outlineStyle : '',
  };
});

describe('keyboard', () => {
  const browser = useBrowser();

  it('reaches the navigation and the main content from the skip link', async () => {
    const page = await pageAs(browser(), users.police, '/violations');
    // The skip link is the first thing Tab reaches on the page.
    const first = await page.evaluate(() => {
      const all = [...document.querySelectorAll('a[href], button, input, select, textarea, [tabindex]')]
        .filter((el) => el.tabIndex >= 0 && !el.disabled);
      return all[0]?.className;
    });
    assert.equal(first, 'skip-link');
    const skip = page.locator('.skip-link');
    await skip.focus();
    let f = await focused(page);
    assert.ok(f.skip, 'the skip link did not take the focus');
    assert.ok(await skip.isVisible(), 'the skip link stays hidden when it has the focus');

    // Tab from the skip link: into the main navigation, with a visible focus.
    await page.keyboard.press('Tab');
    f = await focused(page);
    assert.ok(f.inNav, `Tab from the skip link went to ${f.tag} "${f.text}", not the navigation`);
    assert.notEqual(f.outline, 'none', 'the focused navigation link shows no focus outline');

    // Enter on the skip link: to the main content, and Tab continues there.
    await skip.focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.activeElement?.closest('main'));
    await page.keyboard.press('Tab');
    f = await focused(page);
    assert.ok(f.inMain && !f.isMain, `after the skip link, Tab went to ${f.tag} "${f.text}", outside the main content`);
    checkPage(page);
    await page.context().close();
  });

  it('navigates with Enter and puts the focus on the new heading', async () => {
    const page = await pageAs(browser(), users.police, '/wall');
    const link = page.getByRole('navigation').getByRole('link', { name: 'Sự kiện trực tiếp' });
    await link.focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/console\/events$/);
    await page.waitForFunction(() => document.activeElement?.tagName === 'H1' && document.activeElement.closest('main'));
    assert.equal(await link.getAttribute('aria-current'), 'page');
    await checkA11y(page);
    checkPage(page);
    await page.context().close();
  });
});
