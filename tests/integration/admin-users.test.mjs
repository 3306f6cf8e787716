// The admin JSON API for users: list and search with keyset pagination,
// enable/disable and change roles. (Who may call it is in auth.test.mjs.)

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { api } from '../lib/http.mjs';
import { sqlValue, dbUser } from '../lib/db.mjs';
import { assertError, assertJson, assertUserShape } from '../lib/assert.mjs';
import { ADMIN, createUser, uniq } from '../lib/users.mjs';

let target; // a fresh user this file changes, so the seed users stay as they are
let tag;    // a unique word in target's display name and email

before(async () => {
  tag = `quokka${uniq()}`;
  target = await createUser({
    prefix: 'adminapi',
    displayName: `Zebra ${tag}`,
    email: `${tag}@example.org`,
  });
});

async function listUsers(query) {
  const body = assertJson(await api('GET', `/admin/users${query}`, ADMIN), 200);
  assert.ok(Array.isArray(body.items), `items is not an array: ${JSON.stringify(body)}`);
  assert.ok('next' in body, `no "next" in ${JSON.stringify(body)}`);
  assert.ok(body.next === null || typeof body.next === 'string', `next: ${JSON.stringify(body.next)}`);
  for (const user of body.items) assertUserShape(user, 'listed user');
  return body;
}

function patchUser(id, body) {
  return api('PATCH', `/admin/users/${id}`, { ...ADMIN, body });
}

test('the list shows users with their details', async () => {
  const { items } = await listUsers('?q=demo');
  const demo = items.find((user) => user.username === 'demo');
  assert.ok(demo, `demo is not in ${JSON.stringify(items.map((u) => u.username))}`);
  assert.equal(demo.display_name, 'Demo User');
  assert.equal(demo.email, 'demo@example.com');
  assert.equal(demo.role, 'user');
  assert.equal(demo.id, (await dbUser('demo')).id);
});

test('q searches the username', async () => {
  const { items } = await listUsers(`?q=${encodeURIComponent(target.user)}`);
  assert.deepEqual(items.map((u) => u.username), [target.user]);
});

test('q searches the display name', async () => {
  const { items } = await listUsers(`?q=${encodeURIComponent(`Zebra ${tag}`)}`);
  assert.deepEqual(items.map((u) => u.username), [target.user]);
});

test('q searches the email', async () => {
  const { items } = await listUsers(`?q=${encodeURIComponent(`${tag}@example.org`)}`);
  assert.deepEqual(items.map((u) => u.username), [target.user]);
});

test('every result of a search matches it', async () => {
  const { items } = await listUsers('?q=demo');
  for (const user of items) {
    const text = [user.username, user.display_name, user.email].join(' ').toLowerCase();
    assert.ok(text.includes('demo'), `${user.username} does not match "demo"`);
  }
});

test('a search without matches is an empty last page', async () => {
  const page = await listUsers(`?q=no-such-user-${uniq()}`);
  assert.deepEqual(page.items, []);
  assert.equal(page.next, null);
});

test('LIKE wildcards in q are searched for literally', async () => {
  for (const q of ['%', '_', '\\']) {
    const { items } = await listUsers(`?q=${encodeURIComponent(q)}`);
    for (const user of items) {
      const text = [user.username, user.display_name, user.email].join(' ');
      assert.ok(text.includes(q), `q=${q} matched ${user.username}, which does not contain it`);
    }
  }
});

test('limit and after page through every user exactly once', async () => {
  const total = Number(await sqlValue('SELECT count(*) FROM users'));
  const first = await listUsers('?limit=1');
  assert.equal(first.items.length, 1);
  if (total > 1) assert.equal(typeof first.next, 'string', 'a full page with more users after it needs a next cursor');

  const seen = [];
  let next = null;
  let pages = 0;
  do {
    const page = await listUsers(`?limit=2${next === null ? '' : `&after=${encodeURIComponent(next)}`}`);
    assert.ok(page.items.length <= 2, `limit=2 returned ${page.items.length} items`);
    seen.push(...page.items.map((u) => u.id));
    next = page.next;
    pages += 1;
  } while (next !== null && pages <= total + 1);

  assert.equal(next, null, 'pagination did not end');
  assert.equal(new Set(seen).size, seen.length, 'a user appeared on two pages');
  assert.equal(seen.length, total, 'pagination skipped users');
  assert.ok(seen.includes(target.id));
});

test('a limit that is not a positive number is 422', async () => {
  for (const limit of ['abc', '0', '-1']) {
    const res = await api('GET', `/admin/users?limit=${limit}`, ADMIN);
    assertError(res, 422, 'invalid_field', 'limit');
  }
});

test('a cursor that was not issued by the server is 422', async () => {
  const res = await api('GET', `/admin/users?after=${encodeURIComponent("x' OR '1'='1")}`, ADMIN);
  assertError(res, 422, 'invalid_field', 'after');
});

test('an administrator disables and re-enables a user', async () => {
  const off = assertJson(await patchUser(target.id, { is_active: false }), 200);
  assertUserShape(off, 'PATCH result');
  assert.equal(off.id, target.id);
  assert.equal(off.is_active, false);
  assert.equal((await dbUser(target.user)).is_active, false);

  const on = assertJson(await patchUser(target.id, { is_active: true }), 200);
  assert.equal(on.is_active, true);
  assert.equal((await dbUser(target.user)).is_active, true);
});

test('an administrator promotes and demotes a user', async () => {
  assert.equal(assertJson(await patchUser(target.id, { role: 'admin' }), 200).role, 'admin');
  assert.equal((await dbUser(target.user)).role, 'admin');
  assert.equal(assertJson(await patchUser(target.id, { role: 'user' }), 200).role, 'user');
  assert.equal((await dbUser(target.user)).role, 'user');
});

test('an empty PATCH changes nothing', async () => {
  const stored = await dbUser(target.user);
  const res = assertJson(await patchUser(target.id, {}), 200);
  assert.equal(res.is_active, stored.is_active);
  assert.equal(res.role, stored.role);
  assert.deepEqual(await dbUser(target.user), stored);
});

const BAD_PATCHES = [
  ['an unknown role', { role: 'root' }, 422, 'invalid_field', 'role'],
  ['a role that is not a string', { role: 1 }, 422, 'invalid_field', 'role'],
  ['is_active as a string', { is_active: 'false' }, 422, 'invalid_field', 'is_active'],
  ['is_active as null', { is_active: null }, 422, 'invalid_field', 'is_active'],
  ['a valid and an invalid field', { is_active: false, role: 'root' }, 422, 'invalid_field', 'role'],
  ['a password hash', { password_hash: 'x' }, 422, 'unknown_field', 'password_hash'],
];

for (const [what, body, status, code, field] of BAD_PATCHES) {
  test(`a PATCH with ${what} is refused and changes nothing`, async () => {
    const stored = await dbUser(target.user);
    assertError(await patchUser(target.id, body), status, code, field);
    assert.deepEqual(await dbUser(target.user), stored);
  });
}

test('an unknown user id is 404', async () => {
  assertError(await patchUser(randomUUID(), { is_active: false }), 404, 'not_found');
});

test('an id that is not a UUID is 404', async () => {
  assertError(await patchUser('not-a-uuid', { is_active: false }), 404, 'not_found');
  assertError(await patchUser("1' OR '1'='1", { is_active: false }), 404, 'not_found');
});
