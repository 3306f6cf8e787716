// Share links for the integration tests: the share API (PUT/GET/DELETE of a
// conversation's share, my shares), the pages behind a link (/share/<token>
// for anyone, /chat/shared/<token> for signed-in users), a shape assertion
// for the share object, token arithmetic (what the database stores instead
// of the token, tokens that must not open anything) and the stored row.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { api, request } from './http.mjs';
import { sqlJson } from './db.mjs';
import { BASE_URL } from './env.mjs';
import { assertJson, UUID_RE } from './assert.mjs';
import { poll } from './poll.mjs';
import { setTimeout as delay } from 'node:timers/promises';

/** What a share token looks like: 32 characters of base64url. */
export const TOKEN_RE = /^[A-Za-z0-9_-]{32}$/;

const SHARE_FIELDS = [
  'id', 'conversation_id', 'title', 'owner', 'is_public', 'indexable', 'created_at', 'updated_at',
  'expires_at', 'expired', 'revoked_at', 'snapshot_message_id', 'message_count', 'view_count',
  'last_viewed_at', 'token', 'url',
];

function isTimestamp(value) {
  return typeof value === 'string' && !Number.isNaN(Date.parse(value));
}

/**
 * A share object as its owner sees it: every field with its type, a token of
 * 32 base64url characters and the link built on the server's base URL
 * (/share/ for a public share, /chat/shared/ for signed-in users only).
 */
export function assertShareShape(share, what = 'share') {
  const show = JSON.stringify(share);
  assert.ok(share && typeof share === 'object', `${what} is not an object: ${show}`);
  for (const key of SHARE_FIELDS) assert.ok(key in share, `${what} lacks "${key}": ${show}`);
  assert.match(share.id, UUID_RE, `${what}.id: ${show}`);
  assert.match(share.conversation_id, UUID_RE, `${what}.conversation_id: ${show}`);
  assert.match(share.snapshot_message_id, UUID_RE, `${what}.snapshot_message_id: ${show}`);
  assert.equal(typeof share.title, 'string', `${what}.title: ${show}`);
  assert.equal(typeof share.owner, 'string', `${what}.owner: ${show}`);
  for (const key of ['is_public', 'indexable', 'expired']) {
    assert.equal(typeof share[key], 'boolean', `${what}.${key}: ${show}`);
  }
  assert.ok(isTimestamp(share.created_at), `${what}.created_at: ${show}`);
  assert.ok(isTimestamp(share.updated_at), `${what}.updated_at: ${show}`);
  assert.ok(share.expires_at === null || isTimestamp(share.expires_at), `${what}.expires_at: ${show}`);
  assert.equal(share.revoked_at, null, `${what} of a live share has revoked_at: ${show}`);
  assert.ok(share.last_viewed_at === null || isTimestamp(share.last_viewed_at), `${what}.last_viewed_at: ${show}`);
  assert.ok(Number.isInteger(share.message_count) && share.message_count >= 1, `${what}.message_count: ${show}`);
  assert.ok(Number.isInteger(share.view_count) && share.view_count >= 0, `${what}.view_count: ${show}`);
  assert.match(share.token, TOKEN_RE, `${what}.token: ${show}`);
  assert.equal(share.url, linkFor(share.token, share.is_public), `${what}.url: ${show}`);
}

/** The link of a token: /share/<token> when public, /chat/shared/<token> otherwise. */
export function linkFor(token, isPublic = true) {
  return `${BASE_URL}${isPublic ? '/share/' : '/chat/shared/'}${token}`;
}

/** PUT /conversations/{id}/share (the response). */
export function putShare(auth, convId, body = {}) {
  return api('PUT', `/conversations/${convId}/share`, { ...auth, body });
}

/** A PUT that must answer `status` (201 created, 200 updated): the share, shape asserted. */
export async function shareConv(auth, convId, body = {}, status = 201) {
  const res = await putShare(auth, convId, body);
  const share = assertJson(res, status);
  assertShareShape(share, `${res.label} answer`);
  assert.equal(share.conversation_id, convId, `${res.label}: another conversation's share`);
  return share;
}

/** GET /conversations/{id}/share that must succeed: the share. */
export async function getShare(auth, convId) {
  const res = await api('GET', `/conversations/${convId}/share`, auth);
  const share = assertJson(res, 200);
  assertShareShape(share, `${res.label} answer`);
  return share;
}

/**
 * The share's view count once it has settled. Views reach the database in
 * batches (each httpd process writes its views ten times a second), so this
 * waits up to 5 s for `atLeast`, then looks again after several batches so
 * that a view counted late (or wrongly) shows too.
 */
export async function settledViews(auth, convId, atLeast) {
  await poll(async () => (await getShare(auth, convId)).view_count, (n) => n >= atLeast, { tries: 100, intervalMs: 50 });
  await delay(500);
  return getShare(auth, convId);
}

/** GET /shares that must succeed: the items. */
export async function myShares(auth) {
  const res = await api('GET', '/shares', auth);
  const body = assertJson(res, 200);
  assert.ok(Array.isArray(body.items), `${res.label}: items is not an array: ${res.text.slice(0, 200)}`);
  body.items.forEach((s, i) => assertShareShape(s, `${res.label} item ${i}`));
  return body.items;
}

/** GET the public page of a token (options: headers, credentials...). */
export function publicPage(token, options = {}) {
  return request('GET', `/share/${token}`, options);
}

/** GET the signed-in page of a token (give credentials in options). */
export function signedInPage(token, options = {}) {
  return request('GET', `/chat/shared/${token}`, options);
}

/** The hex SHA-256 of a token: what the database keeps instead of it. */
export function tokenHash(token) {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A well-formed token that was never issued. */
export function unissuedToken() {
  return randomBytes(24).toString('base64url');
}

/** The token with one character changed (still well-formed). */
export function oneCharOff(token, at = 0) {
  const c = token[at] === 'A' ? 'B' : 'A';
  return token.slice(0, at) + c + token.slice(at + 1);
}

/** The shared_chats row with this id, or undefined. */
export async function dbShare(id) {
  const rows = await sqlJson(`SELECT * FROM shared_chats WHERE id = :'p1'`, id);
  return rows[0];
}

/** Every shared_chats row of a conversation (live and revoked), oldest first. */
export function dbSharesOf(convId) {
  return sqlJson(`SELECT * FROM shared_chats WHERE conversation_id = :'p1' ORDER BY created_at, id`, convId);
}

/** The content of <meta {attr}="{name}" content="..."> (still HTML-escaped), or undefined. */
export function metaContent(html, attr, name) {
  const re = new RegExp(`<meta\\s+${attr}="${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"\\s+content="([^"]*)"`, 'i');
  return re.exec(html)?.[1];
}

/** Undo the HTML escaping of text or an attribute value. */
export function unescapeHtml(text) {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#0*39;|&#x0*27;|&apos;/gi, "'")
    .replace(/&amp;/g, '&');
}
