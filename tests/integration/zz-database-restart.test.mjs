// The database goes away and comes back while httpd keeps running: the
// module answers 503 database_unavailable (with Retry-After) instead of
// failing or hanging, /health says the database is down, and once
// PostgreSQL is back requests succeed again without restarting httpd.
// Named zz-… so it runs last: it stops the shared test database.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { api } from '../lib/http.mjs';
import { auditRow } from '../lib/audit.mjs';
import { poll } from '../lib/poll.mjs';
import { assertError, assertJson, assertStatus } from '../lib/assert.mjs';
import { DEV } from '../lib/env.mjs';
import { DEMO } from '../lib/users.mjs';

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

after(async () => {
  if (stopped) await startDatabase();
});

function assertRetryAfter(res) {
  const value = res.headers.get('retry-after') ?? '';
  assert.ok(/^\d+$/.test(value) || !Number.isNaN(Date.parse(value)), `${res.label}: Retry-After is ${JSON.stringify(value)}`);
}

// While PostgreSQL is down, each pooled connection may need one request to
// find out that it is dead, so ask a few times before judging.
const whileDown = { tries: 10, intervalMs: 200 };

test('with the database stopped, API calls answer 503 database_unavailable', async () => {
  assertJson(await api('GET', '/me', DEMO), 200);
  stopped = true; // even a failed db-stop may have left it down: after() starts it
  await dev('db-stop');

  const read = await poll(() => api('GET', '/me', DEMO), (res) => res.status === 503, whileDown);
  assertError(read, 503, 'database_unavailable');
  assertRetryAfter(read);

  const write = await poll(
    () => api('PATCH', '/me', { ...DEMO, body: { display_name: 'Demo User' } }),
    (res) => res.status === 503,
    whileDown,
  );
  assertError(write, 503, 'database_unavailable');
  assertRetryAfter(write);
});

test('with the database stopped, /health answers 503 database down', async () => {
  assert.ok(stopped, 'the database was not stopped by the previous test');
  const res = await poll(() => api('GET', '/health'), (r) => r.status === 503, whileDown);
  assertStatus(res, 503);
  assertRetryAfter(res);
  assert.equal(res.json?.database, 'down', `body: ${res.text.slice(0, 200)}`);
});

test('once the database is back, requests succeed again without restarting httpd', async () => {
  await startDatabase();

  const me = await poll(() => api('GET', '/me', DEMO), (res) => res.status === 200, { tries: 60, intervalMs: 500 });
  assert.equal(assertJson(me, 200).username, 'demo');
  await auditRow(me); // the audit log is written again too

  const health = await poll(() => api('GET', '/health'), (res) => res.status === 200, { tries: 60, intervalMs: 500 });
  assert.equal(assertJson(health, 200).database, 'up');
});
