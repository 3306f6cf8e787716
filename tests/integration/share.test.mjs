// Share links: the owner creates, changes, shows and revokes the one live
// share of a conversation and lists their shares; anyone with the link reads
// the conversation up to its snapshot on a server-rendered page (or as JSON)
// under a strict CSP; signed-in-only shares open at /chat/shared/ for the
// site's users; expired links say so (410), revoked, unknown and malformed
// ones are the same 404; the database never holds a token; every view counts
// and is audited; any signed-in user continues a share in a copy of their
// own; administrators list and revoke every live share.
// A test that changes a share and opens its link at once runs on one node
// (onOneNode): a change shows at once in every process of the httpd that
// made it, and on other nodes within a second (nodes.test.mjs).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { api, request, sessionCookie } from '../lib/http.mjs';
import { sql, sqlJson, sqlValue } from '../lib/db.mjs';
import { auditRow } from '../lib/audit.mjs';
import { poll } from '../lib/poll.mjs';
import { allowedMethods, assertError, assertHtml, assertJson, assertStatus, locationPath } from '../lib/assert.mjs';
import { ORIGIN } from '../lib/env.mjs';
import { ADMIN, uniq } from '../lib/users.mjs';
import { onOneNode } from '../lib/nodes.mjs';
import { ChatFixture, assertConversationShape, dbMessages, mockReply, say, sendMessage, thread } from '../lib/chat.mjs';
import { imported, sample } from '../lib/imports.mjs';
import {
  TOKEN_RE, assertShareShape, dbShare, dbSharesOf, getShare, linkFor, metaContent, myShares, oneCharOff,
  publicPage, putShare, settledViews, shareConv, signedInPage, tokenHash, unescapeHtml, unissuedToken,
} from '../lib/share.mjs';

const fx = new ChatFixture('share');
let model;     // an OpenAI-protocol model on the mock
let owner;     // owns the conversations that get shared
let stranger;  // another signed-in user of the site
let guest;     // invited into one of owner's conversations

before(async () => {
  model = await fx.model({ provider: 'openai', displayName: `Sharer ${uniq(2)}` });
  owner = await fx.user({ prefix: 'showner' });
  stranger = await fx.user({ prefix: 'shstranger' });
  guest = await fx.user({ prefix: 'shguest' });
});

after(async () => {
  await fx.cleanup();
});

/** A conversation of `auth` with one exchange: { conv, first } (first = the say() body). */
async function chatted(auth = owner, { title, content } = {}) {
  const conv = await fx.conversation(auth, [model], { title: title ?? `Shared ${fx.tag} ${uniq(2)}` });
  const first = await say(auth, conv.id, content ?? `hello ${uniq()}`);
  return { conv, first };
}

/** A conversation of owner's with one exchange, shared: { conv, first, share }. */
async function sharedChat(body = {}, options = {}) {
  const made = await chatted(owner, options);
  const share = await shareConv(owner, made.conv.id, body);
  return { ...made, share };
}

/** The page of a live share must be 200 HTML; returns the page. */
async function page(share, options = {}) {
  const res = await (share.is_public ? publicPage(share.token, options) : signedInPage(share.token, { ...stranger, ...options }));
  return { res, html: assertHtml(res, 200) };
}

/** Status, content type and body of a response, to compare answers byte for byte. */
function outcome(res) {
  return { status: res.status, type: res.headers.get('content-type'), body: res.text };
}

// --- create, update, show, revoke, list -------------------------------------------

test('PUT creates a share (201) with a 32-character token and a link on the server base; the link opens the conversation', async () => {
  const { conv, first } = await chatted(owner, { content: `first words ${uniq()}` });
  const res = await putShare(owner, conv.id, {});
  const share = assertJson(res, 201);
  assertShareShape(share);
  assert.match(share.token, TOKEN_RE);
  assert.equal(share.url, linkFor(share.token, true), 'a public share links to /share/<token> on the server base');
  assert.equal(share.conversation_id, conv.id);
  assert.equal(share.title, conv.title);
  assert.equal(share.owner, owner.user);
  assert.equal(share.is_public, true, 'a share is public unless asked otherwise');
  assert.equal(share.indexable, false);
  assert.equal(share.expires_at, null, 'a share never expires unless asked');
  assert.equal(share.expired, false);
  assert.equal(share.message_count, 2);
  assert.equal(share.snapshot_message_id, first.answers[0].id, 'the snapshot is the last message');
  assert.equal(share.view_count, 0);
  assert.equal(share.last_viewed_at, null);

  assert.deepEqual(await getShare(owner, conv.id), share, 'GET share differs from the created share');
  assert.deepEqual(await dbSharesOf(conv.id).then((rows) => rows.map((r) => r.id)), [share.id]);

  const { html } = await page(share);
  assert.ok(html.includes(conv.title), 'the page lacks the title');
  assert.ok(html.includes(first.user_message.content), 'the page lacks the user message');
  assert.ok(html.includes(first.answers[0].content), 'the page lacks the answer');
  assert.ok(html.includes(model.display_name), 'the page lacks the model name');
});

test('PUT again updates the same share (200, same id, token and link): visibility, indexing, expiry', async () => {
  const { conv, share } = await sharedChat();
  const stable = (s) => [s.id, s.token, s.created_at];

  const priv = await shareConv(owner, conv.id, { is_public: false }, 200);
  assert.deepEqual(stable(priv), stable(share), 'an update made another share');
  assert.equal(priv.is_public, false);
  assert.equal(priv.url, linkFor(share.token, false), 'a signed-in share links to /chat/shared/<the same token>');

  const idx = await shareConv(owner, conv.id, { is_public: true, indexable: true }, 200);
  assert.deepEqual(stable(idx), stable(share));
  assert.equal(idx.is_public, true);
  assert.equal(idx.indexable, true);
  assert.equal(idx.url, share.url);

  const before = Date.now();
  const inHour = await shareConv(owner, conv.id, { expires_in: 3600 }, 200);
  const after = Date.now();
  assert.deepEqual(stable(inHour), stable(share));
  const at = Date.parse(inHour.expires_at);
  assert.ok(at >= before + 3500_000 && at <= after + 3700_000, `expires_in 3600 gave expires_at ${inHour.expires_at}`);
  assert.equal(inHour.expired, false);
  assert.equal(inHour.indexable, true, 'a field not given changed');

  const kept = await shareConv(owner, conv.id, {}, 200);
  assert.equal(kept.expires_at, inHour.expires_at, 'an update without expiry changed the expiry');
  assert.equal(kept.is_public, true);
  assert.equal(kept.indexable, true);

  const when = new Date(Date.now() + 7 * 86400_000);
  when.setUTCMilliseconds(0);
  const atDate = await shareConv(owner, conv.id, { expires_at: when.toISOString() }, 200);
  assert.equal(Date.parse(atDate.expires_at), when.getTime(), `expires_at ${atDate.expires_at} is not ${when.toISOString()}`);

  const never = await shareConv(owner, conv.id, { expires_in: null, indexable: false }, 200);
  assert.equal(never.expires_at, null, 'expires_in null must remove the expiry');
  assert.equal(never.indexable, false);
  const never2 = await shareConv(owner, conv.id, { expires_at: when.toISOString() }, 200);
  assert.notEqual(never2.expires_at, null);
  assert.equal((await shareConv(owner, conv.id, { expires_at: null }, 200)).expires_at, null, 'expires_at null must remove the expiry');

  assert.equal((await dbSharesOf(conv.id)).length, 1, 'updates created rows');
  assert.deepEqual(stable(await getShare(owner, conv.id)), stable(share));
});

test('the snapshot moves to the latest message only when update_snapshot is true', () => onOneNode(async () => {
  const { conv, first, share } = await sharedChat();
  assert.equal(share.message_count, 2);
  const later = `said after sharing ${uniq()}`;
  const second = await say(owner, conv.id, later);

  const unchanged = await getShare(owner, conv.id);
  assert.equal(unchanged.message_count, 2, 'a new message moved the snapshot');
  assert.equal(unchanged.snapshot_message_id, first.answers[0].id);
  let { html } = await page(share);
  assert.ok(html.includes(first.user_message.content), 'the shared message is missing');
  assert.ok(!html.includes(later), 'a message sent after sharing is on the page');

  const plain = await shareConv(owner, conv.id, { is_public: true }, 200);
  assert.equal(plain.message_count, 2, 'an update without update_snapshot moved the snapshot');
  assert.equal(plain.snapshot_message_id, first.answers[0].id);
  ({ html } = await page(share));
  assert.ok(!html.includes(later), 'an update without update_snapshot shows the new message');

  const explicitNo = await shareConv(owner, conv.id, { update_snapshot: false }, 200);
  assert.equal(explicitNo.message_count, 2);

  const moved = await shareConv(owner, conv.id, { update_snapshot: true }, 200);
  assert.equal(moved.token, share.token);
  assert.equal(moved.message_count, 4);
  assert.equal(moved.snapshot_message_id, second.answers[0].id);
  ({ html } = await page(share));
  assert.ok(html.includes(later), 'the new snapshot is not on the page');
  assert.ok(html.includes(mockReply(later)), 'the new answer is not on the page');
  assert.ok(html.indexOf(first.user_message.content) < html.indexOf(later), 'messages out of order');
}));

test('DELETE revokes (204): GET share and the link answer 404; sharing again makes a new link and the old one stays dead', () => onOneNode(async () => {
  const { conv, first, share } = await sharedChat();
  await page(share);

  const del = await api('DELETE', `/conversations/${conv.id}/share`, owner);
  assertStatus(del, 204);
  assert.equal(del.text, '', '204 with a body');
  assertError(await api('GET', `/conversations/${conv.id}/share`, owner), 404, 'not_found');
  assertHtml(await publicPage(share.token), 404);
  assertError(await api('DELETE', `/conversations/${conv.id}/share`, owner), 404, 'not_found');
  assert.ok(!(await myShares(owner)).some((s) => s.id === share.id), 'a revoked share is listed');
  const row = await dbShare(share.id);
  assert.notEqual(row.revoked_at, null, 'the row is not marked revoked');

  const again = await shareConv(owner, conv.id, {}, 201);
  assert.notEqual(again.id, share.id, 'sharing again revived the revoked share');
  assert.notEqual(again.token, share.token, 'sharing again after a revoke gave the old token');
  assert.notEqual(again.url, share.url);
  const { html } = await page(again);
  assert.ok(html.includes(first.user_message.content));
  const old = await publicPage(share.token);
  assertHtml(old, 404);
  assert.ok(!old.text.includes(first.user_message.content), 'the old link shows the conversation');
  assert.equal((await getShare(owner, conv.id)).id, again.id);
}));

test('GET /shares lists my live shares, newest first, with link and view count, and nobody else’s', async () => {
  const me = await fx.user({ prefix: 'shlist' });
  const a = await chatted(me);
  const b = await chatted(me);
  const c = await chatted(me);
  const theirs = await sharedChat();
  const sa = await shareConv(me, a.conv.id);
  const sb = await shareConv(me, b.conv.id, { is_public: false });
  const sc = await shareConv(me, c.conv.id);
  assertStatus(await api('DELETE', `/conversations/${c.conv.id}/share`, me), 204);
  await page(sa);
  await page(sa);
  await settledViews(me, a.conv.id, 2);

  const items = await myShares(me);
  assert.deepEqual(items.map((s) => s.id), [sb.id, sa.id], 'not my live shares newest first');
  const [ib, ia] = items;
  assert.equal(ia.url, sa.url);
  assert.equal(ia.token, sa.token);
  assert.equal(ia.view_count, 2, 'the list does not show the views');
  assert.equal(ib.url, linkFor(sb.token, false));
  assert.equal(ib.view_count, 0);
  assert.ok(!items.some((s) => s.id === theirs.share.id || s.id === sc.id));
  assert.ok(!(await myShares(stranger)).some((s) => s.id === sa.id || s.id === sb.id), 'another user sees my shares');
});

test('PUTs at once on an unshared conversation make one share: one 201, the others 200 with the same token', async () => {
  const { conv } = await chatted();
  const results = await Promise.all(Array.from({ length: 6 }, () => putShare(owner, conv.id, {})));
  const statuses = results.map((r) => r.status).sort();
  assert.deepEqual(statuses, [200, 200, 200, 200, 200, 201], `statuses ${statuses}: ${results.map((r) => r.text.slice(0, 120)).join(' | ')}`);
  assert.equal(new Set(results.map((r) => r.json.token)).size, 1, 'concurrent PUTs gave different tokens');
  assert.equal((await dbSharesOf(conv.id)).length, 1, 'concurrent PUTs made several shares');
});

// --- validation -------------------------------------------------------------------

const FAR = 10 * 366 * 24 * 3600;
const BAD_PUTS = [
  ['an unknown field', { public: true }, 'unknown_field', 'public'],
  ['is_public as a string', { is_public: 'yes' }, 'invalid_field', 'is_public'],
  ['is_public as a number', { is_public: 1 }, 'invalid_field', 'is_public'],
  ['is_public null', { is_public: null }, 'invalid_field', 'is_public'],
  ['indexable as a string', { indexable: 'true' }, 'invalid_field', 'indexable'],
  ['update_snapshot as a number', { update_snapshot: 1 }, 'invalid_field', 'update_snapshot'],
  ['expires_in 0', { expires_in: 0 }, 'invalid_field', 'expires_in'],
  ['a negative expires_in', { expires_in: -60 }, 'invalid_field', 'expires_in'],
  ['expires_in as a string', { expires_in: '3600' }, 'invalid_field', 'expires_in'],
  ['a fractional expires_in', { expires_in: 1.5 }, 'invalid_field', 'expires_in'],
  ['expires_in beyond ten years', { expires_in: FAR + 1 }, 'invalid_field', 'expires_in'],
  ['a huge expires_in', { expires_in: 1e300 }, 'invalid_field', 'expires_in'],
  ['a malformed expires_at', { expires_at: 'next tuesday' }, 'invalid_field', 'expires_at'],
  ['an impossible expires_at', { expires_at: '2030-02-30T10:00:00Z' }, 'invalid_field', 'expires_at'],
  ['expires_at as a number', { expires_at: 1893456000 }, 'invalid_field', 'expires_at'],
  ['an expires_at in the past', { expires_at: '2020-01-01T00:00:00Z' }, 'invalid_field', 'expires_at'],
  ['both expires_in and expires_at', { expires_in: 60, expires_at: '2099-01-01T00:00:00Z' }, 'invalid_field', undefined],
  ['a valid change next to a bad one', { is_public: false, expires_in: 0 }, 'invalid_field', 'expires_in'],
];

for (const [what, body, code, field] of BAD_PUTS) {
  test(`sharing with ${what} is 422 ${code}, creates no share and changes none`, async () => {
    const fresh = await chatted();
    assertError(await putShare(owner, fresh.conv.id, body), 422, code, field);
    assert.deepEqual(await dbSharesOf(fresh.conv.id), [], 'a refused PUT created a share');
    assertError(await api('GET', `/conversations/${fresh.conv.id}/share`, owner), 404, 'not_found');

    const { conv, share } = await sharedChat({ expires_in: 86400 });
    const stored = await dbShare(share.id);
    assertError(await putShare(owner, conv.id, body), 422, code, field);
    assert.deepEqual(await dbShare(share.id), stored, 'a refused PUT changed the share');
  });
}

test('the largest expires_in (ten years) is accepted', async () => {
  const { conv } = await chatted();
  const share = await shareConv(owner, conv.id, { expires_in: FAR });
  assert.ok(Date.parse(share.expires_at) > Date.now() + (FAR - 86400) * 1000, `expires_at ${share.expires_at}`);
});

test('a conversation without messages is 422 nothing_to_share', async () => {
  const conv = await fx.conversation(owner, [model], { title: 'empty' });
  assertError(await putShare(owner, conv.id, {}), 422, 'nothing_to_share');
  assert.deepEqual(await dbSharesOf(conv.id), []);
});

test('a body that is not JSON is 415, malformed JSON 400, and neither creates a share', async () => {
  const { conv } = await chatted();
  const path = `/conversations/${conv.id}/share`;
  assertError(await api('PUT', path, { ...owner, raw: '{"is_public":true}', headers: { 'Content-Type': 'text/plain' } }), 415, 'unsupported_media_type');
  assertError(await api('PUT', path, { ...owner, form: { is_public: 'true' } }), 415, 'unsupported_media_type');
  const bad = await api('PUT', path, { ...owner, raw: '{"is_public": tru', headers: { 'Content-Type': 'application/json' } });
  assertStatus(bad, 400);
  assert.equal(typeof bad.json?.error?.code, 'string', `400 without the error envelope: ${bad.text.slice(0, 200)}`);
  assertStatus(await api('PUT', path, { ...owner, raw: '[]', headers: { 'Content-Type': 'application/json' } }), 400);
  assert.deepEqual(await dbSharesOf(conv.id), []);
});

// --- who may share ----------------------------------------------------------------

test('another user gets 404 on every share route of my conversation; an invited participant 403; nothing changes', async () => {
  const { conv, share } = await sharedChat();
  assertJson(await api('POST', `/conversations/${conv.id}/participants`, { ...owner, body: { username: guest.user } }), 200);
  const stored = await dbShare(share.id);
  const path = `/conversations/${conv.id}/share`;

  assertError(await putShare(stranger, conv.id, { is_public: false }), 404, 'not_found');
  assertError(await api('GET', path, stranger), 404, 'not_found');
  assertError(await api('DELETE', path, stranger), 404, 'not_found');

  assertError(await putShare(guest, conv.id, { is_public: false }), 403, 'forbidden');
  assertError(await api('GET', path, guest), 403, 'forbidden');
  assertError(await api('DELETE', path, guest), 403, 'forbidden');

  assert.deepEqual(await dbShare(share.id), stored, 'someone else changed the share');

  const unshared = await chatted();
  assertError(await putShare(stranger, unshared.conv.id), 404, 'not_found');
  assert.deepEqual(await dbSharesOf(unshared.conv.id), [], 'a stranger shared my conversation');
  assertError(await putShare({ ...owner, headers: { Origin: 'http://evil.example' } }, unshared.conv.id), 403, 'csrf_rejected');
  assertError(await api('DELETE', path, { ...owner, headers: { Origin: 'http://evil.example' } }), 403, 'csrf_rejected');
  assert.deepEqual(await dbSharesOf(unshared.conv.id), [], 'a cross-site request shared my conversation');
  assert.deepEqual(await dbShare(share.id), stored, 'a cross-site request revoked the share');
  await page(share);
});

test('an unknown or malformed conversation id is 404 on every share route', async () => {
  for (const id of [randomUUID(), 'not-a-uuid']) {
    assertError(await putShare(owner, id, {}), 404, 'not_found');
    assertError(await api('GET', `/conversations/${id}/share`, owner), 404, 'not_found');
    assertError(await api('DELETE', `/conversations/${id}/share`, owner), 404, 'not_found');
  }
});

test('the share routes need credentials', async () => {
  const { conv, share } = await sharedChat();
  assertError(await api('PUT', `/conversations/${conv.id}/share`, { body: {} }), 401, 'unauthenticated');
  assertError(await api('GET', '/shares'), 401, 'unauthenticated');
  assertError(await api('POST', `/shares/${share.token}/fork`), 401, 'unauthenticated');
  assertError(await api('GET', `/shares/${share.token}`), 401, 'unauthenticated');
});

// --- expiry -----------------------------------------------------------------------

test('an expired link answers 410 (page, JSON and fork) and the owner sees it as expired; a new expiry revives it', () => onOneNode(async () => {
  const { conv, first, share } = await sharedChat({ expires_in: 1 });
  assert.equal(share.expired, false);
  const gone = await poll(() => publicPage(share.token), (res) => res.status !== 200, { tries: 100, intervalMs: 100 });
  const html = assertHtml(gone, 410);
  assert.match(html, /This link has expired/);
  assert.ok(!html.includes(first.user_message.content), 'the expired page shows the conversation');

  assertError(await publicPage(share.token, { headers: { Accept: 'application/json' } }), 410, 'share_expired');
  assertError(await api('GET', `/shares/${share.token}`, stranger), 410, 'share_expired');
  assertHtml(await signedInPage(share.token, stranger), 410);
  const forks = Number(await sqlValue(`SELECT count(*) FROM conversations WHERE owner_id = :'p1'`, stranger.id));
  assertError(await api('POST', `/shares/${share.token}/fork`, stranger), 410, 'share_expired');
  assert.equal(Number(await sqlValue(`SELECT count(*) FROM conversations WHERE owner_id = :'p1'`, stranger.id)), forks,
    'forking an expired share made a conversation');

  const listed = (await myShares(owner)).find((s) => s.id === share.id);
  assert.ok(listed, 'an expired share is not listed');
  assert.equal(listed.expired, true);
  assert.equal((await getShare(owner, conv.id)).expired, true);

  const revived = await shareConv(owner, conv.id, { expires_in: null }, 200);
  assert.equal(revived.expired, false);
  assert.equal(revived.token, share.token);
  await page(share);
}));

// --- unknown, revoked, malformed ------------------------------------------------

test('revoked, never issued and malformed tokens all get the same 404, byte for byte', async () => {
  const live = await sharedChat();
  const dead = await sharedChat();
  assertStatus(await api('DELETE', `/conversations/${dead.conv.id}/share`, owner), 204);

  const reference = outcome(await publicPage(unissuedToken()));
  assert.equal(reference.status, 404);
  assert.match(reference.type, /^text\/html/);
  assert.match(reference.body, /This link does not exist/);
  const tokens = {
    revoked: dead.share.token,
    'never issued': unissuedToken(),
    'one character off a live token': oneCharOff(live.share.token),
    'the last character off a live token': oneCharOff(live.share.token, 31),
    'abc': 'abc',
    '31 characters': live.share.token.slice(0, 31),
    '33 characters': `${live.share.token}A`,
    'with a character outside base64url': `${live.share.token.slice(0, 31)}.`,
  };
  for (const [what, token] of Object.entries(tokens)) {
    assert.deepEqual(outcome(await publicPage(token)), reference, `the ${what} token answers differently`);
    const signed = await signedInPage(token, stranger);
    assert.deepEqual(outcome(signed), reference, `the ${what} token answers differently at /chat/shared/`);
    const json = await publicPage(token, { headers: { Accept: 'application/json' } });
    assertError(json, 404, 'not_found');
    assertError(await api('GET', `/shares/${encodeURIComponent(token)}`, stranger), 404, 'not_found');
    assertError(await api('POST', `/shares/${encodeURIComponent(token)}/fork`, stranger), 404, 'not_found');
  }
  await page(live.share);
});

// --- signed-in-only shares ----------------------------------------------------------

test('a share that is not public is the same 404 at /share/ and opens at /chat/shared/ for any signed-in user only', async () => {
  const marker = `private words ${uniq()}`;
  const { share } = await sharedChat({ is_public: false }, { content: marker });
  assert.equal(share.url, linkFor(share.token, false));

  const reference = outcome(await publicPage(unissuedToken()));
  assert.deepEqual(outcome(await publicPage(share.token)), reference, 'a signed-in share answers differently at /share/');
  assertError(await publicPage(share.token, { headers: { Accept: 'application/json' } }), 404, 'not_found');

  const res = await signedInPage(share.token, stranger);
  const html = assertHtml(res, 200);
  assert.ok(html.includes(marker), 'the signed-in page does not show the conversation');
  const cookie = await sessionCookie(stranger.user, stranger.password);
  assert.ok(assertHtml(await signedInPage(share.token, { cookie }), 200).includes(marker), 'a browser session does not open it');

  const anon = await signedInPage(share.token);
  assert.ok([401, 302, 303].includes(anon.status), `without credentials: ${anon.status}`);
  if (anon.status !== 401) assert.match(locationPath(anon), /^\/chat\/login/, 'not sent to the sign-in page');
  assert.ok(!anon.text.includes(marker), 'the conversation is shown without credentials');
  const wrong = await signedInPage(share.token, { user: stranger.user, password: 'wrong' });
  assert.ok(!wrong.text.includes(marker) && wrong.status !== 200, `wrong password: ${wrong.status}`);

  const viaApi = assertJson(await api('GET', `/shares/${share.token}`, stranger), 200);
  assert.equal(viaApi.messages[0].content, marker);
});

// /chat/shared/ lies under the chat UI's <Directory> (Alias /chat/ -> htdocs/),
// whose Cache-Control and Content-Security-Policy must not replace the page's own.
test('the signed-in page keeps its own strict CSP and private caching', async () => {
  const { share } = await sharedChat({ is_public: false });
  const { res } = await page(share);
  assert.match(res.headers.get('content-security-policy') ?? '', /^default-src 'none'; style-src 'sha256-/, 'the share page CSP is replaced at /chat/shared/');
  assert.match(res.headers.get('cache-control') ?? '', /private/, 'a signed-in page may be stored by shared caches');
  const missing = await signedInPage(unissuedToken(), stranger);
  assert.equal(missing.headers.get('cache-control'), 'no-store');
  assert.deepEqual(outcome(missing), outcome(await publicPage(unissuedToken())));
});

test('a public share opens at /chat/shared/ for signed-in users as well', async () => {
  const { first, share } = await sharedChat();
  assert.ok(assertHtml(await signedInPage(share.token, stranger), 200).includes(first.user_message.content));
});

// --- the token is not stored -----------------------------------------------------

test('the database keeps sha256(token), never the token, in shared_chats or the audit rows of changes', async () => {
  const { conv } = await chatted();
  const res = await putShare(owner, conv.id, {});
  const share = assertJson(res, 201);
  const upd = await putShare(owner, conv.id, { is_public: false });
  assertJson(upd, 200);

  const row = await dbShare(share.id);
  assert.equal(row.token_hash, tokenHash(share.token), 'token_hash is not the hex SHA-256 of the token');
  const columns = (await sql(`SELECT column_name FROM information_schema.columns WHERE table_name = 'shared_chats'`)).map((r) => r[0]);
  assert.ok(!columns.includes('token'), `shared_chats has a token column: ${columns}`);
  for (const [column, value] of Object.entries(row)) {
    assert.ok(!String(JSON.stringify(value)).includes(share.token), `shared_chats.${column} holds the token`);
  }
  const inTable = await sqlValue(`SELECT count(*) FROM shared_chats s WHERE strpos(s::text, :'p1') > 0`, share.token);
  assert.equal(Number(inTable), 0, 'a shared_chats row contains the token');

  for (const r of [res, upd]) {
    const audit = await auditRow(r);
    assert.equal(audit.entity_id, share.id);
    assert.ok(!JSON.stringify(audit).includes(share.token), `the audit row of ${r.label} holds the token`);
  }
  const leaked = await sqlValue(
    `SELECT count(*) FROM audit_logs a WHERE a.request_id = ANY (:'p1'::text[]) AND strpos(a::text, :'p2') > 0`,
    `{${res.requestId},${upd.requestId}}`, share.token,
  );
  assert.equal(Number(leaked), 0);
});

// A link's URI is its token: views, forks and GET /shares/{token} are audited
// with the token replaced by "{token}".
test('no audit row holds a token: views, forks and reads of a link record it without the token', async () => {
  const { share } = await sharedChat();
  const view = await publicPage(share.token);
  assertStatus(view, 200);
  const fork = await api('POST', `/shares/${share.token}/fork`, stranger);
  fx.track(assertJson(fork, 201));
  const read = await api('GET', `/shares/${share.token}`, stranger);
  assertStatus(read, 200);
  for (const res of [view, fork, read]) {
    const row = await auditRow(res);
    assert.ok(!JSON.stringify(row).includes(share.token), `the audit row of ${res.label} holds the token: ${row.uri}`);
  }
});

// --- conditional GET --------------------------------------------------------------

test('the page has an ETag and Last-Modified; If-None-Match gives 304 until the title changes', () => onOneNode(async () => {
  const { conv, share } = await sharedChat();
  const { res } = await page(share);
  const etag = res.headers.get('etag');
  assert.ok(etag, 'no ETag');
  assert.ok(res.headers.get('last-modified') && !Number.isNaN(Date.parse(res.headers.get('last-modified'))), 'no Last-Modified date');
  assert.match(res.headers.get('cache-control') ?? '', /no-cache/, 'the page may be reused without revalidation');

  const same = await publicPage(share.token, { headers: { 'If-None-Match': etag } });
  assertStatus(same, 304);
  assert.equal(same.text, '', '304 with a body');
  assert.equal(same.headers.get('etag'), etag);

  const renamed = `Renamed ${uniq()}`;
  assertJson(await api('PATCH', `/conversations/${conv.id}`, { ...owner, body: { title: renamed } }), 200);
  const fresh = await publicPage(share.token, { headers: { 'If-None-Match': etag } });
  const html = assertHtml(fresh, 200);
  assert.ok(html.includes(renamed), 'the page after the rename does not have the new title');
  assert.notEqual(fresh.headers.get('etag'), etag, 'the ETag did not change with the title');
  assertStatus(await publicPage(share.token, { headers: { 'If-None-Match': fresh.headers.get('etag') } }), 304);

  // The JSON variant has its own validator.
  const json = await publicPage(share.token, { headers: { Accept: 'application/json' } });
  assertStatus(json, 200);
  assert.ok(json.headers.get('etag') && json.headers.get('etag') !== fresh.headers.get('etag'), 'the JSON and HTML variants share an ETag');
  assert.match(json.headers.get('vary') ?? '', /accept/i, 'no Vary: Accept');
  assertStatus(await publicPage(share.token, { headers: { Accept: 'application/json', 'If-None-Match': json.headers.get('etag') } }), 304);
}));

// --- JSON variant -------------------------------------------------------------------

test('with Accept: application/json the link answers the title, models and messages that were shared', async () => {
  const { conv, share } = await sharedChat({}, { title: `Json ${uniq()}` });
  await say(owner, conv.id, `second ${uniq()}`);
  const updated = await shareConv(owner, conv.id, { update_snapshot: true }, 200);
  await say(owner, conv.id, `not shared ${uniq()}`);

  const res = await publicPage(share.token, { headers: { Accept: 'application/json' } });
  assertStatus(res, 200);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/i);
  const body = res.json;
  assert.ok(body, `not JSON: ${res.text.slice(0, 200)}`);
  assert.equal(body.title, conv.title);
  assert.deepEqual(body.models, [{ slug: model.slug, display_name: model.display_name }]);
  const items = await thread(owner, conv.id);
  const shared = items.slice(0, updated.message_count);
  assert.equal(shared.at(-1).id, updated.snapshot_message_id);
  assert.deepEqual(
    body.messages.map((m) => [m.role, m.content, m.sender]),
    shared.map((m) => [m.sender_type, m.content, m.sender_type === 'ai' ? model.display_name : null]),
    'the JSON messages are not the shared thread',
  );
  for (const m of body.messages) assert.ok(!Number.isNaN(Date.parse(m.created_at)), `created_at ${m.created_at}`);
  assert.equal(body.created_at && Date.parse(body.created_at), Date.parse(share.created_at));
  assert.equal(body.expires_at, null);
  assert.ok(!res.text.includes(share.token), 'the JSON repeats the token');

  const viaApi = await api('GET', `/shares/${share.token}`, stranger);
  assert.deepEqual(assertJson(viaApi, 200), body, 'GET /shares/{token} differs from the page JSON');
});

test('an imported chat is shared like any other: its page and its JSON show the messages of its visible thread', async () => {
  const user = await fx.user({ prefix: 'shimport' });
  const { res, job } = await imported(user, sample('chatgpt-conversations.json'), 'conversations.json');
  assert.equal(res.status, 202, res.text);
  assert.equal(job.status, 'done', JSON.stringify(job));
  job.conversations.forEach((c) => fx.track(c));
  // An export with an answer regenerated: the other answer is on a branch not shown.
  const conv = job.conversations.find((c) => c.title === 'SSE line endings');
  assert.ok(conv, JSON.stringify(job.conversations));
  const shown = await thread(user, conv.id);
  assert.equal(shown.length, 4);

  const share = await shareConv(user, conv.id);
  assert.equal(share.title, 'SSE line endings');
  assert.equal(share.message_count, 4);
  assert.equal(share.snapshot_message_id, shown.at(-1).id);
  const { html } = await page(share);
  const text = unescapeHtml(html);
  assert.ok(text.includes('SSE line endings'), 'the page lacks the title');
  for (const m of shown) assert.ok(text.includes(m.content), `the page lacks “${m.content}”`);
  assert.ok(!text.includes('Yes, CRLF works.'), 'the page shows the answer of a branch not shown');

  const json = await publicPage(share.token, { headers: { Accept: 'application/json' } });
  assertStatus(json, 200);
  assert.deepEqual(json.json.messages.map((m) => [m.role, m.content]), shown.map((m) => [m.sender_type, m.content]));
  // The export's model (gpt-4o) is not in the catalog: its answers are signed
  // with the model the export named, as in the chat, not "Assistant".
  const answers = json.json.messages.filter((m) => m.role === 'ai');
  assert.ok(answers.length > 0);
  for (const m of answers) assert.equal(m.sender, 'gpt-4o');
  assert.deepEqual(shown.filter((m) => m.sender_type === 'ai').map((m) => m.sender?.display_name), answers.map(() => 'gpt-4o'));
  assert.ok(!text.includes('Assistant'), 'the page signs an imported answer "Assistant"');
});

// --- page content and headers -------------------------------------------------------

const MARKDOWN = (marker) => [
  `**Bold opening** ${marker} with _style_ and a [link](https://example.org/)`,
  '',
  '| col A | col B |',
  '|-------|-------|',
  '| a1 | b1 |',
  '',
  '```js',
  'const lt = 1 < 2 && "q";',
  '```',
  '',
  '<script>alert("in-message")</script>',
  '',
  '<img src=x onerror="alert(3)">',
  '',
  'Inline <b onclick="alert(4)">tag</b> end.',
].join('\n');

test('the page escapes the title, renders Markdown and drops raw HTML from messages', async () => {
  const marker = uniq();
  const title = `Evil </title><script>alert(1)</script> "${marker}" & co`;
  const { share } = await sharedChat({}, { title, content: MARKDOWN(marker) });
  const { html } = await page(share);

  assert.ok(html.includes('&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;'), 'the escaped title is not on the page');
  assert.ok(!html.includes('</title><script>'), 'the raw title is on the page');
  assert.ok(!/<script/i.test(html), 'a <script> tag is on the page');
  assert.ok(!/<img[^>]*onerror/i.test(html), 'an <img onerror> tag is on the page');
  assert.ok(!/<[a-z][^>]*\son[a-z]+\s*=/i.test(html), 'an element with an event handler attribute is on the page');
  assert.match(html, /<title>Evil &lt;\/title&gt;/);
  assert.match(html, /<h1>[^<]*Evil &lt;\/title&gt;/, 'the heading is not the escaped title');

  assert.match(html, /<table>/, 'the table is not rendered');
  assert.match(html, /<td>a1<\/td>/);
  assert.match(html, /<pre><code class="language-js">const lt = 1 &lt; 2 &amp;&amp; (&quot;|")q(&quot;|");\n<\/code><\/pre>/, 'the fenced code is not rendered');
  assert.match(html, new RegExp(`<strong>Bold opening</strong> ${marker}`), 'bold text is not rendered');
  assert.ok(html.includes('Mock reply to: <strong>Bold opening</strong>'), 'the answer is not rendered as Markdown');
  assert.match(html, /href="\/chat\/#\/fork\/[A-Za-z0-9_-]{32}"/, 'no "Continue this conversation" link');
  assert.ok(html.includes(`/chat/#/fork/${share.token}"`), 'the continue link is not for this share');
  assert.match(html, /Continue this conversation/);
});

test('the page is served with a strict CSP, nosniff, no referrer and noindex by default', () => onOneNode(async () => {
  const { conv, share } = await sharedChat();
  const { res, html } = await page(share);
  const csp = res.headers.get('content-security-policy') ?? '';
  assert.match(csp, /(^|;)\s*default-src 'none'/, `CSP ${csp}`);
  assert.ok(!csp.includes('unsafe-inline') && !csp.includes('unsafe-eval'), `CSP allows inline code: ${csp}`);
  assert.ok(!/script-src/.test(csp) || /script-src 'none'/.test(csp), `CSP allows scripts: ${csp}`);
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
  assert.match(res.headers.get('x-robots-tag') ?? '', /noindex/);
  assert.match(html, /<meta name="robots" content="noindex[^"]*">/);
  assert.ok(!/<script/i.test(html) && !/\son[a-z]+="/i.test(html), 'the page itself has script');

  const indexable = await shareConv(owner, conv.id, { indexable: true }, 200);
  const open = await page(indexable);
  assert.equal(open.res.headers.get('x-robots-tag'), null, 'an indexable public share is noindex');
  assert.ok(!/<meta name="robots"/.test(open.html), 'an indexable public share has a robots meta tag');
  assert.match(open.res.headers.get('content-security-policy') ?? '', /default-src 'none'/);

  const hidden = await shareConv(owner, conv.id, { is_public: false }, 200);
  assert.equal(hidden.indexable, true);
  const priv = await page(hidden);
  assert.match(priv.res.headers.get('x-robots-tag') ?? '', /noindex/, 'a signed-in share may be indexed');
  assert.match(priv.html, /<meta name="robots" content="noindex/);

  const missing = await publicPage(unissuedToken());
  assert.match(missing.headers.get('content-security-policy') ?? '', /default-src 'none'/, 'the 404 page has no CSP');
  assert.equal(missing.headers.get('x-content-type-options'), 'nosniff');
}));

test('Open Graph and Twitter tags carry the title and a plain-text description of the first message', async () => {
  const marker = uniq();
  const title = `Card "${marker}" <b>title</b>`;
  const { share } = await sharedChat({}, { title, content: MARKDOWN(marker) });
  const { html } = await page(share);
  for (const [attr, name] of [['property', 'og:title'], ['name', 'twitter:title']]) {
    const value = metaContent(html, attr, name);
    assert.ok(value !== undefined, `no ${name} meta tag`);
    assert.equal(unescapeHtml(value), title, `${name} is not the title`);
    assert.ok(!value.includes('<') && !value.includes('"'), `${name} is not escaped: ${value}`);
  }
  assert.ok(metaContent(html, 'name', 'twitter:card'), 'no twitter:card');
  for (const [attr, name] of [['name', 'description'], ['property', 'og:description'], ['name', 'twitter:description']]) {
    const value = metaContent(html, attr, name);
    assert.ok(value !== undefined, `no ${name} meta tag`);
    const text = unescapeHtml(value);
    assert.ok(text.startsWith(`Bold opening ${marker} with style and a link`), `${name} is not the plain text of the first message: ${text}`);
    for (const markup of ['**', '_style_', '](', '```', '<script', '<img', '<b']) {
      assert.ok(!text.includes(markup), `${name} has Markdown or markup (${markup}) in it: ${text}`);
    }
    assert.ok(Buffer.byteLength(text) <= 210, `${name} is long: ${text.length}`);
  }
});

test('POST (or PUT, DELETE) on a link is 405 with Allow: GET', async () => {
  const { share } = await sharedChat();
  for (const method of ['POST', 'PUT', 'DELETE']) {
    const res = await request(method, `/share/${share.token}`, { raw: '' });
    assertStatus(res, 405);
    assert.ok(allowedMethods(res).includes('GET'), `Allow: ${res.headers.get('allow')}`);
    assert.ok(!allowedMethods(res).includes(method));
  }
  const unknown = await request('POST', `/share/${unissuedToken()}`, { raw: '' });
  assertStatus(unknown, 405);
  assert.equal((await settledViews(owner, share.conversation_id, 0)).view_count, 0, 'a refused method counted as a view');
});

// --- fork -------------------------------------------------------------------------

test('another user forks a share into a conversation of their own holding exactly the snapshot, and chats on in it', async () => {
  const made = await fx.conversation(owner, [model], { title: `Forkable ${uniq()}`, system_prompt: `Private prompt ${uniq()}` });
  const first = await say(owner, made.id, `fork me ${uniq()}`);
  const share = await shareConv(owner, made.id);
  const conv = made;
  const second = await say(owner, conv.id, `also shared ${uniq()}`);
  const snap = await shareConv(owner, conv.id, { update_snapshot: true }, 200);
  assert.equal(snap.message_count, 4);
  const afterSnapshot = `after the snapshot ${uniq()}`;
  await say(owner, conv.id, afterSnapshot);
  const original = await thread(owner, conv.id);
  const originalRows = await dbMessages(conv.id);

  const res = await api('POST', `/shares/${share.token}/fork`, stranger);
  const fork = assertJson(res, 201);
  fx.track(fork);
  assertConversationShape(fork);
  assert.notEqual(fork.id, conv.id);
  assert.equal(fork.source, 'share');
  assert.equal(fork.owner, stranger.user);
  assert.equal(fork.is_owner, true);
  assert.equal(fork.title, conv.title);
  assert.deepEqual(fork.tools.map((t) => t.slug), [model.slug], 'the fork has other models');
  assert.deepEqual(fork.participants.map((p) => [p.username, p.role]), [[stranger.user, 'admin']],
    'the fork does not list its owner as a participant like any new conversation');
  assert.equal(fork.system_prompt, null, 'the owner’s system prompt was copied into the fork');
  assert.equal(fork.total_messages, 4);

  const copied = await thread(stranger, fork.id);
  const expected = original.slice(0, 4);
  assert.deepEqual(copied.map((m) => [m.sender_type, m.content]), expected.map((m) => [m.sender_type, m.content]),
    'the fork is not the snapshot thread');
  assert.ok(!copied.some((m) => m.content.includes(afterSnapshot)), 'a message after the snapshot was copied');
  assert.deepEqual(copied.map((m) => m.id).filter((id) => original.some((o) => o.id === id)), [], 'the fork shares message rows');
  assert.equal(copied[0].parent_id, null);
  for (let i = 1; i < copied.length; i++) assert.equal(copied[i].parent_id, copied[i - 1].id, 'the fork is not a path');
  assert.equal(fork.active_leaf_id, copied.at(-1).id);
  for (const m of copied.filter((x) => x.sender_type === 'user')) assert.equal(m.sender.username, stranger.user);
  assert.equal(copied.at(-1).content, second.answers[0].content);

  const next = `continuing ${uniq()}`;
  const reply = await sendMessage(stranger, fork.id, { content: next });
  const body = assertJson(reply, 201);
  assert.equal(body.user_message.parent_id, copied.at(-1).id, 'the new message does not follow the copied thread');
  assert.equal(body.answers[0].content, mockReply(next));
  assert.equal((await thread(stranger, fork.id)).length, 6);

  assert.deepEqual(await thread(owner, conv.id), original, 'the original thread changed');
  assert.deepEqual(await dbMessages(conv.id), originalRows, 'the original messages changed');
  assertError(await api('GET', `/conversations/${fork.id}`, owner), 404, 'not_found');
  assert.ok(!(await myShares(stranger)).some((s) => s.conversation_id === fork.id), 'the fork is shared');
  assert.equal((await getShare(owner, conv.id)).token, share.token, 'the share changed');

  const audit = await auditRow(res);
  assert.equal(audit.action, 'fork');
  assert.equal(audit.entity_type, 'conversation');
  assert.equal(audit.entity_id, fork.id);
  assert.equal(audit.user_id, stranger.id);
  assert.equal(audit.new_values?.share_id, share.id);
  assert.equal(audit.new_values?.conversation?.id, fork.id);
});

test('the owner may fork their own share; a body of {} is accepted; an unknown or revoked token is 404', async () => {
  const { conv, share } = await sharedChat();
  const own = assertJson(await api('POST', `/shares/${share.token}/fork`, { ...owner, body: {} }), 201);
  fx.track(own);
  assert.equal(own.owner, owner.user);
  assert.equal(own.total_messages, 2);
  assertError(await api('POST', `/shares/${share.token}/fork`, { ...owner, body: { title: 'x' } }), 422, 'unknown_field');

  assertError(await api('POST', `/shares/${unissuedToken()}/fork`, stranger), 404, 'not_found');
  assertStatus(await api('DELETE', `/conversations/${conv.id}/share`, owner), 204);
  const count = Number(await sqlValue(`SELECT count(*) FROM conversations WHERE owner_id = :'p1'`, stranger.id));
  assertError(await api('POST', `/shares/${share.token}/fork`, stranger), 404, 'not_found');
  assert.equal(Number(await sqlValue(`SELECT count(*) FROM conversations WHERE owner_id = :'p1'`, stranger.id)), count);
});

test('a share that is not public can be forked by any signed-in user', async () => {
  const { share } = await sharedChat({ is_public: false });
  const fork = assertJson(await api('POST', `/shares/${share.token}/fork`, stranger), 201);
  fx.track(fork);
  assert.equal(fork.total_messages, 2);
});

// --- views and audit ----------------------------------------------------------------

test('every view counts exactly once and is audited as a view of the share, in parallel too', async () => {
  const { conv, share } = await sharedChat();
  const first = await publicPage(share.token);
  assertHtml(first, 200);
  const row = await auditRow(first);
  assert.equal(row.action, 'view');
  assert.equal(row.entity_type, 'share');
  assert.equal(row.entity_id, share.id);
  assert.equal(row.status, 200);
  assert.equal(row.user_id, null, 'an anonymous view is attributed to someone');
  let seen = await settledViews(owner, conv.id, 1);
  assert.equal(seen.view_count, 1);
  assert.notEqual(seen.last_viewed_at, null);

  const N = 12;
  const views = await Promise.all(Array.from({ length: N }, (_, i) =>
    (i % 3 === 2 ? signedInPage(share.token, stranger) : publicPage(share.token, i % 3 === 1 ? { headers: { Accept: 'application/json' } } : {}))));
  for (const res of views) assertStatus(res, 200);
  seen = await settledViews(owner, conv.id, 1 + N);
  assert.equal(seen.view_count, 1 + N, `${N} parallel views did not add ${N}`);
  for (const res of views) {
    const r = await auditRow(res);
    assert.equal(r.action, 'view');
    assert.equal(r.entity_type, 'share');
    assert.equal(r.entity_id, share.id);
  }
  const signedRow = await auditRow(views[2]);
  assert.equal(signedRow.user_id, stranger.id, 'a signed-in view is not attributed to its user');

  const etag = views[0].headers.get('etag');
  const notModified = await publicPage(share.token, { headers: { 'If-None-Match': etag } });
  assertStatus(notModified, 304);
  assert.equal((await auditRow(notModified)).action, 'view');
  assert.equal((await settledViews(owner, conv.id, 2 + N)).view_count, 2 + N, 'a 304 view was not counted');

  assertHtml(await publicPage(oneCharOff(share.token)), 404);
  assertStatus(await api('GET', `/shares/${share.token}`, stranger), 200);
  assert.equal((await settledViews(owner, conv.id, 2 + N)).view_count, 2 + N, 'a miss or an API read counted as a view');
});

test('create, update and revoke are audited with old and new values', async () => {
  const { conv } = await chatted();
  const created = await putShare(owner, conv.id, { is_public: true });
  const share = assertJson(created, 201);
  const c = await auditRow(created);
  assert.equal(c.action, 'create');
  assert.equal(c.entity_type, 'share');
  assert.equal(c.entity_id, share.id);
  assert.equal(c.user_id, owner.id);
  assert.equal(c.status, 201);
  assert.equal(c.old_values, null);
  assert.equal(c.new_values?.id, share.id);
  assert.equal(c.new_values?.conversation_id, conv.id);
  assert.equal(c.new_values?.is_public, true);

  const updated = await putShare(owner, conv.id, { is_public: false, expires_in: 600 });
  assertJson(updated, 200);
  const u = await auditRow(updated);
  assert.equal(u.action, 'update');
  assert.equal(u.entity_id, share.id);
  assert.equal(u.status, 200);
  assert.equal(u.old_values?.is_public, true);
  assert.equal(u.new_values?.is_public, false);
  assert.equal(u.old_values?.expires_at, null);
  assert.notEqual(u.new_values?.expires_at, null);

  const revoked = await api('DELETE', `/conversations/${conv.id}/share`, owner);
  assertStatus(revoked, 204);
  const r = await auditRow(revoked);
  assert.equal(r.action, 'revoke');
  assert.equal(r.entity_type, 'share');
  assert.equal(r.entity_id, share.id);
  assert.equal(r.status, 204);
  assert.equal(r.old_values?.revoked_at, null);
  assert.notEqual(r.new_values?.revoked_at, null);
  for (const row of [c, u, r]) assert.ok(!JSON.stringify(row).includes(share.token), `the ${row.action} row holds the token`);

  const refused = await putShare(stranger, conv.id, {});
  assertError(refused, 404, 'not_found');
  const x = await auditRow(refused);
  assert.equal(x.status, 404);
  assert.equal(x.new_values, null);
});

// --- deleting the conversation --------------------------------------------------------

test('deleting the conversation kills its share for good; restoring it does not bring the link back', () => onOneNode(async () => {
  const { conv, first, share } = await sharedChat();
  await page(share);
  assertStatus(await api('DELETE', `/conversations/${conv.id}`, owner), 204);
  const dead = await publicPage(share.token);
  assertHtml(dead, 404);
  assert.ok(!dead.text.includes(first.user_message.content));
  assertError(await api('GET', `/shares/${share.token}`, stranger), 404, 'not_found');
  assertError(await api('POST', `/shares/${share.token}/fork`, stranger), 404, 'not_found');
  assert.ok(!(await myShares(owner)).some((s) => s.id === share.id), 'the share of a deleted conversation is listed');
  assert.notEqual((await dbShare(share.id)).revoked_at, null, 'the share was not revoked');

  assertError(await putShare(owner, conv.id, {}), 404, 'not_found');
  assert.equal((await dbSharesOf(conv.id)).length, 1, 'a deleted conversation was shared again');
  assertJson(await api('POST', `/conversations/${conv.id}/restore`, owner), 200);
  assertHtml(await publicPage(share.token), 404);
  assertError(await api('GET', `/conversations/${conv.id}/share`, owner), 404, 'not_found');
  assert.ok(!(await myShares(owner)).some((s) => s.id === share.id), 'restoring brought the share back');
  const again = await shareConv(owner, conv.id, {}, 201);
  assert.notEqual(again.token, share.token);
}));

test('a link the server has in memory stops at once when revoked, made private or its conversation deleted, and within seconds when changed outside the server', () => onOneNode(async () => {
  const views = (share) => Promise.all(Array.from({ length: 24 }, () => publicPage(share.token)));
  const warm = async (share) => { for (const res of await views(share)) assertHtml(res, 200); };
  const changes = [
    ['revoked', (conv) => api('DELETE', `/conversations/${conv.id}/share`, owner), 204],
    ['made private', (conv) => putShare(owner, conv.id, { is_public: false }), 200],
    ['deleted with its conversation', (conv) => api('DELETE', `/conversations/${conv.id}`, owner), 204],
  ];
  for (const [what, change, status] of changes) {
    const { conv, share } = await sharedChat();
    await warm(share);
    assertStatus(await change(conv), status);
    for (const res of await views(share)) {
      assert.equal(res.status, 404, `a link ${what} still answered ${res.status}`);
    }
  }

  const { share } = await sharedChat();
  await warm(share);
  await sql(`UPDATE shared_chats SET revoked_at = now() WHERE id = :'p1'`, share.id);
  const later = await poll(() => views(share), (list) => list.every((res) => res.status === 404), { tries: 50, intervalMs: 100 });
  assert.deepEqual([...new Set(later.map((res) => res.status))], [404], 'a link revoked in the database still opens after 5 s');
}));

// --- administration -------------------------------------------------------------------

test('administrators list every live share (without tokens) and revoke any; plain users get 403', () => onOneNode(async () => {
  const { conv, share } = await sharedChat({}, { title: `Admin list ${uniq()}` });
  const list = await api('GET', '/admin/shares', ADMIN);
  const body = assertJson(list, 200);
  const item = body.items.find((s) => s.id === share.id);
  assert.ok(item, 'the new share is not in the admin list');
  assert.equal(item.title, conv.title);
  assert.equal(item.owner, owner.user);
  assert.equal(item.conversation_id, conv.id);
  assert.ok(!('token' in item) && !('url' in item), `the admin list shows the link: ${JSON.stringify(item)}`);
  assert.ok(!list.text.includes(share.token), 'the admin list holds the token');
  assert.ok(body.items.every((s) => s.revoked_at === null), 'the admin list shows revoked shares');

  assertError(await api('GET', '/admin/shares', owner), 403, 'forbidden');
  assertError(await api('DELETE', `/admin/shares/${share.id}`, owner), 403, 'forbidden');
  await page(share);

  const del = await api('DELETE', `/admin/shares/${share.id}`, ADMIN);
  assertStatus(del, 204);
  const row = await auditRow(del);
  assert.equal(row.action, 'revoke');
  assert.equal(row.entity_id, share.id);
  assert.equal(row.username, 'admin');
  assertHtml(await publicPage(share.token), 404);
  assertError(await api('GET', `/conversations/${conv.id}/share`, owner), 404, 'not_found');
  assert.ok(!assertJson(await api('GET', '/admin/shares', ADMIN), 200).items.some((s) => s.id === share.id));
  assertError(await api('DELETE', `/admin/shares/${share.id}`, ADMIN), 404, 'not_found');
  assertError(await api('DELETE', `/admin/shares/${randomUUID()}`, ADMIN), 404, 'not_found');
}));

test('the admin page lists shares with escaped titles and its Revoke form revokes', () => onOneNode(async () => {
  const evil = `<img src=x onerror=alert(7)> ${uniq()}`;
  const { share } = await sharedChat({}, { title: evil });
  const cookie = await sessionCookie('admin', 'admin');

  const listRes = await request('GET', '/chat/admin/shares', { cookie });
  const html = assertHtml(listRes, 200);
  assert.ok(!html.includes(evil), 'the raw title is on the admin page');
  assert.ok(html.includes(evil.replace(/</g, '&lt;').replace(/>/g, '&gt;')), 'the escaped title is not on the admin page');
  assert.ok(html.includes(owner.user), 'the owner is not on the admin page');
  const action = `/chat/admin/shares/${share.id}/revoke`;
  assert.ok(html.includes(`action="${action}"`), 'no Revoke form for the share');
  assert.ok(!html.includes(share.token), 'the admin page holds the token');

  const plain = await sessionCookie(stranger.user, stranger.password);
  assertStatus(await request('GET', '/chat/admin/shares', { cookie: plain }), 403);

  const crossSite = await request('POST', action, { cookie, form: {}, headers: { Origin: 'http://evil.example' } });
  assertStatus(crossSite, 403);
  await page(share);

  const res = await request('POST', action, { cookie, form: {}, headers: { Origin: ORIGIN } });
  assertStatus(res, 303);
  assert.equal(locationPath(res), '/chat/admin/shares');
  assertHtml(await publicPage(share.token), 404);
  assert.notEqual((await dbShare(share.id)).revoked_at, null);
  const after = assertHtml(await request('GET', '/chat/admin/shares', { cookie }), 200);
  assert.ok(!after.includes(action), 'the revoked share is still listed');
  assertStatus(await request('POST', action, { cookie, form: {}, headers: { Origin: ORIGIN } }), 404);
}));

// --- long threads, a page at a time -----------------------------------------------------

const { default: http } = await import('node:http');
const { currentServer } = await import('../lib/http.mjs');

const PAGE_BUDGET = 1024 * 1024; // AIC_SHARE_PAGE_BYTES: message content a share page shows at most

/** A message of about `bytes` ASCII bytes: paragraphs between a start and an end mark of its own. */
function longText(mark, bytes) {
  const para = 'The quick brown fox jumps over the lazy dog while the shared page waits. '.repeat(20).trim();
  const parts = [`${mark}-start`];
  let n = parts[0].length;
  while (n < bytes) {
    parts.push(para);
    n += para.length + 2;
  }
  parts.push(`${mark}-end`);
  return parts.join('\n\n');
}

/** A ChatGPT-format export of one conversation whose messages (question first) are `texts`. */
function chatgptExport(id, title, texts) {
  const mapping = { [`${id}-root`]: { id: `${id}-root`, message: null, parent: null, children: [] } };
  let parent = `${id}-root`;
  texts.forEach((text, i) => {
    const node = `${id}-m${i}`;
    const role = i % 2 ? 'assistant' : 'user';
    mapping[node] = {
      id: node,
      message: {
        id: node, author: { role, name: null, metadata: {} }, create_time: 1718013600 + i, update_time: null,
        content: { content_type: 'text', parts: [text] }, status: 'finished_successfully', end_turn: i % 2 ? true : null,
        weight: 1, metadata: role === 'assistant' ? { model_slug: 'gpt-4o' } : {}, recipient: 'all', channel: null,
      },
      parent,
      children: [],
    };
    mapping[parent].children.push(node);
    parent = node;
  });
  return Buffer.from(JSON.stringify([{
    title, create_time: 1718013600, update_time: 1718013600 + texts.length, mapping, current_node: parent,
    conversation_id: id, id, default_model_slug: 'gpt-4o',
  }]));
}

/** The path and query a link on the page at `from` leads to. */
function follow(from, href) {
  const url = new URL(unescapeHtml(href), `http://page${from}`);
  return url.pathname + url.search;
}

/** GETs on one kept-alive connection, so that one httpd process answers them all: { get(path), close() }. */
function oneConnection(base) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const get = (path) => new Promise((resolve, reject) => {
    const req = http.get(new URL(path, base), { agent }, (res) => {
      const port = res.socket.localPort;
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString('utf8'), port }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
  return { get, close: () => agent.destroy() };
}

test('a long thread is shown a page at a time from its start: every message once, in order, Earlier and Later links, each page in the budget, each kept in memory', () => onOneNode(async () => {
  const user = await fx.user({ prefix: 'shlong' });
  const tag = uniq();
  const title = `Long thread ${tag}`;
  const marks = Array.from({ length: 10 }, (_, i) => `m${tag}x${i}`);
  // Five questions and five answers of ~900 KB: 4.5 MB, several pages.
  const texts = marks.map((m, i) => (i % 2 ? longText(m, 900_000) : `${m}-start Question ${i / 2 + 1}? ${m}-end`));
  const { res: upload, job } = await imported(user, chatgptExport(`long-${tag}`, title, texts), 'long.json');
  assert.equal(upload.status, 202, upload.text);
  assert.equal(job.status, 'done', JSON.stringify(job));
  job.conversations.forEach((c) => fx.track(c));
  const conv = job.conversations[0];
  const stored = await thread(user, conv.id);
  assert.deepEqual(stored.map((m) => m.content), texts, 'the import did not keep the messages as written');
  const share = await shareConv(user, conv.id, { is_public: true });
  assert.equal(share.message_count, 10);
  const sizes = texts.map((t) => Buffer.byteLength(t));
  let views = 0;

  // Follow "Later messages" from the link itself.
  const pages = [];
  for (let path = `/share/${share.token}`; path;) {
    assert.ok(pages.length < 12 && !pages.some((p) => p.path === path), `the Later links go round: ${path}`);
    const res = await request('GET', path);
    views++;
    const html = assertHtml(res, 200);
    pages.push({ path, res, html });
    const later = /<a rel="next" href="([^"]*)">Later messages<\/a>/.exec(html);
    path = later ? follow(path, later[1]) : null;
  }
  assert.ok(pages.length >= 4, `${pages.length} pages for 4.5 MB`);
  const csp = pages[0].res.headers.get('content-security-policy');
  // What each page shows between its head and its footer (the description quotes the first message).
  const mains = pages.map(({ path, html }) => {
    const main = /<main>[\s\S]*<\/main>/.exec(html);
    assert.ok(main, `${path} has no <main>`);
    return main[0];
  });
  const onPage = mains.map((main) => marks.flatMap((m, i) => (main.includes(`${m}-start`) ? [i] : [])));
  assert.deepEqual(onPage.flat(), marks.map((_, i) => i), `not every message once and in order: ${JSON.stringify(onPage)}`);
  const description = `${marks[0]}-start Question 1? ${marks[0]}-end`;
  for (const [k, { path, res, html }] of pages.entries()) {
    const what = `page ${k + 1} (${path})`;
    const shown = onPage[k];
    const bytes = shown.reduce((sum, i) => sum + sizes[i], 0);
    assert.ok(shown.length >= 1, `${what} shows no message`);
    for (const i of shown) assert.ok(mains[k].includes(`${marks[i]}-end`), `${what} shows message ${i} in part`);
    assert.ok(bytes <= PAGE_BUDGET || shown.length === 1, `${what}: ${bytes} bytes in ${shown.length} messages`);
    if (k + 1 < pages.length) {
      assert.ok(bytes + sizes[onPage[k + 1][0]] > PAGE_BUDGET, `${what} could have shown the next message`);
    }
    // The head of the conversation on every page, its description and cards too.
    assert.match(html, new RegExp(`<h1>${title}</h1>`), `${what} lacks the title`);
    assert.match(html, /<p class="meta">[^<]*Shared \d{4}-\d{2}-\d{2}<\/p>/, `${what} lacks the dates`);
    assert.equal(/<header>.*<\/header>/s.exec(html)?.[0], /<header>.*<\/header>/s.exec(pages[0].html)[0], `${what}: another head`);
    assert.equal(unescapeHtml(metaContent(html, 'name', 'description') ?? ''), description, `${what}: description`);
    assert.equal(unescapeHtml(metaContent(html, 'property', 'og:description') ?? ''), description, `${what}: og:description`);
    assert.equal(metaContent(html, 'property', 'og:title'), title);
    assert.ok(html.includes(`<span>Page ${k + 1} of ${pages.length}</span>`), `${what} does not say which page it is`);
    assert.ok(!/<script/i.test(html), `${what} has a script`);
    assert.equal(res.headers.get('content-security-policy'), csp, `${what}: another CSP`);
    const earlier = /<a rel="prev" href="([^"]*)">Earlier messages<\/a>/.exec(html);
    if (k === 0) {
      assert.equal(earlier, null, 'the first page links to an earlier one');
      continue;
    }
    assert.ok(earlier, `${what} has no "Earlier messages" link`);
    assert.equal(follow(path, earlier[1]), pages[k - 1].path, `${what}: "Earlier messages" goes elsewhere`);
    const back = await request('GET', follow(path, earlier[1]));
    views++;
    assert.equal(assertHtml(back, 200), pages[k - 1].html, `${what}: "Earlier messages" shows another page`);
  }
  assert.equal(pages[0].path, `/share/${share.token}`);
  assert.equal(pages[1].path, `/share/${share.token}?page=2`);
  assert.notEqual(pages[1].res.headers.get('etag'), pages[0].res.headers.get('etag'), 'two pages, one ETag');

  // Page 1 under its number, or with parameters the link gained on the way.
  for (const q of ['?page=1', '?utm_source=feed&ref=x']) {
    views++;
    assert.equal(assertHtml(await request('GET', `/share/${share.token}${q}`), 200), pages[0].html, `${q} is not page 1`);
  }
  // A page past the end, or no page number: a 404 that leads to the start.
  for (const q of [`?page=${pages.length + 1}`, '?page=999999999', '?page=0', '?page=01', '?page=-1', '?page=two', '?page=', '?page', '?page=2&page=2', '?page=1e2']) {
    const res = await request('GET', `/share/${share.token}${q}`);
    const html = assertHtml(res, 404);
    assert.match(html, /This page does not exist/, q);
    assert.ok(html.includes(`<a href="./${share.token}">`), `${q}: no link to the start`);
    assert.equal(res.headers.get('etag'), null, `${q}: a 404 with an ETag`);
  }
  // An unknown link with a page is the links' one 404.
  assert.match(assertHtml(await publicPage(`${oneCharOff(share.token)}?page=2`), 404), /This link does not exist/);

  // The JSON stays whole.
  const json = await publicPage(share.token, { headers: { Accept: 'application/json' } });
  views++;
  assertStatus(json, 200);
  assert.deepEqual(json.json.messages.map((m) => m.content), texts, 'the JSON is not the whole thread');
  assert.deepEqual(assertJson(await api('GET', `/shares/${share.token}`, user), 200), json.json);

  // Every page asked for is a view (a 304 too), audited with its page; a page that is not there is none.
  const notModified = await request('GET', pages[1].path, { headers: { 'If-None-Match': pages[1].res.headers.get('etag') } });
  views++;
  assertStatus(notModified, 304);
  const row = await auditRow(pages[1].res);
  assert.equal(row.action, 'view');
  assert.equal(row.entity_id, share.id);
  assert.equal(row.uri, '/share/{token}?page=2');
  assert.equal((await settledViews(user, conv.id, views)).view_count, views);

  // A page is read and rendered once per process: changed under it in the
  // database (the share's version stays), it is still served from memory.
  const conn = oneConnection(currentServer());
  try {
    const first = await conn.get(pages[1].path);
    assert.equal(first.status, 200);
    assert.equal(first.text, pages[1].html);
    const changed = stored[onPage[1][0]].id;
    assert.equal(await sqlValue(`UPDATE messages SET content = 'changed' WHERE id = :'p1' RETURNING 1`, changed), '1');
    const again = await conn.get(pages[1].path);
    assert.equal(again.port, first.port, 'the second request went on another connection');
    assert.equal(again.status, 200);
    assert.equal(again.text, pages[1].html, 'the page was read and rendered again');
    // A change to the share makes a new version, read and rendered anew: the
    // shortened message now fits on the first page.
    await shareConv(user, conv.id, { indexable: true }, 200);
    const fresh = await conn.get(`/share/${share.token}`);
    assert.equal(fresh.status, 200);
    assert.ok(fresh.text.includes('<p>changed</p>'), 'a new version of the share still shows the old page');
  } finally {
    conn.close();
  }
}));
