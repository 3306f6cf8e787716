// Conversations: create (validated, audited, popularity counted once per
// conversation even under concurrency), list (keyset pages, newest activity
// first, filters), read, rename/pin/archive, soft delete and restore;
// participants may read but not change; everybody else gets 404 on every
// route, so nothing leaks.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { api } from '../lib/http.mjs';
import { sqlValue } from '../lib/db.mjs';
import { auditRow } from '../lib/audit.mjs';
import { assertError, assertJson, assertStatus, locationPath } from '../lib/assert.mjs';
import { ORIGIN } from '../lib/env.mjs';
import { uniq } from '../lib/users.mjs';
import { dbTool } from '../lib/catalog.mjs';
import {
  ChatFixture, assertConversationShape, dbConversation, dbMessages, say, sendMessage, thread,
} from '../lib/chat.mjs';

const fx = new ChatFixture('chconv');
let model;      // an OpenAI-protocol model on the mock
let other;      // a second model, for the tool filter
let owner;      // owns the conversations most tests look at
let stranger;   // has nothing to do with them
let guest;      // invited into one of them
let shared;     // a conversation of owner's with one exchange, guest invited
let exchange;   // that exchange: {user_message, answers}

before(async () => {
  model = await fx.model({ provider: 'openai' });
  other = await fx.model({ provider: 'anthropic' });
  owner = await fx.user({ prefix: 'chowner' });
  stranger = await fx.user({ prefix: 'chstranger' });
  guest = await fx.user({ prefix: 'chguest' });
  shared = await fx.conversation(owner, [model], { title: `Shared ${fx.tag}` });
  exchange = await say(owner, shared.id, `hello ${fx.tag}`);
  assertJson(await api('POST', `/conversations/${shared.id}/participants`, { ...owner, body: { username: guest.user } }), 200);
});

after(async () => {
  await fx.cleanup();
});

async function ownedCount(user) {
  return Number(await sqlValue(`SELECT count(*) FROM conversations WHERE owner_id = :'p1'`, user.id));
}

async function listPage(auth, query = '') {
  const res = await api('GET', `/conversations${query}`, auth);
  const body = assertJson(res, 200);
  assert.ok(Array.isArray(body.items), `${res.label}: items ${res.text.slice(0, 200)}`);
  assert.ok('next' in body, `${res.label}: no next`);
  assert.ok(body.next === null || (typeof body.next === 'string' && body.next !== ''), `${res.label}: next ${JSON.stringify(body.next)}`);
  body.items.forEach((c, i) => assertConversationShape(c, `${res.label} item ${i}`));
  return body;
}

async function listAll(auth, params = {}) {
  const items = [];
  const pages = [];
  let after;
  for (let i = 0; i < 200; i++) {
    const q = new URLSearchParams({ ...params, ...(after ? { after } : {}) }).toString();
    const page = await listPage(auth, q ? `?${q}` : '');
    pages.push(page.items);
    items.push(...page.items);
    if (page.next === null) return { items, pages };
    assert.ok(page.items.length > 0, 'a page with a next cursor is empty');
    after = page.next;
  }
  assert.fail('pagination did not end after 200 pages');
}

// --- create -----------------------------------------------------------------

test('creating a conversation answers 201 with the conversation, its Location, and an audit row', async () => {
  const user = await fx.user();
  const res = await fx.createRes(user, {
    tools: [model.slug],
    title: 'Trip planning',
    system_prompt: 'You are a travel agent.',
    settings: { tone: 'friendly' },
  });
  const conv = assertJson(res, 201);
  assertConversationShape(conv);
  assert.equal(conv.title, 'Trip planning');
  assert.equal(conv.system_prompt, 'You are a travel agent.');
  assert.deepEqual(conv.settings, { tone: 'friendly' });
  assert.equal(conv.status, 'active');
  assert.equal(conv.source, 'native');
  assert.equal(conv.total_messages, 0);
  assert.equal(conv.active_leaf_id, null);
  assert.equal(conv.pinned, false);
  assert.equal(conv.archived, false);
  assert.equal(conv.deleted_at, null);
  assert.equal(conv.owner, user.user);
  assert.equal(conv.is_owner, true);
  assert.equal(conv.is_group, false);
  assert.deepEqual(conv.tools.map((t) => t.slug), [model.slug]);
  assert.equal(conv.tools[0].provider, 'openai');
  assert.equal(conv.tools[0].model_id, model.model_id);
  assert.deepEqual(conv.participants.map((p) => [p.username, p.role]), [[user.user, 'admin']]);

  assert.equal(locationPath(res), `/chat/api/v1/conversations/${conv.id}`);
  const fetched = assertJson(await api('GET', locationPath(res).replace('/chat/api/v1', ''), user), 200);
  assert.deepEqual(fetched, conv, 'GET of the Location differs from the 201 body');

  const row = await dbConversation(conv.id);
  assert.equal(row.owner_id, user.id);
  assert.equal(row.title, 'Trip planning');

  const audit = await auditRow(res);
  assert.equal(audit.action, 'create');
  assert.equal(audit.status, 201);
  assert.equal(audit.user_id, user.id);
  assert.equal(audit.entity_type, 'conversation');
  assert.equal(audit.entity_id, conv.id);
  assert.equal(audit.old_values, null);
  assert.equal(audit.new_values?.title, 'Trip planning');
});

test('a conversation created with only its model has an empty title, no system prompt and no settings', async () => {
  const user = await fx.user();
  const conv = await fx.conversation(user, [model]);
  assert.equal(conv.title, '');
  assert.equal(conv.system_prompt, null);
  assert.deepEqual(conv.settings, {});
});

test('a conversation with two models is a group chat listing both in order', async () => {
  const user = await fx.user();
  const conv = await fx.conversation(user, [other, model]);
  assert.equal(conv.is_group, true);
  assert.deepEqual(conv.tools.map((t) => t.slug), [other.slug, model.slug]);
});

test('the tools can be given as demo catalog slugs too', async () => {
  const user = await fx.user();
  const conv = await fx.conversation(user, ['gpt-4o-mini']);
  assert.deepEqual(conv.tools.map((t) => t.slug), ['gpt-4o-mini']);
});

const BAD_CREATES = [
  ['no tools', { tools: undefined }, 422, 'invalid_field', 'tools'],
  ['an empty tools list', { tools: [] }, 422, 'invalid_field', 'tools'],
  ['tools as a string', { tools: 'gpt-4o-mini' }, 422, 'invalid_field', 'tools'],
  ['a tool that is not a string', { tools: [42] }, 422, 'invalid_field', 'tools'],
  ['a title of 201 characters', { title: 't'.repeat(201) }, 422, 'invalid_field', 'title'],
  ['a title that is not a string', { title: 7 }, 422, 'invalid_field', 'title'],
  ['a system prompt that is not a string', { system_prompt: ['be nice'] }, 422, 'invalid_field', 'system_prompt'],
  ['settings as an array', { settings: [] }, 422, 'invalid_field', 'settings'],
  ['settings as a string', { settings: '{}' }, 422, 'invalid_field', 'settings'],
  ['an unknown field', { owner: 'admin' }, 422, 'unknown_field', 'owner'],
];

for (const [what, change, status, code, field] of BAD_CREATES) {
  test(`creating a conversation with ${what} is ${status} ${code} and creates nothing`, async () => {
    const user = await fx.user();
    const body = { tools: [model.slug], ...change };
    const res = await fx.createRes(user, body);
    assertError(res, status, code, field);
    assert.equal(await ownedCount(user), 0, 'a refused request created a conversation');
  });
}

test('creating a conversation with an unknown model is 422 unknown_tool and counts no popularity', async () => {
  const user = await fx.user();
  const before = (await dbTool(model.slug)).popularity;
  const res = await fx.createRes(user, { tools: [model.slug, `no-such-model-${uniq()}`] });
  assertError(res, 422, 'unknown_tool', 'tools');
  assert.equal(await ownedCount(user), 0);
  assert.equal((await dbTool(model.slug)).popularity, before, 'a refused create changed the popularity of the valid model');
});

test('creating a conversation with more than 8 models is 422 naming tools', async () => {
  const user = await fx.user();
  const nine = [];
  for (let i = 0; i < 9; i++) nine.push((await fx.model({ provider: 'openai' })).slug);
  const res = await fx.createRes(user, { tools: nine });
  assertError(res, 422, 'invalid_field', 'tools');
  assert.equal(await ownedCount(user), 0);
  const eight = await fx.conversation(user, nine.slice(0, 8));
  assert.equal(eight.tools.length, 8, 'eight models are allowed');
});

test('a model whose provider has no key is 422 tool_unavailable', async () => {
  const user = await fx.user();
  const noKey = await fx.catalog.tool({ provider: 'nokey', api_key_required: true });
  const res = await fx.createRes(user, { tools: [noKey.slug] });
  assertError(res, 422, 'tool_unavailable', 'tools');
  assert.equal(await ownedCount(user), 0);
});

test('a deactivated model cannot be chosen', async () => {
  const user = await fx.user();
  const off = await fx.model({ provider: 'openai', is_active: false });
  const res = await fx.createRes(user, { tools: [off.slug] });
  assertStatus(res, 422);
  assert.ok(['unknown_tool', 'tool_unavailable'].includes(res.json?.error?.code), `code ${res.json?.error?.code}`);
  assert.equal(res.json.error.field, 'tools');
  assert.equal(await ownedCount(user), 0);
});

test('creating a conversation from another origin is 403 csrf_rejected and creates nothing', async () => {
  const user = await fx.user();
  const res = await fx.createRes({ ...user, headers: { Origin: 'http://evil.example' } }, { tools: [model.slug] });
  assertError(res, 403, 'csrf_rejected');
  assert.equal(await ownedCount(user), 0);
  const ok = await fx.createRes({ ...user, headers: { Origin: ORIGIN } }, { tools: [model.slug] });
  assertJson(ok, 201);
});

test('conversations need credentials', async () => {
  assertError(await api('POST', '/conversations', { body: { tools: [model.slug] } }), 401, 'unauthenticated');
  assertError(await api('GET', '/conversations'), 401, 'unauthenticated');
  assertError(await api('GET', `/conversations/${shared.id}`), 401, 'unauthenticated');
});

test('ten conversations created at once raise the model’s popularity by exactly ten', async () => {
  const user = await fx.user();
  const tool = await fx.model({ provider: 'openai' });
  const before = (await dbTool(tool.slug)).popularity;
  const results = await Promise.all(Array.from({ length: 10 }, () => fx.createRes(user, { tools: [tool.slug] })));
  for (const res of results) assertJson(res, 201);
  assert.equal(new Set(results.map((r) => r.json.id)).size, 10, 'ten distinct conversations');
  assert.equal((await dbTool(tool.slug)).popularity, before + 10);
  const seen = assertJson(await api('GET', `/tools/${tool.slug}`, user), 200);
  assert.equal(seen.popularity, before + 10, 'the catalog shows the new popularity');
});

test('a group chat raises the popularity of each of its models by one', async () => {
  const user = await fx.user();
  const a = await fx.model({ provider: 'openai' });
  const b = await fx.model({ provider: 'google' });
  await fx.conversation(user, [a, b]);
  assert.equal((await dbTool(a.slug)).popularity, 1);
  assert.equal((await dbTool(b.slug)).popularity, 1);
});

// --- list -------------------------------------------------------------------

test('the list pages through all of a user’s conversations, newest first, each once', async () => {
  const user = await fx.user();
  const made = [];
  for (let i = 0; i < 5; i++) made.push(await fx.conversation(user, [model], { title: `page ${i}` }));
  const { items, pages } = await listAll(user, { limit: 2 });
  assert.deepEqual(pages.map((p) => p.length), [2, 2, 1]);
  assert.deepEqual(items.map((c) => c.id), made.map((c) => c.id).reverse(), 'not newest first, or not all of them once');
  for (const c of items) assert.equal(c.is_owner, true);
});

test('a conversation created while paging does not make the pages repeat or skip', async () => {
  const user = await fx.user();
  const made = [];
  for (let i = 0; i < 4; i++) made.push(await fx.conversation(user, [model]));
  const first = await listPage(user, '?limit=2');
  await fx.conversation(user, [model]);
  const second = await listPage(user, `?limit=2&after=${encodeURIComponent(first.next)}`);
  assert.deepEqual(
    [...first.items, ...second.items].map((c) => c.id),
    made.map((c) => c.id).reverse(),
  );
});

test('a new message moves its conversation to the top of the list', async () => {
  const user = await fx.user();
  const oldest = await fx.conversation(user, [model]);
  const newer = await fx.conversation(user, [model]);
  let { items } = await listPage(user);
  assert.deepEqual(items.map((c) => c.id), [newer.id, oldest.id]);
  await say(user, oldest.id, 'bump');
  ({ items } = await listPage(user));
  assert.deepEqual(items.map((c) => c.id), [oldest.id, newer.id]);
  assert.ok(Date.parse(items[0].last_message_at) > Date.parse(items[1].last_message_at));
});

test('the list shows only the user’s own conversations and those they take part in', async () => {
  const { items } = await listAll(stranger);
  assert.ok(!items.some((c) => c.id === shared.id), 'a stranger sees someone else’s conversation');
  const guestList = await listAll(guest);
  const seen = guestList.items.find((c) => c.id === shared.id);
  assert.ok(seen, 'an invited user does not see the conversation');
  assert.equal(seen.is_owner, false);
  assert.equal(seen.owner, owner.user);
});

test('owned and joined conversations are listed together, newest first, each once across pages', async () => {
  const me = await fx.user();
  const host = await fx.user();
  const made = [];
  // Alternately one of mine and one of host's that I am invited into, each
  // later than the one before.
  for (let i = 0; i < 6; i++) {
    const conv = await fx.conversation(i % 2 ? host : me, [model]);
    if (i % 2) {
      assertJson(await api('POST', `/conversations/${conv.id}/participants`, { ...host, body: { username: me.user } }), 200);
    }
    made.push(conv.id);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const { items, pages } = await listAll(me, { limit: '2' });
  assert.deepEqual(items.map((c) => c.id), [...made].reverse(), 'not every conversation once, newest first');
  assert.deepEqual(pages.map((page) => page.length).filter(Boolean), [2, 2, 2], 'pages of two');
  assert.deepEqual(items.map((c) => c.is_owner), [false, true, false, true, false, true]);
});

test('archived conversations are left out unless asked for, and then only they are listed', async () => {
  const user = await fx.user();
  const kept = await fx.conversation(user, [model]);
  const archived = await fx.conversation(user, [model]);
  assertJson(await api('PATCH', `/conversations/${archived.id}`, { ...user, body: { archived: true } }), 200);
  assert.deepEqual((await listAll(user)).items.map((c) => c.id), [kept.id]);
  assert.deepEqual((await listAll(user, { archived: 'false' })).items.map((c) => c.id), [kept.id]);
  const only = (await listAll(user, { archived: 'true' })).items;
  assert.deepEqual(only.map((c) => c.id), [archived.id]);
  assert.equal(only[0].archived, true);
});

test('pinned=true lists only pinned conversations and pinned=false only the others', async () => {
  const user = await fx.user();
  const plain = await fx.conversation(user, [model]);
  const pinned = await fx.conversation(user, [model]);
  assertJson(await api('PATCH', `/conversations/${pinned.id}`, { ...user, body: { pinned: true } }), 200);
  assert.deepEqual((await listAll(user, { pinned: 'true' })).items.map((c) => c.id), [pinned.id]);
  assert.deepEqual((await listAll(user, { pinned: 'false' })).items.map((c) => c.id), [plain.id]);
  assert.deepEqual(new Set((await listAll(user)).items.map((c) => c.id)), new Set([plain.id, pinned.id]));
});

test('tool=slug lists only conversations with that model', async () => {
  const user = await fx.user();
  const one = await fx.conversation(user, [model]);
  const two = await fx.conversation(user, [other]);
  const both = await fx.conversation(user, [other, model]);
  assert.deepEqual((await listAll(user, { tool: other.slug })).items.map((c) => c.id), [both.id, two.id]);
  assert.deepEqual((await listAll(user, { tool: model.slug })).items.map((c) => c.id), [both.id, one.id]);
  assert.deepEqual((await listAll(user, { tool: `no-such-${uniq()}` })).items, []);
});

test('q finds conversations whose title contains it, ignoring case, with wildcards taken literally', async () => {
  const user = await fx.user();
  const word = `Zephyr${uniq()}`;
  const hit = await fx.conversation(user, [model], { title: `About the ${word} project` });
  await fx.conversation(user, [model], { title: 'Something else' });
  const percent = await fx.conversation(user, [model], { title: '100% sure' });
  assert.deepEqual((await listAll(user, { q: word.toLowerCase() })).items.map((c) => c.id), [hit.id]);
  assert.deepEqual((await listAll(user, { q: '%' })).items.map((c) => c.id), [percent.id]);
  assert.deepEqual((await listAll(user, { q: '_' })).items, []);
});

test('filters combine', async () => {
  const user = await fx.user();
  const a = await fx.conversation(user, [model], { title: 'alpha one' });
  const b = await fx.conversation(user, [other], { title: 'alpha two' });
  await fx.conversation(user, [model], { title: 'beta' });
  assertJson(await api('PATCH', `/conversations/${a.id}`, { ...user, body: { pinned: true } }), 200);
  assertJson(await api('PATCH', `/conversations/${b.id}`, { ...user, body: { pinned: true } }), 200);
  assert.deepEqual((await listAll(user, { q: 'alpha', pinned: 'true', tool: model.slug })).items.map((c) => c.id), [a.id]);
});

for (const [what, query] of [
  ['limit=0', '?limit=0'],
  ['limit=101', '?limit=101'],
  ['limit=abc', '?limit=abc'],
  ['archived=yes', '?archived=yes'],
  ['pinned=1', '?pinned=1'],
  ['an after that is no cursor', '?after=not-a-cursor'],
]) {
  test(`listing with ${what} is refused with a 4xx naming the parameter`, async () => {
    const res = await api('GET', `/conversations${query}`, owner);
    assert.ok([400, 422].includes(res.status), `${res.label} answered ${res.status}: ${res.text.slice(0, 200)}`);
    assertError(res, res.status, res.status === 422 ? 'invalid_field' : res.json?.error?.code, query.slice(1).split('=')[0]);
  });
}

// --- read and change --------------------------------------------------------

test('the owner reads a conversation with its message count and active leaf', async () => {
  const conv = assertJson(await api('GET', `/conversations/${shared.id}`, owner), 200);
  assertConversationShape(conv);
  assert.equal(conv.total_messages, 2);
  assert.equal(conv.active_leaf_id, exchange.answers[0].id);
  assert.equal(conv.is_owner, true);
  assert.deepEqual(
    conv.participants.map((p) => [p.username, p.role]).sort(),
    [[guest.user, 'member'], [owner.user, 'admin']].sort(),
  );
});

test('renaming, pinning and archiving are saved, shown and audited with old and new values', async () => {
  const user = await fx.user();
  const conv = await fx.conversation(user, [model], { title: 'Before' });

  const rename = await api('PATCH', `/conversations/${conv.id}`, { ...user, body: { title: 'After' } });
  const renamed = assertJson(rename, 200);
  assertConversationShape(renamed);
  assert.equal(renamed.title, 'After');
  const row = await auditRow(rename);
  assert.equal(row.action, 'update');
  assert.equal(row.entity_type, 'conversation');
  assert.equal(row.entity_id, conv.id);
  assert.equal(row.user_id, user.id);
  assert.equal(row.old_values?.title, 'Before');
  assert.equal(row.new_values?.title, 'After');

  const pin = await api('PATCH', `/conversations/${conv.id}`, { ...user, body: { pinned: true, archived: true } });
  const pinned = assertJson(pin, 200);
  assert.equal(pinned.pinned, true);
  assert.equal(pinned.archived, true);
  assert.equal(pinned.title, 'After', 'a field not sent was changed');
  const pinRow = await auditRow(pin);
  assert.equal(pinRow.old_values?.pinned, false);
  assert.equal(pinRow.new_values?.pinned, true);
  assert.equal(pinRow.new_values?.archived, true);

  const prompt = assertJson(await api('PATCH', `/conversations/${conv.id}`, {
    ...user, body: { system_prompt: 'Be terse.', settings: { character_limit: 100 } },
  }), 200);
  assert.equal(prompt.system_prompt, 'Be terse.');
  assert.deepEqual(prompt.settings, { character_limit: 100 });
  const cleared = assertJson(await api('PATCH', `/conversations/${conv.id}`, { ...user, body: { system_prompt: null } }), 200);
  assert.equal(cleared.system_prompt, null);

  const stored = await dbConversation(conv.id);
  assert.equal(stored.title, 'After');
  assert.equal(stored.pinned, true);
  assert.equal(stored.archived, true);
  assert.equal(stored.system_prompt, null);
  assert.ok(Date.parse(stored.updated_at) >= Date.parse(conv.updated_at));
});

for (const [what, body, code, field] of [
  ['a title of 201 characters', { title: 'x'.repeat(201) }, 'invalid_field', 'title'],
  ['pinned as a string', { pinned: 'yes' }, 'invalid_field', 'pinned'],
  ['archived as a number', { archived: 1 }, 'invalid_field', 'archived'],
  ['settings as an array', { settings: [1] }, 'invalid_field', 'settings'],
  ['a field that cannot be changed', { owner: 'admin' }, 'unknown_field', 'owner'],
  ['a field that cannot be changed (tools)', { tools: ['gpt-4o-mini'] }, 'unknown_field', 'tools'],
]) {
  test(`changing a conversation with ${what} is 422 and changes nothing`, async () => {
    const before = await dbConversation(shared.id);
    const res = await api('PATCH', `/conversations/${shared.id}`, { ...owner, body: { title: 'Renamed?', ...body } });
    assertError(res, 422, code, field);
    assert.deepEqual(await dbConversation(shared.id), before);
  });
}

// --- delete and restore -----------------------------------------------------

test('a deleted conversation is gone for its owner until restored, and both are audited', async () => {
  const user = await fx.user();
  const conv = await fx.conversation(user, [model], { title: 'To delete' });
  await say(user, conv.id, 'something worth keeping');

  const del = await api('DELETE', `/conversations/${conv.id}`, user);
  assertStatus(del, 204);
  assert.equal(del.text, '', '204 with a body');
  const delRow = await auditRow(del);
  assert.equal(delRow.action, 'delete');
  assert.equal(delRow.entity_type, 'conversation');
  assert.equal(delRow.entity_id, conv.id);
  assert.equal(delRow.status, 204);
  assert.equal(delRow.old_values?.title, 'To delete');

  const stored = await dbConversation(conv.id);
  assert.ok(stored, 'the row is gone: the delete was not soft');
  assert.notEqual(stored.deleted_at, null);
  assert.equal((await dbMessages(conv.id)).length, 2, 'the messages of a soft-deleted conversation are kept');

  assertError(await api('GET', `/conversations/${conv.id}`, user), 404, 'not_found');
  assertError(await api('GET', `/conversations/${conv.id}/messages`, user), 404, 'not_found');
  assertError(await api('PATCH', `/conversations/${conv.id}`, { ...user, body: { title: 'x' } }), 404, 'not_found');
  assertError(await sendMessage(user, conv.id, { content: 'hello?' }), 404, 'not_found');
  assertError(await api('DELETE', `/conversations/${conv.id}`, user), 404, 'not_found');
  assert.deepEqual((await listAll(user)).items, []);
  assert.deepEqual((await listAll(user, { archived: 'true' })).items, []);
  // deleted=true lists the owner's deleted chats, to restore them.
  const trash = (await listAll(user, { deleted: 'true' })).items;
  assert.deepEqual(trash.map((c) => c.id), [conv.id]);
  assert.notEqual(trash[0].deleted_at, null);
  assert.deepEqual((await listAll(user, { deleted: 'true', pinned: 'true' })).items, []);
  assert.deepEqual((await listAll(user, { deleted: 'true', q: 'delete' })).items.map((c) => c.id), [conv.id]);
  assert.deepEqual((await listAll(user, { deleted: 'true', q: 'nothing like it' })).items, []);
  assertError(await api('GET', '/conversations?deleted=yes', user), 422, 'invalid_field', 'deleted');

  const restore = await api('POST', `/conversations/${conv.id}/restore`, user);
  const restored = assertJson(restore, 200);
  assertConversationShape(restored);
  assert.equal(restored.id, conv.id);
  assert.equal(restored.status, 'active');
  assert.equal(restored.deleted_at, null);
  assert.equal(restored.title, 'To delete');
  assert.equal(restored.total_messages, 2);
  const restoreRow = await auditRow(restore);
  assert.equal(restoreRow.action, 'restore');
  assert.equal(restoreRow.entity_id, conv.id);
  assert.equal(restoreRow.status, 200);

  assertJson(await api('GET', `/conversations/${conv.id}`, user), 200);
  assert.equal((await thread(user, conv.id)).length, 2, 'the restored conversation lost messages');
  assert.deepEqual((await listAll(user)).items.map((c) => c.id), [conv.id]);
  assert.deepEqual((await listAll(user, { deleted: 'true' })).items, []);
});

test("a participant's list of deleted chats never holds the owner's deleted chat", async () => {
  const host = await fx.user();
  const guest = await fx.user();
  const conv = await fx.conversation(host, [model], { title: 'Shared then deleted' });
  assertJson(await api('POST', `/conversations/${conv.id}/participants`, { ...host, body: { username: guest.user } }), 200);
  assertStatus(await api('DELETE', `/conversations/${conv.id}`, host), 204);
  assert.deepEqual((await listAll(guest, { deleted: 'true' })).items, []);
  assert.deepEqual((await listAll(guest)).items, []);
  assert.deepEqual((await listAll(host, { deleted: 'true' })).items.map((c) => c.id), [conv.id]);
});

test('restoring a conversation that is not deleted is 404', async () => {
  const before = await dbConversation(shared.id);
  assertError(await api('POST', `/conversations/${shared.id}/restore`, owner), 404, 'not_found');
  assertError(await api('POST', `/conversations/${randomUUID()}/restore`, owner), 404, 'not_found');
  assert.deepEqual(await dbConversation(shared.id), before);
});

test('an unknown or malformed conversation id is 404', async () => {
  for (const id of [randomUUID(), 'not-a-uuid', '00000000-0000-0000-0000-00000000000g']) {
    assertError(await api('GET', `/conversations/${id}`, owner), 404, 'not_found');
    assertError(await api('GET', `/conversations/${id}/messages`, owner), 404, 'not_found');
  }
});

// --- strangers and participants ---------------------------------------------

const ROUTES = {
  'GET /conversations/{id}': (auth, conv) => api('GET', `/conversations/${conv.id}`, auth),
  'PATCH /conversations/{id}': (auth, conv) => api('PATCH', `/conversations/${conv.id}`, { ...auth, body: { title: 'Mine now' } }),
  'DELETE /conversations/{id}': (auth, conv) => api('DELETE', `/conversations/${conv.id}`, auth),
  'POST /conversations/{id}/restore': (auth, conv) => api('POST', `/conversations/${conv.id}/restore`, auth),
  'POST /conversations/{id}/participants': (auth, conv) => api('POST', `/conversations/${conv.id}/participants`, { ...auth, body: { username: auth.user } }),
  'DELETE /conversations/{id}/participants/{username}': (auth, conv) => api('DELETE', `/conversations/${conv.id}/participants/${guest.user}`, auth),
  'GET /conversations/{id}/messages': (auth, conv) => api('GET', `/conversations/${conv.id}/messages`, auth),
  'POST /conversations/{id}/messages': (auth, conv) => sendMessage(auth, conv.id, { content: 'let me in' }),
  'POST /conversations/{id}/messages (as an edit)': (auth, conv, answerId) => sendMessage(auth, conv.id, { content: 'let me in', parent_id: answerId }),
  'PUT /conversations/{id}/active': (auth, conv, answerId) => api('PUT', `/conversations/${conv.id}/active`, { ...auth, body: { message_id: answerId } }),
  'POST /messages/{id}/regenerate': (auth, conv, answerId) => api('POST', `/messages/${answerId}/regenerate`, { ...auth, body: {} }),
  'POST /messages/{id}/regenerate (streamed)': (auth, conv, answerId) => api('POST', `/messages/${answerId}/regenerate`, { ...auth, body: { stream: true }, headers: { Accept: 'text/event-stream' } }),
};

async function conversationState(id) {
  return {
    conv: await dbConversation(id),
    messages: await dbMessages(id),
    participants: await sqlValue(`SELECT string_agg(user_id::text, ',' ORDER BY user_id) FROM conversation_participants WHERE conversation_id = :'p1'`, id),
  };
}

for (const [name, call] of Object.entries(ROUTES)) {
  test(`a stranger gets 404 on ${name} and changes nothing`, async () => {
    const before = await conversationState(shared.id);
    const res = await call(stranger, shared, exchange.answers[0].id);
    assertError(res, 404, 'not_found');
    assert.deepEqual(await conversationState(shared.id), before, `${name} by a stranger changed the conversation`);
  });
}

test('a stranger gets 404 on a deleted conversation’s restore too', async () => {
  const conv = await fx.conversation(owner, [model]);
  assertStatus(await api('DELETE', `/conversations/${conv.id}`, owner), 204);
  assertError(await api('POST', `/conversations/${conv.id}/restore`, stranger), 404, 'not_found');
  assert.notEqual((await dbConversation(conv.id)).deleted_at, null);
});

test('an invited participant reads the conversation and its messages', async () => {
  const conv = assertJson(await api('GET', `/conversations/${shared.id}`, guest), 200);
  assert.equal(conv.is_owner, false);
  assert.equal(conv.owner, owner.user);
  const items = await thread(guest, shared.id);
  assert.deepEqual(items.map((m) => m.id), [exchange.user_message.id, exchange.answers[0].id]);
});

test('a participant may not rename, delete or invite (403) and changes nothing', async () => {
  const before = await conversationState(shared.id);
  const refused = await api('PATCH', `/conversations/${shared.id}`, { ...guest, body: { title: 'Guest was here' } });
  assertError(refused, 403, 'forbidden');
  const row = await auditRow(refused);
  assert.equal(row.status, 403);
  assert.equal(row.user_id, guest.id);
  assert.equal(row.new_values, null, 'a refused change was audited with new values');
  assertError(await api('PATCH', `/conversations/${shared.id}`, { ...guest, body: { pinned: true } }), 403, 'forbidden');
  assertError(await api('DELETE', `/conversations/${shared.id}`, guest), 403, 'forbidden');
  assertError(await api('POST', `/conversations/${shared.id}/participants`, { ...guest, body: { username: stranger.user } }), 403, 'forbidden');
  assert.deepEqual(await conversationState(shared.id), before);
});

test('inviting and removing a participant gives and takes away access, audited', async () => {
  const user = await fx.user();
  const friend = await fx.user({ prefix: 'chfriend' });
  const conv = await fx.conversation(user, [model]);
  assertError(await api('GET', `/conversations/${conv.id}`, friend), 404, 'not_found');

  const invite = await api('POST', `/conversations/${conv.id}/participants`, { ...user, body: { username: friend.user } });
  const invited = assertJson(invite, 200);
  assertConversationShape(invited);
  assert.deepEqual(invited.participants.map((p) => [p.username, p.role]).sort(), [[friend.user, 'member'], [user.user, 'admin']].sort());
  const row = await auditRow(invite);
  assert.equal(row.entity_type, 'conversation');
  assert.equal(row.entity_id, conv.id);
  assert.notEqual(row.action, 'request');
  assert.ok(JSON.stringify(row.new_values).includes(friend.user), `new_values lacks the participant: ${JSON.stringify(row.new_values)}`);
  assertJson(await api('GET', `/conversations/${conv.id}`, friend), 200);

  const again = assertJson(await api('POST', `/conversations/${conv.id}/participants`, { ...user, body: { username: friend.user } }), 200);
  assert.equal(again.participants.length, 2, 'inviting twice lists the participant twice');

  const remove = await api('DELETE', `/conversations/${conv.id}/participants/${friend.user}`, user);
  const removed = assertJson(remove, 200);
  assert.deepEqual(removed.participants.map((p) => p.username), [user.user]);
  const removeRow = await auditRow(remove);
  assert.equal(removeRow.entity_id, conv.id);
  assert.notEqual(removeRow.action, 'request');
  assertError(await api('GET', `/conversations/${conv.id}`, friend), 404, 'not_found');
});

test('inviting an unknown user is 422 unknown_user', async () => {
  const before = await conversationState(shared.id);
  const res = await api('POST', `/conversations/${shared.id}/participants`, { ...owner, body: { username: `nobody_${uniq()}` } });
  assertError(res, 422, 'unknown_user', 'username');
  assert.deepEqual(await conversationState(shared.id), before);
});

test('the owner cannot be removed from their own conversation', async () => {
  const user = await fx.user();
  const conv = await fx.conversation(user, [model]);
  const res = await api('DELETE', `/conversations/${conv.id}/participants/${user.user}`, user);
  assert.ok(res.status >= 400 && res.status < 500, `${res.label} answered ${res.status}`);
  assertJson(await api('GET', `/conversations/${conv.id}`, user), 200);
  const participants = await sqlValue(`SELECT count(*) FROM conversation_participants WHERE conversation_id = :'p1'`, conv.id);
  assert.equal(Number(participants), 1);
});

test('deleting a conversation hides it from participants too', async () => {
  const user = await fx.user();
  const friend = await fx.user({ prefix: 'chfriend' });
  const conv = await fx.conversation(user, [model]);
  assertJson(await api('POST', `/conversations/${conv.id}/participants`, { ...user, body: { username: friend.user } }), 200);
  assertStatus(await api('DELETE', `/conversations/${conv.id}`, user), 204);
  assertError(await api('GET', `/conversations/${conv.id}`, friend), 404, 'not_found');
  assert.ok(!(await listAll(friend)).items.some((c) => c.id === conv.id));
});
