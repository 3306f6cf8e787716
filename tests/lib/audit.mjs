// Reading the audit log. The module writes a request's audit row in its
// log_transaction hook, after the response has gone out, so a test polls
// briefly for the row instead of reading it at once.

import assert from 'node:assert/strict';
import { sqlJson } from './db.mjs';
import { poll } from './poll.mjs';

/** Every audit_logs row whose request_id is this X-Request-Id (waits for the first). */
export async function auditRows(requestId) {
  assert.ok(requestId, 'the response has no X-Request-Id to find its audit row by');
  return poll(
    () => sqlJson(`SELECT * FROM audit_logs WHERE request_id = :'p1' ORDER BY id`, requestId),
    (rows) => rows.length > 0,
  );
}

/** The single audit row of a response; fails unless there is exactly one. */
export async function auditRow(res) {
  const rows = await auditRows(res.requestId);
  assert.equal(rows.length, 1, `${res.label}: expected exactly one audit row for request ${res.requestId}, found ${rows.length}`);
  return rows[0];
}
