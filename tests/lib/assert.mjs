// Assertions about responses shared by the integration tests. Each message
// names the request and shows the start of the body, so a failure says what
// the server actually answered.

import assert from 'node:assert/strict';
import { BASE_URL } from './env.mjs';

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function show(res) {
  return `${res.label} answered ${res.status} ${res.headers.get('content-type') ?? '(no Content-Type)'}: ${res.text.slice(0, 300)}`;
}

/** The response has this status. */
export function assertStatus(res, status) {
  assert.equal(res.status, status, `expected ${status}; ${show(res)}`);
}

/** The response carries a non-empty X-Request-Id header. */
export function assertRequestId(res) {
  assert.ok(res.requestId && res.requestId.trim() !== '', `no X-Request-Id header; ${show(res)}`);
}

/** A JSON response (application/json, UTF-8) with this status and a parsed body. */
export function assertJson(res, status) {
  assertStatus(res, status);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json\s*;\s*charset=utf-8$/i, `not JSON; ${show(res)}`);
  assert.notEqual(res.json, undefined, `body is not JSON; ${show(res)}`);
  assertRequestId(res);
  return res.json;
}

/**
 * The error envelope: this status, {"error":{"code","message"}} with this
 * code and a non-empty message, "field" when given, and an X-Request-Id.
 */
export function assertError(res, status, code, field) {
  assertStatus(res, status);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/i, `error is not JSON; ${show(res)}`);
  assert.ok(res.json && typeof res.json.error === 'object' && res.json.error !== null, `no "error" object; ${show(res)}`);
  assert.equal(res.json.error.code, code, `wrong error code; ${show(res)}`);
  assert.equal(typeof res.json.error.message, 'string', `error.message is not a string; ${show(res)}`);
  assert.notEqual(res.json.error.message.trim(), '', `error.message is empty; ${show(res)}`);
  if (field !== undefined) assert.equal(res.json.error.field, field, `wrong error.field; ${show(res)}`);
  assertRequestId(res);
}

/** An HTML page with this status. */
export function assertHtml(res, status) {
  assertStatus(res, status);
  assert.match(res.headers.get('content-type') ?? '', /^text\/html/i, `not HTML; ${show(res)}`);
  return res.text;
}

/** The methods of an Allow header, upper case: "GET, PATCH" -> ['GET', 'PATCH']. */
export function allowedMethods(res) {
  const allow = res.headers.get('allow');
  assert.ok(allow, `no Allow header; ${show(res)}`);
  return allow.split(',').map((m) => m.trim().toUpperCase()).filter(Boolean);
}

/** Path and query of the Location header (absolute or relative); asserts it exists. */
export function locationPath(res) {
  const loc = res.headers.get('location');
  assert.ok(loc, `no Location header; ${show(res)}`);
  const url = new URL(loc, BASE_URL + '/');
  return url.pathname + url.search;
}

const USER_FIELDS = [
  'id', 'username', 'display_name', 'email', 'role', 'token_credits', 'is_active', 'created_at', 'last_login_at',
];

function isTimestamp(value) {
  return typeof value === 'string' && !Number.isNaN(Date.parse(value));
}

/** The user object of /me and the admin API: every field, with its type; never a password hash. */
export function assertUserShape(user, what = 'user') {
  assert.equal(typeof user, 'object', `${what} is not an object`);
  for (const key of USER_FIELDS) assert.ok(key in user, `${what} lacks "${key}": ${JSON.stringify(user)}`);
  assert.ok(!('password_hash' in user) && !('password' in user), `${what} exposes a password: ${JSON.stringify(user)}`);
  assert.match(user.id, UUID_RE, `${what}.id is not a UUID`);
  assert.equal(typeof user.username, 'string');
  assert.ok(user.display_name === null || typeof user.display_name === 'string', `${what}.display_name has type ${typeof user.display_name}`);
  assert.ok(user.email === null || typeof user.email === 'string', `${what}.email has type ${typeof user.email}`);
  assert.ok(['user', 'admin'].includes(user.role), `${what}.role is ${JSON.stringify(user.role)}`);
  assert.ok(Number.isInteger(user.token_credits), `${what}.token_credits is not an integer: ${JSON.stringify(user.token_credits)}`);
  assert.equal(typeof user.is_active, 'boolean', `${what}.is_active is not a boolean`);
  assert.ok(isTimestamp(user.created_at), `${what}.created_at is not a timestamp: ${JSON.stringify(user.created_at)}`);
  assert.ok(user.last_login_at === null || isTimestamp(user.last_login_at), `${what}.last_login_at is not a timestamp or null`);
}
