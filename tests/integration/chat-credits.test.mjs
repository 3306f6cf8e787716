// Credits: before a call an upper bound of its use (the UTF-8 bytes of all
// it is sent with a few tokens per message, + the model's max_tokens, per
// model) is reserved atomically and never below zero; after it the
// reservation is settled to the provider's usage, so an answer costs exactly
// its prompt + completion tokens; without enough credits a send is
// 402 and nothing is stored or sent upstream; every change is in
// credit_ledger; administrators grant credits, ledgered and audited.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { api } from '../lib/http.mjs';
import { dbUser, sqlValue } from '../lib/db.mjs';
import { auditRow } from '../lib/audit.mjs';
import { assertError, assertJson, assertUserShape } from '../lib/assert.mjs';
import { ADMIN, DEMO, uniq } from '../lib/users.mjs';
import {
  ChatFixture, assertLedgerExplains, assertSse, credits, dbConversation, dbMessages, ledgerMark,
  ledgerSince, ledgerSum, mockLast, mockLastRaw, mockStats, reserveBound, say, sendMessage, sentBound,
  setCredits, streamMessage,
} from '../lib/chat.mjs';

const fx = new ChatFixture('chcred');
let model;   // OpenAI protocol, max_tokens 64
let adminId;

before(async () => {
  model = await fx.model({ provider: 'openai', maxTokens: 64 });
  adminId = (await dbUser('admin')).id;
});

after(async () => {
  await fx.cleanup();
});

const used = (answer) => answer.prompt_tokens + answer.completion_tokens;

// --- what an answer costs ---------------------------------------------------

test('an answer costs exactly its prompt + completion tokens, and the ledger shows reserve then settle', async () => {
  const user = await fx.user({ credits: 5000 });
  const conv = await fx.conversation(user, [model]);
  const content = `How much is this? ${uniq()}`;
  const mark = await ledgerMark();

  const body = await say(user, conv.id, content);
  const [answer] = body.answers;
  assert.ok(used(answer) > 0, 'the answer records no tokens');
  const balance = await credits(user.id);
  assert.equal(balance, 5000 - used(answer), `the answer cost ${5000 - balance}, its tokens ${used(answer)}`);
  assert.equal(body.credits, balance, 'the credits in the answer are not the balance');
  assert.equal(assertJson(await api('GET', '/me', user), 200).token_credits, balance, 'GET /me shows another balance');

  const ledger = await ledgerSince(user.id, mark);
  assertLedgerExplains(ledger, 5000, balance);
  assert.deepEqual(ledger.map((r) => r.reason), ['reserve', 'settle']);
  const [reserve, settle] = ledger;
  assert.equal(reserve.delta, -reserveBound({ messages: [content], maxTokens: 64 }), 'the reservation is not the message’s bound + max_tokens');
  assert.equal(settle.delta, -reserve.delta - used(answer));
  assert.equal(settle.message_id, answer.id, 'the settlement does not name the answer');
  assert.ok([body.user_message.id, answer.id].includes(reserve.message_id), `the reservation names ${reserve.message_id}`);
});

test('the reservation covers the thread sent as context', async () => {
  const user = await fx.user({ credits: 5000 });
  const conv = await fx.conversation(user, [model]);
  const first = await say(user, conv.id, `first ${'a'.repeat(101)}`);
  const content = `second ${'b'.repeat(57)}`;
  const mark = await ledgerMark();
  await say(user, conv.id, content);
  const [reserve] = await ledgerSince(user.id, mark);
  assert.equal(reserve.reason, 'reserve');
  const texts = [first.user_message.content, first.answers[0].content, content];
  assert.equal(-reserve.delta, reserveBound({ messages: texts, maxTokens: 64 }));
});

test('a model without max_tokens reserves 1024 for the answer', async () => {
  const user = await fx.user({ credits: 5000 });
  const plain = await fx.model({ provider: 'anthropic', defaultSettings: {} });
  const conv = await fx.conversation(user, [plain]);
  const content = 'reserve the default';
  const mark = await ledgerMark();
  await say(user, conv.id, content);
  const [reserve] = await ledgerSince(user.id, mark);
  assert.equal(reserve.delta, -reserveBound({ messages: [content], maxTokens: 1024 }));
});

test('a streamed answer costs what its done event reports, and end shows the balance', async () => {
  const user = await fx.user({ credits: 5000 });
  const conv = await fx.conversation(user, [model]);
  const mark = await ledgerMark();
  const res = await streamMessage(user, conv.id, { content: 'stream the cost' });
  const events = assertSse(res);
  const done = events.find((e) => e.event === 'done').json;
  const end = events.at(-1).json;
  const balance = await credits(user.id);
  assert.equal(balance, 5000 - done.usage.prompt_tokens - done.usage.completion_tokens);
  assert.equal(end.credits, balance);
  assertLedgerExplains(await ledgerSince(user.id, mark), 5000, balance);
});

test('regenerating costs its own tokens', async () => {
  const user = await fx.user({ credits: 5000 });
  const conv = await fx.conversation(user, [model]);
  const sent = await say(user, conv.id, 'again and again');
  const before = await credits(user.id);
  const mark = await ledgerMark();
  const res = await api('POST', `/messages/${sent.answers[0].id}/regenerate`, { ...user, body: {} });
  const body = assertJson(res, 201);
  const after = await credits(user.id);
  assert.equal(after, before - used(body.answers[0]));
  assert.equal(body.credits, after);
  const ledger = await ledgerSince(user.id, mark);
  assert.deepEqual(ledger.map((r) => r.reason), ['reserve', 'settle']);
  assertLedgerExplains(ledger, before, after);
});

test('a group chat reserves for each model what it is sent with its own max_tokens and charges each answer', async () => {
  const small = await fx.model({ provider: 'anthropic', maxTokens: 32 });
  const content = `group cost ${uniq()}`;
  const start = 5000;
  const user = await fx.user({ credits: start });
  const conv = await fx.conversation(user, [model, small]);
  const mark = await ledgerMark();
  const res = await sendMessage(user, conv.id, { content });
  const body = assertJson(res, 201);
  assert.equal(body.answers.length, 2);
  const after = await credits(user.id);
  assert.equal(after, start - used(body.answers[0]) - used(body.answers[1]));
  const ledger = await ledgerSince(user.id, mark);
  assertLedgerExplains(ledger, start, after);
  // Each model's request (the group instructions, the message, the other's answer) within its reservation.
  const sent = sentBound('openai', (await mockLast('openai', content)).body) +
    sentBound('anthropic', (await mockLast('anthropic', content)).body);
  const reserved = ledger.filter((r) => r.reason === 'reserve').reduce((s, r) => s - r.delta, 0);
  assert.ok(reserved >= sent, `reserved ${reserved}, the requests sent need ${sent}`);
  const settles = ledger.filter((r) => r.reason === 'settle');
  assert.equal(settles.length, 2, 'one settlement per answer');
  for (const r of settles) assert.ok(r.delta >= 0, `an answer cost more than its reservation: ${JSON.stringify(ledger)}`);
});

// --- not enough credits -------------------------------------------------------

test('without enough credits a send is 402: nothing is stored, nothing goes upstream, the balance stays', async (t) => {
  const user = await fx.user({ credits: 10 });
  const conv = await fx.conversation(user, [model]);
  const marker = `poor${uniq()}`;
  const stats = await mockStats();
  const mark = await ledgerMark();

  const res = await sendMessage(user, conv.id, { content: `expensive ${marker}` });
  assertError(res, 402, 'insufficient_credits');
  assert.deepEqual(await dbMessages(conv.id), []);
  const row = await dbConversation(conv.id);
  assert.equal(row.total_messages, 0);
  assert.equal(row.active_leaf_id, null);
  assert.equal(await credits(user.id), 10);
  assert.deepEqual(await ledgerSince(user.id, mark), []);
  assert.ok(!((await mockLastRaw('openai')) ?? '').includes(marker), 'the message went upstream');
  // The mock's request counter must not move; on a mock shared with other clients it may, and
  // then only the marker check above (the last request is not ours) holds.
  const after = await mockStats();
  if (process.env.AICHAT_MOCK_SHARED === '1') {
    if (after.requests.openai !== stats.requests.openai) t.diagnostic('the shared mock counted other requests meanwhile');
  } else {
    assert.equal(after.requests.openai, stats.requests.openai, 'a request went upstream');
  }
});

test('without enough credits a streamed send is 402 too, before any stream', async () => {
  const user = await fx.user({ credits: 10 });
  const conv = await fx.conversation(user, [model]);
  const res = await streamMessage(user, conv.id, { content: 'stream without money' });
  assert.equal(res.status, 402, `${res.label}: ${res.status} ${res.text.slice(0, 200)}`);
  assert.equal(res.json?.error?.code, 'insufficient_credits');
  assert.deepEqual(await dbMessages(conv.id), []);
});

test('without enough credits a regeneration is 402 and stores nothing', async () => {
  const user = await fx.user({ credits: 5000 });
  const conv = await fx.conversation(user, [model]);
  const sent = await say(user, conv.id, 'regenerate when poor');
  await setCredits(user.id, 5);
  const res = await api('POST', `/messages/${sent.answers[0].id}/regenerate`, { ...user, body: {} });
  assertError(res, 402, 'insufficient_credits');
  assert.equal((await dbMessages(conv.id)).length, 2);
  assert.equal(await credits(user.id), 5);
});

test('a balance of exactly the estimate is enough; one credit less is not', async () => {
  const content = 'exactly enough';
  const need = reserveBound({ messages: [content], maxTokens: 64 });

  const short = await fx.user({ credits: need - 1 });
  const c1 = await fx.conversation(short, [model]);
  assertError(await sendMessage(short, c1.id, { content }), 402, 'insufficient_credits');

  const exact = await fx.user({ credits: need });
  const c2 = await fx.conversation(exact, [model]);
  const body = await say(exact, c2.id, content);
  assert.equal(await credits(exact.id), need - used(body.answers[0]));
});

async function measureReserve(content) {
  const probe = await fx.user({ credits: 100000 });
  const conv = await fx.conversation(probe, [model]);
  const mark = await ledgerMark();
  await say(probe, conv.id, content);
  const [reserve] = await ledgerSince(probe.id, mark);
  assert.equal(reserve?.reason, 'reserve');
  return -reserve.delta;
}

for (const sameConversation of [false, true]) {
  test(`five sends at once with credits for one${sameConversation ? ' (one conversation)' : ''}: exactly one answer, four 402, never below zero`, async () => {
    const content = 'race for the last credits';
    const reserve = await measureReserve(content);
    const user = await fx.user({ credits: reserve });
    const convs = [];
    if (sameConversation) {
      const conv = await fx.conversation(user, [model]);
      for (let i = 0; i < 5; i++) convs.push(conv);
    } else {
      for (let i = 0; i < 5; i++) convs.push(await fx.conversation(user, [model]));
    }
    const mark = await ledgerMark();

    const results = await Promise.all(convs.map((c) => sendMessage(user, c.id, { content })));
    const statuses = results.map((r) => r.status).sort();
    assert.deepEqual(statuses, [201, 402, 402, 402, 402], `statuses: ${results.map((r) => `${r.status} ${r.text.slice(0, 80)}`).join(' | ')}`);
    for (const r of results.filter((x) => x.status === 402)) assertError(r, 402, 'insufficient_credits');
    const winner = results.find((r) => r.status === 201).json;

    const after = await credits(user.id);
    assert.equal(after, reserve - used(winner.answers[0]));
    assert.ok(after >= 0);
    const ledger = await ledgerSince(user.id, mark);
    assertLedgerExplains(ledger, reserve, after);
    assert.deepEqual(ledger.map((r) => r.reason), ['reserve', 'settle'], 'a refused send left ledger rows');

    const stored = sameConversation
      ? await dbMessages(convs[0].id)
      : (await Promise.all(convs.map((c) => dbMessages(c.id)))).flat();
    assert.equal(stored.length, 2, 'a refused send stored a message');
  });
}

test('many sends at once never take a balance below zero and the ledger explains the end balance', async () => {
  const content = 'many at once';
  const reserve = await measureReserve(content);
  const start = reserve * 3 + Math.floor(reserve / 2);
  const user = await fx.user({ credits: start });
  const convs = [];
  for (let i = 0; i < 8; i++) convs.push(await fx.conversation(user, [model]));
  const mark = await ledgerMark();
  const results = await Promise.all(convs.map((c) => sendMessage(user, c.id, { content })));
  for (const r of results) assert.ok([201, 402].includes(r.status), `${r.status} ${r.text.slice(0, 200)}`);
  const ok = results.filter((r) => r.status === 201);
  assert.ok(ok.length >= 3, `only ${ok.length} of 8 got an answer with credits for 3`);
  const after = await credits(user.id);
  assert.equal(after, start - ok.reduce((s, r) => s + used(r.json.answers[0]), 0));
  const ledger = await ledgerSince(user.id, mark);
  assertLedgerExplains(ledger, start, after);
  const minBalance = Number(await sqlValue(`SELECT min(balance_after) FROM credit_ledger WHERE user_id = :'p1'`, user.id));
  assert.ok(minBalance >= 0, `a balance of ${minBalance}`);
});

// --- administrators grant credits ----------------------------------------------

test('an administrator’s grant raises the balance, is ledgered with who and why, and audited', async () => {
  const user = await fx.user({ credits: 100 });
  const mark = await ledgerMark();
  const note = `for testing ${uniq()}`;
  const res = await api('POST', `/admin/users/${user.id}/credits`, { ...ADMIN, body: { amount: 250, note } });
  const body = assertJson(res, 200);
  assertUserShape(body, 'granted user');
  assert.equal(body.id, user.id);
  assert.equal(body.token_credits, 350);
  assert.equal(await credits(user.id), 350);
  assert.equal(assertJson(await api('GET', '/me', user), 200).token_credits, 350);

  const ledger = await ledgerSince(user.id, mark);
  assert.equal(ledger.length, 1);
  assert.equal(ledger[0].reason, 'grant');
  assert.equal(ledger[0].delta, 250);
  assert.equal(ledger[0].balance_after, 350);
  assert.equal(ledger[0].granted_by, adminId);
  assert.equal(ledger[0].note, note);

  const row = await auditRow(res);
  assert.equal(row.status, 200);
  assert.equal(row.user_id, adminId);
  assert.equal(row.entity_type, 'user');
  assert.equal(row.entity_id, user.id);
  assert.notEqual(row.action, 'request');
  assert.equal(row.old_values?.token_credits, 100);
  assert.equal(row.new_values?.token_credits, 350);
});

test('a grant lets a user who was refused send again', async () => {
  const user = await fx.user({ credits: 0 });
  const conv = await fx.conversation(user, [model]);
  assertError(await sendMessage(user, conv.id, { content: 'please' }), 402, 'insufficient_credits');
  assertJson(await api('POST', `/admin/users/${user.id}/credits`, { ...ADMIN, body: { amount: 1000 } }), 200);
  const body = await say(user, conv.id, 'please');
  assert.equal(body.answers[0].status, 'complete');
});

for (const [what, body, code, field] of [
  ['an amount of 0', { amount: 0 }, 'invalid_field', 'amount'],
  ['a negative amount', { amount: -5 }, 'invalid_field', 'amount'],
  ['a fractional amount', { amount: 1.5 }, 'invalid_field', 'amount'],
  ['an amount as a string', { amount: '10' }, 'invalid_field', 'amount'],
  ['an amount over 1000000000', { amount: 1000000001 }, 'invalid_field', 'amount'],
  ['no amount', { note: 'nothing' }, 'invalid_field', 'amount'],
  ['an unknown field', { amount: 5, reason: 'grant' }, 'unknown_field', 'reason'],
]) {
  test(`a grant with ${what} is 422 and changes nothing`, async () => {
    const user = await fx.user({ credits: 100 });
    const mark = await ledgerMark();
    assertError(await api('POST', `/admin/users/${user.id}/credits`, { ...ADMIN, body }), 422, code, field);
    assert.equal(await credits(user.id), 100);
    assert.deepEqual(await ledgerSince(user.id, mark), []);
  });
}

test('only administrators grant credits, and only to users that exist', async () => {
  const user = await fx.user({ credits: 100 });
  const res = await api('POST', `/admin/users/${user.id}/credits`, { ...DEMO, body: { amount: 1000 } });
  assertError(res, 403, 'forbidden');
  const self = await api('POST', `/admin/users/${user.id}/credits`, { ...user, body: { amount: 1000 } });
  assertError(self, 403, 'forbidden');
  assert.equal(await credits(user.id), 100);
  assertError(await api('POST', `/admin/users/${randomUUID()}/credits`, { ...ADMIN, body: { amount: 5 } }), 404, 'not_found');
});

test('every balance change of a busy user is in the ledger', async () => {
  const user = await fx.user({ credits: 5000 });
  const mark = await ledgerMark();
  const conv = await fx.conversation(user, [model]);
  const sent = await say(user, conv.id, 'one');
  await say(user, conv.id, 'two');
  assertJson(await api('POST', `/messages/${sent.answers[0].id}/regenerate`, { ...user, body: {} }), 201);
  assertJson(await api('POST', `/admin/users/${user.id}/credits`, { ...ADMIN, body: { amount: 77 } }), 200);
  const failing = await fx.model({ provider: 'google', switches: 'error=500' });
  const conv2 = await fx.conversation(user, [failing]);
  assertError(await sendMessage(user, conv2.id, { content: 'fails' }), 502, 'provider_error');
  const after = await credits(user.id);
  const ledger = await ledgerSince(user.id, mark);
  assert.equal(ledgerSum(ledger), after - 5000);
  assertLedgerExplains(ledger, 5000, after);
});
