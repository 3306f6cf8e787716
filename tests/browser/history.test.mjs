// A conversation's history in a real browser: annotate by selecting text in
// an answer (marked in the text and listed beside the thread, still there
// after a reload); save two versions, compare them, restore one as a new
// chat; view a version as it was (its messages as text, its tags). The
// conversation is made through the API (demo, the demo catalog's GPT-4o mini
// on the mock provider) and deleted at the end.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { apiAs, assertNoPageErrors, ensureCredits, launch, newPage, signIn, unique, url, waitUntil } from './lib.mjs';

const ANSWER_BODY = '[data-testid="message"][data-sender-type="ai"] [data-testid="message-body"]';
let browser;
const made = [];

async function conversationWith(...messages) {
  const res = await apiAs('demo', 'demo', 'POST', '/conversations', { tools: ['gpt-4o-mini'], title: unique('history') });
  assert.equal(res.status, 201, res.text);
  made.push(res.json.id);
  for (const content of messages) {
    const sent = await apiAs('demo', 'demo', 'POST', `/conversations/${res.json.id}/messages`, { content });
    assert.equal(sent.status, 201, sent.text);
  }
  return res.json;
}

before(async () => {
  await ensureCredits('demo', 'demo', 50000);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  for (const id of made) await apiAs('demo', 'demo', 'DELETE', `/conversations/${id}`);
});

/** Select `text` inside the first answer's body, as a mouse would, and let go. */
async function selectInAnswer(page, text) {
  await page.evaluate(
    ({ selector, text }) => {
      const body = document.querySelector(selector);
      const walker = document.createTreeWalker(body, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const i = node.data.indexOf(text);
        if (i === -1) continue;
        const range = document.createRange();
        range.setStart(node, i);
        range.setEnd(node, i + text.length);
        const sel = window.getSelection();
        sel.removeAllRanges();
        sel.addRange(range);
        body.dispatchEvent(new MouseEvent('mouseup', { bubbles: true }));
        return;
      }
      throw new Error(`"${text}" is not in the answer`);
    },
    { selector: ANSWER_BODY, text },
  );
}

test('a note made by selecting text in an answer is marked there and listed, and is still there after a reload', async () => {
  const word = unique('note').replace(/-/g, '');
  const conv = await conversationWith(`Tell me about ${word} please`);
  const { context, page, errors } = await newPage(browser);
  try {
    await signIn(page, 'demo', 'demo');
    await page.goto(url(`/chat/#/chat/${conv.id}`));
    await page.locator(ANSWER_BODY).first().waitFor();

    await selectInAnswer(page, word);
    const form = page.getByTestId('annotation-form');
    await form.waitFor();
    assert.equal((await page.getByTestId('annotation-quote').first().textContent()).trim(), word);
    await page.getByTestId('annotation-input').fill('Worth checking');
    await page.getByTestId('annotation-save').click();

    const mark = page.locator(`${ANSWER_BODY} mark[data-testid="annotation-mark"]`);
    await mark.waitFor();
    assert.equal(await mark.textContent(), word);
    assert.equal((await page.getByTestId('annotation-note').first().textContent()).trim(), 'Worth checking');

    await page.reload();
    await mark.waitFor();
    assert.equal(await mark.textContent(), word, 'the mark is not on the quoted text after a reload');
    await page.getByTestId('annotation').first().waitFor();
    assert.equal((await page.getByTestId('annotation-note').first().textContent()).trim(), 'Worth checking');
    const stored = await apiAs('demo', 'demo', 'GET', `/conversations/${conv.id}/annotations`);
    assert.equal(stored.json.items.length, 1);
    assert.equal(stored.json.items[0].position.quote, word);
    assertNoPageErrors(errors);
  } finally {
    await context.close();
  }
});

test('Summarise shows the summary by the summary model on the conversation, and it stays after a reload, in the list too', async () => {
  // The summary model scripts/dev configures (AIChatSummaryModel summariser), on the mock.
  await apiAs('admin', 'admin', 'DELETE', '/admin/tools/summariser');
  const tool = await apiAs('admin', 'admin', 'POST', '/admin/tools', {
    slug: 'summariser', name: 'Summariser', provider: 'openai', model_id: 'gpt-4o-mini', default_settings: { max_tokens: 200 },
  });
  assert.equal(tool.status, 201, tool.text);
  const marker = unique('topic');
  const conv = await conversationWith(`Summarise ${marker}`);
  // Markup in the title reaches the summary's first line: the list shows it as text.
  const titled = await apiAs('demo', 'demo', 'PATCH', `/conversations/${conv.id}`, { title: `<i>${marker}</i> chat` });
  assert.equal(titled.status, 200, titled.text);
  const { context, page, errors } = await newPage(browser);
  try {
    await signIn(page, 'demo', 'demo');
    await page.goto(url(`/chat/#/chat/${conv.id}`));
    await page.locator(ANSWER_BODY).first().waitFor();
    assert.equal((await page.getByTestId('chat-summary').textContent()).trim(), 'No summary yet.');
    await page.getByTestId('summarise').click();
    await waitUntil(page, (m) => document.querySelector('[data-testid="chat-summary"]').textContent.includes(m), marker, 'no summary shown');
    const shown = (await page.getByTestId('chat-summary').textContent()).trim();
    assert.ok(shown.startsWith('Mock reply to: '), shown);
    assert.ok((await page.getByTestId('chat-summary-meta').textContent()).includes('summariser'));
    // The list shows it at once, not only after a reload.
    await page.locator(`[data-testid="conversation-link"][data-id="${conv.id}"] [data-testid="conv-summary"]`).waitFor();
    await page.reload();
    await page.locator(ANSWER_BODY).first().waitFor();
    assert.equal((await page.getByTestId('chat-summary').textContent()).trim(), shown);
    // The list: the summary's first line under the title, all of it as the link's tooltip.
    const summary = (await apiAs('demo', 'demo', 'GET', `/conversations/${conv.id}`)).json.summary.trim();
    assert.ok(summary.split('\n')[0].includes(`<i>${marker}</i>`), summary);
    const link = page.locator(`[data-testid="conversation-link"][data-id="${conv.id}"]`);
    await link.getByTestId('conv-summary').waitFor();
    assert.equal(await link.getByTestId('conv-summary').textContent(), summary.split('\n')[0]);
    assert.equal(await link.getAttribute('title'), summary);
    assert.equal(await link.locator('i').count(), 0, 'markup of the summary became HTML');
    assertNoPageErrors(errors);
  } finally {
    await context.close();
    await apiAs('demo', 'demo', 'DELETE', `/conversations/${conv.id}`);
    made.splice(made.indexOf(conv.id), 1);
    const gone = await apiAs('admin', 'admin', 'DELETE', '/admin/tools/summariser');
    assert.equal(gone.status, 204, gone.text);
  }
});

test('two versions saved and compared show the messages added; a version restores as a new chat', async () => {
  const conv = await conversationWith('first question');
  const { context, page, errors } = await newPage(browser);
  try {
    await signIn(page, 'demo', 'demo');
    await page.goto(url(`/chat/#/chat/${conv.id}`));
    await page.locator(ANSWER_BODY).first().waitFor();
    await page.getByTestId('versions-panel').locator('summary').click();
    await page.getByTestId('version-comment').fill('one exchange');
    await page.getByTestId('version-save').click();
    await page.getByTestId('version').first().waitFor();

    const sent = await apiAs('demo', 'demo', 'POST', `/conversations/${conv.id}/messages`, { content: 'second question' });
    assert.equal(sent.status, 201, sent.text);
    await page.reload();
    await page.locator(ANSWER_BODY).nth(1).waitFor();
    await page.getByTestId('versions-panel').locator('summary').click();
    await page.getByTestId('version-comment').fill('two exchanges');
    await page.getByTestId('version-save').click();
    await waitUntil(page, () => document.querySelectorAll('[data-testid="version"]').length === 2, null, 'the second version is not listed');

    await page.getByTestId('version-pick').nth(0).check();
    await page.getByTestId('version-pick').nth(1).check();
    await page.getByTestId('version-compare').click();
    await page.getByTestId('diff-row').first().waitFor();
    const changes = await page.getByTestId('diff-change').allTextContents();
    assert.deepEqual(changes, ['same', 'same', 'added', 'added']);
    const diffText = await page.getByTestId('version-diff').innerText();
    assert.ok(diffText.includes('second question'), diffText);

    // Restore the older one: a new chat with its one exchange.
    await page.getByTestId('version-restore').nth(1).click();
    await page.waitForURL((u) => /#\/chat\/[0-9a-f-]{36}$/.test(u.hash) && !u.hash.endsWith(conv.id));
    const restoredId = new URL(page.url()).hash.split('/').pop();
    made.push(restoredId);
    await page.locator(ANSWER_BODY).first().waitFor();
    await waitUntil(page, () => document.querySelectorAll('[data-testid="message"]').length === 2, null, 'the restored chat does not show one exchange');
    const texts = await page.locator('[data-testid="message"] [data-testid="message-body"]').allInnerTexts();
    assert.equal(texts[0].trim(), 'first question');
    assertNoPageErrors(errors);
  } finally {
    await context.close();
  }
});

test('a version viewed shows its title, comment, tags and messages as text, unchanged by later changes, and closes', async () => {
  const marker = unique('viewed').replace(/-/g, '');
  const conv = await conversationWith(`Explain <b>${marker}</b> please`);
  const tag = await apiAs('demo', 'demo', 'POST', '/tags', { name: unique('vtag'), color: '#2e8b57' });
  assert.equal(tag.status, 201, tag.text);
  const { context, page, errors } = await newPage(browser);
  try {
    const tagged = await apiAs('demo', 'demo', 'PUT', `/conversations/${conv.id}/tags/${tag.json.id}`);
    assert.equal(tagged.status, 200, tagged.text);
    await signIn(page, 'demo', 'demo');
    await page.goto(url(`/chat/#/chat/${conv.id}`));
    await page.locator(ANSWER_BODY).first().waitFor();
    await page.getByTestId('versions-panel').locator('summary').click();
    await page.getByTestId('version-comment').fill('with its tag');
    await page.getByTestId('version-save').click();
    await page.getByTestId('version').first().waitFor();

    // Changed after the version: another exchange, the tag taken off.
    const sent = await apiAs('demo', 'demo', 'POST', `/conversations/${conv.id}/messages`, { content: 'a later question' });
    assert.equal(sent.status, 201, sent.text);
    const untagged = await apiAs('demo', 'demo', 'DELETE', `/conversations/${conv.id}/tags/${tag.json.id}`);
    assert.equal(untagged.status, 200, untagged.text);

    await page.getByTestId('version-view-open').first().click();
    const view = page.getByTestId('version-view');
    await view.getByTestId('version-view-message').first().waitFor();
    assert.equal(await view.getByTestId('version-view-title').textContent(), conv.title);
    assert.equal(await view.getByTestId('version-view-comment').textContent(), 'with its tag');
    assert.deepEqual(await view.getByTestId('version-view-tag').allTextContents(), [tag.json.name]);

    const versions = await apiAs('demo', 'demo', 'GET', `/conversations/${conv.id}/versions`);
    const snapshot = (await apiAs('demo', 'demo', 'GET', `/versions/${versions.json.items[0].id}`)).json.snapshot;
    assert.equal(snapshot.messages.length, 2);
    assert.deepEqual(await view.getByTestId('version-view-text').allTextContents(), snapshot.messages.map((m) => m.content));
    const texts = await view.getByTestId('version-view-text').allTextContents();
    assert.equal(texts[0], `Explain <b>${marker}</b> please`, 'the message is not shown as its text');
    assert.equal(await view.locator('b').count(), 0, 'markup in a message became HTML');
    assert.ok(!texts.some((t) => t.includes('a later question')), 'the version shows a message sent after it');
    const senders = await view.getByTestId('version-view-sender').allTextContents();
    assert.equal(senders.length, 2);
    assert.ok(senders.every((name) => name.trim() !== ''), `senders: ${senders}`);
    assert.deepEqual(await view.getByTestId('version-view-model').allTextContents(), [snapshot.messages[1].sender.model_id]);

    await view.getByTestId('version-view-close').click();
    await waitUntil(page, () => document.querySelector('[data-testid="version-view"]').hidden, null, 'the version view did not close');
    assertNoPageErrors(errors);
  } finally {
    await context.close();
    await apiAs('demo', 'demo', 'DELETE', `/tags/${tag.json.id}`);
  }
});

test('Delete branch on a message with another version: refused while a share shows it, then gone with a version kept', async () => {
  const marker = unique('branch');
  const conv = await conversationWith(`kept version ${marker}`);
  const second = await apiAs('demo', 'demo', 'POST', `/conversations/${conv.id}/messages`, { content: `doomed version ${marker}`, parent_id: null });
  assert.equal(second.status, 201, second.text);
  const doomed = second.json.user_message.id;
  const { context, page, errors } = await newPage(browser);
  page.on('dialog', (dialog) => dialog.accept());
  try {
    await signIn(page, 'demo', 'demo');
    await page.goto(url(`/chat/#/chat/${conv.id}`));
    const message = page.locator(`article[data-message-id="${doomed}"]`);
    await message.waitFor();
    // Only a message with another version offers it; the answer below has none.
    assert.equal(await page.getByTestId('delete-branch').count(), 1);

    const share = await apiAs('demo', 'demo', 'PUT', `/conversations/${conv.id}/share`, {});
    assert.equal(share.status, 201, share.text);
    await message.getByTestId('delete-branch').click();
    await waitUntil(page, () => /shared link/.test(document.querySelector('[data-testid="chat-error"]')?.textContent ?? ''), null,
      async () => `notice: ${await page.getByTestId('chat-error').textContent()}`);
    assert.equal(await message.count(), 1, 'the refused branch left the thread');
    assert.equal((await apiAs('demo', 'demo', 'DELETE', `/conversations/${conv.id}/share`)).status, 204);

    await message.getByTestId('delete-branch').click();
    await page.getByText(`kept version ${marker}`).first().waitFor();
    await waitUntil(page, (id) => !document.querySelector(`article[data-message-id="${id}"]`), doomed, 'the branch is still shown');
    assert.equal(await page.getByTestId('delete-branch').count(), 0, 'a message without other versions offers to delete it');
    const messages = await apiAs('demo', 'demo', 'GET', `/conversations/${conv.id}/messages`);
    assert.ok(!messages.json.items.some((m) => m.id === doomed), 'the branch is still there');
    await page.getByTestId('versions-panel').locator('summary').click();
    await waitUntil(page, () => document.querySelector('[data-testid="versions-panel"]').textContent.includes('Before deleting a branch'), null,
      async () => `versions: ${await page.getByTestId('versions-panel').textContent()}`);
    assertNoPageErrors(errors);
  } finally {
    await context.close();
  }
});
