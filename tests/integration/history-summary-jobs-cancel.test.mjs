// Summary jobs as their owner lists and cancels them: GET /summary-jobs (the
// caller's jobs, newest first, keyset pages with limit and after; active=true
// keeps those not ended) and DELETE /summary-jobs/{id}: a queued job ends at
// once, a running one after the conversation it is summarising (that one
// stored and charged, the others untouched and not charged), status
// cancelled (done when that conversation was its last). Cancelling an ended job changes nothing and answers it as it is
// (200). Others' jobs are 404 and never listed; a cancel from another site
// is refused (CSRF); each cancel has its audit row.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { api } from '../lib/http.mjs';
import { sql, sqlJson } from '../lib/db.mjs';
import { auditRow } from '../lib/audit.mjs';
import { assertError, assertJson } from '../lib/assert.mjs';
import { ADMIN, uniq } from '../lib/users.mjs';
import { poll } from '../lib/poll.mjs';
import { ChatFixture, assertLedgerExplains, credits, ledgerMark, ledgerSince, say } from '../lib/chat.mjs';

const SLUG = 'summariser';
const fx = new ChatFixture('hsjcancel');
let chatModel;

before(async () => {
  await sql(`DELETE FROM ai_tools WHERE slug = :'p1'`, SLUG);
  chatModel = await fx.model({ provider: 'openai' });
  await fx.model({ provider: 'openai', slug: SLUG, maxTokens: 200 });
});

after(async () => {
  await fx.cleanup();
});

const summariseThese = (auth, ids) => api('POST', '/conversations/bulk', { ...auth, body: { ids, action: 'summarise' } });
const setSummaryModel = (modelId) => api('PATCH', `/admin/tools/${SLUG}`, { ...ADMIN, body: { model_id: modelId } });
const jobOf = (auth, id) => api('GET', `/summary-jobs/${id}`, auth);
const FINAL = ['done', 'failed', 'cancelled'];

async function finished(auth, id) {
  const res = await poll(() => jobOf(auth, id), (r) => r.status !== 200 || FINAL.includes(r.json.status), { tries: 600, intervalMs: 100 });
  return assertJson(res, 200);
}

async function chats(user, n, marker) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const conv = await fx.conversation(user, [chatModel], { title: `Chat ${i} ${marker}` });
    await say(user, conv.id, `Topic ${i} of ${marker}`);
    out.push(conv);
  }
  return out;
}

/** Every page of a user's jobs with this page size: the pages' items, and the cursors seen. */
async function allPages(auth, limit, extra = '') {
  const items = [];
  const cursors = [];
  let after = null;
  for (let i = 0; i < 50; i++) {
    const page = assertJson(await api('GET', `/summary-jobs?limit=${limit}${extra}${after ? `&after=${after}` : ''}`, auth), 200);
    assert.ok(page.items.length <= limit);
    items.push(...page.items);
    if (!page.next) return { items, cursors };
    cursors.push(page.next);
    after = page.next;
  }
  throw new Error('the pages never ended');
}

test('the list shows the caller\'s jobs newest first, a page at a time, and never another user\'s', async () => {
  const user = await fx.user();
  const stranger = await fx.user();
  const convs = await chats(user, 2, uniq());
  const theirs = await chats(stranger, 1, uniq());
  const ids = [];
  for (let i = 0; i < 5; i++) ids.push(assertJson(await summariseThese(user, [convs[i % 2].id]), 202).id);
  const strangerJob = assertJson(await summariseThese(stranger, [theirs[0].id]), 202).id;
  for (const id of ids) assert.equal((await finished(user, id)).status, 'done');

  const whole = assertJson(await api('GET', '/summary-jobs', user), 200);
  assert.deepEqual(whole.items.map((j) => j.id), [...ids].reverse(), 'not the user\'s jobs, newest first');
  assert.equal(whole.next, null);
  const first = whole.items[0];
  assert.equal(first.status, 'done');
  assert.equal(first.total, 1);
  assert.equal(first.done, 1);
  assert.equal(first.cancel_requested, false);
  assert.deepEqual(first.conversation_ids, [convs[0].id]);

  // Pages of two: 2, 2, 1, the same jobs in the same order, each cursor new.
  const paged = await allPages(user, 2);
  assert.deepEqual(paged.items.map((j) => j.id), [...ids].reverse());
  assert.equal(paged.cursors.length, 2);
  assert.equal(new Set(paged.cursors).size, 2);

  // Ended jobs are not active.
  assert.deepEqual(assertJson(await api('GET', '/summary-jobs?active=true', user), 200).items, []);
  assert.equal(assertJson(await api('GET', '/summary-jobs?active=false', user), 200).items.length, 5);

  const theirList = assertJson(await api('GET', '/summary-jobs', stranger), 200).items.map((j) => j.id);
  assert.deepEqual(theirList, [strangerJob]);
  await finished(stranger, strangerJob);
});

test('bad list parameters are a 422 naming the parameter', async () => {
  const user = await fx.user();
  assertError(await api('GET', '/summary-jobs?limit=0', user), 422, 'invalid_field', 'limit');
  assertError(await api('GET', '/summary-jobs?limit=101', user), 422, 'invalid_field', 'limit');
  assertError(await api('GET', '/summary-jobs?limit=x', user), 422, 'invalid_field', 'limit');
  assertError(await api('GET', '/summary-jobs?active=maybe', user), 422, 'invalid_field', 'active');
  assertError(await api('GET', '/summary-jobs?after=zz', user), 422, 'invalid_field', 'after');
  // A cursor of another list (the conversations' "v" kind) is refused.
  const v = Buffer.from(`v|${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(12)}|1`).toString('hex');
  assertError(await api('GET', `/summary-jobs?after=${v}`, user), 422, 'invalid_field', 'after');
});

test('cancelling a running job stops it after the conversation it is summarising; only what was summarised is charged', async () => {
  const user = await fx.user({ credits: 1000000 });
  const marker = uniq();
  const convs = await chats(user, 5, marker);
  const start = await credits(user.id);
  const mark = await ledgerMark();
  assertJson(await setSummaryModel('gpt-4o-mini@latency=1500'), 200);
  let job, cancel;
  try {
    const queued = assertJson(await summariseThese(user, convs.map((c) => c.id)), 202);
    const running = await poll(() => jobOf(user, queued.id), (r) => r.json.done >= 1 || FINAL.includes(r.json.status), { tries: 300, intervalMs: 50 });
    assert.equal(running.json.status, 'running', JSON.stringify(running.json));

    const active = assertJson(await api('GET', '/summary-jobs?active=true', user), 200).items;
    assert.deepEqual(active.map((j) => j.id), [queued.id], 'a running job is not listed as active');

    cancel = await api('DELETE', `/summary-jobs/${queued.id}`, user);
    const answered = assertJson(cancel, 200);
    assert.equal(answered.id, queued.id);
    assert.equal(answered.status, 'running', 'a running job ends after its current conversation, not at once');
    assert.equal(answered.cancel_requested, true);
    job = await finished(user, queued.id);
  } finally {
    assertJson(await setSummaryModel('gpt-4o-mini'), 200);
  }
  assert.equal(job.status, 'cancelled', JSON.stringify(job));
  assert.ok(job.done >= 1 && job.done < convs.length, `done ${job.done} of ${convs.length}`);
  assert.equal(job.failed, 0);
  assert.ok(job.finished_at, 'a cancelled job has no end time');

  // The first `done` chats have their summary, the others none.
  const rows = await sqlJson(`SELECT id, summary FROM conversations WHERE id = ANY (:'p1'::uuid[])`, `{${convs.map((c) => c.id).join(',')}}`);
  const summary = Object.fromEntries(rows.map((r) => [r.id, r.summary]));
  convs.forEach((c, i) => assert.equal(summary[c.id] !== null, i < job.done, `chat ${i}: summary ${summary[c.id]}`));

  // Charged for what was summarised, nothing left reserved.
  const ledger = await ledgerSince(user.id, mark);
  assert.deepEqual(ledger.map((r) => r.reason), Array(job.done).fill(['reserve', 'settle']).flat());
  assertLedgerExplains(ledger, start, await credits(user.id));

  const row = await auditRow(cancel);
  assert.equal(row.action, 'cancel');
  assert.equal(row.entity_type, 'summary_job');
  assert.equal(row.entity_id, job.id);
  assert.equal(row.status, 200);
  assert.deepEqual(row.old_values, { status: 'running', cancel_requested: false });
  assert.deepEqual(row.new_values, { status: 'running', cancel_requested: true });
  assert.deepEqual(assertJson(await api('GET', '/summary-jobs?active=true', user), 200).items, []);
});

test('cancelling a queued job ends it at once, cancelled, nothing summarised or charged', async () => {
  const user = await fx.user({ credits: 1000000 });
  const [conv] = await chats(user, 1, uniq());
  const mark = await ledgerMark();
  // More slow jobs than the workers of every node (ServerLimit 4 per node, two
  // nodes at most): the newest waits in the queue while the others run.
  assertJson(await setSummaryModel('gpt-4o-mini@latency=4000'), 200);
  const ids = [];
  let last, cancel;
  try {
    for (let i = 0; i < 9; i++) ids.push(assertJson(await summariseThese(user, [conv.id]), 202).id);
    last = ids.at(-1);
    cancel = await api('DELETE', `/summary-jobs/${last}`, user);
    const answered = assertJson(cancel, 200);
    assert.equal(answered.status, 'cancelled', 'the newest of nine slow jobs was not waiting');
    assert.equal(answered.cancel_requested, true);
    assert.equal(answered.done, 0);
    assert.ok(answered.finished_at);
    // The others: the queued ones end now; the running ones after their one
    // chat, which leaves nothing to cancel, so they end done.
    const told = {};
    for (const id of ids.slice(0, -1)) told[id] = assertJson(await api('DELETE', `/summary-jobs/${id}`, user), 200).status;
    for (const id of ids.slice(0, -1)) {
      const ended = await finished(user, id);
      assert.equal(ended.status, told[id] === 'running' ? 'done' : 'cancelled', JSON.stringify(ended));
      assert.equal(ended.done, told[id] === 'running' ? 1 : 0);
    }
    assert.equal((await finished(user, last)).status, 'cancelled');
  } finally {
    assertJson(await setSummaryModel('gpt-4o-mini'), 200);
  }
  const job = assertJson(await jobOf(user, last), 200);
  assert.equal(job.started_at, null, 'the cancelled job was started');
  assert.equal(job.done + job.failed, 0);
  const row = await auditRow(cancel);
  assert.deepEqual([row.action, row.entity_id], ['cancel', last]);
  assert.deepEqual(row.old_values, { status: 'queued', cancel_requested: false });
  assert.deepEqual(row.new_values, { status: 'cancelled', cancel_requested: true });
  // Every reservation was settled: only the jobs that ran charged anything.
  const ledger = await ledgerSince(user.id, mark);
  assert.equal(ledger.filter((r) => r.reason === 'reserve').length, ledger.filter((r) => r.reason === 'settle').length);
  assert.ok(ledger.filter((r) => r.reason === 'settle').length < ids.length, 'every job was summarised');
});

test('cancelling an ended job changes nothing and answers it as it is', async () => {
  const user = await fx.user();
  const [conv] = await chats(user, 1, uniq());
  const queued = assertJson(await summariseThese(user, [conv.id]), 202);
  const done = await finished(user, queued.id);
  assert.equal(done.status, 'done');
  const res = await api('DELETE', `/summary-jobs/${queued.id}`, user);
  assert.deepEqual(assertJson(res, 200), done);
  assert.deepEqual(assertJson(await jobOf(user, queued.id), 200), done);
  const row = await auditRow(res);
  assert.equal(row.action, 'cancel');
  assert.deepEqual(row.old_values, row.new_values);
  // Twice: the same.
  assert.deepEqual(assertJson(await api('DELETE', `/summary-jobs/${queued.id}`, user), 200), done);
});

test('another user\'s job is 404 to cancel and stays as it was; a cancel from another site is refused', async () => {
  const owner = await fx.user({ credits: 1000000 });
  const stranger = await fx.user();
  const convs = await chats(owner, 2, uniq());
  assertJson(await setSummaryModel('gpt-4o-mini@latency=1000'), 200);
  try {
    const queued = assertJson(await summariseThese(owner, convs.map((c) => c.id)), 202);
    assertError(await api('DELETE', `/summary-jobs/${queued.id}`, stranger), 404, 'not_found');
    assertError(await api('DELETE', '/summary-jobs/not-a-uuid', owner), 404, 'not_found');
    assertError(await api('DELETE', `/summary-jobs/${crypto.randomUUID()}`, owner), 404, 'not_found');
    assertError(
      await api('DELETE', `/summary-jobs/${queued.id}`, { ...owner, headers: { Origin: 'https://evil.example' } }),
      403, 'csrf_rejected',
    );
    const job = await finished(owner, queued.id);
    assert.equal(job.status, 'done', JSON.stringify(job));
    assert.equal(job.cancel_requested, false);
    assert.equal(job.done, 2);
  } finally {
    assertJson(await setSummaryModel('gpt-4o-mini'), 200);
  }
});
