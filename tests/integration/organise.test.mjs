// Organise: tags with colours (unique names per user, counts), tagging a
// conversation, the list filtered by tags (any or all), bulk actions (one
// statement, one audit row per conversation, all or nothing; by ids or on
// all that match the list's filter, past 1,000) and saved searches. Another
// user's tags, conversations and saved searches are 404.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, currentServer } from '../lib/http.mjs';
import { sql, sqlJson, sqlValue } from '../lib/db.mjs';
import { auditRow, auditRows } from '../lib/audit.mjs';
import { assertError, assertJson, assertStatus, UUID_RE } from '../lib/assert.mjs';
import { ChatFixture } from '../lib/chat.mjs';

const fx = new ChatFixture('organise');
let model;
let owner;    // owns the conversations
let guest;    // takes part in `shared`
let stranger; // has nothing to do with them
let shared;   // owner's, guest invited
let plain;    // owner's

before(async () => {
  model = await fx.model({ provider: 'openai' });
  owner = await fx.user({ prefix: 'orgowner' });
  guest = await fx.user({ prefix: 'orgguest' });
  stranger = await fx.user({ prefix: 'orgstranger' });
  shared = await fx.conversation(owner, [model], { title: `Shared ${fx.tag}` });
  plain = await fx.conversation(owner, [model], { title: `Plain ${fx.tag}` });
  assertJson(await api('POST', `/conversations/${shared.id}/participants`, { ...owner, body: { username: guest.user } }), 200);
});

after(async () => {
  await fx.cleanup();
});

async function createTag(auth, body) {
  const res = await api('POST', '/tags', { ...auth, body });
  const tag = assertJson(res, 201);
  assertTagShape(tag, res.label);
  return tag;
}

function assertTagShape(tag, what) {
  const show = JSON.stringify(tag);
  assert.match(tag.id, UUID_RE, `${what}: id ${show}`);
  assert.equal(typeof tag.name, 'string', `${what}: name ${show}`);
  assert.match(tag.color, /^#[0-9a-f]{6}$/, `${what}: color ${show}`);
  assert.ok(Number.isInteger(tag.count) && tag.count >= 0, `${what}: count ${show}`);
}

async function tagsOf(auth) {
  const res = await api('GET', '/tags', auth);
  const body = assertJson(res, 200);
  body.items.forEach((t) => assertTagShape(t, res.label));
  return body.items;
}

async function listIds(auth, query) {
  const res = await api('GET', `/conversations?${query}`, auth);
  return assertJson(res, 200).items.map((c) => c.id);
}

// --- tags -----------------------------------------------------------------------

test('a tag is created with its colour (lower-cased), audited, and listed with a count of 0', async () => {
  const user = await fx.user();
  const res = await api('POST', '/tags', { ...user, body: { name: ' Work ', color: '#1E90FF' } });
  const tag = assertJson(res, 201);
  assert.equal(tag.name, 'Work');
  assert.equal(tag.color, '#1e90ff');
  assert.equal(tag.count, 0);
  const row = await auditRow(res);
  assert.equal(row.action, 'create');
  assert.equal(row.entity_type, 'tag');
  assert.equal(row.entity_id, tag.id);
  assert.deepEqual(row.new_values, { name: 'Work', color: '#1e90ff' });
  assert.deepEqual((await tagsOf(user)).map((t) => [t.id, t.name, t.count]), [[tag.id, 'Work', 0]]);
  const plainTag = await createTag(user, { name: 'no colour given' });
  assert.match(plainTag.color, /^#[0-9a-f]{6}$/);
});

test('a tag name is unique per user whatever its case; another user may use it', async () => {
  const user = await fx.user();
  await createTag(user, { name: 'Ideas', color: '#aabbcc' });
  assertError(await api('POST', '/tags', { ...user, body: { name: 'ideas', color: '#000000' } }), 409, 'name_taken', 'name');
  await createTag(stranger, { name: 'Ideas', color: '#aabbcc' });
  assert.equal((await tagsOf(user)).length, 1);
});

test('bad tags are refused with 422 and nothing stored', async () => {
  const user = await fx.user();
  for (const body of [
    { name: 'x', color: 'red' }, { name: 'x', color: '#12345' }, { name: 'x', color: '#1234567' },
    { name: '', color: '#123456' }, { color: '#123456' }, { name: 'x'.repeat(51) },
    { name: 'tab\there' }, { name: 42 },
  ]) {
    const res = await api('POST', '/tags', { ...user, body });
    assert.equal(res.status, 422, `${JSON.stringify(body)}: ${res.status} ${res.text}`);
    assert.equal(res.json.error.code, 'invalid_field');
  }
  assertError(await api('POST', '/tags', { ...user, body: { name: 'x', colour: '#123456' } }), 422, 'unknown_field');
  assert.deepEqual(await tagsOf(user), []);
});

test('a tag is renamed and recoloured by its user; others get 404 and change nothing', async () => {
  const user = await fx.user();
  const tag = await createTag(user, { name: 'Draft', color: '#111111' });
  const res = await api('PATCH', `/tags/${tag.id}`, { ...user, body: { color: '#222222' } });
  assert.deepEqual([assertJson(res, 200).name, res.json.color], ['Draft', '#222222']);
  const row = await auditRow(res);
  assert.deepEqual([row.action, row.old_values, row.new_values],
    ['update', { name: 'Draft', color: '#111111' }, { name: 'Draft', color: '#222222' }]);
  assertJson(await api('PATCH', `/tags/${tag.id}`, { ...user, body: { name: 'Final' } }), 200);
  assertError(await api('PATCH', `/tags/${tag.id}`, { ...stranger, body: { name: 'Mine' } }), 404, 'not_found');
  assertStatus(await api('DELETE', `/tags/${tag.id}`, stranger), 404);
  assertError(await api('PATCH', '/tags/not-a-uuid', { ...user, body: { name: 'x' } }), 404, 'not_found');
  assert.deepEqual((await tagsOf(user)).map((t) => [t.name, t.color]), [['Final', '#222222']]);
  assert.ok(!(await tagsOf(stranger)).some((t) => t.id === tag.id), 'another user lists the tag');
});

// --- tagging --------------------------------------------------------------------

test('tagging a conversation shows on it, counts, is idempotent, and is undone by DELETE', async () => {
  const tag = await createTag(owner, { name: `Red ${fx.tag}`, color: '#ff0000' });
  const res = await api('PUT', `/conversations/${plain.id}/tags/${tag.id}`, owner);
  assert.deepEqual(assertJson(res, 200).tags, [{ id: tag.id, name: tag.name, color: '#ff0000' }]);
  const row = await auditRow(res);
  assert.deepEqual([row.action, row.entity_type, row.entity_id], ['tag', 'conversation', plain.id]);
  assertJson(await api('PUT', `/conversations/${plain.id}/tags/${tag.id}`, owner), 200);
  const conv = assertJson(await api('GET', `/conversations/${plain.id}`, owner), 200);
  assert.deepEqual(conv.tags.map((t) => t.id), [tag.id]);
  assert.equal((await tagsOf(owner)).find((t) => t.id === tag.id).count, 1);
  assert.deepEqual(assertJson(await api('DELETE', `/conversations/${plain.id}/tags/${tag.id}`, owner), 200).tags, []);
  assert.equal((await tagsOf(owner)).find((t) => t.id === tag.id).count, 0);
});

test("a participant tags with their own tags, which the owner does not see; strangers get 404", async () => {
  const mine = await createTag(guest, { name: 'Guest tag', color: '#00ff00' });
  assertJson(await api('PUT', `/conversations/${shared.id}/tags/${mine.id}`, guest), 200);
  const seenByOwner = assertJson(await api('GET', `/conversations/${shared.id}`, owner), 200);
  assert.ok(!seenByOwner.tags.some((t) => t.id === mine.id), 'the owner sees the guest\'s tag');
  const seenByGuest = assertJson(await api('GET', `/conversations/${shared.id}`, guest), 200);
  assert.deepEqual(seenByGuest.tags.map((t) => t.id), [mine.id]);

  const theirs = await createTag(stranger, { name: 'Stranger tag', color: '#0000ff' });
  assertError(await api('PUT', `/conversations/${plain.id}/tags/${theirs.id}`, stranger), 404, 'not_found');
  const ownerTag = await createTag(owner, { name: `Owner only ${fx.tag}`, color: '#123123' });
  assertError(await api('PUT', `/conversations/${plain.id}/tags/${theirs.id}`, owner), 404, 'not_found');
  assertError(await api('PUT', `/conversations/${plain.id}/tags/${ownerTag.id}`, stranger), 404, 'not_found');
  assertError(await api('PUT', `/conversations/${plain.id}/tags/nope`, owner), 404, 'not_found');
  const rows = await sqlJson(`SELECT tag_id FROM conversation_tags WHERE conversation_id = :'p1'`, plain.id);
  assert.deepEqual(rows, []);
});

test('the list filters by tags: any of them, or all of them; another user\'s tag matches nothing', async () => {
  const user = await fx.user();
  const a = await fx.conversation(user, [model], { title: 'A' });
  const b = await fx.conversation(user, [model], { title: 'B' });
  const c = await fx.conversation(user, [model], { title: 'C' });
  const red = await createTag(user, { name: 'red', color: '#ff0000' });
  const blue = await createTag(user, { name: 'blue', color: '#0000ff' });
  for (const [conv, tag] of [[a, red], [b, red], [b, blue], [c, blue]]) {
    assertJson(await api('PUT', `/conversations/${conv.id}/tags/${tag.id}`, user), 200);
  }
  assert.deepEqual(new Set(await listIds(user, `tags=${red.id}`)), new Set([a.id, b.id]));
  assert.deepEqual(new Set(await listIds(user, `tags=${red.id},${blue.id}`)), new Set([a.id, b.id, c.id]));
  assert.deepEqual(await listIds(user, `tags=${red.id},${blue.id}&tags_mode=all`), [b.id]);
  assert.equal((await listIds(user, '')).length, 3);

  // The stranger's tag on a conversation they cannot see, asked for by its owner: nothing.
  const theirs = await createTag(stranger, { name: 'theirs', color: '#000000' });
  await sql(`INSERT INTO conversation_tags (tag_id, conversation_id) VALUES (:'p1', :'p2')`, theirs.id, a.id);
  assert.deepEqual(await listIds(user, `tags=${theirs.id}`), []);
  assert.deepEqual(await listIds(stranger, `tags=${theirs.id}`), []);

  assertError(await api('GET', '/conversations?tags=nope', user), 422, 'invalid_field', 'tags');
  assertError(await api('GET', `/conversations?tags=${red.id}&tags_mode=most`, user), 422, 'invalid_field', 'tags_mode');
});

test('deleting a tag takes it off every conversation', async () => {
  const user = await fx.user();
  const conv = await fx.conversation(user, [model]);
  const tag = await createTag(user, { name: 'gone', color: '#abcdef' });
  assertJson(await api('PUT', `/conversations/${conv.id}/tags/${tag.id}`, user), 200);
  const res = await api('DELETE', `/tags/${tag.id}`, user);
  assertStatus(res, 204);
  assert.equal((await auditRow(res)).action, 'delete');
  assert.deepEqual(assertJson(await api('GET', `/conversations/${conv.id}`, user), 200).tags, []);
  assertStatus(await api('DELETE', `/tags/${tag.id}`, user), 404);
});

// --- bulk -------------------------------------------------------------------------

/** n conversations of user's with the fixture's model, made in SQL. */
async function manyConversations(user, n) {
  const rows = await sql(
    `WITH c AS (INSERT INTO conversations (owner_id, title)
                SELECT :'p1', 'bulk ' || i FROM generate_series(1, :'p2'::int) i RETURNING id),
          m AS (INSERT INTO conversation_ai_models (conversation_id, tool_id, position)
                SELECT id, :'p3', 0 FROM c)
     SELECT id FROM c`,
    user.id, n, model.id,
  );
  return rows.map((r) => r[0]);
}

test('a bulk tag of 500 conversations is one statement: one transaction, 500 audit rows', async () => {
  const user = await fx.user();
  const ids = await manyConversations(user, 500);
  const tag = await createTag(user, { name: 'many', color: '#101010' });
  const res = await api('POST', '/conversations/bulk', { ...user, body: { ids, action: 'tag', tag_id: tag.id } });
  const body = assertJson(res, 200);
  assert.deepEqual([body.action, body.count], ['tag', 500]);
  const rows = await auditRows(res.requestId);
  assert.equal(rows.length, 500);
  assert.deepEqual(new Set(rows.map((r) => r.entity_id)), new Set(ids));
  assert.ok(rows.every((r) => r.action === 'tag' && r.entity_type === 'conversation' && r.status === 200));
  assert.ok(rows.every((r) => r.new_values.tagged === true && r.old_values.tagged === false));
  // Every row written by one transaction: the tags and the audit rows share its id.
  const xids = await sqlJson(
    `SELECT DISTINCT xmin::text AS x FROM conversation_tags WHERE tag_id = :'p1'
     UNION SELECT DISTINCT xmin::text FROM audit_logs WHERE request_id = :'p2'`,
    tag.id, res.requestId,
  );
  assert.equal(xids.length, 1, `written by ${xids.length} transactions`);
  assert.equal((await tagsOf(user)).find((t) => t.id === tag.id).count, 500);

  const archive = await api('POST', '/conversations/bulk', { ...user, body: { ids, action: 'archive' } });
  assert.equal(assertJson(archive, 200).count, 500);
  assert.equal((await auditRows(archive.requestId)).length, 500);
  assert.equal(Number(await sqlValue(`SELECT count(*) FROM conversations WHERE owner_id = :'p1' AND archived`, user.id)), 500);
  assert.equal((await listIds(user, `tags=${tag.id}`)).length, 0);
  assert.equal((await listIds(user, `tags=${tag.id}&archived=true&limit=100`)).length, 100);
  await sql(`DELETE FROM conversations WHERE owner_id = :'p1'`, user.id);
});

test('bulk archive, unarchive, delete, restore and untag do what they say, each audited per conversation', async () => {
  const user = await fx.user();
  const ids = await manyConversations(user, 3);
  const tag = await createTag(user, { name: 't', color: '#202020' });
  const run = async (action, extra = {}) => {
    const res = await api('POST', '/conversations/bulk', { ...user, body: { ids, action, ...extra } });
    assert.equal(assertJson(res, 200).count, 3, `${action}: ${res.text}`);
    const rows = await auditRows(res.requestId);
    assert.equal(rows.length, 3);
    assert.ok(rows.every((r) => r.action === action));
    return rows;
  };
  const state = () => sqlJson(
    `SELECT archived, deleted_at IS NOT NULL AS deleted, status FROM conversations WHERE id = ANY (:'p1'::uuid[]) GROUP BY 1, 2, 3`,
    `{${ids.join(',')}}`,
  );
  await run('archive');
  assert.deepEqual(await state(), [{ archived: true, deleted: false, status: 'active' }]);
  const un = await run('unarchive');
  assert.deepEqual([un[0].old_values, un[0].new_values], [{ archived: true }, { archived: false }]);
  assert.deepEqual(await state(), [{ archived: false, deleted: false, status: 'active' }]);
  await run('tag', { tag_id: tag.id });
  await run('delete');
  assert.deepEqual(await state(), [{ archived: false, deleted: true, status: 'deleted' }]);
  assert.equal((await listIds(user, '')).length, 0);
  assert.equal((await tagsOf(user))[0].count, 0, 'a deleted conversation counts');
  // A deleted conversation is not archived, deleted again, or tagged in bulk.
  assertError(await api('POST', '/conversations/bulk', { ...user, body: { ids, action: 'archive' } }), 404, 'not_found', 'ids');
  await run('restore');
  assert.deepEqual(await state(), [{ archived: false, deleted: false, status: 'active' }]);
  assert.equal((await tagsOf(user))[0].count, 3);
  await run('untag', { tag_id: tag.id });
  assert.equal((await tagsOf(user))[0].count, 0);
  assertError(await api('POST', '/conversations/bulk', { ...user, body: { ids, action: 'restore' } }), 404, 'not_found', 'ids');
});

test('a bulk request naming one conversation the user may not act on changes nothing', async () => {
  const user = await fx.user();
  const ids = await manyConversations(user, 5);
  const theirs = await manyConversations(stranger, 1);
  const res = await api('POST', '/conversations/bulk', { ...user, body: { ids: [...ids, theirs[0]], action: 'archive' } });
  assertError(res, 404, 'not_found', 'ids');
  assert.ok(res.json.error.message.includes(theirs[0]), res.text);
  assert.equal(Number(await sqlValue(`SELECT count(*) FROM conversations WHERE id = ANY (:'p1'::uuid[]) AND archived`, `{${[...ids, ...theirs].join(',')}}`)), 0);
  const rows = await auditRows(res.requestId);
  assert.equal(rows.length, 1, 'a refused bulk request has its one audit row');
  assert.equal(rows[0].status, 404);
  // A participant may tag in bulk, but not archive the owner's conversation.
  const tag = await createTag(guest, { name: `bulk ${fx.tag}`, color: '#303030' });
  assertJson(await api('POST', '/conversations/bulk', { ...guest, body: { ids: [shared.id], action: 'tag', tag_id: tag.id } }), 200);
  assertError(await api('POST', '/conversations/bulk', { ...guest, body: { ids: [shared.id], action: 'archive' } }), 404, 'not_found');
  // Another user's tag.
  assertError(await api('POST', '/conversations/bulk', { ...user, body: { ids, action: 'tag', tag_id: tag.id } }), 404, 'not_found', 'tag_id');
  await sql(`DELETE FROM conversations WHERE id = ANY (:'p1'::uuid[])`, `{${[...ids, ...theirs].join(',')}}`);
});

/** POST /conversations/bulk as user, the answer's bytes kept. */
async function bulkRaw(user, body) {
  const res = await fetch(`${currentServer()}/chat/api/v1/conversations/bulk`, {
    method: 'POST',
    headers: { Authorization: 'Basic ' + Buffer.from(`${user.user}:${user.password}`).toString('base64'), 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, requestId: res.headers.get('x-request-id'), bytes: Buffer.from(await res.arrayBuffer()) };
}

test('bulk export: the selected chats as the export ZIP, one audit row per chat; another user\'s chat refuses it all', async () => {
  const user = await fx.user();
  const ids = await manyConversations(user, 3);
  await sql(`UPDATE conversations SET title = 'export ' || id WHERE id = ANY (:'p1'::uuid[])`, `{${ids.join(',')}}`);
  const chosen = ids.slice(0, 2);
  const res = await bulkRaw(user, { ids: chosen, action: 'export' });
  assert.equal(res.status, 200, res.bytes.toString());
  assert.equal(res.headers.get('content-type'), 'application/zip');
  assert.equal(res.headers.get('content-disposition'), 'attachment; filename="aichat-export.zip"');
  const dir = mkdtempSync(join(tmpdir(), 'aichat-bulk-'));
  try {
    writeFileSync(join(dir, 'x.zip'), res.bytes);
    const names = execFileSync('unzip', ['-Z1', join(dir, 'x.zip')]).toString().trim().split('\n').sort();
    // json/ and markdown/ hold a file per chosen chat (its title, then its id's first 8), and conversations.json.
    assert.equal(names.length, 2 * 2 + 1, names.join(' '));
    for (const id of chosen) assert.equal(names.filter((n) => n.includes(id.slice(0, 8))).length, 2, `${id} in ${names}`);
    assert.ok(!names.some((n) => n.includes(ids[2].slice(0, 8))), names.join(' '));
    const conversations = JSON.parse(execFileSync('unzip', ['-p', join(dir, 'x.zip'), 'conversations.json']).toString());
    assert.deepEqual(conversations.map((c) => c.title).sort(), chosen.map((id) => `export ${id}`).sort());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const rows = await auditRows(res.requestId);
  assert.deepEqual(rows.map((r) => r.entity_id).sort(), [...chosen].sort());
  assert.ok(rows.every((r) => r.action === 'export' && r.entity_type === 'conversation' && r.status === 200), JSON.stringify(rows));

  // Another user's chat, or a deleted one: 404 naming it, no ZIP.
  const theirs = await manyConversations(stranger, 1);
  const refused = await api('POST', '/conversations/bulk', { ...user, body: { ids: [...chosen, theirs[0]], action: 'export' } });
  assertError(refused, 404, 'not_found', 'ids');
  assert.ok(refused.json.error.message.includes(theirs[0]), refused.text);
  assertError(await api('POST', '/conversations/bulk', { ...user, body: { ids: chosen, action: 'export', tag_id: chosen[0] } }), 422, 'invalid_field', 'tag_id');
  await sql(`DELETE FROM conversations WHERE id = ANY (:'p1'::uuid[])`, `{${[...ids, ...theirs].join(',')}}`);
});

test('bad bulk requests are 422', async () => {
  const user = await fx.user();
  const [id] = await manyConversations(user, 1);
  for (const [body, field] of [
    [{ ids: [id], action: 'explode' }, 'action'],
    [{ ids: [id] }, 'action'],
    [{ ids: [], action: 'archive' }, 'ids'],
    [{ ids: 'x', action: 'archive' }, 'ids'],
    [{ ids: ['nope'], action: 'archive' }, 'ids'],
    [{ ids: [42], action: 'archive' }, 'ids'],
    [{ ids: Array.from({ length: 1001 }, () => id), action: 'archive' }, 'ids'],
    [{ ids: [id], action: 'tag' }, 'tag_id'],
    [{ ids: [id], action: 'archive', tag_id: id }, 'tag_id'],
  ]) {
    const res = await api('POST', '/conversations/bulk', { ...user, body });
    assertError(res, 422, 'invalid_field', field);
  }
  assertError(await api('POST', '/conversations/bulk', { ...user, body: { ids: [id], action: 'archive', extra: 1 } }), 422, 'unknown_field');
  await sql(`DELETE FROM conversations WHERE id = :'p1'`, id);
});

// --- bulk on all that match the list's filter ------------------------------------

/** How many of ids (conversation ids) are in SQL's answer to `where` (on conversations c). */
async function countWhere(where, ids) {
  return Number(await sqlValue(`SELECT count(*) FROM conversations c WHERE c.id = ANY (:'p1'::uuid[]) AND (${where})`, `{${ids.join(',')}}`));
}

test('a bulk action on all that match a filter reaches past 1,000 chats: only the viewer\'s matches, one statement, an audit row each', async () => {
  const user = await fx.user();
  const other = await fx.user();
  const red = await createTag(user, { name: 'red', color: '#ff0000' });
  const blue = await createTag(user, { name: 'blue', color: '#0000ff' });
  const matching = await manyConversations(user, 1100);
  const unmatched = await manyConversations(user, 40);
  const theirs = await manyConversations(other, 30);
  // The user's tag on their matching chats, and (as another user's chat cannot
  // carry it through the API) on the other user's chats in SQL.
  await sql(`INSERT INTO conversation_tags (tag_id, conversation_id) SELECT :'p1', unnest(:'p2'::uuid[])`, red.id, `{${[...matching, ...theirs].join(',')}}`);
  // A chat of the other user's that the user takes part in, tagged by them: listed, so matched.
  const joined = await fx.conversation(other, [model], { title: 'joined' });
  assertJson(await api('POST', `/conversations/${joined.id}/participants`, { ...other, body: { username: user.user } }), 200);
  assertJson(await api('PUT', `/conversations/${joined.id}/tags/${red.id}`, user), 200);
  const listed = [...matching, joined.id];

  // The server tells how many match, all pages (the list shows 100 at most a page).
  const counted = await api('GET', `/conversations/bulk/count?tags=${red.id}`, user);
  assert.deepEqual(assertJson(counted, 200), { count: 1101 });
  assert.deepEqual(assertJson(await api('GET', '/conversations/bulk/count', user), 200), { count: 1141 });
  assert.deepEqual(assertJson(await api('GET', `/conversations/bulk/count?tags=${red.id}`, other), 200), { count: 0 });

  // Tag all that match: the user's 1,100 and the chat they take part in.
  const tagged = await api('POST', '/conversations/bulk', { ...user, body: { filter: { tags: [red.id] }, action: 'tag', tag_id: blue.id } });
  const body = assertJson(tagged, 200);
  assert.deepEqual([body.action, body.count], ['tag', 1101]);
  assert.deepEqual(new Set(body.ids), new Set(listed));
  const rows = await auditRows(tagged.requestId);
  assert.equal(rows.length, 1101);
  assert.deepEqual(new Set(rows.map((r) => r.entity_id)), new Set(listed));
  assert.ok(rows.every((r) => r.action === 'tag' && r.entity_type === 'conversation' && r.status === 200));
  assert.ok(rows.every((r) => r.old_values.tagged === false && r.new_values.tagged === true && r.new_values.tag_id === blue.id));
  const xids = await sqlJson(
    `SELECT DISTINCT xmin::text AS x FROM conversation_tags WHERE tag_id = :'p1'
     UNION SELECT DISTINCT xmin::text FROM audit_logs WHERE request_id = :'p2'`,
    blue.id, tagged.requestId,
  );
  assert.equal(xids.length, 1, `written by ${xids.length} transactions`);
  const blueOn = (await sqlJson(`SELECT conversation_id AS id FROM conversation_tags WHERE tag_id = :'p1'`, blue.id)).map((r) => r.id);
  assert.deepEqual(new Set(blueOn), new Set(listed), 'blue is on exactly the chats that matched');
  assert.equal((await tagsOf(user)).find((t) => t.id === blue.id).count, 1101);

  // Archive all that match (tags as the list writes them): the user's own only.
  const archived = await api('POST', '/conversations/bulk', { ...user, body: { filter: { tags: `${red.id},${blue.id}`, tags_mode: 'all' }, action: 'archive' } });
  assert.deepEqual([assertJson(archived, 200).count, new Set(archived.json.ids)], [1100, new Set(matching)]);
  const archiveRows = await auditRows(archived.requestId);
  assert.equal(archiveRows.length, 1100);
  assert.deepEqual(new Set(archiveRows.map((r) => r.entity_id)), new Set(matching));
  assert.ok(archiveRows.every((r) => r.action === 'archive' && r.old_values.archived === false && r.new_values.archived === true));
  assert.equal(await countWhere('c.archived', matching), 1100);
  assert.equal(await countWhere('c.archived', unmatched), 0, 'a chat the filter does not match was archived');
  assert.equal(await countWhere('c.archived', theirs), 0, "another user's chat was archived");
  assert.equal(await countWhere('c.archived', [joined.id]), 0, 'a chat the user only takes part in was archived');
  assert.equal(Number(await sqlValue(`SELECT count(*) FROM conversation_tags WHERE tag_id = :'p1' AND conversation_id = ANY (:'p2'::uuid[])`, blue.id, `{${theirs.join(',')}}`)), 0);
  // The list now: 40 unmatched and the joined chat unarchived; the archived list has them all.
  assert.deepEqual(assertJson(await api('GET', '/conversations/bulk/count', user), 200), { count: 41 });
  assert.deepEqual(assertJson(await api('GET', '/conversations/bulk/count?archived=true', user), 200), { count: 1100 });

  // A summary job names at most 1,000 chats, as the ids form does: refused, nothing queued.
  const summarise = await api('POST', '/conversations/bulk', { ...user, body: { filter: { archived: true }, action: 'summarise' } });
  assertError(summarise, 422, 'too_many_matches', 'filter');
  assert.equal(Number(await sqlValue(`SELECT count(*) FROM summary_jobs WHERE owner_id = :'p1'`, user.id)), 0);
  assert.equal((await auditRow(summarise)).status, 422);

  // Unarchive them again: all that match the archived list.
  const back = await api('POST', '/conversations/bulk', { ...user, body: { filter: { archived: 'true' }, action: 'unarchive' } });
  assert.equal(assertJson(back, 200).count, 1100);
  assert.equal((await auditRows(back.requestId)).length, 1100);
  assert.equal(await countWhere('c.archived', matching), 0);
  await sql(`DELETE FROM conversations WHERE owner_id = ANY (:'p1'::uuid[])`, `{${user.id},${other.id}}`);
});

test('delete and restore all that match; a filter matching nothing changes nothing and answers 0', async () => {
  const user = await fx.user();
  const ids = await manyConversations(user, 6);
  await sql(`UPDATE conversations SET title = 'keep ' || id WHERE id = ANY (:'p1'::uuid[])`, `{${ids.slice(3).join(',')}}`);
  const gone = ids.slice(0, 3);
  const del = await api('POST', '/conversations/bulk', { ...user, body: { filter: { q: 'bulk' }, action: 'delete' } });
  assert.deepEqual([assertJson(del, 200).count, new Set(del.json.ids)], [3, new Set(gone)]);
  assert.deepEqual((await auditRows(del.requestId)).map((r) => [r.action, r.old_values.status, r.new_values.status]),
    gone.map(() => ['delete', 'active', 'deleted']));
  assert.equal(await countWhere('c.deleted_at IS NOT NULL', ids), 3);
  assert.deepEqual(new Set(await listIds(user, '')), new Set(ids.slice(3)));

  const restored = await api('POST', '/conversations/bulk', { ...user, body: { filter: { deleted: 'true' }, action: 'restore' } });
  assert.deepEqual([assertJson(restored, 200).count, new Set(restored.json.ids)], [3, new Set(gone)]);
  assert.equal((await auditRows(restored.requestId)).length, 3);
  assert.equal(await countWhere('c.deleted_at IS NOT NULL', ids), 0);

  const none = await api('POST', '/conversations/bulk', { ...user, body: { filter: { q: 'no such title' }, action: 'archive' } });
  assert.deepEqual(assertJson(none, 200), { action: 'archive', count: 0, ids: [] });
  const [row] = [await auditRow(none)];
  assert.deepEqual([row.action, row.entity_type, row.entity_id, row.status], ['archive', 'conversation', null, 200]);
  assert.equal(await countWhere('c.archived', ids), 0);
  await sql(`DELETE FROM conversations WHERE id = ANY (:'p1'::uuid[])`, `{${ids.join(',')}}`);
});

test('a bad filter is 422 naming its field, and changes nothing', async () => {
  const user = await fx.user();
  const ids = await manyConversations(user, 2);
  const tag = await createTag(user, { name: 'f', color: '#505050' });
  for (const [body, code, field] of [
    [{ filter: 'archived=true', action: 'archive' }, 'invalid_field', 'filter'],
    [{ filter: [], action: 'archive' }, 'invalid_field', 'filter'],
    [{ filter: {}, ids, action: 'archive' }, 'invalid_field', 'filter'],
    [{ filter: { archived: 'maybe' }, action: 'archive' }, 'invalid_field', 'filter.archived'],
    [{ filter: { pinned: 1 }, action: 'archive' }, 'invalid_field', 'filter.pinned'],
    [{ filter: { tags: 'nope' }, action: 'archive' }, 'invalid_field', 'filter.tags'],
    [{ filter: { tags: [42] }, action: 'archive' }, 'invalid_field', 'filter.tags'],
    [{ filter: { tags: [tag.id], tags_mode: 'most' }, action: 'archive' }, 'invalid_field', 'filter.tags_mode'],
    [{ filter: { has_notes: 'perhaps' }, action: 'archive' }, 'invalid_field', 'filter.has_notes'],
    [{ filter: { tool: 'Not a slug!' }, action: 'archive' }, 'invalid_field', 'filter.tool'],
    [{ filter: { q: 'x'.repeat(401) }, action: 'archive' }, 'invalid_field', 'filter.q'],
    [{ filter: { colour: 'red' }, action: 'archive' }, 'unknown_field', 'filter.colour'],
    [{ filter: { limit: '5' }, action: 'archive' }, 'unknown_field', 'filter.limit'],
    [{ filter: {}, action: 'restore' }, 'invalid_field', 'filter.deleted'],
    [{ filter: { deleted: true }, action: 'archive' }, 'invalid_field', 'filter.deleted'],
    [{ filter: {}, action: 'tag' }, 'invalid_field', 'tag_id'],
  ]) {
    const res = await api('POST', '/conversations/bulk', { ...user, body });
    assertError(res, 422, code, field);
    // The refusal ends the request: no statement runs after it.
    assert.equal((await auditRow(res)).status, 422, `${JSON.stringify(body)}: the request went on after its 422`);
  }
  assertError(await api('GET', '/conversations/bulk/count?archived=maybe', user), 422, 'invalid_field', 'archived');
  assertError(await api('GET', '/conversations/bulk/count?tags=nope', user), 422, 'invalid_field', 'tags');
  assert.equal(await countWhere('c.archived OR c.deleted_at IS NOT NULL', ids), 0);
  await sql(`DELETE FROM conversations WHERE id = ANY (:'p1'::uuid[])`, `{${ids.join(',')}}`);
});

// --- saved searches ----------------------------------------------------------------

test('saved searches are created, listed, renamed and deleted by their user only', async () => {
  const user = await fx.user();
  const tag = await createTag(user, { name: 'saved', color: '#404040' });
  const res = await api('POST', '/saved-searches', {
    ...user, body: { name: 'Recent work', query: { q: 'report "quarterly numbers"', tags: tag.id, from: '2026-01-01' } },
  });
  const saved = assertJson(res, 201);
  assert.match(saved.id, UUID_RE);
  assert.deepEqual(saved.query, { q: 'report "quarterly numbers"', tags: tag.id, from: '2026-01-01' });
  assert.equal((await auditRow(res)).entity_type, 'saved_search');
  assert.deepEqual(assertJson(await api('GET', '/saved-searches', user), 200).items.map((s) => s.name), ['Recent work']);
  assertError(await api('POST', '/saved-searches', { ...user, body: { name: 'recent WORK', query: { q: 'x' } } }), 409, 'name_taken', 'name');
  const renamed = assertJson(await api('PATCH', `/saved-searches/${saved.id}`, { ...user, body: { name: 'Work' } }), 200);
  assert.deepEqual([renamed.name, renamed.query.q], ['Work', 'report "quarterly numbers"']);
  assertError(await api('PATCH', `/saved-searches/${saved.id}`, { ...stranger, body: { name: 'Mine' } }), 404, 'not_found');
  assertStatus(await api('DELETE', `/saved-searches/${saved.id}`, stranger), 404);
  assert.deepEqual(assertJson(await api('GET', '/saved-searches', stranger), 200).items.filter((s) => s.id === saved.id), []);
  assertStatus(await api('DELETE', `/saved-searches/${saved.id}`, user), 204);
  assert.deepEqual(assertJson(await api('GET', '/saved-searches', user), 200).items, []);
});

test('a saved search is checked as a search is', async () => {
  const user = await fx.user();
  for (const query of [{}, { q: '' }, { q: 'x', tags: 'nope' }, { q: 'x', from: 'yesterday' }, { q: 'x', archived: 'maybe' }, { q: 5 }, 'q=x']) {
    const res = await api('POST', '/saved-searches', { ...user, body: { name: 'bad', query } });
    assert.equal(res.status, 422, `${JSON.stringify(query)}: ${res.status} ${res.text}`);
  }
  assertError(await api('POST', '/saved-searches', { ...user, body: { name: 'bad', query: { q: 'x', colour: 'red' } } }), 422, 'unknown_field');
  assertError(await api('POST', '/saved-searches', { ...user, body: { query: { q: 'x' } } }), 422, 'invalid_field', 'name');
  assert.deepEqual(assertJson(await api('GET', '/saved-searches', user), 200).items, []);
});
