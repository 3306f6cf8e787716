// GET /chat/api/v1/health: a probe for load balancers and monitoring that
// needs no login and reports the database and schema state.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api } from '../lib/http.mjs';
import { assertError, assertJson, allowedMethods } from '../lib/assert.mjs';

test('health answers without a login and reports the database up', async () => {
  const res = await api('GET', '/health');
  const body = assertJson(res, 200);
  assert.equal(body.status, 'ok');
  assert.equal(body.database, 'up');
  assert.ok(Number.isInteger(body.schema_version), `schema_version: ${JSON.stringify(body.schema_version)}`);
  assert.ok(Number.isInteger(body.schema_required), `schema_required: ${JSON.stringify(body.schema_required)}`);
  assert.ok(
    body.schema_version >= body.schema_required,
    `the database schema (${body.schema_version}) is older than the module requires (${body.schema_required})`,
  );
});

test('each response gets its own request id', async () => {
  const first = await api('GET', '/health');
  const second = await api('GET', '/health');
  assertJson(first, 200);
  assertJson(second, 200);
  assert.notEqual(first.requestId, second.requestId);
});

test('health only answers GET', async () => {
  const res = await api('POST', '/health', { body: {} });
  assertError(res, 405, 'method_not_allowed');
  const allowed = allowedMethods(res);
  assert.ok(allowed.includes('GET'), `Allow: ${allowed}`);
  assert.ok(!allowed.includes('POST'), `Allow: ${allowed}`);
});
