// Import & export in a real browser: a ChatGPT export dropped on the Import
// page, its progress bar followed to the end, the imported branched chat
// opened from the links and paged through its branches; the chat exported
// as Markdown from its head; an imported chat whose model is not in the
// catalog continued with a model picked on the chat.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import { launch, newPage, signIn, assertNoPageErrors, WAIT_MS } from './lib.mjs';
import { createUser } from '../lib/users.mjs';
import { SAMPLES, imported, sample } from '../lib/imports.mjs';
import { setCredits } from '../lib/chat.mjs';

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

  test('an imported chat whose model is not in the catalog is continued with a model picked on the chat', async () => {
    const owner = await createUser({ prefix: 'bimpc' });
    await setCredits(owner.id, 100000);
    const { job } = await imported(owner, sample('chatgpt-conversations.json'), 'conversations.json');
    assert.equal(job?.status, 'done', JSON.stringify(job));
    const { context, page, errors } = await newPage(browser);
    try {
      await signIn(page, owner.user, owner.password);
      await page.getByTestId('conversation-link').filter({ hasText: 'Sourdough starter feeding schedule' }).click();
      const choice = page.getByTestId('continue-chat');
      await choice.waitFor({ timeout: WAIT_MS });
      assert.match(await page.getByTestId('continue-reason').innerText(), /not in the catalog/);
      const answersBefore = await page.locator('[data-testid="message"][data-sender-type="ai"]').count();

      await choice.getByLabel('Model', { exact: true }).selectOption({ label: 'GPT-4o mini' });
      await page.getByTestId('continue-use').click();
      await choice.waitFor({ state: 'hidden', timeout: WAIT_MS });
      assert.match(await page.getByTestId('chat-subtitle').innerText(), /GPT-4o mini/);

      await page.getByLabel('Message', { exact: true }).fill('How often in winter?');
      await page.getByTestId('send').click();
      const answers = page.locator('[data-testid="message"][data-sender-type="ai"]');
      await page.waitForFunction(
        (n) => document.querySelectorAll('[data-testid="message"][data-sender-type="ai"]').length > n,
        answersBefore,
        { timeout: WAIT_MS },
      );
      await page.getByTestId('send').and(page.locator(':enabled')).waitFor({ timeout: WAIT_MS });
      assert.match(await answers.last().innerText(), /GPT-4o mini/);
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
