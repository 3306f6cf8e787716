// Versions: a snapshot of a conversation (title, system prompt, settings,
// models, tags, the messages of its visible thread) with a comment; taken on
// demand and before a branch is deleted; listed, viewed, compared message by
// message, and restored as a new conversation equal to the snapshot, never
// over the old one. Listed newest first, a page at a time. Others get 404.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { api } from '../lib/http.mjs';
import { sql, sqlValue } from '../lib/db.mjs';
import { auditRow } from '../lib/audit.mjs';
import { assertError, assertJson, UUID_RE } from '../lib/assert.mjs';
import { ChatFixture, assertPath, say, thread } from '../lib/chat.mjs';

const fx = new ChatFixture('hver');
let model, owner, member, stranger;

before(async () => {
  model = await fx.model({ provider: 'openai' });
  owner = await fx.user();
  member = await fx.user();
  stranger = await fx.user();
});

after(async () => {
  await fx.cleanup();
});

const takeVersion = async (auth, convId, comment) => {
  const res = await api('POST', `/conversations/${convId}/versions`, { ...auth, body: comment === undefined ? {} : { comment } });
  return { res, version: assertJson(res, 201) };
};
const getVersion = async (auth, id) => assertJson(await api('GET', `/versions/${id}`, auth), 200);
const shape = (m) => ({ sender_type: m.sender_type, content: m.content, status: m.status });

test('a version holds the title, settings and the visible thread exactly; listed newest first', async () => {
  const conv = await fx.conversation(owner, [model], { title: 'Versioned', system_prompt: 'Be brief.', settings: { character_limit: 500 } });
  await say(owner, conv.id, 'first question');
  await say(owner, conv.id, 'second question');
  const items = await thread(owner, conv.id);

  const { res, version } = await takeVersion(owner, conv.id, 'before the rewrite');
  assert.match(version.id, UUID_RE);
  assert.equal(version.comment, 'before the rewrite');
  assert.equal(version.reason, 'manual');
  assert.equal(version.message_count, 4);
  assert.equal(version.created_by, owner.user);
  const row = await auditRow(res);
  assert.equal(row.action, 'create');
  assert.equal(row.entity_type, 'version');
  assert.equal(row.entity_id, version.id);

  const full = await getVersion(owner, version.id);
  assert.equal(full.snapshot.title, 'Versioned');
  assert.equal(full.snapshot.system_prompt, 'Be brief.');
  assert.deepEqual(full.snapshot.settings, { character_limit: 500 });
  assert.deepEqual(full.snapshot.models, [model.slug]);
  assert.deepEqual(full.snapshot.tags, []);
  assert.deepEqual(full.snapshot.messages.map(shape), items.map(shape));
  assert.deepEqual(full.snapshot.messages.map((m) => m.id), items.map((m) => m.id));

  // Later changes leave the version as it was.
  await say(owner, conv.id, 'third question');
  assertJson(await api('PATCH', `/conversations/${conv.id}`, { ...owner, body: { title: 'Renamed' } }), 200);
  const again = await getVersion(owner, version.id);
  assert.deepEqual(again.snapshot, full.snapshot);

  const { version: newer } = await takeVersion(owner, conv.id);
  assert.equal(newer.comment, '');
  assert.equal(newer.title, 'Renamed');
  const listed = assertJson(await api('GET', `/conversations/${conv.id}/versions`, owner), 200).items;
  assert.deepEqual(listed.map((v) => v.id), [newer.id, version.id]);
  assert.equal(listed[0].snapshot, undefined, 'the list carries the snapshots');
  // A participant sees them too.
  assertJson(await api('POST', `/conversations/${conv.id}/participants`, { ...owner, body: { username: member.user } }), 200);
  assert.equal(assertJson(await api('GET', `/conversations/${conv.id}/versions`, member), 200).items.length, 2);
});

test('the list comes a page at a time, newest first, with a cursor that ends; bad limit or after is 422; others get 404', async () => {
  const conv = await fx.conversation(owner, [model]);
  await say(owner, conv.id, 'paged');
  const { version: newest } = await takeVersion(owner, conv.id, 'newest');
  // 25 older ones, two by two taken at the same instant (then the id orders them).
  await sql(
    `INSERT INTO conversation_versions (conversation_id, created_by, comment, reason, snapshot, message_count, created_at)
     SELECT v.conversation_id, v.created_by, 'older ' || i, v.reason, v.snapshot, v.message_count,
            v.created_at - interval '1 second' - (i / 2) * interval '1 minute'
       FROM conversation_versions v, generate_series(0, 24) i WHERE v.id = :'p1'`,
    newest.id,
  );
  const expected = JSON.parse(await sqlValue(
    `SELECT json_agg(id ORDER BY created_at DESC, id DESC) FROM conversation_versions WHERE conversation_id = :'p1'`, conv.id));
  assert.equal(expected.length, 26);
  assert.equal(expected[0], newest.id);
  const list = (auth, params = {}) => api('GET', `/conversations/${conv.id}/versions?${new URLSearchParams(params)}`, auth);

  // 20 by default, then the rest, and no cursor after the last page.
  const first = assertJson(await list(owner), 200);
  assert.deepEqual(first.items.map((v) => v.id), expected.slice(0, 20));
  assert.equal(first.items[0].comment, 'newest');
  assert.equal(first.items[0].snapshot, undefined, 'the list carries the snapshots');
  assert.equal(typeof first.next, 'string');
  const rest = assertJson(await list(owner, { after: first.next }), 200);
  assert.deepEqual(rest.items.map((v) => v.id), expected.slice(20));
  assert.equal(rest.next, null);

  // Every version once, in order, whatever the page size; a participant pages the same way.
  assertJson(await api('POST', `/conversations/${conv.id}/participants`, { ...owner, body: { username: member.user } }), 200);
  for (const [auth, limit, pages] of [[owner, '7', 4], [member, '13', 3], [owner, '100', 1]]) {
    const seen = [];
    let after;
    let n = 0;
    do {
      const body = assertJson(await list(auth, { limit, ...(after ? { after } : {}) }), 200);
      assert.ok(body.items.length <= Number(limit));
      seen.push(...body.items.map((v) => v.id));
      after = body.next;
      n++;
    } while (after && n < 10);
    assert.deepEqual(seen, expected, `limit ${limit}`);
    assert.equal(n, pages, `limit ${limit}: pages`);
  }

  for (const limit of ['0', '101', '-1', 'x', '1.5', '10000000']) {
    assertError(await list(owner, { limit }), 422, 'invalid_field', 'limit');
  }
  const uuid = randomUUID();
  const hex = (text) => Buffer.from(text).toString('hex');
  const conversations = assertJson(await api('GET', '/conversations?limit=1', owner), 200).next;
  assert.equal(typeof conversations, 'string');
  for (const after of ['zz', first.next.toUpperCase(), conversations, hex(`j|${uuid}|1700000000000000`),
    hex(`cv|nope|1700000000000000`), hex(`cv|${uuid}|0`), hex(`cv|${uuid}|-5`), hex(`cv|${uuid}`)]) {
    assertError(await list(owner, { after }), 422, 'invalid_field', 'after');
  }

  // Another user's conversation is not found, whatever the page asked for.
  assertError(await list(stranger), 404, 'not_found');
  assertError(await list(stranger, { limit: '5' }), 404, 'not_found');
  assertError(await list(stranger, { after: first.next }), 404, 'not_found');
  assertError(await api('GET', `/conversations/${randomUUID()}/versions?limit=5`, owner), 404, 'not_found');
});

test('a version restored is a new conversation equal to its snapshot; the old one is untouched', async () => {
  const conv = await fx.conversation(owner, [model], { title: 'Original', system_prompt: 'Sys', settings: { first_responder: model.slug } });
  await say(owner, conv.id, 'one');
  await say(owner, conv.id, 'two');
  const { version } = await takeVersion(owner, conv.id, 'keep');
  await say(owner, conv.id, 'three');
  const originalThread = await thread(owner, conv.id);

  const res = await api('POST', `/versions/${version.id}/restore`, owner);
  const restored = fx.track(assertJson(res, 201));
  assert.notEqual(restored.id, conv.id);
  assert.equal(restored.is_owner, true);
  assert.equal(restored.source, 'version');
  const row = await auditRow(res);
  assert.equal(row.action, 'restore');
  assert.equal(row.entity_id, restored.id);
  assert.equal(row.old_values.version_id, version.id);

  const snap = (await getVersion(owner, version.id)).snapshot;
  assert.equal(restored.title, snap.title);
  assert.equal(restored.system_prompt, snap.system_prompt);
  assert.deepEqual(restored.settings, snap.settings);
  assert.deepEqual(restored.tools.map((t) => t.slug), snap.models);
  const items = await thread(owner, restored.id);
  assertPath(items, 'restored thread');
  assert.deepEqual(items.map(shape), snap.messages.map(shape));
  assert.deepEqual(items.map((m) => m.sender), snap.messages.map((m) => m.sender));
  assert.equal(restored.total_messages, snap.messages.length);
  assert.ok(items.every((m) => !snap.messages.some((s) => s.id === m.id)), 'the restored messages share ids with the old ones');

  assert.deepEqual((await thread(owner, conv.id)).map((m) => m.id), originalThread.map((m) => m.id), 'the old conversation changed');

  // The restored conversation goes on like any other.
  await say(owner, restored.id, 'four');
  assert.equal((await thread(owner, restored.id)).length, snap.messages.length + 2);
});

test("a version keeps the owner's tags as they were; a restore applies those of the restorer's tags that still exist", async () => {
  const tagOwner = await fx.user();
  const guest = await fx.user();
  const newTag = async (auth, name, color) => assertJson(await api('POST', '/tags', { ...auth, body: { name, color } }), 201);
  const tagOn = async (auth, convId, tagId, on = true) => assertJson(await api(on ? 'PUT' : 'DELETE', `/conversations/${convId}/tags/${tagId}`, auth), 200);
  const chip = (t) => ({ id: t.id, name: t.name, color: t.color });
  const conv = await fx.conversation(tagOwner, [model], { title: 'Tagged' });
  await say(tagOwner, conv.id, 'tagged question');
  const alpha = await newTag(tagOwner, `Alpha ${fx.tag}`, '#aa0000');
  const beta = await newTag(tagOwner, `beta ${fx.tag}`, '#00aa00');
  const unused = await newTag(tagOwner, `Unused ${fx.tag}`, '#0000aa');
  await tagOn(tagOwner, conv.id, alpha.id);
  await tagOn(tagOwner, conv.id, beta.id);
  // A participant's own tag on the conversation is theirs, not the conversation's.
  assertJson(await api('POST', `/conversations/${conv.id}/participants`, { ...tagOwner, body: { username: guest.user } }), 200);
  const guestTag = await newTag(guest, `Guest ${fx.tag}`, '#123456');
  await tagOn(guest, conv.id, guestTag.id);

  const { version } = await takeVersion(tagOwner, conv.id, 'tagged');
  const taken = await getVersion(tagOwner, version.id);
  assert.deepEqual(taken.snapshot.tags, [chip(alpha), chip(beta)]);
  assert.ok(!taken.snapshot.tags.some((t) => t.id === unused.id || t.id === guestTag.id), 'the snapshot holds a tag not on the conversation');

  // Untagging, renaming and deleting tags afterwards leave the version as it was.
  await tagOn(tagOwner, conv.id, alpha.id, false);
  assertJson(await api('PATCH', `/tags/${alpha.id}`, { ...tagOwner, body: { name: `Alpha renamed ${fx.tag}` } }), 200);
  assert.equal((await api('DELETE', `/tags/${beta.id}`, tagOwner)).status, 204);
  assert.deepEqual(assertJson(await api('GET', `/conversations/${conv.id}`, tagOwner), 200).tags, []);
  const later = await getVersion(tagOwner, version.id);
  assert.deepEqual(later.snapshot, taken.snapshot);

  // Restored: the tags that still exist (by id, as they are now); the deleted one is not made again.
  const tagsBefore = assertJson(await api('GET', '/tags', tagOwner), 200).items.map((t) => t.id).sort();
  const restored = fx.track(assertJson(await api('POST', `/versions/${version.id}/restore`, tagOwner), 201));
  assert.deepEqual(restored.tags, [{ id: alpha.id, name: `Alpha renamed ${fx.tag}`, color: alpha.color }]);
  assert.deepEqual(assertJson(await api('GET', `/conversations/${restored.id}`, tagOwner), 200).tags, restored.tags);
  assert.deepEqual(assertJson(await api('GET', '/tags', tagOwner), 200).items.map((t) => t.id).sort(), tagsBefore, 'a tag was made or lost by the restore');
  assert.deepEqual(assertJson(await api('GET', `/conversations/${conv.id}`, tagOwner), 200).tags, [], 'the old conversation was tagged');

  // A participant sees none of the owner's tags in the version, and restoring it gets none of them.
  assert.deepEqual((await getVersion(guest, version.id)).snapshot.tags, []);
  const theirs = fx.track(assertJson(await api('POST', `/versions/${version.id}/restore`, guest), 201));
  assert.equal(theirs.is_owner, true);
  assert.deepEqual(theirs.tags, []);
  assert.equal(Number(await sqlValue(`SELECT count(*) FROM conversation_tags WHERE conversation_id = :'p1'`, theirs.id)), 0);
  // A version the participant takes still holds the owner's tags, never the participant's.
  await tagOn(tagOwner, conv.id, unused.id);
  const { version: byGuest } = await takeVersion(guest, conv.id, 'by the guest');
  assert.deepEqual((await getVersion(tagOwner, byGuest.id)).snapshot.tags, [chip(unused)]);
  assert.deepEqual((await getVersion(guest, byGuest.id)).snapshot.tags, []);
});

test('two versions compared: the same messages, those changed on another branch, those added', async () => {
  const conv = await fx.conversation(owner, [model]);
  const first = await say(owner, conv.id, 'alpha');
  const { version: a } = await takeVersion(owner, conv.id, 'a');
  await say(owner, conv.id, 'beta');
  const { version: b } = await takeVersion(owner, conv.id, 'b');
  // A new branch from the root: the first exchange is different.
  await say(owner, conv.id, 'gamma', { parent_id: null });
  const { version: c } = await takeVersion(owner, conv.id, 'c');
  assert.ok(first.user_message.id);

  const ab = assertJson(await api('GET', `/versions/${a.id}/diff?with=${b.id}`, owner), 200);
  assert.equal(ab.from.id, a.id);
  assert.equal(ab.to.id, b.id);
  assert.deepEqual(ab.messages.map((m) => m.change), ['same', 'same', 'added', 'added']);
  assert.equal(ab.messages[2].from, null);
  assert.equal(ab.messages[2].to.content, 'beta');
  assert.equal(ab.title_changed, false);

  const bc = assertJson(await api('GET', `/versions/${b.id}/diff?with=${c.id}`, owner), 200);
  assert.deepEqual(bc.messages.map((m) => m.change), ['changed', 'changed', 'removed', 'removed']);
  assert.equal(bc.messages[0].from.content, 'alpha');
  assert.equal(bc.messages[0].to.content, 'gamma');

  const other = await fx.conversation(owner, [model]);
  await say(owner, other.id, 'elsewhere');
  const { version: o } = await takeVersion(owner, other.id);
  assertError(await api('GET', `/versions/${a.id}/diff?with=${o.id}`, owner), 422, 'invalid_field', 'with');
  assertError(await api('GET', `/versions/${a.id}/diff?with=nope`, owner), 422, 'invalid_field', 'with');
  assertError(await api('GET', `/versions/${a.id}/diff`, owner), 422, 'invalid_field', 'with');
});

test('deleting a branch first takes a version of it, then removes it and shows the branch left', async () => {
  const conv = await fx.conversation(owner, [model]);
  const keep = await say(owner, conv.id, 'kept branch');
  const gone = await say(owner, conv.id, 'deleted branch', { parent_id: null });
  await say(owner, conv.id, 'deleted too');
  const before = Number(await sqlValue(`SELECT count(*) FROM messages WHERE conversation_id = :'p1'`, conv.id));
  assert.equal(before, 6);

  assertJson(await api('POST', `/conversations/${conv.id}/participants`, { ...owner, body: { username: member.user } }), 200);
  assertError(await api('DELETE', `/messages/${gone.user_message.id}`, member), 403, 'forbidden');
  assertError(await api('DELETE', `/messages/${gone.user_message.id}`, stranger), 404, 'not_found');

  // Not while a share shows the branch.
  const share = assertJson(await api('PUT', `/conversations/${conv.id}/share`, { ...owner, body: {} }), 201);
  assertError(await api('DELETE', `/messages/${gone.user_message.id}`, owner), 409, 'conflict');
  assert.equal(Number(await sqlValue(`SELECT count(*) FROM conversation_versions WHERE conversation_id = :'p1'`, conv.id)), 0);
  assert.equal((await api('DELETE', `/conversations/${conv.id}/share`, owner)).status, 204);
  assert.ok(share.id);

  const res = await api('DELETE', `/messages/${gone.user_message.id}`, owner);
  const body = assertJson(res, 200);
  assert.equal(body.deleted_messages, 4);
  assert.equal(body.version.reason, 'before_branch_delete');
  assert.equal(body.version.message_count, 4);
  const row = await auditRow(res);
  assert.equal(row.action, 'delete_branch');
  assert.equal(row.entity_id, gone.user_message.id);
  assert.equal(row.new_values.version_id, body.version.id);

  const saved = await getVersion(owner, body.version.id);
  assert.deepEqual(saved.snapshot.messages.map((m) => m.content).filter((_, i) => i % 2 === 0), ['deleted branch', 'deleted too']);
  assert.equal(Number(await sqlValue(`SELECT count(*) FROM messages WHERE conversation_id = :'p1'`, conv.id)), 2);
  const items = await thread(owner, conv.id);
  assert.deepEqual(items.map((m) => m.id), [keep.user_message.id, keep.answers[0].id]);
  assert.equal(body.conversation.active_leaf_id, keep.answers[0].id);
  assert.equal(body.conversation.total_messages, 2);

  // What was deleted comes back through its version.
  const restored = fx.track(assertJson(await api('POST', `/versions/${body.version.id}/restore`, owner), 201));
  assert.deepEqual((await thread(owner, restored.id)).map((m) => m.content), saved.snapshot.messages.map((m) => m.content));
});

test('others get 404 for versions; bad input is refused and writes nothing', async () => {
  const conv = await fx.conversation(owner, [model]);
  await say(owner, conv.id, 'secret');
  const { version } = await takeVersion(owner, conv.id);
  assertError(await api('GET', `/conversations/${conv.id}/versions`, stranger), 404, 'not_found');
  assertError(await api('POST', `/conversations/${conv.id}/versions`, { ...stranger, body: {} }), 404, 'not_found');
  assertError(await api('GET', `/versions/${version.id}`, stranger), 404, 'not_found');
  assertError(await api('POST', `/versions/${version.id}/restore`, stranger), 404, 'not_found');
  assertError(await api('GET', `/versions/${version.id}/diff?with=${version.id}`, stranger), 404, 'not_found');
  assertError(await api('GET', `/versions/${randomUUID()}`, owner), 404, 'not_found');
  assertError(await api('GET', '/versions/x', owner), 404, 'not_found');
  assertError(await api('DELETE', `/messages/${randomUUID()}`, owner), 404, 'not_found');

  const count = await sqlValue(`SELECT count(*) FROM conversation_versions WHERE conversation_id = :'p1'`, conv.id);
  assertError(await api('POST', `/conversations/${conv.id}/versions`, { ...owner, body: { comment: 'x'.repeat(501) } }), 422, 'invalid_field', 'comment');
  assertError(await api('POST', `/conversations/${conv.id}/versions`, { ...owner, body: { comment: 7 } }), 422, 'invalid_field', 'comment');
  assertError(await api('POST', `/conversations/${conv.id}/versions`, { ...owner, body: { note: 'x' } }), 422, 'unknown_field');
  assert.equal(await sqlValue(`SELECT count(*) FROM conversation_versions WHERE conversation_id = :'p1'`, conv.id), count);

  // A deleted conversation's versions are gone with it (for its participants too).
  assert.equal((await api('DELETE', `/conversations/${conv.id}`, owner)).status, 204);
  assertError(await api('GET', `/versions/${version.id}`, owner), 404, 'not_found');
});
