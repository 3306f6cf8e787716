// "Summarise these": POST /conversations/bulk {"action":"summarise"} queues a
// summary job (202) that a worker thread of httpd works in the background;
// GET /summary-jobs/{id} follows it; GET /summary-jobs lists the caller's
// jobs (newest first, keyset pages with limit and after; active=true keeps
// those not ended); DELETE /summary-jobs/{id} cancels one: a queued job ends
// at once, a running one after the conversation it is summarising (that one
// stored and charged, the others untouched and not charged), status
// cancelled (done when that conversation was its last). Cancelling an ended
// job changes nothing and answers it as it is (200); a cancel from another
// site is refused (CSRF); each cancel has its audit row. Each conversation is summarised and
// charged as POST /conversations/{id}/summary does (reserve, settle; a failed
// call gives its reservation back, and the job records that conversation's
// error and goes on). Others' conversations and jobs are 404. A graceful
// restart in the middle of a job: the job is taken up again and completes,
// each conversation summarised once.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { api } from '../lib/http.mjs';
import { sql, sqlJson, whileHeld } from '../lib/db.mjs';
import { auditRow } from '../lib/audit.mjs';
import { assertError, assertJson } from '../lib/assert.mjs';
import { ADMIN, uniq } from '../lib/users.mjs';
import { poll } from '../lib/poll.mjs';
import { restartGracefully } from '../lib/nodes.mjs';
import {
  ChatFixture, assertLedgerExplains, chunkCount, credits, ledgerMark, ledgerSince, mockLast, mockPromptTokens, say,
  upstreamSystem, upstreamTurns,
} from '../lib/chat.mjs';

const SLUG = 'summariser';
const fx = new ChatFixture('hsjob');
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

const FINAL = ['done', 'failed', 'cancelled'];

/** The job once it has ended; reads that fail while httpd restarts are read again. */
async function finished(auth, id) {
  const res = await poll(
    () => api('GET', `/summary-jobs/${id}`, auth).catch(() => ({ status: 0 })),
    (r) => (r.status !== 200 && r.status !== 0 && r.status !== 502 && r.status !== 503) || FINAL.includes(r.json?.status),
    { tries: 1200, intervalMs: 100 },
  );
  return assertJson(res, 200);
}

async function chats(fixture, user, n, marker) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const conv = await fixture.conversation(user, [chatModel], { title: `Chat ${i} ${marker}` });
    await say(user, conv.id, `Topic ${i} of ${marker}`);
    out.push(conv);
  }
  return out;
}

const setSummaryModel = (modelId) => api('PATCH', `/admin/tools/${SLUG}`, { ...ADMIN, body: { model_id: modelId } });
const jobOf = (auth, id) => api('GET', `/summary-jobs/${id}`, auth);

test('a job over three chats makes three summaries, each charged like a single summary, with an audit row each', async () => {
  const user = await fx.user({ credits: 100000 });
  const marker = uniq();
  const convs = await chats(fx, user, 3, marker);
  const start = await credits(user.id);
  const mark = await ledgerMark();

  const res = await summariseThese(user, convs.map((c) => c.id));
  const queued = assertJson(res, 202);
  assert.equal(queued.total, 3);
  assert.deepEqual(queued.conversation_ids, convs.map((c) => c.id));
  const job = await finished(user, queued.id);
  assert.equal(job.status, 'done', JSON.stringify(job));
  assert.equal(job.done, 3);
  assert.equal(job.failed, 0);
  assert.deepEqual(job.errors, []);

  // The mock keeps the last request (the third chat's); the others were sent the same way.
  const last = await mockLast('openai', `Topic 2 of ${marker}`);
  const system = upstreamSystem('openai', last.body);
  let used = 0;
  const listed = assertJson(await api('GET', '/conversations', user), 200).items;
  for (const [i, conv] of convs.entries()) {
    const shown = assertJson(await api('GET', `/conversations/${conv.id}`, user), 200);
    const prefix = `Mock reply to: Conversation "Chat ${i} ${marker}":\n\nUser: Topic ${i} of ${marker}\n\n`;
    assert.ok(shown.summary.startsWith(prefix), `chat ${i} has not its summary: ${shown.summary}`);
    assert.equal(shown.summary_model, SLUG);
    assert.equal(listed.find((c) => c.id === conv.id).summary, shown.summary);
    const sent = { messages: [{ role: 'system', content: system }, { role: 'user', content: shown.summary.slice('Mock reply to: '.length) }] };
    used += mockPromptTokens('openai', sent) + chunkCount(shown.summary);
  }
  assert.equal(upstreamTurns('openai', last.body)[0].text, (await api('GET', `/conversations/${convs[2].id}`, user)).json.summary.slice('Mock reply to: '.length));
  const end = await credits(user.id);
  assert.equal(end, start - used, `the job cost ${start - end}, its usage ${used}`);
  const ledger = await ledgerSince(user.id, mark);
  assertLedgerExplains(ledger, start, end);
  assert.deepEqual(ledger.map((r) => r.reason), ['reserve', 'settle', 'reserve', 'settle', 'reserve', 'settle']);
  for (const [i, conv] of convs.entries()) assert.match(ledger[2 * i].note, new RegExp(conv.id));

  const audit = await sqlJson(
    `SELECT entity_id, action, new_values FROM audit_logs WHERE user_id = :'p1' AND action = 'summarise' ORDER BY id`,
    user.id,
  );
  // The request's row per conversation (the job queued), then the worker's (the summary stored).
  assert.equal(audit.length, 6, JSON.stringify(audit));
  assert.deepEqual(audit.slice(0, 3).map((a) => a.new_values.summary_job_id), [queued.id, queued.id, queued.id]);
  assert.deepEqual(audit.slice(3).map((a) => a.entity_id), convs.map((c) => c.id));
  assert.ok(audit.slice(3).every((a) => typeof a.new_values.summary === 'string'));
});

test('a failing model gives that chat\'s reservation back; the job records its error and goes on', async () => {
  const user = await fx.user({ credits: 100000 });
  const marker = uniq();
  const convs = await chats(fx, user, 3, marker);
  const start = await credits(user.id);
  const mark = await ledgerMark();
  // Only the first call with this (unique) switch string fails.
  assertJson(await setSummaryModel(`gpt-4o-mini@error=500;error_times=1;latency=${1 + Math.floor(Math.random() * 50)}`), 200);
  let job;
  try {
    const queued = assertJson(await summariseThese(user, convs.map((c) => c.id)), 202);
    job = await finished(user, queued.id);
  } finally {
    assertJson(await setSummaryModel('gpt-4o-mini'), 200);
  }
  assert.equal(job.status, 'done', JSON.stringify(job));
  assert.equal(job.done, 2);
  assert.equal(job.failed, 1);
  assert.equal(job.errors.length, 1);
  assert.equal(job.errors[0].conversation_id, convs[0].id);
  assert.equal(job.errors[0].code, 'provider_error');

  const summaries = await sqlJson(
    `SELECT id, summary FROM conversations WHERE id = ANY (:'p1'::uuid[])`, `{${convs.map((c) => c.id).join(',')}}`,
  );
  const byId = Object.fromEntries(summaries.map((s) => [s.id, s.summary]));
  assert.equal(byId[convs[0].id], null, 'the failed chat has a summary');
  assert.ok(byId[convs[1].id] && byId[convs[2].id], 'the chats after the failed one were not summarised');

  const ledger = await ledgerSince(user.id, mark);
  assert.deepEqual(ledger.map((r) => r.reason), ['reserve', 'release', 'reserve', 'settle', 'reserve', 'settle']);
  assert.equal(ledger[0].delta + ledger[1].delta, 0, 'the failed call kept credits');
  assertLedgerExplains(ledger, start, await credits(user.id));
});

test('a job none of whose chats could be summarised ends failed, each error told, nothing charged', async () => {
  const user = await fx.user({ credits: 100000 });
  const convs = await chats(fx, user, 2, uniq());
  const empty = await fx.conversation(user, [chatModel]);
  const start = await credits(user.id);
  assertJson(await setSummaryModel('gpt-4o-mini@error=500'), 200);
  let job;
  try {
    const queued = assertJson(await summariseThese(user, [...convs.map((c) => c.id), empty.id]), 202);
    job = await finished(user, queued.id);
  } finally {
    assertJson(await setSummaryModel('gpt-4o-mini'), 200);
  }
  assert.equal(job.status, 'failed', JSON.stringify(job));
  assert.equal(job.done, 0);
  assert.equal(job.failed, 3);
  assert.deepEqual(job.errors.map((e) => [e.conversation_id, e.code]),
    [[convs[0].id, 'provider_error'], [convs[1].id, 'provider_error'], [empty.id, 'invalid_field']]);
  assert.equal(await credits(user.id), start, 'a failed job was charged');
});

test('others\' conversations make the whole request 404 and queue nothing; others\' jobs are 404', async () => {
  const owner = await fx.user({ credits: 100000 });
  const stranger = await fx.user({ credits: 100000 });
  const convs = await chats(fx, owner, 2, uniq());
  const mine = await chats(fx, stranger, 1, uniq());

  const refused = await summariseThese(stranger, [mine[0].id, convs[0].id]);
  assertError(refused, 404, 'not_found');
  assert.deepEqual(await sqlJson(`SELECT id FROM summary_jobs WHERE owner_id = :'p1'`, stranger.id), []);

  const queued = assertJson(await summariseThese(owner, convs.map((c) => c.id)), 202);
  assertError(await api('GET', `/summary-jobs/${queued.id}`, stranger), 404, 'not_found');
  assertError(await api('GET', '/summary-jobs/not-a-uuid', owner), 404, 'not_found');
  assert.equal((await finished(owner, queued.id)).done, 2);
  assertError(await api('POST', '/conversations/bulk', { ...owner, body: { ids: [], action: 'summarise' } }), 422, 'invalid_field');
});

test('a graceful restart in the middle of a job: the job is taken up again and completes, each chat summarised once', async () => {
  const user = await fx.user({ credits: 1000000 });
  const convs = await chats(fx, user, 6, uniq());
  const mark = await ledgerMark();
  assertJson(await setSummaryModel('gpt-4o-mini@latency=400'), 200);
  let job;
  try {
    const queued = assertJson(await summariseThese(user, convs.map((c) => c.id)), 202);
    const running = await poll(
      () => api('GET', `/summary-jobs/${queued.id}`, user),
      (r) => r.json.done >= 1 || r.json.status !== 'queued' && r.json.status !== 'running',
      { tries: 600, intervalMs: 50 },
    );
    assert.equal(running.json.status, 'running', 'the job was still running when httpd restarted');
    await restartGracefully();
    job = await finished(user, queued.id);
  } finally {
    assertJson(await setSummaryModel('gpt-4o-mini'), 200);
  }
  assert.equal(job.status, 'done', JSON.stringify(job));
  assert.equal(job.done, 6);
  assert.equal(job.failed, 0);
  const ledger = await ledgerSince(user.id, mark);
  assert.equal(ledger.filter((r) => r.reason === 'settle').length, 6, JSON.stringify(ledger));
  assert.equal(ledger.filter((r) => r.reason === 'reserve').length, 6, 'a chat was summarised twice');
  const unsummarised = await sqlJson(
    `SELECT id FROM conversations WHERE id = ANY (:'p1'::uuid[]) AND summary IS NULL`, `{${convs.map((c) => c.id).join(',')}}`,
  );
  assert.deepEqual(unsummarised, []);
});

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
  const convs = await chats(fx, user, 2, uniq());
  const theirs = await chats(fx, stranger, 1, uniq());
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

test('"Summarise these" is queued while a summary of the same user is being stored', async () => {
  const user = await fx.user();
  const [conv] = await chats(fx, user, 1, uniq());
  // A job storing a summary settles its credits under the user's row lock,
  // then locks the chat; "Summarise these" locks its chats, then queues the
  // job, whose row refers to the user. Were the second to wait for the
  // first's lock, the two would deadlock (and one answer 500).
  const WAIT_MS = 30_000;
  const res = await whileHeld(`SELECT chat_settle(:'p1', 0, 0, false, NULL)`, [user.id], () =>
    Promise.race([
      summariseThese(user, [conv.id]),
      new Promise((resolve) => setTimeout(() => resolve(null), WAIT_MS).unref()),
    ]));
  assert.ok(res, `"Summarise these" still waited for the settlement's lock after ${WAIT_MS / 1000} s`);
  const job = assertJson(res, 202);
  assert.equal((await finished(user, job.id)).status, 'done');
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
  const convs = await chats(fx, user, 5, marker);
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
  const [conv] = await chats(fx, user, 1, uniq());
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
    // The others: the queued ones end now. A running one ends done after its
    // one chat, which leaves nothing to cancel; or cancelled with nothing
    // done, when its worker had taken it but not yet begun that chat.
    const told = {};
    for (const id of ids.slice(0, -1)) told[id] = assertJson(await api('DELETE', `/summary-jobs/${id}`, user), 200).status;
    for (const id of ids.slice(0, -1)) {
      const ended = await finished(user, id);
      const outcome = `${ended.status} ${ended.done}`;
      if (told[id] === 'running') assert.ok(['done 1', 'cancelled 0'].includes(outcome), JSON.stringify(ended));
      else assert.equal(outcome, 'cancelled 0', JSON.stringify(ended));
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
  const [conv] = await chats(fx, user, 1, uniq());
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
  const convs = await chats(fx, owner, 2, uniq());
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
