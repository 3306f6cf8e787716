// The OpenAI-compatible API (/chat/v1) with personal API keys: the official
// `openai` npm SDK, unchanged, is the client, streamed and not, against
// models of the three protocols; keys are made, listed, scoped and revoked
// through the product's API; a key is shown once and stored only as a hash;
// each call reserves and settles credits as a chat turn does.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { api, currentServer, request, withServer } from '../lib/http.mjs';
import { sql, sqlJson, sqlValue } from '../lib/db.mjs';
import { auditRows } from '../lib/audit.mjs';
import { assertError, assertJson, UUID_RE } from '../lib/assert.mjs';
import { ADMIN, uniq } from '../lib/users.mjs';
import { NODES, onOneNode, restartGracefully } from '../lib/nodes.mjs';
import { poll } from '../lib/poll.mjs';
import { readFile } from 'node:fs/promises';
import {
  ChatFixture, SseParser, apiCallsSettled, assertLedgerExplains, assertPath, credits, ledgerMark, ledgerSince, mockLast, mockReply, mockStats, thread,
} from '../lib/chat.mjs';

const fx = new ChatFixture('oai');
const V1 = '/chat/v1';
let models;  // { openai, anthropic, google }

before(async () => {
  models = {
    openai: await fx.model({ provider: 'openai', maxTokens: 64 }),
    anthropic: await fx.model({ provider: 'anthropic', maxTokens: 64 }),
    google: await fx.model({ provider: 'google', maxTokens: 64 }),
  };
});

after(async () => {
  await sql(`DELETE FROM api_keys WHERE name LIKE 'oai-test-%'`);
  await fx.cleanup();
});

async function makeKey(user, body = {}) {
  const res = await api('POST', '/keys', { ...user, body: { name: `oai-test-${uniq()}`, ...body } });
  const key = assertJson(res, 201);
  return key;
}

function client(key) {
  return new OpenAI({ apiKey: key.key ?? key, baseURL: currentServer() + V1, maxRetries: 0 });
}

/** POST /chat/v1/chat/completions with a bearer key, through fetch. */
function complete(key, body, headers = {}) {
  return request('POST', `${V1}/chat/completions`, {
    body, headers: { Authorization: `Bearer ${key}`, ...headers },
  });
}

/** A call with a revoked or expired key is refused with this code. */
async function refused(key, code) {
  const body = { model: models.openai.slug, messages: [{ role: 'user', content: 'refused?' }] };
  assertOpenAiError(await complete(key, body), 401, code);
}

function assertOpenAiError(res, status, code, param) {
  assert.equal(res.status, status, `${res.label}: expected ${status}, got ${res.status}: ${res.text.slice(0, 300)}`);
  const err = res.json?.error;
  assert.ok(err && typeof err === 'object', `${res.label}: no error object: ${res.text.slice(0, 300)}`);
  assert.equal(err.code, code, `${res.label}: code ${err.code}`);
  assert.ok(typeof err.message === 'string' && err.message.length > 0, 'no message');
  assert.ok(typeof err.type === 'string' && err.type.length > 0, 'no type');
  assert.ok('param' in err, 'no param member');
  if (param !== undefined) assert.equal(err.param, param);
}

// --- keys -------------------------------------------------------------------

test('a key is shown once, stored only as its SHA-256 and prefix, and listed without its text', async () => {
  const user = await fx.user({ credits: 100000 });
  const key = await makeKey(user, { monthly_budget: 5000, rpm: 30, models: [models.openai.slug] });
  assert.match(key.key, /^sk-aic-[A-Za-z0-9_-]{43}$/);
  assert.match(key.id, UUID_RE);
  assert.equal(key.prefix, key.key.slice(0, 14));
  assert.equal(key.status, 'active');
  assert.deepEqual(key.models, [models.openai.slug]);
  assert.equal(key.monthly_budget, 5000);

  const list = assertJson(await api('GET', '/keys', user), 200);
  const listed = list.items.find((k) => k.id === key.id);
  assert.ok(listed, 'the new key is not listed');
  assert.equal(listed.key, undefined, 'the list shows the key text');
  assert.ok(!JSON.stringify(list).includes(key.key), 'the key text is in the list');

  const row = (await sqlJson(`SELECT encode(key_hash, 'hex') AS hash, prefix FROM api_keys WHERE id = :'p1'`, key.id))[0];
  const { createHash } = await import('node:crypto');
  assert.equal(row.hash, createHash('sha256').update(key.key).digest('hex'));
  const found = await sqlValue(
    `SELECT count(*) FROM api_keys k WHERE row_to_json(k)::text LIKE '%' || :'p1' || '%'`, key.key.slice(14));
  assert.equal(Number(found), 0, 'the key text (past its prefix) is in the api_keys table');
});

test('bad key requests are 422 naming the field; another user\'s key is 404', async () => {
  const user = await fx.user();
  const other = await fx.user();
  assertError(await api('POST', '/keys', { ...user, body: {} }), 422, 'invalid_field', 'name');
  assertError(await api('POST', '/keys', { ...user, body: { name: 'x', rpm: 0 } }), 422, 'invalid_field', 'rpm');
  assertError(await api('POST', '/keys', { ...user, body: { name: 'x', models: ['no-such-model-' + uniq()] } }), 422, 'unknown_model', 'models');
  assertError(await api('POST', '/keys', { ...user, body: { name: 'x', expires_at: '2001-01-01T00:00:00Z' } }), 422, 'invalid_field', 'expires_at');
  assertError(await api('POST', '/keys', { ...user, body: { name: 'x', colour: 'red' } }), 422, 'unknown_field');
  const key = await makeKey(user);
  assertError(await api('DELETE', `/keys/${key.id}`, other), 404, 'not_found');
  const list = assertJson(await api('GET', '/keys', other), 200);
  assert.ok(!list.items.some((k) => k.id === key.id), 'another user sees the key');
  // Still usable: the other user's DELETE changed nothing.
  const res = await complete(key.key, { model: models.openai.slug, messages: [{ role: 'user', content: 'still?' }] });
  assert.equal(res.status, 200, res.text);
});

test('keys are listed a page at a time, newest first, for users and administrators', async () => {
  const user = await fx.user();
  const made = [];
  for (let i = 0; i < 5; i++) made.push(await makeKey(user, { name: `oai-test-page-${i}` }));
  const newest = made.map((k) => k.id).reverse();

  const seen = [];
  let next = null;
  let pages = 0;
  do {
    const page = assertJson(await api('GET', `/keys?limit=2${next ? `&after=${next}` : ''}`, user), 200);
    assert.ok(page.items.length <= 2, 'a page holds more than its limit');
    seen.push(...page.items.map((k) => k.id));
    next = page.next;
    pages++;
  } while (next && pages < 10);
  assert.deepEqual(seen, newest, 'the pages do not give every key once, newest first');
  assert.equal(pages, 3);

  // Administrators page through every user's keys the same way: this user's keys come in the same order.
  const all = [];
  next = null;
  pages = 0;
  do {
    const page = assertJson(await api('GET', `/admin/keys?limit=2${next ? `&after=${next}` : ''}`, ADMIN), 200);
    all.push(...page.items.map((k) => k.id));
    next = page.next;
    pages++;
  } while (next && pages < 1000);
  assert.deepEqual(all.filter((id) => newest.includes(id)), newest);
  assert.equal(new Set(all).size, all.length, 'a key is listed twice across the admin pages');

  assertError(await api('GET', '/keys?limit=0', user), 422, 'invalid_field', 'limit');
  assertError(await api('GET', '/keys?limit=501', user), 422, 'invalid_field', 'limit');
  assertError(await api('GET', '/keys?after=zz', user), 422, 'invalid_field', 'after');
  // A cursor of another list is refused, not misread.
  const users = assertJson(await api('GET', '/admin/users?limit=1', ADMIN), 200);
  assert.ok(users.next, 'the users list has one page only');
  assertError(await api('GET', `/keys?after=${users.next}`, user), 422, 'invalid_field', 'after');
});

test('a key records when it was last used: null until its first call, then the time of its latest', async () => {
  const user = await fx.user();
  const key = await makeKey(user);
  const unused = await makeKey(user);
  const listed = async (k) => assertJson(await api('GET', '/keys', user), 200).items.find((x) => x.id === k.id);
  assert.equal(key.last_used_at, null, 'a new key has a last use');
  assert.equal((await listed(key)).last_used_at, null);
  const body = { model: models.openai.slug, messages: [{ role: 'user', content: `last use ${uniq()}` }] };

  // The database's clock before each call: the use recorded with the call's
  // settlement is not older.
  for (let i = 0; i < 2; i++) {
    const before = await sqlValue('SELECT clock_timestamp()');
    const res = await complete(key.key, body);
    assert.equal(res.status, 200, res.text);
    await calls(key, i + 1);
    const row = (await sqlJson(
      `SELECT last_used_at, last_used_at >= :'p1'::timestamptz AS since, last_used_at <= clock_timestamp() AS past
         FROM api_keys WHERE id = :'p2'`, before, key.id))[0];
    assert.ok(row.last_used_at, `call ${i + 1}: no last use recorded`);
    assert.ok(row.since, `call ${i + 1}: last_used_at ${row.last_used_at} is older than the call (${before})`);
    assert.ok(row.past, `call ${i + 1}: last_used_at ${row.last_used_at} is in the future`);
    // The API shows the same time, to its owner and to administrators.
    const mine = await listed(key);
    assert.equal(Date.parse(mine.last_used_at), Date.parse(row.last_used_at), 'GET /keys shows another time');
    const all = assertJson(await api('GET', '/admin/keys?limit=500', ADMIN), 200).items.find((x) => x.id === key.id);
    assert.ok(all, 'the admin list lacks the key');
    assert.equal(Date.parse(all.last_used_at), Date.parse(row.last_used_at), 'GET /admin/keys shows another time');
  }
  assert.equal((await listed(unused)).last_used_at, null, 'a key never used has a last use');
});

// --- the SDK --------------------------------------------------------------------

for (const provider of ['openai', 'anthropic', 'google']) {
  test(`the openai SDK gets a completion from a ${provider}-protocol model, charged as its usage`, async () => {
    const user = await fx.user({ credits: 100000 });
    const key = await makeKey(user);
    const content = `Hello from the SDK ${uniq()}`;
    const before = await credits(user.id);
    const mark = await ledgerMark();
    const out = await client(key).chat.completions.create({
      model: models[provider].slug,
      messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content }],
    });
    assert.equal(out.object, 'chat.completion');
    assert.equal(out.model, models[provider].slug);
    assert.match(out.id, /^chatcmpl-/);
    assert.equal(out.choices.length, 1);
    assert.equal(out.choices[0].message.role, 'assistant');
    assert.equal(out.choices[0].message.content, mockReply(content));
    assert.equal(out.choices[0].finish_reason, 'stop');
    const { prompt_tokens: p, completion_tokens: c, total_tokens: t } = out.usage;
    assert.ok(p > 0 && c > 0 && t === p + c, JSON.stringify(out.usage));
    await apiCallsSettled(key.id, 1);
    assert.equal(await credits(user.id), before - t, 'charged other than the call\'s tokens');
    // The credits taken for the call (and maybe for the key's next calls),
    // the call settled, and what was left of them given back.
    const ledger = await ledgerSince(user.id, mark);
    assertLedgerExplains(ledger, before, before - t);
    assert.deepEqual(ledger.map((l) => l.reason).filter((r) => r !== 'release'), ['reserve', 'settle']);
    const call = (await sqlJson(`SELECT * FROM api_calls WHERE key_id = :'p1'`, key.id))[0];
    assert.equal(call.status, 'complete');
    assert.equal(Number(call.credits), t);
    assert.equal(call.model, models[provider].slug);
    // The system message went upstream as the protocol's system prompt.
    const kind = models[provider].kind;
    const last = await mockLast(kind, content);
    assert.ok(last.raw.includes('Be brief.'), 'the system prompt did not reach the provider');
  });

  test(`the openai SDK streams a ${provider}-protocol model's answer, with the usage chunk`, async () => {
    const user = await fx.user({ credits: 100000 });
    const key = await makeKey(user);
    const content = `Stream it ${uniq()}`;
    const before = await credits(user.id);
    const stream = await client(key).chat.completions.create({
      model: models[provider].slug,
      messages: [{ role: 'user', content }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage = null;
    let finish = null;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      assert.equal(chunk.object, 'chat.completion.chunk');
      if (chunk.choices.length) {
        text += chunk.choices[0].delta.content ?? '';
        finish = chunk.choices[0].finish_reason ?? finish;
      }
      if (chunk.usage) usage = chunk.usage;
    }
    assert.equal(text, mockReply(content));
    assert.equal(finish, 'stop');
    assert.ok(chunks > 3, `only ${chunks} chunks`);
    assert.ok(usage && usage.total_tokens === usage.prompt_tokens + usage.completion_tokens && usage.total_tokens > 0);
    await apiCallsSettled(key.id, 1);
    assert.equal(await credits(user.id), before - usage.total_tokens);
  });
}

test('a streamed call without stream_options.include_usage ends with no usage chunk, as OpenAI\'s does', async () => {
  const user = await fx.user({ credits: 100000 });
  const key = await makeKey(user);
  for (const [i, options] of [{}, { stream_options: { include_usage: false } }].entries()) {
    const content = `No usage ${uniq()}`;
    const before = await credits(user.id);
    const res = await complete(key.key, { model: models.openai.slug, messages: [{ role: 'user', content }], stream: true, ...options });
    assert.equal(res.status, 200, res.text);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    const data = new SseParser().feed(res.text).map((e) => e.data);
    assert.equal(data.at(-1), '[DONE]', `the stream does not end with [DONE]: ${res.text.slice(-300)}`);
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
    assert.ok(chunks.length > 3, `only ${chunks.length} chunks`);
    for (const chunk of chunks) {
      assert.equal(chunk.object, 'chat.completion.chunk');
      assert.ok(!('usage' in chunk), `a chunk has a usage member: ${JSON.stringify(chunk)}`);
      assert.equal(chunk.choices.length, 1, `a chunk without its choice (a usage chunk?): ${JSON.stringify(chunk)}`);
    }
    assert.equal(chunks.map((c) => c.choices[0].delta.content ?? '').join(''), mockReply(content));
    assert.equal(chunks.at(-1).choices[0].finish_reason, 'stop', 'the last chunk is not the one that finishes');
    // Charged as a call with the usage chunk is, all the same.
    const call = (await calls(key, i + 1)).at(-1);
    assert.equal(call.status, 'complete');
    assert.ok(Number(call.credits) > 0);
    assert.equal(await credits(user.id), before - Number(call.credits));
  }
});

test('a streamed call whose client leaves is stopped upstream, ends incomplete and is charged what it used', async () => {
  const user = await fx.user({ credits: 100000 });
  const key = await makeKey(user);
  const slow = await fx.model({ provider: 'openai', switches: 'rate=5;tokens=200', maxTokens: 300 });
  const before = await credits(user.id);
  const statsBefore = await mockStats();
  const controller = new AbortController();
  const res = await fetch(currentServer() + `${V1}/chat/completions`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${key.key}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ model: slow.slug, stream: true, messages: [{ role: 'user', content: `leave ${uniq()}` }] }),
    signal: controller.signal,
  });
  assert.equal(res.status, 200);
  // Read until three pieces of text came, then leave.
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let seen = '';
  while ((seen.match(/"content":"word/g) ?? []).length < 3) {
    const { value, done } = await reader.read();
    assert.ok(!done, `the stream ended before three pieces: ${seen.slice(-300)}`);
    seen += decoder.decode(value, { stream: true });
  }
  controller.abort();

  const stats = await poll(mockStats, (x) => x.streams.aborted > statsBefore.streams.aborted, { tries: 100, intervalMs: 100 });
  assert.ok(stats.streams.aborted > statsBefore.streams.aborted, 'the upstream stream went on after the client left');
  const [call] = await poll(() => sqlJson(`SELECT * FROM api_calls WHERE key_id = :'p1'`, key.id),
    (rows) => rows[0] && rows[0].status !== 'pending', { tries: 100, intervalMs: 100 });
  assert.equal(call.status, 'incomplete');
  const used = call.prompt_tokens + call.completion_tokens;
  assert.ok(call.completion_tokens > 0 && used < Number(call.reserved), `used ${used} of ${call.reserved}`);
  assert.equal(Number(call.credits), used);
  assert.equal(await credits(user.id), before - used, 'not charged what the call used');
});

test('GET /models lists what the key may use as OpenAI model objects; another model is 404 model_not_found', async () => {
  const user = await fx.user();
  const all = await makeKey(user);
  const one = await makeKey(user, { models: [models.anthropic.slug] });
  const listAll = await client(all).models.list();
  const ids = listAll.data.map((m) => m.id);
  for (const m of Object.values(models)) assert.ok(ids.includes(m.slug), `${m.slug} not listed`);
  assert.ok(listAll.data.every((m) => m.object === 'model' && typeof m.created === 'number' && m.owned_by));
  const listOne = await client(one).models.list();
  assert.deepEqual(listOne.data.map((m) => m.id), [models.anthropic.slug]);
  const got = await client(one).models.retrieve(models.anthropic.slug);
  assert.equal(got.id, models.anthropic.slug);

  const res = await complete(one.key, { model: models.openai.slug, messages: [{ role: 'user', content: 'hi' }] });
  assertOpenAiError(res, 404, 'model_not_found', 'model');
  await assert.rejects(client(one).models.retrieve(models.openai.slug), (err) => err.status === 404);
  assertOpenAiError(await complete(all.key, { model: 'no-such-' + uniq(), messages: [{ role: 'user', content: 'x' }] }),
    404, 'model_not_found', 'model');
});

test('a model whose provider the server does not configure is 404 model_not_found, as GET /models hides it', async () => {
  // The API refuses unknown providers, so the provider is changed in the database.
  const ghost = await fx.model({ provider: 'openai' });
  await sql(`UPDATE ai_tools SET provider = 'ghost' WHERE id = :'p1'`, ghost.id);
  const user = await fx.user({ credits: 100000 });
  const key = await makeKey(user);
  const ids = (await client(key).models.list()).data.map((m) => m.id);
  assert.ok(!ids.includes(ghost.slug), 'GET /models lists a model of a provider that is not configured');
  assert.ok(ids.includes(models.openai.slug));
  await assert.rejects(client(key).models.retrieve(ghost.slug), (err) => err.status === 404);
  for (const stream of [false, true]) {
    const res = await complete(key.key, { model: ghost.slug, stream, messages: [{ role: 'user', content: 'ghost' }] });
    assertOpenAiError(res, 404, 'model_not_found', 'model');
    assert.equal(res.json.error.type, 'invalid_request_error');
  }
  await assert.rejects(
    client(key).chat.completions.create({ model: ghost.slug, messages: [{ role: 'user', content: 'ghost' }] }),
    (err) => err.status === 404 && err.code === 'model_not_found');
  assert.equal(Number(await sqlValue(`SELECT count(*) FROM api_calls WHERE key_id = :'p1'`, key.id)), 0, 'a call was made');
  assert.equal(await credits(user.id), 100000);
});

// --- provider failures --------------------------------------------------------------
// A provider that fails before any text is answered with the failure's status
// and error, streamed or not, as OpenAI's API does (its SDKs read the status,
// and retry a 429 or 5xx after Retry-After). Once text was streamed, the
// stream's last event is the error. A failed call costs nothing and its
// api_calls row ends 'error'.

const FAULTS = [
  // [what, the model, status, code, Retry-After]
  ['upstream 401', { switches: 'error=401' }, 502, 'provider_auth'],
  ['upstream 429 with Retry-After', { switches: 'error=429' }, 429, 'provider_rate_limited', '1'],
  ['upstream 500', { switches: 'error=500' }, 502, 'provider_error'],
  ['upstream 529 overloaded', { provider: 'anthropic', switches: 'error=529' }, 502, 'provider_overloaded'],
  ['no answer in time', { provider: 'slowlane', model_id: 'gpt-4o-mini@latency=3000' }, 504, 'provider_timeout'],
  ['a malformed answer', { switches: 'malformed=1' }, 502, 'provider_malformed'],
  ['a stream cut before any text', { switches: 'cut=0' }, 502, 'provider_incomplete'],
];

const faultModels = new Map();

/** One model per fault, made on first use. */
async function faultModel(spec) {
  const id = JSON.stringify(spec);
  if (!faultModels.has(id)) faultModels.set(id, await fx.model(spec));
  return faultModels.get(id);
}

/** A fresh user with a key (and a monthly budget), its balance and the ledger's mark. */
async function failingCaller() {
  const user = await fx.user({ credits: 100000 });
  const key = await makeKey(user, { monthly_budget: 100000 });
  return { user, key, before: await credits(user.id), mark: await ledgerMark() };
}

/** The key's `count` calls, oldest first, each settled. */
function calls(key, count) {
  return apiCallsSettled(key.id, count);
}

/** The failed call was recorded as an error and its reservation given back in full. */
async function assertFailedCall({ user, key, before, mark }, code, what) {
  const rows = await calls(key, 1);
  assert.equal(rows[0].status, 'error', `${what}: the call ended ${rows[0].status}`);
  assert.equal(Number(rows[0].credits), 0, `${what}: the call cost ${rows[0].credits}`);
  assert.ok(rows[0].error, `${what}: the call gives no reason`);
  assert.equal(await credits(user.id), before, `${what}: the balance changed`);
  const ledger = await ledgerSince(user.id, mark);
  assertLedgerExplains(ledger, before, before, what);
  assert.deepEqual(ledger.map((l) => l.reason).filter((r) => r !== 'release'), ['reserve'], what);
  assert.equal(Number(await sqlValue(`SELECT budget_used FROM api_keys WHERE id = :'p1'`, key.id)), 0,
    `${what}: the key's budget keeps the reservation`);
}

for (const [what, spec, status, code, retryAfter] of FAULTS) {
  for (const stream of [false, true]) {
    const how = stream ? 'streamed' : 'not streamed';
    test(`${what}, ${how}: ${status} ${code} in OpenAI's format${retryAfter ? ' with Retry-After' : ''}; nothing charged, the call an error`, async () => {
      const model = await faultModel(spec);
      const caller = await failingCaller();
      const res = await complete(caller.key.key, {
        model: model.slug, stream, messages: [{ role: 'user', content: `fail ${uniq()}` }],
      });
      assertOpenAiError(res, status, code, null);
      assert.equal(res.json.error.type, status === 429 ? 'rate_limit_error' : 'api_error');
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      assert.equal(res.headers.get('retry-after'), retryAfter ?? null, 'Retry-After');
      await assertFailedCall(caller, code, `${what}, ${how}`);
    });
  }
}

test('the openai SDK retries a streamed call the provider refused with 429 after its Retry-After, and gets the answer', async () => {
  // error_times counts calls with the same switches: this model's are its own.
  const reply = `retried-${uniq()}`;
  const model = await fx.model({ switches: `error=429;error_times=1;reply=${reply}` });
  const { user, key, before } = await failingCaller();
  const sdk = new OpenAI({ apiKey: key.key, baseURL: currentServer() + V1, maxRetries: 1 });
  const stream = await sdk.chat.completions.create({
    model: model.slug, stream: true, messages: [{ role: 'user', content: 'retry me' }],
  });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
  assert.equal(text, reply);
  const rows = await calls(key, 2);
  assert.deepEqual(rows.map((c) => c.status), ['error', 'complete']);
  assert.equal(await credits(user.id), before - Number(rows[1].credits), 'charged other than the answered call');

  // Without retries the SDK sees the 429 itself: its Retry-After, code and type.
  const refusing = await faultModel({ switches: 'error=429' });
  await assert.rejects(
    client(key).chat.completions.create({ model: refusing.slug, stream: true, messages: [{ role: 'user', content: 'x' }] }),
    (err) => err.status === 429 && err.headers?.get('retry-after') === '1' &&
      err.code === 'provider_rate_limited' && err.type === 'rate_limit_error');
});

test('a streamed call whose answer is empty still starts, finishes and is charged as complete', async () => {
  const model = await fx.model({ switches: 'reply=' });
  const { user, key, before } = await failingCaller();
  const res = await complete(key.key, { model: model.slug, stream: true, messages: [{ role: 'user', content: 'say nothing' }] });
  assert.equal(res.status, 200, res.text);
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  const data = new SseParser().feed(res.text).map((e) => e.data);
  assert.equal(data.at(-1), '[DONE]');
  const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
  assert.equal(chunks[0].choices[0].delta.role, 'assistant');
  assert.equal(chunks.map((c) => c.choices[0].delta.content ?? '').join(''), '');
  assert.equal(chunks.at(-1).choices[0].finish_reason, 'stop');
  const rows = await calls(key, 1);
  assert.deepEqual(rows.map((c) => c.status), ['complete']);
  assert.equal(await credits(user.id), before - Number(rows[0].credits));
});

for (const [switches, code] of [['cut=2', 'provider_incomplete'], ['stream_error=2', 'provider_stream_error']]) {
  test(`a provider failing after the first text (${switches}): the stream ends with the error event, not streamed 502 ${code}`, async () => {
    const model = await faultModel({ switches });
    const content = `late ${uniq()}`;
    const body = { model: model.slug, messages: [{ role: 'user', content }] };
    const streamed = await failingCaller();
    const res = await complete(streamed.key.key, { ...body, stream: true });
    assert.equal(res.status, 200, res.text);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    const data = new SseParser().feed(res.text).map((e) => e.data);
    assert.equal(data.at(-1), '[DONE]', `the stream does not end with [DONE]: ${res.text.slice(-300)}`);
    const events = data.slice(0, -1).map((d) => JSON.parse(d));
    const last = events.at(-1);
    assert.deepEqual(Object.keys(last), ['error'], `the last event is not the error: ${JSON.stringify(last)}`);
    assert.equal(last.error.code, code);
    assert.equal(last.error.type, 'api_error');
    assert.equal(last.error.param, null);
    assert.ok(typeof last.error.message === 'string' && last.error.message.length > 0, 'no message');
    const text = events.slice(0, -1).map((c) => c.choices[0].delta.content ?? '').join('');
    assert.ok(text.length > 0 && mockReply(content).startsWith(text), `streamed ${JSON.stringify(text)}`);
    await assertFailedCall(streamed, code, `${switches}, streamed`);

    // Not streamed, the same error as a status.
    const whole = await failingCaller();
    const res2 = await complete(whole.key.key, body);
    assertOpenAiError(res2, 502, code, null);
    assert.equal(res2.json.error.type, last.error.type);
    await assertFailedCall(whole, code, `${switches}, not streamed`);
  });
}

// --- authentication ---------------------------------------------------------------

// On one node: the node that revokes a key refuses it at once; the next test
// shows what another node does.
test('missing, malformed, unknown, revoked and expired keys are 401 in OpenAI\'s format', () => onOneNode(async () => {
  const user = await fx.user();
  const body = { model: models.openai.slug, messages: [{ role: 'user', content: 'hi' }] };
  const none = await request('POST', `${V1}/chat/completions`, { body });
  assertOpenAiError(none, 401, 'missing_api_key');
  assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
  assertOpenAiError(await complete('nonsense', body), 401, 'invalid_api_key');
  assertOpenAiError(await complete('sk-aic-' + 'A'.repeat(43), body), 401, 'invalid_api_key');
  // Basic credentials do not open this API.
  const basic = await request('POST', `${V1}/chat/completions`, { ...user, body });
  assert.equal(basic.status, 401);

  const key = await makeKey(user);
  assert.equal((await complete(key.key, body)).status, 200);
  const revoked = assertJson(await api('DELETE', `/keys/${key.id}`, user), 200);
  assert.equal(revoked.status, 'revoked');
  await refused(key.key, 'revoked_api_key');
  await assert.rejects(client(key).models.list(), (err) => err.status === 401);

  // A key is refused from its expiry on.
  const expiry = Date.now() + 2000;
  const soon = await makeKey(user, { expires_at: new Date(expiry).toISOString() });
  assert.equal((await complete(soon.key, body)).status, 200);
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiry - Date.now() + 50)));
  await refused(soon.key, 'expired_api_key');
}));

/**
 * Call through every node until it answers as wanted (done), within a second
 * and a half; returns each node's last answer and how many calls were
 * answered 200 meanwhile (made before the node saw the change).
 */
async function untilEveryNode(call, done) {
  const last = [];
  let answered = 0;
  for (const node of NODES) {
    last.push(await poll(() => withServer(node.url, call), (res) => {
      if (res.status === 200) answered++;
      return done(res);
    }, { tries: 15, intervalMs: 100 }));
  }
  return { last, answered };
}

// Each process remembers the keys it found for a second (aic_keys_auth.c)
// and holds credits for a key's calls until its writer's next round (at most
// a second: aic_openai_lease.c), so a key revoked through another node is
// refused within that second; on the node that revoked it, at once (the test
// above).
test('a key revoked through one node is refused on every node within a second, streamed or not, and GET /models too', async () => {
  const user = await fx.user({ credits: 100000 });
  const key = await makeKey(user);
  const body = { model: models.openai.slug, messages: [{ role: 'user', content: `revoked ${uniq()}` }] };
  // Used on every node, so that each remembers the key and holds credits for it.
  for (const node of NODES) {
    assert.equal((await withServer(node.url, () => complete(key.key, body))).status, 200, node.name);
  }
  const made = await calls(key, NODES.length);
  const revoked = Date.now();
  assertJson(await withServer(NODES.at(-1).url, () => api('DELETE', `/keys/${key.id}`, user)), 200);
  const { last, answered } = await untilEveryNode(() => complete(key.key, body), (res) => res.status === 401);
  for (const [i, res] of last.entries()) {
    assertOpenAiError(res, 401, 'revoked_api_key');
    assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer .*error="invalid_token"/, NODES[i].name);
  }
  // A second after the revocation no process of any node takes it: streamed
  // or not, and GET /models lists nothing for it.
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, revoked + 1100 - Date.now())));
  for (const node of NODES) {
    assertOpenAiError(await withServer(node.url, () => complete(key.key, body)), 401, 'revoked_api_key');
    assertOpenAiError(await withServer(node.url, () => complete(key.key, { ...body, stream: true })), 401, 'revoked_api_key');
    const models = await withServer(node.url, () => request('GET', `${V1}/models`, { headers: { Authorization: `Bearer ${key.key}` } }));
    assertOpenAiError(models, 401, 'revoked_api_key');
  }
  // Only the calls answered were recorded and charged, and nothing is held.
  const rows = await calls(key, made.length + answered);
  const spent = rows.reduce((n, c) => n + Number(c.credits), 0);
  assert.equal(await credits(user.id), 100000 - spent, 'charged other than what the answered calls used');
});

test('a model an administrator stops serving is refused on every node within a second', async () => {
  const model = await fx.model({ provider: 'openai' });
  const user = await fx.user({ credits: 100000 });
  const key = await makeKey(user);
  const body = { model: model.slug, messages: [{ role: 'user', content: `stopped ${uniq()}` }] };
  for (const node of NODES) {
    assert.equal((await withServer(node.url, () => complete(key.key, body))).status, 200, node.name);
  }
  const made = await calls(key, NODES.length);
  assertJson(await api('PATCH', `/admin/tools/${model.slug}`, { ...ADMIN, body: { is_active: false } }), 200);
  const { last, answered } = await untilEveryNode(() => complete(key.key, body), (res) => res.status === 404);
  for (const res of last) assertOpenAiError(res, 404, 'model_not_found', 'model');
  const rows = await calls(key, made.length + answered);
  const spent = rows.reduce((n, c) => n + Number(c.credits), 0);
  assert.equal(await credits(user.id), 100000 - spent);
});

// The user is loaded on every request: one httpd shows the change at once.
test('a key of a user an administrator disabled or deleted is 403 user_disabled and charges nothing', () => onOneNode(async () => {
  for (const [how, undo] of [
    [
      (u) => api('PATCH', `/admin/users/${u.id}`, { ...ADMIN, body: { is_active: false } }),
      (u) => api('PATCH', `/admin/users/${u.id}`, { ...ADMIN, body: { is_active: true } }),
    ],
    [
      (u) => api('DELETE', `/admin/users/${u.id}`, ADMIN),
      (u) => api('POST', `/admin/users/${u.id}/restore`, ADMIN),
    ],
  ]) {
    const user = await fx.user({ credits: 100000 });
    const key = await makeKey(user);
    const body = { model: models.openai.slug, messages: [{ role: 'user', content: `disabled ${uniq()}` }] };
    assert.equal((await complete(key.key, body)).status, 200);
    const made = await calls(key, 1);
    const before = await credits(user.id);
    assertJson(await how(user), 200);
    for (const stream of [false, true]) {
      const res = await complete(key.key, { ...body, stream });
      assertOpenAiError(res, 403, 'user_disabled');
      assert.equal(res.json.error.type, 'permission_error');
    }
    await assert.rejects(client(key).models.list(), (err) => err.status === 403 && err.code === 'user_disabled');
    assert.equal(await credits(user.id), before, 'a refused call changed the balance');
    await calls(key, made.length);
    // Given back, the same key works again.
    assertJson(await undo(user), 200);
    assert.equal((await complete(key.key, body)).status, 200);
  }
}));

test('malformed bodies are 400 naming the param; an oversized one is 413', async () => {
  const user = await fx.user();
  const key = await makeKey(user);
  const m = models.openai.slug;
  assertOpenAiError(await complete(key.key, { messages: [{ role: 'user', content: 'x' }] }), 400, 'invalid_request_error', 'model');
  assertOpenAiError(await complete(key.key, { model: m }), 400, 'invalid_request_error', 'messages');
  assertOpenAiError(await complete(key.key, { model: m, messages: [] }), 400, 'invalid_request_error', 'messages');
  assertOpenAiError(await complete(key.key, { model: m, messages: [{ role: 'tool', content: 'x' }] }), 400, 'invalid_request_error', 'messages[0].role');
  assertOpenAiError(await complete(key.key, { model: m, messages: [{ role: 'user', content: 5 }] }), 400, 'invalid_request_error', 'messages[0].content');
  assertOpenAiError(await complete(key.key, { model: m, messages: [{ role: 'user', content: 'x' }], temperature: 9 }), 400, 'invalid_request_error', 'temperature');
  assertOpenAiError(await complete(key.key, { model: m, messages: [{ role: 'user', content: 'x' }], max_tokens: 0 }), 400, 'invalid_request_error', 'max_tokens');
  assertOpenAiError(await complete(key.key, { model: m, messages: [{ role: 'user', content: 'x' }], stream: 'yes' }), 400, 'invalid_request_error', 'stream');
  assertOpenAiError(await complete(key.key, { model: m, messages: [{ role: 'user', content: 'x' }], n: 2 }), 400, 'invalid_request_error', 'n');
  const broken = await request('POST', `${V1}/chat/completions`, {
    raw: '{"model":', headers: { Authorization: `Bearer ${key.key}`, 'Content-Type': 'application/json' },
  });
  assertOpenAiError(broken, 400, 'malformed_json');
  const big = await complete(key.key, { model: m, messages: [{ role: 'user', content: 'x'.repeat(70000) }] });
  assertOpenAiError(big, 413, 'body_too_large');
  const calls = await sqlValue(`SELECT count(*) FROM api_calls WHERE key_id = :'p1'`, key.id);
  assert.equal(Number(calls), 0, 'a refused request made a call');
});

test('a key may keep its calls as conversations (source api); by default none is kept', async () => {
  const user = await fx.user();
  const keeper = await makeKey(user, { keep_conversations: true });
  assert.equal(keeper.keep_conversations, true);
  const plain = await makeKey(user);
  assert.equal(plain.keep_conversations, false);
  assertError(await api('POST', '/keys', { ...user, body: { name: 'x', keep_conversations: 'yes' } }), 422, 'invalid_field', 'keep_conversations');
  const content = `Keep this ${uniq()}`;
  const messages = [
    { role: 'system', content: 'Be kind.' },
    { role: 'user', content: 'First question' },
    { role: 'assistant', content: 'First answer' },
    { role: 'user', content },
  ];
  const out = await client(keeper).chat.completions.create({ model: models.openai.slug, messages });
  const [call] = await apiCallsSettled(keeper.id, 1);
  assert.ok(call.conversation_id, 'the call was not kept');
  fx.track({ id: call.conversation_id });
  const conv = assertJson(await api('GET', `/conversations/${call.conversation_id}`, user), 200);
  assert.equal(conv.source, 'api');
  assert.equal(conv.title, content);
  const items = await thread(user, call.conversation_id);
  assertPath(items);
  assert.deepEqual(items.map((m) => [m.sender_type, m.content]), [
    ['user', 'First question'], ['ai', 'First answer'], ['user', content], ['ai', out.choices[0].message.content],
  ]);
  // Another user cannot see it.
  const other = await fx.user();
  assertError(await api('GET', `/conversations/${call.conversation_id}`, other), 404, 'not_found');

  await client(plain).chat.completions.create({ model: models.openai.slug, messages });
  await apiCallsSettled(plain.id, 1);
  const kept = await sqlValue(`SELECT count(*) FROM api_calls WHERE key_id = :'p1' AND conversation_id IS NOT NULL`, plain.id);
  assert.equal(Number(kept), 0, 'a key that does not keep its calls kept one');
});

test('a message\'s content may be a list of text parts; system and developer messages go upstream as one system prompt', async () => {
  const user = await fx.user({ credits: 100000 });
  const key = await makeKey(user);
  const tail = `parts ${uniq()}`;
  const res = await complete(key.key, {
    model: models.openai.slug,
    messages: [
      { role: 'system', content: 'First rule.' },
      { role: 'developer', content: [{ type: 'text', text: 'Second rule.' }] },
      { role: 'user', content: [{ type: 'text', text: 'Part one, ' }, { type: 'text', text: tail }] },
    ],
  });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.choices[0].message.content, mockReply(`Part one, ${tail}`));
  const last = await mockLast(models.openai.kind, tail);
  assert.deepEqual(last.body.messages.map((m) => [m.role, m.content]), [
    ['system', 'First rule.\n\nSecond rule.'],
    ['user', `Part one, ${tail}`],
  ]);
  // A part that is not text is refused, naming the message; nothing is charged for it.
  const image = [{ type: 'image_url', image_url: { url: 'https://example.com/x.png' } }];
  assertOpenAiError(await complete(key.key, { model: models.openai.slug, messages: [{ role: 'user', content: image }] }),
    400, 'invalid_request_error', 'messages[0].content');
  await apiCallsSettled(key.id, 1);
});

test('top_p and stop reach every protocol under its own names; what cannot be honoured is refused, not ignored', async () => {
  const user = await fx.user({ credits: 100000 });
  const key = await makeKey(user);
  const names = {
    openai: (b) => [b.top_p, b.stop],
    anthropic: (b) => [b.top_p, b.stop_sequences],
    google: (b) => [b.generationConfig?.topP, b.generationConfig?.stopSequences],
  };
  for (const provider of ['openai', 'anthropic', 'google']) {
    const content = `sampling ${provider} ${uniq()}`;
    const res = await complete(key.key, {
      model: models[provider].slug, top_p: 0.5, stop: ['END', '\n\nUser:'],
      messages: [{ role: 'user', content }],
    });
    assert.equal(res.status, 200, res.text);
    const last = await mockLast(models[provider].kind, content);
    assert.deepEqual(names[provider](last.body), [0.5, ['END', '\n\nUser:']], `${provider}: ${last.raw.slice(0, 300)}`);
  }
  // One stop string is a list of one; neither is sent when not given.
  const one = `one stop ${uniq()}`;
  assert.equal((await complete(key.key, { model: models.openai.slug, stop: 'END', messages: [{ role: 'user', content: one }] })).status, 200);
  assert.deepEqual((await mockLast(models.openai.kind, one)).body.stop, ['END']);
  const none = `no sampling ${uniq()}`;
  assert.equal((await complete(key.key, { model: models.openai.slug, messages: [{ role: 'user', content: none }] })).status, 200);
  const plain = (await mockLast(models.openai.kind, none)).body;
  assert.ok(!('top_p' in plain) && !('stop' in plain), JSON.stringify(plain));

  const body = (extra) => ({ model: models.openai.slug, messages: [{ role: 'user', content: 'refused' }], ...extra });
  for (const [extra, param] of [
    [{ top_p: 1.5 }, 'top_p'],
    [{ stop: ['a', 'b', 'c', 'd', 'e'] }, 'stop'],
    [{ stop: [''] }, 'stop'],
    [{ stop: 7 }, 'stop'],
    [{ response_format: { type: 'json_object' } }, 'response_format'],
    [{ logprobs: true, top_logprobs: null }, 'logprobs'],
    [{ top_logprobs: 2 }, 'top_logprobs'],
    [{ logit_bias: { 50256: -100 } }, 'logit_bias'],
    [{ presence_penalty: 0.5 }, 'presence_penalty'],
    [{ frequency_penalty: -1 }, 'frequency_penalty'],
    [{ presence_penalty: 'none' }, 'presence_penalty'],
  ]) {
    assertOpenAiError(await complete(key.key, body(extra)), 400, 'invalid_request_error', param);
  }
  // Their neutral values pass, as SDKs send them.
  const neutral = await complete(key.key, body({
    response_format: { type: 'text' }, logprobs: false, top_logprobs: null, logit_bias: {}, presence_penalty: 0, frequency_penalty: 0,
  }));
  assert.equal(neutral.status, 200, neutral.text);
  await apiCallsSettled(key.id, 6);
});

// --- audit --------------------------------------------------------------------------

test('each call has an audit row with the key\'s id and prefix, and no key text anywhere', async () => {
  const user = await fx.user();
  const key = await makeKey(user);
  const res = await complete(key.key, { model: models.openai.slug, messages: [{ role: 'user', content: `audit ${uniq()}` }] });
  assert.equal(res.status, 200, res.text);
  const rows = await auditRows(res.requestId);
  assert.equal(rows.length, 1);
  const row = rows[0];
  assert.equal(row.entity_type, 'api_call');
  assert.equal(row.user_id, user.id);
  assert.equal(row.username, user.user);
  assert.equal(row.metadata.api_key_id, key.id);
  assert.equal(row.metadata.api_key_prefix, key.prefix);
  const secret = key.key.slice(14);
  const leaks = await sqlValue(
    `SELECT count(*) FROM audit_logs a WHERE row_to_json(a)::text LIKE '%' || :'p1' || '%'`, secret);
  assert.equal(Number(leaks), 0, 'the key text is in an audit row');
  const created = await sqlValue(
    `SELECT count(*) FROM audit_logs WHERE entity_type = 'api_key' AND entity_id = :'p1' AND action = 'create'`, key.id);
  assert.equal(Number(created), 1, 'making the key has no audit row');

  // A wrong key of the same shape (logged as refused), then the logs and
  // every table of the database: the key text is nowhere.
  assert.equal((await complete(`${key.key.slice(0, -1)}x`, { model: models.openai.slug, messages: [] })).status, 401);
  await revokeAndUse(user, key);
  for (const node of NODES) {
    for (const log of ['error.log', 'access.log']) {
      const text = await readFile(`${node.state}/${log}`, 'utf8').catch(() => '');
      assert.ok(!text.includes(secret), `${node.name}'s ${log} holds the key`);
      assert.ok(!text.includes(secret.slice(0, 20)), `${node.name}'s ${log} holds part of the key past its prefix`);
    }
  }
  const tables = await sqlJson(
    `SELECT table_name AS t,
            (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I x WHERE x::text LIKE %L',
                                                         table_name, '%' || :'p1' || '%'), false, true, '')))[1]::text::int AS n
       FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
    secret);
  assert.ok(tables.length > 10, `only ${tables.length} tables looked at`);
  assert.deepEqual(tables.filter((t) => t.n > 0), [], 'a table holds the key');
});

/** Revoke a key and be refused with it (so that the refusal is logged too). */
async function revokeAndUse(user, key) {
  assertJson(await api('DELETE', `/keys/${key.id}`, user), 200);
  await refused(key.key, 'revoked_api_key');
}

// --- budgets and rate limits ---
// Rate limits are counted per httpd (its shared memory): their tests talk to
// one node.------------------------------------------------------

test('a key over its monthly budget, or a user without credits, is 402 in OpenAI\'s format', async () => {
  const user = await fx.user({ credits: 100000 });
  // The reservation of one call is well over 50 credits (max_tokens 64 + the message bound).
  const key = await makeKey(user, { monthly_budget: 50 });
  const res = await complete(key.key, { model: models.openai.slug, messages: [{ role: 'user', content: 'hi' }] });
  assertOpenAiError(res, 402, 'budget_exceeded');
  assert.equal(res.json.error.type, 'insufficient_quota');
  assert.equal(await credits(user.id), 100000, 'a refused call changed the balance');

  const poor = await fx.user({ credits: 10 });
  const k2 = await makeKey(poor);
  assertOpenAiError(await complete(k2.key, { model: models.openai.slug, messages: [{ role: 'user', content: 'hi' }] }),
    402, 'insufficient_credits');
  assert.equal(await credits(poor.id), 10);
});

test('50 concurrent calls on one key never spend more than its budget', async () => {
  const user = await fx.user({ credits: 1_000_000 });
  // Each call reserves about 90 credits and uses about 20; the mock waits
  // 300 ms, so that the calls are in flight together.
  const slow = await fx.model({ provider: 'openai', switches: 'latency=300' });
  const key = await makeKey(user, { monthly_budget: 600 });
  const body = { model: slow.slug, messages: [{ role: 'user', content: 'many' }] };
  const results = await Promise.all(Array.from({ length: 50 }, () => complete(key.key, body)));
  const ok = results.filter((r) => r.status === 200);
  const refused = results.filter((r) => r.status === 402);
  assert.equal(ok.length + refused.length, 50, results.map((r) => r.status).join(','));
  assert.ok(ok.length >= 1 && refused.length >= 1, `${ok.length} answered, ${refused.length} refused`);
  const spent = ok.reduce((n, r) => n + r.json.usage.total_tokens, 0);
  assert.ok(spent <= 600, `spent ${spent} of a budget of 600`);
  await apiCallsSettled(key.id, ok.length);
  const used = await sqlValue(`SELECT budget_used FROM api_keys WHERE id = :'p1'`, key.id);
  assert.equal(Number(used), spent, 'the key\'s budget_used is not what its calls cost');
  assert.equal(await credits(user.id), 1_000_000 - spent);
});

test('a busy key takes credits a lease at a time, yet each call is charged what it used and the rest comes back', async () => {
  const user = await fx.user({ credits: 10_000_000 });
  const key = await makeKey(user, { monthly_budget: 5_000_000 });
  const before = await credits(user.id);
  const mark = await ledgerMark();
  const body = { model: models.openai.slug, messages: [{ role: 'user', content: `busy ${uniq()}` }] };
  let spent = 0;
  for (let i = 0; i < 20; i++) {
    const res = await complete(key.key, body);
    assert.equal(res.status, 200, res.text);
    spent += res.json.usage.total_tokens;
  }
  const rows = await calls(key, 20);
  assert.equal(rows.reduce((n, c) => n + Number(c.credits), 0), spent, 'the calls\' rows do not add up to their usage');
  const after = await credits(user.id);
  assert.equal(after, before - spent, 'the balance is not what the calls used');
  assert.equal(Number(await sqlValue(`SELECT budget_used FROM api_keys WHERE id = :'p1'`, key.id)), spent,
    'the key\'s budget is not what its calls used');
  const ledger = await ledgerSince(user.id, mark);
  assertLedgerExplains(ledger, before, after);
  const leases = ledger.filter((l) => l.reason === 'reserve');
  assert.ok(leases.length < 20, `${leases.length} reservations for 20 calls: none held credits for the next`);
});

// A graceful restart (logrotate's, every night) lets each old process finish
// its calls; its writer's last round settles them and gives back what the
// process held for the key.
test('calls in flight through a graceful restart are answered, settled and charged once, and nothing stays held', async () => {
  const user = await fx.user({ credits: 1_000_000 });
  const slow = await fx.model({ provider: 'openai', switches: 'latency=1500', maxTokens: 64 });
  const key = await makeKey(user);
  const before = await credits(user.id);
  const mark = await ledgerMark();
  const calling = [1, 2, 3].map((i) => complete(key.key, { model: slow.slug, messages: [{ role: 'user', content: `restart ${i} ${uniq()}` }] }));
  const reserved = await poll(async () => (await ledgerSince(user.id, mark)).filter((r) => r.reason === 'reserve'),
    (rows) => rows.length > 0);
  assert.ok(reserved.length > 0, 'no credits were taken before the restart');
  await restartGracefully();
  const answers = await Promise.all(calling);
  for (const res of answers) assert.equal(res.status, 200, res.text);
  const spent = answers.reduce((n, res) => n + res.json.usage.total_tokens, 0);
  const rows = await apiCallsSettled(key.id, 3);
  assert.deepEqual(rows.map((c) => c.status), ['complete', 'complete', 'complete']);
  assert.equal(rows.reduce((n, c) => n + Number(c.credits), 0), spent);
  const after = await credits(user.id);
  assert.equal(after, before - spent, 'the balance is not what the calls used');
  assertLedgerExplains(await ledgerSince(user.id, mark), before, after);
});

test('over its rpm a key is 429 with Retry-After and x-ratelimit-* headers', () => onOneNode(async () => {
  const user = await fx.user();
  const key = await makeKey(user, { rpm: 2 });
  const body = { model: models.openai.slug, messages: [{ role: 'user', content: 'rate' }] };
  const first = await complete(key.key, body);
  assert.equal(first.status, 200, first.text);
  assert.equal(first.headers.get('x-ratelimit-limit-requests'), '2');
  assert.equal(first.headers.get('x-ratelimit-remaining-requests'), '1');
  assert.equal((await complete(key.key, body)).status, 200);
  const third = await complete(key.key, body);
  assertOpenAiError(third, 429, 'rate_limit_exceeded');
  assert.equal(third.json.error.type, 'rate_limit_error');
  const retry = Number(third.headers.get('retry-after'));
  assert.ok(retry >= 1 && retry <= 60, `Retry-After ${third.headers.get('retry-after')}`);
  assert.equal(third.headers.get('x-ratelimit-remaining-requests'), '0');
  assert.match(third.headers.get('x-ratelimit-reset-requests') ?? '', /^\d+(ms|s|m\d+s)$/);
  await assert.rejects(client(key).chat.completions.create(body), (err) => err.status === 429);
  // Another key of the same user has its own bucket.
  const other = await makeKey(user, { rpm: 2 });
  assert.equal((await complete(other.key, body)).status, 200);
}));

test('over AIChatAPIUserLimit (60 a minute here) a user is 429 whichever key it uses', () => onOneNode(async () => {
  const user = await fx.user();
  const [a, b] = [await makeKey(user), await makeKey(user)];
  const body = { model: models.openai.slug, messages: [{ role: 'user', content: 'per user' }] };
  let refused = null;
  let answered = 0;
  const start = Date.now();
  for (let i = 0; i < 70 && !refused; i++) {
    const res = await complete((i % 2 ? a : b).key, body);
    if (res.status === 429) refused = res;
    else if (res.status === 200) answered++;
    else assert.fail(`${res.status} ${res.text}`);
  }
  assert.ok(refused, 'never refused after 70 calls');
  // The bucket holds 60 and refills by one a second meanwhile.
  const refill = Math.ceil((Date.now() - start) / 1000);
  assert.ok(answered >= 60 && answered <= 60 + refill, `${answered} calls answered before the first refusal`);
  assertOpenAiError(refused, 429, 'rate_limit_exceeded');
  assert.equal(refused.headers.get('x-ratelimit-limit-requests'), '60');
  assert.ok(Number(refused.headers.get('retry-after')) >= 1);
  for (const k of [a, b]) assertOpenAiError(await complete(k.key, body), 429, 'rate_limit_exceeded');
  // Another user is not held back.
  const other = await fx.user();
  assert.equal((await complete((await makeKey(other)).key, body)).status, 200);
}));

test('over its tpm a key is 429 with the tokens headers', () => onOneNode(async () => {
  const user = await fx.user();
  const key = await makeKey(user, { tpm: 200 });
  const body = { model: models.openai.slug, messages: [{ role: 'user', content: 'tokens' }] };
  const first = await complete(key.key, body);
  assert.equal(first.status, 200, first.text);
  assert.equal(first.headers.get('x-ratelimit-limit-tokens'), '200');
  let refused = null;
  for (let i = 0; i < 10 && !refused; i++) {
    const res = await complete(key.key, { ...body, max_tokens: 150 });
    if (res.status === 429) refused = res;
  }
  assert.ok(refused, 'never refused over 200 tokens a minute');
  assertOpenAiError(refused, 429, 'rate_limit_exceeded');
  assert.ok(Number(refused.headers.get('retry-after')) >= 1);
}));

// --- administrators -----------------------------------------------------------------

test('administrators list and revoke any key; users may not', async () => {
  const user = await fx.user();
  const key = await makeKey(user);
  assertError(await api('GET', '/admin/keys', user), 403, 'forbidden');
  const list = assertJson(await api('GET', '/admin/keys', ADMIN), 200);
  const row = list.items.find((k) => k.id === key.id);
  assert.ok(row, 'the admin list lacks the key');
  assert.equal(row.user.username, user.user);
  assert.ok(!JSON.stringify(list).includes(key.key));
  const revoked = assertJson(await api('DELETE', `/admin/keys/${key.id}`, ADMIN), 200);
  assert.equal(revoked.status, 'revoked');
  await refused(key.key, 'revoked_api_key');
  assertError(await api('DELETE', `/admin/keys/${crypto.randomUUID()}`, ADMIN), 404, 'not_found');
});

test('the usage API sums a user\'s calls by day, model and key', async () => {
  const user = await fx.user();
  const key = await makeKey(user);
  const res = await complete(key.key, { model: models.openai.slug, messages: [{ role: 'user', content: `usage ${uniq()}` }] });
  assert.equal(res.status, 200);
  await apiCallsSettled(key.id, 1);
  const usage = assertJson(await api('GET', '/usage?days=7', user), 200);
  assert.equal(usage.days.length, 7);
  const today = usage.days[6];
  assert.equal(today.calls, 1);
  assert.equal(today.prompt_tokens + today.completion_tokens, res.json.usage.total_tokens);
  assert.deepEqual(usage.models.map((m) => m.model), [models.openai.slug]);
  assert.equal(usage.keys[0].id, key.id);
  assert.equal(usage.keys[0].credits, res.json.usage.total_tokens);
  assertError(await api('GET', '/usage?days=0', user), 422, 'invalid_field', 'days');
  const site = assertJson(await api('GET', '/admin/usage?days=2', ADMIN), 200);
  // users is the top 20, chats included: every user is in the CSV file per user.
  assert.ok(site.users.length > 0);
  const byUser = await api('GET', '/admin/usage.csv?days=2&by=user', ADMIN);
  assert.ok(byUser.text.split('\r\n').some((l) => l.startsWith(`${user.user},1,`)), 'the site\'s usage lacks the user');
  assert.ok(site.providers.some((p) => p.provider === 'openai'));
  assertError(await api('GET', '/admin/usage', user), 403, 'forbidden');

  // The chart, drawn on the server, with its text alternative.
  const total = res.json.usage.total_tokens;
  const svg = await api('GET', '/usage/chart.svg?days=7', user);
  assert.equal(svg.status, 200);
  assert.match(svg.headers.get('content-type'), /^image\/svg\+xml/);
  assert.match(svg.text, /^<svg [^>]*role="img"/);
  assert.match(svg.text, /<title id="usage-tokens-title">Tokens per day, last 7 days<\/title>/);
  assert.ok(svg.text.includes(`total ${total} tokens`), svg.text.slice(0, 600));
  assert.equal((svg.text.match(/<rect /g) ?? []).length, 7);

  const csv = await api('GET', '/usage.csv?days=3', user);
  assert.equal(csv.status, 200);
  assert.match(csv.headers.get('content-type'), /^text\/csv/);
  const lines = csv.text.trim().split('\r\n');
  assert.equal(lines[0], 'day,calls,prompt_tokens,completion_tokens,tokens,credits');
  assert.equal(lines.length, 4);
  const [, calls, p, c, t, cr] = lines[3].split(',').map(Number);
  assert.deepEqual([calls, p + c, t, cr], [1, total, total, total]);

  const page = await request('GET', '/chat/admin/usage', ADMIN);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type'), /^text\/html/);
  assert.ok(page.text.includes(user.user), 'the admin page does not name the user');
  assert.ok(page.text.includes('<svg ') && page.text.includes('Tokens per day, last 30 days'));
  assert.ok(page.text.includes(key.prefix), 'the admin page does not show the key prefix');
  assert.equal((await request('GET', '/chat/admin/usage', user)).status, 403);
});
