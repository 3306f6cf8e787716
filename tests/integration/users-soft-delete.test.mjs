// Users deleted softly by an administrator: the account is refused (a new
// sign-in and every request), what it made is kept and hidden from others
// (its share links stop, its public templates leave the gallery), a restore
// brings everything back; every change is audited; an administrator cannot
// delete their own account. And last_login_at is kept up to date.
// The tests run on one node (onOneNode): a change shows at once in every
// process of the httpd that made it, on other nodes within a second.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { api, formLogin, request, sessionCookie } from '../lib/http.mjs';
import { ORIGIN } from '../lib/env.mjs';
import { dbUser, sql, sqlValue } from '../lib/db.mjs';
import { assertError, assertJson, assertStatus, assertUserShape } from '../lib/assert.mjs';
import { auditRow } from '../lib/audit.mjs';
import { ChatFixture, say, sendMessage } from '../lib/chat.mjs';
import { onOneNode } from '../lib/nodes.mjs';
import { ADMIN, DEMO, createUser } from '../lib/users.mjs';
import { publicPage, shareConv } from '../lib/share.mjs';
import { createPrompt, createTemplate, templateBody } from '../lib/prompts.mjs';

const fx = new ChatFixture('usd');
let model;

before(async () => {
  model = await fx.model();
});

after(async () => {
  await fx.cleanup();
});

const remove = (id, auth = ADMIN) => api('DELETE', `/admin/users/${id}`, auth);
const restore = (id, auth = ADMIN) => api('POST', `/admin/users/${id}/restore`, auth);

test('a deleted user is refused everywhere; their content is hidden from others and comes back when restored', () =>
  onOneNode(async () => {
    const user = await fx.user({ prefix: 'usdel' });
    const cookie = await sessionCookie(user.user, user.password);
    const conv = await fx.conversation(user, [model]);
    await say(user, conv.id, 'to be shared');
    const share = await shareConv(user, conv.id);
    const tmpl = await createTemplate(user, templateBody(fx.tag, { is_public: true, category: `usd-${fx.tag}` }));
    const prompt = await createPrompt(user, { title: 'Kept', text: 'kept text' });
    const gallery = async () =>
      assertJson(await api('GET', `/templates/gallery?category=usd-${fx.tag}`, DEMO), 200).items.map((t) => t.id);
    assertStatus(await publicPage(share.token), 200);
    assert.deepEqual(await gallery(), [tmpl.id]);

    const res = await remove(user.id);
    const deleted = assertJson(res, 200);
    assertUserShape(deleted);
    assert.ok(deleted.deleted_at, 'no deleted_at in the answer');
    const row = await auditRow(res);
    assert.equal(row.entity_type, 'user');
    assert.equal(row.entity_id, user.id);
    assert.equal(row.old_values.deleted_at, null);
    assert.ok(row.new_values.deleted_at);

    assertError(await api('GET', '/me', user), 403, 'user_disabled');
    assertError(await api('GET', '/me', { cookie }), 403, 'user_disabled');
    assertError(await api('GET', '/prompts', user), 403, 'user_disabled');
    assertStatus(await publicPage(share.token), 404);
    assert.deepEqual(await gallery(), []);
    assertError(await api('GET', `/templates/${tmpl.id}`, DEMO), 404, 'not_found');
    assertError(await api('POST', `/templates/${tmpl.id}/use`, { ...DEMO, body: { values: { topic: 'x' } } }), 404, 'not_found');
    assert.equal(await sqlValue(`SELECT count(*) FROM conversations WHERE id = :'p1'`, conv.id), '1', 'the conversation was removed');

    const restored = await restore(user.id);
    const back = assertJson(restored, 200);
    assert.equal(back.deleted_at, null);
    const undo = await auditRow(restored);
    assert.equal(undo.entity_type, 'user');
    assert.equal(undo.entity_id, user.id);
    assert.equal(undo.old_values.deleted_at, deleted.deleted_at);
    assert.equal(undo.new_values.deleted_at, null);
    assert.equal(assertJson(await api('GET', '/me', user), 200).username, user.user);
    assertStatus(await publicPage(share.token), 200);
    assert.deepEqual(await gallery(), [tmpl.id]);
    assert.equal(assertJson(await api('GET', `/prompts/${prompt.id}`, user), 200).text, 'kept text');
    assert.equal((await api('GET', `/conversations/${conv.id}/messages`, user)).json.items.length, 2);
  }));

// Every way another participant reaches a conversation: while its owner is
// deleted each answers 404, as for a conversation that does not exist.
const MEMBER_PATHS = {
  'GET /conversations/{id}': (auth, c) => api('GET', `/conversations/${c.conv.id}`, auth),
  'PATCH /conversations/{id}': (auth, c) => api('PATCH', `/conversations/${c.conv.id}`, { ...auth, body: { title: 'Taken' } }),
  'GET /conversations/{id}/messages': (auth, c) => api('GET', `/conversations/${c.conv.id}/messages`, auth),
  'POST /conversations/{id}/messages': (auth, c) => sendMessage(auth, c.conv.id, { content: 'anyone there?' }),
  'POST /conversations/{id}/messages (streamed)': (auth, c) =>
    api('POST', `/conversations/${c.conv.id}/messages`, { ...auth, body: { content: 'anyone?', stream: true }, headers: { Accept: 'text/event-stream' } }),
  'PUT /conversations/{id}/active': (auth, c) => api('PUT', `/conversations/${c.conv.id}/active`, { ...auth, body: { message_id: c.answerId } }),
  'POST /messages/{id}/regenerate': (auth, c) => api('POST', `/messages/${c.answerId}/regenerate`, { ...auth, body: {} }),
  'GET /conversations/{id}/export': (auth, c) => api('GET', `/conversations/${c.conv.id}/export?format=json`, auth),
  'GET /conversations/{id}/share': (auth, c) => api('GET', `/conversations/${c.conv.id}/share`, auth),
  'PUT /conversations/{id}/tags/{tag_id}': (auth, c) => api('PUT', `/conversations/${c.conv.id}/tags/${c.tagId}`, auth),
  'GET /conversations/{id}/annotations': (auth, c) => api('GET', `/conversations/${c.conv.id}/annotations`, auth),
  'POST /conversations/{id}/annotations': (auth, c) =>
    api('POST', `/conversations/${c.conv.id}/annotations`, { ...auth, body: { message_id: c.answerId, position: { start: 0, end: 4, quote: 'Mock' }, note: 'n' } }),
  'GET /conversations/{id}/versions': (auth, c) => api('GET', `/conversations/${c.conv.id}/versions`, auth),
  'GET /prompts?conversation_id=': (auth, c) => api('GET', `/prompts?conversation_id=${c.conv.id}`, auth),
  'POST /templates/{id}/use with the conversation': (auth, c) =>
    api('POST', `/templates/${c.templateId}/use`, { ...auth, body: { values: { topic: 'owls' }, conversation_id: c.conv.id } }),
};

test('a deleted user\'s group chat is hidden from its other participants, everywhere, until restored', async () => {
  const [owner, guest] = await Promise.all([fx.user({ prefix: 'usdgo' }), fx.user({ prefix: 'usdgg' })]);
  const word = `zq${fx.tag}owls`;
  const conv = await fx.conversation(owner, [model], { title: `Group ${fx.tag}` });
  const first = await say(owner, conv.id, `the group talks about ${word}`);
  assertJson(await api('POST', `/conversations/${conv.id}/participants`, { ...owner, body: { username: guest.user } }), 200);
  const tag = assertJson(await api('POST', '/tags', { ...guest, body: { name: `usd ${fx.tag}` } }), 201);
  const template = await createTemplate(guest, templateBody(fx.tag));
  const c = { conv, answerId: first.answers[0].id, tagId: tag.id, templateId: template.id };
  const listed = async () => assertJson(await api('GET', '/conversations?limit=100', guest), 200).items.map((x) => x.id);
  const found = async () => assertJson(await api('GET', `/search?q=${word}`, guest), 200).items.map((x) => x.conversation_id);
  assert.ok((await listed()).includes(conv.id), 'the participant does not list the group chat');
  assert.ok((await found()).includes(conv.id), 'the participant does not find the group chat');
  assertJson(await api('GET', `/conversations/${conv.id}`, guest), 200);
  const messages = await sqlValue(`SELECT count(*) FROM messages WHERE conversation_id = :'p1'`, conv.id);

  assertJson(await remove(owner.id), 200);
  assert.ok(!(await listed()).includes(conv.id), 'the group chat of a deleted owner is still listed');
  assert.ok(!(await found()).includes(conv.id), 'the group chat of a deleted owner is still found by search');
  const bulk = await api('POST', '/conversations/bulk', { ...guest, body: { action: 'tag', ids: [conv.id], tag_id: tag.id } });
  assert.equal(bulk.status, 404, `a bulk tag reached it: ${bulk.text}`);
  for (const [name, call] of Object.entries(MEMBER_PATHS)) {
    const res = await call(guest, c);
    assert.equal(res.status, 404, `${name} answered ${res.status} while the owner is deleted: ${res.text.slice(0, 300)}`);
  }
  assert.equal(await sqlValue(`SELECT count(*) FROM messages WHERE conversation_id = :'p1'`, conv.id), messages, 'a message was added');
  assert.equal(await sqlValue(`SELECT count(*) FROM conversation_tags WHERE conversation_id = :'p1'`, conv.id), '0', 'a tag was put on it');
  assert.equal(await sqlValue(`SELECT title FROM conversations WHERE id = :'p1'`, conv.id), `Group ${fx.tag}`);

  assertJson(await restore(owner.id), 200);
  assert.ok((await listed()).includes(conv.id), 'the restored owner\'s group chat is not listed again');
  assert.ok((await found()).includes(conv.id), 'the restored owner\'s group chat is not found again');
  assert.equal(assertJson(await api('GET', `/conversations/${conv.id}`, guest), 200).owner, owner.user);
  assertJson(await api('GET', `/conversations/${conv.id}/export?format=json`, guest), 200);
  const sent = await say(guest, conv.id, 'back again');
  assert.equal(sent.user_message.content, 'back again');
});

test('a deleted user cannot sign in', () =>
  onOneNode(async () => {
    const user = await createUser({ prefix: 'usdsign' });
    assertJson(await remove(user.id), 200);
    const { res, cookie } = await formLogin(user.user, user.password);
    if ([302, 303].includes(res.status)) {
      assert.doesNotMatch(res.headers.get('location') ?? '', /\/chat\/$/, 'a deleted user was sent on to /chat/');
    }
    assertError(await api('GET', '/me', { cookie }), 401, 'unauthenticated');
    assertError(await api('GET', '/me', user), 401, 'unauthenticated');
    assertJson(await restore(user.id), 200);
    assert.notEqual(await sessionCookie(user.user, user.password), '');
  }));

test('deleting twice is the same as once; restoring a live account changes nothing', async () => {
  const user = await createUser({ prefix: 'usdtwice' });
  const first = assertJson(await remove(user.id), 200).deleted_at;
  assert.equal(assertJson(await remove(user.id), 200).deleted_at, first);
  assertJson(await restore(user.id), 200);
  assert.equal(assertJson(await restore(user.id), 200).deleted_at, null);
});

test('an administrator cannot delete their own account; others may not delete at all', async () => {
  const adminId = (await dbUser('admin')).id;
  assertError(await remove(adminId), 409, 'cannot_change_self');
  const user = await createUser({ prefix: 'usdself' });
  assertError(await remove(user.id, DEMO), 403, 'forbidden');
  assertError(await restore(user.id, DEMO), 403, 'forbidden');
  assert.equal((await sqlValue(`SELECT deleted_at FROM users WHERE id = :'p1'`, user.id)), null);
  assertError(await remove(randomUUID()), 404, 'not_found');
  assertError(await remove('not-a-uuid'), 404, 'not_found');
});

test('the admin page lists a deleted user as deleted and deletes and restores from its forms', () =>
  onOneNode(async () => {
    const user = await createUser({ prefix: 'usdpage' });
    const cookie = await sessionCookie('admin', 'admin');
    const post = (action) => request('POST', `/chat/admin/users/${user.id}`, { cookie, form: { action }, headers: { Origin: ORIGIN } });
    const gone = await post('delete');
    assertStatus(gone, 303);
    assert.notEqual(await sqlValue(`SELECT deleted_at FROM users WHERE id = :'p1'`, user.id), null);
    const row = await auditRow(gone);
    assert.equal(row.entity_type, 'user');
    assert.equal(row.entity_id, user.id);
    assert.equal(row.old_values.deleted_at, null);
    assert.ok(row.new_values.deleted_at, 'the page\'s delete audited no deleted_at');
    const page = await request('GET', `/chat/admin/users?q=${user.user}`, { cookie });
    assert.match(page.text, /<td>deleted<\/td>/);
    assert.match(page.text, /value="restore"/);
    const back = await post('restore');
    assertStatus(back, 303);
    assert.equal(await sqlValue(`SELECT deleted_at FROM users WHERE id = :'p1'`, user.id), null);
    const undo = await auditRow(back);
    assert.equal(undo.entity_id, user.id);
    assert.ok(undo.old_values.deleted_at, 'the page\'s restore audited no old deleted_at');
    assert.equal(undo.new_values.deleted_at, null);
  }));

test('last_login_at is kept up to date', () =>
  onOneNode(async () => {
    const user = await createUser({ prefix: 'usdseen' });
    await sql(`UPDATE users SET last_login_at = now() - interval '3 hours' WHERE id = :'p1'`, user.id);
    // The process remembers a user it read for a second.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    assertJson(await api('GET', '/me', user), 200);
    const age = await sqlValue(`SELECT extract(epoch FROM now() - last_login_at) FROM users WHERE id = :'p1'`, user.id);
    assert.ok(Number(age) < 60, `last_login_at is ${age} s old`);
  }));

test('last_login_at is set by a sign-in with the form', () =>
  onOneNode(async () => {
    const user = await createUser({ prefix: 'usdform' });
    await sql(`UPDATE users SET last_login_at = now() - interval '3 hours' WHERE id = :'p1'`, user.id);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const cookie = await sessionCookie(user.user, user.password);
    assertJson(await api('GET', '/me', { cookie }), 200);
    const age = await sqlValue(`SELECT extract(epoch FROM now() - last_login_at) FROM users WHERE id = :'p1'`, user.id);
    assert.ok(Number(age) < 60, `last_login_at is ${age} s old after a sign-in`);
  }));
