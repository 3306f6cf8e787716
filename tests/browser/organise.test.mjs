// Organise and find in the chat sidebar, in a real browser: make a tag,
// select chats with a click and a shift-click, tag them in one go, filter
// the list by the tag; rename, recolour and delete a tag; filter by two tags,
// any or all of them; archive and unarchive in bulk, with the archived chats
// shown; select all that match a filter (counted by the server, past the
// page shown) and archive them in one request; delete in bulk and restore; search a word of a branch that is not
// shown and open the result, which shows that branch with the message
// highlighted; search with a tag and a date range, save it, and open it again
// after a reload; summarise a selection as a job and see the summaries in
// the list. As the seeded user demo; everything made is deleted after.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { apiAs, assertNoPageErrors, ensureCredits, launch, newPage, signIn, unique, url, waitUntil } from './lib.mjs';

const created = { conversations: [], tags: [], saved: [] };

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

async function makeTag(name, color = '#3b82f6') {
  const res = await apiAs('demo', 'demo', 'POST', '/tags', { name, color });
  assert.equal(res.status, 201, res.text);
  created.tags.push(res.json.id);
  return res.json;
}

async function tagChat(conv, tag) {
  const res = await apiAs('demo', 'demo', 'PUT', `/conversations/${conv.id}/tags/${tag.id}`);
  assert.equal(res.status, 200, res.text);
}

/** The day n days from today (UTC, as the API reads a date), YYYY-MM-DD. */
function day(n) {
  return new Date(Date.now() + n * 86400000).toISOString().slice(0, 10);
}

/** A chat's link in the list. */
function chatLink(page, conv) {
  return page.locator(`[data-testid="conversation-link"][data-id="${conv.id}"]`);
}

/** Wait until the list shows exactly these chats. */
async function listShows(page, convs) {
  await waitUntil(page, (ids) => {
    const shown = [...document.querySelectorAll('[data-testid="conversation-link"]')].map((a) => a.dataset.id);
    return shown.length === ids.length && ids.every((id) => shown.includes(id));
  }, convs.map((c) => c.id), async () => `list: ${await page.locator('#chat-list').innerText()}`);
}

/** Wait until the message search's results are of exactly these chats. */
async function resultsOf(page, convs) {
  await waitUntil(page, (ids) => {
    const shown = new Set([...document.querySelectorAll('[data-testid="search-result"]')].map((a) => a.dataset.conversationId));
    return shown.size === ids.length && ids.every((id) => shown.has(id));
  }, convs.map((c) => c.id), async () => `results: ${await page.getByTestId('search-results').innerText()}`);
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
    for (const id of created.saved) await apiAs('demo', 'demo', 'DELETE', `/saved-searches/${id}`);
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

  test('rename and recolour a tag: the tag list and the chat show it; delete it once confirmed', async () => {
    const tag = await makeTag(unique('colour'), '#3b82f6');
    const conv = await conversation(`${tag.name} chat`);
    await tagChat(conv, tag);
    const renamed = unique('renamed');
    const { context, page, errors } = await newPage(browser);
    try {
      await signIn(page, 'demo', 'demo');
      await page.goto(url('/chat/#/chat'));
      const filterButton = page.locator(`[data-testid="tag-filter"][data-tag-id="${tag.id}"]`);
      const chip = chatLink(page, conv).getByTestId('conv-tag');
      await waitUntil(page, (name) => [...document.querySelectorAll('[data-testid="conv-tag"]')].some((c) => c.textContent === name), tag.name,
        async () => `list: ${await page.locator('#chat-list').innerText()}`);

      await page.locator(`[data-testid="tag-edit"][data-tag-id="${tag.id}"]`).click();
      const form = page.getByTestId('tag-edit-form');
      assert.equal(await form.getByRole('textbox', { name: 'Name', exact: true }).inputValue(), tag.name);
      await form.getByTestId('tag-edit-name').fill(renamed);
      await form.getByTestId('tag-edit-color').fill('#12ab34');
      await form.getByRole('button', { name: 'Save' }).click();
      await form.waitFor({ state: 'detached' });
      await waitUntil(page, ([id, name]) =>
        document.querySelector(`[data-testid="tag-filter"][data-tag-id="${id}"] .tag-name`)?.textContent === name
          && [...document.querySelectorAll('[data-testid="conv-tag"]')].some((c) => c.textContent === name), [tag.id, renamed],
      async () => `tags: ${await page.getByTestId('tag-list').innerText()}; list: ${await page.locator('#chat-list').innerText()}`);
      const green = 'rgb(18, 171, 52)';
      assert.equal(await filterButton.getByTestId('tag-dot').evaluate((e) => getComputedStyle(e).backgroundColor), green);
      assert.equal(await chip.textContent(), renamed);
      assert.equal(await chip.evaluate((e) => getComputedStyle(e).borderTopColor), green);
      const stored = (await apiAs('demo', 'demo', 'GET', '/tags')).json.items.find((t) => t.id === tag.id);
      assert.deepEqual([stored.name, stored.color.toLowerCase()], [renamed, '#12ab34']);

      // Delete asks first; "Keep" keeps it, then it goes once confirmed.
      await page.locator(`[data-testid="tag-edit"][data-tag-id="${tag.id}"]`).click();
      await form.getByTestId('tag-delete').click();
      const prompt = form.getByTestId('tag-delete-prompt');
      await prompt.waitFor();
      assert.ok((await prompt.textContent()).includes(renamed), await prompt.textContent());
      await prompt.getByRole('button', { name: 'Keep' }).click();
      await prompt.waitFor({ state: 'hidden' });
      assert.ok((await apiAs('demo', 'demo', 'GET', '/tags')).json.items.some((t) => t.id === tag.id), 'deleted before it was confirmed');
      await form.getByTestId('tag-delete').click();
      await prompt.getByRole('button', { name: 'Delete tag' }).click();
      await filterButton.waitFor({ state: 'detached' });
      await chip.waitFor({ state: 'detached' });
      assert.equal((await apiAs('demo', 'demo', 'GET', '/tags')).json.items.some((t) => t.id === tag.id), false);
      await chatLink(page, conv).waitFor();
      assertNoPageErrors(errors);
    } finally {
      await context.close();
    }
  });

  test('filter by two tags: "any of them" lists the chats with either, "all of them" those with both', async () => {
    const red = await makeTag(unique('red'), '#dc2626');
    const blue = await makeTag(unique('blue'), '#2563eb');
    const convs = [];
    for (let i = 0; i < 4; i++) convs.push(await conversation(`${red.name} chat ${i}`));
    await tagChat(convs[0], red);
    await tagChat(convs[1], blue);
    await tagChat(convs[2], red);
    await tagChat(convs[2], blue);
    const { context, page, errors } = await newPage(browser);
    try {
      await signIn(page, 'demo', 'demo');
      await page.goto(url('/chat/#/chat'));
      const mode = page.getByTestId('tags-mode');
      await page.locator(`[data-testid="tag-filter"][data-tag-id="${red.id}"]`).click();
      await listShows(page, [convs[0], convs[2]]);
      assert.equal(await mode.isVisible(), false, 'any/all is offered for one tag');
      await page.locator(`[data-testid="tag-filter"][data-tag-id="${blue.id}"]`).click();
      await listShows(page, [convs[0], convs[1], convs[2]]);
      assert.equal(await mode.inputValue(), 'any');
      await mode.selectOption('all');
      await listShows(page, [convs[2]]);
      const res = await apiAs('demo', 'demo', 'GET', `/conversations?tags=${red.id},${blue.id}&tags_mode=all`);
      assert.deepEqual(res.json.items.map((c) => c.id), [convs[2].id]);
      await mode.selectOption('any');
      await listShows(page, [convs[0], convs[1], convs[2]]);
      assertNoPageErrors(errors);
    } finally {
      await context.close();
    }
  });

  test('archive a chat in bulk, show the archived chats, unarchive it in bulk', async () => {
    const conv = await conversation(unique('archive'));
    const { context, page, errors } = await newPage(browser);
    try {
      await signIn(page, 'demo', 'demo');
      await page.goto(url('/chat/#/chat'));
      await selectBox(page, conv).click();
      await selectedCount(page, 1);
      assert.equal(await page.getByTestId('bulk-unarchive').isVisible(), false);
      await page.getByTestId('bulk-archive').click();
      await chatLink(page, conv).waitFor({ state: 'detached' });
      assert.equal((await apiAs('demo', 'demo', 'GET', `/conversations/${conv.id}`)).json.archived, true);

      await page.getByTestId('archived-filter').click();
      assert.equal(await page.getByTestId('archived-filter').getAttribute('aria-pressed'), 'true');
      await chatLink(page, conv).waitFor();
      assert.match(await page.locator('#chat-recent-title').textContent(), /^(Other a|A)rchived chats$/);
      await selectBox(page, conv).click();
      await selectedCount(page, 1);
      assert.equal(await page.getByTestId('bulk-archive').isVisible(), false);
      await page.getByTestId('bulk-unarchive').click();
      await chatLink(page, conv).waitFor({ state: 'detached' });
      assert.equal((await apiAs('demo', 'demo', 'GET', `/conversations/${conv.id}`)).json.archived, false);

      await page.getByTestId('archived-filter').click();
      await chatLink(page, conv).waitFor();
      assertNoPageErrors(errors);
    } finally {
      await context.close();
    }
  });

  test('Select all: the server counts every chat the filter matches, past the page shown, and one request archives them all', async () => {
    const tag = await makeTag(unique('all'), '#16a34a');
    const tagged = [];
    for (let i = 0; i < 25; i++) tagged.push(await conversation(`${tag.name} chat ${i}`));
    for (const conv of tagged) await tagChat(conv, tag);
    const untagged = await conversation(`${tag.name} untagged`);
    const { context, page, errors } = await newPage(browser);
    try {
      await signIn(page, 'demo', 'demo');
      await page.goto(url('/chat/#/chat'));
      await page.locator(`[data-testid="tag-filter"][data-tag-id="${tag.id}"]`).click();
      // A page of 20 shown (newest first), "Load more" for the rest.
      await chatLink(page, tagged[24]).waitFor();
      await page.getByTestId('chat-list-more').waitFor();
      assert.equal(await chatLink(page, tagged[0]).count(), 0, 'the oldest chat is on the first page');

      await page.getByTestId('select-all').click();
      await waitUntil(page, () => document.querySelector('[data-testid="bulk-count"]')?.textContent === 'All 25 matching chats selected', null,
        async () => `bulk count: ${await page.getByTestId('bulk-count').textContent()}`);
      assert.equal(await selectBox(page, tagged[24]).isChecked(), true);
      // The chats past the page are selected too: shown checked once loaded.
      await page.getByTestId('chat-list-more').click();
      await chatLink(page, tagged[0]).waitFor();
      assert.equal(await selectBox(page, tagged[0]).isChecked(), true);

      const request = page.waitForRequest((req) => req.url().endsWith('/conversations/bulk') && req.method() === 'POST');
      await page.getByTestId('bulk-archive').click();
      const sent = (await request).postDataJSON();
      assert.deepEqual(sent, { filter: { tags: tag.id }, action: 'archive' });
      for (const conv of [tagged[0], tagged[24]]) await chatLink(page, conv).waitFor({ state: 'detached' });
      await page.getByTestId('bulk-bar').waitFor({ state: 'hidden' });

      const archived = await apiAs('demo', 'demo', 'GET', `/conversations?tags=${tag.id}&archived=true&limit=100`);
      assert.deepEqual(new Set(archived.json.items.map((c) => c.id)), new Set(tagged.map((c) => c.id)));
      assert.equal((await apiAs('demo', 'demo', 'GET', `/conversations/${untagged.id}`)).json.archived, false);

      // Changing the filter ends "all that match".
      await page.getByTestId('archived-filter').click();
      await chatLink(page, tagged[24]).waitFor();
      await page.getByTestId('select-all').click();
      await waitUntil(page, () => document.querySelector('[data-testid="bulk-count"]')?.textContent === 'All 25 matching chats selected', null,
        async () => `bulk count: ${await page.getByTestId('bulk-count').textContent()}`);
      await page.locator(`[data-testid="tag-filter"][data-tag-id="${tag.id}"]`).click();
      await page.getByTestId('bulk-bar').waitFor({ state: 'hidden' });
      assertNoPageErrors(errors);
    } finally {
      await context.close();
    }
  });

  test('delete two chats in bulk, then Restore brings them back', async () => {
    const name = unique('restore');
    const convs = [await conversation(`${name} chat 0`), await conversation(`${name} chat 1`)];
    const { context, page, errors } = await newPage(browser);
    try {
      await signIn(page, 'demo', 'demo');
      await page.goto(url('/chat/#/chat'));
      await selectBox(page, convs[0]).click();
      await selectBox(page, convs[1]).click();
      await selectedCount(page, 2);
      page.once('dialog', (dialog) => dialog.accept());
      await page.getByTestId('bulk-delete').click();
      for (const conv of convs) await chatLink(page, conv).waitFor({ state: 'detached' });
      assert.equal((await apiAs('demo', 'demo', 'GET', `/conversations/${convs[0].id}`)).status, 404);
      const note = page.getByTestId('bulk-deleted');
      assert.ok((await note.textContent()).includes('2 chats deleted.'), await note.textContent());
      await note.getByRole('button', { name: 'Restore' }).click();
      for (const conv of convs) await chatLink(page, conv).waitFor();
      await note.waitFor({ state: 'hidden' });
      for (const conv of convs) assert.equal((await apiAs('demo', 'demo', 'GET', `/conversations/${conv.id}`)).status, 200);
      assertNoPageErrors(errors);
    } finally {
      await context.close();
    }
  });

  test('a chat deleted earlier is found under "Deleted" and restored from there', async () => {
    const conv = await conversation(unique('trash'));
    assert.equal((await apiAs('demo', 'demo', 'DELETE', `/conversations/${conv.id}`)).status, 204);
    const { context, page, errors } = await newPage(browser);
    try {
      await signIn(page, 'demo', 'demo');
      await page.goto(url('/chat/#/chat'));
      await page.getByTestId('archived-filter').click();
      await page.getByTestId('deleted-filter').click();
      assert.equal(await page.getByTestId('archived-filter').getAttribute('aria-pressed'), 'false', 'Archived goes off');
      await chatLink(page, conv).waitFor();
      assert.match(await page.locator('#chat-recent-title').textContent(), /^(Other d|D)eleted chats$/);
      await selectBox(page, conv).click();
      await selectedCount(page, 1);
      for (const hidden of ['bulk-archive', 'bulk-delete', 'bulk-export', 'bulk-tag-apply']) {
        assert.equal(await page.getByTestId(hidden).isVisible(), false, `${hidden} is offered for a deleted chat`);
      }
      await page.getByTestId('bulk-restore-selected').click();
      await chatLink(page, conv).waitFor({ state: 'detached' });
      assert.equal((await apiAs('demo', 'demo', 'GET', `/conversations/${conv.id}`)).status, 200);

      await page.getByTestId('deleted-filter').click();
      await chatLink(page, conv).waitFor();
      assertNoPageErrors(errors);
    } finally {
      await context.close();
    }
  });

  test('search with a tag and a date range, save it, reload: the saved search gives the same results', async () => {
    const word = unique('heron').replace(/-/g, '');
    const tag = await makeTag(unique('found'), '#9333ea');
    const tagged = await conversation(unique('tagged'));
    const other = await conversation(unique('untagged'));
    await send(tagged.id, { content: `a note about ${word} in the tagged chat` });
    await send(other.id, { content: `a note about ${word} in the other chat` });
    await tagChat(tagged, tag);
    const name = unique('saved');
    const { context, page, errors } = await newPage(browser);
    try {
      await signIn(page, 'demo', 'demo');
      await page.goto(url('/chat/#/chat'));
      await page.getByTestId('message-search').fill(word);
      await resultsOf(page, [tagged, other]);

      const toggle = page.getByTestId('search-filters-toggle');
      assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
      await toggle.click();
      const filters = page.getByTestId('search-filters');
      await filters.locator(`[data-testid="search-tag"][value="${tag.id}"]`).check();
      await resultsOf(page, [tagged]);
      await filters.getByLabel('From', { exact: true }).fill('2001-01-01');
      await filters.getByLabel('To', { exact: true }).fill('2001-12-31');
      await page.getByTestId('search-empty').waitFor();
      await filters.getByLabel('From', { exact: true }).fill(day(-1));
      await filters.getByLabel('To', { exact: true }).fill(day(1));
      await resultsOf(page, [tagged]);
      assert.equal(await toggle.textContent(), 'Filters (3)');

      await page.getByTestId('save-search').click();
      await page.getByTestId('save-search-name').fill(name);
      await page.getByTestId('save-search-form').getByRole('button', { name: 'Save' }).click();
      const saved = page.getByTestId('saved-search').filter({ hasText: name });
      await saved.waitFor();
      const stored = (await apiAs('demo', 'demo', 'GET', '/saved-searches')).json.items.find((s) => s.name === name);
      created.saved.push(stored.id);
      assert.deepEqual(stored.query, { q: word, tags: tag.id, from: day(-1), to: day(1) });

      await page.reload();
      await saved.waitFor();
      assert.equal(await page.getByTestId('message-search').inputValue(), '');
      await saved.click();
      await resultsOf(page, [tagged]);
      assert.equal(await page.getByTestId('message-search').inputValue(), word);
      assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
      assert.equal(await filters.locator(`[data-testid="search-tag"][value="${tag.id}"]`).isChecked(), true);
      assert.equal(await filters.getByLabel('From', { exact: true }).inputValue(), day(-1));
      assert.equal(await filters.getByLabel('To', { exact: true }).inputValue(), day(1));
      assertNoPageErrors(errors);
    } finally {
      await context.close();
    }
  });

  test('search filtered by model, saved and opened again after a reload: the model comes back', async () => {
    const word = unique('egret').replace(/-/g, '');
    const gpt = await conversation(unique('gpt'));
    const res = await apiAs('demo', 'demo', 'POST', '/conversations', { tools: ['claude-3-5-sonnet'], title: unique('claude') });
    assert.equal(res.status, 201, res.text);
    created.conversations.push(res.json.id);
    const claude = res.json;
    await send(gpt.id, { content: `${word} for the first model` });
    await send(claude.id, { content: `${word} for the second model` });
    const name = unique('by-model');
    const { context, page, errors } = await newPage(browser);
    try {
      await signIn(page, 'demo', 'demo');
      await page.goto(url('/chat/#/chat'));
      await page.getByTestId('message-search').fill(word);
      await resultsOf(page, [gpt, claude]);
      await page.getByTestId('search-filters-toggle').click();
      const filters = page.getByTestId('search-filters');
      await filters.getByLabel('Model', { exact: true }).selectOption({ label: 'Claude 3.5 Sonnet' });
      await resultsOf(page, [claude]);

      await page.getByTestId('save-search').click();
      await page.getByTestId('save-search-name').fill(name);
      await page.getByTestId('save-search-form').getByRole('button', { name: 'Save' }).click();
      const saved = page.getByTestId('saved-search').filter({ hasText: name });
      await saved.waitFor();
      const stored = (await apiAs('demo', 'demo', 'GET', '/saved-searches')).json.items.find((s) => s.name === name);
      created.saved.push(stored.id);
      assert.deepEqual(stored.query, { q: word, model: 'claude-3-5-sonnet' });

      await page.reload();
      await saved.click();
      await resultsOf(page, [claude]);
      assert.equal(await filters.getByLabel('Model', { exact: true }).inputValue(), 'claude-3-5-sonnet');
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
