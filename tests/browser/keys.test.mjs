// API keys and usage in a real browser: make a key on #/keys and see it once,
// use it with the curl command the page shows, see the
// call on #/usage (the server's chart and the tables), then revoke the key
// on #/keys and find it refused.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { apiAs, assertNoPageErrors, ensureCredits, launch, mainNav, newPage, signIn, unique, url } from './lib.mjs';

const DEMO = ['demo', 'demo'];
const MODEL = 'gpt-4o-mini';

describe('API keys', () => {
  let browser;
  const made = [];

  before(async () => {
    browser = await launch();
    await ensureCredits(...DEMO, 5000);
  });

  after(async () => {
    for (const id of made) await apiAs(...DEMO, 'DELETE', `/keys/${id}`);
    await browser?.close();
  });

  test('make a key, see it once, use it, see the call on Usage, revoke it', async () => {
    const { context, page, errors } = await newPage(browser);
    try {
      await signIn(page, ...DEMO);
      await mainNav(page).getByRole('link', { name: 'API keys' }).click();
      await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();

      const name = unique('browser-key');
      await page.getByLabel('Name').fill(name);
      await page.getByRole('button', { name: 'Make key' }).click();
      const secret = page.getByTestId('key-secret');
      await secret.waitFor();
      const key = await secret.inputValue();
      assert.match(key, /^sk-aic-[A-Za-z0-9_-]{43}$/);
      assert.match(await page.getByTestId('key-once').innerText(), /shown this once/);
      const curlCommand = await page.getByTestId('key-curl').innerText();
      assert.ok(curlCommand.includes(key), 'the curl command carries the key');
      const item = page.getByTestId('key-item').filter({ hasText: name });
      await item.waitFor();
      const id = await item.getAttribute('data-id');
      made.push(id);
      assert.equal(await item.getByTestId('key-prefix').innerText(), `${key.slice(0, 14)}…`);

      // Shown once: after a reload the page has only the prefix.
      await page.reload();
      await page.getByTestId('key-item').filter({ hasText: name }).waitFor();
      assert.equal(await page.getByTestId('key-secret').count(), 0, 'the key is shown again');
      assert.ok(!(await page.content()).includes(key.slice(14)), 'the page still holds the key');

      // Used from outside the browser: the curl command the page showed, run by a
      // shell with the model and the message filled in.
      const content = `From curl ${unique('c')}`;
      const shown = curlCommand.replace('"model":"MODEL"', `"model":"${MODEL}"`).replace('"content":"Hello"', `"content":"${content}"`);
      assert.notEqual(shown, curlCommand, 'the command names a model and a message to fill in');
      const out = JSON.parse(execFileSync('sh', ['-c', `${shown} --silent --show-error --fail-with-body`], { encoding: 'utf8' }));
      assert.equal(out.choices[0].message.content, `Mock reply to: ${content}`);
      // The call is settled a moment after its answer: the usage API counts it then.
      let counted = false;
      for (let i = 0; i < 100 && !counted; i++) {
        const usage = await apiAs(...DEMO, 'GET', '/usage?days=1');
        counted = usage.json?.keys?.find((k) => k.id === id)?.credits === out.usage.total_tokens;
        if (!counted) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.ok(counted, 'the usage API did not count the call within 10 s');

      // The call on the usage page: the key's row and the server's chart.
      await mainNav(page).getByRole('link', { name: 'Usage' }).click();
      await page.getByRole('heading', { name: 'Usage', level: 1, exact: true }).waitFor();
      const row = page.getByTestId('usage-keys').getByRole('row').filter({ hasText: name });
      await row.waitFor();
      const cells = await row.getByRole('cell').allInnerTexts();
      assert.equal(cells[1], '1', `calls of the key: ${cells.join(' | ')}`);
      assert.equal(Number(cells[2].replace(/\D/g, '')), out.usage.total_tokens);
      const chart = page.getByTestId('usage-chart');
      await page.waitForFunction(
        () => document.querySelector('[data-testid="usage-chart"]')?.naturalWidth > 0,
        null,
        { timeout: 15000 },
      );
      assert.match(await chart.getAttribute('alt'), /^Tokens per day over the last 30 days/);

      // Revoke, and the key no longer works.
      await mainNav(page).getByRole('link', { name: 'API keys' }).click();
      const again = page.getByTestId('key-item').filter({ hasText: name });
      await again.waitFor();
      page.once('dialog', (d) => d.accept());
      await again.getByRole('button', { name: 'Revoke' }).click();
      await page.waitForFunction(
        (n) => [...document.querySelectorAll('[data-testid="key-item"]')].some(
          (el) => el.textContent.includes(n) && el.querySelector('[data-testid="key-state"]')?.textContent === 'revoked'),
        name,
        { timeout: 15000 },
      );
      const refused = await fetch(url('/chat/v1/models'), { headers: { Authorization: `Bearer ${key}` } });
      assert.equal(refused.status, 401);
      assert.equal((await refused.json()).error.code, 'revoked_api_key');
      assertNoPageErrors(errors);
    } finally {
      await context.close();
    }
  });
  test('a long list of keys loads a page at a time with Load more', async () => {
    const prefix = unique('page-key');
    const mine = [];
    for (let i = 0; i < 51; i++) {
      const res = await apiAs(...DEMO, 'POST', '/keys', { name: `${prefix}-${String(i).padStart(2, '0')}` });
      assert.equal(res.status, 201, res.text);
      made.push(res.json.id);
      mine.push(res.json.id);
    }
    const { context, page, errors } = await newPage(browser);
    try {
      await signIn(page, ...DEMO);
      await mainNav(page).getByRole('link', { name: 'API keys' }).click();
      const items = page.getByTestId('key-item');
      await items.first().waitFor();
      assert.equal(await items.count(), 50, 'the first page is not 50 keys');
      // The oldest of the 51 is on the second page.
      assert.equal(await page.locator(`[data-testid="key-item"][data-id="${mine[0]}"]`).count(), 0);
      await page.getByRole('button', { name: 'Load more' }).click();
      await page.locator(`[data-testid="key-item"][data-id="${mine[0]}"]`).waitFor();
      assert.ok((await items.count()) > 50);
      assertNoPageErrors(errors);
    } finally {
      await context.close();
    }
  });
});
