// Switching the language: Vietnamese first, English on demand; the
// navigation, the html lang attribute and the date formats follow, and the
// choice survives a reload.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VIOLATION_ID, checkPage, goto, nav, openPage, pageAs, useBrowser, users } from './lib.mjs';

// The console formats date-times with Intl in Asia/Ho_Chi_Minh:
// 14:05:09 27/11/2026 in Vietnamese, 27/11/2026, 14:05:09 in English.
const VI_DATETIME = /\b\d{2}:\d{2}:\d{2},? \d{2}\/\d{2}\/\d{4}\b/;
const EN_DATETIME = /\b\d{2}\/\d{2}\/\d{4}, \d{2}:\d{2}:\d{2}\b/;

describe('language', () => {
  const browser = useBrowser();

  it('switches from Vietnamese to English and back', async () => {
    const page = await pageAs(browser(), users.admin);
    // The event page shows when the event happened, as a full date and time.
    await goto(page, `/events/${VIOLATION_ID}`);
    const main = page.locator('main');
    await page.waitForFunction((re) => new RegExp(re).test(document.querySelector('main').innerText), VI_DATETIME.source);
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'vi');
    await nav(page).getByRole('link', { name: 'Sự kiện trực tiếp' }).waitFor();
    const languages = page.getByRole('group', { name: 'Ngôn ngữ' });
    assert.equal(await languages.getByRole('button', { name: 'Tiếng Việt' }).getAttribute('aria-pressed'), 'true');

    await languages.getByRole('button', { name: 'English' }).click();
    await nav(page).getByRole('link', { name: 'Live events' }).waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await page.waitForFunction((re) => new RegExp(re).test(document.querySelector('main').innerText), EN_DATETIME.source);
    assert.doesNotMatch(await main.innerText(), VI_DATETIME, 'a Vietnamese date is left on the English page');
    const english = page.getByRole('group', { name: 'Language' });
    assert.equal(await english.getByRole('button', { name: 'English' }).getAttribute('aria-pressed'), 'true');

    // The choice is kept on this browser.
    await page.reload();
    await nav(page).getByRole('link', { name: 'Camera wall' }).waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');

    await page.getByRole('group', { name: 'Language' }).getByRole('button', { name: 'Tiếng Việt' }).click();
    await nav(page).getByRole('link', { name: 'Màn hình camera' }).waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'vi');
    await page.waitForFunction((re) => new RegExp(re).test(document.querySelector('main').innerText), VI_DATETIME.source);
    checkPage(page);
    await page.context().close();
  });

  it('offers the switch on the sign-in page', async () => {
    const page = await openPage(browser());
    await page.goto(`${(await import('./lib.mjs')).CONSOLE}/`);
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('heading', { name: 'Sign in', level: 1 }).waitFor();
    await page.getByLabel('User name').waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
    checkPage(page);
    await page.context().close();
  });
});
