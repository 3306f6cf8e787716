// "Summarise these" survives a reload, in a real browser: start a job over
// three chats with a slow summary model (the mock's latency switch), reload
// the page, see the job's progress again with its Cancel button, cancel it,
// see it cancelled (after the chat it was summarising). As the seeded user
// demo; everything made is deleted after.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { apiAs, assertNoPageErrors, ensureCredits, launch, newPage, signIn, unique, url, waitUntil } from './lib.mjs';

const created = [];

async function conversation(title) {
  const res = await apiAs('demo', 'demo', 'POST', '/conversations', { tools: ['gpt-4o-mini'], title });
  assert.equal(res.status, 201, res.text);
  created.push(res.json.id);
  return res.json;
}

describe('summary jobs', () => {
  let browser;

  before(async () => {
    await ensureCredits('demo', 'demo', 50000);
    // The summary model scripts/dev configures (AIChatSummaryModel summariser), on the mock, slow.
    await apiAs('admin', 'admin', 'DELETE', '/admin/tools/summariser');
    const tool = await apiAs('admin', 'admin', 'POST', '/admin/tools', {
      slug: 'summariser', name: 'Summariser', provider: 'openai', model_id: 'gpt-4o-mini@latency=2500', default_settings: { max_tokens: 200 },
    });
    assert.equal(tool.status, 201, tool.text);
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    await apiAs('admin', 'admin', 'PATCH', '/admin/tools/summariser', { model_id: 'gpt-4o-mini' });
    for (const id of created) await apiAs('demo', 'demo', 'DELETE', `/conversations/${id}`);
  });

  test('a running job shows again after a reload, with Cancel; cancelled, it says so', async () => {
    const name = unique('sumjob');
    const convs = [];
    for (let i = 0; i < 3; i++) {
      const conv = await conversation(`${name} chat ${i}`);
      const sent = await apiAs('demo', 'demo', 'POST', `/conversations/${conv.id}/messages`, { content: `talk ${i} of ${name}` });
      assert.equal(sent.status, 201, sent.text);
      convs.push(conv);
    }
    const { context, page, errors } = await newPage(browser);
    try {
      await signIn(page, 'demo', 'demo');
      await page.goto(url('/chat/#/chat'));
      for (const conv of convs) await page.locator(`input[data-testid="conv-select"][value="${conv.id}"]`).click();
      await waitUntil(page, () => document.querySelector('[data-testid="bulk-count"]')?.textContent === '3 selected', null,
        async () => `bulk count: ${await page.getByTestId('bulk-count').textContent()}`);
      await page.getByTestId('bulk-summarise').click();
      const row = page.locator('[data-testid="summary-job-row"]').first();
      await row.waitFor();
      const jobId = await row.getAttribute('data-job-id');

      await page.reload();
      const again = page.locator(`[data-testid="summary-job-row"][data-job-id="${jobId}"]`);
      await again.waitFor();
      const progress = again.getByTestId('summary-job-progress');
      assert.match(await progress.textContent(), /^Summarising… [0-2] of 3$/);
      const listed = await apiAs('demo', 'demo', 'GET', '/summary-jobs?active=true');
      assert.ok(listed.json.items.some((j) => j.id === jobId), 'the job the page shows is not running');

      await again.getByTestId('summary-job-cancel').click();
      await waitUntil(page, (id) => document.querySelector(`[data-job-id="${id}"] [data-testid="summary-job-progress"]`)?.dataset.status === 'cancelled',
        jobId, async () => `progress: ${await progress.textContent()}`);
      const job = (await apiAs('demo', 'demo', 'GET', `/summary-jobs/${jobId}`)).json;
      assert.equal(job.status, 'cancelled');
      assert.ok(job.done < 3, `the cancelled job summarised all ${job.done} chats`);
      assert.equal(await progress.textContent(), `Cancelled: summarised ${job.done} of 3 chats.`);
      assert.equal(await again.getByTestId('summary-job-cancel').count(), 0, 'an ended job still offers Cancel');
      assertNoPageErrors(errors);
    } finally {
      await context.close();
    }
  });
});
