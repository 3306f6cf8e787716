// Provider failures, for each wire protocol: the client gets a mapped
// status and a stable code (upstream 401/403 -> 502 provider_auth, 429 ->
// 429 provider_rate_limited with Retry-After, 500 -> 502 provider_error,
// 503/529 -> 502 provider_overloaded, a malformed body -> 502
// provider_malformed, a cut stream -> 502 provider_incomplete, an in-stream
// error -> 502 provider_stream_error), or an `error` event when streaming.
// In every case the user's message is kept, the answer is stored with status
// "error" and its reason, and the reserved credits are given back.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { api } from '../lib/http.mjs';
import { sql, sqlValue, withoutExecute } from '../lib/db.mjs';
import { auditRow } from '../lib/audit.mjs';
import { assertError, assertJson } from '../lib/assert.mjs';
import { ADMIN, uniq } from '../lib/users.mjs';
import {
  ChatFixture, assertLedgerExplains, assertMessageShape, assertSse, credits, dbMessages, eventShape,
  ledgerMark, ledgerSince, mockLast, mockReply, say, sendMessage, streamMessage, thread,
} from '../lib/chat.mjs';
import { errorLogsMark, errorLogsSince } from '../lib/nodes.mjs';

const fx = new ChatFixture('cherr');
let user;

before(async () => {
  user = await fx.user({ prefix: 'cherr' });
});

after(async () => {
  await fx.cleanup();
});

const CASES = [
  ['error=401', 502, 'provider_auth'],
  ['error=403', 502, 'provider_auth'],
  ['error=429', 429, 'provider_rate_limited'],
  ['error=500', 502, 'provider_error'],
  ['error=503', 502, 'provider_overloaded'],
  ['error=529', 502, 'provider_overloaded'],
  ['malformed=1', 502, 'provider_malformed'],
  ['cut=2', 502, 'provider_incomplete'],
  ['stream_error=2', 502, 'provider_stream_error'],
];

const PROVIDERS = ['openai', 'anthropic', 'google'];

/** The two rows a failed one-model send leaves: the user's message and the failed answer. */
async function assertFailureStored(convId, content, what) {
  const rows = await dbMessages(convId);
  assert.equal(rows.length, 2, `${what}: rows ${JSON.stringify(rows.map((r) => [r.sender_type, r.status]))}`);
  const [mine, answer] = rows;
  assert.equal(mine.sender_type, 'user');
  assert.equal(mine.content, content, `${what}: the user's message was not kept`);
  assert.equal(mine.status, 'complete');
  assert.equal(answer.sender_type, 'ai');
  assert.equal(answer.parent_message_id, mine.id);
  assert.equal(answer.status, 'error', `${what}: the failed answer has status ${answer.status}`);
  assert.ok(typeof answer.error === 'string' && answer.error.trim() !== '', `${what}: the failed answer has no reason`);
  assert.ok(!answer.error.includes('mock-key'), `${what}: the stored reason shows the provider key`);
  return { mine, answer };
}

/** Credits: the reservation was given back in full, and the ledger says so. */
async function assertReleased(before, mark, what) {
  const after = await credits(user.id);
  const ledger = await ledgerSince(user.id, mark);
  assert.equal(after, before, `${what}: a failed answer cost ${before - after} credits (ledger ${JSON.stringify(ledger.map((r) => [r.reason, r.delta]))})`);
  assertLedgerExplains(ledger, before, after, what);
  assert.deepEqual(ledger.map((r) => r.reason), ['reserve', 'release'], `${what}: ledger reasons`);
  assert.ok(ledger[0].delta < 0, `${what}: nothing was reserved`);
}

for (const provider of PROVIDERS) {
  for (const [switches, status, code] of CASES) {
    test(`${provider}: upstream ${switches} -> ${status} ${code}; the message is kept, the answer stored as an error, credits released`, async () => {
      const model = await fx.model({ provider, switches });
      const conv = await fx.conversation(user, [model]);
      const content = `fail ${switches} ${uniq()}`;
      const before = await credits(user.id);
      const mark = await ledgerMark();

      const res = await sendMessage(user, conv.id, { content });
      assertError(res, status, code);
      assert.ok(!res.text.includes('mock-key'), 'the error shows the provider key');
      if (status === 429) assert.equal(res.headers.get('retry-after'), '1', 'the provider’s Retry-After was not passed on');

      await assertFailureStored(conv.id, content, `${provider} ${switches}`);
      await assertReleased(before, mark, `${provider} ${switches}`);
      const items = await thread(user, conv.id);
      assert.equal(items[0]?.content, content, 'the thread does not show the user’s message');
    });
  }
}

for (const provider of PROVIDERS) {
  for (const [switches, , code] of CASES) {
    test(`${provider}: upstream ${switches} while streaming -> an error event ${code}, then end`, async () => {
      const model = await fx.model({ provider, switches });
      const conv = await fx.conversation(user, [model]);
      const content = `fail streaming ${switches} ${uniq()}`;
      const before = await credits(user.id);
      const mark = await ledgerMark();

      const res = await streamMessage(user, conv.id, { content });
      const events = assertSse(res);
      const shape = eventShape(events);
      assert.ok(
        JSON.stringify(shape) === JSON.stringify(['start', 'error', 'end']) ||
          JSON.stringify(shape) === JSON.stringify(['start', 'delta*', 'error', 'end']),
        `events: ${events.map((e) => e.event)}`,
      );
      const start = events[0].json;
      assert.equal(start.user_message?.content, content);
      const error = events.at(-2).json;
      assert.equal(error.message_id, start.message_id);
      assert.equal(error.model, model.slug);
      assert.equal(error.error?.code, code);
      assert.ok(typeof error.error.message === 'string' && error.error.message !== '', 'the error event has no message');
      assert.ok(!res.text.includes('mock-key'), 'the stream shows the provider key');
      assertMessageShape(error.message, 'error.message');
      assert.equal(error.message.id, start.message_id);
      assert.equal(error.message.status, 'error');
      assert.ok(error.message.error, 'the failed answer has no reason');

      const { answer } = await assertFailureStored(conv.id, content, `${provider} ${switches} streamed`);
      assert.equal(answer.id, start.message_id);
      await assertReleased(before, mark, `${provider} ${switches} streamed`);
      assert.equal(events.at(-1).json.credits, before, 'end.credits is not the balance');
    });
  }
}

test('a stream cut after two chunks streams those two chunks before the error', async () => {
  const model = await fx.model({ provider: 'openai', switches: 'cut=2' });
  const conv = await fx.conversation(user, [model]);
  const res = await streamMessage(user, conv.id, { content: 'one two three four' });
  const events = assertSse(res);
  const deltas = events.filter((e) => e.event === 'delta').map((e) => e.json.text);
  assert.deepEqual(deltas, ['Mock ', 'reply ']);
  assert.equal(events.at(-2).event, 'error');
});

test('a failed answer is shown at the end of the thread, so that it can be regenerated', async () => {
  const model = await fx.model({ provider: 'openai', switches: 'error=500' });
  const conv = await fx.conversation(user, [model]);
  assertError(await sendMessage(user, conv.id, { content: 'will fail' }), 502, 'provider_error');
  const items = await thread(user, conv.id);
  assert.deepEqual(items.map((m) => [m.sender_type, m.status]), [['user', 'complete'], ['ai', 'error']]);
  assert.ok(items[1].error, 'the failed answer in the thread has no reason');
});

test('a failed answer is regenerated once the model works again; the failure stays as a sibling', async () => {
  const model = await fx.model({ provider: 'anthropic', switches: 'error=500' });
  const conv = await fx.conversation(user, [model]);
  assertError(await sendMessage(user, conv.id, { content: 'try again later' }), 502, 'provider_error');
  const { answer: failed } = await assertFailureStored(conv.id, 'try again later', 'first try');

  // The administrator fixes the model.
  assertJson(await api('PATCH', `/admin/tools/${model.slug}`, { ...ADMIN, body: { model_id: 'claude-3-5-sonnet-latest' } }), 200);
  const res = await api('POST', `/messages/${failed.id}/regenerate`, { ...user, body: {} });
  const body = assertJson(res, 201);
  const [answer] = body.answers;
  assert.equal(answer.status, 'complete');
  assert.equal(answer.content, mockReply('try again later'));
  assert.deepEqual(answer.sibling_ids, [failed.id, answer.id]);
  const items = await thread(user, conv.id);
  assert.equal(items.at(-1).id, answer.id);
  const { body: upstream } = await mockLast('anthropic', 'try again later');
  assert.deepEqual(upstream.messages.map((m) => m.role), ['user'], 'the failed answer was sent as context');
});

test('a failed answer is not sent upstream as context for the next message', async () => {
  const model = await fx.model({ provider: 'openai', switches: 'cut=2' });
  const conv = await fx.conversation(user, [model]);
  assertError(await sendMessage(user, conv.id, { content: 'first' }), 502, 'provider_incomplete');
  assertJson(await api('PATCH', `/admin/tools/${model.slug}`, { ...ADMIN, body: { model_id: 'gpt-4o-mini' } }), 200);
  const marker = `next${uniq()}`;
  const next = await say(user, conv.id, marker);
  assert.equal(next.answers[0].status, 'complete');
  const { body } = await mockLast('openai', marker);
  const texts = body.messages.filter((m) => m.role !== 'system').map((m) => m.content);
  assert.deepEqual(texts, ['first', marker], `context: ${JSON.stringify(texts)}`);
});

// The user message is committed (with its audit row) before the provider is
// asked, so that row records the message as accepted (201); what the provider
// did is recorded on the answer row, which the thread shows.
test('a send whose answer failed is audited as the accepted message, and the failure is on the answer', async () => {
  const model = await fx.model({ provider: 'openai', switches: 'error=429' });
  const conv = await fx.conversation(user, [model]);
  const res = await sendMessage(user, conv.id, { content: 'audit the failure' });
  assertError(res, 429, 'provider_rate_limited');
  const rows = await dbMessages(conv.id);
  const row = await auditRow(res);
  assert.equal(row.status, 201, 'the audit row does not record the accepted message');
  assert.equal(row.action, 'create');
  assert.equal(row.entity_type, 'message');
  assert.equal(row.entity_id, rows[0].id, 'the audit row does not name the stored user message');
  assert.equal(rows[1].status, 'error', 'the answer row does not record the failure');
});

test('the error envelope of a provider failure carries a request id and no provider internals', async () => {
  const model = await fx.model({ provider: 'google', switches: 'error=401' });
  const conv = await fx.conversation(user, [model]);
  const res = await sendMessage(user, conv.id, { content: 'who am I' });
  assertError(res, 502, 'provider_auth');
  assert.match(res.requestId ?? '', /\S/);
  assert.ok(!/mock-key|x-goog-api-key|Bearer/i.test(res.text), `provider internals in ${res.text}`);
  assert.match(res.json.error.message, /\S/);
});

test('a streamed answer whose row the database cannot record ends in a 503 error event, keeps the message and gives the credits back', async () => {
  const model = await fx.model({ provider: 'openai' });
  const conv = await fx.conversation(user, [model]);
  const before = await credits(user.id);
  const mark = await ledgerMark();
  // The statement that records the turn's rest once the first text is out
  // fails for httpd's role; the reservation before it still works.
  const events = await withoutExecute('chat_turn_record(json)',
    async () => assertSse(await streamMessage(user, conv.id, { content: 'not recorded' })));
  assert.deepEqual(eventShape(events), ['start', 'delta*', 'error', 'end'], `events: ${events.map((e) => e.event)}`);
  assert.equal(events.at(-2).json.error?.code, 'database_unavailable');
  assert.equal(events.at(-1).json.credits, before, 'end.credits is not the balance');

  const rows = await dbMessages(conv.id);
  assert.deepEqual(rows.map((r) => [r.sender_type, r.content]), [['user', 'not recorded']],
    'the user message was not kept (or an answer was stored)');
  const ledger = await ledgerSince(user.id, mark);
  assert.equal(await credits(user.id), before, `the turn cost credits (ledger ${JSON.stringify(ledger.map((r) => [r.reason, r.delta]))})`);
  assertLedgerExplains(ledger, before, before, 'ledger');
  assert.deepEqual(ledger.map((r) => r.reason), ['reserve', 'release']);
  // The message the turn could not record is still on the conversation's
  // visible thread, counted and naming it.
  assert.deepEqual((await thread(user, conv.id)).map((m) => [m.sender_type, m.content]), [['user', 'not recorded']],
    'the thread does not show the kept message');
  const shown = assertJson(await api('GET', `/conversations/${conv.id}`, user), 200);
  assert.equal(shown.title, 'not recorded');
  assert.equal(shown.total_messages, 1);
});

test('an answer the database cannot store answers 503 and gives the credits back', async () => {
  const model = await fx.model({ provider: 'anthropic' });
  const conv = await fx.conversation(user, [model]);
  const before = await credits(user.id);
  const mark = await ledgerMark();
  // The settlement, part of storing every answer, fails for httpd's role.
  const [res, events] = await withoutExecute('chat_settle(uuid, bigint, bigint, boolean, uuid)', async () => [
    await sendMessage(user, conv.id, { content: 'never answered' }),
    assertSse(await streamMessage(user, conv.id, { content: 'never answered either', parent_id: null })),
  ]);
  assertError(res, 503, 'database_unavailable');
  assert.deepEqual(eventShape(events), ['start', 'delta*', 'error', 'end'], `events: ${events.map((e) => e.event)}`);
  assert.equal(events.at(-2).json.error?.code, 'database_unavailable');
  assert.equal(events.at(-1).json.credits, before, 'end.credits is not the balance');

  const rows = await dbMessages(conv.id);
  assert.deepEqual(rows.filter((r) => r.sender_type === 'user').map((r) => r.content).sort(),
    ['never answered', 'never answered either'], 'the user messages were not kept');
  // The send's answer was never written; the stream's row, written as its
  // text flowed, ends as an error (not 'streaming' for good) and without text.
  const answers = rows.filter((r) => r.sender_type === 'ai');
  assert.deepEqual(answers.map((r) => [r.id, r.status, r.content]), [[events[0].json.message_id, 'error', '']],
    'the answer rows');
  assert.match(answers[0].error, /database/i);
  const ledger = await ledgerSince(user.id, mark);
  assert.equal(await credits(user.id), before, `the turns cost credits (ledger ${JSON.stringify(ledger.map((r) => [r.reason, r.delta]))})`);
  assertLedgerExplains(ledger, before, before, 'ledger');
  assert.deepEqual(ledger.map((r) => r.reason), ['reserve', 'release', 'reserve', 'release']);
  // The thread ends at the failed answer, so it can be regenerated.
  assert.deepEqual((await thread(user, conv.id)).map((m) => [m.sender_type, m.content, m.status]),
    [['user', 'never answered either', 'complete'], ['ai', '', 'error']], 'the visible thread');

  // Giving a turn back twice (a retry after a reply the connection lost)
  // gives nothing the second time.
  const again = JSON.stringify([{
    turn: events[0].json.message_id, viewer: user.id, released: 1000, message: events[0].json.user_message.id,
    conv: conv.id, user_message: events[0].json.user_message.id, title: 'x', counted: true, answer: events[0].json.message_id,
  }]);
  const mark2 = await ledgerMark();
  await sql(`SELECT chat_turns_abandon(:'p1'::json)`, again);
  assert.equal(await credits(user.id), before, 'a turn was given back twice');
  assert.deepEqual(await ledgerSince(user.id, mark2), [], 'a second release was written');
});

// Some servers quote the key they were sent in their error text. The test
// providers' key ("mock-key") has no key-like shape, so only redacting the
// configured key itself, byte for byte, keeps it out of everything the error
// text reaches: the API error, the stream, the stored answer, the audit rows
// and the error log.
for (const provider of PROVIDERS) {
  for (const streamed of [false, true]) {
    test(`${provider}: an upstream error quoting the configured key${streamed ? ' while streaming' : ''} never shows it`, async () => {
      const model = await fx.model({ provider, switches: 'error=500;echo_key=1' });
      const conv = await fx.conversation(user, [model]);
      const content = `echo key ${uniq()}`;
      const logBefore = await errorLogsMark();
      const auditMark = await sqlValue('SELECT coalesce(max(id), 0) FROM audit_logs');

      const res = streamed ? await streamMessage(user, conv.id, { content }) : await sendMessage(user, conv.id, { content });
      if (streamed) assertSse(res);
      else assertError(res, 502, 'provider_error');
      assert.ok(!res.text.includes('mock-key'), `the answer shows the key: ${res.text.slice(0, 500)}`);

      const { answer } = await assertFailureStored(conv.id, content, `${provider} echo_key`);
      assert.match(answer.error, /you sent: \[redacted\]/, `the stored reason: ${answer.error}`);
      const rows = await sql(
        `SELECT count(*) FROM audit_logs a WHERE a.id > :'p1'::bigint AND a::text LIKE '%mock-key%'`,
        auditMark,
      );
      assert.equal(rows[0][0], '0', 'an audit row holds the key');
      const stored = await sql(`SELECT count(*) FROM messages m WHERE m.conversation_id = :'p1'::uuid AND m::text LIKE '%mock-key%'`, conv.id);
      assert.equal(stored[0][0], '0', 'a stored message holds the key');
      const log = (await errorLogsSince(logBefore)).join('\n');
      assert.ok(!log.includes('mock-key'), `the error log holds the key:\n${log.slice(-2000)}`);
    });
  }
}
