// Shared helpers for the browser tests (node --test tests/browser/).
//
// The tests drive the system Chromium through playwright-core against a
// running mod_aichat site whose base URL is in AICHAT_URL, e.g.
//   AICHAT_URL=http://127.0.0.1:18080 node --test tests/browser/
//
// Typical use:
//   let browser;
//   before(async () => { browser = await launch(); });
//   after(async () => { await browser?.close(); });
//   test('…', async () => {
//     const { context, page } = await newPage(browser);
//     try { await signIn(page, 'demo', 'demo'); … } finally { await context.close(); }
//   });

import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.AICHAT_CHROMIUM || '/usr/bin/chromium';

/** How long any single wait may take before the test fails (not a timing assertion):
 * four times longer for a server built with sanitizers or run under valgrind, which
 * does the same work several times slower (a 256 KB answer streamed under ASan on a
 * loaded machine took over 20 s). */
export const WAIT_MS = process.env.AICHAT_SANITIZE || process.env.AICHAT_VALGRIND ? 60000 : 15000;

/** The site's base URL from AICHAT_URL (no trailing slash); throws when unset. */
export function baseUrl() {
  const raw = process.env.AICHAT_URL;
  if (!raw) {
    throw new Error(
      'AICHAT_URL is not set: point it at a running mod_aichat site, ' +
        'e.g. AICHAT_URL=http://127.0.0.1:18080 node --test tests/browser/',
    );
  }
  let url;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`AICHAT_URL is not a URL: ${raw}`);
  }
  return url.href.replace(/\/+$/, '');
}

/** An absolute URL on the site: url('/chat/') → "http://…/chat/". */
export function url(path) {
  return baseUrl() + path;
}

/** Launch headless Chromium (always close it: after() or finally). */
export async function launch() {
  baseUrl(); // fail before starting a browser when the target is unknown
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/**
 * A fresh, isolated browser context (its own cookies) and a page in it.
 * Uncaught page errors are collected in `errors` so a test can assert none.
 */
export async function newPage(browser, options = {}) {
  const context = await browser.newContext({ baseURL: baseUrl(), locale: 'en-US', ...options });
  context.setDefaultTimeout(WAIT_MS);
  context.setDefaultNavigationTimeout(WAIT_MS);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (err) => errors.push(err));
  return { context, page, errors };
}

/** Resolve when the page's path is `pathname` (query and hash ignored). */
export async function waitForPath(page, pathname) {
  try {
    await page.waitForURL((u) => u.pathname === pathname);
  } catch (err) {
    assert.fail(`expected to be at ${pathname}, but the page is at ${page.url()} (${err.message})`);
  }
}

/** Wait until `selector`'s text (trimmed) equals `expected`; fail showing the actual text. */
export async function waitForText(page, selector, expected) {
  try {
    await page.waitForFunction(
      ([sel, want]) => document.querySelector(sel)?.textContent.trim() === want,
      [selector, expected],
      { timeout: WAIT_MS },
    );
  } catch {
    const actual = await textOf(page, selector);
    assert.equal(actual, expected, `text of ${selector} on ${page.url()}`);
  }
}

/** The trimmed text of the first element matching `selector`, or null when there is none. */
export async function textOf(page, selector) {
  return page.evaluate((sel) => document.querySelector(sel)?.textContent.trim() ?? null, selector);
}

/** Fill the sign-in form (the page must show it) and submit it. */
export async function submitLogin(page, username, password) {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/**
 * Sign in through the real form and wait for the app shell to show the user.
 * Returns the text of the header's user name.
 */
export async function signIn(page, username, password) {
  await page.goto('/chat/login.html');
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/chat/' || u.searchParams.has('error')),
    submitLogin(page, username, password),
  ]);
  assert.equal(new URL(page.url()).pathname, '/chat/', `sign-in as ${username} failed: the page is at ${page.url()}`);
  try {
    await page.waitForFunction(
      () => (document.querySelector('[data-testid="user-name"]')?.textContent.trim() ?? '') !== '',
      null,
      { timeout: WAIT_MS },
    );
  } catch {
    assert.fail(`signed in as ${username}, but the header shows no user name (at ${page.url()})`);
  }
  return textOf(page, '[data-testid="user-name"]');
}

/** Fail when the page threw uncaught JavaScript errors (the `errors` of newPage()). */
export function assertNoPageErrors(errors) {
  assert.deepEqual(
    errors.map((e) => String(e)),
    [],
    'uncaught JavaScript errors on the page',
  );
}

/** A name no other run uses: unique('catalog-test') → "catalog-test-4f2a-lx3k9q". */
export function unique(prefix) {
  const random = Math.floor(Math.random() * 1296).toString(36);
  return `${prefix}-${process.pid.toString(36)}-${Date.now().toString(36)}${random}`;
}

/**
 * Call the JSON API from the test itself (Node's fetch, HTTP Basic, no
 * browser), e.g. to set up data as an admin:
 *   await apiAs('admin', 'admin', 'POST', '/admin/tools', { slug: … })
 * `path` is relative to /chat/api/v1. Returns { status, json, text }; json
 * is undefined when the body is not JSON.
 */
export async function apiAs(username, password, method, path, body) {
  const headers = {
    Accept: 'application/json',
    Authorization: `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`,
  };
  const init = { method, headers, redirect: 'manual' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(url(`/chat/api/v1${path}`), init);
  const text = await res.text();
  let json;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

/** The main navigation bar (a locator). */
export function mainNav(page) {
  return page.getByRole('navigation', { name: 'Main' });
}

/** The labels of the main navigation's links, in order. */
export async function navLabels(page) {
  return mainNav(page)
    .getByRole('link')
    .evaluateAll((links) => links.map((a) => a.textContent.trim()));
}

/** The credit balance the header shows, as a number (from its data-value). */
export async function headerCredits(page) {
  const raw = await page.locator('[data-testid="credits"]').getAttribute('data-value');
  const n = Number(raw);
  assert.ok(raw !== null && raw !== '' && Number.isFinite(n), `the header shows a credit balance (got ${raw})`);
  return n;
}

/**
 * Wait until fn(page) (evaluated in the browser) returns true; on timeout
 * fail with `describe()`'s text so the failure shows what the page had.
 */
export async function waitUntil(page, fn, arg, describe) {
  try {
    await page.waitForFunction(fn, arg, { timeout: WAIT_MS });
  } catch {
    assert.fail(typeof describe === 'function' ? await describe() : String(describe ?? 'condition not met'));
  }
}

/**
 * Make sure `username` (password `password`) has at least `atLeast` credits,
 * granting the difference as admin (POST /admin/users/{id}/credits) when
 * short. Returns the balance. For tests that spend credits on answers.
 */
export async function ensureCredits(username, password, atLeast) {
  const me = await apiAs(username, password, 'GET', '/me');
  assert.equal(me.status, 200, `GET /me as ${username}: ${me.text}`);
  const balance = me.json.token_credits;
  if (balance >= atLeast) return balance;
  const res = await apiAs('admin', 'admin', 'POST', `/admin/users/${me.json.id}/credits`, {
    amount: atLeast - balance,
    note: 'browser tests',
  });
  assert.equal(res.status, 200, `POST /admin/users/${me.json.id}/credits: ${res.text}`);
  return res.json.token_credits;
}
