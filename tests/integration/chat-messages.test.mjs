// Sending messages (not streamed) to models of each wire protocol, what goes
// upstream (model, system prompt in the protocol's place, the thread as
// context, the answer length limit), the provider's usage on the answer, the
// thread endpoint, and branches: editing makes a sibling user message,
// regenerating a sibling answer, PUT active switches the visible path, and
// nothing is ever overwritten.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { api } from '../lib/http.mjs';
import { sql } from '../lib/db.mjs';
import { auditRow } from '../lib/audit.mjs';
import { assertError, assertJson } from '../lib/assert.mjs';
import { uniq } from '../lib/users.mjs';
import {
  ChatFixture, assertAnswer, assertMessageShape, assertPath, chunkCount, credits, dbConversation,
  dbMessages, mockLast, mockLastRaw, mockPromptTokens, mockReply, say, sendMessage, thread,
  upstreamMaxTokens, upstreamModel, upstreamSystem, upstreamTurns,
} from '../lib/chat.mjs';

const fx = new ChatFixture('chmsg');
const PROVIDERS = ['openai', 'anthropic', 'google'];
const models = {}; // provider -> tool (max_tokens 77)
let user;

before(async () => {
  for (const provider of PROVIDERS) models[provider] = await fx.model({ provider, maxTokens: 77 });
  user = await fx.user({ prefix: 'chmsg' });
});

after(async () => {
  await fx.cleanup();
});

const turns = (...pairs) => pairs.map(([role, text]) => ({ role, text }));

// --- one message, each protocol ---------------------------------------------

for (const provider of PROVIDERS) {
  test(`a ${provider} model answers "Mock reply to: <message>" with the provider's token usage`, async () => {
    const model = models[provider];
    const marker = `m${uniq()}`;
    const system = `You are terse. (${marker})`;
    const conv = await fx.conversation(user, [model], { system_prompt: system });
    const content = `What is ${marker}?`;

    const res = await sendMessage(user, conv.id, { content });
    const body = assertJson(res, 201);
    assertMessageShape(body.user_message, 'user_message');
    assert.equal(body.user_message.sender_type, 'user');
    assert.equal(body.user_message.sender.username, user.user);
    assert.equal(body.user_message.content, content);
    assert.equal(body.user_message.parent_id, null);
    assert.equal(body.user_message.conversation_id, conv.id);
    assert.equal(body.user_message.status, 'complete');
    assert.equal(body.answers.length, 1);
    const [answer] = body.answers;
    assertAnswer(answer, { tool: model, content: mockReply(content) });
    assert.equal(answer.parent_id, body.user_message.id);
    assert.equal(answer.sender.model_id, model.model_id);
    assert.equal(answer.is_first_responder, false, 'a one-model answer is marked as a group chat first responder');

    const last = await mockLast(model.kind, marker);
    assert.equal(upstreamModel(model.kind, last), model.model_id, 'the model id sent upstream');
    assert.equal(upstreamSystem(model.kind, last.body), system, 'the system prompt sent upstream');
    assert.deepEqual(upstreamTurns(model.kind, last.body), turns(['user', content]));
    assert.equal(upstreamMaxTokens(model.kind, last.body), 77, 'the answer length limit is the model’s default max_tokens');

    assert.equal(answer.prompt_tokens, mockPromptTokens(model.kind, last.body), 'prompt tokens are not the provider’s');
    assert.equal(answer.completion_tokens, chunkCount(mockReply(content)), 'completion tokens are not the provider’s');
    assert.equal(answer.tokens_estimated, false);
    assert.ok(Number.isInteger(answer.response_time_ms), `response_time_ms ${answer.response_time_ms}`);

    const me = assertJson(await api('GET', '/me', user), 200);
    assert.equal(body.credits, me.token_credits, 'the credits in the answer are not the balance');
    assert.equal(body.credits, await credits(user.id));
  });

  test(`a ${provider} model gets the thread so far as context, in order`, async () => {
    const model = models[provider];
    const marker = `t${uniq()}`;
    const system = `System ${marker}`;
    const conv = await fx.conversation(user, [model], { system_prompt: system });
    const first = `first ${marker}`;
    const second = `second ${marker}`;
    const third = `third ${marker}`;
    await say(user, conv.id, first);
    await say(user, conv.id, second);
    const body = await say(user, conv.id, third);
    assert.equal(body.answers[0].content, mockReply(third), 'the model answered another message than the newest');
    const last = await mockLast(model.kind, third);
    assert.deepEqual(upstreamTurns(model.kind, last.body), turns(
      ['user', first], ['assistant', mockReply(first)],
      ['user', second], ['assistant', mockReply(second)],
      ['user', third],
    ));
    assert.equal(upstreamSystem(model.kind, last.body), system, 'the system prompt is sent once, in its place');
  });
}

test('the OpenAI request puts the system prompt first, as a system message', async () => {
  const marker = `s${uniq()}`;
  const conv = await fx.conversation(user, [models.openai], { system_prompt: `Be brief ${marker}` });
  await say(user, conv.id, `hi ${marker}`);
  const { body } = await mockLast('openai', marker);
  assert.ok(['system', 'developer'].includes(body.messages[0].role), `first message: ${JSON.stringify(body.messages[0])}`);
  assert.equal(body.messages.filter((m) => m.role === 'system' || m.role === 'developer').length, 1);
});

test('the Anthropic request has the system prompt as the top-level system field, never as a message', async () => {
  const marker = `s${uniq()}`;
  const conv = await fx.conversation(user, [models.anthropic], { system_prompt: `Be brief ${marker}` });
  await say(user, conv.id, `hi ${marker}`);
  const { body } = await mockLast('anthropic', marker);
  assert.ok(body.system !== undefined, 'no system field');
  assert.ok(body.messages.every((m) => m.role === 'user' || m.role === 'assistant'));
  assert.equal(body.max_tokens, 77);
});

test('the Gemini request has the system prompt as systemInstruction and the model in the path', async () => {
  const marker = `s${uniq()}`;
  const conv = await fx.conversation(user, [models.google], { system_prompt: `Be brief ${marker}` });
  await say(user, conv.id, `hi ${marker}`);
  const last = await mockLast('gemini', marker);
  assert.ok(last.body.systemInstruction || last.body.system_instruction, 'no systemInstruction');
  assert.ok(last.body.contents.every((c) => c.role === 'user' || c.role === 'model'));
  assert.match(last.path, new RegExp(`^/v1beta/models/${models.google.model_id.replace(/[.]/g, '\\.')}:`));
});

test('without a system prompt none is sent', async () => {
  const marker = `n${uniq()}`;
  for (const provider of PROVIDERS) {
    const model = models[provider];
    const conv = await fx.conversation(user, [model]);
    await say(user, conv.id, `plain ${marker}`);
    const { body } = await mockLast(model.kind, marker);
    assert.equal(upstreamSystem(model.kind, body), '', `${provider} got a system prompt`);
  }
});

test('a system prompt changed later is used for the next message', async () => {
  const marker = `c${uniq()}`;
  const conv = await fx.conversation(user, [models.openai], { system_prompt: 'old prompt' });
  await say(user, conv.id, `one ${marker}`);
  assertJson(await api('PATCH', `/conversations/${conv.id}`, { ...user, body: { system_prompt: `new prompt ${marker}` } }), 200);
  await say(user, conv.id, `two ${marker}`);
  const { body } = await mockLast('openai', `two ${marker}`);
  assert.equal(upstreamSystem('openai', body), `new prompt ${marker}`);
});

test('a model without a default max_tokens gets 1024 upstream', async () => {
  const model = await fx.model({ provider: 'anthropic', defaultSettings: {} });
  const marker = `d${uniq()}`;
  const conv = await fx.conversation(user, [model]);
  await say(user, conv.id, `hi ${marker}`);
  const { body } = await mockLast('anthropic', marker);
  assert.equal(body.max_tokens, 1024);
});

test('at most the newest 40 messages of the thread go upstream', async () => {
  const marker = `x${uniq()}`;
  const conv = await fx.conversation(user, [models.openai], { system_prompt: `keep me ${marker}` });
  for (let i = 1; i <= 21; i++) await say(user, conv.id, `turn ${i} ${marker}`);
  const newest = `turn 22 ${marker}`;
  await say(user, conv.id, newest);
  const items = await thread(user, conv.id);
  assert.equal(items.length, 44);
  const { body } = await mockLast('openai', newest);
  const sent = upstreamTurns('openai', body);
  assert.equal(sent.length, 40, `${sent.length} messages went upstream`);
  // The path up to the new message is 43 long: the 3 oldest are dropped.
  assert.deepEqual(sent, items.slice(3, 43).map((m) => ({ role: m.sender_type === 'user' ? 'user' : 'assistant', text: m.content })));
  assert.equal(sent.at(-1).text, newest);
  assert.equal(upstreamSystem('openai', body), `keep me ${marker}`, 'the system prompt was dropped with the old messages');
});

test('a sent message and its answer are stored, counted, and become the end of the thread', async () => {
  const conv = await fx.conversation(user, [models.openai]);
  const one = await say(user, conv.id, 'alpha');
  const two = await say(user, conv.id, 'beta');
  assert.equal(two.user_message.parent_id, one.answers[0].id, 'a message without parent_id does not continue the thread');

  const items = await thread(user, conv.id);
  assert.deepEqual(items.map((m) => m.id), [one.user_message.id, one.answers[0].id, two.user_message.id, two.answers[0].id]);
  assertPath(items);
  for (const m of items) {
    assert.deepEqual(m.sibling_ids, [m.id]);
    assert.equal(m.sibling_index, 0);
  }
  assert.deepEqual(items.map((m) => m.sender_type), ['user', 'ai', 'user', 'ai']);
  assert.deepEqual(items[1], one.answers[0], 'the thread shows another answer than the one returned');

  const got = assertJson(await api('GET', `/conversations/${conv.id}`, user), 200);
  assert.equal(got.total_messages, 4);
  assert.equal(got.active_leaf_id, two.answers[0].id);
  assert.ok(Date.parse(got.last_message_at) >= Date.parse(two.answers[0].created_at) - 1000);
  const rows = await dbMessages(conv.id);
  assert.equal(rows.length, 4);
  assert.deepEqual(rows.map((r) => r.status), ['complete', 'complete', 'complete', 'complete']);
  // A turn's question and first answer row are written by one statement: the
  // answer must still come after its question in time.
  assert.deepEqual(rows.map((r) => r.id), items.map((m) => m.id), 'created_at does not order the turn');
});

test('an empty conversation has an empty thread', async () => {
  const conv = await fx.conversation(user, [models.openai]);
  assert.deepEqual(await thread(user, conv.id), []);
});

test('sending is audited as the creation of the user message', async () => {
  const conv = await fx.conversation(user, [models.openai]);
  const res = await sendMessage(user, conv.id, { content: 'audit me' });
  const body = assertJson(res, 201);
  const row = await auditRow(res);
  assert.equal(row.status, 201);
  assert.equal(row.user_id, user.id);
  assert.equal(row.method, 'POST');
  assert.equal(row.entity_type, 'message');
  assert.equal(row.entity_id, body.user_message.id);
  assert.notEqual(row.action, 'request');
  assert.ok(row.new_values, 'no new values recorded');
  assert.equal(row.new_values.conversation_id, conv.id);
});

// --- validation -------------------------------------------------------------

const BAD_SENDS = [
  ['no content', {}, 'invalid_field', 'content'],
  ['an empty content', { content: '' }, 'invalid_field', 'content'],
  ['a content that is not a string', { content: 42 }, 'invalid_field', 'content'],
  ['stream as a string', { content: 'hi', stream: 'yes' }, 'invalid_field', 'stream'],
  ['a parent_id that is not a UUID', { content: 'hi', parent_id: 'nope' }, 'invalid_field', 'parent_id'],
  ['a parent_id that is no message', { content: 'hi', parent_id: randomUUID() }, 'invalid_field', 'parent_id'],
  ['an unknown field', { content: 'hi', model: 'gpt-4o' }, 'unknown_field', 'model'],
];

for (const [what, body, code, field] of BAD_SENDS) {
  test(`sending ${what} is 422 ${code}, stores nothing and asks no model`, async () => {
    const conv = await fx.conversation(user, [models.openai]);
    const marker = `bad${uniq()}`;
    const sent = { ...body };
    if (typeof sent.content === 'string' && sent.content !== '') sent.content += ` ${marker}`;
    const res = await sendMessage(user, conv.id, sent);
    assertError(res, 422, code, field);
    assert.deepEqual(await dbMessages(conv.id), []);
    assert.ok(!((await mockLastRaw('openai')) ?? '').includes(marker), 'the refused message went upstream');
  });
}

test('a parent_id from another conversation is 422 and stores nothing', async () => {
  const a = await fx.conversation(user, [models.openai]);
  const b = await fx.conversation(user, [models.openai]);
  const inA = await say(user, a.id, 'in a');
  const res = await sendMessage(user, b.id, { content: 'crossing', parent_id: inA.answers[0].id });
  assertError(res, 422, 'invalid_field', 'parent_id');
  assert.deepEqual(await dbMessages(b.id), []);
  assert.equal((await dbMessages(a.id)).length, 2);
});

test('a message of 32001 characters is 422 message_too_long and stores nothing', async () => {
  const conv = await fx.conversation(user, [models.openai]);
  const res = await sendMessage(user, conv.id, { content: 'a'.repeat(32001) });
  assertError(res, 422, 'message_too_long', 'content');
  assert.deepEqual(await dbMessages(conv.id), []);
});

test('a message of 32000 characters is accepted, counted in characters rather than bytes', async () => {
  const conv = await fx.conversation(user, [models.openai]);
  const content = 'é'.repeat(32000); // 64000 bytes of UTF-8
  const body = await say(user, conv.id, content);
  assert.equal(body.user_message.content, content);
  assert.equal(body.answers[0].content, mockReply(content));
});

test('a message longer than the model’s context window is 422 context_too_long, stores nothing, asks nothing', async () => {
  const small = await fx.model({ provider: 'openai', capabilities: { context_window: 100 }, maxTokens: 20 });
  const conv = await fx.conversation(user, [small]);
  const marker = `big${uniq()}`;
  const res = await sendMessage(user, conv.id, { content: `${marker} ${'x'.repeat(600)}` });
  assertError(res, 422, 'context_too_long');
  assert.deepEqual(await dbMessages(conv.id), []);
  assert.ok(!((await mockLastRaw('openai')) ?? '').includes(marker), 'the refused message went upstream');
  const ok = await say(user, conv.id, 'short enough');
  assert.equal(ok.answers[0].content, mockReply('short enough'));
});

test('a long thread does not make a short message too long for a small context window', async () => {
  const small = await fx.model({ provider: 'openai', capabilities: { context_window: 100 }, maxTokens: 20 });
  const conv = await fx.conversation(user, [small]);
  for (let i = 0; i < 3; i++) {
    const body = await say(user, conv.id, `${i} ${'y'.repeat(200)}`);
    assert.equal(body.answers[0].status, 'complete');
  }
});

// --- branches ---------------------------------------------------------------

test('editing the first message makes a sibling with its own answer; nothing is overwritten', async () => {
  const conv = await fx.conversation(user, [models.openai]);
  const marker = `e${uniq()}`;
  const original = await say(user, conv.id, `original ${marker}`);
  const rowsBefore = await dbMessages(conv.id);

  const edited = await say(user, conv.id, `edited ${marker}`, { parent_id: null });
  assert.equal(edited.user_message.parent_id, null);
  assert.deepEqual(edited.user_message.sibling_ids, [original.user_message.id, edited.user_message.id]);
  assert.equal(edited.user_message.sibling_index, 1);
  assert.equal(edited.answers[0].parent_id, edited.user_message.id);
  assert.equal(edited.answers[0].content, mockReply(`edited ${marker}`));

  const { body } = await mockLast('openai', `edited ${marker}`);
  assert.deepEqual(upstreamTurns('openai', body), turns(['user', `edited ${marker}`]), 'the abandoned branch went upstream');

  const items = await thread(user, conv.id);
  assert.deepEqual(items.map((m) => m.id), [edited.user_message.id, edited.answers[0].id]);
  assert.deepEqual(items[0].sibling_ids, [original.user_message.id, edited.user_message.id]);
  assert.equal(items[0].sibling_index, 1);

  const rows = await dbMessages(conv.id);
  assert.equal(rows.length, 4, 'an edit must add two rows');
  for (const before of rowsBefore) {
    assert.deepEqual(rows.find((r) => r.id === before.id), before, 'an edit changed an existing message');
  }
});

/** u1 a1 u2 a2, then u2 edited (u2b a2b): the tree most branch tests use. */
async function branchedConversation() {
  const conv = await fx.conversation(user, [models.openai]);
  const marker = `b${uniq()}`;
  const one = await say(user, conv.id, `one ${marker}`);
  const two = await say(user, conv.id, `two ${marker}`);
  const twoB = await say(user, conv.id, `two edited ${marker}`, { parent_id: one.answers[0].id });
  return {
    conv, marker,
    u1: one.user_message, a1: one.answers[0],
    u2: two.user_message, a2: two.answers[0],
    u2b: twoB.user_message, a2b: twoB.answers[0],
  };
}

test('editing a later message keeps the messages before it and shows the new branch', async () => {
  const t = await branchedConversation();
  assert.equal(t.u2b.parent_id, t.a1.id);
  assert.deepEqual(t.u2b.sibling_ids, [t.u2.id, t.u2b.id]);
  const { body } = await mockLast('openai', `two edited ${t.marker}`);
  assert.deepEqual(upstreamTurns('openai', body), turns(
    ['user', `one ${t.marker}`], ['assistant', mockReply(`one ${t.marker}`)], ['user', `two edited ${t.marker}`],
  ));
  const items = await thread(user, t.conv.id);
  assert.deepEqual(items.map((m) => m.id), [t.u1.id, t.a1.id, t.u2b.id, t.a2b.id]);
  assertPath(items);
  assert.equal(items[2].sibling_index, 1);
  assert.equal((await dbMessages(t.conv.id)).length, 6);
});

test('regenerating makes a sibling answer from the same model, from the same context', async () => {
  const t = await branchedConversation();
  const res = await api('POST', `/messages/${t.a2b.id}/regenerate`, { ...user, body: {} });
  const body = assertJson(res, 201);
  assert.ok(Array.isArray(body.answers) && body.answers.length === 1, `answers: ${res.text.slice(0, 300)}`);
  assert.ok(body.user_message === undefined || body.user_message === null, 'a regeneration returned a user message');
  assert.ok(Number.isInteger(body.credits));
  const [again] = body.answers;
  assertAnswer(again, { tool: models.openai, content: mockReply(`two edited ${t.marker}`) });
  assert.notEqual(again.id, t.a2b.id);
  assert.equal(again.parent_id, t.u2b.id);
  assert.deepEqual(again.sibling_ids, [t.a2b.id, again.id]);
  assert.equal(again.sibling_index, 1);

  const { body: upstream } = await mockLast('openai', `two edited ${t.marker}`);
  assert.deepEqual(upstreamTurns('openai', upstream), turns(
    ['user', `one ${t.marker}`], ['assistant', mockReply(`one ${t.marker}`)], ['user', `two edited ${t.marker}`],
  ), 'a regeneration must not send the answer it replaces');

  const items = await thread(user, t.conv.id);
  assert.deepEqual(items.map((m) => m.id), [t.u1.id, t.a1.id, t.u2b.id, again.id]);
  const rows = await dbMessages(t.conv.id);
  assert.equal(rows.length, 7);
  assert.equal(rows.find((r) => r.id === t.a2b.id).content, t.a2b.content, 'the regenerated answer was overwritten');

  const row = await auditRow(res);
  assert.equal(row.status, 201);
  assert.equal(row.entity_type, 'message');
  assert.notEqual(row.action, 'request');
});

test('regenerating works without a request body', async () => {
  const conv = await fx.conversation(user, [models.anthropic]);
  const sent = await say(user, conv.id, 'again please');
  const res = await api('POST', `/messages/${sent.answers[0].id}/regenerate`, user);
  const body = assertJson(res, 201);
  assert.equal(body.answers[0].content, mockReply('again please'));
  assert.equal(body.answers[0].parent_id, sent.user_message.id);
});

test('regenerating a user message is 422 not_an_answer and stores nothing', async () => {
  const conv = await fx.conversation(user, [models.openai]);
  const sent = await say(user, conv.id, 'mine');
  const res = await api('POST', `/messages/${sent.user_message.id}/regenerate`, { ...user, body: {} });
  assertError(res, 422, 'not_an_answer');
  assert.equal((await dbMessages(conv.id)).length, 2);
});

test('regenerating an unknown message is 404', async () => {
  assertError(await api('POST', `/messages/${randomUUID()}/regenerate`, { ...user, body: {} }), 404, 'not_found');
  assertError(await api('POST', '/messages/not-a-uuid/regenerate', { ...user, body: {} }), 404, 'not_found');
});

test('PUT active switches the visible branch, persistently, and the next message continues it', async () => {
  const t = await branchedConversation();

  const toOld = await api('PUT', `/conversations/${t.conv.id}/active`, { ...user, body: { message_id: t.u2.id } });
  const old = assertJson(toOld, 200);
  assert.deepEqual(old.items.map((m) => m.id), [t.u1.id, t.a1.id, t.u2.id, t.a2.id]);
  old.items.forEach((m) => assertMessageShape(m));
  assertPath(old.items);
  assert.deepEqual(old.items[2].sibling_ids, [t.u2.id, t.u2b.id]);
  assert.equal(old.items[2].sibling_index, 0);
  assert.deepEqual((await thread(user, t.conv.id)).map((m) => m.id), old.items.map((m) => m.id), 'the switch did not persist');
  assert.equal((await dbConversation(t.conv.id)).active_leaf_id, t.a2.id);
  const row = await auditRow(toOld);
  assert.equal(row.entity_type, 'conversation');
  assert.equal(row.entity_id, t.conv.id);
  assert.notEqual(row.action, 'request');

  const next = await say(user, t.conv.id, `three ${t.marker}`);
  assert.equal(next.user_message.parent_id, t.a2.id, 'the next message did not continue the chosen branch');
  const { body } = await mockLast('openai', `three ${t.marker}`);
  assert.deepEqual(upstreamTurns('openai', body).map((x) => x.text), [
    `one ${t.marker}`, mockReply(`one ${t.marker}`), `two ${t.marker}`, mockReply(`two ${t.marker}`), `three ${t.marker}`,
  ]);
});

test('PUT active on an inner message shows the path down to its newest leaf', async () => {
  const t = await branchedConversation();
  const regen = assertJson(await api('POST', `/messages/${t.a2b.id}/regenerate`, { ...user, body: {} }), 201).answers[0];
  assertJson(await api('PUT', `/conversations/${t.conv.id}/active`, { ...user, body: { message_id: t.u2.id } }), 200);

  for (const start of [t.a1, t.u1]) {
    const res = await api('PUT', `/conversations/${t.conv.id}/active`, { ...user, body: { message_id: start.id } });
    const { items } = assertJson(res, 200);
    assert.deepEqual(items.map((m) => m.id), [t.u1.id, t.a1.id, t.u2b.id, regen.id], `from ${start.id}`);
  }
  const toSibling = assertJson(await api('PUT', `/conversations/${t.conv.id}/active`, { ...user, body: { message_id: t.a2b.id } }), 200);
  assert.deepEqual(toSibling.items.map((m) => m.id), [t.u1.id, t.a1.id, t.u2b.id, t.a2b.id]);
  assert.equal(toSibling.items[3].sibling_index, 0);
  assert.deepEqual(toSibling.items[3].sibling_ids, [t.a2b.id, regen.id]);
});

test('PUT active with a message of another conversation, or none, is refused and changes nothing', async () => {
  const t = await branchedConversation();
  const elsewhere = await fx.conversation(user, [models.openai]);
  const foreign = await say(user, elsewhere.id, 'elsewhere');
  const before = await dbConversation(t.conv.id);
  for (const body of [{ message_id: foreign.answers[0].id }, { message_id: randomUUID() }, {}, { message_id: 'nope' }]) {
    const res = await api('PUT', `/conversations/${t.conv.id}/active`, { ...user, body });
    assert.ok([404, 422].includes(res.status), `${JSON.stringify(body)}: ${res.status} ${res.text.slice(0, 200)}`);
    assert.ok(res.json?.error?.code, `no error envelope: ${res.text.slice(0, 200)}`);
  }
  assert.deepEqual(await dbConversation(t.conv.id), before);
});

test('a conversation without an active model refuses a message with 422 no_models, once, and stores nothing', async () => {
  const conv = await fx.conversation(user, [models.openai.slug]);
  await sql(`UPDATE conversation_ai_models SET is_active = false WHERE conversation_id = :'p1'`, conv.id);
  const res = await sendMessage(user, conv.id, { content: 'Anyone there?' });
  assertError(res, 422, 'no_models');
  // Refused once: the turn did not go on after the answer.
  assert.equal((await auditRow(res)).status, 422, "the audit row's status");
  assert.deepEqual(await dbMessages(conv.id), [], 'messages stored');
});
