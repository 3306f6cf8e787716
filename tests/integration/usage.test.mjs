// Usage (issue 18): everything that spends the one credit balance — chat
// answers, summaries and calls through the OpenAI-compatible API — as JSON,
// CSV files per day, kind, model and key, and for administrators per user and
// provider too (a user's file holds only their own; a bad grouping is 422,
// the site's groupings are 403 to users); the administrators' overview with
// the last 30 days at a glance (totals, by kind, the chart of tokens per day,
// the top 5 users, errors by provider, links), every name HTML-escaped; and
// the administrators' keys page (every key, Revoke behind the cross-site
// check, 403 to users).
//
// Two users make real calls through /chat/v1; a third only chats and has a
// chat summarised: what they see is checked against their balance. The
// site-wide figures are made exact by calls written straight into api_calls
// for six users, keys, a model and a provider of this file only, with credits
// far above anything a real call costs, so that they lead every ranking;
// after() deletes them.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { api, request } from '../lib/http.mjs';
import { sql, sqlJson } from '../lib/db.mjs';
import { assertError, assertHtml, assertJson } from '../lib/assert.mjs';
import { ADMIN, uniq } from '../lib/users.mjs';
import { ORIGIN } from '../lib/env.mjs';
import { ChatFixture, apiCallsSettled, credits, say } from '../lib/chat.mjs';

const fx = new ChatFixture('usg');
const tag = uniq();
const BIG = 1_000_000_000_000; // credits of a seeded call: more than any real call's
const SUMMARY_SLUG = 'summariser'; // AIChatSummaryModel in scripts/dev
const START = 1_000_000; // the chatter's balance before anything
let model;
let alice;
let bob;
let carol; // only chats, and has a chat summarised
const keys = {}; // a1, a2 (alice's), b (bob's)
// The seeded site: six users (names to escape) with a key and a call each on
// one model and one provider; the calls of users 0 and 1 failed.
const seeded = {
  model: `usg-model-${tag}`,
  provider: `usg-prov-${tag}<&>`,
  users: [], // { id, username, key, prefix, credits }
};

before(async () => {
  model = await fx.model({ provider: 'openai' });
  alice = await fx.user();
  bob = await fx.user();
  keys.a1 = await makeKey(alice, `usg-test-${tag}-plain`);
  // A name a spreadsheet would run as a formula, with a comma and quotes.
  keys.a2 = await makeKey(alice, `=1+2,"q" usg-test-${tag}`);
  keys.b = await makeKey(bob, `usg-test-${tag}-bob`);
  for (const k of [keys.a1, keys.a2, keys.b]) await call(k);

  await sql(`DELETE FROM ai_tools WHERE slug = :'p1'`, SUMMARY_SLUG);
  await fx.model({ provider: 'openai', slug: SUMMARY_SLUG, maxTokens: 200 });
  carol = await fx.user({ credits: START });
  const conv = await fx.conversation(carol, [model], { title: `usg chat ${tag}` });
  await say(carol, conv.id, `How far is the moon? ${tag}`);
  await say(carol, conv.id, 'And the sun?');
  assertJson(await api('POST', `/conversations/${conv.id}/summary`, carol), 200);

  for (let i = 0; i < 6; i++) {
    const username = `usg<b>"&'${tag}-${i}`;
    const prefix = `sk-aic-u${tag.slice(0, 6)}${i}`;
    const credits = BIG + i;
    const [[id, key]] = await sql(
      `WITH u AS (INSERT INTO users (username) VALUES (:'p1') RETURNING id),
            k AS (INSERT INTO api_keys (user_id, name, prefix, key_hash)
                  SELECT u.id, :'p2', :'p3', sha256(convert_to(:'p3' || gen_random_uuid(), 'UTF8'))
                    FROM u RETURNING id, user_id),
            c AS (INSERT INTO api_calls (key_id, user_id, model, provider, stream, reserved,
                                         prompt_tokens, completion_tokens, credits, status, error,
                                         created_at, finished_at)
                  SELECT k.id, k.user_id, :'p4', :'p5', false, :'p6'::bigint, 1000, 500,
                         :'p6'::bigint, CASE WHEN :'p7' = '1' THEN 'error' ELSE 'complete' END,
                         CASE WHEN :'p7' = '1' THEN 'provider_error' END,
                         now() - interval '1 day', now() - interval '1 day'
                    FROM k RETURNING 1)
       SELECT k.user_id, k.id FROM k, (SELECT count(*) FROM c) n`,
      username, `<img src=x onerror=alert(${i})> ${tag}`, prefix, seeded.model, seeded.provider, credits,
      i < 2 ? '1' : '0');
    seeded.users.push({ id, username, key, prefix, credits });
  }
});

after(async () => {
  if (seeded.users.length) {
    await sql(`DELETE FROM users WHERE id = ANY (:'p1'::uuid[])`, `{${seeded.users.map((u) => u.id).join(',')}}`);
  }
  await sql(`DELETE FROM api_keys WHERE name LIKE '%usg-test-' || :'p1' || '%'`, tag);
  await fx.cleanup();
});

async function makeKey(user, name) {
  return assertJson(await api('POST', '/keys', { ...user, body: { name } }), 201);
}

/** How many calls each key made (by its id), so that each call waits for its settlement. */
const made = new Map();

/** One call through /chat/v1 with key; returns its usage. */
async function call(key) {
  const res = await request('POST', '/chat/v1/chat/completions', {
    body: { model: model.slug, messages: [{ role: 'user', content: `usage ${uniq()}` }] },
    headers: { Authorization: `Bearer ${key.key}` },
  });
  assert.equal(res.status, 200, res.text);
  made.set(key.id, (made.get(key.id) ?? 0) + 1);
  await apiCallsSettled(key.id, made.get(key.id));
  return res.json.usage;
}

/** The rows of a CSV text (RFC 4180: quoted fields, "" inside them, CRLF). */
function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c === '"') {
      quoted = true;
    } else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else {
      field += c;
    }
  }
  assert.equal(field + row.join(''), '', 'the CSV does not end with CRLF');
  return rows;
}

/** GET a CSV file (path under the API) as auth: { head, rows, text, res }. */
async function csv(auth, path) {
  const res = await api('GET', path, auth);
  assert.equal(res.status, 200, `${res.label}: ${res.text.slice(0, 300)}`);
  assert.match(res.headers.get('content-type') ?? '', /^text\/csv/);
  const [head, ...rows] = parseCsv(res.text);
  return { head: head.join(','), rows, text: res.text, res };
}

/** A user's sums of API calls (of one key's, when given) from the database:
 * calls, prompt and completion tokens, tokens, credits. */
async function sums(userId, keyId = '') {
  const [row] = await sqlJson(
    `SELECT count(*) AS calls, sum(prompt_tokens) AS p, sum(completion_tokens) AS c, sum(credits) AS cr
       FROM api_calls WHERE user_id = :'p1' AND (:'p2' = '' OR key_id::text = :'p2')`, userId, keyId);
  return [row.calls, row.p, row.c, Number(row.p) + Number(row.c), row.cr].map(Number);
}

/** The chat answers a user's conversations hold: count, prompt and completion tokens. */
async function answers(userId) {
  const [row] = await sqlJson(
    `SELECT count(*) AS n, sum(prompt_tokens) AS p, sum(completion_tokens) AS c
       FROM messages WHERE owner_id = :'p1' AND sender_type = 'ai'`, userId);
  return { n: Number(row.n), p: Number(row.p), c: Number(row.c) };
}

const numbers = (row, from) => row.slice(from).map(Number);

test('a user\'s CSV per day, model and key holds their own calls only, and its names stay text', async () => {
  const byDefault = await csv(alice, '/usage.csv?days=7');
  const byDay = await csv(alice, '/usage.csv?days=7&by=day');
  assert.equal(byDay.text, byDefault.text, 'by=day is not the default file');
  assert.equal(byDay.head, 'day,calls,prompt_tokens,completion_tokens,tokens,credits');
  assert.equal(byDay.rows.length, 7);
  assert.match(byDay.res.headers.get('content-disposition'), /filename="my-usage-7-days\.csv"/);
  const [calls, p, c, t, cr] = await sums(alice.id);
  assert.deepEqual(numbers(byDay.rows[6], 1), [calls, p, c, t, cr], 'today\'s row is not alice\'s calls');
  assert.equal(calls, 2);

  const byModel = await csv(alice, '/usage.csv?days=7&by=model');
  assert.equal(byModel.head, 'model,calls,prompt_tokens,completion_tokens,tokens,credits');
  assert.match(byModel.res.headers.get('content-disposition'), /filename="my-usage-by-model-7-days\.csv"/);
  // Bob and carol used the same model: their calls and chats are not in alice's row.
  assert.deepEqual(byModel.rows, [[model.slug, ...[calls, p, c, t, cr].map(String)]]);

  const byKind = await csv(alice, '/usage.csv?days=7&by=kind');
  assert.equal(byKind.head, 'kind,calls,prompt_tokens,completion_tokens,tokens,credits');
  assert.deepEqual(byKind.rows, [['chat', '0', '0', '0', '0', '0'], ['summary', '0', '0', '0', '0', '0'],
    ['api', ...[calls, p, c, t, cr].map(String)]]);

  const byKey = await csv(alice, '/usage.csv?days=7&by=key');
  assert.equal(byKey.head, 'key_name,key_prefix,username,calls,prompt_tokens,completion_tokens,tokens,credits');
  assert.equal(byKey.rows.length, 2, byKey.text);
  for (const k of [keys.a1, keys.a2]) {
    const row = byKey.rows.find((r) => r[1] === k.prefix);
    assert.ok(row, `alice's key ${k.prefix} is not in her file`);
    assert.equal(row[2], alice.user);
    assert.deepEqual(numbers(row, 3), await sums(alice.id, k.id));
  }
  // The formula-like name is quoted and led by a ', so that it stays text.
  assert.equal(byKey.rows.find((r) => r[1] === keys.a1.prefix)[0], keys.a1.name);
  assert.equal(byKey.rows.find((r) => r[1] === keys.a2.prefix)[0], `'${keys.a2.name}`);
  assert.ok(byKey.text.includes(`"'=1+2,""q"" usg-test-${tag}"`), byKey.text);
  for (const text of [byDay.text, byModel.text, byKey.text]) {
    assert.ok(!text.includes(keys.b.prefix) && !text.includes(bob.user), 'bob\'s calls are in alice\'s file');
    assert.ok(!text.includes(seeded.model) && !text.includes(seeded.users[0].prefix), 'another user\'s calls are in alice\'s file');
  }

  const bobs = await csv(bob, '/usage.csv?by=key');
  assert.deepEqual(bobs.rows.map((r) => r[1]), [keys.b.prefix]);
  assert.deepEqual(numbers(bobs.rows[0], 3), await sums(bob.id));
});

test('a bad grouping is 422 naming by; the site\'s groupings are 403 to users', async () => {
  for (const by of ['week', '', 'DAY', 'model;drop']) {
    assertError(await api('GET', `/usage.csv?by=${encodeURIComponent(by)}`, alice), 422, 'invalid_field', 'by');
    assertError(await api('GET', `/admin/usage.csv?by=${encodeURIComponent(by)}`, ADMIN), 422, 'invalid_field', 'by');
  }
  for (const by of ['user', 'provider']) {
    assertError(await api('GET', `/usage.csv?by=${by}`, alice), 403, 'forbidden', 'by');
    assertError(await api('GET', `/admin/usage.csv?by=${by}`, alice), 403, 'forbidden');
  }
  assertError(await api('GET', '/usage.csv?days=0&by=model', alice), 422, 'invalid_field', 'days');
});

test('the site\'s CSV per user, provider, key, model and day has everyone\'s calls', async () => {
  const ranked = [...seeded.users].reverse(); // most credits first

  const byUser = await csv(ADMIN, '/admin/usage.csv?by=user');
  assert.equal(byUser.head, 'username,calls,prompt_tokens,completion_tokens,tokens,credits');
  assert.match(byUser.res.headers.get('content-disposition'), /filename="site-usage-by-user-30-days\.csv"/);
  assert.deepEqual(byUser.rows.slice(0, 6).map((r) => r[0]), ranked.map((u) => u.username), 'not the seeded users first');
  assert.deepEqual(numbers(byUser.rows[0], 1), [1, 1000, 500, 1500, ranked[0].credits]);
  for (const u of [alice, bob]) {
    const row = byUser.rows.find((r) => r[0] === u.user);
    assert.ok(row, `${u.user} is not in the file`);
    assert.deepEqual(numbers(row, 1), await sums(u.id));
  }

  const byProvider = await csv(ADMIN, '/admin/usage.csv?by=provider');
  assert.equal(byProvider.head, 'provider,calls,errors,prompt_tokens,completion_tokens,tokens,credits');
  const total = seeded.users.reduce((n, u) => n + u.credits, 0);
  assert.deepEqual(byProvider.rows[0], [seeded.provider, '6', '2', '6000', '3000', '9000', String(total)]);
  const openai = byProvider.rows.find((r) => r[0] === 'openai');
  assert.ok(openai && Number(openai[1]) >= 3, 'the real calls\' provider is missing');

  const byKey = await csv(ADMIN, '/admin/usage.csv?by=key');
  assert.deepEqual(byKey.rows.slice(0, 6).map((r) => [r[0], r[1], r[2]]),
    ranked.map((u) => [`<img src=x onerror=alert(${seeded.users.indexOf(u)})> ${tag}`, u.prefix, u.username]));
  assert.ok(byKey.rows.some((r) => r[1] === keys.b.prefix && r[2] === bob.user), 'bob\'s key is missing');

  const byModel = await csv(ADMIN, '/admin/usage.csv?by=model');
  assert.deepEqual(byModel.rows[0], [seeded.model, '6', '6000', '3000', '9000', String(total)]);

  const byDay = await csv(ADMIN, '/admin/usage.csv?days=2&by=day');
  assert.equal(byDay.rows.length, 2);
  const [yesterday] = await sqlJson(`SELECT to_char(now() - interval '1 day', 'YYYY-MM-DD') AS d`);
  assert.equal(byDay.rows[0][0], yesterday.d);
  assert.ok(Number(byDay.rows[0][5]) >= total, 'yesterday\'s credits lack the seeded calls');

  // Carol only chats: her row has her answers and her summary.
  const mine = assertJson(await api('GET', '/usage?days=30', carol), 200).totals;
  const row = byUser.rows.find((r) => r[0] === carol.user);
  assert.ok(row, 'a user who only chats is not in the file');
  assert.deepEqual(numbers(row, 1), [mine.calls, mine.prompt_tokens, mine.completion_tokens, mine.tokens, mine.credits]);
  assert.equal(mine.calls, 3);

  const byKind = await csv(ADMIN, '/admin/usage.csv?by=kind');
  assert.deepEqual(byKind.rows.map((r) => r[0]), ['chat', 'summary', 'api']);
  assert.ok(Number(byKind.rows[0][1]) >= 2 && Number(byKind.rows[1][1]) >= 1, byKind.text);
  assert.ok(Number(byKind.rows[2][5]) >= total, byKind.text);
});

test('the usage JSON gives the totals of the span', async () => {
  const mine = assertJson(await api('GET', '/usage?days=7', alice), 200);
  const [calls, p, c, t, cr] = await sums(alice.id);
  assert.deepEqual(mine.totals, { calls, errors: 0, prompt_tokens: p, completion_tokens: c, tokens: t, credits: cr });
  assert.deepEqual(mine.kinds, [
    { kind: 'chat', calls: 0, errors: 0, tokens: 0, credits: 0 },
    { kind: 'summary', calls: 0, errors: 0, tokens: 0, credits: 0 },
    { kind: 'api', calls, errors: 0, tokens: t, credits: cr },
  ]);
  const site = assertJson(await api('GET', '/admin/usage?days=30', ADMIN), 200);
  assert.ok(site.totals.errors >= 2 && site.totals.credits >= 6 * BIG, JSON.stringify(site.totals));
});

test('a user who only chats sees their answers and summary, and the credits they took from the balance', async () => {
  const usage = assertJson(await api('GET', '/usage?days=7', carol), 200);
  const spent = START - await credits(carol.id);
  const chats = await answers(carol.id);
  assert.equal(chats.n, 2);
  // What the page says was used is what left the balance.
  assert.equal(usage.totals.credits, spent, JSON.stringify(usage.totals));
  assert.equal(usage.totals.calls, 3);
  assert.equal(usage.totals.errors, 0);
  // A summary keeps its total only: in tokens, not in the prompt/completion split.
  assert.equal(usage.totals.prompt_tokens, chats.p);
  assert.equal(usage.totals.completion_tokens, chats.c);
  const [chat, summary, apiKind] = usage.kinds;
  assert.deepEqual([chat.kind, summary.kind, apiKind.kind], ['chat', 'summary', 'api']);
  assert.deepEqual(chat, { kind: 'chat', calls: 2, errors: 0, tokens: chats.p + chats.c, credits: chats.p + chats.c });
  assert.equal(summary.calls, 1);
  assert.ok(summary.tokens > 0 && summary.credits === summary.tokens, JSON.stringify(summary));
  assert.equal(chat.credits + summary.credits, spent);
  assert.deepEqual(apiKind, { kind: 'api', calls: 0, errors: 0, tokens: 0, credits: 0 });
  assert.equal(usage.totals.tokens, chat.tokens + summary.tokens);
  assert.deepEqual(usage.keys, []);
  assert.deepEqual(usage.models.map((m) => [m.model, m.calls]).sort(), [[model.slug, 2], [SUMMARY_SLUG, 1]].sort());
  const today = usage.days.at(-1);
  assert.deepEqual([today.calls, today.tokens, today.credits], [3, usage.totals.tokens, spent]);
  // The chart draws the same tokens.
  const svg = await api('GET', '/usage/chart.svg?days=7', carol);
  assert.equal(svg.status, 200);
  assert.match(svg.text, new RegExp(`total ${usage.totals.tokens} tokens`));

  // Nobody else's: alice's API calls are not carol's, carol's chats not alice's.
  const byKind = await csv(carol, '/usage.csv?days=7&by=kind');
  assert.deepEqual(byKind.rows, [
    ['chat', '2', String(chats.p), String(chats.c), String(chat.tokens), String(chat.credits)],
    ['summary', '1', '0', '0', String(summary.tokens), String(summary.credits)],
    ['api', '0', '0', '0', '0', '0'],
  ]);
  const alices = assertJson(await api('GET', '/usage?days=7', alice), 200);
  assert.equal(alices.kinds[0].calls, 0, 'carol\'s chats are in alice\'s usage');

  // The site's figures include every kind.
  const site = assertJson(await api('GET', '/admin/usage?days=7', ADMIN), 200);
  const siteKinds = Object.fromEntries(site.kinds.map((k) => [k.kind, k]));
  assert.ok(siteKinds.chat.calls >= 2 && siteKinds.summary.calls >= 1 && siteKinds.api.calls >= 9, JSON.stringify(site.kinds));
  assert.equal(site.totals.calls, site.kinds.reduce((n, k) => n + k.calls, 0));
  assert.equal(site.totals.credits, site.kinds.reduce((n, k) => n + k.credits, 0));
});

/** The HTML from a heading's text up to the end of its table. */
function section(html, heading) {
  const at = html.indexOf(`${heading}</h3>`);
  assert.ok(at >= 0, `no heading ${heading}`);
  return html.slice(at, html.indexOf('</table>', at));
}

/** The number shown for a figure (dt) of the overview. */
function figure(html, label) {
  const m = html.match(new RegExp(`<dt>${label}</dt><dd>(\\d+)</dd>`));
  assert.ok(m, `no figure ${label}`);
  return Number(m[1]);
}

const escape = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
  .replace(/"/g, '&quot;').replace(/'/g, '&#39;');

test('the admin overview shows the last 30 days at a glance, escaped, with links to the rest', async () => {
  const usage = async () => assertJson(await api('GET', '/admin/usage?days=30', ADMIN), 200).totals;
  const before = await usage();
  const html = assertHtml(await request('GET', '/chat/admin/', ADMIN), 200);
  const later = await usage();
  assert.ok(html.includes('<h2 id="usage-glance">Usage, last 30 days</h2>'), 'no usage block');
  // Calls only add up: the page's figures are between the two reads.
  for (const [label, member] of [['Calls', 'calls'], ['Tokens', 'tokens'], ['Credits', 'credits']]) {
    const shown = figure(html, label);
    assert.ok(shown >= before[member] && shown <= later[member], `${label} ${shown}, not ${before[member]}`);
  }
  // The chart of /admin/usage, with its text alternative.
  const glance = html.slice(html.indexOf('id="usage-glance"'));
  assert.match(glance, /<svg [^>]*role="img"[^>]*aria-labelledby="site-tokens-title site-tokens-desc"/);
  assert.ok(glance.includes('<title id="site-tokens-title">Tokens per day, last 30 days</title>'));
  assert.match(glance, /<desc id="site-tokens-desc">30 bars from \d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d; total \d+ tokens/);
  assert.equal((glance.match(/<rect /g) ?? []).length, 30);

  // The top 5 users: the five seeded with the most credits, their names escaped.
  const top = section(html, 'Top 5 users');
  assert.equal((top.match(/<tr><td>/g) ?? []).length, 5, top);
  for (const u of seeded.users.slice(1)) assert.ok(top.includes(`<td>${escape(u.username)}</td>`), `${u.username} is not in the top 5`);
  assert.ok(!top.includes(escape(seeded.users[0].username)), 'a sixth user is in the top 5');
  const kinds = section(html, 'By kind');
  for (const label of ['Chat answers', 'Summaries', 'API calls']) assert.ok(kinds.includes(`<tr><td>${label}</td>`), `no row ${label}: ${kinds}`);
  const errors = section(html, 'Errors by provider');
  assert.ok(errors.includes(`<tr><td>${escape(seeded.provider)}</td><td>6</td><td>2</td>`), errors);
  assert.ok(!html.includes('<b>"') && !html.includes(seeded.provider), 'a name is on the page unescaped');

  assert.ok(glance.includes('<a href="/chat/admin/usage">'), 'no link to the usage page');
  for (const by of ['day', 'model', 'key', 'user', 'provider']) {
    assert.ok(glance.includes(`<a href="/chat/api/v1/admin/usage.csv?days=30&amp;by=${by}">by ${by}</a>`), `no CSV link by ${by}`);
  }
  assert.equal((await request('GET', '/chat/admin/', alice)).status, 403);
});

test('the admin usage page links a CSV file per grouping and escapes every name', async () => {
  const html = assertHtml(await request('GET', '/chat/admin/usage?days=7', ADMIN), 200);
  for (const by of ['day', 'model', 'key', 'user', 'provider']) {
    assert.ok(html.includes(`<a href="/chat/api/v1/admin/usage.csv?days=7&amp;by=${by}">by ${by}</a>`), `no CSV link by ${by}`);
  }
  assert.ok(html.includes(escape(`<img src=x onerror=alert(5)> ${tag}`)), 'the seeded key is not on the page');
  assert.ok(!html.includes('<img src=x') && !html.includes('<b>"'), 'a name is on the page unescaped');
});

/** Whether a key is revoked, from the database: 'revoked' or 'active'. */
async function keyStatus(id) {
  return sqlJson(`SELECT revoked_at IS NOT NULL AS revoked FROM api_keys WHERE id = :'p1'`, id)
    .then(([row]) => (row.revoked ? 'revoked' : 'active'));
}

/** The table row of the keys page that holds text. */
function keyRow(html, text) {
  const at = html.indexOf(text);
  assert.ok(at >= 0, `no ${text} on the keys page`);
  return html.slice(html.lastIndexOf('<tr>', at), html.indexOf('</tr>', at));
}

test('the admin keys page lists every key escaped, and revokes one from our own page only', async () => {
  const name = `<script>alert("k")</script> usg-test-${tag}-page`;
  const key = await makeKey(alice, name);
  const html = assertHtml(await request('GET', '/chat/admin/keys', ADMIN), 200);
  assert.ok(html.includes('<a href="/chat/admin/keys" aria-current="page">API keys</a>'), 'not in the navigation');
  assert.ok(!html.includes('<script>'), 'a key name is on the page unescaped');
  const row = keyRow(html, escape(name));
  assert.ok(row.includes(`<td>${escape(alice.user)}</td>`), `no owner: ${row}`);
  assert.ok(row.includes(`<code>${key.prefix}…</code>`), `no prefix: ${row}`);
  assert.ok(row.includes('<td>never</td>') && row.includes('<td>active</td>'), `no last use or status: ${row}`);
  const action = `/chat/admin/keys/${key.id}/revoke`;
  assert.ok(row.includes(`<form method="post" action="${action}">`), `no Revoke form: ${row}`);
  // Another user's key, used: its last use is shown.
  const bobs = keyRow(html, escape(keys.b.name));
  assert.ok(bobs.includes(`<td>${escape(bob.user)}</td>`) && !bobs.includes('<td>never</td>'), bobs);

  // From another site: refused, the key still works.
  const foreign = await request('POST', action, { ...ADMIN, form: {}, headers: { Origin: 'https://evil.example' } });
  assert.equal(foreign.status, 403);
  assert.equal(await keyStatus(key.id), 'active');
  // A plain user: 403, for the page and the form.
  assert.equal((await request('GET', '/chat/admin/keys', alice)).status, 403);
  assert.equal((await request('POST', action, { ...alice, form: {}, headers: { Origin: ORIGIN } })).status, 403);
  assert.equal(await keyStatus(key.id), 'active');

  const done = await request('POST', action, { ...ADMIN, form: {}, headers: { Origin: ORIGIN } });
  assert.equal(done.status, 303, done.text);
  assert.equal(done.headers.get('location'), '/chat/admin/keys');
  assert.equal(await keyStatus(key.id), 'revoked');
  const refused = await request('GET', '/chat/v1/models', { headers: { Authorization: `Bearer ${key.key}` } });
  assert.equal(refused.status, 401);
  const [audit] = await sqlJson(
    `SELECT action, entity_type, user_id FROM audit_logs WHERE entity_id = :'p1' AND action = 'revoke' AND status = 303`, key.id);
  assert.deepEqual(audit, { action: 'revoke', entity_type: 'api_key', user_id: (await sqlJson(`SELECT id FROM users WHERE username = 'admin'`))[0].id });

  const after = keyRow(assertHtml(await request('GET', '/chat/admin/keys', ADMIN), 200), escape(name));
  assert.ok(after.includes('<td>revoked</td>') && !after.includes('<form'), `still revocable: ${after}`);
  // A key that does not exist: no such key.
  for (const id of [uniq(), '00000000-0000-4000-8000-000000000000']) {
    const res = await request('POST', `/chat/admin/keys/${id}/revoke`, { ...ADMIN, form: {}, headers: { Origin: ORIGIN } });
    assert.equal(res.status, 404, res.text);
  }
  assert.equal((await request('GET', '/chat/admin/keys?after=zz', ADMIN)).status, 422);
});
