// No live share token in the audit log, whatever the request and whatever its
// answer: every URI shape that carries a token (the pages at /share/ and
// /chat/shared/, the share API and its fork, paths that are no route, a
// trailing slash, a query string, a token with something stuck to it), every
// status (200, 302 to the sign-in page, 401, 403 from the CSRF check and from
// Require, 404, 405) records {token} in its place; no column of any row and
// no line of httpd's error log at the shipped levels holds the token.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from '../lib/http.mjs';
import { sqlJson, sqlValue } from '../lib/db.mjs';
import { poll } from '../lib/poll.mjs';
import { ORIGIN } from '../lib/env.mjs';
import { uniq } from '../lib/users.mjs';
import { ChatFixture, say } from '../lib/chat.mjs';
import { shareConv } from '../lib/share.mjs';
import { errorLogsMark, errorLogsSince } from '../lib/nodes.mjs';

const fx = new ChatFixture('audtok');
let owner;
let reader; // another signed-in user of the site
let token;
let logFrom;

before(async () => {
  logFrom = await errorLogsMark();
  const model = await fx.model({ provider: 'openai' });
  owner = await fx.user({ prefix: 'atowner' });
  reader = await fx.user({ prefix: 'atreader' });
  const conv = await fx.conversation(owner, [model]);
  await say(owner, conv.id, `shared ${uniq()}`);
  token = (await shareConv(owner, conv.id, {})).token;
});

after(async () => {
  await fx.cleanup();
});

const wrongPassword = () => ({ user: reader.user, password: 'not-the-password' });
const crossSite = { headers: { Origin: 'https://evil.example' } };

// [method, path with {t} for the token, options, the status expected, and
// the audited path when it is not the path with {token} for {t}]
const cases = () => [
  ['GET', '/share/{t}', {}, 200],
  ['HEAD', '/share/{t}', {}, 200],
  ['GET', '/share/{t}/', {}, 404],
  ['GET', '/share/{t}.', {}, 404],
  ['GET', '/share/other/{t}{t}', {}, 404, '/share/other/{token}'],
  ['OPTIONS', '/share/{t}', {}, 405],
  ['POST', '/share/{t}', {}, 405],
  ['GET', '/chat/shared/{t}', {}, 302],
  ['GET', '/chat/shared/{t}', { ...reader }, 200],
  ['GET', '/chat/shared/{t}/', { ...reader }, 404],
  ['POST', '/chat/shared/{t}', { ...reader }, 405],
  ['GET', '/chat/shared/{t}', wrongPassword(), 401],
  ['GET', '/chat/api/v1/shares/{t}', {}, 401],
  ['GET', '/chat/api/v1/shares/{t}', { ...reader }, 200],
  ['GET', '/chat/api/v1/shares/{t}/', { ...reader }, 404],
  ['DELETE', '/chat/api/v1/shares/{t}', { ...reader }, 405],
  ['OPTIONS', '/chat/api/v1/shares/{t}', { ...reader }, 405],
  ['GET', '/chat/api/v1/shares/{t}', wrongPassword(), 401],
  ['POST', '/chat/api/v1/shares/{t}/fork', {}, 401],
  ['POST', '/chat/api/v1/shares/{t}/fork', { ...reader, ...crossSite }, 403],
  ['GET', '/chat/api/v1/share/{t}', { ...reader }, 404],
  ['GET', '/chat/admin/shares/{t}', { ...reader }, 403],
];

test('no audit row of any share URI shape, whatever its status, holds the token; each records {token} in its place', async () => {
  const sent = [];
  for (const [method, shape, options, status, audited] of cases()) {
    const probe = uniq();
    const path = `${shape.replaceAll('{t}', token)}?probe=${probe}`;
    const res = await request(method, path, options);
    assert.equal(res.status, status, `${res.label}: ${res.text.slice(0, 200)}`);
    sent.push({ label: `${method} ${shape} (${status})`, probe, want: `${audited ?? shape.replaceAll('{t}', '{token}')}?probe=${probe}` });
  }
  for (const { label, probe, want } of sent) {
    const rows = await poll(
      () => sqlJson(`SELECT to_jsonb(a) AS row FROM audit_logs a WHERE uri LIKE '%probe=' || :'p1'`, probe),
      (r) => r.length > 0,
    );
    assert.equal(rows.length, 1, `${label}: ${rows.length} audit rows`);
    const { row } = rows[0];
    assert.equal(row.uri, want, `${label}: the audited URI`);
    assert.ok(!JSON.stringify(row).includes(token), `${label}: the row holds the token: ${JSON.stringify(row)}`);
  }
  const anywhere = await sqlValue(`SELECT count(*) FROM audit_logs a WHERE strpos(a::text, :'p1') > 0`, token);
  assert.equal(Number(anywhere), 0, 'audit rows hold the live token');
});

test('a path under /chat/ that carries a token but is no module location answers as any other', async () => {
  for (const options of [{}, { ...reader }, wrongPassword()]) {
    const res = await request('GET', `/chat/share/${token}`, options);
    assert.ok([302, 401, 404].includes(res.status), `${res.label}: ${res.status}`);
  }
});

test('no line of the error log holds the token', async () => {
  const log = (await errorLogsSince(logFrom)).join('\n');
  const lines = log.split('\n').filter((line) => line.includes(token));
  assert.deepEqual(lines, [], 'error-log lines with the live token');
});
