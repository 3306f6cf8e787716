// When the summary model is not available — the slug AIChatSummaryModel names
// (scripts/dev: `summariser`) is not in the catalog, or its model is not
// active — a summary answers 503 summary_unavailable and "Summarise these"
// queues nothing (503 too); nothing is reserved or charged, nothing stored.
// A model that goes away while a job runs: the job's remaining chats record
// summary_unavailable, uncharged. The condition is made through the admin
// API (a catalog change), and undone: the same request then succeeds.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { api } from '../lib/http.mjs';
import { sql, sqlJson, sqlValue } from '../lib/db.mjs';
import { assertError, assertJson } from '../lib/assert.mjs';
import { ADMIN, uniq } from '../lib/users.mjs';
import { poll } from '../lib/poll.mjs';
import { ChatFixture, assertLedgerExplains, credits, ledgerMark, ledgerSince, say } from '../lib/chat.mjs';

const SLUG = 'summariser';
const fx = new ChatFixture('hsunav');
let chatModel;

before(async () => {
  await sql(`DELETE FROM ai_tools WHERE slug = :'p1'`, SLUG);
  chatModel = await fx.model({ provider: 'openai' });
  await fx.model({ provider: 'openai', slug: SLUG, maxTokens: 200 });
});

after(async () => {
  await fx.cleanup();
});

const summarise = (auth, convId) => api('POST', `/conversations/${convId}/summary`, auth);
const summariseThese = (auth, ids) => api('POST', '/conversations/bulk', { ...auth, body: { ids, action: 'summarise' } });
const patchTool = (slug, body) => api('PATCH', `/admin/tools/${slug}`, { ...ADMIN, body });

async function chat(user) {
  const conv = await fx.conversation(user, [chatModel], { title: `Unavailable ${uniq()}` });
  await say(user, conv.id, `something to summarise ${uniq()}`);
  return conv;
}

/** What a user's failed request must have left untouched. */
async function assertNothingCharged(user, convIds, balance, mark) {
  assert.equal(await credits(user.id), balance, 'the user was charged');
  assert.deepEqual(await ledgerSince(user.id, mark), [], 'credits were reserved');
  assert.equal(
    await sqlValue(`SELECT count(*) FROM conversations WHERE id = ANY (:'p1'::uuid[]) AND summary IS NOT NULL`, `{${convIds.join(',')}}`),
    '0', 'a summary was stored',
  );
  assert.deepEqual(await sqlJson(`SELECT id FROM summary_jobs WHERE owner_id = :'p1'`, user.id), [], 'a job was queued');
}

test('the summary model missing from the catalog: 503 summary_unavailable for one chat and for a selection, nothing charged', async () => {
  const user = await fx.user({ credits: 100000 });
  const convs = [await chat(user), await chat(user)];
  const balance = await credits(user.id);
  const mark = await ledgerMark();
  const away = `summariser-away-${uniq()}`;
  assertJson(await patchTool(SLUG, { slug: away }), 200);
  try {
    assert.equal(await sqlValue(`SELECT count(*) FROM ai_tools WHERE slug = :'p1'`, SLUG), '0');
    assertError(await summarise(user, convs[0].id), 503, 'summary_unavailable');
    assertError(await summariseThese(user, convs.map((c) => c.id)), 503, 'summary_unavailable');
    await assertNothingCharged(user, convs.map((c) => c.id), balance, mark);
    // Still 404 for a chat the user may not see (no existence leak through the 503).
    const stranger = await fx.user();
    assertError(await summarise(stranger, convs[0].id), 404, 'not_found');
    assertError(await summariseThese(stranger, [convs[0].id]), 404, 'not_found');
  } finally {
    assertJson(await patchTool(away, { slug: SLUG }), 200);
  }
  // The model back: the same requests succeed.
  assertJson(await summarise(user, convs[0].id), 200);
  const job = assertJson(await summariseThese(user, [convs[1].id]), 202);
  const ended = await poll(() => api('GET', `/summary-jobs/${job.id}`, user), (r) => r.json?.status === 'done', { tries: 300 });
  assert.equal(ended.json.status, 'done', JSON.stringify(ended.json));
});

test('the summary model not active: a selection is 503 summary_unavailable, no job queued, nothing charged', async () => {
  const user = await fx.user({ credits: 100000 });
  const convs = [await chat(user)];
  const balance = await credits(user.id);
  const mark = await ledgerMark();
  assertJson(await patchTool(SLUG, { is_active: false }), 200);
  try {
    const res = await summariseThese(user, convs.map((c) => c.id));
    assertError(res, 503, 'summary_unavailable');
    await assertNothingCharged(user, convs.map((c) => c.id), balance, mark);
    assert.equal(
      await sqlValue(`SELECT count(*) FROM audit_logs WHERE user_id = :'p1' AND action = 'summarise' AND entity_id IS NOT NULL`, user.id),
      '0', 'a conversation has an audit row of a summary job');
  } finally {
    assertJson(await patchTool(SLUG, { is_active: true }), 200);
  }
});

test('a model switched off while a job runs: the remaining chats record summary_unavailable and are not charged', async () => {
  const user = await fx.user({ credits: 1000000 });
  const convs = [];
  for (let i = 0; i < 4; i++) convs.push(await chat(user));
  const start = await credits(user.id);
  const mark = await ledgerMark();
  assertJson(await patchTool(SLUG, { model_id: 'gpt-4o-mini@latency=1200' }), 200);
  let job;
  try {
    const queued = assertJson(await summariseThese(user, convs.map((c) => c.id)), 202);
    const running = await poll(() => api('GET', `/summary-jobs/${queued.id}`, user), (r) => r.json.done >= 1 || r.json.status !== 'running' && r.json.status !== 'queued', { tries: 300, intervalMs: 50 });
    assert.equal(running.json.status, 'running', JSON.stringify(running.json));
    assertJson(await patchTool(SLUG, { is_active: false }), 200);
    job = assertJson(await poll(() => api('GET', `/summary-jobs/${queued.id}`, user), (r) => ['done', 'failed'].includes(r.json.status), { tries: 300 }), 200);
  } finally {
    assertJson(await patchTool(SLUG, { model_id: 'gpt-4o-mini', is_active: true }), 200);
  }
  assert.equal(job.status, 'done', JSON.stringify(job));
  assert.ok(job.failed >= 1 && job.done >= 1 && job.done + job.failed === convs.length, JSON.stringify(job));
  assert.deepEqual(job.errors.map((e) => e.code), Array(job.failed).fill('summary_unavailable'));
  assert.deepEqual(job.errors.map((e) => e.conversation_id), convs.slice(job.done).map((c) => c.id));
  // Charged for the chats summarised only: a reservation and its settlement each.
  const ledger = await ledgerSince(user.id, mark);
  assert.deepEqual(ledger.map((r) => r.reason), Array(job.done).fill(['reserve', 'settle']).flat());
  assertLedgerExplains(ledger, start, await credits(user.id));
});
