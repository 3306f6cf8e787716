// Favourite prompts: created, read, changed and deleted by their owner with
// any number of models; listed with the prompts for a conversation's models
// first; another user's are 404; every validation error names its field and
// changes nothing; every change is audited.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { api } from '../lib/http.mjs';
import { sqlJson, sqlValue } from '../lib/db.mjs';
import { assertError, assertJson, assertStatus } from '../lib/assert.mjs';
import { auditRow } from '../lib/audit.mjs';
import { ChatFixture } from '../lib/chat.mjs';
import { ADMIN } from '../lib/users.mjs';
import { assertPromptShape, createPrompt } from '../lib/prompts.mjs';

const fx = new ChatFixture('prm');
let owner;
let other;
let m1;
let m2;
let m3;

before(async () => {
  [owner, other] = await Promise.all([fx.user({ prefix: 'prm' }), fx.user({ prefix: 'prmo' })]);
  [m1, m2, m3] = await Promise.all([fx.model(), fx.model(), fx.model()]);
});

after(async () => {
  await fx.cleanup();
});

const slugs = (p) => p.tools.map((t) => t.slug);

test('a prompt is created with its models, read, changed and deleted by its owner', async () => {
  const p = await createPrompt(owner, { title: 'Summarise', text: 'Summarise this:\n', tools: [m1.slug, m2.slug] });
  assert.equal(p.title, 'Summarise');
  assert.equal(p.text, 'Summarise this:');
  assert.deepEqual(slugs(p), [m1.slug, m2.slug]);
  assert.equal(p.tools[0].display_name, m1.display_name);
  const links = await sqlValue(`SELECT count(*) FROM favorite_prompt_tools WHERE prompt_id = :'p1'`, p.id);
  assert.equal(links, '2');

  const got = assertJson(await api('GET', `/prompts/${p.id}`, owner), 200);
  assert.deepEqual(got, p);

  const res = await api('PATCH', `/prompts/${p.id}`, { ...owner, body: { title: 'Summarise briefly', tools: [m3.slug] } });
  const changed = assertJson(res, 200);
  assertPromptShape(changed);
  assert.equal(changed.title, 'Summarise briefly');
  assert.equal(changed.text, 'Summarise this:', 'a PATCH without text kept it');
  assert.deepEqual(slugs(changed), [m3.slug]);
  const row = await auditRow(res);
  assert.equal(row.action, 'update');
  assert.equal(row.entity_type, 'prompt');
  assert.equal(row.entity_id, p.id);
  assert.equal(row.old_values.title, 'Summarise');
  assert.equal(row.new_values.title, 'Summarise briefly');

  const none = assertJson(await api('PATCH', `/prompts/${p.id}`, { ...owner, body: { tools: [] } }), 200);
  assert.deepEqual(none.tools, []);

  const del = await api('DELETE', `/prompts/${p.id}`, owner);
  assertStatus(del, 204);
  assert.equal((await auditRow(del)).action, 'delete');
  assertError(await api('GET', `/prompts/${p.id}`, owner), 404, 'not_found');
  assertError(await api('DELETE', `/prompts/${p.id}`, owner), 404, 'not_found');
});

test('a prompt is its owner\'s: another user gets 404 and does not see it listed', async () => {
  const p = await createPrompt(owner, { title: 'Mine', text: 'private text', tools: [m1.slug] });
  assertError(await api('GET', `/prompts/${p.id}`, other), 404, 'not_found');
  assertError(await api('PATCH', `/prompts/${p.id}`, { ...other, body: { title: 'taken' } }), 404, 'not_found');
  assertError(await api('DELETE', `/prompts/${p.id}`, other), 404, 'not_found');
  const theirs = assertJson(await api('GET', '/prompts', other), 200);
  assert.ok(!theirs.items.some((x) => x.id === p.id), 'another user lists my prompt');
  assert.equal(assertJson(await api('GET', `/prompts/${p.id}`, owner), 200).title, 'Mine', 'their attempts changed it');
});

test('the list puts the prompts for the conversation\'s models first', async () => {
  const user = await fx.user({ prefix: 'prml' });
  const a = await createPrompt(user, { title: 'For m1', text: 'a', tools: [m1.slug] });
  const b = await createPrompt(user, { title: 'For m2 and m3', text: 'b', tools: [m2.slug, m3.slug] });
  const c = await createPrompt(user, { title: 'For any model', text: 'c' });

  const plain = assertJson(await api('GET', '/prompts', user), 200);
  plain.items.forEach((p, i) => assertPromptShape(p, `items[${i}]`));
  assert.deepEqual(plain.items.map((p) => p.id), [c.id, b.id, a.id], 'newest first');
  assert.ok(plain.items.every((p) => p.for_conversation === false));

  const conv = await fx.conversation(user, [m2]);
  const list = assertJson(await api('GET', `/prompts?conversation_id=${conv.id}`, user), 200);
  assert.deepEqual(list.items.map((p) => p.id), [b.id, c.id, a.id]);
  assert.deepEqual(list.items.map((p) => p.for_conversation), [true, false, false]);

  const group = await fx.conversation(user, [m1, m3]);
  const both = assertJson(await api('GET', `/prompts?conversation_id=${group.id}`, user), 200);
  assert.deepEqual(both.items.map((p) => p.id), [b.id, a.id, c.id]);

  const theirs = await fx.conversation(other, [m1]);
  assertError(await api('GET', `/prompts?conversation_id=${theirs.id}`, user), 404, 'not_found');
  assertError(await api('GET', `/prompts?conversation_id=${randomUUID()}`, user), 404, 'not_found');
  assertError(await api('GET', '/prompts?conversation_id=nope', user), 422, 'invalid_field', 'conversation_id');
});

test('a new chat\'s picked models count as its models: ?tools= puts their prompts first', async () => {
  const user = await fx.user({ prefix: 'prmt' });
  const a = await createPrompt(user, { title: 'For m1', text: 'a', tools: [m1.slug] });
  const b = await createPrompt(user, { title: 'For m2', text: 'b', tools: [m2.slug] });
  const c = await createPrompt(user, { title: 'For any model', text: 'c' });
  const list = async (qs) => assertJson(await api('GET', `/prompts?${qs}`, user), 200).items;

  const one = await list(`tools=${m1.slug}`);
  assert.deepEqual(one.map((p) => p.id), [a.id, c.id, b.id]);
  assert.deepEqual(one.map((p) => p.for_conversation), [true, false, false]);
  const two = await list(`tools=${m2.slug},${m1.slug}`);
  assert.deepEqual(two.map((p) => p.id), [b.id, a.id, c.id]);
  assert.deepEqual(two.map((p) => p.for_conversation), [true, true, false]);
  const none = await list('tools=');
  assert.deepEqual(none.map((p) => p.id), [c.id, b.id, a.id], 'no model picked: newest first');
  assert.ok(none.every((p) => p.for_conversation === false));
  const unknown = await list(`tools=${fx.tag}-nosuch`);
  assert.ok(unknown.every((p) => p.for_conversation === false), 'an unknown slug matched a prompt');

  assertError(await api('GET', '/prompts?tools=Not%20A%20Slug', user), 422, 'invalid_field', 'tools');
  assertError(await api('GET', `/prompts?tools=${Array.from({ length: 51 }, (_, i) => `s${i}`).join(',')}`, user), 422, 'invalid_field', 'tools');
  const conv = await fx.conversation(user, [m2]);
  assertError(await api('GET', `/prompts?conversation_id=${conv.id}&tools=${m1.slug}`, user), 422, 'invalid_field', 'tools');
});

/** Run the calls (functions returning promises) n at a time; their results in order. */
async function inBatches(calls, n) {
  const out = [];
  for (let i = 0; i < calls.length; i += n) out.push(...(await Promise.all(calls.slice(i, i + n).map((f) => f()))));
  return out;
}

test('the cap of 500 prompts holds under concurrent creations at its edge', async () => {
  const user = await fx.user({ prefix: 'prmcap' });
  const create = (i) => () => api('POST', '/prompts', { ...user, body: { title: `P${i}`, text: `text ${i}` } });
  const filled = await inBatches(Array.from({ length: 470 }, (_, i) => create(i)), 10);
  assert.deepEqual([...new Set(filled.map((r) => r.status))], [201]);
  // Sixty at once for the last thirty places.
  const burst = await Promise.all(Array.from({ length: 60 }, (_, i) => create(470 + i)()));
  const created = burst.filter((r) => r.status === 201).length;
  for (const res of burst.filter((r) => r.status !== 201)) assertError(res, 409, 'too_many_prompts');
  assert.equal(created, 30, `${created} of the 60 were created`);
  assert.equal(await sqlValue(`SELECT count(*) FROM favorite_prompts WHERE owner_id = :'p1'`, user.id), '500');
  assertError(await api('POST', '/prompts', { ...user, body: { title: 'one more', text: 'x' } }), 409, 'too_many_prompts');
});

const BAD_CREATES = [
  ['no title', { text: 't' }, 'invalid_field', 'title'],
  ['no text', { title: 't' }, 'invalid_field', 'text'],
  ['an empty title', { title: '  ', text: 't' }, 'invalid_field', 'title'],
  ['a title of two lines', { title: 'a\nb', text: 't' }, 'invalid_field', 'title'],
  ['a title too long', { title: 'x'.repeat(201), text: 't' }, 'invalid_field', 'title'],
  ['a text that is not text', { title: 't', text: 5 }, 'invalid_field', 'text'],
  ['a text too long', { title: 't', text: 'x'.repeat(20001) }, 'invalid_field', 'text'],
  ['tools that are not a list', { title: 't', text: 't', tools: 'a' }, 'invalid_field', 'tools'],
  ['a tool that is not a slug', { title: 't', text: 't', tools: ['Not A Slug'] }, 'invalid_field', 'tools'],
  ['an unknown field', { title: 't', text: 't', model: 'x' }, 'unknown_field', 'model'],
];

for (const [what, body, code, field] of BAD_CREATES) {
  test(`a prompt with ${what} is refused (${field}) and nothing is stored`, async () => {
    const before = await sqlValue(`SELECT count(*) FROM favorite_prompts WHERE owner_id = :'p1'`, owner.id);
    assertError(await api('POST', '/prompts', { ...owner, body }), 422, code, field);
    assert.equal(await sqlValue(`SELECT count(*) FROM favorite_prompts WHERE owner_id = :'p1'`, owner.id), before);
  });
}

test('a model that does not exist is refused by name, and nothing is stored or changed', async () => {
  const missing = `${fx.tag}-missing`;
  const res = await api('POST', '/prompts', { ...owner, body: { title: 't', text: 't', tools: [m1.slug, missing] } });
  assertError(res, 422, 'invalid_field', 'tools');
  assert.match(res.json.error.message, new RegExp(missing));
  assert.deepEqual(await sqlJson(`SELECT id FROM favorite_prompts WHERE owner_id = :'p1' AND title = 't'`, owner.id), []);

  const p = await createPrompt(owner, { title: 'Keep', text: 'keep', tools: [m1.slug] });
  assertError(await api('PATCH', `/prompts/${p.id}`, { ...owner, body: { title: 'Changed', tools: [missing] } }), 422, 'invalid_field', 'tools');
  assertError(await api('PATCH', `/prompts/${p.id}`, { ...owner, body: { title: 'Changed', text: '' } }), 422, 'invalid_field', 'text');
  const kept = assertJson(await api('GET', `/prompts/${p.id}`, owner), 200);
  assert.equal(kept.title, 'Keep');
  assert.deepEqual(slugs(kept), [m1.slug]);
});

test('malformed requests: not JSON is 400, a malformed id is 404', async () => {
  assertError(await api('POST', '/prompts', { ...owner, raw: '{"title":', headers: { 'Content-Type': 'application/json' } }), 400, 'malformed_json');
  assertError(await api('GET', '/prompts/not-a-uuid', owner), 404, 'not_found');
  assertError(await api('PATCH', '/prompts/1%27%20OR%201=1', { ...owner, body: { title: 'x' } }), 404, 'not_found');
});

test('a model deleted from the catalog leaves its prompts, without it', async () => {
  const gone = await fx.model();
  const p = await createPrompt(owner, { title: 'Two models', text: 'x', tools: [gone.slug, m1.slug] });
  assertStatus(await api('DELETE', `/admin/tools/${gone.slug}`, ADMIN), 204);
  assert.deepEqual(slugs(assertJson(await api('GET', `/prompts/${p.id}`, owner), 200)), [m1.slug]);
});
