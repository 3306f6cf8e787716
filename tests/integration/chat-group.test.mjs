// Group chats (more than one model): every model answers in turn, each
// answer's parent is the previous answer (so later models see earlier
// answers), the first responder rotates between turns unless
// settings.first_responder fixes it, and answers are cut to the character
// limit (280 by default in group chats, settings.character_limit to
// change it; none for one model unless set).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { api } from '../lib/http.mjs';
import { withoutExecute } from '../lib/db.mjs';
import { assertError, assertJson } from '../lib/assert.mjs';
import { uniq } from '../lib/users.mjs';
import {
  ChatFixture, assertAnswer, assertLedgerExplains, assertPath, assertSse, credits, dbMessages, eventShape,
  ledgerMark, ledgerSince, mockLast, mockReply, say, sendMessage, streamMessage, thread, upstreamTurns,
  wordsReply,
} from '../lib/chat.mjs';

const fx = new ChatFixture('chgrp');
let a;      // OpenAI protocol
let b;      // Anthropic protocol
let longA;  // tokens=200 replies (about 1400 characters)
let longB;
let user;

before(async () => {
  a = await fx.model({ provider: 'openai', displayName: `Alpha ${uniq(2)}` });
  b = await fx.model({ provider: 'anthropic', displayName: `Beta ${uniq(2)}` });
  longA = await fx.model({ provider: 'openai', switches: 'tokens=200', maxTokens: 400 });
  longB = await fx.model({ provider: 'google', switches: 'tokens=200', maxTokens: 400 });
  user = await fx.user({ prefix: 'chgrp' });
});

after(async () => {
  await fx.cleanup();
});

const LONG = wordsReply(200);

test('both models answer; the first answers the user, the second answers the first', async () => {
  const conv = await fx.conversation(user, [a, b]);
  assert.equal(conv.is_group, true);
  const body = await say(user, conv.id, `group hello ${uniq()}`);
  assert.equal(body.answers.length, 2);
  const [first, second] = body.answers;
  for (const answer of body.answers) assertAnswer(answer);
  assert.deepEqual(new Set(body.answers.map((x) => x.sender.slug)), new Set([a.slug, b.slug]));
  assert.equal(first.parent_id, body.user_message.id);
  assert.equal(second.parent_id, first.id, 'the second answer is not a reply to the first');
  assert.equal(first.is_first_responder, true);
  assert.equal(second.is_first_responder, false);

  const items = await thread(user, conv.id);
  assert.deepEqual(items.map((m) => m.id), [body.user_message.id, first.id, second.id]);
  assertPath(items);
  const got = assertJson(await api('GET', `/conversations/${conv.id}`, user), 200);
  assert.equal(got.total_messages, 3);
  assert.equal(got.active_leaf_id, second.id);
});

test('the second model is sent the first model’s answer', async () => {
  const conv = await fx.conversation(user, [a, b], { settings: { first_responder: a.slug } });
  const content = `what do you both think ${uniq()}`;
  const body = await say(user, conv.id, content);
  const [first, second] = body.answers;
  assert.equal(first.sender.slug, a.slug);
  assert.equal(second.sender.slug, b.slug);
  assert.equal(first.content, mockReply(content));
  const last = await mockLast('anthropic', content);
  const sent = upstreamTurns('anthropic', last.body);
  // The other model's answer is passed on attributed, in the user's turn
  // (Anthropic merges consecutive user turns), after the user's own words.
  assert.equal(sent[0].role, 'user');
  assert.ok(sent[0].text.startsWith(content), `the user's words do not open ${JSON.stringify(sent)}`);
  const rest = sent[0].text.slice(content.length) + sent.slice(1).map((t) => t.text).join('\n');
  assert.ok(rest.includes(first.content), `the first answer is not in ${JSON.stringify(sent)}`);
  assert.ok(rest.includes(a.display_name ?? a.slug) || rest.includes('answered'), 'the first answer is not attributed');
});

test('the first responder rotates from turn to turn', async () => {
  const conv = await fx.conversation(user, [a, b]);
  const firsts = [];
  for (let i = 0; i < 4; i++) {
    const body = await say(user, conv.id, `turn ${i}`);
    assert.equal(body.answers.length, 2);
    assert.equal(body.answers[0].is_first_responder, true);
    assert.equal(body.answers[1].is_first_responder, false);
    firsts.push(body.answers[0].sender.slug);
  }
  assert.notEqual(firsts[0], firsts[1], `first responders ${firsts}`);
  assert.deepEqual(firsts, [firsts[0], firsts[1], firsts[0], firsts[1]], `first responders ${firsts}`);
  assert.deepEqual(new Set(firsts), new Set([a.slug, b.slug]));
});

test('settings.first_responder makes that model answer first every turn', async () => {
  const conv = await fx.conversation(user, [a, b], { settings: { first_responder: b.slug } });
  for (let i = 0; i < 3; i++) {
    const body = await say(user, conv.id, `fixed ${i}`);
    assert.deepEqual(body.answers.map((x) => x.sender.slug), [b.slug, a.slug], `turn ${i}`);
    assert.equal(body.answers[0].is_first_responder, true);
  }
});

test('group answers are cut to 280 characters by default', async () => {
  const conv = await fx.conversation(user, [longA, longB]);
  const body = await say(user, conv.id, 'talk a lot');
  assert.equal(body.answers.length, 2);
  for (const answer of body.answers) {
    assertAnswer(answer);
    assert.equal(answer.content, LONG.slice(0, 280), `${answer.sender.slug} was not cut to 280 characters`);
  }
});

test('settings.character_limit sets the cut', async () => {
  const conv = await fx.conversation(user, [longA, longB], { settings: { character_limit: 50 } });
  const body = await say(user, conv.id, 'talk a little');
  for (const answer of body.answers) assert.equal(answer.content, LONG.slice(0, 50));
});

test('a one-model conversation is not cut, unless it sets a limit', async () => {
  const open = await fx.conversation(user, [longA]);
  assert.equal((await say(user, open.id, 'everything')).answers[0].content, LONG);
  const limited = await fx.conversation(user, [longA], { settings: { character_limit: 100 } });
  assert.equal((await say(user, limited.id, 'a little')).answers[0].content, LONG.slice(0, 100));
});

test('a streamed group turn is one start…done sequence per model, tagged, then a single end', async () => {
  const conv = await fx.conversation(user, [longA, b], { settings: { first_responder: longA.slug } });
  const content = `stream the group ${uniq()}`;
  const res = await streamMessage(user, conv.id, { content });
  const events = assertSse(res);
  assert.deepEqual(eventShape(events), ['start', 'delta*', 'done', 'start', 'delta*', 'done', 'end'], `events: ${events.map((e) => e.event)}`);

  const starts = events.filter((e) => e.event === 'start').map((e) => e.json);
  const dones = events.filter((e) => e.event === 'done').map((e) => e.json);
  assert.deepEqual(starts.map((s) => s.model), [longA.slug, b.slug]);
  assert.equal(starts[0].is_first_responder, true);
  assert.equal(starts[1].is_first_responder, false);
  assert.equal(starts[0].user_message?.content, content);
  assert.ok(starts[1].user_message === undefined || starts[1].user_message === null, 'the second start repeats the user message');
  assert.equal(starts[0].parent_id, starts[0].user_message.id);
  assert.equal(starts[1].parent_id, starts[0].message_id, 'the second model does not answer the first');

  for (let i = 0; i < 2; i++) {
    const mine = events.filter((e) => e.event === 'delta' && e.json.message_id === starts[i].message_id);
    assert.ok(mine.length > 0, `no deltas for ${starts[i].model}`);
    for (const d of mine) assert.equal(d.json.model, starts[i].model);
    assert.equal(dones[i].message_id, starts[i].message_id);
    assert.equal(dones[i].model, starts[i].model);
    const streamed = mine.map((d) => d.json.text).join('');
    const stored = dones[i].message.content;
    assert.equal(stored, streamed.slice(0, 280), `${starts[i].model}: what was streamed is not what was stored`);
    assert.ok(Number.isInteger(dones[i].usage.prompt_tokens) && Number.isInteger(dones[i].usage.completion_tokens));
  }
  assert.equal(dones[0].message.content, LONG.slice(0, 280));
  assert.equal(events.at(-1).json.credits, await credits(user.id));

  const items = await thread(user, conv.id);
  assert.deepEqual(items.map((m) => m.id), [starts[0].user_message.id, starts[0].message_id, starts[1].message_id]);
});

test('when one model of a group fails, the others still answer and only the failure is released', async () => {
  const failing = await fx.model({ provider: 'google', switches: 'error=500' });
  const conv = await fx.conversation(user, [a, failing], { settings: { first_responder: a.slug } });
  const before = await credits(user.id);
  const mark = await ledgerMark();
  const res = await sendMessage(user, conv.id, { content: 'one of us fails' });
  const body = assertJson(res, 201);
  assert.equal(body.answers.length, 2);
  const [ok, failed] = body.answers;
  assert.equal(ok.sender.slug, a.slug);
  assert.equal(ok.status, 'complete');
  assert.equal(failed.sender.slug, failing.slug);
  assert.equal(failed.status, 'error');
  assert.ok(failed.error, 'the failed answer has no reason');
  const after = await credits(user.id);
  assert.equal(after, before - ok.prompt_tokens - ok.completion_tokens, 'the failed answer was charged');
  const ledger = await ledgerSince(user.id, mark);
  assertLedgerExplains(ledger, before, after);
  // The later model also reserved what the first answer added to its context.
  assert.deepEqual(ledger.map((r) => r.reason).sort(), ['release', 'reserve', 'reserve', 'settle']);
});

test('when the first responder fails, the next model still answers the user', async () => {
  const failing = await fx.model({ provider: 'openai', switches: 'error=503' });
  const conv = await fx.conversation(user, [failing, b], { settings: { first_responder: failing.slug } });
  const content = `first one fails ${uniq()}`;
  const body = assertJson(await sendMessage(user, conv.id, { content }), 201);
  assert.deepEqual(body.answers.map((x) => [x.sender.slug, x.status]), [[failing.slug, 'error'], [b.slug, 'complete']]);
  assert.equal(body.answers[1].content, mockReply(content), 'the second model did not answer the user');
  const last = await mockLast('anthropic', content);
  assert.deepEqual(upstreamTurns('anthropic', last.body), [{ role: 'user', text: content }], 'the failed answer was sent as context');
});

test('a later answer the database cannot store answers 503; the first answer stays, the later one is not charged', async () => {
  const conv = await fx.conversation(user, [a, b], { settings: { first_responder: a.slug } });
  const content = `half stored ${uniq()}`;
  const before = await credits(user.id);
  const mark = await ledgerMark();
  // A first answer is stored by chat_answer_complete, a later one by
  // chat_answer_finish, which fails for httpd's role here.
  const res = await withoutExecute(
    'chat_answer_finish(json)',
    () => sendMessage(user, conv.id, { content }));
  assertError(res, 503, 'database_unavailable');

  const rows = await dbMessages(conv.id);
  assert.deepEqual(rows.map((r) => [r.sender_type, r.sender_tool_id, r.status]),
    [['user', null, 'complete'], ['ai', a.id, 'complete'], ['ai', b.id, 'error']], 'the rows of the turn');
  assert.equal(rows[1].content, mockReply(content));
  assert.equal(rows[2].content, '', 'the later answer has text although it was not stored');
  assert.match(rows[2].error, /database/i, 'the later answer does not say why it failed');
  // The visible thread ends at the failed answer, after the stored one.
  assert.deepEqual((await thread(user, conv.id)).map((m) => [m.id, m.status]),
    [[rows[0].id, 'complete'], [rows[1].id, 'complete'], [rows[2].id, 'error']], 'the visible thread');

  const used = rows[1].prompt_tokens + rows[1].completion_tokens;
  const ledger = await ledgerSince(user.id, mark);
  // The later answer reserved what the first one added to its context, and got all of it back.
  assert.deepEqual(ledger.map((r) => r.reason), ['reserve', 'settle', 'reserve', 'release']);
  const after = await credits(user.id);
  assert.equal(after, before - used, `balance ${before} -> ${after}; the first answer used ${used}`);
  assertLedgerExplains(ledger, before, after, 'ledger');
});
