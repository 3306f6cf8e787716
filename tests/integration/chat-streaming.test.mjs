// Streamed answers (text/event-stream): the product's own events in order
// (start, delta…, done, end) whatever protocol the model speaks upstream;
// the deltas arrive as the provider sends them and add up to the stored
// answer; usage and the balance are reported; regenerating streams too; and
// a client that goes away mid-answer stops the upstream call, and the answer
// is kept as "incomplete" with what was said so far, charged for what was
// used.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { auditRow } from '../lib/audit.mjs';
import { UUID_RE } from '../lib/assert.mjs';
import { uniq } from '../lib/users.mjs';
import { poll } from '../lib/poll.mjs';
import {
  ChatFixture, assertLedgerExplains, assertMessageShape, assertSse, chunkCount, credits, dbMessages,
  estimateTokens, eventShape, ledgerMark, ledgerSince, mockLast, mockPromptTokens, mockReply, mockStats, say,
  settledMessage, streamApi, streamMessage, thread, wordsReply,
} from '../lib/chat.mjs';

const fx = new ChatFixture('chsse');
const PROVIDERS = ['openai', 'anthropic', 'google'];
const models = {};
let user;

before(async () => {
  for (const provider of PROVIDERS) models[provider] = await fx.model({ provider });
  user = await fx.user({ prefix: 'chsse' });
});

after(async () => {
  await fx.cleanup();
});

const deltaText = (events) => events.filter((e) => e.event === 'delta').map((e) => e.json.text).join('');

for (const provider of PROVIDERS) {
  test(`a streamed ${provider} answer is start, deltas, done, end — and the deltas are the stored answer`, async () => {
    const model = models[provider];
    const conv = await fx.conversation(user, [model]);
    const marker = `s${uniq()}`;
    const content = `Tell me about ${marker} please`;

    const res = await streamMessage(user, conv.id, { content });
    const events = assertSse(res);
    assert.deepEqual(eventShape(events), ['start', 'delta*', 'done', 'end'], `events: ${events.map((e) => e.event)}`);

    const start = events[0].json;
    assert.match(start.message_id, UUID_RE);
    assert.equal(start.model, model.slug);
    assert.equal(start.display_name, model.display_name);
    assert.equal(start.is_first_responder, false);
    assertMessageShape(start.user_message, 'start.user_message');
    assert.equal(start.user_message.content, content);
    assert.equal(start.user_message.sender.username, user.user);
    assert.equal(start.parent_id, start.user_message.id);

    const deltas = events.filter((e) => e.event === 'delta');
    assert.equal(deltas.length, chunkCount(mockReply(content)), 'one delta per chunk the provider sent');
    for (const d of deltas) {
      assert.equal(d.json.message_id, start.message_id);
      assert.equal(d.json.model, model.slug);
      assert.equal(typeof d.json.text, 'string');
    }
    const text = deltaText(events);
    assert.equal(text, mockReply(content));

    const done = events.at(-2).json;
    assert.equal(done.message_id, start.message_id);
    assert.equal(done.model, model.slug);
    const last = await mockLast(model.kind, marker);
    assert.deepEqual(done.usage, {
      prompt_tokens: mockPromptTokens(model.kind, last.body),
      completion_tokens: chunkCount(text),
      estimated: false,
    });
    assertMessageShape(done.message, 'done.message');
    assert.equal(done.message.id, start.message_id);
    assert.equal(done.message.status, 'complete');
    assert.equal(done.message.content, text);
    assert.equal(done.message.prompt_tokens, done.usage.prompt_tokens);
    assert.equal(done.message.completion_tokens, done.usage.completion_tokens);

    const end = events.at(-1).json;
    assert.equal(end.credits, await credits(user.id), 'end.credits is not the balance');

    const items = await thread(user, conv.id);
    assert.deepEqual(items.map((m) => m.id), [start.user_message.id, start.message_id]);
    assert.deepEqual(items[1], done.message, 'the stored answer differs from done.message');
  });
}

test('a streamed send is audited like any other', async () => {
  const conv = await fx.conversation(user, [models.openai]);
  const res = await streamMessage(user, conv.id, { content: 'audited stream' });
  assertSse(res);
  assert.ok(res.requestId, 'no X-Request-Id on the stream');
  const row = await auditRow(res);
  assert.equal(row.status, 200);
  assert.equal(row.entity_type, 'message');
  assert.equal(row.entity_id, res.events[0].json.user_message.id);
});

test('deltas are sent as the provider produces them, not all at the end', async () => {
  const slow = await fx.model({ provider: 'anthropic', switches: 'rate=8;tokens=12' });
  const conv = await fx.conversation(user, [slow]);
  const res = await streamMessage(user, conv.id, { content: 'slowly' });
  const events = assertSse(res);
  const deltas = events.filter((e) => e.event === 'delta');
  assert.equal(deltas.length, 12);
  const done = events.find((e) => e.event === 'done');
  // 12 chunks at 8 per second: about 1.4 s between the first and the last.
  assert.ok(done.at - deltas[0].at >= 700, `the first delta came ${done.at - deltas[0].at} ms before done: the answer was buffered`);
  assert.ok(deltas[6].at - deltas[0].at >= 300, 'deltas arrived in one burst');
  assert.equal(deltaText(events), wordsReply(12));
});

test('while an answer streams, the thread shows the message and the answer row is stored in progress', async () => {
  const slow = await fx.model({ provider: 'openai', switches: 'rate=10;tokens=30' });
  const conv = await fx.conversation(user, [slow]);
  const content = `in progress ${uniq()}`;
  let during;
  const res = await streamMessage(user, conv.id, { content }, {
    onEvent(ev, events) {
      if (ev.event === 'delta' && events.filter((e) => e.event === 'delta').length === 3) {
        // read while the answer is still streaming
        during = Promise.all([thread(user, conv.id), dbMessages(conv.id)]);
      }
    },
  });
  const events = assertSse(res);
  assert.ok(during, 'the stream ended before its third delta');
  const start = events[0].json;
  const [items, rows] = await during;
  assert.deepEqual(items.map((m) => [m.id, m.sender_type, m.status]), [[start.user_message.id, 'user', 'complete']],
    'the thread read mid-stream does not end at the user message');
  assert.deepEqual(rows.map((m) => [m.id, m.sender_type, m.status]),
    [[start.user_message.id, 'user', 'complete'], [start.message_id, 'ai', 'streaming']],
    'the rows read mid-stream');
  const after = await thread(user, conv.id);
  assert.deepEqual(after.map((m) => [m.id, m.status]), [[start.user_message.id, 'complete'], [start.message_id, 'complete']]);
  assert.equal(after[1].content, wordsReply(30));
});

test('Accept: text/event-stream alone asks for a stream', async () => {
  const conv = await fx.conversation(user, [models.google]);
  const res = await streamApi('POST', `/conversations/${conv.id}/messages`, {
    ...user, body: { content: 'by header' }, headers: { Accept: 'text/event-stream' },
  });
  const events = assertSse(res);
  assert.deepEqual(eventShape(events), ['start', 'delta*', 'done', 'end']);
  assert.equal(deltaText(events), mockReply('by header'));
});

test('"stream": true asks for a stream without an Accept header', async () => {
  const conv = await fx.conversation(user, [models.openai]);
  const res = await streamApi('POST', `/conversations/${conv.id}/messages`, { ...user, body: { content: 'by body', stream: true } });
  assertSse(res);
  assert.equal(deltaText(res.events), mockReply('by body'));
});

test('a streamed answer continues the thread like a JSON one', async () => {
  const conv = await fx.conversation(user, [models.openai]);
  const first = await say(user, conv.id, 'json first');
  const res = await streamMessage(user, conv.id, { content: 'streamed second' });
  const events = assertSse(res);
  assert.equal(events[0].json.user_message.parent_id, first.answers[0].id);
  const { body } = await mockLast('openai', 'streamed second');
  assert.equal(body.messages.filter((m) => m.role !== 'system').length, 3);
});

test('regenerating can stream, without a user message', async () => {
  const conv = await fx.conversation(user, [models.anthropic]);
  const sent = await say(user, conv.id, 'regenerate me');
  const res = await streamApi('POST', `/messages/${sent.answers[0].id}/regenerate`, {
    ...user, body: { stream: true }, headers: { Accept: 'text/event-stream' },
  });
  const events = assertSse(res);
  assert.deepEqual(eventShape(events), ['start', 'delta*', 'done', 'end']);
  const start = events[0].json;
  assert.ok(start.user_message === undefined || start.user_message === null, 'a regeneration streamed a user message');
  assert.equal(start.parent_id, sent.user_message.id);
  assert.notEqual(start.message_id, sent.answers[0].id);
  const done = events.at(-2).json;
  assert.equal(done.message.content, mockReply('regenerate me'));
  assert.deepEqual(done.message.sibling_ids, [sent.answers[0].id, start.message_id]);
  const items = await thread(user, conv.id);
  assert.deepEqual(items.map((m) => m.id), [sent.user_message.id, start.message_id]);
});

test('a client that disconnects mid-answer stops the upstream stream; the answer is kept incomplete and charged for its use', async () => {
  const slow = await fx.model({ provider: 'openai', switches: 'rate=5;tokens=200', maxTokens: 300 });
  const conv = await fx.conversation(user, [slow]);
  const statsBefore = await mockStats();
  const balanceBefore = await credits(user.id);
  const mark = await ledgerMark();

  const controller = new AbortController();
  let answerId;
  const res = await streamMessage(user, conv.id, { content: `leave early ${uniq()}` }, {
    signal: controller.signal,
    onEvent(ev, events) {
      if (ev.event === 'start') answerId = ev.json.message_id;
      if (events.filter((e) => e.event === 'delta').length === 3) controller.abort();
    },
  });
  assert.equal(res.aborted, true, `the stream was not aborted: ${res.text.slice(0, 300)}`);
  assert.match(answerId ?? '', UUID_RE, 'no start event before the deltas');
  const received = deltaText(res.events);
  assert.equal(received.trim(), 'word1 word2 word3');

  const stats = await poll(mockStats, (s) => s.streams.aborted > statsBefore.streams.aborted, { tries: 100, intervalMs: 100 });
  assert.ok(stats.streams.aborted > statsBefore.streams.aborted, 'the module kept reading the upstream stream after the client left');

  const row = await settledMessage(answerId);
  assert.equal(row.status, 'incomplete', `the answer row: ${JSON.stringify(row)}`);
  assert.ok(row.content.startsWith(received), `the stored text does not start with what was streamed: ${row.content.slice(0, 100)}`);
  assert.ok(wordsReply(200).startsWith(row.content), `the stored text is not a prefix of the answer: ${row.content.slice(0, 100)}`);
  assert.ok(row.content.length < wordsReply(200).length, 'the whole answer was stored although the client left');
  assert.ok(row.completion_tokens > 0, 'no completion tokens recorded');
  assert.ok(row.prompt_tokens > 0, 'no prompt tokens recorded');
  // The mock's OpenAI stream reports usage only in its last chunk, which never came: the
  // completion is estimated from the text, ceil(characters / 4).
  assert.equal(row.tokens_estimated, true, 'usage the provider never sent is not marked as estimated');
  assert.equal(row.completion_tokens, estimateTokens(row.content));

  const rows = await dbMessages(conv.id);
  assert.equal(rows.length, 2);
  assert.equal(rows[0].sender_type, 'user');
  assert.equal(rows[0].status, 'complete');

  // Charged for what was used: the balance fell by exactly the recorded tokens.
  const used = row.prompt_tokens + row.completion_tokens;
  const ledger = await poll(() => ledgerSince(user.id, mark), (l) => l.length >= 2);
  const balanceAfter = await credits(user.id);
  assert.equal(balanceAfter, balanceBefore - used, `balance ${balanceBefore} -> ${balanceAfter}, tokens used ${used}`);
  assertLedgerExplains(ledger, balanceBefore, balanceAfter);
  assert.deepEqual(ledger.map((r) => r.reason), ['reserve', 'settle']);

  const items = await thread(user, conv.id);
  assert.equal(items.at(-1).id, answerId, 'the incomplete answer is not at the end of the thread');
  assert.equal(items.at(-1).status, 'incomplete');
});

test('after a client disconnects, the next message continues after the incomplete answer', async () => {
  const slow = await fx.model({ provider: 'anthropic', switches: 'rate=20;tokens=30', maxTokens: 100 });
  const conv = await fx.conversation(user, [slow]);
  const controller = new AbortController();
  let answerId;
  await streamMessage(user, conv.id, { content: 'first, abandoned' }, {
    signal: controller.signal,
    onEvent(ev) {
      if (ev.event === 'start') answerId = ev.json.message_id;
      if (ev.event === 'delta') controller.abort();
    },
  });
  assert.match(answerId ?? '', UUID_RE);
  const row = await settledMessage(answerId);
  assert.equal(row.status, 'incomplete');
  const next = await say(user, conv.id, 'second, awaited');
  assert.equal(next.user_message.parent_id, answerId);
  assert.equal(next.answers[0].status, 'complete');
  assert.equal(next.answers[0].content, wordsReply(30));
});
