// Imports of ChatGPT, Claude, Gemini and Mistral exports (providers.md §5,
// expected results §8.2): each sample uploaded bare or zipped becomes the
// user's conversations with their whole trees, active paths, models and
// times; a second upload adds nothing; hostile files are refused with a
// stable code and nothing written; jobs and imported chats are the owner's
// alone; exports (JSON, Markdown, a ZIP with a ChatGPT-format
// conversations.json) import again into another account as the same trees.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, request } from '../lib/http.mjs';
import { sqlJson, sqlValue } from '../lib/db.mjs';
import { assertError } from '../lib/assert.mjs';
import { auditRow } from '../lib/audit.mjs';
import { createUser } from '../lib/users.mjs';
import { poll } from '../lib/poll.mjs';
import { NODES, restartGracefully } from '../lib/nodes.mjs';
import { say, setCredits, thread } from '../lib/chat.mjs';
import { connect } from 'node:net';
import { bombZip, finished, imported, sample, trees, upload, zipOf } from '../lib/imports.mjs';

let alice; // imports
let bob;   // another user

before(async () => {
  alice = await createUser({ prefix: 'impa' });
  bob = await createUser({ prefix: 'impb' });
});

const CHATGPT_SINGLE = {
  '666835e0-4a1f-800c-9d3e-5b7a8c9d0e1f': {
    title: 'Sourdough starter feeding schedule', stored: 4, total: 4, active: 4, bp: 0, models: ['gpt-4o', 'gpt-4o'],
  },
  '6891b0a9-77c4-8331-a2e5-3f9d0c1b2a34': {
    title: 'SSE line endings', stored: 5, total: 5, active: 4, bp: 1, models: ['gpt-4o', 'gpt-4o'],
  },
};

test('a bare ChatGPT conversations.json imports whole trees with their active paths, and again adds nothing', async () => {
  const user = await createUser({ prefix: 'impgpt' });
  const { res, job } = await imported(user, sample('chatgpt-conversations.json'), 'conversations.json');
  assert.equal(res.status, 202, res.text);
  assert.match(res.headers.get('location'), new RegExp(`/chat/api/v1/imports/${res.json.id}$`));
  assert.equal(job.status, 'done', JSON.stringify(job));
  assert.equal(job.format, 'chatgpt');
  assert.equal(job.conversations_total, 2);
  assert.equal(job.conversations_done, 2);
  assert.equal(job.conversations_created, 2);
  assert.equal(job.messages_added, 9);
  assert.deepEqual(job.skipped, { system: 2, hidden: 1, empty: 1 });
  assert.deepEqual(await trees(user.id, 'chatgpt'), CHATGPT_SINGLE);

  // Times as exported, to the microsecond; the visible thread through the API.
  const first = await sqlValue(
    `SELECT to_char(m.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') FROM messages m
       JOIN conversations c ON c.id = m.conversation_id
      WHERE c.owner_id = :'p1' AND m.external_id = 'aaa2f1e0-5b6c-4d7e-8f90-a1b2c3d4e5f6'`,
    user.id,
  );
  assert.equal(first, '2024-06-10 10:00:00.412000');
  const conv = job.conversations.find((c) => c.title === 'SSE line endings');
  const thread = await api('GET', `/conversations/${conv.id}/messages`, user);
  assert.equal(thread.status, 200, thread.text);

  const again = await imported(user, sample('chatgpt-conversations.json'), 'conversations.json');
  assert.equal(again.job.status, 'done');
  assert.equal(again.job.conversations_created, 0);
  assert.equal(again.job.messages_added, 0);
  assert.deepEqual(await trees(user.id, 'chatgpt'), CHATGPT_SINGLE);
  assert.equal(await sqlValue(`SELECT count(*) FROM conversations WHERE owner_id = :'p1'`, user.id), '2');
  assert.equal(await sqlValue(
    `SELECT count(*) FROM conversation_versions v JOIN conversations c ON c.id = v.conversation_id
      WHERE c.owner_id = :'p1'`, user.id), '0');
});

test('a later export with new messages: the conversation keeps a version of its state before them', async () => {
  const user = await createUser({ prefix: 'impver' });
  const first = await imported(user, sample('chatgpt-conversations.json'), 'conversations.json');
  assert.equal(first.job.status, 'done', JSON.stringify(first.job));
  const convs = JSON.parse(sample('chatgpt-conversations.json').toString('utf8'));
  const later = convs[0];
  const leaf = later.current_node;
  later.mapping['later-q'] = {
    id: 'later-q', parent: leaf, children: ['later-a'],
    message: { id: 'later-q', author: { role: 'user' }, create_time: 1718100000, content: { content_type: 'text', parts: ['And in winter?'] } },
  };
  later.mapping['later-a'] = {
    id: 'later-a', parent: 'later-q', children: [],
    message: { id: 'later-a', author: { role: 'assistant' }, create_time: 1718100005, recipient: 'all', metadata: { model_slug: 'gpt-4o' }, content: { content_type: 'text', parts: ['Feed it less often.'] } },
  };
  later.current_node = 'later-a';
  const again = await imported(user, Buffer.from(JSON.stringify(convs)), 'conversations.json');
  assert.equal(again.job.status, 'done', JSON.stringify(again.job));
  assert.equal(again.job.messages_added, 2);
  const versions = await sqlJson(
    `SELECT c.external_id, v.reason, v.message_count, v.created_by = c.owner_id AS mine,
            (SELECT json_agg(x->>'content') FROM jsonb_array_elements(v.snapshot->'messages') x) AS texts
       FROM conversation_versions v JOIN conversations c ON c.id = v.conversation_id
      WHERE c.owner_id = :'p1'`,
    user.id,
  );
  assert.equal(versions.length, 1, JSON.stringify(versions));
  assert.equal(versions[0].external_id, later.conversation_id);
  assert.equal(versions[0].reason, 'before_import');
  assert.equal(versions[0].mine, true);
  assert.equal(versions[0].message_count, 4);
  assert.ok(!versions[0].texts.includes('And in winter?'));
  // Through the history API too, as the owner sees it.
  const conv = again.job.conversations.find((c) => c.title === 'Sourdough starter feeding schedule');
  const list = await api('GET', `/conversations/${conv.id}/versions`, user);
  assert.equal(list.status, 200, list.text);
  assert.deepEqual(list.json.items.map((v) => v.reason), ['before_import']);

  // The active leaf was on the later export's path: it moved down with it, so
  // the visible thread shows the new messages.
  const shown = await thread(user, conv.id);
  assert.deepEqual(shown.slice(-2).map((m) => m.content), ['And in winter?', 'Feed it less often.']);
  assert.equal(shown.length, 6);
});

/** The ChatGPT sample with its first conversation gone on below its current node (a later export). */
function laterExport(bytes) {
  const convs = JSON.parse(bytes.toString('utf8'));
  for (const later of convs) {
    const leaf = later.current_node;
    later.mapping[`${leaf}-later-q`] = {
      id: `${leaf}-later-q`, parent: leaf, children: [`${leaf}-later-a`],
      message: { id: `${leaf}-later-q`, author: { role: 'user' }, create_time: 1718100000, content: { content_type: 'text', parts: ['And in winter?'] } },
    };
    later.mapping[`${leaf}-later-a`] = {
      id: `${leaf}-later-a`, parent: `${leaf}-later-q`, children: [],
      message: { id: `${leaf}-later-a`, author: { role: 'assistant' }, create_time: 1718100005, recipient: 'all', metadata: { model_slug: 'gpt-4o-mini' }, content: { content_type: 'text', parts: ['Feed it less often.'] } },
    };
    later.mapping[leaf].children = [...(later.mapping[leaf].children ?? []), `${leaf}-later-q`];
    later.current_node = `${leaf}-later-a`;
  }
  return Buffer.from(JSON.stringify(convs));
}

test('a later export keeps the thread the owner chose: a chat they went on with, a branch they switched to', async () => {
  const user = await createUser({ prefix: 'impkeep' });
  await setCredits(user.id, 100000);
  // The sample's model renamed to a catalog model, so that the owner can go on with the chat.
  const bytes = Buffer.from(sample('chatgpt-conversations.json').toString('utf8').replaceAll('"gpt-4o"', '"gpt-4o-mini"'));
  const first = await imported(user, bytes, 'conversations.json');
  assert.equal(first.job.status, 'done', JSON.stringify(first.job));
  const sourdough = first.job.conversations.find((c) => c.title === 'Sourdough starter feeding schedule').id;
  const sse = first.job.conversations.find((c) => c.title === 'SSE line endings').id;

  // The owner goes on with one chat, and switches the other to its first answer's branch.
  const sent = await say(user, sourdough, 'My own question');
  const mine = (await thread(user, sourdough)).map((m) => m.id);
  assert.equal(mine.at(-1), sent.answers[0].id);
  const before = await thread(user, sse);
  const other = before.find((m) => m.sibling_ids.length > 1);
  assert.ok(other, 'the chat has a branch');
  const switchTo = other.sibling_ids.find((id) => id !== other.id);
  assert.equal((await api('PUT', `/conversations/${sse}/active`, { ...user, body: { message_id: switchTo } })).status, 200);
  const switched = (await thread(user, sse)).map((m) => m.id);
  assert.ok(switched.includes(switchTo));

  const again = await imported(user, laterExport(bytes), 'conversations.json');
  assert.equal(again.job.status, 'done', JSON.stringify(again.job));
  assert.equal(again.job.messages_added, 4);
  // The new messages are stored, the threads the owner chose stay as they were.
  assert.deepEqual((await thread(user, sourdough)).map((m) => m.id), mine);
  assert.deepEqual((await thread(user, sse)).map((m) => m.id), switched);
  assert.equal(
    await sqlValue(`SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id
                     WHERE c.owner_id = :'p1' AND m.external_id LIKE '%-later-%'`, user.id),
    '4',
  );
});

test('the 2026 split ChatGPT export as a ZIP: five conversations, the project entry skipped, the edited and regenerated branches kept', async () => {
  const user = await createUser({ prefix: 'impzip' });
  const zip = zipOf({
    'conversations-000.json': 'chatgpt-export/conversations-000.json',
    'conversations-001.json': 'chatgpt-export/conversations-001.json',
    'message_feedback.json': 'chatgpt-export/message_feedback.json',
  });
  const { res, job } = await imported(user, zip, 'chatgpt-export.zip');
  assert.equal(res.status, 202, res.text);
  assert.equal(job.status, 'done', JSON.stringify(job));
  assert.equal(job.conversations_created, 5);
  assert.equal(job.skipped.not_a_conversation, 1);
  const got = await trees(user.id, 'chatgpt');
  assert.deepEqual(
    Object.fromEntries(Object.entries(got).map(([k, v]) => [k, [v.stored, v.active, v.bp, v.models.join(', ')]])),
    {
      '67224c01-5d1c-800a-9f6e-2b7c4d1e8a30': [6, 4, 1, 'gpt-4o, gpt-4o'],
      '67d3ff41-0b8e-8003-a41c-6e2f9d7b5c18': [5, 4, 1, 'gpt-4o, gpt-4o'],
      '6851a2c7-3e9f-8001-b7d4-0c5e8a2f6b91': [4, 4, 0, 'gpt-4o, gpt-4o'],
      '68c1b9e5-7a2d-8004-9f3b-1d6e0a8c4b27': [2, 2, 0, 'o3'],
      '697f1a20-4c3b-8002-8e5d-7a9c1e3b5d60': [4, 4, 0, 'gpt-5, gpt-5-t-mini'],
    },
  );
  // The off-path answer without a create_time takes its prompt's time.
  const t = await sqlValue(
    `SELECT extract(epoch FROM m.created_at)::text FROM messages m JOIN conversations c ON c.id = m.conversation_id
      WHERE c.owner_id = :'p1' AND m.external_id LIKE '1e8b5c3f-%'`,
    user.id,
  );
  assert.equal(t, '1730371342.110374');

  // Non-text parts: a visible note where the part has no text of its own,
  // the transcription as the voice turns' text (§8.2), the parts as exported
  // in the metadata.
  const parts = await sqlJson(
    `SELECT m.external_id, m.content, m.metadata->'parts' AS parts FROM messages m
       JOIN conversations c ON c.id = m.conversation_id
      WHERE c.owner_id = :'p1' AND c.external_id = '6851a2c7-3e9f-8001-b7d4-0c5e8a2f6b91'
        AND m.metadata ? 'parts' ORDER BY m.created_at`,
    user.id,
  );
  assert.deepEqual(parts.map((m) => [m.content, m.parts.map((x) => x.content_type)]), [
    ["[image]\nVoici une photo de la mie de mon pain au levain. Est-ce qu'elle est sous-fermentée ?", ['image_asset_pointer']],
    ['Et si je la mets au frigo pour la nuit, ça change quoi ?', ['audio_transcription', 'real_time_user_audio_video_asset_pointer']],
    ['Une fermentation lente au frigo, entre 4 et 6 °C, donne une mie plus aérée et un goût plus acidulé. Sortez la pâte une heure avant de cuire.', ['audio_transcription', 'audio_asset_pointer']],
  ]);
  assert.equal(parts[0].parts[0].asset_pointer, 'sediment://file_00000000a1b2c3d4e5f60718293a4b5c');

  // message_feedback.json: the thumbs-up and its comment on the regenerated answer.
  assert.equal(job.feedback_linked, 1);
  assert.equal(job.skipped.feedback_unlinked, undefined);
  const fb = await sqlJson(
    `SELECT m.metadata->'feedback' AS f FROM messages m JOIN conversations c ON c.id = m.conversation_id
      WHERE c.owner_id = :'p1' AND m.metadata ? 'feedback'`,
    user.id,
  );
  assert.deepEqual(fb.map((r) => [r.f.rating, r.f.comment, new Date(r.f.created_at).toISOString()]), [
    [1, 'Exactly what I needed.', '2025-03-14T09:28:41.226Z'],
  ]);
  const linkedTo = await sqlValue(
    `SELECT m.external_id FROM messages m JOIN conversations c ON c.id = m.conversation_id
      WHERE c.owner_id = :'p1' AND m.metadata ? 'feedback'`,
    user.id,
  );
  assert.equal(linkedTo, '3d5f7b9e-2c4a-4b6d-a8e0-1f3b5d7c9e62');

  // Feedback on a message that was not stored is counted, never an error.
  const other = await createUser({ prefix: 'impfb' });
  const feedback = JSON.parse(sample('chatgpt-export/message_feedback.json').toString('utf8'));
  const lonely = zipOf({
    'conversations.json': 'chatgpt-conversations.json',
    'message_feedback.json': Buffer.from(JSON.stringify([...feedback, { ...feedback[0], message_id: 'nowhere' }])),
  });
  const r2 = await imported(other, lonely, 'x.zip');
  assert.equal(r2.job.status, 'done', JSON.stringify(r2.job));
  assert.equal(r2.job.feedback_linked, 0);
  assert.equal(r2.job.skipped.feedback_unlinked, 2);
});

test('Claude, Gemini (both shapes, bare and in a Takeout ZIP) and Mistral (ZIP of chat files and the combined variant)', async () => {
  const user = await createUser({ prefix: 'impmix' });
  let r = await imported(user, sample('claude-export/conversations.json'), 'conversations.json');
  assert.equal(r.job.status, 'done', JSON.stringify(r.job));
  const claude = await trees(user.id, 'claude');
  assert.deepEqual(
    Object.values(claude).map((v) => [v.title, v.stored, v.active, v.bp]),
    [
      ['Loop over files with spaces in bash', 4, 4, 0],
      ['Kündigungsschreiben fürs Fitnessstudio', 8, 6, 1],
      ["Here's my nginx config. Why does /api return 404?", 4, 4, 0],
    ],
  );

  r = await imported(user, zipOf({ 'Takeout/My Activity/Gemini Apps/MyActivity.json': 'gemini-takeout/MyActivity-a.json' }), 'takeout-20260306T000000Z-001.zip');
  assert.equal(r.job.status, 'done', JSON.stringify(r.job));
  assert.equal(r.job.conversations_created, 5);
  assert.equal(r.job.skipped.not_a_prompt, 3);
  r = await imported(user, sample('gemini-takeout/MyActivity-b.json'), 'MyActivity.json');
  assert.equal(r.job.conversations_created, 2);
  const gemini = await trees(user.id, 'gemini');
  assert.deepEqual([gemini['2026-03-03T21:07:33.950Z'].stored, gemini['2026-03-03T21:07:33.950Z'].bp], [3, 1]);
  assert.deepEqual([gemini['5f2e9a7b31d04c68'].stored, gemini['5f2e9a7b31d04c68'].active], [7, 6]);
  assert.equal(
    gemini['2026-02-11T16:20:00.500Z'].title,
    'I need a polite but firm message to my landlord explaining that the heating in…',
  );
  const html = await sqlValue(
    `SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id
      WHERE c.owner_id = :'p1' AND c.source = 'gemini' AND m.content_type = 'text/html'`,
    user.id,
  );
  assert.ok(Number(html) >= 5);

  r = await imported(user, zipOf({
    'chat-6f0a1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b.json': 'mistral-export/chat-6f0a1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b.json',
    'chat-9c8b7a6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d.json': 'mistral-export/chat-9c8b7a6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d.json',
    'variant-combined.json': 'mistral-export/variant-combined.json',
  }), 'lechat.zip');
  assert.equal(r.job.status, 'done', JSON.stringify(r.job));
  assert.equal(r.job.conversations_created, 4);
  assert.equal(r.job.skipped.not_a_conversation, 3);
  const mistral = await trees(user.id, 'mistral');
  assert.deepEqual(mistral['f5a7c9e1-b3d5-4f7a-9c1e-3b5d7f9a1c3e'].models, ['mistral-small-2503', 'mistral-small-2503']);
  const sources = await sqlValue(
    `SELECT sum(jsonb_array_length(m.metadata->'sources')) FROM messages m JOIN conversations c ON c.id = m.conversation_id
      WHERE c.owner_id = :'p1' AND c.external_id = '9c8b7a6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d'`,
    user.id,
  );
  assert.equal(sources, '3');
});

test('hostile and foreign files are refused with a stable code and nothing is written', async () => {
  const user = await createUser({ prefix: 'impbad' });
  assertError(await upload(user, sample('broken/truncated.json'), 'x.json'), 422, 'invalid_json');
  const utf8 = await upload(user, sample('broken/invalid-utf8.json'), 'x.json');
  assertError(utf8, 422, 'invalid_utf8');
  const unknown = await upload(user, sample('broken/not-a-format.json'), 'x.json');
  assertError(unknown, 422, 'unknown_format');
  assert.match(unknown.json.error.message, /ChatGPT.*Claude.*Gemini.*Mistral/);
  assertError(await upload(user, Buffer.from('PK\x03\x04 not really a zip'), 'x.zip'), 422, 'invalid_zip');
  assertError(await upload(user, Buffer.alloc(0), 'x.json'), 422, 'empty_upload');
  const bomb = bombZip();
  assert.ok(bomb.length < 200 * 1024, `the bomb is ${bomb.length} bytes`);
  assertError(await upload(user, bomb, 'bomb.zip'), 413, 'limit_exceeded');
  assertError(await upload(user, zipOf({ 'a.json': Buffer.from('[' + '['.repeat(100) + ']'.repeat(100) + ']') }), 'deep.zip'), 413, 'limit_exceeded');
  assert.equal(await sqlValue(`SELECT count(*) FROM conversations WHERE owner_id = :'p1'`, user.id), '0');
  assert.equal(await sqlValue(`SELECT count(*) FROM import_jobs WHERE owner_id = :'p1'`, user.id), '0');

  // A cycle rejects its conversation only; a missing parent keeps the orphan at the root.
  let r = await imported(user, sample('broken/chatgpt-cycle.json'), 'c.json');
  assert.equal(r.job.status, 'done');
  assert.equal(r.job.conversations_created, 1);
  assert.deepEqual(r.job.errors.map((e) => [e.conversation, e.code]), [['68e1b2c3-d4e5-8006-af70-8b9c0d1e2f30', 'tree_cycle']]);
  r = await imported(user, sample('broken/chatgpt-missing-parent.json'), 'm.json');
  assert.deepEqual(r.job.warnings, { orphan_node: 1 });
  const t = (await trees(user.id, 'chatgpt'))['68e2c3d4-e5f6-8007-b081-9c0d1e2f3a41'];
  assert.deepEqual([t.stored, t.active, t.bp], [4, 2, 1]);
});

test('multipart/form-data: curl -F file=@export.zip imports like the bare body; bad forms are refused with a stable code', async () => {
  const user = await createUser({ prefix: 'impform' });
  const dir = mkdtempSync(join(tmpdir(), 'aichat-form-'));
  try {
    writeFileSync(join(dir, 'claude export.zip'), zipOf({ 'conversations.json': 'claude-export/conversations.json' }));
    const out = execFileSync('curl', [
      '-sS', '-u', `${user.user}:${user.password}`,
      '-F', 'note=keep me out', '-F', `file=@${join(dir, 'claude export.zip')};type=application/zip`,
      '-w', '\n%{http_code}', `${process.env.AICHAT_URL}/chat/api/v1/imports`,
    ]).toString();
    const [body, status] = [out.slice(0, out.lastIndexOf('\n')), out.slice(out.lastIndexOf('\n') + 1)];
    assert.equal(status, '202', body);
    const job = await finished(user, JSON.parse(body).id);
    assert.equal(job.status, 'done', JSON.stringify(job));
    assert.equal(job.file_name, 'claude export.zip');
    assert.equal(job.format, 'claude');
    assert.equal(job.conversations_created, 3);
    assert.equal(job.file_size, statSync(join(dir, 'claude export.zip')).size);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const form = (boundary, parts, end = `--${boundary}--\r\n`) => Buffer.from(
    parts.map(([head, body]) => `--${boundary}\r\n${head}\r\n\r\n${body}\r\n`).join('') + end,
  );
  const send = (type, bytes) => upload(user, bytes, null, type);
  const file = sample('claude-conversations.json').toString('utf8');
  const disp = 'Content-Disposition: form-data; name="file"; filename="c.json"';
  assertError(await send('multipart/form-data', form('xyz', [[disp, file]])), 400, 'invalid_multipart');
  assertError(await send('multipart/form-data; boundary=xyz', form('xyz', [['Content-Disposition: form-data; name="other"', 'x']])), 422, 'missing_file');
  assertError(await send('multipart/form-data; boundary=xyz', form('xyz', [[disp, file]], '')), 400, 'invalid_multipart');
  assertError(await send('multipart/form-data; boundary=xyz', form('xyz', [[disp, file.slice(0, 100)]], '').subarray(0, 150)), 400, 'invalid_multipart');
  assertError(await send('multipart/form-data; boundary=xyz', form('xyz', [[disp, '']])), 422, 'empty_upload');
  assertError(await send('multipart/mixed; boundary=xyz', form('xyz', [[disp, file]])), 415, 'unsupported_media_type');
  assert.equal(await sqlValue(`SELECT count(*) FROM import_jobs WHERE owner_id = :'p1'`, user.id), '1');

  // A quoted boundary, the file part after another part, no ?name=: the part's file name is kept.
  const ok = await send('multipart/form-data; boundary="a b"', form('a b', [['Content-Disposition: form-data; name="x"', 'y'], [disp, file]]));
  assert.equal(ok.status, 202, ok.text);
  const job = await finished(user, ok.json.id);
  assert.equal(job.status, 'done', JSON.stringify(job));
  assert.equal(job.file_name, 'c.json');
  assert.equal(job.file_size, Buffer.byteLength(file));
});

test('a message over 1 MiB is cut at a character boundary and flagged', async () => {
  const user = await createUser({ prefix: 'imphuge' });
  const dir = mkdtempSync(join(tmpdir(), 'aichat-huge-'));
  try {
    execFileSync('sh', [join(process.env.AICHAT_ROOT, 'tests/unit/samples/imports/broken/make-huge.sh'), join(dir, 'huge-message.json')]);
    const r = await imported(user, readFileSync(join(dir, 'huge-message.json')), 'huge.json');
    assert.equal(r.job.status, 'done', JSON.stringify(r.job));
    assert.deepEqual(r.job.warnings, { message_truncated: 1 });
    const [row] = await sqlJson(
      `SELECT octet_length(m.content) AS bytes, char_length(m.content) AS chars, m.metadata->'truncated' AS truncated
         FROM messages m JOIN conversations c ON c.id = m.conversation_id
        WHERE c.owner_id = :'p1' AND m.sender_type = 'user'`,
      user.id,
    );
    assert.deepEqual(row, { bytes: 1048575, chars: 643863, truncated: true });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("another user's job and imported chats are 404; the import and the export are audited", async () => {
  const { res, job } = await imported(alice, sample('claude-conversations.json'), 'conversations.json');
  assert.equal(job.status, 'done');
  assertError(await api('GET', `/imports/${job.id}`, bob), 404, 'not_found');
  assertError(await api('GET', `/imports/${job.id}/events`, bob), 404, 'not_found');
  assertError(await api('DELETE', `/imports/${job.id}`, bob), 404, 'not_found');
  const conv = job.conversations[0];
  assertError(await api('GET', `/conversations/${conv.id}`, bob), 404, 'not_found');
  assertError(await api('GET', `/conversations/${conv.id}/export?format=markdown`, bob), 404, 'not_found');
  const mine = await api('GET', '/imports', alice);
  assert.ok(mine.json.items.some((j) => j.id === job.id));
  assert.ok(!(await api('GET', '/imports', bob)).json.items.some((j) => j.id === job.id));
  assertError(await api('GET', `/imports/${job.id}/conversations`, bob), 404, 'not_found');

  const row = await auditRow(res);
  assert.equal(row.action, 'import.create');
  assert.equal(row.entity_id, job.id);
  const exp = await api('POST', '/exports', { ...alice, body: {} });
  assert.equal(exp.status, 200);
  assert.equal((await auditRow(exp)).action, 'export.create');

  // The progress stream ends with the finished job.
  const events = await api('GET', `/imports/${job.id}/events`, alice);
  assert.equal(events.status, 200);
  assert.match(events.headers.get('content-type'), /^text\/event-stream/);
  assert.match(events.text, /event: progress\ndata: .*"status": ?"done"/);
  assert.match(events.text, /event: end\n/);
});

test('cancel stops a job after the conversation it is writing; the conversations written stay', async () => {
  const user = await createUser({ prefix: 'impcancel' });
  const big = JSON.parse(sample('chatgpt-conversations.json').toString('utf8'));
  const many = [];
  for (let i = 0; i < 4000; i++) many.push({ ...big[i % 2], conversation_id: `gen-${i}`, id: `gen-${i}` });
  const res = await upload(user, Buffer.from(JSON.stringify(many)), 'many.json');
  assert.equal(res.status, 202, res.text);
  const cancel = await api('DELETE', `/imports/${res.json.id}`, user);
  assert.equal(cancel.status, 200, cancel.text);
  assert.equal(cancel.json.cancel_requested, true);
  const job = await finished(user, res.json.id);
  assert.equal(job.status, 'cancelled');
  assert.ok(job.conversations_done < 4000);
  const n = await sqlValue(`SELECT count(*) FROM conversations WHERE owner_id = :'p1'`, user.id);
  assert.equal(Number(n), job.conversations_created);
  // Every conversation written is whole.
  assert.equal(
    await sqlValue(`SELECT count(*) FROM conversations c WHERE c.owner_id = :'p1' AND c.total_messages <> (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id)`, user.id),
    '0',
  );
});

test('an import past its conversation or time limit ends failed with the reason; what it wrote stays whole', async () => {
  const user = await createUser({ prefix: 'implimit' });
  const small = await imported(user, sample('claude-conversations.json'), 'c.json');
  assert.deepEqual(small.job.limits, { conversations: 1000000, seconds: 1800 }); // the defaults
  const big = JSON.parse(sample('chatgpt-conversations.json').toString('utf8'));
  const many = [];
  for (let i = 0; i < 4000; i++) many.push({ ...big[i % 2], conversation_id: `lim-${i}`, id: `lim-${i}` });
  const bytes = Buffer.from(JSON.stringify(many));
  const whole = `SELECT count(*) FROM conversations c WHERE c.owner_id = :'p1' AND c.source = 'chatgpt'
                   AND c.total_messages = (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id)`;

  // The limits are the job's own (taken from the directives when it was created).
  let res = await upload(user, bytes, 'many.json');
  assert.equal(res.status, 202, res.text);
  await sqlValue(`UPDATE import_jobs SET limit_conversations = 10 WHERE id = :'p1' RETURNING 1`, res.json.id);
  let job = await finished(user, res.json.id);
  assert.equal(job.status, 'failed', JSON.stringify(job));
  assert.match(job.reason, /more conversations than the limit \(10, AIChatImportMaxConversations\)/);
  assert.deepEqual(job.errors.map((e) => e.code), ['limit_exceeded']);
  assert.ok(job.conversations_done >= 10 && job.conversations_done < 4000, String(job.conversations_done));
  assert.equal(Number(await sqlValue(whole, user.id)), job.conversations_created);

  res = await upload(user, bytes, 'many.json');
  assert.equal(res.status, 202, res.text);
  await sqlValue(`UPDATE import_jobs SET limit_seconds = 1, started_at = now() - interval '1 minute' WHERE id = :'p1' RETURNING 1`, res.json.id);
  job = await finished(user, res.json.id);
  assert.equal(job.status, 'failed', JSON.stringify(job));
  assert.match(job.reason, /longer than its time limit \(1 s, AIChatImportTimeLimit\)/);
  assert.ok(job.conversations_done < 4000);
  assert.equal(
    await sqlValue(`SELECT count(*) FROM conversations c WHERE c.owner_id = :'p1' AND c.source = 'chatgpt'`, user.id),
    await sqlValue(whole, user.id),
  );
});

test('the progress stream follows a running job to its end, its bytes read with it', async () => {
  const user = await createUser({ prefix: 'impevents' });
  const big = JSON.parse(sample('chatgpt-conversations.json').toString('utf8'));
  const many = [];
  for (let i = 0; i < 600; i++) many.push({ ...big[i % 2], conversation_id: `events-${i}`, id: `events-${i}` });
  const res = await upload(user, Buffer.from(JSON.stringify(many)), 'events.json');
  assert.equal(res.status, 202, res.text);
  const events = await api('GET', `/imports/${res.json.id}/events`, user);
  assert.equal(events.status, 200);
  const parsed = events.text.trim().split('\n\n').map((block) => {
    const [name, data] = block.split('\n');
    return { name: name.replace(/^event: /, ''), job: JSON.parse(data.replace(/^data: /, '')) };
  });
  assert.equal(parsed.at(-1).name, 'end');
  assert.equal(parsed.at(-1).job.status, 'done');
  assert.equal(parsed.at(-1).job.conversations_done, 600);
  const progress = parsed.filter((e) => e.name === 'progress');
  assert.ok(progress.length >= 2, `${progress.length} progress events`);
  const done = progress.map((e) => e.job.conversations_done);
  assert.deepEqual(done, [...done].sort((a, b) => a - b), 'the counts only grow');
  // The bytes read grow with the conversations, up to the whole file at the end.
  const size = parsed.at(-1).job.file_size;
  assert.equal(parsed.at(-1).job.bytes_read, size);
  const read = parsed.map((e) => e.job.bytes_read);
  assert.deepEqual(read, [...read].sort((a, b) => a - b), 'the bytes read only grow');
  for (const e of progress.filter((x) => x.job.conversations_done > 0)) {
    assert.ok(e.job.bytes_read > 0 && e.job.bytes_read <= size, `after ${e.job.conversations_done} conversations: ${e.job.bytes_read} of ${size} bytes read`);
  }
});

test('a split ChatGPT export zipped out of order is read in name order: conversations-000.json, then -001.json', async () => {
  const user = await createUser({ prefix: 'impord' });
  const zip = zipOf({
    'conversations-001.json': 'chatgpt-export/conversations-001.json',
    'conversations-000.json': 'chatgpt-export/conversations-000.json',
  }, { ordered: true });
  const dir = mkdtempSync(join(tmpdir(), 'aichat-ord-'));
  try {
    writeFileSync(join(dir, 'x.zip'), zip);
    assert.deepEqual(execFileSync('unzip', ['-Z1', join(dir, 'x.zip')]).toString().trim().split('\n'),
      ['conversations-001.json', 'conversations-000.json'], 'the archive lists -001 first');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const { job } = await imported(user, zip, 'split.zip');
  assert.equal(job.status, 'done', JSON.stringify(job));
  assert.deepEqual(job.conversations.map((c) => c.title), [
    'Kyoto in 3 days: itinerary', 'Regex for ISO-8601 dates',
    'Est-ce que ma mie est sous-fermentée ?', 'Monthly average from a CSV', '取引先へのお礼メール',
  ]);
});

test('a graceful restart in the middle of a job: the job is taken up again and completes, nothing written twice, counted once', async () => {
  const user = await createUser({ prefix: 'imprestart' });
  // What the two conversations the upload repeats count, imported once without a restart.
  const pair = (await imported(await createUser({ prefix: 'imppair' }), sample('chatgpt-conversations.json'), 'pair.json')).job;
  const times = (counts, n) => Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, v * n]));
  const big = JSON.parse(sample('chatgpt-conversations.json').toString('utf8'));
  const many = [];
  for (let i = 0; i < 3000; i++) many.push({ ...big[i % 2], conversation_id: `restart-${i}`, id: `restart-${i}` });
  const res = await upload(user, Buffer.from(JSON.stringify(many)), 'many.json');
  assert.equal(res.status, 202, res.text);
  const running = await poll(
    () => api('GET', `/imports/${res.json.id}`, user),
    (r) => r.json.conversations_done >= 20 || r.json.status !== 'queued' && r.json.status !== 'running',
    { tries: 600, intervalMs: 50 },
  );
  assert.equal(running.json.status, 'running', 'the job was still running when httpd restarted');
  await restartGracefully();
  const job = await finished(user, res.json.id);
  assert.equal(job.status, 'done', JSON.stringify({ ...job, conversations: undefined }));
  assert.equal(job.conversations_created, 3000);
  assert.equal(job.conversations_done, 3000);
  assert.equal(job.messages_added, 1500 * 4 + 1500 * 5);
  // The counts of an uninterrupted run: what the first take had read is not counted again.
  assert.ok(Object.keys(pair.skipped).length > 0, JSON.stringify(pair.skipped));
  assert.deepEqual(job.skipped, times(pair.skipped, 1500));
  assert.deepEqual(job.warnings, times(pair.warnings, 1500));
  assert.deepEqual(job.errors, []);
  assert.equal(await sqlValue(`SELECT count(*) FROM conversations WHERE owner_id = :'p1'`, user.id), '3000');
  assert.equal(
    await sqlValue(`SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE c.owner_id = :'p1'`, user.id),
    String(1500 * 4 + 1500 * 5),
  );
});

test('exports: Markdown and JSON of one chat; the library as a ZIP whose conversations.json imports into another account as the same trees', async () => {
  const from = await createUser({ prefix: 'impexp' });
  const to = await createUser({ prefix: 'impimp' });
  const { job } = await imported(from, sample('chatgpt-export/conversations-000.json'), 'c.json');
  assert.equal(job.status, 'done');
  const kyoto = job.conversations.find((c) => c.title === 'Kyoto in 3 days: itinerary');

  const md = await api('GET', `/conversations/${kyoto.id}/export?format=markdown`, from);
  assert.equal(md.status, 200);
  assert.match(md.headers.get('content-type'), /^text\/markdown/);
  assert.match(md.headers.get('content-disposition'), /^attachment; filename="Kyoto-in-3-days-itinerary-[0-9a-f]{8}\.md"$/);
  assert.match(md.text, /^# Kyoto in 3 days: itinerary\n/);
  assert.match(md.text, /### gpt-4o · 2024-10-31 \d\d:\d\d:\d\d UTC/);
  const js = await api('GET', `/conversations/${kyoto.id}/export?format=json`, from);
  assert.equal(js.json.messages.length, 6);
  assertError(await api('GET', `/conversations/${kyoto.id}/export?format=pdf`, from), 422, 'invalid_field');
  // Each export leaves an audit row naming the chat and the format.
  for (const [res, format] of [[md, 'markdown'], [js, 'json']]) {
    const row = await auditRow(res);
    assert.equal(row.action, 'export.create');
    assert.equal(row.entity_id, kyoto.id);
    assert.deepEqual(row.new_values, { format });
  }

  // A selection: only the chats named, one audit row counting them.
  const picked = await request('POST', '/chat/api/v1/exports', { user: from.user, password: from.password, body: { conversation_ids: [kyoto.id] } });
  assert.equal(picked.status, 200);
  assert.deepEqual((await auditRow(picked)).new_values, { conversations: 1 });
  const pickedDir = mkdtempSync(join(tmpdir(), 'aichat-pick-'));
  try {
    const bytes = Buffer.from(await (await fetch(process.env.AICHAT_URL + '/chat/api/v1/exports', {
      method: 'POST',
      headers: { Authorization: 'Basic ' + Buffer.from(`${from.user}:${from.password}`).toString('base64'), 'Content-Type': 'application/json' },
      body: JSON.stringify({ conversation_ids: [kyoto.id] }),
    })).arrayBuffer());
    writeFileSync(join(pickedDir, 'x.zip'), bytes);
    const members = execFileSync('unzip', ['-Z1', join(pickedDir, 'x.zip')]).toString().trim().split('\n');
    assert.equal(members.length, 3, `one chat's JSON and Markdown, and conversations.json: ${members}`);
    const chats = JSON.parse(execFileSync('unzip', ['-p', join(pickedDir, 'x.zip'), 'conversations.json']));
    assert.deepEqual(chats.map((c) => c.title), ['Kyoto in 3 days: itinerary']);
  } finally {
    rmSync(pickedDir, { recursive: true, force: true });
  }

  const zip = await request('POST', '/chat/api/v1/exports', { user: from.user, password: from.password, body: {} });
  assert.equal(zip.status, 200);
  assert.equal(zip.headers.get('content-disposition'), 'attachment; filename="aichat-export.zip"');
  const dir = mkdtempSync(join(tmpdir(), 'aichat-exp-'));
  let conversations;
  try {
    const bytes = Buffer.from(await (await fetch(process.env.AICHAT_URL + '/chat/api/v1/exports', {
      method: 'POST',
      headers: { Authorization: 'Basic ' + Buffer.from(`${from.user}:${from.password}`).toString('base64'), 'Content-Type': 'application/json' },
      body: '{}',
    })).arrayBuffer());
    writeFileSync(join(dir, 'x.zip'), bytes);
    const list = execFileSync('unzip', ['-Z1', join(dir, 'x.zip')]).toString().trim().split('\n').sort();
    assert.equal(list.length, 2 * 2 + 1);
    assert.ok(list.includes('conversations.json'));
    conversations = execFileSync('unzip', ['-p', join(dir, 'x.zip'), 'conversations.json']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const again = await imported(to, conversations, 'conversations.json');
  assert.equal(again.job.status, 'done', JSON.stringify(again.job));
  assert.equal(again.job.conversations_created, 2);
  const shape = async (owner) =>
    sqlJson(
      `SELECT c.title, m.content, m.sender_type, m.created_at, (m.id = c.active_leaf_id) AS leaf,
              (SELECT p.content FROM messages p WHERE p.id = m.parent_message_id) AS parent
         FROM conversations c JOIN messages m ON m.conversation_id = c.id
        WHERE c.owner_id = :'p1' ORDER BY c.title, m.created_at, m.content`,
      owner.id,
    );
  assert.deepEqual(await shape(to), await shape(from));
});

/** GET /imports and GET /imports/{id}/conversations: every page's items, following `next`. */
async function allPages(path, auth, limit) {
  const items = [];
  const pages = [];
  let after = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const res = await api('GET', `${path}${sep}limit=${limit}${after ? `&after=${encodeURIComponent(after)}` : ''}`, auth);
    assert.equal(res.status, 200, res.text);
    assert.ok(Array.isArray(res.json.items), res.text);
    assert.ok(res.json.items.length <= limit);
    items.push(...res.json.items);
    pages.push(res.json.items.length);
    after = res.json.next;
    assert.ok(after === null || typeof after === 'string', res.text);
  } while (after && pages.length < 100);
  return { items, pages };
}

test('GET /imports is a page at a time, newest first; bad limits and cursors are 422', async () => {
  const user = await createUser({ prefix: 'imppage' });
  const ids = [];
  for (let i = 0; i < 5; i++) {
    const { res, job } = await imported(user, sample('claude-conversations.json'), `c${i}.json`);
    assert.equal(job?.status, 'done', res.text);
    ids.unshift(job.id); // newest first
  }
  const first = await api('GET', '/imports?limit=2', user);
  assert.equal(first.status, 200, first.text);
  assert.deepEqual(first.json.items.map((j) => j.id), ids.slice(0, 2));
  assert.equal(typeof first.json.next, 'string');
  const { items, pages } = await allPages('/imports', user, 2);
  assert.deepEqual(items.map((j) => j.id), ids);
  assert.deepEqual(pages, [2, 2, 1]);
  assert.equal(items[4].file_name, 'c0.json');
  // The default page holds them all here, and says there is nothing after.
  const all = await api('GET', '/imports', user);
  assert.deepEqual(all.json.items.map((j) => j.id), ids);
  assert.equal(all.json.next, null);

  assertError(await api('GET', '/imports?limit=0', user), 422, 'invalid_field', 'limit');
  assertError(await api('GET', '/imports?limit=101', user), 422, 'invalid_field', 'limit');
  assertError(await api('GET', '/imports?after=zz', user), 422, 'invalid_field', 'after');
  // A cursor of another list is not one of this list.
  const jobCursor = Buffer.from(`j|${ids[0]}|1700000000000000`).toString('hex');
  assertError(await api('GET', `/imports?after=${jobCursor}`, user), 422, 'invalid_field', 'after');
  // Another user's cursor pages through their own jobs only.
  const other = await api('GET', `/imports?after=${first.json.next}`, bob);
  assert.equal(other.status, 200, other.text);
  assert.ok(!other.json.items.some((j) => ids.includes(j.id)));
});

test('an import of more than 200 chats: the job lists the first 200, GET /imports/{id}/conversations pages through all of them', async () => {
  const user = await createUser({ prefix: 'impmany' });
  const big = JSON.parse(sample('chatgpt-conversations.json').toString('utf8'));
  const many = [];
  for (let i = 0; i < 230; i++) many.push({ ...big[i % 2], title: `Chat ${i}`, conversation_id: `many-${i}`, id: `many-${i}` });
  const { job } = await imported(user, Buffer.from(JSON.stringify(many)), 'many.json');
  assert.equal(job.status, 'done', JSON.stringify({ ...job, conversations: undefined }));
  assert.equal(job.conversations_created, 230);
  assert.equal(job.conversations.length, 200);
  assert.deepEqual(job.conversations.slice(0, 3).map((c) => c.title), ['Chat 0', 'Chat 1', 'Chat 2']);
  assert.equal(typeof job.conversations_next, 'string');

  // From the job's cursor: the 30 it did not list, in the order of the file.
  const rest = await api('GET', `/imports/${job.id}/conversations?after=${job.conversations_next}`, user);
  assert.equal(rest.status, 200, rest.text);
  assert.deepEqual(rest.json.items.map((c) => c.title), Array.from({ length: 30 }, (_, i) => `Chat ${200 + i}`));
  assert.equal(rest.json.next, null);

  // Every chat the import made, a page at a time, each once.
  const { items, pages } = await allPages(`/imports/${job.id}/conversations`, user, 100);
  assert.deepEqual(pages, [100, 100, 30]);
  assert.deepEqual(items.map((c) => c.title), Array.from({ length: 230 }, (_, i) => `Chat ${i}`));
  assert.equal(new Set(items.map((c) => c.id)).size, 230);
  assert.ok(items.every((c) => c.source === 'chatgpt' && c.created === true));
  const owned = await sqlValue(`SELECT count(*) FROM conversations WHERE owner_id = :'p1' AND id = ANY (:'p2'::uuid[])`,
    user.id, `{${items.map((c) => c.id).join(',')}}`);
  assert.equal(owned, '230');
  // A chat deleted since is left out.
  assert.equal((await api('DELETE', `/conversations/${items[0].id}`, user)).status < 300, true);
  const after = await api('GET', `/imports/${job.id}/conversations?limit=1`, user);
  assert.equal(after.json.items[0].title, 'Chat 1');

  assertError(await api('GET', `/imports/${job.id}/conversations?limit=501`, user), 422, 'invalid_field', 'limit');
  assertError(await api('GET', `/imports/${job.id}/conversations?after=${Buffer.from('ic|x|y').toString('hex')}`, user), 422, 'invalid_field', 'after');
  assertError(await api('GET', `/imports/${job.id}/conversations?after=${Buffer.from(`ic|99999999999|${job.id}`).toString('hex')}`, user), 422, 'invalid_field', 'after');
  assertError(await api('GET', `/imports/${job.id}/conversations`, bob), 404, 'not_found');
  assertError(await api('GET', '/imports/not-a-uuid/conversations', user), 404, 'not_found');
});

/**
 * Send the head of a request (no body) straight to the first httpd node, and
 * read its answer: an interim 100 Continue, or a final answer with its body.
 * Returns { status, headers (lower-case names), body }.
 */
function rawHead(head) {
  const url = new URL(NODES[0].url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: url.hostname, port: Number(url.port) });
    let data = Buffer.alloc(0);
    const done = () => {
      socket.destroy();
      const text = data.toString('utf8');
      const end = text.indexOf('\r\n\r\n');
      const lines = text.slice(0, end < 0 ? text.length : end).split('\r\n');
      const headers = Object.fromEntries(lines.slice(1).map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      resolve({ status: Number(lines[0].split(' ')[1]), headers, body: end < 0 ? '' : text.slice(end + 4) });
    };
    socket.on('data', (chunk) => {
      data = Buffer.concat([data, chunk]);
      const text = data.toString('utf8');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      if (/^HTTP\/1\.1 100 /.test(text)) return done();
      const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end));
      if (length && data.length >= Buffer.byteLength(text.slice(0, end + 4)) + Number(length[1])) done();
    });
    socket.on('end', done);
    socket.on('error', reject);
    socket.setTimeout(60000, done);
    socket.write(head);
  });
}

test('an upload over the import limit is a JSON 413 limit_exceeded; one over httpd\'s default LimitRequestBody but within the limit is taken', async () => {
  const user = await createUser({ prefix: 'impbig' });
  const auth = `Authorization: Basic ${Buffer.from(`${user.user}:${user.password}`).toString('base64')}\r\n`;
  const head = (length, extra = '') => `POST /chat/api/v1/imports?name=big.zip HTTP/1.1\r\nHost: 127.0.0.1\r\n${auth}`
    + `Content-Type: application/zip\r\nContent-Length: ${length}\r\n${extra}\r\n`;

  // Over AIChatImportMaxSize (2 GiB here, the default): refused from its length, before any byte is read.
  const over = await rawHead(head(2 ** 31 + 1));
  assert.equal(over.status, 413, over.body);
  assert.match(over.headers['content-type'], /^application\/json/);
  const body = JSON.parse(over.body);
  assert.equal(body.error.code, 'limit_exceeded');
  assert.match(body.error.message, /2147483648 bytes/);

  // 1.5 GiB is over httpd's own default (1 GiB) but within the import limit: httpd
  // asks for the body (100 Continue) instead of refusing it.
  const within = await rawHead(head(1.5 * 2 ** 30, 'Expect: 100-continue\r\n'));
  assert.equal(within.status, 100, JSON.stringify(within));
  assert.equal(await sqlValue(`SELECT count(*) FROM import_jobs WHERE owner_id = :'p1'`, user.id), '0');
});

test('a Gemini answer (HTML) exported in ChatGPT\'s format comes back as HTML; other importers see its text as it is', async () => {
  const from = await createUser({ prefix: 'imphtml' });
  const to = await createUser({ prefix: 'imphtmlto' });
  const { job } = await imported(from, sample('gemini-takeout/MyActivity-a.json'), 'MyActivity.json');
  assert.equal(job.status, 'done', JSON.stringify(job));
  const dir = mkdtempSync(join(tmpdir(), 'aichat-html-'));
  let conversations;
  try {
    const bytes = Buffer.from(await (await fetch(process.env.AICHAT_URL + '/chat/api/v1/exports', {
      method: 'POST',
      headers: { Authorization: 'Basic ' + Buffer.from(`${from.user}:${from.password}`).toString('base64'), 'Content-Type': 'application/json' },
      body: '{}',
    })).arrayBuffer());
    writeFileSync(join(dir, 'x.zip'), bytes);
    conversations = execFileSync('unzip', ['-p', join(dir, 'x.zip'), 'conversations.json']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // ChatGPT's format has text parts only: the HTML goes as text, marked in the message's metadata.
  const nodes = JSON.parse(conversations).flatMap((c) => Object.values(c.mapping)).filter((n) => n.message);
  const marked = nodes.filter((n) => n.message.metadata.aichat_content_type === 'text/html');
  assert.ok(marked.length >= 5, `${marked.length} marked`);
  assert.ok(nodes.every((n) => n.message.content.content_type === 'text'));
  assert.ok(marked.every((n) => n.message.author.role === 'assistant' && /</.test(n.message.content.parts[0])));

  const again = await imported(to, conversations, 'conversations.json');
  assert.equal(again.job.status, 'done', JSON.stringify(again.job));
  const types = (owner) => sqlJson(
    `SELECT m.content, m.content_type FROM messages m JOIN conversations c ON c.id = m.conversation_id
      WHERE c.owner_id = :'p1' ORDER BY m.content, m.content_type`,
    owner.id,
  );
  assert.deepEqual(await types(to), await types(from));
});
