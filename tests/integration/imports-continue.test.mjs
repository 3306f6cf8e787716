// Continuing an imported chat (issue 15: "a new message continues from the
// active leaf with the conversation's model, or one the user picks when the
// original is not in the catalog"): the import links the catalog model that
// answered last on the active path; a chat whose model is not in the catalog
// refuses a send until its owner picks one (PUT /conversations/{id}/models);
// the next message continues from the active leaf; messages added after the
// import stay when the same export is imported again.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { api } from '../lib/http.mjs';
import { sqlValue } from '../lib/db.mjs';
import { assertError, assertJson } from '../lib/assert.mjs';
import { auditRow } from '../lib/audit.mjs';
import { createUser } from '../lib/users.mjs';
import { assertAnswer, assertPath, say, setCredits, thread } from '../lib/chat.mjs';
import { imported, sample } from '../lib/imports.mjs';

let owner;
let guest; // invited into the chat
let stranger;

before(async () => {
  owner = await createUser({ prefix: 'impcont' });
  await setCredits(owner.id, 100000);
  guest = await createUser({ prefix: 'impcontg' });
  stranger = await createUser({ prefix: 'impconts' });
});

/** The owner's imported conversation with this source id. */
async function importedChat(user, externalId) {
  return sqlValue(`SELECT id FROM conversations WHERE owner_id = :'p1' AND external_id = :'p2'`, user.id, externalId);
}

const SSE_CHAT = '6891b0a9-77c4-8331-a2e5-3f9d0c1b2a34'; // ChatGPT sample, answered by gpt-4o

test('an imported chat whose model is not in the catalog is continued with a model its owner picks', async () => {
  const { job } = await imported(owner, sample('chatgpt-conversations.json'), 'conversations.json');
  assert.equal(job?.status, 'done', JSON.stringify(job));
  const id = await importedChat(owner, SSE_CHAT);
  assert.ok(id, 'the sample conversation was imported');

  // gpt-4o is not a catalog model here: the chat has no model to answer with.
  const conv = assertJson(await api('GET', `/conversations/${id}`, owner), 200);
  assert.deepEqual(conv.tools, [], 'no catalog model answered on the active path');
  const before = await thread(owner, id);
  const leaf = before.at(-1);
  // Its answers show the model as the export named it.
  assert.deepEqual(leaf.sender, { slug: null, display_name: 'gpt-4o', model_id: 'gpt-4o' });
  assertError(await api('POST', `/conversations/${id}/messages`, { ...owner, body: { content: 'Go on' } }), 422, 'no_models');

  // Others cannot choose: a stranger finds no chat, an invited guest is refused.
  const pick = (auth, body) => api('PUT', `/conversations/${id}/models`, { ...auth, body });
  assertError(await pick(stranger, { tools: ['gpt-4o-mini'] }), 404, 'not_found');
  assertJson(await api('POST', `/conversations/${id}/participants`, { ...owner, body: { username: guest.user } }), 200);
  assertError(await pick(guest, { tools: ['gpt-4o-mini'] }), 403, 'forbidden');

  // Bad choices change nothing.
  assertError(await pick(owner, { tools: [] }), 422, 'invalid_field', 'tools');
  assertError(await pick(owner, { tools: 'gpt-4o-mini' }), 422, 'invalid_field', 'tools');
  assertError(await pick(owner, { tools: Array(9).fill('gpt-4o-mini') }), 422, 'invalid_field', 'tools');
  assertError(await pick(owner, { tools: ['gpt-4o-mini', 'gpt-4o-mini'] }), 422, 'invalid_field', 'tools');
  assertError(await pick(owner, { tools: ['no-such-model'] }), 422, 'unknown_tool', 'tools');
  assertError(await pick(owner, { tools: ['gpt-4o-mini'], title: 'x' }), 422, 'unknown_field');
  assert.deepEqual(assertJson(await api('GET', `/conversations/${id}`, owner), 200).tools, []);

  const res = await pick(owner, { tools: ['gpt-4o-mini'] });
  const picked = assertJson(res, 200);
  assert.deepEqual(picked.tools.map((t) => t.slug), ['gpt-4o-mini']);
  const audit = await auditRow(res);
  assert.equal(audit.action, 'update');
  assert.equal(audit.entity_id, id);
  assert.deepEqual(audit.old_values.tools, []);
  assert.deepEqual(audit.new_values.tools.map((t) => t.slug), ['gpt-4o-mini']);

  // The next message continues from the active leaf, answered by the model picked.
  const sent = await say(owner, id, 'And with CRLF?');
  assert.equal(sent.user_message.parent_id, leaf.id, 'the new message follows the active leaf');
  assert.equal(sent.answers.length, 1);
  assertAnswer(sent.answers[0], { tool: { slug: 'gpt-4o-mini' } });
  const after = await thread(owner, id);
  assertPath(after);
  assert.deepEqual(after.slice(0, before.length).map((m) => m.id), before.map((m) => m.id), 'the imported path is kept');
  assert.equal(after.length, before.length + 2);

  // The same export again adds nothing and keeps what the owner added.
  const again = await imported(owner, sample('chatgpt-conversations.json'), 'conversations.json');
  assert.equal(again.job?.status, 'done', JSON.stringify(again.job));
  assert.equal(again.job.messages_added, 0);
  assert.deepEqual((await thread(owner, id)).map((m) => m.id), after.map((m) => m.id), 'the added messages stay active');
  assert.equal(
    Number(await sqlValue(`SELECT count(*) FROM messages WHERE conversation_id = :'p1'`, id)),
    5 + 2,
    'the five imported messages and the two added, nothing duplicated',
  );
});

test('an import links the catalog model that answered last on the active path', async () => {
  const user = await createUser({ prefix: 'impcontm' });
  await setCredits(user.id, 100000);
  // The ChatGPT sample's model renamed to a catalog model id, in memory.
  const bytes = Buffer.from(sample('chatgpt-conversations.json').toString('utf8').replaceAll('"gpt-4o"', '"gpt-4o-mini"'));
  const { job } = await imported(user, bytes, 'conversations.json');
  assert.equal(job?.status, 'done', JSON.stringify(job));
  const id = await importedChat(user, SSE_CHAT);
  const conv = assertJson(await api('GET', `/conversations/${id}`, user), 200);
  assert.deepEqual(conv.tools.map((t) => t.slug), ['gpt-4o-mini']);
  const sent = await say(user, id, 'Thanks');
  assert.equal(sent.answers.length, 1, 'the linked model answers without a choice');
});
