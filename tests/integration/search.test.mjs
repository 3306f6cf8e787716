// Search: full-text over messages (every branch), summaries, titles (also fuzzily) of
// the conversations a user owns or takes part in; never deleted ones, never
// another user's. websearch syntax, filters, escaped snippets with the
// matches marked, keyset pages, and bad input answered 422 or empty.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { api } from '../lib/http.mjs';
import { sql } from '../lib/db.mjs';
import { assertError, assertJson, UUID_RE } from '../lib/assert.mjs';
import { ChatFixture, say, sendMessage, thread } from '../lib/chat.mjs';
import { imported, sample } from '../lib/imports.mjs';

const fx = new ChatFixture('search');
let model;
let other;    // a second model, for the model filter
let owner;
let guest;    // takes part in `group`
let stranger;
let word;     // a word no other test file uses
let main;     // owner's conversation, two branches
let firstBranch; // the user message on the branch that is no longer shown
let group;    // owner's, guest invited, with `other`

before(async () => {
  model = await fx.model({ provider: 'openai' });
  other = await fx.model({ provider: 'anthropic' });
  owner = await fx.user({ prefix: 'srowner' });
  guest = await fx.user({ prefix: 'srguest' });
  stranger = await fx.user({ prefix: 'srstranger' });
  word = `zq${fx.tag}`;
  main = await fx.conversation(owner, [model], { title: `Holiday plans ${fx.tag}` });
  const one = await say(owner, main.id, `first branch mentions ${word}alpine lakes`);
  firstBranch = one.user_message;
  // An edit of the first message: a second root, now the visible branch.
  const res = await sendMessage(owner, main.id, { content: `second branch mentions ${word}coast`, parent_id: null });
  assertJson(res, 201);
  group = await fx.conversation(owner, [other], { title: `Group ${fx.tag}` });
  await say(owner, group.id, `shared with the guest: ${word}shared`);
  assertJson(await api('POST', `/conversations/${group.id}/participants`, { ...owner, body: { username: guest.user } }), 200);
});

after(async () => {
  await fx.cleanup();
});

async function search(auth, params) {
  const res = await api('GET', `/search?${new URLSearchParams(params)}`, auth);
  const body = assertJson(res, 200);
  assert.ok(Array.isArray(body.items), res.text);
  for (const item of body.items) {
    assert.match(item.conversation_id, UUID_RE, res.text);
    assert.ok(['message', 'annotation', 'conversation'].includes(item.kind), res.text);
    assert.equal(item.kind !== 'conversation', item.message_id !== null, res.text);
    assert.equal(item.kind === 'annotation', item.annotation_id != null, res.text);
    assert.equal(typeof item.snippet, 'string', res.text);
    assert.equal(typeof item.rank, 'number', res.text);
  }
  return body;
}

test('a word in a branch that is not shown is found, at its message', async () => {
  const body = await search(owner, { q: `${word}alpine` });
  // The mock's answers repeat the question: the user's messages are looked at.
  const hits = body.items.filter((i) => i.kind === 'message' && i.sender_type === 'user');
  assert.deepEqual(hits.map((i) => [i.conversation_id, i.message_id]), [[main.id, firstBranch.id]]);
  assert.ok(hits[0].snippet.includes(`<mark>${word}alpine</mark>`), hits[0].snippet);
  assert.equal(hits[0].title, main.title);
});

test('only conversations the user owns or takes part in; never deleted ones', async () => {
  assert.deepEqual((await search(stranger, { q: `${word}alpine` })).items, []);
  const guestHits = (await search(guest, { q: `${word}shared` })).items;
  assert.deepEqual([...new Set(guestHits.map((i) => i.conversation_id))], [group.id]);
  assert.deepEqual((await search(guest, { q: `${word}alpine` })).items, []);

  const doomed = await fx.conversation(owner, [model], { title: `Doomed ${fx.tag}` });
  await say(owner, doomed.id, `soon gone ${word}doomed`);
  assert.deepEqual([...new Set((await search(owner, { q: `${word}doomed` })).items.map((i) => i.conversation_id))], [doomed.id]);
  assert.equal((await api('DELETE', `/conversations/${doomed.id}`, owner)).status, 204);
  assert.deepEqual((await search(owner, { q: `${word}doomed` })).items, []);
});

test('titles match by their words and fuzzily', async () => {
  const titled = await fx.conversation(owner, [model], { title: `Kilimanjaro expedition ${fx.tag}` });
  const exact = (await search(owner, { q: 'kilimanjaro' })).items.filter((i) => i.conversation_id === titled.id);
  assert.deepEqual(exact.map((i) => i.kind), ['conversation']);
  assert.ok(exact[0].snippet.includes('<mark>Kilimanjaro</mark>'), exact[0].snippet);
  const fuzzy = (await search(owner, { q: `Kilimanjar expedtion ${fx.tag}` })).items;
  assert.ok(fuzzy.some((i) => i.conversation_id === titled.id && i.kind === 'conversation'), JSON.stringify(fuzzy));
});

test("a summary's words find its conversation, marked in the snippet", async () => {
  const summarised = await fx.conversation(owner, [model], { title: `Notes ${fx.tag}` });
  await say(owner, summarised.id, 'nothing of the summary here');
  // What POST /conversations/{id}/summary stores (its making is history-summaries' test).
  await sql(`UPDATE conversations SET summary = :'p2', summary_model = 'test', summarized_at = now() WHERE id = :'p1'`,
    summarised.id, `A plan about ${word}quartz caves.`);
  const hits = (await search(owner, { q: `${word}quartz` })).items;
  assert.deepEqual(hits.map((i) => [i.kind, i.conversation_id]), [['conversation', summarised.id]]);
  assert.ok(hits[0].snippet.includes(`<mark>${word}quartz</mark>`), hits[0].snippet);
  assert.deepEqual((await search(stranger, { q: `${word}quartz` })).items, []);
});

test('websearch syntax: phrases, -word and or', async () => {
  const conv = await fx.conversation(owner, [model], { title: `Syntax ${fx.tag}` });
  const a = await say(owner, conv.id, `${word}red apples and ${word}green pears`);
  const b = await say(owner, conv.id, `${word}green apples only`);
  const ids = async (q) => (await search(owner, { q })).items.filter((i) => i.sender_type === 'user').map((i) => i.message_id).sort();
  assert.deepEqual(await ids(`${word}green`), [a.user_message.id, b.user_message.id].sort());
  assert.deepEqual(await ids(`"${word}green apples"`), [b.user_message.id]);
  assert.deepEqual(await ids(`${word}green -${word}red`), [b.user_message.id]);
  assert.deepEqual(await ids(`${word}red or ${word}nothing`), [a.user_message.id]);
});

test('a snippet carries no markup of the text: it is escaped, only the matches are marked', async () => {
  const conv = await fx.conversation(owner, [model], { title: `Escaping ${fx.tag}` });
  await say(owner, conv.id, `<script>alert(1)</script> <b>${word}bold</b> & "quotes" 'single' \uE000x\uE001`);
  const [hit] = (await search(owner, { q: `${word}bold` })).items.filter((i) => i.sender_type === 'user');
  assert.ok(hit, 'no hit');
  // ts_headline leaves the text's tags out; what is left is escaped.
  assert.ok(!/<(?!\/?mark>)/.test(hit.snippet), `markup in ${hit.snippet}`);
  assert.ok(!hit.snippet.includes('script>'), hit.snippet);
  assert.ok(hit.snippet.includes(`<mark>${word}bold</mark>`), hit.snippet);
  assert.ok(hit.snippet.includes('&amp; &quot;quotes&quot; &#39;single'), hit.snippet);
  assert.equal((hit.snippet.match(/<mark>/g) || []).length, 1, hit.snippet);
});

test('filters: tags, archived, model, source, date range', async () => {
  const conv = await fx.conversation(owner, [model], { title: `Filters ${fx.tag}` });
  await say(owner, conv.id, `filter me ${word}filter`);
  const other2 = await fx.conversation(owner, [other], { title: `Filters too ${fx.tag}` });
  await say(owner, other2.id, `filter me too ${word}filter`);
  // Messages only: the titles share the test's tag, which fuzzy title matching finds.
  const convs = async (params) => [...new Set((await search(owner, { q: `${word}filter`, ...params })).items
    .filter((i) => i.kind === 'message').map((i) => i.conversation_id))].sort();
  assert.deepEqual(await convs({}), [conv.id, other2.id].sort());

  const tag = assertJson(await api('POST', '/tags', { ...owner, body: { name: `search ${fx.tag}`, color: '#123456' } }), 201);
  assertJson(await api('PUT', `/conversations/${conv.id}/tags/${tag.id}`, owner), 200);
  assert.deepEqual(await convs({ tags: tag.id }), [conv.id]);
  const theirs = assertJson(await api('POST', '/tags', { ...stranger, body: { name: `s ${fx.tag}`, color: '#123456' } }), 201);
  assert.deepEqual(await convs({ tags: theirs.id }), []);

  assert.deepEqual(await convs({ model: other.slug }), [other2.id]);
  assert.deepEqual(await convs({ source: 'native' }), [conv.id, other2.id].sort());
  assert.deepEqual(await convs({ source: 'chatgpt' }), []);

  assertJson(await api('PATCH', `/conversations/${other2.id}`, { ...owner, body: { archived: true } }), 200);
  assert.deepEqual(await convs({ archived: 'true' }), [other2.id]);
  assert.deepEqual(await convs({ archived: 'false' }), [conv.id]);

  await sql(`UPDATE messages SET created_at = '2020-06-15T12:00:00Z' WHERE conversation_id = :'p1'`, conv.id);
  assert.deepEqual(await convs({ from: '2020-06-15', to: '2020-06-15' }), [conv.id]);
  assert.deepEqual(await convs({ from: '2020-06-16' }), [other2.id]);
  assert.deepEqual(await convs({ to: '2020-06-14' }), []);
  assert.deepEqual(await convs({ from: '2020-06-15T11:00:00Z', to: '2020-06-15T13:00:00+00:00' }), [conv.id]);
});

test('source: an imported ChatGPT chat is found, also with source=chatgpt; a fork of a share with source=share', async () => {
  const importer = await fx.user({ prefix: 'srimport' });
  const mine = await fx.conversation(importer, [model], { title: `Native ${fx.tag}` });
  await say(importer, mine.id, 'my own sourdough notes');
  const { res, job } = await imported(importer, sample('chatgpt-conversations.json'), 'conversations.json');
  assert.equal(res.status, 202, res.text);
  assert.equal(job.status, 'done', JSON.stringify(job));
  job.conversations.forEach((c) => fx.track(c));
  const bread = job.conversations.find((c) => c.title === 'Sourdough starter feeding schedule');
  const sse = job.conversations.find((c) => c.title === 'SSE line endings');
  assert.ok(bread && sse, JSON.stringify(job.conversations));
  assert.equal(bread.source, 'chatgpt');
  // Messages only: the imported title holds the word too.
  const messages = async (auth, params) => (await search(auth, params)).items.filter((i) => i.kind === 'message');
  const convs = (items) => [...new Set(items.map((i) => i.conversation_id))].sort();

  // Found at the imported message that holds the word, with the user's own chat.
  const asked = (await thread(importer, bread.id)).find((m) => m.content.includes('sourdough'));
  assert.ok(asked, 'the imported thread lacks its question');
  assert.deepEqual(convs(await messages(importer, { q: 'sourdough' })), [mine.id, bread.id].sort());
  const imports = await messages(importer, { q: 'sourdough', source: 'chatgpt' });
  assert.deepEqual(imports.map((i) => [i.conversation_id, i.message_id]), [[bread.id, asked.id]]);
  assert.match(imports[0].snippet, /<mark>sourdough<\/mark>/i);
  assert.deepEqual(convs(await messages(importer, { q: 'sourdough', source: 'native' })), [mine.id]);
  assert.deepEqual(await messages(importer, { q: 'sourdough', source: 'claude' }), []);
  // An answer of the import on a branch that is not shown is found too.
  const offBranch = await messages(importer, { q: '"crlf works"', source: 'chatgpt' });
  assert.deepEqual(convs(offBranch), [sse.id]);
  assert.ok(!(await thread(importer, sse.id)).some((m) => m.id === offBranch[0].message_id), 'the answer found is on the branch shown');
  // Nobody else finds it.
  assert.deepEqual(await messages(stranger, { q: 'sourdough', source: 'chatgpt' }), []);

  // A fork of someone's share is the forker's, with source share.
  const original = await fx.conversation(owner, [model], { title: `To fork ${fx.tag}` });
  await say(owner, original.id, `fork this ${word}forked`);
  const share = assertJson(await api('PUT', `/conversations/${original.id}/share`, { ...owner, body: {} }), 201);
  const fork = fx.track(assertJson(await api('POST', `/shares/${share.token}/fork`, importer), 201));
  assert.equal(fork.source, 'share');
  assert.deepEqual(convs(await messages(importer, { q: `${word}forked`, source: 'share' })), [fork.id]);
  assert.deepEqual(await messages(importer, { q: `${word}forked`, source: 'native' }), []);
  assert.deepEqual(await messages(importer, { q: `${word}forked`, source: 'chatgpt' }), []);
  // The shared chat itself stays its owner's native chat.
  assert.deepEqual(await messages(owner, { q: `${word}forked`, source: 'share' }), []);
  assert.deepEqual(convs(await messages(owner, { q: `${word}forked`, source: 'native' })), [original.id]);
});

test("a note's words find it at its message, for every participant; has_notes keeps the chats with notes", async () => {
  const annotate = (auth, convId, message, quote, note) => {
    const start = message.content.indexOf(quote);
    assert.ok(start >= 0, `"${quote}" is not in "${message.content}"`);
    return api('POST', `/conversations/${convId}/annotations`, { ...auth, body: { message_id: message.id, position: { start, end: start + quote.length, quote }, note } });
  };
  const conv = await fx.conversation(owner, [model], { title: `Notes ${fx.tag}` });
  const answer = (await say(owner, conv.id, 'an answer to annotate')).answers[0];
  const note = assertJson(await annotate(owner, conv.id, answer, 'Mock', `check this <b>${word}noted</b> later`), 201);
  const plain = await fx.conversation(owner, [model], { title: `No notes ${fx.tag}` });
  await say(owner, plain.id, `nothing noted here ${word}plainnote`);

  // Found items only: titles with the test's tag are also found fuzzily.
  const found = async (who, q) => (await search(who, { q })).items.filter((i) => i.kind !== 'conversation');
  const hits = await found(owner, `${word}noted`);
  assert.deepEqual(hits.map((i) => [i.kind, i.conversation_id, i.message_id, i.annotation_id]),
    [['annotation', conv.id, answer.id, note.id]]);
  // The note's snippet, as a message's: its markup left out, only the match marked.
  assert.ok(hits[0].snippet.includes(`<mark>${word}noted</mark>`), hits[0].snippet);
  assert.ok(!/<(?!\/?mark>)/.test(hits[0].snippet), hits[0].snippet);
  assert.equal(hits[0].title, conv.title);
  assert.deepEqual(await found(stranger, `${word}noted`), []);

  // A participant's note in the group: the owner and the guest find it.
  const groupAnswer = (await say(owner, group.id, 'group answer')).answers[0];
  const guestNote = assertJson(await annotate(guest, group.id, groupAnswer, 'Mock', `the guest's ${word}guestnote`), 201);
  for (const who of [owner, guest]) {
    assert.deepEqual((await found(who, `${word}guestnote`)).map((i) => i.annotation_id), [guestNote.id]);
  }
  assert.deepEqual(await found(stranger, `${word}guestnote`), []);

  // has_notes: only the chats with a note (or, false, without one).
  const convs = async (params) => [...new Set((await search(owner, { q: `${word}noted or ${word}plainnote`, ...params })).items
    .filter((i) => i.kind !== 'conversation').map((i) => i.conversation_id))].sort();
  assert.deepEqual(await convs({}), [conv.id, plain.id].sort());
  assert.deepEqual(await convs({ has_notes: '1' }), [conv.id]);
  assert.deepEqual(await convs({ has_notes: 'true' }), [conv.id]);
  assert.deepEqual(await convs({ has_notes: 'false' }), [plain.id]);
  assertError(await api('GET', `/search?q=x&has_notes=maybe`, owner), 422, 'invalid_field', 'has_notes');
  // The list filters the same way.
  const listed = async (params) => assertJson(await api('GET', `/conversations?${new URLSearchParams({ q: fx.tag, limit: '100', ...params })}`, owner), 200)
    .items.map((c) => c.id).filter((id) => [conv.id, plain.id, main.id].includes(id)).sort();
  assert.deepEqual(await listed({ has_notes: '1' }), [conv.id]);
  assert.deepEqual(await listed({ has_notes: 'false' }), [main.id, plain.id].sort());
  assertError(await api('GET', '/conversations?has_notes=maybe', owner), 422, 'invalid_field', 'has_notes');
  // A saved search keeps it.
  const saved = assertJson(await api('POST', '/saved-searches', { ...owner, body: { name: `notes ${fx.tag}`, query: { q: word, has_notes: '1' } } }), 201);
  assert.equal(saved.query.has_notes, '1');

  // A deleted note is found no more; nor a note in a deleted chat.
  assert.equal((await api('DELETE', `/annotations/${note.id}`, owner)).status, 204);
  assert.deepEqual(await found(owner, `${word}noted`), []);
  assert.equal((await api('DELETE', `/conversations/${group.id}`, owner)).status, 204);
  assert.deepEqual(await found(guest, `${word}guestnote`), []);
});

test('pages: every match once, best first, with a cursor that ends', async () => {
  const conv = await fx.conversation(owner, [model], { title: `Pages ${fx.tag}` });
  const values = [];
  for (let i = 0; i < 25; i++) values.push(`(:'p1', 'user', 'page ${word}page ' || repeat('${word}page ', ${i % 3}))`);
  await sql(`INSERT INTO messages (conversation_id, sender_type, content) VALUES ${values.join(',')}`, conv.id);
  const seen = [];
  let after;
  let pages = 0;
  let last = Infinity;
  do {
    const body = await search(owner, { q: `${word}page`, limit: '10', ...(after ? { after } : {}) });
    for (const item of body.items) {
      assert.ok(item.score <= last, 'not best first');
      last = item.score;
      if (item.kind === 'message') seen.push(item.message_id);
    }
    after = body.next;
    pages++;
  } while (after && pages < 10);
  assert.equal(pages, 3);
  assert.equal(seen.length, 25);
  assert.equal(new Set(seen).size, 25);
});

test('bad input answers 422 or an empty result, never a 500', async () => {
  assertError(await api('GET', '/search', owner), 422, 'invalid_field', 'q');
  assertError(await api('GET', '/search?q=', owner), 422, 'invalid_field', 'q');
  // q is at most 500 characters (code points, not bytes; counted once trimmed): a longer
  // query that still fits in a URL is a 422 naming q and the limit, never a 500.
  const tooLong = await api('GET', `/search?q=${'a'.repeat(600)}`, owner);
  assertError(tooLong, 422, 'invalid_field', 'q');
  assert.match(tooLong.json.error.message, /at most 500 characters/);
  assertError(await api('GET', `/search?q=${'a'.repeat(501)}`, owner), 422, 'invalid_field', 'q');
  assertError(await api('GET', `/search?q=${'a'.repeat(7000)}`, owner), 422, 'invalid_field', 'q');
  await search(owner, { q: 'a'.repeat(500) });
  await search(owner, { q: `  ${'é'.repeat(500)}  ` }); // 1,000 bytes of 500 characters
  // A URL over httpd's LimitRequestLine (8 KB of request line, here a 10 KB query) is
  // refused by httpd itself with its own 414 page before any module sees the request.
  assert.equal((await api('GET', `/search?q=${'a'.repeat(10240)}`, owner)).status, 414);
  assertError(await api('GET', `/search?q=${encodeURIComponent('bell\u0007')}`, owner), 422, 'invalid_field', 'q');
  assertError(await api('GET', '/search?q=%ff%fe', owner), 422, 'invalid_field', 'q');
  for (const q of ['"unbalanced', '!!! --- ::', '-', 'or', '""', '&|!():*', "'", '\\']) {
    const res = await api('GET', `/search?${new URLSearchParams({ q })}`, owner);
    assert.equal(res.status, 200, `${q}: ${res.status} ${res.text}`);
  }
  for (const [params, field] of [
    [{ q: 'x', tags: 'nope' }, 'tags'], [{ q: 'x', tags_mode: 'some' }, 'tags_mode'],
    [{ q: 'x', from: '2026-02-30' }, 'from'], [{ q: 'x', to: 'tomorrow' }, 'to'],
    [{ q: 'x', archived: 'yes' }, 'archived'], [{ q: 'x', model: 'Bad Slug' }, 'model'],
    [{ q: 'x', source: 'Not a source' }, 'source'], [{ q: 'x', limit: '0' }, 'limit'], [{ q: 'x', limit: '101' }, 'limit'],
    [{ q: 'x', after: 'zz' }, 'after'],
    [{ q: 'x', after: Buffer.from('s|0x10|00000000-0000-0000-0000-000000000000').toString('hex') }, 'after'],
    [{ q: 'x', after: Buffer.from('v|1|00000000-0000-0000-0000-000000000000').toString('hex') }, 'after'],
  ]) {
    assertError(await api('GET', `/search?${new URLSearchParams(params)}`, owner), 422, 'invalid_field', field);
  }
});
