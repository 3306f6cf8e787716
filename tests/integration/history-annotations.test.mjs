// Annotations: a note on a range of a message's text (position: start, end
// and the quoted text), made by anyone who takes part in the conversation,
// seen by all of them, changed and deleted by its author alone; others get
// 404; bad input is a 422 and writes nothing; every change has its audit row.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { api } from '../lib/http.mjs';
import { sqlValue } from '../lib/db.mjs';
import { auditRow } from '../lib/audit.mjs';
import { assertError, assertJson, UUID_RE } from '../lib/assert.mjs';
import { ChatFixture, say } from '../lib/chat.mjs';

const fx = new ChatFixture('hann');
let model, owner, member, stranger, conv, answer;

before(async () => {
  model = await fx.model({ provider: 'openai' });
  owner = await fx.user();
  member = await fx.user();
  stranger = await fx.user();
  conv = await fx.conversation(owner, [model]);
  const body = await say(owner, conv.id, 'Tell me about annotations');
  answer = body.answers[0];
  assertJson(await api('POST', `/conversations/${conv.id}/participants`, { ...owner, body: { username: member.user } }), 200);
});

after(async () => {
  await fx.cleanup();
});

const position = (text, quote) => {
  const start = text.indexOf(quote);
  assert.ok(start >= 0, `"${quote}" is not in "${text}"`);
  return { start, end: start + [...quote].length, quote };
};

const annotate = (auth, body, convId = conv.id) => api('POST', `/conversations/${convId}/annotations`, { ...auth, body });
const list = async (auth) => assertJson(await api('GET', `/conversations/${conv.id}/annotations`, auth), 200).items;

test('a note on a range of an answer is stored with its position and listed for every participant', async () => {
  const pos = position(answer.content, 'reply');
  const res = await annotate(owner, { message_id: answer.id, position: pos, note: 'Check this  word' });
  const note = assertJson(res, 201);
  assert.match(note.id, UUID_RE);
  assert.equal(note.message_id, answer.id);
  assert.equal(note.conversation_id, conv.id);
  assert.deepEqual(note.position, pos);
  assert.equal(note.note, 'Check this  word');
  assert.equal(note.author.username, owner.user);
  assert.equal(note.is_author, true);

  const row = await auditRow(res);
  assert.equal(row.action, 'create');
  assert.equal(row.entity_type, 'annotation');
  assert.equal(row.entity_id, note.id);
  assert.equal(row.new_values.note, 'Check this  word');

  const seenByMember = (await list(member)).find((a) => a.id === note.id);
  assert.ok(seenByMember, 'a participant does not see the owner’s note');
  assert.equal(seenByMember.is_author, false);
  assert.deepEqual(seenByMember.position, pos);
});

test('a participant annotates too; only the author changes or deletes a note', async () => {
  const mine = assertJson(await annotate(member, { message_id: answer.id, position: position(answer.content, 'Mock'), note: 'member note' }), 201);
  assert.equal(mine.author.username, member.user);

  assertError(await api('PATCH', `/annotations/${mine.id}`, { ...owner, body: { note: 'hijacked' } }), 403, 'forbidden');
  assertError(await api('DELETE', `/annotations/${mine.id}`, owner), 403, 'forbidden');
  assert.equal(await sqlValue(`SELECT note FROM annotations WHERE id = :'p1'`, mine.id), 'member note');

  const res = await api('PATCH', `/annotations/${mine.id}`, { ...member, body: { note: 'edited note' } });
  const edited = assertJson(res, 200);
  assert.equal(edited.note, 'edited note');
  assert.deepEqual(edited.position, mine.position, 'a change of the note moved it');
  const row = await auditRow(res);
  assert.equal(row.action, 'update');
  assert.equal(row.old_values.note, 'member note');
  assert.equal(row.new_values.note, 'edited note');

  const moved = position(answer.content, 'to');
  assert.deepEqual(assertJson(await api('PATCH', `/annotations/${mine.id}`, { ...member, body: { position: moved } }), 200).position, moved);

  const del = await api('DELETE', `/annotations/${mine.id}`, member);
  assert.equal(del.status, 204, del.text);
  assert.equal((await auditRow(del)).action, 'delete');
  assert.equal(await sqlValue(`SELECT count(*) FROM annotations WHERE id = :'p1'`, mine.id), '0');
  assertError(await api('DELETE', `/annotations/${mine.id}`, member), 404, 'not_found');
});

test('someone who does not take part gets 404 for the notes and the conversation', async () => {
  const note = assertJson(await annotate(owner, { message_id: answer.id, position: position(answer.content, 'reply'), note: 'private' }), 201);
  assertError(await api('GET', `/conversations/${conv.id}/annotations`, stranger), 404, 'not_found');
  assertError(await annotate(stranger, { message_id: answer.id, position: position(answer.content, 'reply'), note: 'x' }), 404, 'not_found');
  assertError(await api('PATCH', `/annotations/${note.id}`, { ...stranger, body: { note: 'x' } }), 404, 'not_found');
  assertError(await api('DELETE', `/annotations/${note.id}`, stranger), 404, 'not_found');
  assertError(await api('PATCH', `/annotations/${randomUUID()}`, { ...owner, body: { note: 'x' } }), 404, 'not_found');
  assertError(await api('GET', '/conversations/not-a-uuid/annotations', owner), 404, 'not_found');
  assert.equal(await sqlValue(`SELECT note FROM annotations WHERE id = :'p1'`, note.id), 'private');
});

test('bad input is a 422 naming the field, and nothing is written', async () => {
  const before = await sqlValue(`SELECT count(*) FROM annotations WHERE conversation_id = :'p1'`, conv.id);
  const good = position(answer.content, 'reply');
  const cases = [
    [{ message_id: answer.id, position: good, note: '' }, 'note'],
    [{ message_id: answer.id, position: good, note: 'x'.repeat(10001) }, 'note'],
    [{ message_id: answer.id, position: good }, 'note'],
    [{ message_id: answer.id, position: { ...good, start: 5, end: 5 }, note: 'n' }, 'position'],
    [{ message_id: answer.id, position: { ...good, start: -1 }, note: 'n' }, 'position'],
    [{ message_id: answer.id, position: { start: 0, end: 3 }, note: 'n' }, 'position'],
    [{ message_id: answer.id, position: { ...good, quote: '' }, note: 'n' }, 'position'],
    [{ message_id: answer.id, position: { ...good, extra: 1 }, note: 'n' }, 'position'],
    [{ message_id: answer.id, position: 'start=1', note: 'n' }, 'position'],
    [{ message_id: 'nope', position: good, note: 'n' }, 'message_id'],
    [{ message_id: randomUUID(), position: good, note: 'n' }, 'message_id'],
  ];
  for (const [body, field] of cases) {
    const res = await annotate(owner, body);
    assertError(res, 422, 'invalid_field', field);
    // Refused once: nothing went on to the database after the answer.
    assert.equal((await auditRow(res)).status, 422, `${JSON.stringify(body)}: the audit row's status`);
  }
  assertError(await annotate(owner, { message_id: answer.id, position: good, note: 'n', colour: 'red' }), 422, 'unknown_field');
  const res = await api('POST', `/conversations/${conv.id}/annotations`, { ...owner, raw: '{"message_id":', headers: { 'Content-Type': 'application/json' } });
  assert.equal(res.status, 400, res.text);
  assert.equal(await sqlValue(`SELECT count(*) FROM annotations WHERE conversation_id = :'p1'`, conv.id), before);
});

test('a message of another conversation cannot be annotated through this one', async () => {
  const other = await fx.conversation(owner, [model]);
  const otherAnswer = (await say(owner, other.id, 'elsewhere')).answers[0];
  assertError(await annotate(owner, { message_id: otherAnswer.id, position: { start: 0, end: 4, quote: 'Mock' }, note: 'n' }), 422, 'invalid_field', 'message_id');
});
