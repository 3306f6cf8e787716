// Summaries: the model AIChatSummaryModel names (scripts/dev: `summariser`,
// made here on the mock provider) summarises a conversation's visible
// thread; the one who asks is charged as for any call (reserved before,
// settled to the provider's usage after, given back when the call fails);
// the summary is stored with its model and time, shown on the conversation
// and in the list, and made again on demand. Others get 404.
// When the summary model is not available (its slug not in the catalog, or
// its model not active) a summary answers 503 summary_unavailable and
// "Summarise these" queues nothing (503 too); nothing is reserved or
// charged. A model that goes away while a job runs: the job's remaining
// chats record summary_unavailable, uncharged. The conditions are made
// through the admin API and undone: the same requests then succeed.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { api } from '../lib/http.mjs';
import { sql, sqlJson, sqlValue } from '../lib/db.mjs';
import { auditRow } from '../lib/audit.mjs';
import { assertError, assertJson } from '../lib/assert.mjs';
import { ADMIN, uniq } from '../lib/users.mjs';
import { poll } from '../lib/poll.mjs';
import {
  ChatFixture, assertLedgerExplains, chunkCount, credits, ledgerMark, ledgerSince, mockLast, mockPromptTokens,
  reserveBound, say, setCredits, upstreamSystem, upstreamTurns,
} from '../lib/chat.mjs';

const SLUG = 'summariser';
const fx = new ChatFixture('hsum');
let chatModel, summariser;

before(async () => {
  // A summariser left by an interrupted run would make the slug taken.
  await sql(`DELETE FROM ai_tools WHERE slug = :'p1'`, SLUG);
  chatModel = await fx.model({ provider: 'openai' });
  summariser = await fx.model({ provider: 'openai', slug: SLUG, maxTokens: 200 });
});

after(async () => {
  await fx.cleanup();
});

const summarise = (auth, convId) => api('POST', `/conversations/${convId}/summary`, auth);

test('a summary is made by the summary model from the thread, stored with its model and time, and charged its usage', async () => {
  const user = await fx.user({ credits: 100000 });
  const marker = uniq();
  const conv = await fx.conversation(user, [chatModel], { title: `Trip ${marker}` });
  await say(user, conv.id, `Plan a trip to Lisbon ${marker}`);
  await say(user, conv.id, 'And where to eat?');
  const start = await credits(user.id);
  const mark = await ledgerMark();

  const res = await summarise(user, conv.id);
  const body = assertJson(res, 200);
  const sent = await mockLast('openai', marker);
  assert.equal(sent.body.model, 'gpt-4o-mini', 'the summary was not asked of the summary model');
  assert.ok(upstreamSystem('openai', sent.body).includes('summar'), 'no summary instruction was sent');
  const [turn] = upstreamTurns('openai', sent.body);
  assert.ok(turn.text.includes(`Plan a trip to Lisbon ${marker}`) && turn.text.includes('And where to eat?'), 'the thread was not sent');
  assert.ok(turn.text.includes('Mock reply to: And where to eat?'), 'the answers were not sent');

  assert.equal(body.summary, `Mock reply to: ${turn.text}`);
  assert.equal(body.summary_model, SLUG);
  assert.ok(Date.parse(body.summarized_at) > Date.now() - 60000, `summarized_at ${body.summarized_at}`);

  const used = mockPromptTokens('openai', sent.body) + chunkCount(body.summary);
  const after = await credits(user.id);
  assert.equal(after, start - used, `the summary cost ${start - after}, its usage ${used}`);
  assert.equal(body.credits, after);
  const ledger = await ledgerSince(user.id, mark);
  assertLedgerExplains(ledger, start, after);
  assert.deepEqual(ledger.map((r) => r.reason), ['reserve', 'settle']);
  assert.equal(ledger[0].delta, -reserveBound({ system: upstreamSystem('openai', sent.body), messages: [turn.text], maxTokens: 200 }));
  assert.match(ledger[0].note, new RegExp(conv.id));

  const row = await auditRow(res);
  assert.equal(row.action, 'summarise');
  assert.equal(row.entity_type, 'conversation');
  assert.equal(row.entity_id, conv.id);
  assert.equal(row.new_values.summary, body.summary);

  const shown = assertJson(await api('GET', `/conversations/${conv.id}`, user), 200);
  assert.equal(shown.summary, body.summary);
  assert.equal(shown.summary_model, SLUG);
  const listed = assertJson(await api('GET', '/conversations', user), 200).items.find((c) => c.id === conv.id);
  assert.equal(listed.summary, body.summary);

  // Made again on demand: the newer thread, charged again.
  await say(user, conv.id, `And the museums ${marker}?`);
  const again = assertJson(await summarise(user, conv.id), 200);
  assert.ok(again.summary.includes(`And the museums ${marker}?`));
  assert.ok(Date.parse(again.summarized_at) >= Date.parse(body.summarized_at));
  assert.ok(again.credits < after);
  assert.equal(await sqlValue(`SELECT summary FROM conversations WHERE id = :'p1'`, conv.id), again.summary);
});

test('a failed summary gives its reservation back and keeps the old summary', async () => {
  const user = await fx.user({ credits: 50000 });
  const conv = await fx.conversation(user, [chatModel]);
  await say(user, conv.id, 'something to summarise');
  const first = assertJson(await summarise(user, conv.id), 200);
  const balance = await credits(user.id);
  const mark = await ledgerMark();

  assertJson(await api('PATCH', `/admin/tools/${SLUG}`, { ...ADMIN, body: { model_id: 'gpt-4o-mini@error=500' } }), 200);
  try {
    const res = await summarise(user, conv.id);
    assertError(res, 502, 'provider_error');
    assert.equal(await credits(user.id), balance, 'a failed summary was charged');
    const ledger = await ledgerSince(user.id, mark);
    assert.deepEqual(ledger.map((r) => r.reason), ['reserve', 'release']);
    assertLedgerExplains(ledger, balance, balance);
    assert.equal(await sqlValue(`SELECT summary FROM conversations WHERE id = :'p1'`, conv.id), first.summary);
  } finally {
    assertJson(await api('PATCH', `/admin/tools/${SLUG}`, { ...ADMIN, body: { model_id: 'gpt-4o-mini' } }), 200);
  }
});

test('without the credits a summary is 402 and nothing is asked or written', async () => {
  const user = await fx.user({ credits: 100000 });
  const conv = await fx.conversation(user, [chatModel]);
  await say(user, conv.id, 'short');
  await setCredits(user.id, 10);
  const mark = await ledgerMark();
  assertError(await summarise(user, conv.id), 402, 'insufficient_credits');
  assert.equal(await credits(user.id), 10);
  assert.deepEqual(await ledgerSince(user.id, mark), []);
  assert.equal(await sqlValue(`SELECT summary IS NULL FROM conversations WHERE id = :'p1'`, conv.id), 't');
});

test('a participant may ask (and pays); others get 404; an empty conversation has nothing to summarise', async () => {
  const owner = await fx.user({ credits: 100000 });
  const member = await fx.user({ credits: 100000 });
  const stranger = await fx.user({ credits: 100000 });
  const conv = await fx.conversation(owner, [chatModel]);
  await say(owner, conv.id, 'group topic');
  assertJson(await api('POST', `/conversations/${conv.id}/participants`, { ...owner, body: { username: member.user } }), 200);

  assertError(await summarise(stranger, conv.id), 404, 'not_found');
  assert.equal(await credits(stranger.id), 100000);
  assertError(await summarise(stranger, 'not-a-uuid'), 404, 'not_found');

  assertJson(await summarise(member, conv.id), 200);
  assert.ok(await credits(member.id) < 100000, 'the participant who asked was not charged');

  const empty = await fx.conversation(owner, [chatModel]);
  assertError(await summarise(owner, empty.id), 422, 'invalid_field');
});

test('a summary model that is not active answers 503 summary_unavailable and charges nothing', async () => {
  const user = await fx.user({ credits: 100000 });
  const conv = await fx.conversation(user, [chatModel]);
  await say(user, conv.id, 'anything');
  const balance = await credits(user.id);
  assertJson(await api('PATCH', `/admin/tools/${SLUG}`, { ...ADMIN, body: { is_active: false } }), 200);
  try {
    assertError(await summarise(user, conv.id), 503, 'summary_unavailable');
    assert.equal(await credits(user.id), balance);
  } finally {
    assertJson(await api('PATCH', `/admin/tools/${SLUG}`, { ...ADMIN, body: { is_active: true } }), 200);
  }
});

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
