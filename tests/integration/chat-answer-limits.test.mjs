// What bounds a call besides credits: an answer never grows past
// AIChatMaxAnswerBytes (the test server sets 262144 bytes in scripts/dev),
// and a client that leaves is noticed while the provider still thinks, not
// only once it answers. Either way the answer is stored incomplete and
// charged what it used, and the upstream call stops.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { uniq } from '../lib/users.mjs';
import { poll } from '../lib/poll.mjs';
import {
  ChatFixture, assertLedgerExplains, assertSse, credits, dbMessages, ledgerMark, ledgerSince, mockLastRaw,
  mockStats, say, streamApi, streamMessage, thread,
} from '../lib/chat.mjs';
import { onOneNode } from '../lib/nodes.mjs';

const CAP = 262144;

const fx = new ChatFixture('chlimits');
let endless; // streams "Mock " forever
let fast;

before(async () => {
  // max_tokens is large so that the reservation covers the estimate of what
  // arrives (the mock ignores max_tokens in this mode).
  endless = await fx.model({ provider: 'openai', switches: 'forever=1', maxTokens: 200000 });
  fast = await fx.model({ provider: 'anthropic', maxTokens: 64 });
});

after(async () => {
  await fx.cleanup();
});

const used = (row) => row.prompt_tokens + row.completion_tokens;

/** The text the endless model sends, cut at the cap. */
const capped = 'Mock '.repeat(Math.ceil(CAP / 5)).slice(0, CAP);

/** Waits until the mock counted one more stream its client left, and none of them runs. */
async function upstreamClosed(before) {
  const stats = await poll(mockStats, (s) => s.streams.aborted > before.streams.aborted && s.streams.active === 0,
    { tries: 100, intervalMs: 100 });
  assert.ok(stats.streams.aborted > before.streams.aborted, 'the module kept reading the upstream answer');
  assert.equal(stats.streams.active, 0, 'an upstream stream is still running');
}

/** The balance fell by exactly the answer's recorded tokens, reserve then settle. */
async function assertChargedFor(user, mark, start, row) {
  assert.ok(used(row) > 0, 'nothing was charged for what was used');
  const ledger = await poll(() => ledgerSince(user.id, mark), (l) => l.length >= 2);
  const after = await credits(user.id);
  assert.equal(after, start - used(row), `balance ${start} -> ${after}, tokens used ${used(row)}`);
  assertLedgerExplains(ledger, start, after);
  assert.deepEqual(ledger.map((r) => r.reason), ['reserve', 'settle']);
}

test('an upstream that never stops is cut at AIChatMaxAnswerBytes: stored incomplete with the reason, charged what was used', async () => {
  const user = await fx.user({ credits: 1000000 });
  const conv = await fx.conversation(user, [endless]);
  const stats = await mockStats();
  const mark = await ledgerMark();
  const body = await say(user, conv.id, 'never stop');
  const [answer] = body.answers;
  assert.equal(answer.status, 'incomplete');
  assert.match(answer.error ?? '', /limit of 262144 bytes/, 'the answer does not say why it stopped');
  assert.equal(answer.content, capped, 'the stored text is not the answer up to the cap');
  await upstreamClosed(stats);

  const [, row] = await dbMessages(conv.id);
  assert.equal(row.status, 'incomplete');
  assert.equal(row.content, capped);
  assert.deepEqual((await thread(user, conv.id)).map((m) => m.status), ['complete', 'incomplete']);
  await assertChargedFor(user, mark, 1000000, row);
  assert.equal(body.credits, await credits(user.id));
});

test('a streamed answer that never stops ends at the cap: the deltas are the stored text, done says incomplete and why', async () => {
  const user = await fx.user({ credits: 1000000 });
  const conv = await fx.conversation(user, [endless]);
  const stats = await mockStats();
  const mark = await ledgerMark();
  const res = await streamMessage(user, conv.id, { content: 'never stop streaming' });
  const events = assertSse(res);
  const deltas = events.filter((e) => e.event === 'delta').map((e) => e.json.text).join('');
  const done = events.find((e) => e.event === 'done');
  assert.ok(done, `no done event: ${events.slice(-3).map((e) => e.event)}`);
  assert.equal(done.json.message.status, 'incomplete');
  assert.match(done.json.message.error ?? '', /limit of 262144 bytes/);
  assert.equal(deltas, capped, 'what was streamed is not the answer up to the cap');
  assert.equal(done.json.message.content, capped);
  assert.equal(events.at(-1).event, 'end');
  await upstreamClosed(stats);
  const [, row] = await dbMessages(conv.id);
  await assertChargedFor(user, mark, 1000000, row);
  assert.equal(events.at(-1).json.credits, await credits(user.id));
});

for (const stream of [false, true]) {
  // Sent to one node: behind a balancer the node's client is the balancer,
  // and mod_proxy_http passes a client's leaving on only when it next writes
  // to it, which a provider still thinking never makes it do.
  test(`a client that leaves a ${stream ? 'streamed send before any text' : 'non-streamed send'} is noticed while the provider works: the answer is stored incomplete and charged, the upstream call stops`, () => onOneNode(async () => {
    // The mock would answer after 30 s (the provider's timeout): the answer
    // must be settled well before that.
    const slow = await fx.model({ provider: 'openai', switches: 'latency=30000', maxTokens: 64 });
    const user = await fx.user({ credits: 5000 });
    const conv = await fx.conversation(user, [slow]);
    const content = `leaving ${uniq()}`;
    const stats = await mockStats();
    const mark = await ledgerMark();
    const controller = new AbortController();
    const pending = streamApi('POST', `/conversations/${conv.id}/messages`, {
      ...user,
      body: { content, stream },
      headers: stream ? { Accept: 'text/event-stream' } : {},
      signal: controller.signal,
    }).catch((err) => (err?.name === 'AbortError' ? { aborted: true } : Promise.reject(err)));

    // Accepted: the user's message is stored and the provider has the request.
    const asked = await poll(() => mockLastRaw('openai'), (raw) => (raw ?? '').includes(content), { tries: 100, intervalMs: 100 });
    assert.ok((asked ?? '').includes(content), 'the provider was never asked');
    assert.equal((await dbMessages(conv.id))[0]?.content, content);
    controller.abort();
    assert.equal((await pending).aborted, true, 'the request was not aborted');

    const rows = await poll(() => dbMessages(conv.id), (r) => r.length === 2 && r[1].status !== 'streaming',
      { tries: 100, intervalMs: 100 });
    assert.equal(rows.length, 2, `no answer stored within 10 s of the client leaving: ${JSON.stringify(rows)}`);
    assert.equal(rows[1].status, 'incomplete', `the answer row: ${JSON.stringify(rows[1])}`);
    assert.equal(rows[1].content, '');
    await upstreamClosed(stats);
    await assertChargedFor(user, mark, 5000, rows[1]);

    // The worker is free again: the next send is answered.
    const other = await fx.conversation(user, [fast]);
    const next = await say(user, other.id, 'still there?');
    assert.equal(next.answers[0].status, 'complete');
  }));
}
