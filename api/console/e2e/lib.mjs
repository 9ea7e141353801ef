// Shared pieces of the console's browser specs: the settings the Go test
// (api/console/browser_test.go) passes in the environment, launching
// Debian's chromium headless, signing in through the form, screenshots,
// and a small API client for checking what a page did on the server.
//
// Each spec file launches its own browser with a new, empty profile, so
// that no session, language choice or cache leaks from one to another.

import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { chromium } from 'playwright-core';

// env returns a setting the Go test passes; a missing one is an error that
// names it (the specs are run by go test, see docs/console.md).
export function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: the browser specs run from "go test ./api/console" (make test), which sets it`);
  return v;
}

export const BASE_URL = env('BASE_URL').replace(/\/+$/, '');
export const CONSOLE = `${BASE_URL}/console`;

// The accounts: the ICT administrator, a traffic police operator granted
// the traffic cameras, a new police account that must change its first
// password, and a forest ranger of another agency.
export const users = {
  admin: { username: env('ADMIN_USER'), password: env('ADMIN_PASSWORD') },
  police: { username: env('POLICE_USER'), password: env('POLICE_PASSWORD') },
  newcomer: { username: env('NEWCOMER_USER'), password: env('NEWCOMER_PASSWORD') },
  ranger: { username: env('RANGER_USER'), password: env('RANGER_PASSWORD') },
};

// The demo cameras and events the Go test waited for.
export const cameras = {
  violation: env('CAMERA_VIOLATION'), // illegal parking on the residential street
  count: env('CAMERA_COUNT'), // the intersection's counting lines
  fire: env('CAMERA_FIRE'), // smoke and fire at the model house
  forest: env('CAMERA_FOREST'), // the rangers' hillside camera
};
export const VIOLATION_ID = env('VIOLATION_ID');
export const ALERT_ID = env('ALERT_ID');

const SCREENSHOTS = env('SCREENSHOTS');
mkdirSync(SCREENSHOTS, { recursive: true });

// Timeouts: the machine running make test is small and busy.
export const LONG = 30_000;

// launch starts headless chromium with a new, empty profile.
export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    // The browser's own controls (date inputs) in Vietnamese, as on the
    // province's workstations: --lang and the locale environment (with the
    // Debian package chromium-l10n).
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', '--lang=vi'],
    env: { ...process.env, LANG: 'vi_VN.UTF-8', LANGUAGE: 'vi' },
  });
}

// useBrowser launches one browser for the enclosing describe block and
// closes it after; the returned function gives it to the tests.
export function useBrowser() {
  let browser;
  before(async () => {
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
  });
  return () => browser;
}

// pageAs opens a page signed in as user and, when given, goes to path.
export async function pageAs(browser, user, path) {
  const page = await openPage(browser);
  await signIn(page, user);
  if (path) await goto(page, path);
  return page;
}

// openPage opens a 1920×1080 page in a new context and records what goes
// wrong in it: uncaught errors, and console errors (which include the
// content security policy's refusals). checkPage asserts there were none.
export async function openPage(browser) {
  const context = await browser.newContext({ viewport: { width: 1920, height: 1080 }, locale: 'vi-VN' });
  context.setDefaultTimeout(LONG);
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const text = m.text();
    // A refused API call is logged by chromium as a failed resource; the
    // specs check the refusals they expect themselves.
    if (/Failed to load resource: the server responded with a status of (401|403|404)/.test(text)) return;
    problems.push(`console: ${text}`);
  });
  page.problems = problems;
  return page;
}

// checkPage fails when the page logged an uncaught error or a console
// error (a blocked inline style, a missing module, a failed call).
export function checkPage(page) {
  assert.deepEqual(page.problems, [], `the page logged errors:\n${page.problems.join('\n')}`);
}

// goto opens a console path ('/wall') and waits for the page's heading.
export async function goto(page, path) {
  await page.goto(CONSOLE + path);
  await page.locator('main h1').first().waitFor();
}

// signIn fills the sign-in form (found by its labels, in either language)
// and waits for the signed-in layout.
export async function signIn(page, user, { path = '/' } = {}) {
  await page.goto(CONSOLE + path);
  await submitSignIn(page, user);
  await page.getByRole('button', { name: /^(Đăng xuất|Sign out)$/ }).first().waitFor();
}

// submitSignIn fills and sends the sign-in form shown on the page.
export async function submitSignIn(page, user) {
  await page.getByLabel(/^(Tên đăng nhập|User name)$/).fill(user.username);
  await page.getByLabel(/^(Mật khẩu|Password)$/).fill(user.password);
  await page.getByRole('button', { name: /^(Đăng nhập|Sign in)$/ }).click();
}

// nav is the main navigation.
export const nav = (page) => page.getByRole('navigation', { name: /^(Điều hướng chính|Main navigation)$/ });

// shot writes a 1920×1080 screenshot into the screenshots folder, after
// waiting for pictures on the page to finish loading. JPEG keeps the
// pictures committed for the docs small (camera frames compress badly as
// PNG).
export async function shot(page, name) {
  await waitForImages(page);
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.jpg`), type: 'jpeg', quality: 80 });
}

// waitForImages waits until every <img> in main that has a source has
// loaded (or failed: a broken picture fails the spec that checks it).
export async function waitForImages(page, selector = 'main img') {
  await page.waitForFunction((sel) => [...document.querySelectorAll(sel)]
    .filter((img) => img.getAttribute('src'))
    .every((img) => img.complete), selector, { timeout: LONG });
}

// imageLoaded waits until an <img> shows a decoded picture and returns its
// natural size.
export async function imageLoaded(locator) {
  await locator.waitFor();
  await locator.page().waitForFunction((img) => img.complete && img.naturalWidth > 0, await locator.elementHandle(),
    { timeout: LONG });
  return locator.evaluate((img) => ({ width: img.naturalWidth, height: img.naturalHeight }));
}

// showClipFrame makes the event's clip show a picture, as a user who
// started and paused it would see it (a video with preload=metadata may
// stay blank, or show the loading spinner, until played).
export async function showClipFrame(page, root = page) {
  const clip = root.getByTestId('event-clip');
  await clip.waitFor();
  const state = await clip.evaluate(async (video) => {
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    const deadline = Date.now() + 20_000;
    video.muted = true;
    await video.play();
    while (Date.now() < deadline && video.currentTime < 0.3) await sleep(100);
    video.pause();
    while (Date.now() < deadline && (video.seeking || video.readyState < 2)) await sleep(100);
    await sleep(300);
    return { readyState: video.readyState, time: video.currentTime, error: video.error?.message };
  });
  assert.ok(state.readyState >= 2 && !state.error, `the clip shows no picture: ${JSON.stringify(state)}`);
}

// Api is a bearer-token client for checking on the server what the
// console did.
export class Api {
  static async login(user) {
    const res = await fetch(`${BASE_URL}/api/v1/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: user.username, password: user.password }),
    });
    const text = await res.text();
    assert.equal(res.status, 200, `API sign-in of ${user.username}: HTTP ${res.status} ${text}`);
    return new Api(JSON.parse(text).token);
  }

  constructor(token) {
    this.token = token;
  }

  // call returns the decoded answer; any status but 2xx throws.
  async call(method, path, body) {
    const res = await this.raw(method, path, body);
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }

  raw(method, path, body) {
    const headers = { Authorization: `Bearer ${this.token}` };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    return fetch(`${BASE_URL}/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  }

  get(path) {
    return this.call('GET', path);
  }
}

// pageFetch fetches an API path from inside the page (with its session
// cookie) and returns the status.
export function pageFetch(page, path) {
  return page.evaluate(async (p) => (await fetch(p, { credentials: 'same-origin' })).status, `/api/v1${path}`);
}

// checkLabels asserts that every visible form control on the page has an
// accessible name: a <label>, aria-label or aria-labelledby.
export async function checkLabels(page) {
  const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input, select, textarea')]
    .filter((el) => el.type !== 'hidden' && el.getClientRects().length > 0)
    .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
    .map((el) => el.outerHTML.slice(0, 120)));
  assert.deepEqual(unlabelled, [], `form controls without a label on ${page.url()}`);
}

// checkContrast asserts that the visible text on the page meets the WCAG
// AA contrast ratio against its background: 4.5:1, or 3:1 for large text
// (24 px, or 18.66 px bold). The background is the nearest opaque one
// behind the text; text over pictures and inside SVG (maps, charts:
// checked by hand) and disabled controls are left out.
export async function checkContrast(page) {
  const failures = await page.evaluate(() => {
    const parse = (c) => {
      const m = c.match(/rgba?\(([^)]+)\)/);
      if (!m) return null;
      const [r, g, b, a = 1] = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
      return { r, g, b, a };
    };
    const lum = ({ r, g, b }) => {
      const f = (v) => {
        const s = v / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const blend = (fg, bg) => ({ r: fg.r * fg.a + bg.r * (1 - fg.a), g: fg.g * fg.a + bg.g * (1 - fg.a), b: fg.b * fg.a + bg.b * (1 - fg.a), a: 1 });
    // background returns the colour behind el, or null over a picture.
    const background = (el) => {
      const layers = [];
      for (let e = el; e; e = e.parentElement) {
        const cs = getComputedStyle(e);
        if (cs.backgroundImage && cs.backgroundImage !== 'none') return null;
        if (e.matches('.picture, figure.map-figure')) return null;
        const c = parse(cs.backgroundColor);
        if (c && c.a > 0) {
          layers.push(c);
          if (c.a >= 1) break;
        }
      }
      let bg = { r: 255, g: 255, b: 255, a: 1 };
      for (const c of layers.reverse()) bg = blend(c, bg);
      return bg;
    };
    const out = [];
    const seen = new Set();
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!n.textContent.trim() || !el || seen.has(el)) continue;
      seen.add(el);
      if (el.closest('svg, [hidden], [aria-hidden="true"], .skip-link, option, noscript') || el.closest(':disabled')) continue;
      if (!el.getClientRects().length || !el.checkVisibility({ opacityProperty: true, visibilityProperty: true })) continue;
      const cs = getComputedStyle(el);
      const fg = parse(cs.color);
      const bg = background(el);
      if (!fg || !bg) continue;
      const text = blend(fg, bg);
      const [hi, lo] = [lum(text), lum(bg)].sort((a, b) => b - a);
      const ratio = (hi + 0.05) / (lo + 0.05);
      const size = parseFloat(cs.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(cs.fontWeight) >= 700);
      if (ratio < (large ? 3 : 4.5)) {
        out.push(`${ratio.toFixed(2)}:1 "${n.textContent.trim().slice(0, 40)}" (${el.tagName.toLowerCase()}.${[...el.classList].join('.')}, ${cs.color} on rgb(${Math.round(bg.r)}, ${Math.round(bg.g)}, ${Math.round(bg.b)}))`);
      }
    }
    return out;
  });
  assert.deepEqual(failures, [], `text below the WCAG AA contrast on ${page.url()}`);
}

// checkA11y runs the page-level accessibility checks: labels and contrast.
export async function checkA11y(page) {
  await checkLabels(page);
  await checkContrast(page);
}
