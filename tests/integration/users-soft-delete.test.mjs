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
import { ChatFixture, say } from '../lib/chat.mjs';
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

    const back = assertJson(await restore(user.id), 200);
    assert.equal(back.deleted_at, null);
    assert.equal(assertJson(await api('GET', '/me', user), 200).username, user.user);
    assertStatus(await publicPage(share.token), 200);
    assert.deepEqual(await gallery(), [tmpl.id]);
    assert.equal(assertJson(await api('GET', `/prompts/${prompt.id}`, user), 200).text, 'kept text');
    assert.equal((await api('GET', `/conversations/${conv.id}/messages`, user)).json.items.length, 2);
  }));

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
    assertStatus(await post('delete'), 303);
    assert.notEqual(await sqlValue(`SELECT deleted_at FROM users WHERE id = :'p1'`, user.id), null);
    const page = await request('GET', `/chat/admin/users?q=${user.user}`, { cookie });
    assert.match(page.text, /<td>deleted<\/td>/);
    assert.match(page.text, /value="restore"/);
    assertStatus(await post('restore'), 303);
    assert.equal(await sqlValue(`SELECT deleted_at FROM users WHERE id = :'p1'`, user.id), null);
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
