// The audit log: exactly one audit_logs row per request the module handled,
// found by the response's X-Request-Id, saying who did what from where, with
// old and new values for changes; and rows the application cannot alter.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { api } from '../lib/http.mjs';
import { sql, dbUser } from '../lib/db.mjs';
import { auditRow } from '../lib/audit.mjs';
import { assertError, assertJson } from '../lib/assert.mjs';
import { BASE_URL, HOSTNAME } from '../lib/env.mjs';
import { DEMO, ADMIN, createUser, uniq } from '../lib/users.mjs';

after(async () => {
  await sql(
    `UPDATE users SET display_name = 'Demo User', email = 'demo@example.com' WHERE username = 'demo'`,
  );
});

test('a successful GET /me is audited as a request by demo', async () => {
  const userAgent = `aichat-integration-test/${uniq()}`;
  const res = await api('GET', '/me', { ...DEMO, headers: { 'User-Agent': userAgent } });
  assertJson(res, 200);
  const row = await auditRow(res);

  assert.equal(row.action, 'request');
  assert.equal(row.status, 200);
  assert.equal(row.username, 'demo');
  assert.equal(row.user_id, (await dbUser('demo')).id);
  assert.equal(row.method, 'GET');
  assert.equal(row.uri, '/chat/api/v1/me');
  assert.equal(row.user_agent, userAgent);
  assert.equal(row.request_id, res.requestId);
  assert.ok(typeof row.duration_ms === 'number' && row.duration_ms >= 0, `duration_ms: ${row.duration_ms}`);
  assert.ok(!Number.isNaN(Date.parse(row.created_at)), `created_at: ${row.created_at}`);
  if (HOSTNAME === '127.0.0.1') assert.equal(row.ip_address, '127.0.0.1');
  else assert.ok(row.ip_address, 'ip_address is empty');
});

test('a request without credentials is audited as anonymous with status 401', async () => {
  const res = await api('GET', '/me');
  assertError(res, 401, 'unauthenticated');
  const row = await auditRow(res);
  assert.equal(row.status, 401);
  assert.equal(row.user_id, null);
  assert.equal(row.uri, '/chat/api/v1/me');
});

test('an unknown path is audited with status 404', async () => {
  const path = `/audit-unknown-${uniq()}`;
  const res = await api('GET', path, DEMO);
  assertError(res, 404, 'not_found');
  const row = await auditRow(res);
  assert.equal(row.status, 404);
  assert.equal(row.username, 'demo');
  assert.equal(row.uri, `/chat/api/v1${path}`);
});

test('a successful PATCH /me is one update row with the old and new values', async () => {
  const demo = await dbUser('demo');
  const name = `Audited Name ${uniq()}`;
  const res = await api('PATCH', '/me', { ...DEMO, body: { display_name: name } });
  assertJson(res, 200);
  const row = await auditRow(res);

  assert.equal(row.action, 'update');
  assert.equal(row.status, 200);
  assert.equal(row.method, 'PATCH');
  assert.equal(row.entity_type, 'user');
  assert.equal(row.entity_id, demo.id);
  assert.equal(row.user_id, demo.id);
  assert.equal(row.old_values?.display_name, demo.display_name);
  assert.equal(row.new_values?.display_name, name);
  for (const values of [row.old_values, row.new_values]) {
    assert.ok(!('email' in values), `a field that did not change is recorded: ${JSON.stringify(values)}`);
    assert.ok(!('password_hash' in values), 'a password hash is in the audit log');
  }
});

test('clearing the email records the old address and null', async () => {
  const res = await api('PATCH', '/me', { ...DEMO, body: { email: null } });
  assertJson(res, 200);
  const row = await auditRow(res);
  assert.equal(row.action, 'update');
  assert.equal(row.old_values?.email, 'demo@example.com');
  assert.ok(row.new_values && 'email' in row.new_values, `new_values: ${JSON.stringify(row.new_values)}`);
  assert.equal(row.new_values.email, null);
  assertJson(await api('PATCH', '/me', { ...DEMO, body: { email: 'demo@example.com' } }), 200);
});

test('a refused PATCH (422) is audited with its status and records no change', async () => {
  const stored = await dbUser('demo');
  const res = await api('PATCH', '/me', { ...DEMO, body: { display_name: '' } });
  assertError(res, 422, 'invalid_field', 'display_name');
  const row = await auditRow(res);
  assert.equal(row.status, 422);
  assert.equal(row.new_values, null, 'a refused change must not be logged as new values');
  assert.deepEqual(await dbUser('demo'), stored);
});

test('a request refused as cross-site is audited with status 403', async () => {
  const res = await api('PATCH', '/me', {
    ...DEMO,
    body: { display_name: 'Cross Site' },
    headers: { Origin: 'http://evil.example' },
  });
  assertError(res, 403, 'csrf_rejected');
  const row = await auditRow(res);
  assert.equal(row.status, 403);
  assert.equal(row.new_values, null);
});

test("an administrator's change to a user records the actor and the old and new values", async () => {
  const target = await createUser({ prefix: 'audittarget' });
  const adminId = (await dbUser('admin')).id;

  const off = await api('PATCH', `/admin/users/${target.id}`, { ...ADMIN, body: { is_active: false } });
  assertJson(off, 200);
  const offRow = await auditRow(off);
  assert.equal(offRow.action, 'update');
  assert.equal(offRow.entity_type, 'user');
  assert.equal(offRow.entity_id, target.id);
  assert.equal(offRow.user_id, adminId, 'the row names the administrator who acted');
  assert.equal(offRow.username, 'admin');
  assert.equal(offRow.old_values?.is_active, true);
  assert.equal(offRow.new_values?.is_active, false);

  const promote = await api('PATCH', `/admin/users/${target.id}`, { ...ADMIN, body: { role: 'admin' } });
  assertJson(promote, 200);
  const roleRow = await auditRow(promote);
  assert.equal(roleRow.action, 'update');
  assert.equal(roleRow.entity_id, target.id);
  assert.equal(roleRow.old_values?.role, 'user');
  assert.equal(roleRow.new_values?.role, 'admin');
});

test('the application role cannot change or delete audit rows', async () => {
  const res = await api('GET', '/me', DEMO);
  assertJson(res, 200);
  const before = await auditRow(res);

  await assert.rejects(
    sql(`SET ROLE aichat_app; UPDATE audit_logs SET status = 599 WHERE request_id = :'p1'`, res.requestId),
    /ERROR/,
    'UPDATE of audit_logs as aichat_app succeeded',
  );
  await assert.rejects(
    sql(`SET ROLE aichat_app; DELETE FROM audit_logs WHERE request_id = :'p1'`, res.requestId),
    /ERROR/,
    'DELETE from audit_logs as aichat_app succeeded',
  );
  await assert.rejects(sql('SET ROLE aichat_app; TRUNCATE audit_logs'), /ERROR/, 'TRUNCATE of audit_logs as aichat_app succeeded');

  assert.deepEqual(await auditRow(res), before, 'the audit row changed');
});

/** GET url from the loopback address `from` (node's fetch cannot choose it); resolves { status, requestId }. */
function getFrom(from, url, headers = {}) {
  return new Promise((resolve, reject) => {
    http.get(url, { localAddress: from, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, requestId: res.headers['x-request-id'] }));
    }).on('error', reject);
  });
}

test('the audit row holds the address of the client, also through a balancer, and not one the client claims', async (t) => {
  if (HOSTNAME !== '127.0.0.1') return t.skip('needs the test httpd on 127.0.0.1');
  // With two nodes the balancer is the nodes' peer; they read the client's
  // address from the X-Forwarded-For it adds (mod_remoteip), and believe
  // nothing the client put there itself.
  const res = await getFrom('127.0.0.5', `${BASE_URL}/chat/api/v1/me`, { 'X-Forwarded-For': '203.0.113.9' });
  assert.equal(res.status, 401);
  const row = await auditRow({ ...res, label: 'GET /me from 127.0.0.5' });
  assert.equal(row.ip_address, '127.0.0.5');
});
