// Import & export in a real browser: a ChatGPT export dropped on the Import
// page, its progress bar followed to the end, the imported branched chat
// opened from the links and paged through its branches; the chat exported
// as Markdown from its head.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import { launch, newPage, signIn, assertNoPageErrors, WAIT_MS } from './lib.mjs';
import { createUser } from '../lib/users.mjs';
import { SAMPLES } from '../lib/imports.mjs';

describe('import and export', () => {
  let browser;
  let user;

  before(async () => {
    browser = await launch();
    user = await createUser({ prefix: 'bimp' });
  });

  after(async () => {
    await browser?.close();
  });

  test('import a file, watch the progress reach the end, open a branched chat, page its branches, export it as Markdown', async () => {
    const { context, page, errors } = await newPage(browser);
    try {
      await signIn(page, user.user, user.password);
      await page.goto('/chat/#/library');
      await page.locator('[data-testid="import-file"]').setInputFiles(join(SAMPLES, 'chatgpt-conversations.json'));
      await page.locator('[data-testid="import-job"][data-status="done"]').waitFor({ timeout: WAIT_MS });
      const bar = page.locator('[data-testid="import-progress"]');
      assert.equal(await bar.getAttribute('value'), await bar.getAttribute('max'));
      assert.match(await page.locator('[data-testid="import-counts"]').innerText(), /^2 of 2 conversations · 9 messages added/);

      await page.getByRole('link', { name: 'SSE line endings' }).click();
      await page.locator('[data-testid="chat-title"]', { hasText: 'SSE line endings' }).waitFor({ timeout: WAIT_MS });
      assert.match(await page.locator('[data-testid="chat-subtitle"]').innerText(), /Imported from ChatGPT/);
      await page.locator('[data-testid="source-badge"]').first().waitFor();

      // The first prompt has two answers; the active path follows the second.
      const nav = page.locator('[data-testid="sibling-nav"]').first();
      await nav.waitFor({ timeout: WAIT_MS });
      assert.equal(await nav.locator('[data-testid="sibling-position"]').innerText(), '2/2');
      const before = await page.locator('[data-testid="message-body"]').allInnerTexts();
      await nav.locator('[data-testid="sibling-prev"]').click();
      await page.locator('[data-testid="sibling-position"]', { hasText: '1/2' }).first().waitFor({ timeout: WAIT_MS });
      const after = await page.locator('[data-testid="message-body"]').allInnerTexts();
      assert.notDeepEqual(after, before);

      const [download] = await Promise.all([
        page.waitForEvent('download', { timeout: WAIT_MS }),
        page.locator('[data-testid="export-markdown"]').click(),
      ]);
      assert.match(download.suggestedFilename(), /^SSE-line-endings-[0-9a-f]{8}\.md$/);
      assertNoPageErrors(errors);
    } finally {
      await context.close();
    }
  });

  test('an imported Gemini answer (sanitised HTML) shows as a table, not as markup', async () => {
    const { context, page, errors } = await newPage(browser);
    try {
      await signIn(page, user.user, user.password);
      await page.goto('/chat/#/library');
      await page.locator('[data-testid="import-file"]').setInputFiles(join(SAMPLES, 'gemini-takeout/MyActivity-a.json'));
      await page.locator('[data-testid="import-job"][data-status="done"]').waitFor({ timeout: WAIT_MS });
      await page.getByRole('link', { name: 'Compare TCP and UDP in a table' }).click();
      const answer = page.locator('[data-testid="message-body"]').nth(1);
      await answer.locator('table').waitFor({ timeout: WAIT_MS });
      assert.doesNotMatch(await answer.innerText(), /<table|<td/);
      assertNoPageErrors(errors);
    } finally {
      await context.close();
    }
  });
});
