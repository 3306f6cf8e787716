// Search ranks a user's own messages by relevance with recency over every
// match, though search_run reads them newest first and stops once no older
// match can enter the page: over messages spread across two years, with and
// without a tag filter or a date range, the pages come out exactly as ranking
// every match orders them, each match once.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { api } from '../lib/http.mjs';
import { sql } from '../lib/db.mjs';
import { assertJson } from '../lib/assert.mjs';
import { ChatFixture } from '../lib/chat.mjs';

const fx = new ChatFixture('searchrank');
let owner;
let tagged;   // owner's conversation carrying `tag`
let plain;    // owner's conversation without it
let tag;
let w;        // a prefix no other test file uses

before(async () => {
  const model = await fx.model({ provider: 'openai' });
  owner = await fx.user({ prefix: 'srrank' });
  tagged = await fx.conversation(owner, [model], { title: `Tagged ${fx.tag}` });
  plain = await fx.conversation(owner, [model], { title: `Plain ${fx.tag}` });
  tag = assertJson(await api('POST', '/tags', { ...owner, body: { name: `rank ${fx.tag}`, color: '#654321' } }), 201);
  assertJson(await api('PUT', `/conversations/${tagged.id}/tags/${tag.id}`, owner), 200);
  w = `zr${fx.tag}`;
  // 80 messages, one every 9 days back over two years, in turn in each
  // conversation, in four forms: the two words side by side (three times),
  // far apart (ranked near nothing as a pair), one thrice and the other
  // once, the two a few words apart.
  await sql(`INSERT INTO messages (conversation_id, sender_type, content, created_at)
             SELECT CASE WHEN i % 2 = 0 THEN :'p1'::uuid ELSE :'p2'::uuid END, 'user',
                    CASE i % 4
                      WHEN 0 THEN repeat(:'p3' || 'one ' || :'p3' || 'two ', 3)
                      WHEN 1 THEN :'p3' || 'one ' || repeat('lorem ', 150) || :'p3' || 'two'
                      WHEN 2 THEN repeat(:'p3' || 'one ', 3) || 'ipsum ' || :'p3' || 'two'
                      ELSE :'p3' || 'two dolor sit amet ' || :'p3' || 'one' END,
                    now() - i * interval '9 days' - i * interval '1 hour'
               FROM generate_series(0, 79) i`, tagged.id, plain.id, w);
  // The last 30 days hold more than a page of one word, once each, and 33
  // days back the word ten times over (`boost`): it outranks the once-only
  // messages up to about 19 days newer, so a page must read on past the
  // first 30 days to find it.
  await sql(`INSERT INTO messages (conversation_id, sender_type, content, created_at)
             SELECT CASE WHEN i % 2 = 0 THEN :'p1'::uuid ELSE :'p2'::uuid END, 'user',
                    'recent ' || :'p3' || 'one', now() - i * interval '60 hours'
               FROM generate_series(0, 11) i
             UNION ALL
             SELECT :'p1'::uuid, 'user', :'p3' || 'boost ' || repeat(:'p3' || 'one ', 10),
                    now() - interval '33 days'`, tagged.id, plain.id, w);
});

after(async () => {
  await fx.cleanup();
});

// Every page of a search, the messages' ids in order.
async function pages(params) {
  const ids = [];
  let next;
  let n = 0;
  do {
    const res = await api('GET', `/search?${new URLSearchParams({ ...params, limit: '7', ...(next ? { after: next } : {}) })}`, owner);
    const body = assertJson(res, 200);
    for (const item of body.items) if (item.kind === 'message') ids.push(item.message_id);
    next = body.next;
    n++;
  } while (next && n < 40);
  assert.ok(!next, 'the cursor never ended');
  return ids;
}

// Every match ranked, as the definition says: the score of each (its rank's
// log plus its time's worth), best first, ties by id.
async function ranked(q, { tagOnly = false, from = null, to = null } = {}) {
  const rows = await sql(`SELECT m.id, m.conversation_id, extract(epoch FROM m.created_at),
                                 search_score(ts_rank(m.search, websearch_to_tsquery('simple', :'p3')), m.created_at)
                            FROM messages m
                           WHERE m.conversation_id IN (:'p1', :'p2')
                             AND m.search @@ websearch_to_tsquery('simple', :'p3')`, tagged.id, plain.id, q);
  return rows
    .filter(([, conv, at]) => (!tagOnly || conv === tagged.id)
      && (from === null || Number(at) >= from / 1000) && (to === null || Number(at) < to / 1000))
    .sort((a, b) => Number(b[3]) - Number(a[3]) || (b[0] > a[0] ? 1 : b[0] < a[0] ? -1 : 0))
    .map(([id]) => id);
}

const iso = (ms) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

test('every match once, in the order ranking every match gives, over two years', async () => {
  for (const q of [`${w}one`, `${w}one ${w}two`, `"${w}one ${w}two"`, `${w}one or ${w}two`]) {
    const want = await ranked(q);
    assert.ok(want.length >= 20, `${q}: ${want.length} matches`);
    assert.deepEqual(await pages({ q }), want, q);
  }
});

test('one word: a match older than the first 30 days outranks newer ones that hold it once', async () => {
  const [[boost]] = await sql(`SELECT id FROM messages WHERE conversation_id = :'p1' AND content LIKE :'p2'`,
    tagged.id, `${w}boost %`);
  const [[once]] = await sql(`SELECT id FROM messages WHERE conversation_id IN (:'p1', :'p2')
                                AND content LIKE 'recent %' ORDER BY created_at LIMIT 1`, tagged.id, plain.id);
  const got = await pages({ q: `${w}one` });
  assert.ok(got.indexOf(boost) >= 0 && got.indexOf(boost) < got.indexOf(once),
    `${boost} at ${got.indexOf(boost)}, ${once} at ${got.indexOf(once)}`);
});

test('a relevant old message outranks a recent one that barely matches', async () => {
  // Far apart, the two words rank near nothing as a pair: messages of that
  // form months newer come after the side-by-side ones.
  const [newestFar] = await sql(`SELECT id FROM messages WHERE conversation_id IN (:'p1', :'p2')
                                    AND content LIKE '%lorem%' ORDER BY created_at DESC LIMIT 1`, tagged.id, plain.id);
  const [oldNear] = await sql(`SELECT id FROM messages WHERE conversation_id IN (:'p1', :'p2')
                                  AND created_at < now() - interval '150 days' AND content NOT LIKE '%lorem%'
                                  AND content NOT LIKE '%dolor%' AND content NOT LIKE '%ipsum%'
                                ORDER BY created_at DESC LIMIT 1`, tagged.id, plain.id);
  const got = await pages({ q: `${w}one ${w}two` });
  assert.ok(got.indexOf(oldNear[0]) >= 0 && got.indexOf(oldNear[0]) < got.indexOf(newestFar[0]),
    `${oldNear[0]} at ${got.indexOf(oldNear[0])}, ${newestFar[0]} at ${got.indexOf(newestFar[0])}`);
});

test('with a tag filter or a date range, the same order over what passes', async () => {
  const day = 86400e3;
  const now = Date.now();
  for (const q of [`${w}one`, `${w}one ${w}two`]) {
    assert.deepEqual(await pages({ q, tags: tag.id }), await ranked(q, { tagOnly: true }), `${q} tag`);
    const from = now - 300 * day;
    const to = now - 100 * day;
    assert.deepEqual(await pages({ q, from: iso(from) }), await ranked(q, { from: Math.floor(from / 1000) * 1000 }), `${q} from`);
    assert.deepEqual(await pages({ q, to: iso(to) }), await ranked(q, { to: Math.floor(to / 1000) * 1000 }), `${q} to`);
    const both = await pages({ q, tags: tag.id, from: iso(from), to: iso(to) });
    assert.ok(both.length > 5, `${q}: ${both.length}`);
    assert.deepEqual(both, await ranked(q, { tagOnly: true, from: Math.floor(from / 1000) * 1000, to: Math.floor(to / 1000) * 1000 }), `${q} tag, from, to`);
  }
});
