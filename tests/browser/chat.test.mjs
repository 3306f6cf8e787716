// The chat page (#/chat, #/chat/<id>) in a real browser against a running
// site (AICHAT_URL) whose providers point at tests/mock-provider, which
// answers "Mock reply to: <last user message>". Needs the seeded users
// demo/demo and admin/admin and the demo catalog (GPT-4o mini, Claude 3.5
// Sonnet). Models with special behaviour (slow, failing, too expensive) are
// created through the admin API with mock switches in their model id, and
// every test deletes what it created (conversations, models). demo is
// granted credits when it has fewer than 50,000 (answers cost credits).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { poll } from '../lib/poll.mjs';
import {
  apiAs,
  assertNoPageErrors,
  ensureCredits,
  headerCredits,
  launch,
  mainNav,
  navLabels,
  newPage,
  signIn,
  unique,
  url,
  waitUntil,
} from './lib.mjs';

const GPT_MINI = { slug: 'gpt-4o-mini', name: 'GPT-4o mini' };
const CLAUDE = { slug: 'claude-3-5-sonnet', name: 'Claude 3.5 Sonnet' };

const MESSAGE = '[data-testid="message"]';
const ANSWER = `${MESSAGE}[data-sender-type="ai"]`;
const USER_MESSAGE = `${MESSAGE}[data-sender-type="user"]`;

const answers = (page) => page.locator(ANSWER);
const userMessages = (page) => page.locator(USER_MESSAGE);
const composer = (page) => page.getByLabel('Message', { exact: true });

/** The conversation id in the page's hash (#/chat/<id>), or null. */
function conversationId(page) {
  const m = /^#\/chat\/([0-9a-f-]{36})$/i.exec(new URL(page.url()).hash);
  return m ? m[1] : null;
}

/** What the thread shows, for failure messages. */
async function threadText(page) {
  return page
    .locator('[data-testid="chat-page"]')
    .innerText()
    .catch(() => '(no chat page)');
}

/** Open Chat through the navigation bar: the new-chat form. */
async function openChat(page) {
  await mainNav(page).getByRole('link', { name: 'Chat', exact: true }).click();
  await page.getByRole('heading', { name: 'New chat', level: 1 }).waitFor();
  await page.getByRole('heading', { name: 'Start a new chat' }).waitFor();
  await page.getByTestId('model-option').first().waitFor();
}

/** Tick exactly these models (by display name) in the new-chat form. */
async function pickModels(page, names) {
  await page.getByTestId('model-option').first().waitFor();
  for (const box of await page.locator('[data-testid="model-picker"] input:checked').all()) await box.uncheck();
  for (const name of names) await page.getByRole('checkbox', { name, exact: true }).check();
}

/** Type a message in the composer and press Enter. */
async function send(page, text) {
  await composer(page).fill(text);
  await composer(page).press('Enter');
}

/** Wait until the last answer is complete, with exactly this text unless `text` is null. */
async function waitForAnswer(page, text) {
  await waitUntil(
    page,
    ([sel, want]) => {
      const all = document.querySelectorAll(sel);
      const last = all[all.length - 1];
      return (
        last?.dataset.status === 'complete' &&
        (want === null || last.querySelector('[data-testid="message-body"]')?.textContent.trim() === want)
      );
    },
    [ANSWER, text],
    async () => `expected a complete answer${text === null ? '' : ` "${text}"`}; the page shows:\n${await threadText(page)}`,
  );
}

/** Wait until the composer is ready for the next message (no answer streaming). */
async function waitIdle(page) {
  await page.getByTestId('stop').waitFor({ state: 'hidden' });
}

/**
 * Wait until the address names the chat created by the first message
 * (#/chat/<id>) and add its id to `created` (deleted after the test).
 */
async function trackConversation(page, created) {
  await waitUntil(
    page,
    () => /^#\/chat\/[0-9a-f-]{36}$/i.test(location.hash),
    null,
    async () => `expected the address to name the new chat, it is ${page.url()}; the page shows:\n${await threadText(page)}`,
  );
  const id = conversationId(page);
  if (!created.includes(id)) created.push(id);
  return id;
}

/**
 * Start a chat with GPT-4o mini from the Chat page, send `text`, wait for the
 * answer ("Mock reply to: <text>" unless `plain` is false: Markdown renders
 * to other text); returns the conversation id.
 */
async function startChat(page, text, created, { plain = true } = {}) {
  await openChat(page);
  await pickModels(page, [GPT_MINI.name]);
  await send(page, text);
  const id = await trackConversation(page, created);
  await waitForAnswer(page, plain ? `Mock reply to: ${text}` : null);
  await waitIdle(page);
  return id;
}

/** Delete demo's chats made by a test (ids), checking each went. */
async function deleteConversations(ids) {
  for (const id of ids) {
    const res = await apiAs('demo', 'demo', 'DELETE', `/conversations/${id}`);
    assert.equal(res.status, 204, `DELETE /conversations/${id}: ${res.text}`);
  }
}

async function createTool(fields) {
  const res = await apiAs('admin', 'admin', 'POST', '/admin/tools', {
    provider: 'openai',
    description: 'A model made by the chat browser tests.',
    ...fields,
  });
  assert.equal(res.status, 201, `POST /admin/tools: ${res.text}`);
  return res.json;
}

/**
 * Remove a model made by a test. A model that chats still refer to (even
 * deleted ones) cannot be deleted: it is deactivated instead, which takes it
 * out of the catalog.
 */
async function removeTool(slug) {
  const res = await apiAs('admin', 'admin', 'DELETE', `/admin/tools/${slug}`);
  if (res.status === 204) return;
  const off = await apiAs('admin', 'admin', 'PATCH', `/admin/tools/${slug}`, { is_active: false });
  assert.equal(off.status, 200, `DELETE /admin/tools/${slug} (${res.status}: ${res.text}), then PATCH is_active=false: ${off.text}`);
}

/** The chats of demo that use this model (any page of them is enough to see "none"). */
async function conversationsWithTool(slug) {
  const res = await apiAs('demo', 'demo', 'GET', `/conversations?tool=${encodeURIComponent(slug)}&limit=100`);
  assert.equal(res.status, 200, `GET /conversations?tool=${slug}: ${res.text}`);
  return res.json.items;
}

const formatCount = (n) => new Intl.NumberFormat('en-US').format(n);

describe('the chat page', () => {
  let browser;

  before(async () => {
    // Every answer reserves its estimate (context + max_tokens) first: keep
    // demo well above that, whatever earlier runs spent.
    await ensureCredits('demo', 'demo', 50000);
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
  });

  test('start a chat with GPT-4o mini, see the streamed answer, its token use and the chat in the sidebar', async () => {
    const { context, page, errors } = await newPage(browser);
    const created = [];
    try {
      await signIn(page, 'demo', 'demo');
      assert.equal((await navLabels(page))[0], 'Chat', 'Chat comes first');

      await openChat(page);
      assert.equal(
        await mainNav(page).getByRole('link', { name: 'Chat', exact: true }).getAttribute('aria-current'),
        'page',
      );
      await pickModels(page, [GPT_MINI.name]);

      const streamed = page.waitForResponse(
        (r) => r.request().method() === 'POST' && /\/conversations\/[^/]+\/messages$/.test(new URL(r.url()).pathname),
      );
      await send(page, 'Hello there');
      const id = await trackConversation(page, created);
      const response = await streamed;
      assert.match(response.headers()['content-type'] ?? '', /^text\/event-stream/, 'the answer is streamed');

      await waitForAnswer(page, 'Mock reply to: Hello there');
      await waitIdle(page);

      // The question, then the answer, each with its sender.
      assert.equal(await userMessages(page).count(), 1);
      assert.equal(await answers(page).count(), 1);
      const question = userMessages(page).first();
      const answer = answers(page).first();
      assert.equal((await question.getByTestId('message-body').textContent()).trim(), 'Hello there');
      assert.equal((await question.getByTestId('message-sender').textContent()).trim(), 'Demo User');
      assert.equal((await answer.getByTestId('message-sender').textContent()).trim(), GPT_MINI.name);

      // Token use as the API counted it.
      const thread = await apiAs('demo', 'demo', 'GET', `/conversations/${id}/messages`);
      assert.equal(thread.status, 200);
      const stored = thread.json.items.find((m) => m.sender_type === 'ai');
      const total = stored.prompt_tokens + stored.completion_tokens;
      assert.ok(total > 0, 'the answer used tokens');
      const want = `${formatCount(total)} ${total === 1 ? 'token' : 'tokens'}${stored.tokens_estimated ? ' (estimated)' : ''}`;
      await waitUntil(
        page,
        ([sel, text]) => document.querySelector(`${sel} [data-testid="message-tokens"]`)?.textContent.trim() === text,
        [ANSWER, want],
        async () => `expected "${want}" under the answer; the page shows:\n${await threadText(page)}`,
      );

      // The chat is in the sidebar, titled after the message, marked as the current one.
      // (The app reads the conversation again after the answer: wait for it.)
      const link = page.locator(`[data-testid="conversation-link"][data-id="${id}"]`);
      await link.waitFor();
      await waitUntil(
        page,
        (sel) => document.querySelector(`${sel} [data-testid="conversation-title"]`)?.textContent.trim() === 'Hello there',
        `[data-testid="conversation-link"][data-id="${id}"]`,
        async () => `the sidebar titles the chat "${(await link.getByTestId('conversation-title').textContent()).trim()}"`,
      );
      assert.equal(await link.getAttribute('aria-current'), 'page');
      await page.getByRole('heading', { name: 'Hello there', level: 1 }).waitFor();

      // A reload shows the same conversation from the server.
      await page.reload();
      await page.getByRole('heading', { name: 'Hello there', level: 1 }).waitFor();
      await waitForAnswer(page, 'Mock reply to: Hello there');

      // Pinned chats come first, under their own heading.
      await page.getByRole('button', { name: 'Pin', exact: true }).click();
      await page.getByRole('button', { name: 'Unpin', exact: true }).waitFor();
      await page.locator(`[data-testid="pinned-list"] [data-id="${id}"]`).waitFor();
      await page.getByRole('heading', { name: 'Pinned', level: 2 }).waitFor();

      // Search as you type over the titles.
      const search = page.getByLabel('Search chats');
      await search.pressSequentially('hello TH', { delay: 40 });
      await waitUntil(
        page,
        (chat) => {
          const lists = document.getElementById('chat-list');
          if (!lists || lists.hasAttribute('aria-busy')) return false;
          const titles = [...lists.querySelectorAll('[data-testid="conversation-title"]')].map((t) => t.textContent);
          return (
            lists.querySelector(`[data-id="${chat}"]`) !== null &&
            titles.every((t) => t.toLowerCase().includes('hello th'))
          );
        },
        id,
        async () => `expected only chats titled "…hello th…"; the sidebar shows:\n${await page.locator('#chat-list').innerText()}`,
      );
      await search.fill('');
      await search.pressSequentially('zq-no-such-chat', { delay: 20 });
      await page.getByText('No chats match “zq-no-such-chat”.').waitFor();
      assert.equal(await page.locator('#chat-list [data-testid="conversation-link"]').count(), 0);
      assertNoPageErrors(errors);
    } finally {
      await deleteConversations(created);
      await context.close();
    }
  });

  test('Markdown is rendered (table, code with Copy, links) and HTML in a message stays text', async () => {
    const { context, page, errors } = await newPage(browser, { permissions: ['clipboard-read', 'clipboard-write'] });
    const created = [];
    try {
      await signIn(page, 'demo', 'demo');
      const markdown = [
        'Here is a table:',
        '',
        '| Fruit | Count |',
        '|---|---|',
        '| Apple | 3 |',
        '',
        '```python',
        'print("hi")',
        '```',
        '',
        'See [the docs](https://example.com/docs) or [click me](javascript:window.__xss=1).',
      ].join('\n');
      await startChat(page, markdown, created, { plain: false });

      const answer = answers(page).last();
      await answer.getByRole('table').waitFor();
      assert.equal(await answer.getByRole('columnheader').count(), 2);
      assert.equal((await answer.getByRole('columnheader').first().textContent()).trim(), 'Fruit');
      await answer.getByRole('cell', { name: 'Apple' }).waitFor();

      const code = answer.getByTestId('code-block');
      assert.equal(await code.count(), 1, 'one code block');
      assert.equal((await code.locator('pre').textContent()).trim(), 'print("hi")');
      const copy = code.getByRole('button', { name: 'Copy code' });
      await copy.click();
      await waitUntil(
        page,
        (sel) => document.querySelector(`${sel} [data-testid="copy-code"]`)?.textContent.trim() === 'Copied',
        ANSWER,
        'the Copy button says Copied',
      );
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), 'print("hi")');

      const docs = answer.getByRole('link', { name: 'the docs' });
      assert.equal(await docs.getAttribute('href'), 'https://example.com/docs');
      assert.equal(await docs.getAttribute('target'), '_blank');
      assert.equal(await docs.getAttribute('rel'), 'noopener noreferrer');
      const bad = await answer.locator('a').evaluateAll((links) => links.map((a) => a.getAttribute('href') ?? ''));
      assert.ok(!bad.some((href) => /^\s*javascript:/i.test(href)), `no javascript: link (${bad.join(', ')})`);

      // HTML written in a message is shown as text and never runs.
      const html = 'Look: <img src=x onerror=window.__xss=1> and <script>window.__xss=1</script> done';
      await send(page, html);
      await waitForAnswer(page, `Mock reply to: ${html}`);
      await waitIdle(page);
      const question = userMessages(page).last();
      assert.equal((await question.getByTestId('message-body').textContent()).trim(), html);
      const thread = page.getByTestId('chat-thread');
      assert.equal(await thread.locator('img, script, iframe').count(), 0, 'no element was made from the HTML');
      assert.equal(await page.evaluate(() => typeof window.__xss), 'undefined');
      await copy.click().catch(() => {}); // any handler left behind would have run by now
      assert.equal(await page.evaluate(() => typeof window.__xss), 'undefined');
      assertNoPageErrors(errors);
    } finally {
      await deleteConversations(created);
      await context.close();
    }
  });

  test('Regenerate adds a second answer; ‹ › switch between 1/2 and 2/2', async () => {
    const { context, page, errors } = await newPage(browser);
    const created = [];
    try {
      await signIn(page, 'demo', 'demo');
      await startChat(page, 'Tell me a joke', created);
      const first = await answers(page).last().getAttribute('data-message-id');
      assert.equal(await answers(page).last().getByTestId('sibling-nav').count(), 0, 'no arrows with one answer');

      await answers(page).last().getByRole('button', { name: 'Regenerate' }).click();
      await waitUntil(
        page,
        ([sel, old]) => {
          const all = document.querySelectorAll(sel);
          const last = all[all.length - 1];
          return all.length === 1 && last.dataset.messageId !== old && last.dataset.status === 'complete';
        },
        [ANSWER, first],
        async () => `expected one new answer in place of the first; the page shows:\n${await threadText(page)}`,
      );
      await waitIdle(page);
      const answer = answers(page).last();
      const second = await answer.getAttribute('data-message-id');
      assert.equal((await answer.getByTestId('message-body').textContent()).trim(), 'Mock reply to: Tell me a joke');
      assert.equal((await answer.getByTestId('sibling-position').textContent()).trim(), '2/2');
      assert.ok(await answer.getByRole('button', { name: 'Next version' }).isDisabled());

      await answer.getByRole('button', { name: 'Previous version' }).click();
      await waitUntil(
        page,
        ([sel, want]) => document.querySelector(sel)?.dataset.messageId === want,
        [ANSWER, first],
        'the first answer is shown again',
      );
      const back = answers(page).last();
      assert.equal((await back.getByTestId('sibling-position').textContent()).trim(), '1/2');
      assert.equal((await back.getByTestId('message-body').textContent()).trim(), 'Mock reply to: Tell me a joke');
      assert.ok(await back.getByRole('button', { name: 'Previous version' }).isDisabled());

      // The choice is the server's: a reload shows the first answer still.
      await page.reload();
      await waitForAnswer(page, 'Mock reply to: Tell me a joke');
      assert.equal(await answers(page).last().getAttribute('data-message-id'), first);
      assert.equal((await answers(page).last().getByTestId('sibling-position').textContent()).trim(), '1/2');

      await answers(page).last().getByRole('button', { name: 'Next version' }).click();
      await waitUntil(
        page,
        ([sel, want]) => document.querySelector(sel)?.dataset.messageId === want,
        [ANSWER, second],
        'the second answer is shown again',
      );
      assertNoPageErrors(errors);
    } finally {
      await deleteConversations(created);
      await context.close();
    }
  });

  test('editing a message makes a new branch with its own answer; arrows on the message switch back', async () => {
    const { context, page, errors } = await newPage(browser);
    const created = [];
    try {
      await signIn(page, 'demo', 'demo');
      await startChat(page, 'First question', created);

      await userMessages(page).last().getByRole('button', { name: 'Edit' }).click();
      const editor = page.getByRole('textbox', { name: 'Edit your message' });
      assert.equal(await editor.inputValue(), 'First question');
      await editor.fill('Second question');
      await page.getByRole('button', { name: 'Save and send' }).click();

      await waitForAnswer(page, 'Mock reply to: Second question');
      await waitIdle(page);
      assert.equal(await userMessages(page).count(), 1);
      assert.equal(await answers(page).count(), 1);
      const question = userMessages(page).last();
      assert.equal((await question.getByTestId('message-body').textContent()).trim(), 'Second question');
      assert.equal((await question.getByTestId('sibling-position').textContent()).trim(), '2/2');

      await question.getByRole('button', { name: 'Previous version' }).click();
      await waitForAnswer(page, 'Mock reply to: First question');
      const original = userMessages(page).last();
      assert.equal((await original.getByTestId('message-body').textContent()).trim(), 'First question');
      assert.equal((await original.getByTestId('sibling-position').textContent()).trim(), '1/2');
      assertNoPageErrors(errors);
    } finally {
      await deleteConversations(created);
      await context.close();
    }
  });

  test('the credit balance in the header goes down after an answer', async () => {
    const { context, page, errors } = await newPage(browser);
    const created = [];
    try {
      await signIn(page, 'demo', 'demo');
      const before = await headerCredits(page);
      await startChat(page, 'How much does this cost?', created);
      await waitUntil(
        page,
        (start) => Number(document.querySelector('[data-testid="credits"]')?.dataset.value) < start,
        before,
        async () => `the header still shows ${await headerCredits(page)} credits (was ${before})`,
      );
      const shown = await headerCredits(page);
      const me = await apiAs('demo', 'demo', 'GET', '/me');
      assert.equal(shown, me.json.token_credits, 'the header shows the balance the server has');
      assert.equal(
        (await page.getByTestId('credits').textContent()).trim(),
        formatCount(me.json.token_credits),
        'and shows it formatted',
      );
      assertNoPageErrors(errors);
    } finally {
      await deleteConversations(created);
      await context.close();
    }
  });

  test('Stop ends a slow answer; what was written stays, marked Stopped', async () => {
    const slug = unique('chat-slow');
    const { context, page, errors } = await newPage(browser);
    let tool = false;
    const created = [];
    try {
      await createTool({ slug, name: slug, display_name: 'Slow mock', model_id: 'gpt-4o-mini@rate=4;tokens=60' });
      tool = true;
      await signIn(page, 'demo', 'demo');
      // From the catalog's "Start a chat": the new-chat form has the model picked.
      await page.goto(url(`/chat/#/catalog?q=${encodeURIComponent(slug)}`));
      await page.locator(`[data-testid="tool-card"][data-slug="${slug}"] [data-testid="start-chat"]`).click();
      await page.getByRole('heading', { name: 'New chat', level: 1 }).waitFor();
      assert.equal(new URL(page.url()).hash, `#/chat?tool=${encodeURIComponent(slug)}`);
      await page.getByTestId('model-option').first().waitFor();
      assert.ok(await page.getByRole('checkbox', { name: 'Slow mock', exact: true }).isChecked());
      assert.equal(await page.locator('[data-testid="model-picker"] input:checked').count(), 1);

      await send(page, 'Count slowly');
      await trackConversation(page, created);
      await waitUntil(
        page,
        (sel) => /word2\b/.test(document.querySelector(`${sel} [data-testid="message-body"]`)?.textContent ?? ''),
        ANSWER,
        async () => `expected the answer to start arriving; the page shows:\n${await threadText(page)}`,
      );
      const answer = answers(page).last();
      assert.equal((await answer.getByTestId('message-status').textContent()).trim(), 'Writing…');
      await page.getByRole('button', { name: 'Stop' }).click();

      await waitUntil(
        page,
        (sel) => document.querySelector(`${sel} [data-testid="message-status"]`)?.textContent.trim() === 'Stopped',
        ANSWER,
        async () => `expected the answer to be marked Stopped; the page shows:\n${await threadText(page)}`,
      );
      await waitIdle(page);
      assert.ok(await page.getByRole('button', { name: 'Send' }).isEnabled());
      const text = (await answers(page).last().getByTestId('message-body').textContent()).trim();
      assert.match(text, /^word1 word2\b/);
      assert.ok(!/word60/.test(text), `the answer was cut short (${text})`);

      // The server kept the partial answer as incomplete. It learns of the
      // stop at its next write to the closed stream: wait for that, then reload.
      const id = conversationId(page);
      const stored = await poll(
        () => apiAs('demo', 'demo', 'GET', `/conversations/${id}/messages`),
        (res) => res.json?.items?.some((m) => m.sender_type === 'ai' && m.status === 'incomplete'),
        { tries: 150, intervalMs: 100 },
      );
      assert.ok(
        stored.json?.items?.some((m) => m.sender_type === 'ai' && m.status === 'incomplete'),
        `the server did not store the stopped answer as incomplete: ${JSON.stringify(stored.json)}`,
      );
      await page.reload();
      await waitUntil(
        page,
        (sel) => document.querySelector(`${sel} [data-testid="message-status"]`)?.textContent.trim() === 'Stopped',
        ANSWER,
        async () => `after a reload the answer should still be Stopped; the page shows:\n${await threadText(page)}`,
      );
      assert.match((await answers(page).last().getByTestId('message-body').textContent()).trim(), /^word1 word2\b/);
      assertNoPageErrors(errors);
    } finally {
      await deleteConversations(created);
      if (tool) await removeTool(slug);
      await context.close();
    }
  });

  test('an answer the server stopped at its length limit is marked Stopped and says why, also after a reload', async () => {
    const slug = unique('chat-endless');
    const { context, page, errors } = await newPage(browser);
    let tool = false;
    const created = [];
    try {
      // The mock streams this answer forever; the test server keeps 262144 bytes of it.
      await createTool({
        slug, name: slug, display_name: 'Endless mock', model_id: 'gpt-4o-mini@forever=1', default_settings: { max_tokens: 20000 },
      });
      tool = true;
      await signIn(page, 'demo', 'demo');
      await page.goto(url(`/chat/#/chat?tool=${encodeURIComponent(slug)}`));
      await page.getByTestId('model-option').first().waitFor();
      await send(page, 'Never stop');
      await trackConversation(page, created);
      const stopped = async (what) => {
        await waitUntil(
          page,
          (sel) => document.querySelector(sel)?.dataset.status === 'incomplete',
          ANSWER,
          async () => `expected the answer to be stopped${what}; the page shows:\n${(await threadText(page)).slice(0, 500)}`,
        );
        const answer = answers(page).last();
        assert.equal((await answer.getByTestId('message-status').textContent()).trim(), 'Stopped');
        const error = answer.getByTestId('message-error');
        assert.ok(await error.isVisible(), `the reason is not shown${what}`);
        assert.match(await error.textContent(), /limit of 262144 bytes/);
      };
      await stopped('');
      await waitIdle(page);
      await page.reload();
      await stopped(' after a reload');
      assertNoPageErrors(errors);
    } finally {
      await deleteConversations(created);
      if (tool) await removeTool(slug);
      await context.close();
    }
  });

  test('a provider error is shown in the thread; without enough credits the text stays in the composer', async () => {
    const failing = unique('chat-429');
    const costly = unique('chat-costly');
    const { context, page, errors } = await newPage(browser);
    const tools = [];
    const created = [];
    try {
      await createTool({ slug: failing, name: failing, display_name: 'Busy mock', model_id: 'gpt-4o-mini@error=429' });
      tools.push(failing);
      await createTool({
        slug: costly,
        name: costly,
        display_name: 'Costly mock',
        model_id: 'gpt-4o-mini',
        default_settings: { max_tokens: 2000000000 },
      });
      tools.push(costly);
      await signIn(page, 'demo', 'demo');

      // 429 upstream: the question is kept, the answer says what went wrong.
      await page.goto(url(`/chat/#/chat?tool=${encodeURIComponent(failing)}`));
      await page.getByTestId('model-option').first().waitFor();
      await send(page, 'Are you there?');
      await trackConversation(page, created);
      await waitUntil(
        page,
        (sel) => document.querySelector(sel)?.dataset.status === 'error',
        ANSWER,
        async () => `expected a failed answer; the page shows:\n${await threadText(page)}`,
      );
      await waitIdle(page);
      const error = answers(page).last().getByTestId('message-error');
      assert.ok(await error.isVisible(), 'the failure is shown');
      assert.match(await error.textContent(), /rate|429|too many/i);
      assert.equal((await userMessages(page).last().getByTestId('message-body').textContent()).trim(), 'Are you there?');
      assert.equal(await composer(page).inputValue(), '', 'the question was sent, so the composer is empty');

      // 402: nothing is stored, the text stays, no empty chat is left behind.
      await page.goto(url(`/chat/#/chat?tool=${encodeURIComponent(costly)}`));
      await page.getByTestId('model-option').first().waitFor();
      await send(page, 'Will this fit?');
      const notice = page.getByTestId('chat-error');
      await notice.waitFor();
      assert.match(await notice.textContent(), /not enough credits/i);
      await waitIdle(page);
      assert.equal(await composer(page).inputValue(), 'Will this fit?');
      assert.equal(await page.locator(MESSAGE).count(), 0, 'no message is shown');
      assert.equal(conversationId(page), null, 'the address is the new-chat form again');
      await page.getByRole('heading', { name: 'Start a new chat' }).waitFor();
      assert.deepEqual(await conversationsWithTool(costly), [], 'no empty chat is left behind');
      assertNoPageErrors(errors);
    } finally {
      await deleteConversations(created);
      for (const slug of tools) await removeTool(slug);
      await context.close();
    }
  });

  test('a group chat: two models answer in turn, labelled, the first responder marked; a person is invited', async () => {
    const { context, page, errors } = await newPage(browser);
    const created = [];
    try {
      await signIn(page, 'demo', 'demo');
      await openChat(page);
      await pickModels(page, [GPT_MINI.name, CLAUDE.name]);
      await page.getByTestId('group-hint').waitFor();
      await page.getByLabel('Invite people (optional)').fill('admin');
      await send(page, 'Hello everyone');
      const id = await trackConversation(page, created);

      await waitUntil(
        page,
        (sel) => {
          const all = [...document.querySelectorAll(sel)];
          return all.length === 2 && all.every((a) => a.dataset.status === 'complete');
        },
        ANSWER,
        async () => `expected two complete answers; the page shows:\n${await threadText(page)}`,
      );
      await waitIdle(page);
      const senders = await answers(page)
        .getByTestId('message-sender')
        .evaluateAll((els) => els.map((e) => e.textContent.trim()));
      assert.deepEqual([...senders].sort(), [CLAUDE.name, GPT_MINI.name].sort(), 'each answer names its model');
      assert.equal(await answers(page).getByTestId('first-responder').count(), 1, 'one first responder');
      assert.equal(
        await answers(page).first().getByTestId('first-responder').count(),
        1,
        'the first answer is the first responder',
      );

      const conv = await apiAs('demo', 'demo', 'GET', `/conversations/${id}`);
      assert.equal(conv.status, 200);
      assert.ok(conv.json.participants.some((p) => p.username === 'admin'), 'admin was invited');
      const admin = conv.json.participants.find((p) => p.username === 'admin');
      await waitUntil(
        page,
        (name) => (document.querySelector('[data-testid="chat-subtitle"]')?.textContent ?? '').includes(name),
        admin.display_name || 'admin',
        'the header names the invited person',
      );
      assertNoPageErrors(errors);
    } finally {
      await deleteConversations(created);
      await context.close();
    }
  });

  test('a catalog of more than one page of models: the new-chat form lists every one', async () => {
    // The catalog answers at most 100 models a page; 101 more than the demo
    // catalog's make at least two pages, and the new ones come last.
    const prefix = unique('chat-many');
    const slugs = Array.from({ length: 101 }, (_, i) => `${prefix}-${String(i).padStart(3, '0')}`);
    const made = [];
    const { context, page, errors } = await newPage(browser);
    try {
      for (const slug of slugs) {
        await createTool({ slug, name: slug, display_name: `Many ${slug.slice(-3)}`, model_id: 'gpt-4o-mini' });
        made.push(slug);
      }
      await signIn(page, 'demo', 'demo');
      await openChat(page);
      await page.locator(`[data-testid="model-option"][data-slug="${slugs[100]}"]`).waitFor();
      const shown = await page.getByTestId('model-option').evaluateAll((items) => items.map((li) => li.dataset.slug));
      assert.deepEqual(
        slugs.filter((s) => !shown.includes(s)),
        [],
        'every model made is offered',
      );
      assert.ok(shown.includes(GPT_MINI.slug), 'the demo catalog is offered too');
      assert.equal(new Set(shown).size, shown.length, 'no model twice');
      assertNoPageErrors(errors);
    } finally {
      await context.close();
      for (const slug of made) await removeTool(slug);
    }
  });
});
