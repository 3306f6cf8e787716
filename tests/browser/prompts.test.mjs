// Prompts and templates in a real browser (AICHAT_URL, the mock provider,
// the seeded demo/demo and admin/admin and the demo catalog): a prompt saved
// from a sent message and inserted with "/"; an answer saved as a prompt;
// a new chat's prompt list following the models picked for it; a template's
// form filled and sent into a new chat; a public template found in the
// gallery and copied.
// Each test deletes what it made.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { apiAs, assertNoPageErrors, ensureCredits, launch, mainNav, newPage, signIn, unique, url, waitUntil } from './lib.mjs';

const GPT_MINI = { slug: 'gpt-4o-mini', name: 'GPT-4o mini' };
const CLAUDE = { slug: 'claude-3-5-sonnet', name: 'Claude 3.5 Sonnet' };
const ANSWER = '[data-testid="message"][data-sender-type="ai"]';
const USER_MESSAGE = '[data-testid="message"][data-sender-type="user"]';

let browser;

before(async () => {
  browser = await launch();
  await ensureCredits('demo', 'demo', 50000);
});

after(async () => {
  await browser?.close();
});

const composer = (page) => page.getByLabel('Message', { exact: true });

/** Wait for the last answer to be complete with this text. */
async function waitForAnswer(page, text) {
  await waitUntil(
    page,
    ([sel, want]) => {
      const all = document.querySelectorAll(sel);
      const last = all[all.length - 1];
      return last?.dataset.status === 'complete' && last.querySelector('[data-testid="message-body"]')?.textContent.trim() === want;
    },
    [ANSWER, text],
    async () => `expected the answer "${text}"; the page shows:\n${await page.locator('[data-testid="chat-page"]').innerText()}`,
  );
  await page.getByTestId('stop').waitFor({ state: 'hidden' });
}

/** The conversation id in the address (#/chat/<id>), once there is one. */
async function conversationId(page) {
  await waitUntil(page, () => /^#\/chat\/[0-9a-f-]{36}$/i.test(location.hash), null, () => `no chat in ${page.url()}`);
  return /#\/chat\/([0-9a-f-]{36})$/i.exec(page.url())[1];
}

test('a prompt saved from a sent message is inserted by typing / and its title', async () => {
  const { context, page, errors } = await newPage(browser);
  const title = unique('Prompt');
  const text = `Translate into French: ${title}`;
  let convId;
  try {
    await signIn(page, 'demo', 'demo');
    await page.goto(url('/chat/#/chat'));
    await page.getByRole('checkbox', { name: GPT_MINI.name, exact: true }).check();
    await composer(page).fill(text);
    await composer(page).press('Enter');
    convId = await conversationId(page);
    await waitForAnswer(page, `Mock reply to: ${text}`);

    await page.locator(USER_MESSAGE).last().getByTestId('save-as-prompt').click();
    const dialog = page.getByTestId('save-prompt-dialog');
    await dialog.waitFor();
    assert.equal(await dialog.getByLabel('Text').inputValue(), text);
    await dialog.getByLabel('Title').fill(title);
    assert.ok(await dialog.getByRole('checkbox', { name: GPT_MINI.name }).isChecked(), 'the chat\'s model is offered and ticked');
    await dialog.getByTestId('save-prompt-submit').click();
    await dialog.waitFor({ state: 'hidden' });

    const saved = await apiAs('demo', 'demo', 'GET', '/prompts');
    const mine = saved.json.items.find((p) => p.title === title);
    assert.ok(mine, `the prompt was not stored: ${saved.text.slice(0, 300)}`);
    assert.deepEqual(mine.tools.map((t) => t.slug), [GPT_MINI.slug]);

    await composer(page).fill('');
    await composer(page).pressSequentially(`/${title.slice(0, 12)}`);
    const option = page.getByTestId('prompt-option').filter({ hasText: title });
    await option.waitFor();
    assert.equal(await option.getByTestId('prompt-for-chat').count(), 1, 'the prompt is not marked as for this chat\'s model');
    // Only prompts whose title holds what was typed are offered.
    for (const t of await page.getByTestId('prompt-option').locator('.prompt-option-title').allTextContents()) {
      assert.ok(t.toLowerCase().includes(title.slice(1, 12).toLowerCase()), `offered "${t}" for /${title.slice(0, 12)}`);
    }
    await composer(page).press('Enter');
    await page.getByTestId('prompt-menu').waitFor({ state: 'hidden' });
    assert.equal(await composer(page).inputValue(), text, 'Enter inserted the prompt (and did not send)');
    assert.equal(await page.locator(USER_MESSAGE).count(), 1);

    await composer(page).press('Enter');
    await waitForAnswer(page, `Mock reply to: ${text}`);
    assert.equal(await page.locator(USER_MESSAGE).count(), 2);
    assertNoPageErrors(errors);
    assert.equal((await apiAs('demo', 'demo', 'DELETE', `/prompts/${mine.id}`)).status, 204);
  } finally {
    if (convId) await apiAs('demo', 'demo', 'DELETE', `/conversations/${convId}`);
    await context.close();
  }
});

test('an answer is saved as a prompt from under it', async () => {
  const { context, page, errors } = await newPage(browser);
  const title = unique('Answer');
  const text = `Name a colour (${title})`;
  const answer = `Mock reply to: ${text}`;
  let convId;
  let saved;
  try {
    await signIn(page, 'demo', 'demo');
    await page.goto(url(`/chat/#/chat?tool=${GPT_MINI.slug}`));
    // A message typed before the model list has loaded finds no model picked.
    await waitUntil(page, () => document.querySelector('[data-testid="model-picker"] input:checked') !== null, null,
      () => 'the model named in the address was never picked');
    await composer(page).fill(text);
    await composer(page).press('Enter');
    convId = await conversationId(page);
    await waitForAnswer(page, answer);

    await page.locator(ANSWER).last().getByTestId('save-as-prompt').click();
    const dialog = page.getByTestId('save-prompt-dialog');
    await dialog.waitFor();
    assert.equal(await dialog.getByLabel('Text').inputValue(), answer, 'the dialog holds the answer\'s text');
    await dialog.getByLabel('Title').fill(title);
    await dialog.getByTestId('save-prompt-submit').click();
    await dialog.waitFor({ state: 'hidden' });

    const list = await apiAs('demo', 'demo', 'GET', '/prompts');
    saved = list.json.items.find((p) => p.title === title);
    assert.ok(saved, `the prompt was not stored: ${list.text.slice(0, 300)}`);
    assert.equal(saved.text, answer);
    assert.deepEqual(saved.tools.map((t) => t.slug), [GPT_MINI.slug]);
    assertNoPageErrors(errors);
  } finally {
    if (saved) await apiAs('demo', 'demo', 'DELETE', `/prompts/${saved.id}`);
    if (convId) await apiAs('demo', 'demo', 'DELETE', `/conversations/${convId}`);
    await context.close();
  }
});

test('a new chat\'s prompt list puts the prompts of the models picked for it first', async () => {
  const forClaude = unique('For Claude');
  const forGpt = unique('For GPT');
  const made = [];
  for (const [title, slug] of [[forClaude, CLAUDE.slug], [forGpt, GPT_MINI.slug]]) {
    const res = await apiAs('demo', 'demo', 'POST', '/prompts', { title, text: `${title} text`, tools: [slug] });
    assert.equal(res.status, 201, res.text);
    made.push(res.json.id);
  }
  const { context, page, errors } = await newPage(browser);
  /** Open the list: the two prompts made here come in this order, these marked "For this chat"; close it. */
  const expectOffered = async (want) => {
    await page.getByTestId('open-prompts').click();
    await waitUntil(
      page,
      ([titles, wanted]) => {
        const out = { order: [], marked: [] };
        for (const li of document.querySelectorAll('[data-testid="prompt-option"]')) {
          const t = li.querySelector('.prompt-option-title')?.textContent;
          if (!titles.includes(t)) continue;
          out.order.push(t);
          if (li.querySelector('[data-testid="prompt-for-chat"]')) out.marked.push(t);
        }
        return JSON.stringify(out) === wanted;
      },
      [[forClaude, forGpt], JSON.stringify(want)],
      async () => `expected ${JSON.stringify(want)}; the list shows:\n${await page.getByTestId('prompt-menu').innerText()}`,
    );
    await page.getByTestId('open-prompts').click();
    await page.getByTestId('prompt-menu').waitFor({ state: 'hidden' });
  };
  try {
    await signIn(page, 'demo', 'demo');
    await page.goto(url(`/chat/#/chat?tool=${CLAUDE.slug}`));
    const claudeBox = page.getByRole('checkbox', { name: CLAUDE.name, exact: true });
    await claudeBox.waitFor();
    assert.ok(await claudeBox.isChecked());
    // The Claude prompt is the older one: only the picked model puts it first.
    await expectOffered({ order: [forClaude, forGpt], marked: [forClaude] });

    await claudeBox.uncheck();
    await page.getByRole('checkbox', { name: GPT_MINI.name, exact: true }).check();
    await expectOffered({ order: [forGpt, forClaude], marked: [forGpt] });
    assertNoPageErrors(errors);
  } finally {
    for (const id of made) await apiAs('demo', 'demo', 'DELETE', `/prompts/${id}`);
    await context.close();
  }
});

test('a template\'s form is filled, shows the prompt, and sends it into a new chat', async () => {
  const name = unique('Template');
  const made = await apiAs('demo', 'demo', 'POST', '/templates', {
    name,
    category: 'Testing',
    content: 'Tell me about {{topic}} in a {{style}} style.',
    model: GPT_MINI.slug,
    variables: [
      { name: 'topic', type: 'text', required: true },
      { name: 'style', type: 'choice', options: ['plain', 'fancy'], default: 'plain' },
    ],
  });
  assert.equal(made.status, 201, made.text);
  const { context, page, errors } = await newPage(browser);
  let convId;
  try {
    await signIn(page, 'demo', 'demo');
    await page.goto(url('/chat/#/templates'));
    await page.getByTestId('template-item').filter({ hasText: name }).getByTestId('template-use').click();
    const dialog = page.getByTestId('template-dialog');
    await dialog.getByRole('heading', { name }).waitFor();
    const topic = unique('owls');
    await dialog.getByLabel('topic (required)').fill(topic);
    await waitUntil(
      page,
      (want) => document.querySelector('[data-testid="template-preview"]')?.textContent === want,
      `Tell me about ${topic} in a plain style.`,
      async () => `the preview shows "${await dialog.getByTestId('template-preview').textContent()}"`,
    );
    await dialog.getByLabel('style').selectOption('fancy');
    const prompt = `Tell me about ${topic} in a fancy style.`;
    await waitUntil(page, (want) => document.querySelector('[data-testid="template-preview"]')?.textContent === want, prompt, 'the preview did not follow the choice');

    await dialog.getByTestId('template-send').click();
    await dialog.waitFor({ state: 'hidden' });
    convId = await conversationId(page);
    await waitForAnswer(page, `Mock reply to: ${prompt}`);
    const sent = page.locator(USER_MESSAGE).last();
    assert.equal((await sent.getByTestId('message-body').textContent()).trim(), prompt);
    await page.getByTestId('message-template').filter({ hasText: name }).waitFor();

    const conv = await apiAs('demo', 'demo', 'GET', `/conversations/${convId}`);
    assert.deepEqual(conv.json.tools.map((t) => t.slug), [GPT_MINI.slug], 'the chat did not start with the template\'s model');
    const used = await apiAs('demo', 'demo', 'GET', `/templates/${made.json.id}`);
    assert.equal(used.json.usage_count, 1, 'the use was not counted once (previews count nothing)');
    assertNoPageErrors(errors);
  } finally {
    if (convId) await apiAs('demo', 'demo', 'DELETE', `/conversations/${convId}`);
    await apiAs('demo', 'demo', 'DELETE', `/templates/${made.json.id}`);
    await context.close();
  }
});

test('a public template is found in the gallery and copied into one\'s own templates', async () => {
  const name = unique('Gallery pick');
  const made = await apiAs('admin', 'admin', 'POST', '/templates', {
    name,
    description: 'Found by the gallery test',
    category: 'Testing',
    content: 'Summarise {{text}}',
    is_public: true,
    variables: [{ name: 'text', type: 'long_text', required: true }],
  });
  assert.equal(made.status, 201, made.text);
  const { context, page, errors } = await newPage(browser);
  let copyId;
  try {
    await signIn(page, 'demo', 'demo');
    await mainNav(page).getByRole('link', { name: 'Templates' }).click();
    await page.getByRole('heading', { name: 'Templates', level: 1 }).waitFor();
    await page.getByTestId('gallery-link').click();
    await page.getByRole('heading', { name: 'Template gallery', level: 1 }).waitFor();
    await page.getByTestId('gallery-search').fill(name);
    const card = page.getByTestId('gallery-item').filter({ hasText: name });
    // The search narrows the list to the one template.
    await waitUntil(
      page,
      (want) => {
        const items = [...document.querySelectorAll('[data-testid="gallery-item"]')];
        return items.length === 1 && items[0].querySelector('[data-testid="gallery-name"]').textContent === want;
      },
      name,
      async () => `the gallery shows: ${await page.getByTestId('gallery-list').innerText()}`,
    );
    await card.getByTestId('gallery-copy').click();
    await card.getByTestId('gallery-copied').click();
    await page.getByRole('heading', { name: 'Templates', level: 1 }).waitFor();
    const mine = page.getByTestId('template-item').filter({ hasText: name });
    await mine.waitFor();
    copyId = await mine.getAttribute('data-id');
    assert.notEqual(copyId, made.json.id);
    const copy = await apiAs('demo', 'demo', 'GET', `/templates/${copyId}`);
    assert.equal(copy.json.copied_from, made.json.id);
    assert.equal(copy.json.is_public, false);
    assert.equal(copy.json.owner.username, 'demo');
    assertNoPageErrors(errors);
  } finally {
    if (copyId) await apiAs('demo', 'demo', 'DELETE', `/templates/${copyId}`);
    await apiAs('admin', 'admin', 'DELETE', `/templates/${made.json.id}`);
    await context.close();
  }
});
