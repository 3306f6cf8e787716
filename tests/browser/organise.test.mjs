// Organise and find in the chat sidebar, in a real browser: make a tag,
// select chats with a click and a shift-click, tag them in one go, filter
// the list by the tag; search a word of a branch that is not shown and open
// the result, which shows that branch with the message highlighted;
// summarise a selection as a job and see the summaries in the list. As the
// seeded user demo; everything made is deleted after.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { apiAs, assertNoPageErrors, ensureCredits, launch, newPage, signIn, unique, url, waitUntil } from './lib.mjs';

const created = { conversations: [], tags: [] };

async function conversation(title) {
  const res = await apiAs('demo', 'demo', 'POST', '/conversations', { tools: ['gpt-4o-mini'], title });
  assert.equal(res.status, 201, res.text);
  created.conversations.push(res.json.id);
  return res.json;
}

async function send(id, body) {
  const res = await apiAs('demo', 'demo', 'POST', `/conversations/${id}/messages`, body);
  assert.equal(res.status, 201, res.text);
  return res.json;
}

/** A chat's checkbox in the list. */
function selectBox(page, conv) {
  return page.locator(`input[data-testid="conv-select"][value="${conv.id}"]`);
}

/** Wait until the bulk bar counts n selected chats. */
async function selectedCount(page, n) {
  await waitUntil(page, (want) => document.querySelector('[data-testid="bulk-count"]')?.textContent === `${want} selected`, n,
    async () => `bulk count: ${await page.getByTestId('bulk-count').textContent()}`);
}

describe('organise and find', () => {
  let browser;

  before(async () => {
    await ensureCredits('demo', 'demo', 50000);
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    for (const id of created.conversations) await apiAs('demo', 'demo', 'DELETE', `/conversations/${id}`);
    for (const id of created.tags) await apiAs('demo', 'demo', 'DELETE', `/tags/${id}`);
  });

  test('select three chats with click and shift-click, tag them in one go, filter the list by the tag', async () => {
    const name = unique('tag');
    const convs = [];
    for (let i = 0; i < 4; i++) convs.push(await conversation(`${name} chat ${i}`));
    const { context, page, errors } = await newPage(browser);
    try {
      await signIn(page, 'demo', 'demo');
      await page.goto(url('/chat/#/chat'));
      await page.getByTestId('new-tag-name').fill(name);
      await page.getByTestId('new-tag-form').getByRole('button', { name: 'Add' }).click();
      const filterButton = page.getByTestId('tag-filter').filter({ hasText: name });
      await filterButton.waitFor();
      const tagId = await filterButton.getAttribute('data-tag-id');
      created.tags.push(tagId);

      // The newest chats come first: chat 3, 2, 1, 0. Click 3, shift-click 1.
      const box = (i) => selectBox(page, convs[i]);
      await box(3).click();
      await box(1).click({ modifiers: ['Shift'] });
      await selectedCount(page, 3);
      assert.equal(await box(2).isChecked(), true, 'the chat between was not selected by the shift-click');
      assert.equal(await box(0).isChecked(), false);
      await page.getByTestId('bulk-tag').selectOption(tagId);
      await page.getByTestId('bulk-tag-apply').click();
      await waitUntil(page, (id) => document.querySelector(`[data-tag-id="${id}"] [data-testid="tag-count"]`)?.textContent === '3', tagId,
        async () => `tag count: ${await filterButton.textContent()}`);

      await filterButton.click();
      await waitUntil(page, () => document.querySelectorAll('[data-testid="recent-list"] [data-testid="conversation-link"]').length === 3
        && document.querySelectorAll('[data-testid="conversation-link"]').length === 3, null,
      async () => `list: ${await page.getByTestId('recent-list').innerText()}`);
      const shown = await page.locator('[data-testid="conversation-link"]').evaluateAll((links) => links.map((a) => a.dataset.id));
      assert.deepEqual(new Set(shown), new Set([convs[1].id, convs[2].id, convs[3].id]));
      const res = await apiAs('demo', 'demo', 'GET', `/conversations?tags=${tagId}`);
      assert.deepEqual(new Set(res.json.items.map((c) => c.id)), new Set(shown));
      assertNoPageErrors(errors);
    } finally {
      await context.close();
    }
  });

  test('"With notes" keeps the chats with a note in the list', async () => {
    const name = unique('notes');
    const noted = await conversation(`${name} noted`);
    const plain = await conversation(`${name} plain`);
    const answer = (await send(noted.id, { content: 'something to annotate' })).answers[0];
    const quote = answer.content.slice(0, 4);
    const note = await apiAs('demo', 'demo', 'POST', `/conversations/${noted.id}/annotations`, {
      message_id: answer.id, position: { start: 0, end: quote.length, quote }, note: 'a note',
    });
    assert.equal(note.status, 201, note.text);
    const { context, page, errors } = await newPage(browser);
    try {
      await signIn(page, 'demo', 'demo');
      await page.goto(url('/chat/#/chat'));
      const shown = (id) => page.locator(`[data-testid="conversation-link"][data-id="${id}"]`);
      await shown(plain.id).waitFor();
      await page.getByTestId('notes-filter').click();
      await shown(plain.id).waitFor({ state: 'detached' });
      await shown(noted.id).waitFor();
      assert.equal(await page.getByTestId('notes-filter').getAttribute('aria-pressed'), 'true');
      await page.getByTestId('notes-filter').click();
      await shown(plain.id).waitFor();
      assertNoPageErrors(errors);
    } finally {
      await context.close();
    }
  });

  test('export two selected chats: the ZIP downloaded holds them and no other', async () => {
    const name = unique('export');
    const convs = [];
    for (let i = 0; i < 3; i++) convs.push(await conversation(`${name} chat ${i}`));
    const { context, page, errors } = await newPage(browser);
    const dir = mkdtempSync(join(tmpdir(), 'aichat-bexp-'));
    try {
      await signIn(page, 'demo', 'demo');
      await page.goto(url('/chat/#/chat'));
      const box = (i) => selectBox(page, convs[i]);
      await box(2).click();
      await box(0).click();
      await selectedCount(page, 2);
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('bulk-export').click()]);
      assert.equal(download.suggestedFilename(), 'aichat-export.zip');
      const file = join(dir, 'x.zip');
      await download.saveAs(file);
      const titles = JSON.parse(execFileSync('unzip', ['-p', file, 'conversations.json']).toString()).map((c) => c.title).sort();
      assert.deepEqual(titles, [`${name} chat 0`, `${name} chat 2`]);
      assertNoPageErrors(errors);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await context.close();
    }
  });

  test('select two chats, Summarise: the job\'s progress ends and each chat shows its summary in the list', async () => {
    // The summary model scripts/dev configures (AIChatSummaryModel summariser), on the mock.
    await apiAs('admin', 'admin', 'DELETE', '/admin/tools/summariser');
    const tool = await apiAs('admin', 'admin', 'POST', '/admin/tools', {
      slug: 'summariser', name: 'Summariser', provider: 'openai', model_id: 'gpt-4o-mini', default_settings: { max_tokens: 200 },
    });
    assert.equal(tool.status, 201, tool.text);
    const name = unique('summarise');
    const convs = [];
    for (let i = 0; i < 3; i++) {
      const conv = await conversation(`${name} chat ${i}`);
      await send(conv.id, { content: `talk ${i} of ${name}` });
      convs.push(conv);
    }
    const { context, page, errors } = await newPage(browser);
    try {
      await signIn(page, 'demo', 'demo');
      await page.goto(url('/chat/#/chat'));
      const box = (i) => selectBox(page, convs[i]);
      await box(2).click();
      await box(0).click();
      await selectedCount(page, 2);
      await page.getByTestId('bulk-summarise').click();
      await waitUntil(page, () => document.querySelector('[data-testid="summary-job-progress"]')?.textContent === 'Summarised 2 of 2 chats.',
        null, async () => `progress: ${await page.getByTestId('summary-job').textContent()}`);
      const summaryOf = (i) => page.locator(`[data-testid="conversation-link"][data-id="${convs[i].id}"] [data-testid="conv-summary"]`);
      for (const i of [0, 2]) {
        await summaryOf(i).waitFor();
        assert.ok((await summaryOf(i).textContent()).includes(`${name} chat ${i}`), await summaryOf(i).textContent());
      }
      assert.equal(await summaryOf(1).count(), 0, 'a chat not selected was summarised');
      assertNoPageErrors(errors);
    } finally {
      await context.close();
    }
  });

  test('search a word of a branch not shown and open the result on that branch, highlighted', async () => {
    const word = unique('fjord').replace(/-/g, '');
    const conv = await conversation(unique('Branches'));
    const first = await send(conv.id, { content: `the first version speaks of ${word}` });
    await send(conv.id, { content: 'the second version speaks of something else', parent_id: null });
    const { context, page, errors } = await newPage(browser);
    try {
      await signIn(page, 'demo', 'demo');
      await page.goto(url(`/chat/#/chat/${conv.id}`));
      await page.getByText('the second version speaks of something else').first().waitFor();
      assert.equal(await page.getByText(`the first version speaks of ${word}`).count(), 0);

      await page.getByTestId('message-search').fill(word);
      const result = page.locator(`[data-testid="search-result"][data-message-id="${first.user_message.id}"]`);
      await result.waitFor();
      assert.equal(await result.locator('mark').first().textContent(), word);
      await result.click();
      const found = page.locator(`article[data-message-id="${first.user_message.id}"][data-found="true"]`);
      await found.waitFor();
      assert.ok((await found.innerText()).includes(word));
      assert.equal(await page.getByText('the second version speaks of something else').count(), 0, 'still on the other branch');
      assertNoPageErrors(errors);
    } finally {
      await context.close();
    }
  });
});
