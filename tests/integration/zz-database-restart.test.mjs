// The database goes away and comes back while httpd keeps running: the
// module answers 503 database_unavailable (with Retry-After) instead of
// failing or hanging, /health says the database is down, and once
// PostgreSQL is back requests succeed again without restarting httpd; an
// answer that was streaming as it went away is put in order once it is back.
// Named zz-… so it runs last: it stops the shared test database.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { api, request, sessionCookie } from '../lib/http.mjs';
import { auditRow } from '../lib/audit.mjs';
import { poll } from '../lib/poll.mjs';
import { assertError, assertHtml, assertJson, assertStatus } from '../lib/assert.mjs';
import { DEV } from '../lib/env.mjs';
import { NODES, errorLogsMark, errorLogsSince } from '../lib/nodes.mjs';
import { sqlJson } from '../lib/db.mjs';
import { DEMO, createUser } from '../lib/users.mjs';
import {
  ChatFixture, assertLedgerExplains, assertSse, credits, dbMessage, dbMessages, eventShape, ledgerMark, ledgerSince,
  streamMessage, thread,
} from '../lib/chat.mjs';

const run = promisify(execFile);
let stopped = false;

/** Run `scripts/dev db-stop` or `db-start` (they read AICHAT_STATE from the environment). */
async function dev(command) {
  try {
    await run(DEV, [command], { timeout: 120_000 });
  } catch (err) {
    throw new Error(`${DEV} ${command} failed: ${err.message}\n${err.stdout ?? ''}${err.stderr ?? ''}`);
  }
}

async function startDatabase() {
  await dev('db-start');
  stopped = false;
}

const fx = new ChatFixture('dbrestart');

after(async () => {
  if (stopped) await startDatabase();
  await fx.cleanup();
});

function assertRetryAfter(res) {
  const value = res.headers.get('retry-after') ?? '';
  assert.ok(/^\d+$/.test(value) || !Number.isNaN(Date.parse(value)), `${res.label}: Retry-After is ${JSON.stringify(value)}`);
}

// While PostgreSQL is down, each pooled connection may need one request to
// find out that it is dead, so ask a few times before judging.
const whileDown = { tries: 10, intervalMs: 200 };

let adminCookie;
let readWhileDown; // a signed-in user's request, answered 503 while the database was away
let unchecked; // a user whose password no httpd process has checked yet
let uncheckedAdmin; // the same, an administrator

test('with the database stopped, API calls answer 503 database_unavailable', async () => {
  assertJson(await api('GET', '/me', DEMO), 200);
  adminCookie = await sessionCookie('admin', 'admin');
  unchecked = await createUser({ prefix: 'dbunchecked' });
  uncheckedAdmin = await createUser({ prefix: 'dbuncheckedadmin', role: 'admin' });
  stopped = true; // even a failed db-stop may have left it down: after() starts it
  await dev('db-stop');

  const read = await poll(() => api('GET', '/me', DEMO), (res) => res.status === 503, whileDown);
  assertError(read, 503, 'database_unavailable');
  assertRetryAfter(read);
  readWhileDown = read;

  const write = await poll(
    () => api('PATCH', '/me', { ...DEMO, body: { display_name: 'Demo User' } }),
    (res) => res.status === 503,
    whileDown,
  );
  assertError(write, 503, 'database_unavailable');
  assertRetryAfter(write);
});

let deniedWhileDown; // a request without credentials, answered while the database was away

/** The "pid:tid" of an error-log line, or undefined. */
const threadOf = (line) => /\[pid (\d+:tid \d+)\]/.exec(line)?.[1];

test('with the database stopped, static files are served without asking it, and a request without credentials gets 401', async () => {
  assert.ok(stopped, 'the database was not stopped by the first test');
  const mark = await errorLogsMark();
  for (const path of ['/chat/login.html', '/chat/assets/app.css', '/chat/assets/login.mjs', '/chat/assets/icon.svg']) {
    assertStatus(await request('GET', path), 200);
    assertStatus(await request('GET', path, { cookie: adminCookie }), 200);
  }
  // mod_dbd logs each connection it fails to make: none may come from a
  // request's thread, on any node. (The writers of rows that wait for the
  // database, and the job workers, try too: their threads say so in their
  // own lines, just after mod_dbd's: a line read before its thread's own
  // is read again a moment later; a request's thread never writes one.)
  const since = await errorLogsSince(mark);
  const background = / rows for \S+ not written yet| worker cannot take jobs: the database did not answer/;
  const fromRequests = await poll(async () => {
    const whole = await errorLogsSince(NODES.map(() => 0));
    return since.flatMap((log, i) => {
      const writers = new Set(whole[i].split('\n').filter((line) => background.test(line)).map(threadOf));
      return log.split('\n').filter((line) => line.includes('[dbd:') && !writers.has(threadOf(line)))
        .map((line) => `${NODES[i].name}: ${line}`);
    });
  }, (lines) => lines.length === 0, { tries: 5, intervalMs: 200 });
  assert.deepEqual(fromRequests, [], 'serving static files asked the database');

  deniedWhileDown = await api('GET', '/me');
  assertError(deniedWhileDown, 401, 'unauthenticated');
});

test('with the database stopped, a user whose password was not checked yet is told 503 database_unavailable, not 500', async () => {
  assert.ok(stopped, 'the database was not stopped by the first test');
  // mod_authn_dbd cannot check the password and answers 500; the request had
  // found the database unreachable before, so the error document says that.
  const res = await poll(() => api('GET', '/me', unchecked), (r) => r.status === 503, whileDown);
  assertError(res, 503, 'database_unavailable');
  assertRetryAfter(res);
});

test('with the database stopped, /health answers 503 database down', async () => {
  assert.ok(stopped, 'the database was not stopped by the previous test');
  const res = await poll(() => api('GET', '/health'), (r) => r.status === 503, whileDown);
  assertStatus(res, 503);
  assertRetryAfter(res);
  assert.equal(res.json?.database, 'down', `body: ${res.text.slice(0, 200)}`);
});

test('with the database stopped, an admin page answers 503 with a page that says so', async () => {
  assert.ok(stopped, 'the database was not stopped by the first test');
  const res = await poll(() => request('GET', '/chat/admin/', { cookie: adminCookie }), (r) => r.status === 503, whileDown);
  const html = assertHtml(res, 503);
  assertRetryAfter(res);
  // The page says what failed (the database, or the page's own reading of
  // it when the connection broke mid-request), not that admins only may enter.
  assert.match(html, /<p class="error">(The database is unavailable; try again shortly|The overview cannot be read now)\.<\/p>/);
});

test('with the database stopped, an administrator whose password was not checked yet gets the 503 page, not a 500 or a refusal', async () => {
  assert.ok(stopped, 'the database was not stopped by the first test');
  // No process holds this password: mod_authn_dbd fails (500), or finds no
  // user on a connection that has not noticed yet that the database is gone.
  const res = await poll(() => request('GET', '/chat/admin/', uncheckedAdmin), (r) => r.status === 503, whileDown);
  const html = assertHtml(res, 503);
  assertRetryAfter(res);
  assert.match(html, /<p class="error">The database is unavailable; try again shortly\.<\/p>/);
});

test('once the database is back, requests succeed again without restarting httpd', async () => {
  await startDatabase();

  const me = await poll(() => api('GET', '/me', DEMO), (res) => res.status === 200, { tries: 60, intervalMs: 500 });
  assert.equal(assertJson(me, 200).username, 'demo');
  await auditRow(me); // the audit log is written again too

  const health = await poll(() => api('GET', '/health'), (res) => res.status === 200, { tries: 60, intervalMs: 500 });
  assert.equal(assertJson(health, 200).database, 'up');
});

test('the audit rows of requests answered while the database was away are written once it is back', async () => {
  assert.ok(deniedWhileDown?.requestId, 'no request was denied while the database was away');
  assert.ok(readWhileDown?.requestId, 'no signed-in request was answered while the database was away');
  for (const [res, expected] of [
    [deniedWhileDown, { status: 401, username: null, uri: '/chat/api/v1/me' }],
    [readWhileDown, { status: 503, username: 'demo', uri: '/chat/api/v1/me' }],
  ]) {
    const rows = await poll(
      () => sqlJson(`SELECT status, username, uri FROM audit_logs WHERE request_id = :'p1'`, res.requestId),
      (r) => r.length > 0,
      { tries: 60, intervalMs: 250 },
    );
    assert.deepEqual(rows, [expected], `${res.label} answered ${res.status}`);
  }
});

test('an answer streaming as the database goes away ends in an error event; once it is back, the answer is marked failed and the credits given back', async () => {
  const user = await fx.user({ prefix: 'dbrestart' });
  // 25 chunks at 5 a second: about 5 s of answer, time enough to stop the database.
  const slow = await fx.model({ provider: 'openai', switches: 'rate=5;tokens=25', maxTokens: 64 });
  const conv = await fx.conversation(user, [slow]);
  const content = 'the database goes away';
  const before = await credits(user.id);
  const mark = await ledgerMark();

  let firstText;
  const textFlowing = new Promise((resolve) => (firstText = resolve));
  const streaming = streamMessage(user, conv.id, { content }, {
    onEvent(ev) {
      if (ev.event === 'delta') firstText();
    },
  });
  await textFlowing;
  const [start] = (await dbMessages(conv.id)).filter((r) => r.sender_type === 'user');
  assert.ok(start, 'the user message was not stored before the first text');
  // The answer's row is recorded once its first text is out.
  const recorded = await poll(async () => (await dbMessages(conv.id)).find((r) => r.sender_type === 'ai'),
    (row) => row?.status === 'streaming');
  assert.equal(recorded?.status, 'streaming', 'the answer row was not recorded while its text flowed');
  stopped = true;
  await dev('db-stop');

  const events = assertSse(await streaming);
  assert.deepEqual(eventShape(events), ['start', 'delta*', 'error', 'end'], `events: ${events.map((e) => e.event)}`);
  assert.equal(events.at(-2).json.error?.code, 'database_unavailable');
  assert.equal(events.at(-1).json.credits, null, 'end.credits claims a balance the database could not give');

  await startDatabase();
  const answer = await poll(() => dbMessage(recorded.id), (row) => row?.status !== 'streaming',
    { tries: 60, intervalMs: 500 });
  assert.equal(answer.status, 'error', 'the answer was not marked failed once the database was back');
  assert.match(answer.error, /database/i);
  assert.equal(await credits(user.id), before, 'the reservation was not given back');
  const ledger = await ledgerSince(user.id, mark);
  assert.deepEqual(ledger.map((r) => r.reason), ['reserve', 'release']);
  assertLedgerExplains(ledger, before, before, 'ledger');
  assert.deepEqual((await thread(user, conv.id)).map((m) => [m.sender_type, m.status]),
    [['user', 'complete'], ['ai', 'error']], 'the visible thread');
});

test('an API call that ends while the database is away is settled once it is back, and charged once', async () => {
  const user = await fx.user({ prefix: 'dbrestart' });
  // The provider answers after 10 s: time enough to stop the database.
  const slow = await fx.model({ provider: 'openai', switches: 'latency=10000', maxTokens: 64 });
  const key = assertJson(await api('POST', '/keys', { ...user, body: { name: 'dbrestart-late-settle' } }), 201);
  const before = await credits(user.id);
  const mark = await ledgerMark();
  const calling = request('POST', '/chat/v1/chat/completions', {
    body: { model: slow.slug, messages: [{ role: 'user', content: 'settled later' }] },
    headers: { Authorization: `Bearer ${key.key}` },
  });
  // The lease's row lasts until the writer's next round (at most a second);
  // the ledger's reservation stays.
  const reserved = await poll(async () => (await ledgerSince(user.id, mark)).filter((r) => r.reason === 'reserve'),
    (rows) => rows.length === 1);
  assert.equal(reserved.length, 1, 'no credits were taken for the call before the provider answered');
  stopped = true;
  await dev('db-stop');

  // The answer still reaches the client; the writer keeps its settlement
  // until the database is back.
  const logs = await errorLogsMark();
  const out = assertJson(await calling, 200);
  assert.ok(out.usage.total_tokens > 0);
  const told = await poll(async () => (await errorLogsSince(logs)).join(''),
    (text) => /rows for openai_settle not written yet \(database unavailable\)/.test(text), { tries: 100, intervalMs: 100 });
  assert.match(told, /rows for openai_settle not written yet \(database unavailable\)/,
    'the settlement was not kept for the database (did the call end before it stopped?)');

  await startDatabase();
  const [call] = await poll(() => sqlJson(`SELECT status, credits FROM api_calls WHERE key_id = :'p1'`, key.id),
    (rows) => rows.length > 0, { tries: 60, intervalMs: 500 });
  assert.equal(call?.status, 'complete', 'the call was not settled once the database was back');
  assert.equal(Number(call.credits), out.usage.total_tokens);
  const after = before - out.usage.total_tokens;
  assert.equal(await credits(user.id), after, 'the user was not charged what the call used');
  const ledger = await ledgerSince(user.id, mark);
  assert.equal(ledger.filter((r) => r.reason === 'reserve').length, 1);
  assertLedgerExplains(ledger, before, after, 'ledger');
});

test('right after a restart, users whose password was not checked since are let in, not told 401', async () => {
  // Their first requests find the pooled connections that the restart broke:
  // mod_authn_dbd's statement is gone from them until they are repaired.
  // Sign-ins at the same time first make connections that only mod_authn_dbd
  // used (the sign-in handler is mod_auth_form's): the module sees them first
  // after the restart.
  const signingIn = [];
  for (let i = 0; i < 12; i++) signingIn.push(await createUser({ prefix: 'dbsignin' }));
  await Promise.all(signingIn.map((u) => sessionCookie(u.user, u.password)));
  const users = [];
  for (let i = 0; i < 12; i++) users.push(await createUser({ prefix: 'dbfresh' }));
  stopped = true;
  await dev('db-stop');
  await startDatabase();
  const answers = await Promise.all(users.map((u) => api('GET', '/me', u)));
  assert.deepEqual(answers.map((res) => res.status), users.map(() => 200),
    `answers: ${answers.map((res) => `${res.status} ${res.text.slice(0, 120)}`).join(' | ')}`);
  answers.forEach((res, i) => assert.equal(res.json.username, users[i].user));
});

test('right after a restart, the first requests of every process find their connections mended: /health answers up at once', async () => {
  // A backend ended by the restart leaves its last message on the socket,
  // then the end: a connection checked by reading only the message looked
  // alive, and its first statement failed (503) once per process.
  const before = [];
  for (let i = 0; i < 8; i++) before.push(await api('GET', '/health'));
  assert.deepEqual(before.map((res) => res.status), before.map(() => 200));
  stopped = true;
  await dev('db-stop');
  await startDatabase();
  const answers = [];
  for (let i = 0; i < 8; i++) answers.push(await api('GET', '/health'));
  assert.deepEqual(answers.map((res) => res.status), answers.map(() => 200),
    `answers: ${answers.map((res) => `${res.status} ${res.text.slice(0, 120)}`).join(' | ')}`);
});
