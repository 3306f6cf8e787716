// What a share shows of a conversation's history: its notes only when the
// owner chooses so for that share (escaped, as everything on the page), and
// a version exactly as it was instead of the conversation.
// Each test changes a share and opens its link at once, so it runs on one
// node (onOneNode): a change shows on other nodes within a second.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { api } from '../lib/http.mjs';
import { assertError, assertJson } from '../lib/assert.mjs';
import { ChatFixture, say } from '../lib/chat.mjs';
import { onOneNode } from '../lib/nodes.mjs';
import { getShare, publicPage, putShare, shareConv } from '../lib/share.mjs';

const fx = new ChatFixture('hshr');
let model, owner;

before(async () => {
  model = await fx.model({ provider: 'openai' });
  owner = await fx.user();
});

after(async () => {
  await fx.cleanup();
});

const pageJson = async (token) => {
  const res = await publicPage(token, { headers: { Accept: 'application/json' } });
  assert.equal(res.status, 200, res.text);
  return res.json;
};

test('a share shows the notes only when its owner chooses so, escaped, and follows their changes', () => onOneNode(async () => {
  const conv = await fx.conversation(owner, [model]);
  const { answers: [answer] } = await say(owner, conv.id, 'notes on the page');
  const note = assertJson(await api('POST', `/conversations/${conv.id}/annotations`, {
    ...owner,
    body: { message_id: answer.id, position: { start: 0, end: 4, quote: 'Mock' }, note: 'See <b>this</b> & that' },
  }), 201);

  const share = await shareConv(owner, conv.id, {});
  assert.equal(share.show_annotations, false);
  let html = (await publicPage(share.token)).text;
  assert.ok(!html.includes('class="notes"'), 'notes shown without the owner choosing so');
  assert.equal((await pageJson(share.token)).messages[1].annotations, undefined);

  const changed = assertJson(await putShare(owner, conv.id, { show_annotations: true }), 200);
  assert.equal(changed.show_annotations, true);
  html = (await publicPage(share.token)).text;
  assert.ok(html.includes('See &lt;b&gt;this&lt;/b&gt; &amp; that'), html.slice(-1500));
  assert.ok(!html.includes('<b>this</b>'), 'a note reached the page unescaped');
  assert.deepEqual((await pageJson(share.token)).messages[1].annotations.map((a) => [a.quote, a.note]), [['Mock', 'See <b>this</b> & that']]);

  assertJson(await api('PATCH', `/annotations/${note.id}`, { ...owner, body: { note: 'Changed note' } }), 200);
  html = (await publicPage(share.token)).text;
  assert.ok(html.includes('Changed note') && !html.includes('See &lt;b&gt;'), 'the page kept the old note');

  assertJson(await putShare(owner, conv.id, { show_annotations: false }), 200);
  assert.ok(!(await publicPage(share.token)).text.includes('class="notes"'));
  assertError(await putShare(owner, conv.id, { show_annotations: 'yes' }), 422, 'invalid_field', 'show_annotations');
}));

test('a share can show a version exactly as it was, and the conversation again', () => onOneNode(async () => {
  const conv = await fx.conversation(owner, [model], { title: 'Before' });
  await say(owner, conv.id, 'the first exchange');
  const version = assertJson(await api('POST', `/conversations/${conv.id}/versions`, { ...owner, body: { comment: 'first' } }), 201);
  await say(owner, conv.id, 'the second exchange');
  assertJson(await api('PATCH', `/conversations/${conv.id}`, { ...owner, body: { title: 'After' } }), 200);

  const share = await shareConv(owner, conv.id, { version_id: version.id });
  assert.equal(share.version_id, version.id);
  assert.equal(share.message_count, 2, 'the share counts the messages it shows: the version\'s');
  let shown = await pageJson(share.token);
  assert.equal(shown.title, 'Before');
  assert.deepEqual(shown.messages.map((m) => m.content), ['the first exchange', 'Mock reply to: the first exchange']);
  assert.ok((await publicPage(share.token)).text.includes('<title>Before'));

  assertJson(await putShare(owner, conv.id, { version_id: null }), 200);
  shown = await pageJson(share.token);
  assert.equal(shown.title, 'After');
  assert.equal(shown.messages.length, 4);
  assert.equal((await getShare(owner, conv.id)).version_id, null);
  assert.equal((await getShare(owner, conv.id)).message_count, 4);

  const other = await fx.conversation(owner, [model]);
  await say(owner, other.id, 'elsewhere');
  const foreign = assertJson(await api('POST', `/conversations/${other.id}/versions`, { ...owner, body: {} }), 201);
  assertError(await putShare(owner, conv.id, { version_id: foreign.id }), 422, 'invalid_field', 'version_id');
  assertError(await putShare(owner, conv.id, { version_id: 'v1' }), 422, 'invalid_field', 'version_id');
  assert.equal((await getShare(owner, conv.id)).version_id, null, 'a refused version was applied');
  assert.equal((await pageJson(share.token)).messages.length, 4);
}));
