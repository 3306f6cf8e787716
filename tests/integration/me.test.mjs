// GET and PATCH /chat/api/v1/me: the signed-in user's own profile.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { api } from '../lib/http.mjs';
import { sql, dbUser } from '../lib/db.mjs';
import { assertError, assertJson, assertUserShape } from '../lib/assert.mjs';
import { DEMO, ADMIN, uniq } from '../lib/users.mjs';

let demoBefore;

before(async () => {
  demoBefore = await dbUser('demo');
  assert.ok(demoBefore, 'the seed user demo is missing from the database');
});

after(async () => {
  await sql(
    `UPDATE users SET display_name = :'p1', email = :'p2' WHERE username = 'demo'`,
    'Demo User',
    'demo@example.com',
  );
});

function patchMe(body) {
  return api('PATCH', '/me', { ...DEMO, body });
}

test('GET /me returns the signed-in user', async () => {
  const me = assertJson(await api('GET', '/me', DEMO), 200);
  assertUserShape(me, '/me');
  const row = await dbUser('demo');
  assert.equal(me.id, row.id);
  assert.equal(me.username, 'demo');
  assert.equal(me.display_name, 'Demo User');
  assert.equal(me.email, 'demo@example.com');
  assert.equal(me.role, 'user');
  assert.equal(me.is_active, true);
  assert.equal(me.token_credits, row.token_credits);
});

test('GET /me as the administrator says role admin', async () => {
  const me = assertJson(await api('GET', '/me', ADMIN), 200);
  assertUserShape(me, '/me');
  assert.equal(me.username, 'admin');
  assert.equal(me.display_name, 'Administrator');
  assert.equal(me.role, 'admin');
});

test('PATCH /me renames the user, trimming the name, and GET /me shows it', async () => {
  const name = `Demo Renamed ${uniq()}`;
  const updated = assertJson(await patchMe({ display_name: `  ${name}  ` }), 200);
  assertUserShape(updated, 'PATCH /me');
  assert.equal(updated.display_name, name);
  assert.equal(updated.email, 'demo@example.com', 'a field not sent must not change');

  const me = assertJson(await api('GET', '/me', DEMO), 200);
  assert.equal(me.display_name, name);
  assert.equal((await dbUser('demo')).display_name, name);
});

test('PATCH /me sets and clears the email', async () => {
  const email = `demo+${uniq()}@example.com`;
  assert.equal(assertJson(await patchMe({ email }), 200).email, email);
  assert.equal((await dbUser('demo')).email, email);

  assert.equal(assertJson(await patchMe({ email: null }), 200).email, null);
  assert.equal((await dbUser('demo')).email, null);

  assert.equal(assertJson(await patchMe({ email: 'demo@example.com' }), 200).email, 'demo@example.com');
});

test('PATCH /me with {} changes nothing', async () => {
  const stored = await dbUser('demo');
  const updated = assertJson(await patchMe({}), 200);
  assert.equal(updated.display_name, stored.display_name);
  assert.equal(updated.email, stored.email);
  assert.deepEqual(await dbUser('demo'), stored);
});

test('a display name may be 100 characters, counted as characters not bytes', async () => {
  const name = 'é'.repeat(100); // 200 bytes in UTF-8
  assert.equal(assertJson(await patchMe({ display_name: name }), 200).display_name, name);
  assert.equal((await dbUser('demo')).display_name, name);

  const stored = await dbUser('demo');
  assertError(await patchMe({ display_name: 'é'.repeat(101) }), 422, 'invalid_field', 'display_name');
  assert.deepEqual(await dbUser('demo'), stored);
});

const BAD_DISPLAY_NAMES = [
  ['an empty string', ''],
  ['only spaces', '    '],
  ['a bell character', 'a\u0007b'],
  ['a newline', 'line\nbreak'],
  ['a tab', 'a\tb'],
  ['a NUL character', 'a\u0000b'],
  ['DEL', 'a\u007fb'],
  ['a number', 42],
  ['null', null],
  ['a boolean', true],
  ['an array', ['Demo']],
  ['an object', { name: 'Demo' }],
];

for (const [what, value] of BAD_DISPLAY_NAMES) {
  test(`a display name that is ${what} is refused and nothing changes`, async () => {
    const stored = await dbUser('demo');
    assertError(await patchMe({ display_name: value }), 422, 'invalid_field', 'display_name');
    assert.deepEqual(await dbUser('demo'), stored);
  });
}

test('an email of 254 characters is accepted', async () => {
  // 64-character local part, 189-character domain of labels of at most 63.
  const email = `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(57)}.com`;
  assert.equal(email.length, 254);
  assert.equal(assertJson(await patchMe({ email }), 200).email, email);
  assert.equal((await dbUser('demo')).email, email);
  assertJson(await patchMe({ email: 'demo@example.com' }), 200);
});

const BAD_EMAILS = [
  ['not an address', 'not-an-email'],
  ['missing the domain', 'demo@'],
  ['missing the local part', '@example.com'],
  ['carrying a header injection', 'demo@example.com\r\nBcc: victim@example.com'],
  ['255 characters long', `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(58)}.com`],
  ['a number', 5],
  ['an object', { address: 'demo@example.com' }],
];

for (const [what, value] of BAD_EMAILS) {
  test(`an email ${what} is refused and nothing changes`, async () => {
    const stored = await dbUser('demo');
    assertError(await patchMe({ email: value }), 422, 'invalid_field', 'email');
    assert.deepEqual(await dbUser('demo'), stored);
  });
}

const UNKNOWN_FIELDS = [
  ['role', 'admin'],
  ['token_credits', 999999],
  ['is_active', true],
  ['username', 'someone-else'],
  ['password_hash', 'x'],
];

for (const [field, value] of UNKNOWN_FIELDS) {
  test(`PATCH /me cannot set ${field}`, async () => {
    const stored = await dbUser('demo');
    assertError(await patchMe({ [field]: value }), 422, 'unknown_field', field);
    assert.deepEqual(await dbUser('demo'), stored);
  });
}

test('one invalid field means no field is changed', async () => {
  const stored = await dbUser('demo');
  const res = await patchMe({ display_name: `Valid Name ${uniq()}`, email: 'not-an-email' });
  assertError(res, 422, 'invalid_field', 'email');
  assert.deepEqual(await dbUser('demo'), stored);

  const res2 = await patchMe({ display_name: `Valid Name ${uniq()}`, role: 'admin' });
  assertError(res2, 422, 'unknown_field', 'role');
  assert.deepEqual(await dbUser('demo'), stored);
});
