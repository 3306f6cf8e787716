// Sign-in, the app shell, Profile and sign-out, in a real browser against a
// running site (AICHAT_URL). Needs the seeded users demo/demo ("Demo User",
// role user) and admin/admin (role admin).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { baseUrl, launch, newPage, signIn, submitLogin, textOf, url, waitForPath, waitForText } from './lib.mjs';

const USER_NAME = '[data-testid="user-name"]';

/** GET /me with the page's cookies, without following redirects. */
async function meStatus(page) {
  const res = await page.request.get(url('/chat/api/v1/me'), { maxRedirects: 0 });
  return res.status();
}

function assertNoPageErrors(errors) {
  assert.deepEqual(
    errors.map((e) => String(e)),
    [],
    'uncaught JavaScript errors on the page',
  );
}

describe('sign-in and the app shell', () => {
  let browser;

  before(async () => {
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
  });

  test('signed out, /chat/ lands on the login page; demo/demo signs in as Demo User', async () => {
    const { context, page, errors } = await newPage(browser);
    try {
      await page.goto('/chat/');
      await waitForPath(page, '/chat/login.html');
      await page.getByLabel('Username').waitFor();

      await submitLogin(page, 'demo', 'demo');
      await waitForPath(page, '/chat/');
      await waitForText(page, USER_NAME, 'Demo User');

      const credits = await page.locator('[data-testid="credits"]').getAttribute('data-value');
      assert.match(credits ?? '', /^\d+$/, 'the header shows the credit balance');
      assert.equal(await meStatus(page), 200);
      assertNoPageErrors(errors);
    } finally {
      await context.close();
    }
  });

  test('signed in, the landing page is a new chat with search, tags, saved searches, pinned and recent chats', async () => {
    const { context, page, errors } = await newPage(browser);
    try {
      await signIn(page, 'demo', 'demo');
      assert.equal(new URL(page.url()).hash, '', 'no view was asked for');
      await page.getByRole('heading', { name: 'New chat', level: 1 }).waitFor();
      await page.getByRole('heading', { name: 'Start a new chat' }).waitFor();
      for (const testid of ['new-chat', 'message-search', 'tag-list', 'saved-searches', 'pinned-list', 'recent-list']) {
        assert.equal(await page.getByTestId(testid).count(), 1, `the sidebar holds ${testid}`);
      }
      const nav = page.getByRole('navigation', { name: 'Main' });
      assert.equal(await nav.getByRole('link', { name: 'Chat', exact: true }).getAttribute('aria-current'), 'page');
      assert.equal(await nav.getByRole('link', { name: 'Home', exact: true }).count(), 0, 'no separate home page');
      assertNoPageErrors(errors);
    } finally {
      await context.close();
    }
  });

  test('a wrong password shows an error and stays signed out', async () => {
    const { context, page, errors } = await newPage(browser);
    try {
      await page.goto('/chat/login.html');
      await Promise.all([
        page.waitForURL((u) => u.pathname === '/chat/login.html' && u.searchParams.has('error')),
        submitLogin(page, 'demo', 'not-the-password'),
      ]);
      const alert = page.getByRole('alert');
      await alert.waitFor();
      assert.equal((await alert.textContent()).trim(), 'Wrong username or password.');

      assert.equal(await meStatus(page), 401, 'GET /me after a failed sign-in');
      await page.goto('/chat/');
      await waitForPath(page, '/chat/login.html');
      assertNoPageErrors(errors);
    } finally {
      await context.close();
    }
  });

  test('Profile shows the account (role, credits), changes the display name, rejects an invalid email', async () => {
    const { context, page, errors } = await newPage(browser);
    let original;
    let restored = false;
    try {
      await signIn(page, 'demo', 'demo');
      const res = await page.request.get(url('/chat/api/v1/me'));
      assert.equal(res.status(), 200);
      original = await res.json();
      const originalName = original.display_name || original.username;
      const newName = `Demo Renamed ${process.pid}`;

      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Profile' }).click();
      await page.getByRole('heading', { name: 'Profile', level: 1 }).waitFor();
      assert.equal(new URL(page.url()).hash, '#/profile');
      await waitForText(page, '[data-testid="profile-username"]', 'demo');
      assert.equal(await textOf(page, '[data-testid="profile-role"]'), 'User');
      assert.equal(
        await textOf(page, '[data-testid="profile-credits"]'),
        new Intl.NumberFormat('en-US').format(original.token_credits),
        'the profile shows the credit balance',
      );

      const displayName = page.getByLabel('Display name');
      const email = page.getByLabel('Email');
      const save = page.getByRole('button', { name: 'Save changes' });

      await displayName.fill(newName);
      await save.click();
      await waitForText(page, '[data-testid="form-success"]', 'Profile saved.');
      await waitForText(page, USER_NAME, newName);

      await page.reload();
      await waitForText(page, USER_NAME, newName);
      await page.getByRole('heading', { name: 'Profile', level: 1 }).waitFor();
      assert.equal(await displayName.inputValue(), newName, 'the form shows the saved name after a reload');

      await email.fill('not-an-email');
      await save.click();
      const fieldError = page.locator('[data-testid="field-error-email"]');
      await fieldError.waitFor({ state: 'visible' });
      assert.notEqual((await fieldError.textContent()).trim(), '', 'the email error has a message');
      assert.equal(await email.getAttribute('aria-invalid'), 'true');
      assert.equal(await textOf(page, '[data-testid="form-success"]'), '', 'no success message on error');
      assert.equal(await textOf(page, USER_NAME), newName);

      // Put everything back through the form.
      await email.fill(original.email ?? '');
      await displayName.fill(original.display_name ?? '');
      await save.click();
      await waitForText(page, '[data-testid="form-success"]', 'Profile saved.');
      await waitForText(page, USER_NAME, originalName);
      restored = true;
      assertNoPageErrors(errors);
    } finally {
      if (original && !restored) {
        // Safety net so a failure above does not leave the demo user renamed.
        await page.request
          .patch(url('/chat/api/v1/me'), {
            data: { display_name: original.display_name, email: original.email },
            headers: { Origin: baseUrl() },
          })
          .catch(() => {});
      }
      await context.close();
    }
  });

  test('sign out returns to the login page and /chat/ asks to sign in again', async () => {
    const { context, page, errors } = await newPage(browser);
    try {
      await signIn(page, 'demo', 'demo');
      await page.getByRole('link', { name: 'Sign out' }).click();
      await waitForPath(page, '/chat/login.html');

      assert.equal(await meStatus(page), 401, 'GET /me after signing out');
      await page.goto('/chat/');
      await waitForPath(page, '/chat/login.html');
      assertNoPageErrors(errors);
    } finally {
      await context.close();
    }
  });

  test('only admins see the Admin link', async () => {
    const demo = await newPage(browser);
    try {
      await signIn(demo.page, 'demo', 'demo');
      const nav = demo.page.getByRole('navigation', { name: 'Main' });
      await nav.getByRole('link', { name: 'Chat', exact: true }).waitFor();
      assert.equal(await nav.getByRole('link', { name: 'Admin', exact: true }).count(), 0, 'demo sees no Admin link');
      assert.equal(await demo.page.getByRole('link', { name: 'Admin' }).count(), 0);
      assertNoPageErrors(demo.errors);
    } finally {
      await demo.context.close();
    }

    const admin = await newPage(browser);
    try {
      await signIn(admin.page, 'admin', 'admin');
      const link = admin.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin', exact: true });
      await link.waitFor();
      assert.equal(await link.evaluate((a) => a.href), url('/chat/admin/'));
      assertNoPageErrors(admin.errors);
    } finally {
      await admin.context.close();
    }
  });
});
