// The reservation bounds what a turn can use: everything a model is sent
// (the system prompt, a group's instructions, every message of the context,
// the earlier answers of the same group turn) counted as UTF-8 bytes with a
// few tokens per message, plus max_tokens. The models here run on the mock's
// usage=bytes switch, which reports usage as a byte-level tokenizer makes it
// at worst (a token per byte, a few per message), so an answer that cost
// more than its reservation, or a balance the ledger does not explain,
// shows.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { sqlValue } from '../lib/db.mjs';
import { assertError, assertJson } from '../lib/assert.mjs';
import { uniq } from '../lib/users.mjs';
import {
  ChatFixture, assertLedgerExplains, credits, dbMessages, estimateTokens, ledgerMark, ledgerSince,
  mockLast, mockLastRaw, reserveBound, say, sendMessage, sentBound,
} from '../lib/chat.mjs';

const fx = new ChatFixture('chbound');
let bytes; // OpenAI protocol, usage=bytes, max_tokens 64

before(async () => {
  bytes = await fx.model({ provider: 'openai', switches: 'usage=bytes', maxTokens: 64 });
});

after(async () => {
  await fx.cleanup();
});

const used = (answer) => answer.prompt_tokens + answer.completion_tokens;

/** Letters and digits in no pattern a tokenizer could compress: about a token per byte. */
function randomText(length) {
  return randomBytes(length).toString('base64').replace(/[+/=]/g, 'x').slice(0, length);
}

/** The sum of every ledger row of a user, from the first ('initial'). */
async function ledgerTotal(userId) {
  return Number(await sqlValue(`SELECT coalesce(sum(delta), 0) FROM credit_ledger WHERE user_id = :'p1'`, userId));
}

/**
 * A user who had `start` credits at `mark` was charged exactly the usage of
 * `answers` (what the provider reported), no settlement took more than its
 * reservation (a settlement gives back reserved − used, never less than 0),
 * the ledger explains every step, and the whole ledger sums to the balance.
 */
async function assertCharged(user, mark, start, answers) {
  const after = await credits(user.id);
  const ledger = await ledgerSince(user.id, mark);
  assertLedgerExplains(ledger, start, after);
  const show = JSON.stringify(ledger.map((r) => [r.reason, r.delta, r.balance_after]));
  for (const r of ledger.filter((x) => x.reason === 'settle')) {
    assert.ok(r.delta >= 0, `an answer cost more than was reserved for it: ${show}`);
  }
  assert.equal(after, start - answers.reduce((s, a) => s + used(a), 0), `charged ${start - after}, used ${answers.map(used)}: ${show}`);
  assert.equal(await ledgerTotal(user.id), after, 'the ledger does not sum to the balance');
  assert.ok(after >= 0);
}

test('a 20,000-character system prompt is reserved: 2,100 credits are refused, and with enough the answer costs no more than was reserved', async () => {
  const system = randomText(20000);
  const poor = await fx.user({ credits: 2100 });
  const conv = await fx.conversation(poor, [bytes], { system_prompt: system });
  const marker = `sys${uniq()}`;
  assertError(await sendMessage(poor, conv.id, { content: `hello ${marker}` }), 402, 'insufficient_credits');
  assert.equal(await credits(poor.id), 2100);
  assert.deepEqual(await dbMessages(conv.id), [], 'a refused send stored a message');
  assert.ok(!((await mockLastRaw('openai')) ?? '').includes(marker), 'the refused message went upstream');
  assert.equal(await ledgerTotal(poor.id), 2100);

  const rich = await fx.user({ credits: 100000 });
  const conv2 = await fx.conversation(rich, [bytes], { system_prompt: system });
  const content = `hello ${uniq()}`;
  const mark = await ledgerMark();
  const body = await say(rich, conv2.id, content);
  const [answer] = body.answers;
  assert.equal(answer.status, 'complete');
  assert.ok(answer.prompt_tokens > 20000, `the provider counted ${answer.prompt_tokens} prompt tokens for a 20,000-character system prompt`);
  const [reserve] = await ledgerSince(rich.id, mark);
  assert.equal(-reserve.delta, reserveBound({ system, messages: [content], maxTokens: 64 }), 'the reservation is not the bound of what was sent');
  assert.ok(-reserve.delta >= sentBound('openai', (await mockLast('openai', content)).body));
  await assertCharged(rich, mark, 100000, [answer]);
});

for (const [what, text] of [
  ['CJK text', '日本語の文章を書きます。中文文本，한국어 텍스트. '.repeat(80)],
  ['emoji', '😀🎉👍🏽🇩🇪👨‍👩‍👧 '.repeat(150)],
  ['random text', randomText(3000)],
]) {
  test(`${what}: the reservation covers a token per byte, and a balance a quarter token per character would have let through is refused`, async () => {
    // What the old estimate (a quarter token per code point) reserved would not have covered it.
    const estimate = estimateTokens(text) + 64;
    const poor = await fx.user({ credits: estimate });
    const c1 = await fx.conversation(poor, [bytes]);
    assertError(await sendMessage(poor, c1.id, { content: text }), 402, 'insufficient_credits');
    assert.equal(await credits(poor.id), estimate);

    const user = await fx.user({ credits: 1000000 });
    const conv = await fx.conversation(user, [bytes]);
    const mark = await ledgerMark();
    const body = await say(user, conv.id, text);
    const [answer] = body.answers;
    assert.equal(answer.status, 'complete');
    assert.ok(used(answer) > estimate, `the mock counted ${used(answer)}, no more than the old estimate ${estimate}`);
    await assertCharged(user, mark, 1000000, [answer]);
  });
}

// Four models, no character limit: each later model reads the earlier
// answers of the same turn, which are not known when the turn is reserved.
async function groupModels() {
  const switches = 'usage=bytes;tokens=400';
  return [
    await fx.model({ provider: 'openai', switches, maxTokens: 256 }),
    await fx.model({ provider: 'anthropic', switches, maxTokens: 256 }),
    await fx.model({ provider: 'google', switches, maxTokens: 256 }),
    await fx.model({ provider: 'openai', switches, maxTokens: 256 }),
  ];
}

test('a four-model group turn reserves what each model is sent, the earlier answers included, and no answer costs more than was reserved', async () => {
  const models = await groupModels();
  const user = await fx.user({ credits: 1000000 });
  const conv = await fx.conversation(user, models, { settings: { character_limit: 0 } });
  const content = `four of us ${uniq()}`;
  const mark = await ledgerMark();
  const body = await say(user, conv.id, content);
  assert.deepEqual(body.answers.map((a) => a.status), ['complete', 'complete', 'complete', 'complete']);
  // The last model read the three answers before it.
  const last = body.answers[3];
  const kind = { openai: 'openai', anthropic: 'anthropic', google: 'gemini' }[models.find((m) => m.slug === last.sender.slug).provider];
  const sent = (await mockLast(kind, content)).body;
  for (const earlier of body.answers.slice(0, 3)) {
    assert.ok(JSON.stringify(sent).includes(JSON.stringify(earlier.content).slice(1, -1)), 'an earlier answer was not sent to the last model');
  }
  const ledger = await ledgerSince(user.id, mark);
  const answerIds = body.answers.map((a) => a.id);
  assert.ok(ledger.some((r) => r.reason === 'reserve' && answerIds.includes(r.message_id)),
    `no answer reserved what the earlier answers added to its context: ${JSON.stringify(ledger)}`);
  await assertCharged(user, mark, 1000000, body.answers);
});

test('a later model of a group whose context grew past what is left is not asked; the others answer, nothing is overspent', async () => {
  const models = await groupModels();
  const content = `not enough for all ${uniq()}`;
  // What the turn reserves before it begins, measured with a rich user.
  const probe = await fx.user({ credits: 1000000 });
  const probeConv = await fx.conversation(probe, models, { settings: { character_limit: 0 } });
  const probeMark = await ledgerMark();
  await say(probe, probeConv.id, content);
  const upFront = -(await ledgerSince(probe.id, probeMark))[0].delta;

  const user = await fx.user({ credits: upFront });
  const conv = await fx.conversation(user, models, { settings: { character_limit: 0 } });
  const mark = await ledgerMark();
  const res = await sendMessage(user, conv.id, { content });
  const body = assertJson(res, 201);
  assert.equal(body.answers.length, 4);
  assert.equal(body.answers[0].status, 'complete');
  assert.equal(body.answers[1].status, 'error', `the second model was asked without the credits for the first answer: ${JSON.stringify(body.answers[1])}`);
  for (const a of body.answers) {
    assert.ok(a.status === 'complete' || /credits/i.test(a.error ?? ''), `an answer failed for another reason: ${JSON.stringify(a)}`);
    if (a.status === 'error') assert.equal(used(a), 0, 'a refused answer was charged');
  }
  await assertCharged(user, mark, upFront, body.answers.filter((a) => a.status === 'complete'));
});

test('fifty sends at once by one user: the ledger explains the balance, no answer costs more than was reserved, never below zero', async () => {
  const slow = await fx.model({ provider: 'openai', switches: 'usage=bytes;latency=3000', maxTokens: 64 });
  const content = `並行 😀 ${randomText(200)}`;
  const bound = reserveBound({ messages: [content], maxTokens: 64 });
  const start = bound * 10;
  const user = await fx.user({ credits: start });
  const convs = [];
  for (let i = 0; i < 50; i++) convs.push(await fx.conversation(user, [slow]));
  const mark = await ledgerMark();

  const results = await Promise.all(convs.map((c) => sendMessage(user, c.id, { content })));
  const ok = results.filter((r) => r.status === 201);
  for (const r of results.filter((x) => x.status !== 201)) assertError(r, 402, 'insufficient_credits');
  // Credits for ten reservations; an answer settled early gives some back for a late send.
  assert.ok(ok.length >= 10, `statuses: ${results.map((r) => r.status).join(',')}`);
  await assertCharged(user, mark, start, ok.map((r) => r.json.answers[0]));
  const minBalance = Number(await sqlValue(`SELECT min(balance_after) FROM credit_ledger WHERE user_id = :'p1'`, user.id));
  assert.ok(minBalance >= 0, `a balance of ${minBalance}`);
});
