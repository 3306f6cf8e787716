// GET and PATCH /chat/api/v1/me: the signed-in user's own profile; GET
// /me/credits: their credit ledger, a page at a time.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { api } from '../lib/http.mjs';
import { sql, sqlJson, dbUser } from '../lib/db.mjs';
import { assertError, assertJson, assertUserShape } from '../lib/assert.mjs';
import { DEMO, ADMIN, createUser, uniq } from '../lib/users.mjs';

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

test('GET /me/credits pages through my ledger, newest first, and nobody else\'s', async () => {
  const user = await createUser({ prefix: 'ledger' });
  const other = await createUser({ prefix: 'ledger' });
  for (let i = 1; i <= 5; i++) {
    assertJson(await api('POST', `/admin/users/${user.id}/credits`, { ...ADMIN, body: { amount: i, note: `grant ${i} <b>` } }), 200);
  }
  assertJson(await api('POST', `/admin/users/${other.id}/credits`, { ...ADMIN, body: { amount: 7 } }), 200);
  const rows = await sqlJson(
    `SELECT id, reason, delta, balance_after, note FROM credit_ledger WHERE user_id = :'p1' ORDER BY id DESC`, user.id);
  assert.ok(rows.length >= 5);

  const seen = [];
  let after = '';
  let pages = 0;
  do {
    const page = assertJson(await api('GET', `/me/credits?limit=2${after ? `&after=${after}` : ''}`, user), 200);
    assert.ok(page.items.length <= 2);
    seen.push(...page.items);
    after = page.next;
    pages++;
    if (after) assert.equal(page.items.length, 2, 'a page short of its limit has a next');
  } while (after && pages < 10);
  assert.equal(pages, Math.ceil(rows.length / 2) + (rows.length % 2 === 0 ? 1 : 0));
  assert.deepEqual(seen.map((r) => [Number(r.id), r.reason, r.delta, r.balance_after, r.note]),
    rows.map((r) => [Number(r.id), r.reason, Number(r.delta), Number(r.balance_after), r.note]));
  assert.equal(seen[0].note, 'grant 5 <b>');
  assert.equal(seen[0].balance_after, (assertJson(await api('GET', '/me', user), 200)).token_credits);
  for (const r of seen) {
    assert.ok(Date.parse(r.created_at) > 0, `created_at ${r.created_at}`);
    assert.equal(r.message_id, null);
    assert.equal(r.conversation_id, null);
  }
  // The default page is 20; another user sees only their own row.
  assert.equal(assertJson(await api('GET', '/me/credits', user), 200).items.length, Math.min(rows.length, 20));
  const others = assertJson(await api('GET', '/me/credits', other), 200);
  assert.ok(others.items.length >= 1 && others.items.every((r) => !seen.some((m) => m.id === r.id)));
  assert.equal(others.items[0].delta, 7);
  assert.equal(others.next, null);
});

test('GET /me/credits refuses a cursor not of this list and a bad limit with 422', async () => {
  const hex = (text) => Buffer.from(text, 'utf8').toString('hex');
  const keysCursor = hex(`k|2026-01-01T00:00:00.000000Z|${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}`);
  for (const after of ['zz', 'ABC', hex('l|abc'), hex('l|0'), hex('l|-1'), hex('j|1'), keysCursor, hex(`l|${'9'.repeat(19)}`)]) {
    assertError(await api('GET', `/me/credits?after=${after}`, DEMO), 422, 'invalid_field', 'after');
  }
  for (const limit of ['0', '101', 'x', '-1']) {
    assertError(await api('GET', `/me/credits?limit=${limit}`, DEMO), 422, 'invalid_field', 'limit');
  }
  // A well-formed cursor past any row: an empty page.
  const empty = assertJson(await api('GET', `/me/credits?after=${hex('l|1')}`, DEMO), 200);
  assert.deepEqual(empty, { items: [], next: null });
});
