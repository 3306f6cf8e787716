// Two behaviours that need time to pass upstream: a provider that does not
// answer within its configured timeout (the test server's "slowlane"
// provider has timeout=1), and many sends at once against a slow model, so
// that every reservation is made before any answer settles.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sqlValue } from '../lib/db.mjs';
import { assertError } from '../lib/assert.mjs';
import {
  ChatFixture, assertLedgerExplains, credits, dbMessages, ledgerMark, ledgerSince, reserveBound,
  sendMessage,
} from '../lib/chat.mjs';

const fx = new ChatFixture('chlim');

after(async () => {
  await fx.cleanup();
});

test('a provider that does not answer in time gives 504 provider_timeout; the message is kept and the credits released', async () => {
  const slow = await fx.model({ provider: 'slowlane', model_id: 'gpt-4o-mini@latency=3000' });
  const user = await fx.user({ credits: 5000 });
  const conv = await fx.conversation(user, [slow]);
  const res = await sendMessage(user, conv.id, { content: 'are you there' });
  assertError(res, 504, 'provider_timeout');
  const rows = await dbMessages(conv.id);
  assert.deepEqual(rows.map((m) => [m.sender_type, m.status]), [['user', 'complete'], ['ai', 'error']]);
  assert.equal(rows[0].content, 'are you there');
  assert.ok(rows[1].error, 'the answer row gives no reason');
  assert.equal(await credits(user.id), 5000, 'a timed-out call must cost nothing');
});

test('fifty sends at once with credits for ten: ten answered, more only as answers give credits back, the rest 402, never below zero', async () => {
  const slow = await fx.model({ provider: 'openai', switches: 'latency=3000', maxTokens: 64 });
  const content = 'fifty at once';
  const reserve = reserveBound({ messages: [content], maxTokens: 64 });
  const user = await fx.user({ credits: reserve * 10 });
  const convs = [];
  for (let i = 0; i < 50; i++) convs.push(await fx.conversation(user, [slow]));
  const mark = await ledgerMark();

  const results = await Promise.all(convs.map((c) => sendMessage(user, c.id, { content })));
  const statuses = `statuses: ${results.map((r) => r.status).join(',')}`;
  const ok = results.filter((r) => r.status === 201);
  const refused = results.filter((r) => r.status === 402);
  assert.equal(ok.length + refused.length, 50, statuses);
  for (const r of refused) assertError(r, 402, 'insufficient_credits');

  const after = await credits(user.id);
  const spent = ok.reduce((s, r) => s + r.json.answers[0].prompt_tokens + r.json.answers[0].completion_tokens, 0);
  assert.equal(after, reserve * 10 - spent);
  const ledger = await ledgerSince(user.id, mark);
  assertLedgerExplains(ledger, reserve * 10, after);
  // Each answered send reserved once, and each costs at most its reservation,
  // so the first ten always fit. Until an answer settles and gives back what
  // it did not use, no eleventh fits; a send that reserves after that (on a
  // loaded machine) may use what came back.
  const reserves = ledger.filter((r) => r.reason === 'reserve');
  assert.equal(reserves.length, ok.length, statuses);
  assert.ok(ok.length >= 10, statuses);
  const firstBack = ledger.findIndex((r) => r.delta > 0);
  if (firstBack < 0 || ledger.slice(firstBack).every((r) => r.reason !== 'reserve')) {
    assert.equal(ok.length, 10, statuses);
  }
  const minBalance = Number(await sqlValue(`SELECT min(balance_after) FROM credit_ledger WHERE user_id = :'p1'`, user.id));
  assert.ok(minBalance >= 0, `a balance of ${minBalance}`);
});
