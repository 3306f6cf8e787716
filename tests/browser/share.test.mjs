// Share links in a real browser against a running site (AICHAT_URL) whose
// providers point at tests/mock-provider ("Mock reply to: <last user
// message>"): the Share dialog of a chat, the pages a link opens (served by
// the module, no sign-in for public links), Shared links (#/shares) and
// Continue a shared chat (#/fork/<token>).
//
// Needs the seeded users demo/demo and admin/admin, the demo catalog's
// GPT-4o mini, and extuser/extpass (known only to the site's htpasswd file,
// as `scripts/dev` sets it up): Shared links is tested as extuser, whose
// links are all this file's, so its list can be expected empty (links left
// by an interrupted earlier run are revoked first). Conversations are made
// through the API; every test revokes its links and deletes its chats.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  apiAs,
  assertNoPageErrors,
  baseUrl,
  ensureCredits,
  launch,
  mainNav,
  newPage,
  signIn,
  submitLogin,
  unique,
  url,
  waitForPath,
  waitUntil,
} from './lib.mjs';

const DEMO = ['demo', 'demo'];
const ADMIN = ['admin', 'admin'];
const EXTUSER = ['extuser', 'extpass'];
const MODEL = 'gpt-4o-mini';

const TOKEN_RE = /^[A-Za-z0-9_-]{32}$/;

// A Markdown table and a fenced code block. The mock echoes the message, so
// the answer ("Mock reply to: Fruit …") has them too.
const MARKDOWN = [
  'Fruit and colours:',
  '',
  '| Fruit | Colour |',
  '| --- | --- |',
  '| Apple | Red |',
  '| Banana | Yellow |',
  '',
  '```c',
  'int answer = 42;',
  '```',
].join('\n');

/** Run an API call as a user that must answer `status`; returns the JSON body. */
async function must(status, [user, password], method, path, body) {
  const res = await apiAs(user, password, method, path, body);
  assert.equal(res.status, status, `${method} ${path} as ${user}: ${res.status} ${res.text.slice(0, 300)}`);
  return res.json;
}

/**
 * A conversation of `owner` with GPT-4o mini, titled `title`, in which each
 * of `messages` was sent (and answered by the mock). Its id is added to
 * `created` ([owner, id] pairs, deleted by deleteChats()).
 */
async function chatWith(owner, title, messages, created) {
  const conv = await must(201, owner, 'POST', '/conversations', { tools: [MODEL], title });
  created.push([owner, conv.id]);
  for (const content of messages) await must(201, owner, 'POST', `/conversations/${conv.id}/messages`, { content });
  return conv;
}

/** PUT /conversations/{id}/share as the owner (must create it): the share. */
function shareChat(owner, convId, body = {}) {
  return must(201, owner, 'PUT', `/conversations/${convId}/share`, body);
}

/** Revoke a chat's link if it still has one, then delete the chats a test made. */
async function deleteChats(created) {
  for (const [owner, id] of created) {
    const revoked = await apiAs(owner[0], owner[1], 'DELETE', `/conversations/${id}/share`);
    assert.ok([204, 404].includes(revoked.status), `DELETE /conversations/${id}/share: ${revoked.text}`);
    const res = await apiAs(owner[0], owner[1], 'DELETE', `/conversations/${id}`);
    assert.equal(res.status, 204, `DELETE /conversations/${id}: ${res.text}`);
  }
}

/** The token at the end of a share URL (…/share/<token> or …/chat/shared/<token>). */
function tokenOf(shareUrl) {
  const token = new URL(shareUrl).pathname.split('/').pop();
  assert.match(token, TOKEN_RE, `a share URL ends in its token: ${shareUrl}`);
  return token;
}

/** What a page shows, for failure messages. */
async function pageText(page) {
  return page
    .locator('body')
    .innerText()
    .catch(() => '(no page)');
}

/** The HTTP status a signed-out browser gets for a URL. */
async function visitorStatus(browser, address) {
  const { context, page } = await newPage(browser);
  try {
    return (await page.goto(address)).status();
  } finally {
    await context.close();
  }
}

/** Open a chat of the signed-in user and its Share dialog; resolves to the dialog (a locator). */
async function openShareDialog(page, convId, title) {
  await page.goto(url(`/chat/#/chat/${convId}`));
  await page.getByRole('heading', { name: title, level: 1 }).waitFor();
  await page.getByRole('button', { name: 'Share', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Share this chat' });
  await dialog.waitFor();
  // Loaded: the form's submit button says what it will do.
  await dialog.getByRole('button', { name: /^(Create link|Save)$/ }).waitFor();
  return dialog;
}

/** Accept the next confirm() the page shows (Revoke asks first). */
function acceptNextConfirm(page) {
  page.once('dialog', (d) => d.accept());
}

/** Wait until the Shared links item of this share shows these views, reloading the page between looks. */
async function waitForViews(page, shareId, expected) {
  const views = page.locator(`[data-testid="share-item"][data-id="${shareId}"] [data-testid="share-views"]`);
  let text = '';
  for (let i = 0; i < 20; i++) {
    await views.waitFor();
    text = (await views.textContent()).trim();
    if (text === expected) return;
    await page.reload();
  }
  assert.equal(text, expected, 'the views Shared links shows for the link');
}

describe('share links', () => {
  let browser;

  before(async () => {
    // Answers reserve credits first: keep everyone who chats well above that.
    await ensureCredits('demo', 'demo', 50000);
    await ensureCredits('admin', 'admin', 50000);
    await ensureCredits('extuser', 'extpass', 50000);
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
  });

  test('share a chat from the Share dialog, open the link signed out, revoke it', async () => {
    const created = [];
    const title = unique('Fruit table');
    const { context, page, errors } = await newPage(browser);
    try {
      const conv = await chatWith(DEMO, title, [MARKDOWN], created);
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseUrl() });
      await signIn(page, 'demo', 'demo');

      const dialog = await openShareDialog(page, conv.id, title);
      assert.equal((await dialog.getByTestId('share-chat-title').textContent()).trim(), title);
      assert.equal(await dialog.getByTestId('share-url').isVisible(), false, 'no link yet');
      await dialog.getByRole('radio', { name: 'Anyone with the link' }).check();
      await dialog.getByLabel('Expires after').selectOption({ label: '1 day' });
      await dialog.getByRole('button', { name: 'Create link' }).click();

      const field = dialog.getByLabel('Link', { exact: true });
      await field.waitFor();
      await waitUntil(
        page,
        () => /\/share\/[A-Za-z0-9_-]{32}$/.test(document.querySelector('[data-testid="share-url"]')?.value ?? ''),
        null,
        async () => `expected the dialog to show the new public link; it shows:\n${await dialog.innerText()}`,
      );
      const shareUrl = await field.inputValue();
      assert.match((await dialog.getByTestId('share-status').textContent()).trim(), /^Link created\./);
      assert.ok(await dialog.getByRole('radio', { name: 'Anyone with the link' }).isChecked());
      assert.equal((await dialog.getByTestId('share-views').textContent()).trim(), '0 views');
      assert.equal((await dialog.getByTestId('share-messages').textContent()).trim(), '2 messages');
      assert.notEqual((await dialog.getByTestId('share-expires').textContent()).trim(), 'Never');
      assert.ok(await dialog.getByRole('button', { name: 'Revoke link' }).isVisible());
      assert.ok(await dialog.getByRole('button', { name: 'Save' }).isVisible(), 'the form now saves changes');

      // What the server made: public, expiring in a day.
      const share = await must(200, DEMO, 'GET', `/conversations/${conv.id}/share`);
      assert.equal(share.url, shareUrl);
      assert.equal(share.is_public, true);
      const inHours = (Date.parse(share.expires_at) - Date.parse(share.created_at)) / 3600e3;
      assert.ok(inHours > 23.9 && inHours < 24.1, `the link expires a day after it was made (${share.created_at} → ${share.expires_at})`);

      await dialog.getByRole('button', { name: 'Copy link' }).click();
      await dialog.getByRole('button', { name: 'Copy link' }).filter({ hasText: 'Copied' }).waitFor();
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), shareUrl, 'Copy put the link on the clipboard');

      // Someone without an account opens it.
      const visitor = await newPage(browser);
      try {
        const res = await visitor.page.goto(shareUrl);
        assert.equal(res.status(), 200, `GET ${shareUrl}`);
        await visitor.page.getByRole('heading', { name: title, level: 1 }).waitFor();
        assert.equal(await visitor.page.locator('main article').count(), 2, 'the question and the answer');
        const question = visitor.page.locator('main article').first();
        const answer = visitor.page.locator('main article').last();
        for (const message of [question, answer]) {
          const table = message.locator('table');
          assert.equal(await table.count(), 1, `a Markdown table becomes a <table>: ${await message.innerHTML()}`);
          assert.deepEqual(
            await table.locator('th').allTextContents(),
            ['Fruit', 'Colour'],
            'the table has its header cells',
          );
          assert.equal((await table.locator('tbody tr').last().innerText()).replace(/\s+/g, ' ').trim(), 'Banana Yellow');
          const code = message.locator('pre > code');
          assert.equal(await code.count(), 1, `a fenced block becomes <pre><code>: ${await message.innerHTML()}`);
          assert.equal((await code.textContent()).trim(), 'int answer = 42;');
        }
        assert.match(await answer.innerText(), /Mock reply to: Fruit and colours:/);
        assertNoPageErrors(visitor.errors);
      } finally {
        await visitor.context.close();
      }

      // Revoke: the dialog goes back to "Create link", the link is gone.
      acceptNextConfirm(page);
      await dialog.getByRole('button', { name: 'Revoke link' }).click();
      await dialog.getByRole('button', { name: 'Create link' }).waitFor();
      assert.match((await dialog.getByTestId('share-status').textContent()).trim(), /^The link was revoked\./);
      assert.equal(await dialog.getByTestId('share-url').isVisible(), false, 'no link is shown any more');
      await must(404, DEMO, 'GET', `/conversations/${conv.id}/share`);

      const late = await newPage(browser);
      try {
        const res = await late.page.goto(shareUrl);
        assert.equal(res.status(), 404, `GET ${shareUrl} after the revoke`);
        await late.page.getByRole('heading', { name: 'This link does not exist', level: 1 }).waitFor();
        assert.equal(await late.page.getByText(title).count(), 0, 'nothing of the chat is shown');
      } finally {
        await late.context.close();
      }

      // Escape closes the dialog.
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });
      assertNoPageErrors(errors);
    } finally {
      await deleteChats(created);
      await context.close();
    }
  });

  test('the dialog changes who can open a link and moves its snapshot; API errors are shown', async () => {
    const created = [];
    const title = unique('Snapshot');
    const { context, page, errors } = await newPage(browser);
    try {
      const conv = await chatWith(DEMO, title, ['First question'], created);
      const first = await shareChat(DEMO, conv.id, { is_public: true, expires_in: null });
      await must(201, DEMO, 'POST', `/conversations/${conv.id}/messages`, { content: 'Second question' });
      await signIn(page, 'demo', 'demo');

      const dialog = await openShareDialog(page, conv.id, title);
      assert.equal(await dialog.getByLabel('Link', { exact: true }).inputValue(), first.url, 'the existing link is shown');
      assert.equal((await dialog.getByTestId('share-expires').textContent()).trim(), 'Never');
      assert.equal((await dialog.getByTestId('share-messages').textContent()).trim(), '2 messages');
      assert.ok(await dialog.getByRole('radio', { name: 'Anyone with the link' }).isChecked());

      await dialog.getByRole('radio', { name: 'Signed-in users only' }).check();
      await dialog.getByRole('checkbox', { name: 'Update snapshot to the latest message' }).check();
      await dialog.getByRole('button', { name: 'Save' }).click();
      await dialog.getByTestId('share-status').filter({ hasText: 'Changes saved.' }).waitFor();
      assert.ok(await dialog.getByRole('radio', { name: 'Signed-in users only' }).isChecked());
      assert.equal((await dialog.getByTestId('share-messages').textContent()).trim(), '4 messages');
      assert.equal((await dialog.getByTestId('share-expires').textContent()).trim(), 'Never', 'the expiry was kept');
      const share = await must(200, DEMO, 'GET', `/conversations/${conv.id}/share`);
      assert.equal(share.is_public, false);
      assert.equal(share.message_count, 4);
      assert.equal(tokenOf(share.url), tokenOf(first.url), 'the same link');
      assert.equal(await dialog.getByLabel('Link', { exact: true }).inputValue(), share.url);

      await dialog.getByRole('button', { name: 'Close' }).click();
      await dialog.waitFor({ state: 'hidden' });

      // A chat without messages has nothing to share: the dialog shows the API's error.
      const emptyTitle = unique('Empty');
      const empty = await must(201, DEMO, 'POST', '/conversations', { tools: [MODEL], title: emptyTitle });
      created.push([DEMO, empty.id]);
      const refused = await apiAs(...DEMO, 'PUT', `/conversations/${empty.id}/share`, {});
      assert.equal(refused.status, 422, `PUT /conversations/${empty.id}/share: ${refused.text}`);
      assert.equal(refused.json.error.code, 'nothing_to_share');
      const emptyDialog = await openShareDialog(page, empty.id, emptyTitle);
      await emptyDialog.getByRole('button', { name: 'Create link' }).click();
      const error = emptyDialog.getByRole('alert');
      await error.waitFor();
      assert.equal((await error.textContent()).trim(), refused.json.error.message);
      assert.equal(await emptyDialog.getByTestId('share-url').isVisible(), false, 'no link was made');
      await page.keyboard.press('Escape');
      await emptyDialog.waitFor({ state: 'hidden' });
      assertNoPageErrors(errors);
    } finally {
      await deleteChats(created);
      await context.close();
    }
  });

  test('"Show notes on the shared page" puts the chat\'s notes on the page a visitor opens; Shared links says so', async () => {
    const created = [];
    const title = unique('Noted');
    const word = unique('quoted').replace(/-/g, '');
    const noteText = `Check this ${unique('note')} <b>twice</b>`;
    const { context, page, errors } = await newPage(browser);
    try {
      const conv = await chatWith(DEMO, title, [], created);
      const { answers } = await must(201, DEMO, 'POST', `/conversations/${conv.id}/messages`, { content: `Tell me about ${word}` });
      const start = answers[0].content.indexOf(word);
      assert.ok(start >= 0, `the answer quotes the question: ${answers[0].content}`);
      await must(201, DEMO, 'POST', `/conversations/${conv.id}/annotations`, {
        message_id: answers[0].id,
        position: { start, end: start + word.length, quote: word },
        note: noteText,
      });
      await signIn(page, 'demo', 'demo');

      const dialog = await openShareDialog(page, conv.id, title);
      const showNotes = dialog.getByRole('checkbox', { name: 'Show notes on the shared page' });
      assert.equal(await showNotes.isChecked(), false, 'notes are not shown unless the owner chooses so');
      assert.equal(await dialog.getByLabel('What the link shows').inputValue(), '', 'a new link shows the chat');
      await dialog.getByRole('radio', { name: 'Anyone with the link' }).check();
      await showNotes.check();
      await dialog.getByRole('button', { name: 'Create link' }).click();
      await dialog.getByTestId('share-status').filter({ hasText: 'Link created.' }).waitFor();
      assert.equal((await dialog.getByTestId('share-notes').textContent()).trim(), 'Shown');
      assert.ok(await showNotes.isChecked(), 'the form shows the link as saved');
      const share = await must(200, DEMO, 'GET', `/conversations/${conv.id}/share`);
      assert.equal(share.show_annotations, true);
      assert.equal(share.version_id, null);

      // Someone without an account opens it: the note is beside the answer, as text.
      const visitor = await newPage(browser);
      try {
        assert.equal((await visitor.page.goto(share.url)).status(), 200, `GET ${share.url}`);
        await visitor.page.getByRole('heading', { name: title, level: 1 }).waitFor();
        const answer = visitor.page.locator('main article').last();
        const notes = answer.locator('aside.notes');
        assert.equal(await notes.count(), 1, `the answer has its notes: ${await answer.innerHTML()}`);
        assert.equal((await notes.locator('blockquote').textContent()).trim(), word, 'the note shows the text it quotes');
        assert.ok((await notes.innerText()).includes(`${noteText} — `), `the note and its author: ${await notes.innerText()}`);
        assert.equal(await notes.locator('b').count(), 0, 'markup in a note stays text');
        assert.equal(await visitor.page.locator('main article').first().locator('aside.notes').count(), 0);
        assertNoPageErrors(visitor.errors);
      } finally {
        await visitor.context.close();
      }

      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });
      await page.goto(url('/chat/#/shares'));
      const item = page.locator(`[data-testid="share-item"][data-id="${share.id}"]`);
      await item.waitFor();
      assert.equal((await item.getByTestId('share-notes').textContent()).trim(), 'Shown');
      assert.equal(await item.getByTestId('share-version').count(), 0, 'the link shows the chat, no version');
      assert.equal((await item.getByTestId('share-messages').textContent()).trim(), '2 messages');
      assertNoPageErrors(errors);
    } finally {
      await deleteChats(created);
      await context.close();
    }
  });

  test('a link can show a version of the chat exactly as it was, and the chat again', async () => {
    const created = [];
    const title = unique('Versioned');
    const comment = unique('before the second');
    const { context, page, errors } = await newPage(browser);
    try {
      const conv = await chatWith(DEMO, title, ['First question'], created);
      const version = await must(201, DEMO, 'POST', `/conversations/${conv.id}/versions`, { comment });
      await must(201, DEMO, 'POST', `/conversations/${conv.id}/messages`, { content: 'Second question' });
      await signIn(page, 'demo', 'demo');

      let dialog = await openShareDialog(page, conv.id, title);
      const choice = dialog.getByLabel('What the link shows');
      const labels = (await choice.locator('option').allTextContents()).map((t) => t.trim());
      assert.equal(labels[0], 'The chat as it is now');
      assert.equal(await choice.inputValue(), '', 'a new link shows the chat unless a version is chosen');
      const label = labels.find((t) => t.startsWith(`${comment} (`));
      assert.ok(label, `the version is offered by its comment: ${JSON.stringify(labels)}`);
      await choice.selectOption({ label });
      await dialog.getByRole('radio', { name: 'Anyone with the link' }).check();
      await dialog.getByRole('button', { name: 'Create link' }).click();
      await dialog.getByTestId('share-status').filter({ hasText: 'Link created.' }).waitFor();
      assert.equal((await dialog.getByTestId('share-version').textContent()).trim(), label);
      assert.equal((await dialog.getByTestId('share-messages').textContent()).trim(), '2 messages', "the version's messages");
      assert.equal((await dialog.getByTestId('share-notes').textContent()).trim(), 'Not shown');
      assert.equal(await choice.inputValue(), version.id);
      assert.equal(
        await dialog.getByRole('checkbox', { name: 'Update snapshot to the latest message' }).isVisible(),
        false,
        'no snapshot to move while a version is shown',
      );
      const share = await must(200, DEMO, 'GET', `/conversations/${conv.id}/share`);
      assert.equal(share.version_id, version.id);
      assert.equal(share.show_annotations, false);

      // A visitor sees the version: the first exchange, not the question asked after it.
      const visitor = await newPage(browser);
      try {
        assert.equal((await visitor.page.goto(share.url)).status(), 200, `GET ${share.url}`);
        await visitor.page.getByRole('heading', { name: title, level: 1 }).waitFor();
        const articles = visitor.page.locator('main article');
        assert.equal(await articles.count(), 2, `the version's question and answer: ${await pageText(visitor.page)}`);
        assert.match(await articles.first().innerText(), /First question/);
        assert.match(await articles.last().innerText(), /Mock reply to: First question/);
        assert.ok(!(await pageText(visitor.page)).includes('Second question'), 'a message added after the version is shown');
        assert.equal(await visitor.page.locator('aside.notes').count(), 0);
        assertNoPageErrors(visitor.errors);
      } finally {
        await visitor.context.close();
      }

      // Shared links says which version the link shows.
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });
      await page.goto(url('/chat/#/shares'));
      const item = page.locator(`[data-testid="share-item"][data-id="${share.id}"]`);
      await item.waitFor();
      assert.equal((await item.getByTestId('share-version').textContent()).trim(), label);
      assert.equal((await item.getByTestId('share-messages').textContent()).trim(), '2 messages');
      assert.equal((await item.getByTestId('share-notes').textContent()).trim(), 'Not shown');

      // Back to the chat, moved to its latest message: the same link shows the second question too.
      dialog = await openShareDialog(page, conv.id, title);
      assert.equal(await dialog.getByLabel('What the link shows').inputValue(), version.id, 'the dialog shows the version chosen');
      await dialog.getByLabel('What the link shows').selectOption({ label: 'The chat as it is now' });
      await dialog.getByRole('checkbox', { name: 'Update snapshot to the latest message' }).check();
      await dialog.getByRole('button', { name: 'Save' }).click();
      await dialog.getByTestId('share-status').filter({ hasText: 'Changes saved.' }).waitFor();
      assert.equal((await dialog.getByTestId('share-messages').textContent()).trim(), '4 messages');
      assert.equal(await dialog.getByTestId('share-version').count(), 0);
      const now = await must(200, DEMO, 'GET', `/conversations/${conv.id}/share`);
      assert.equal(now.version_id, null);
      assert.equal(now.url, share.url, 'the same link');

      const later = await newPage(browser);
      try {
        // Another node may serve what it remembers for up to a second.
        let count = 0;
        for (let i = 0; i < 30 && count !== 4; i++) {
          if (i > 0) await new Promise((resolve) => setTimeout(resolve, 100));
          assert.equal((await later.page.goto(share.url)).status(), 200, `GET ${share.url}`);
          count = await later.page.locator('main article').count();
        }
        assert.equal(count, 4, `the chat up to its latest message: ${await pageText(later.page)}`);
        assert.match(await later.page.locator('main article').nth(2).innerText(), /Second question/);
      } finally {
        await later.context.close();
      }
      assertNoPageErrors(errors);
    } finally {
      await deleteChats(created);
      await context.close();
    }
  });

  test('Shared links lists a link with its views going up, copies it and revokes it', async () => {
    const created = [];
    const title = unique('Listed chat');
    const { context, page, errors } = await newPage(browser);
    try {
      // extuser's links are this test's only: start from none.
      for (const old of (await must(200, EXTUSER, 'GET', '/shares')).items) {
        await must(204, EXTUSER, 'DELETE', `/conversations/${old.conversation_id}/share`);
      }
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseUrl() });
      await signIn(page, 'extuser', 'extpass');
      await mainNav(page).getByRole('link', { name: 'Shared links' }).click();
      await page.getByRole('heading', { name: 'Shared links', level: 1 }).waitFor();
      await page.getByTestId('shares-empty').waitFor();
      assert.match(await page.getByTestId('shares-empty').innerText(), /You have not shared any chats/);

      const conv = await chatWith(EXTUSER, title, ['Count my views'], created);
      const share = await shareChat(EXTUSER, conv.id, { is_public: true, expires_in: null });
      await page.reload();
      const item = page.locator(`[data-testid="share-item"][data-id="${share.id}"]`);
      await item.waitFor();
      const chatLink = item.getByRole('link', { name: title });
      assert.equal(await chatLink.getAttribute('href'), `#/chat/${conv.id}`);
      assert.equal((await item.getByTestId('share-audience').textContent()).trim(), 'Anyone with the link');
      assert.equal((await item.getByTestId('share-expires').textContent()).trim(), 'Never');
      assert.equal((await item.getByTestId('share-views').textContent()).trim(), '0 views');
      assert.equal(await item.getByTestId('share-url').inputValue(), share.url);

      const visitor = await newPage(browser);
      try {
        assert.equal((await visitor.page.goto(share.url)).status(), 200);
        await visitor.page.getByRole('heading', { name: title, level: 1 }).waitFor();
      } finally {
        await visitor.context.close();
      }
      await page.reload();
      await waitForViews(page, share.id, '1 view');

      await item.getByRole('button', { name: `Copy link to ${title}` }).click();
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), share.url);

      // The title links to the chat.
      await chatLink.click();
      await page.getByRole('heading', { name: title, level: 1 }).waitFor();
      await page.goBack();

      acceptNextConfirm(page);
      await item.getByRole('button', { name: 'Revoke link' }).click();
      await item.waitFor({ state: 'detached' });
      await page.getByTestId('shares-empty').waitFor();
      assert.match(await page.getByTestId('shares-status').textContent(), /was revoked/);
      await must(404, EXTUSER, 'GET', `/conversations/${conv.id}/share`);
      assert.equal(await visitorStatus(browser, share.url), 404, 'the revoked link is gone');
      assertNoPageErrors(errors);
    } finally {
      await deleteChats(created);
      await context.close();
    }
  });

  test("a signed-in user continues another user's shared chat in a chat of their own", async () => {
    const created = [];
    const title = unique('Fork me');
    const { context, page, errors } = await newPage(browser);
    try {
      const conv = await chatWith(DEMO, title, ['Where do we start?'], created);
      const share = await shareChat(DEMO, conv.id, { is_public: true, expires_in: 3600 });
      const token = tokenOf(share.url);

      // From the share page, signed out: Continue leads through sign-in to the app.
      assert.equal((await page.goto(share.url)).status(), 200);
      await page.getByRole('link', { name: 'Continue this conversation' }).click();
      await waitForPath(page, '/chat/login.html');
      await Promise.all([waitForPath(page, '/chat/'), submitLogin(page, 'admin', 'admin')]);
      assert.equal(new URL(page.url()).hash, `#/fork/${token}`);
      await page.getByRole('heading', { name: title, level: 1 }).waitFor();
      assert.equal((await page.getByTestId('fork-summary').textContent()).trim(), '2 messages with GPT-4o mini');
      await page.getByRole('button', { name: 'Continue this conversation' }).click();

      await waitUntil(
        page,
        () => /^#\/chat\/[0-9a-f-]{36}$/i.test(location.hash),
        null,
        async () => `expected to land in the new chat; at ${page.url()}:\n${await pageText(page)}`,
      );
      const forkId = new URL(page.url()).hash.slice('#/chat/'.length);
      created.push([ADMIN, forkId]);
      assert.notEqual(forkId, conv.id, 'a new chat, not the shared one');
      await page.getByRole('heading', { name: title, level: 1 }).waitFor();
      const bodies = page.locator('[data-testid="message"] [data-testid="message-body"]');
      await waitUntil(
        page,
        () => document.querySelectorAll('[data-testid="message"]').length === 2,
        null,
        async () => `expected the two copied messages; the page shows:\n${await pageText(page)}`,
      );
      assert.deepEqual(
        (await bodies.allTextContents()).map((t) => t.trim()),
        ['Where do we start?', 'Mock reply to: Where do we start?'],
      );
      assert.match(await page.getByTestId('chat-subtitle').textContent(), /Continued from a shared link/);

      // The copy is admin's own: Share is offered, and the chat carries on.
      assert.ok(await page.getByRole('button', { name: 'Share', exact: true }).isVisible());
      const composer = page.getByLabel('Message', { exact: true });
      await composer.fill('And then?');
      await composer.press('Enter');
      await waitUntil(
        page,
        () => {
          const all = document.querySelectorAll('[data-testid="message"][data-sender-type="ai"]');
          const last = all[all.length - 1];
          return (
            all.length === 2 &&
            last.dataset.status === 'complete' &&
            last.querySelector('[data-testid="message-body"]').textContent.trim() === 'Mock reply to: And then?'
          );
        },
        null,
        async () => `expected the answer to "And then?"; the page shows:\n${await pageText(page)}`,
      );
      const shared = await must(200, ADMIN, 'GET', `/shares/${token}`);
      assert.equal(shared.messages.length, 2, 'the shared chat is unchanged');
      assertNoPageErrors(errors);
    } finally {
      await deleteChats(created);
      await context.close();
    }
  });

  test('a link that does not exist or has expired says so in the app; Shared links marks it Expired', async () => {
    const created = [];
    const title = unique('Short-lived');
    const { context, page, errors } = await newPage(browser);
    try {
      const conv = await chatWith(DEMO, title, ['Soon gone'], created);
      const share = await shareChat(DEMO, conv.id, { is_public: true, expires_in: 1 });
      const token = tokenOf(share.url);
      await signIn(page, 'demo', 'demo');

      await page.goto(url(`/chat/#/fork/${'x'.repeat(32)}`));
      await page.getByRole('heading', { name: 'This link does not exist', level: 1 }).waitFor();
      assert.equal(await page.getByRole('button', { name: 'Continue this conversation' }).count(), 0);

      // Wait (bounded) for the one-second link to expire.
      for (let i = 0; i < 50 && (await apiAs(...DEMO, 'GET', `/shares/${token}`)).status !== 410; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await page.goto(url(`/chat/#/fork/${token}`));
      await page.getByRole('heading', { name: 'This link has expired', level: 1 }).waitFor();
      assert.equal(await page.getByText(title).count(), 0, 'nothing of the chat is shown');

      await mainNav(page).getByRole('link', { name: 'Shared links' }).click();
      const item = page.locator(`[data-testid="share-item"][data-id="${share.id}"]`);
      await item.waitFor();
      assert.equal((await item.getByTestId('share-expired').textContent()).trim(), 'Expired');
      assert.equal((await item.getByTestId('share-expires').textContent()).trim(), 'Expired');
      assertNoPageErrors(errors);
    } finally {
      await deleteChats(created);
      await context.close();
    }
  });

  test('hostile content in a shared chat is shown, never run', async () => {
    const created = [];
    const title = `</title><script>window.__xss.push('title')</script><img src=x onerror="window.__xss.push('title-img')"> ${unique('x')}`;
    const messages = [
      "<script>window.__xss.push('script')</script> plain <b onmouseover=\"window.__xss.push('b')\">bold</b>",
      '<img src=x onerror="window.__xss.push(\'img\')"> <svg onload="window.__xss.push(\'svg\')"><circle r="5"/></svg>' +
        ' <svg><script>window.__xss.push(\'svg-script\')</script></svg>',
      "[md link](javascript:window.__xss.push('md-link')) [caps](JaVaScRiPt:alert('caps')) " +
        "[spaced]( javascript:alert('spaced')) [entity](&#106;avascript:alert('entity')) " +
        "![image](javascript:alert('image')) <javascript:alert('autolink')>",
      '<a href="javascript:alert(\'raw a\')">raw a</a> <a href="data:text/html,<script>alert(\'data-a\')</script>">data a</a> ' +
        "[data link](data:text/html;base64,PHNjcmlwdD5hbGVydCgnZGF0YScpPC9zY3JpcHQ+) " +
        '<iframe src="javascript:alert(\'iframe\')"></iframe> <object data="javascript:alert(\'object\')"></object>',
      '<details open ontoggle="window.__xss.push(\'toggle\')"><summary>s</summary>d</details> ' +
        '<style>@import "javascript:alert(1)"</style> <form action="javascript:alert(1)"><button>b</button></form> ' +
        '<math><mtext><table><mglyph><style><img src=x onerror="window.__xss.push(\'mxss\')">',
      '[ref link][r]\n\n[r]: javascript:window.__xss.push(\'ref\')\n\n`<script>alert("code span")</script>`',
    ];

    // In every page: a record of anything a payload could run. The pages are
    // opened with the site's CSP bypassed, so what is tested is the escaping
    // itself, not only the CSP behind it.
    const hook = () => {
      window.__xss = [];
      for (const name of ['alert', 'confirm', 'prompt']) {
        window[name] = (...args) => {
          window.__xss.push(`${name}(${args.join(',')})`);
        };
      }
    };
    const ran = [];
    const watch = (page) => {
      page.on('dialog', (d) => {
        ran.push(`dialog: ${d.message()}`);
        d.dismiss().catch(() => {});
      });
      page.on('console', (m) => {
        if (/xss|alert/i.test(m.text())) ran.push(`console: ${m.text()}`);
      });
    };
    /**
     * Fail if any payload ran, or the page holds anything that could run
     * one: an event-handler attribute or a javascript:/data:text/html URL
     * anywhere, or an element that does not belong in a message within
     * `content` (the messages and titles).
     */
    const assertInert = async (page, where, content) => {
      const found = await page.evaluate((scope) => {
        const bad = [...(window.__xss ?? [])].map((x) => `ran: ${x}`);
        const risky = ['script', 'iframe', 'object', 'embed', 'form', 'style', 'math', 'svg', 'details'];
        for (const box of document.querySelectorAll(scope)) {
          for (const el of box.querySelectorAll(risky.join(','))) bad.push(`<${el.tagName.toLowerCase()}> in ${scope}`);
        }
        for (const el of document.body.querySelectorAll('*')) {
          for (const attr of el.attributes) {
            const value = attr.value.replace(/[\s\u0000-\u001f]/g, '').toLowerCase();
            if (/^on/i.test(attr.name) || /^(javascript:|vbscript:|data:text\/html)/.test(value)) {
              bad.push(`<${el.tagName.toLowerCase()} ${attr.name}="${attr.value}">`);
            }
          }
        }
        return bad;
      }, content);
      assert.deepEqual([...found, ...ran], [], `${where}: hostile content became live`);
    };

    const owner = await newPage(browser, { bypassCSP: true });
    try {
      const conv = await chatWith(DEMO, title, messages, created);
      const share = await shareChat(DEMO, conv.id, { is_public: true, expires_in: 3600 });
      const token = tokenOf(share.url);

      // The public page, signed out.
      const visitor = await newPage(browser, { bypassCSP: true });
      try {
        await visitor.context.addInitScript(hook);
        watch(visitor.page);
        const res = await visitor.page.goto(share.url);
        assert.equal(res.status(), 200);
        assert.match(res.headers()['content-security-policy'] ?? '', /default-src 'none'|script-src 'none'/, 'the page allows no script');
        await visitor.page.getByRole('heading', { name: title, level: 1 }).waitFor();
        assert.equal(
          (await visitor.page.locator('h1').textContent()).trim(),
          title,
          'the title is shown literally',
        );
        assert.ok((await visitor.page.title()).includes(title), `the document title is the literal title: ${await visitor.page.title()}`);
        assert.equal(await visitor.page.locator('main article').count(), messages.length * 2);
        await assertInert(visitor.page, 'the share page', 'body');
        assertNoPageErrors(visitor.errors);
      } finally {
        await visitor.context.close();
      }

      // The app's own views of the same chat and link, signed in as its owner.
      await owner.context.addInitScript(hook);
      watch(owner.page);
      await signIn(owner.page, 'demo', 'demo');
      await owner.page.goto(url(`/chat/#/chat/${conv.id}`));
      await owner.page.getByRole('heading', { name: title, level: 1 }).waitFor();
      await waitUntil(
        owner.page,
        (n) => document.querySelectorAll('[data-testid="message"]').length === n,
        messages.length * 2,
        async () => `expected every message in the chat; it shows:\n${await pageText(owner.page)}`,
      );
      await assertInert(owner.page, 'the chat', '[data-testid="message-body"]');
      const dialog = await openShareDialog(owner.page, conv.id, title);
      assert.equal((await dialog.getByTestId('share-chat-title').textContent()).trim(), title);
      await owner.page.keyboard.press('Escape');

      await owner.page.goto(url('/chat/#/shares'));
      const item = owner.page.locator(`[data-testid="share-item"][data-id="${share.id}"]`);
      await item.waitFor();
      assert.equal((await item.getByTestId('share-chat-link').textContent()).trim(), title);
      await assertInert(owner.page, 'Shared links', '[data-testid="share-item"]');

      await owner.page.goto(url(`/chat/#/fork/${token}`));
      await owner.page.getByRole('heading', { name: title, level: 1 }).waitFor();
      await assertInert(owner.page, 'Continue a shared chat', '[data-testid="fork"]');
      assertNoPageErrors(owner.errors);
    } finally {
      await deleteChats(created);
      await owner.context.close();
    }
  });
});
