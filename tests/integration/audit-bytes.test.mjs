// Audit rows that bytes cannot drop: a request whose User-Agent, URI or user
// name holds invalid UTF-8 still leaves its row (ill-formed bytes become
// U+FFFD), long values are cut to their caps, and one share view the
// database refuses in a batch of views loses no other view or audit row. And
// requests without a user (401, /health) are audited through the writer.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { api, request } from '../lib/http.mjs';
import { sql, sqlJson } from '../lib/db.mjs';
import { auditRow } from '../lib/audit.mjs';
import { poll } from '../lib/poll.mjs';
import { assertError, assertJson } from '../lib/assert.mjs';
import { DEMO, uniq } from '../lib/users.mjs';
import { ChatFixture, say } from '../lib/chat.mjs';
import { errorLogsMark, errorLogsSince } from '../lib/nodes.mjs';
import { publicPage, settledViews, shareConv } from '../lib/share.mjs';

const REPLACEMENT = '\uFFFD';
const URI_MAX = 2048;
const AGENT_MAX = 2048;

const fx = new ChatFixture('audbytes');
let model;
let owner;

before(async () => {
  model = await fx.model({ provider: 'openai' });
  owner = await fx.user({ prefix: 'abowner' });
});

after(async () => {
  await sql('DROP TRIGGER IF EXISTS audbytes_refuse ON audit_logs');
  await sql('DROP FUNCTION IF EXISTS audbytes_refuse()');
  await fx.cleanup();
});

/** A public share of a conversation of owner's: { conv, share }. */
async function shared() {
  const conv = await fx.conversation(owner, [model]);
  await say(owner, conv.id, `hello ${uniq()}`);
  return { conv, share: await shareConv(owner, conv.id, {}) };
}

test('a GET with User-Agent \\xff leaves its audit row, the byte replaced', async () => {
  const tag = uniq();
  const res = await api('GET', '/me', { ...DEMO, headers: { 'User-Agent': `bad\xff${tag}\xc3` } });
  assertJson(res, 200);
  const row = await auditRow(res);
  assert.equal(row.user_agent, `bad${REPLACEMENT}${tag}${REPLACEMENT}`);
  assert.equal(row.username, 'demo');
});

test('invalid UTF-8 in the URI leaves the row of the 404', async () => {
  const tag = uniq();
  const res = await api('GET', `/bad-%FF%C0%AF-${tag}`, DEMO);
  assertError(res, 404, 'not_found');
  const row = await auditRow(res);
  assert.equal(row.status, 404);
  assert.equal(row.uri, `/chat/api/v1/bad-${REPLACEMENT}${REPLACEMENT}${REPLACEMENT}-${tag}`);
});

test('a Basic-auth user name with invalid UTF-8 leaves the row of the 401', async () => {
  const tag = uniq();
  const name = Buffer.concat([Buffer.from('who'), Buffer.from([0xff, 0xfe]), Buffer.from(`${tag}:secret`)]);
  const res = await api('GET', '/me', { headers: { Authorization: `Basic ${name.toString('base64')}` } });
  assertError(res, 401, 'unauthenticated');
  const row = await auditRow(res);
  assert.equal(row.status, 401);
  assert.equal(row.user_id, null);
  assert.equal(row.username, `who${REPLACEMENT}${REPLACEMENT}${tag}`);
});

test('a long User-Agent and a long URI are cut to their caps', async () => {
  const tag = uniq();
  const res = await api('GET', `/long-${tag}?q=${'u'.repeat(5000)}`, { ...DEMO, headers: { 'User-Agent': `${tag}${'a'.repeat(6000)}` } });
  assertError(res, 404, 'not_found');
  const row = await auditRow(res);
  assert.equal(row.uri.length, URI_MAX);
  assert.ok(row.uri.startsWith(`/chat/api/v1/long-${tag}?q=uuu`), row.uri.slice(0, 80));
  assert.equal(row.user_agent.length, AGENT_MAX);
  assert.ok(row.user_agent.startsWith(tag));
});

/** count views of share at once, one of them with the User-Agent odd: the responses. */
function views(share, count, odd) {
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      publicPage(share.token, { headers: { 'User-Agent': i === Math.floor(count / 2) ? odd : `good-view-${i}` } })),
  );
}

test('a share view with a bad User-Agent in a batch of good ones: every view and audit row lands', async () => {
  const { conv, share } = await shared();
  const tag = uniq();
  const answers = await views(share, 21, `odd\xff${tag}`);
  answers.forEach((res) => assert.equal(res.status, 200, res.label));

  for (const res of answers) await auditRow(res);
  const agents = await sqlJson(
    `SELECT user_agent FROM audit_logs WHERE entity_type = 'share' AND entity_id = :'p1' AND action = 'view'`,
    share.id,
  );
  assert.equal(agents.length, 21);
  assert.ok(agents.some((r) => r.user_agent === `odd${REPLACEMENT}${tag}`), JSON.stringify(agents));
  assert.equal((await settledViews(owner, conv.id, 21)).view_count, 21);
});

test('a view the database refuses loses no other view of its batch; its loss is logged with its count', async () => {
  const { conv, share } = await shared();
  const marker = `refuse-me-${uniq()}`;
  // A row the database cannot take, whatever the module does with its bytes.
  await sql(`CREATE FUNCTION audbytes_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN RAISE EXCEPTION 'this row is refused'; END $$`);
  await sql(`CREATE TRIGGER audbytes_refuse BEFORE INSERT ON audit_logs FOR EACH ROW
             WHEN (NEW.user_agent LIKE 'refuse-me-%') EXECUTE FUNCTION audbytes_refuse()`);
  const logFrom = await errorLogsMark();
  const answers = await views(share, 21, marker);
  answers.forEach((res) => assert.equal(res.status, 200, res.label));

  // With several nodes, the line is in the log of the node that served the refused view.
  const lost = await poll(
    async () => (await errorLogsSince(logFrom)).join(''),
    (log) => /1 rows for share_views_record lost: the database rejected them/.test(log),
  );
  assert.match(lost, /1 rows for share_views_record lost: the database rejected them/);
  // With several nodes, the other nodes' batches may land after the line.
  const rows = await poll(
    () => sqlJson(
      `SELECT user_agent FROM audit_logs WHERE entity_type = 'share' AND entity_id = :'p1' AND action = 'view'`,
      share.id,
    ),
    (r) => r.length >= 20,
  );
  assert.equal(rows.length, 20, `audit rows of the good views: ${JSON.stringify(rows)}`);
  assert.ok(rows.every((r) => r.user_agent.startsWith('good-view-')));
  assert.equal((await settledViews(owner, conv.id, 20)).view_count, 20);
});

test('requests without a user are audited: a 401 and a health check', async () => {
  const denied = await api('GET', '/me');
  assertError(denied, 401, 'unauthenticated');
  const health = await api('GET', '/health');
  assertJson(health, 200);
  const rows = [await auditRow(denied), await auditRow(health)];
  assert.deepEqual(rows.map((r) => [r.status, r.user_id, r.uri]), [
    [401, null, '/chat/api/v1/me'],
    [200, null, '/chat/api/v1/health'],
  ]);
  for (const row of rows) assert.ok(!Number.isNaN(Date.parse(row.created_at)), `created_at ${row.created_at}`);
});
